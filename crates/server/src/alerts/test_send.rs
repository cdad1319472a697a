//! "Send a test" (`POST /api/v1/tenant/alerts/test`, admins): one test message over each of
//! the tenant's alert channels as they are saved, at once and not through the outbox, so an
//! admin sees whether the relay and each webhook take it. The mail goes to the admin who
//! asked; each webhook gets `X-Leakwatch-Event: test`, signed like an alert. Each attempt is
//! bounded by the channel's own timeout (mail.timeout_seconds, alerts.webhook_timeout_seconds).

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::outbox::{post_signed, tenant_mailer};
use super::settings::WebhookFormat;
use super::AlertEngine;
use crate::auth::AuthUser;
use crate::kit::error::ApiResult;
use crate::kit::ids::random_id;
use crate::kit::mail::{MailError, OutgoingMail};
use crate::kit::time::now_ms;

/// Why a test did not arrive, as the dashboard words it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// The server's outbound rule refuses the target (a private or local address).
    RefusedTarget,
    /// No relay is configured, or its settings are not usable.
    NotConfigured,
    /// The target could not be reached, or did not answer in time.
    Unreachable,
    /// The receiver answered with an error status (in `status`).
    Answered,
    /// The relay refused the message (an address, say).
    Rejected,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TestResult {
    /// `mail` or `webhook`.
    pub channel: String,
    /// The mail's recipient or the webhook's URL.
    pub target: String,
    pub delivered: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<Problem>,
    /// The webhook's HTTP status when it answered with an error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// The technical detail, for the admin who looks further (English, as the log).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TestResults {
    /// One per channel; empty when no channel is switched on.
    pub results: Vec<TestResult>,
}

const TEXT: &str =
    "Dit is een testmelding van leakwatch: meldingen over incidenten komen via dit kanaal aan.\n\n\
This is a test alert from leakwatch: alerts about incidents arrive through this channel.\n";

fn mail_problem(error: &MailError) -> Problem {
    match error {
        MailError::Outbound(e) if e.is_refused() => Problem::RefusedTarget,
        MailError::Outbound(_) => Problem::Unreachable,
        MailError::NotConfigured | MailError::BadSmarthost(_) => Problem::NotConfigured,
        MailError::Smtp { message, .. }
            if message.contains("connect") || message.contains("timed out") =>
        {
            Problem::Unreachable
        }
        MailError::Smtp { .. } | MailError::BadAddress(..) | MailError::Build(_) => {
            Problem::Rejected
        }
    }
}

/// Sends a test over each of the tenant's alert channels and says how each went.
#[utoipa::path(post, path = "/api/v1/tenant/alerts/test", tag = "tenant", security(("bearer" = [])),
    responses((status = 200, body = TestResults), (status = 403, description = "Not an admin")))]
pub async fn send_test(
    State(state): State<AlertEngine>,
    user: AuthUser,
) -> ApiResult<Json<TestResults>> {
    user.require_admin()?;
    let settings = super::settings::load(state.db(), &user.tenant_id).await?;
    let mut results = Vec::new();
    if settings.mail {
        let sent = match tenant_mailer(&state, &settings) {
            Ok(mailer) => {
                mailer
                    .get()
                    .send(&OutgoingMail {
                        to: user.email.clone(),
                        subject: "[leakwatch] Testmelding / Test alert".into(),
                        text: TEXT.into(),
                        html: None,
                    })
                    .await
            }
            Err(e) => Err(e),
        };
        results.push(TestResult {
            channel: "mail".into(),
            target: user.email.clone(),
            delivered: sent.is_ok(),
            problem: sent.as_ref().err().map(mail_problem),
            status: None,
            detail: sent.err().map(|e| e.to_string()),
        });
    }
    let sent_at = now_ms();
    for hook in &settings.webhooks {
        let body = match hook.format {
            WebhookFormat::Json => json!({"event": "test", "sent_at": sent_at}),
            WebhookFormat::Chat => json!({"text": TEXT.replace("\n\n", " ").trim_end()}),
        };
        let delivery = format!("test-{}", random_id());
        let outcome = post_signed(
            &state,
            hook,
            "test",
            &delivery,
            &delivery,
            serde_json::to_vec(&body).expect("a test body serialises"),
        )
        .await;
        results.push(match outcome {
            Ok(()) => TestResult {
                channel: "webhook".into(),
                target: hook.url.clone(),
                delivered: true,
                problem: None,
                status: None,
                detail: None,
            },
            Err(failed) => TestResult {
                channel: "webhook".into(),
                target: hook.url.clone(),
                delivered: false,
                problem: Some(if failed.refused {
                    Problem::RefusedTarget
                } else if failed.status.is_some() {
                    Problem::Answered
                } else {
                    Problem::Unreachable
                }),
                status: failed.status,
                detail: Some(failed.failure.message),
            },
        });
    }
    Ok(Json(TestResults { results }))
}
