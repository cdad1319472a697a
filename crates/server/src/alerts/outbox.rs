//! Delivering alerts by mail and webhook from the persisted outbox, at least once.
//!
//! A server claims due rows by setting a lease (`lease_until`) in one `UPDATE ... RETURNING`
//! whose conditions are checked again on the row itself, so two servers never deliver the
//! same row at once; a server that dies mid-delivery leaves the lease to run out, and the
//! row is delivered again (receivers dedupe on `X-Leakwatch-Dedupe-Key`). A failed delivery
//! is retried after `retry_base_seconds`, doubling up to `retry_max_seconds`, until
//! `max_attempts`; then it is marked failed and logged. Outbox times are the system clock's.

use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use leakwatch_core::Lang;
use serde_json::json;
use sha2::Sha256;
use sqlx::Row;
use tokio::sync::{watch, Notify};

use super::settings::{self, AlertSettings, WebhookFormat};
use super::AlertEngine;
use super::{Alert, Published};
use crate::kit::ids::TenantId;
use crate::kit::mail::{MailError, Mailer, OutgoingMail};
use crate::kit::outbound::{self, OutboundError};
use crate::kit::time::{now_ms, Zone};

/// How long a claimed row is left to its server before another may take it: well beyond
/// the longest a delivery can take (an SMTP session is several timed operations), so a
/// slow but live delivery is not claimed again.
fn lease_ms(state: &AlertEngine) -> i64 {
    let longest = state
        .mail_settings()
        .timeout_seconds
        .max(state.settings().webhook_timeout_seconds);
    (longest as i64).saturating_mul(10_000).max(120_000)
}
/// Rows claimed at once.
const CLAIM_MAX: i64 = 16;

pub(super) async fn worker(state: AlertEngine, wake: Arc<Notify>, mut stop: watch::Receiver<bool>) {
    let poll = Duration::from_millis(state.settings().outbox_poll_ms.max(10));
    loop {
        match deliver_due(&state).await {
            // A full claim: there may be more due right away.
            Ok(n) if n as i64 == CLAIM_MAX && !*stop.borrow() => continue,
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "reading the alert outbox failed"),
        }
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(poll) => {}
            _ = stop.changed() => break,
        }
    }
}

struct Claimed {
    id: i64,
    alert_seq: i64,
    channel: String,
    target: String,
    attempts: i64,
}

/// Claims and delivers what is due; returns how many rows were claimed.
pub async fn deliver_due(state: &AlertEngine) -> Result<usize, sqlx::Error> {
    let now = now_ms();
    let rows = sqlx::query(
        "UPDATE outbox SET lease_until = $1, attempts = attempts + 1 \
         WHERE id IN (SELECT id FROM outbox WHERE delivered_at IS NULL AND failed_at IS NULL \
                      AND next_attempt_at <= $2 AND lease_until <= $2 ORDER BY id LIMIT $3) \
           AND delivered_at IS NULL AND failed_at IS NULL AND lease_until <= $2 \
         RETURNING id, alert_seq, channel, target, attempts",
    )
    .bind(now + lease_ms(state))
    .bind(now)
    .bind(CLAIM_MAX)
    .fetch_all(&state.db().pool)
    .await?;
    let claimed = rows
        .iter()
        .map(|r| {
            Ok(Claimed {
                id: r.try_get("id")?,
                alert_seq: r.try_get("alert_seq")?,
                channel: r.try_get("channel")?,
                target: r.try_get("target")?,
                attempts: r.try_get("attempts")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let count = claimed.len();
    let mut deliveries = tokio::task::JoinSet::new();
    for row in claimed {
        let state = state.clone();
        deliveries.spawn(async move {
            let result = deliver(&state, &row).await;
            settle(&state, &row, result).await
        });
    }
    while let Some(done) = deliveries.join_next().await {
        match done {
            Ok(Err(e)) => tracing::warn!(error = %e, "recording an alert delivery failed"),
            Err(e) => tracing::error!(error = %e, "an alert delivery task failed"),
            Ok(Ok(())) => {}
        }
    }
    Ok(count)
}

/// Why a delivery failed, and whether trying again can help.
#[derive(Debug)]
pub struct Failure {
    pub message: String,
    pub permanent: bool,
}

impl Failure {
    fn transient(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            permanent: false,
        }
    }

    fn permanent(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            permanent: true,
        }
    }
}

async fn deliver(state: &AlertEngine, row: &Claimed) -> Result<(), Failure> {
    let published = super::load(state.db(), row.alert_seq)
        .await
        .map_err(|e| Failure::transient(e.to_string()))?
        .ok_or_else(|| Failure::permanent("the alert no longer exists"))?;
    let tenant = settings::load(state.db(), &TenantId::from(published.tenant_id.as_str()))
        .await
        .map_err(|e| Failure::transient(e.to_string()))?;
    let reader = Reader::of(state, &published.alert).await?;
    match row.channel.as_str() {
        "mail" => send_mail(state, &tenant, &published, &row.target, &reader).await,
        "webhook" => {
            let hook = tenant
                .webhook(&row.target)
                .ok_or_else(|| Failure::permanent("the webhook is no longer configured"))?;
            send_webhook(state, hook, row, &published.alert, &reader.zone).await
        }
        other => Err(Failure::permanent(format!("unknown channel '{other}'"))),
    }
}

/// Who reads a delivery: the sender's language (the message's) and the tenant's time zone,
/// as they are when it goes out.
pub struct Reader {
    pub lang: Lang,
    pub zone: Zone,
}

impl Reader {
    async fn of(state: &AlertEngine, alert: &Alert) -> Result<Reader, Failure> {
        let ctx = super::rules::context(state, &alert.incident_id)
            .await
            .map_err(|e| Failure::transient(e.to_string()))?;
        Ok(match ctx {
            Some(ctx) => Reader {
                lang: ctx.lang,
                zone: ctx.zone,
            },
            // The incident was removed since (the register's retention): the alert's own
            // texts are still in the sender's language.
            None => Reader {
                lang: Lang::En,
                zone: Zone::default(),
            },
        })
    }
}

async fn settle(
    state: &AlertEngine,
    row: &Claimed,
    result: Result<(), Failure>,
) -> Result<(), sqlx::Error> {
    let now = now_ms();
    let config = state.settings();
    let outcome = match &result {
        Ok(()) => {
            sqlx::query("UPDATE outbox SET delivered_at = $1, lease_until = 0, last_error = NULL WHERE id = $2")
                .bind(now)
                .bind(row.id)
                .execute(&state.db().pool)
                .await?;
            "delivered"
        }
        Err(failure) if failure.permanent || row.attempts >= config.max_attempts => {
            tracing::error!(
                outbox = row.id, channel = %row.channel, attempts = row.attempts, error = %failure.message,
                "giving up an alert delivery"
            );
            sqlx::query(
                "UPDATE outbox SET failed_at = $1, lease_until = 0, last_error = $2 WHERE id = $3",
            )
            .bind(now)
            .bind(&failure.message)
            .bind(row.id)
            .execute(&state.db().pool)
            .await?;
            "failed"
        }
        Err(failure) => {
            let wait = retry_delay_ms(
                row.attempts,
                config.retry_base_seconds,
                config.retry_max_seconds,
            );
            tracing::info!(
                outbox = row.id, channel = %row.channel, attempts = row.attempts, retry_in_ms = wait, error = %failure.message,
                "an alert delivery failed; retrying"
            );
            sqlx::query("UPDATE outbox SET next_attempt_at = $1, lease_until = 0, last_error = $2 WHERE id = $3")
                .bind(now + wait)
                .bind(&failure.message)
                .bind(row.id)
                .execute(&state.db().pool)
                .await?;
            "retry"
        }
    };
    metrics::counter!("leakwatch_alert_deliveries_total", "channel" => row.channel.clone(), "result" => outcome)
        .increment(1);
    Ok(())
}

/// The wait after the `attempts`-th failed attempt: base, 2 base, 4 base, ... up to max.
pub fn retry_delay_ms(attempts: i64, base_seconds: i64, max_seconds: i64) -> i64 {
    let exponent = (attempts - 1).clamp(0, 30) as u32;
    base_seconds
        .max(0)
        .saturating_mul(1_i64 << exponent)
        .min(max_seconds.max(0))
        .saturating_mul(1000)
}

/// The relay and sender address a tenant's alert mail goes out with: the server's, or the
/// tenant's own (under the outbound rule; the operator's relay is not).
pub enum TenantMailer<'a> {
    Server(&'a Mailer),
    Own(Box<Mailer>),
}

impl TenantMailer<'_> {
    pub fn get(&self) -> &Mailer {
        match self {
            TenantMailer::Server(mailer) => mailer,
            TenantMailer::Own(mailer) => mailer,
        }
    }
}

pub fn tenant_mailer<'a>(
    state: &'a AlertEngine,
    tenant: &AlertSettings,
) -> Result<TenantMailer<'a>, MailError> {
    if tenant.smarthost.is_empty() && tenant.mail_from.is_empty() {
        return Ok(TenantMailer::Server(state.mailer()));
    }
    let config = state.mail_settings();
    let from = if tenant.mail_from.is_empty() {
        &config.from
    } else {
        &tenant.mail_from
    };
    if tenant.smarthost.is_empty() {
        Mailer::new(&config.smarthost, from, config.timeout_seconds)
    } else {
        Mailer::guarded(
            &tenant.smarthost,
            from,
            config.timeout_seconds,
            state.outbound(),
        )
    }
    .map(|mailer| TenantMailer::Own(Box::new(mailer)))
}

fn mail_failure(e: MailError) -> Failure {
    match e {
        MailError::Smtp { message, permanent } => Failure { message, permanent },
        other => Failure {
            permanent: !other.is_transient(),
            message: other.to_string(),
        },
    }
}

async fn send_mail(
    state: &AlertEngine,
    tenant: &AlertSettings,
    published: &Published,
    to: &str,
    reader: &Reader,
) -> Result<(), Failure> {
    let mailer = tenant_mailer(state, tenant).map_err(|e| Failure::permanent(e.to_string()))?;
    let alert = &published.alert;
    mailer
        .get()
        .send(&OutgoingMail {
            to: to.to_string(),
            subject: format!("[leakwatch] {}", alert.title),
            text: mail_text(alert, reader),
            html: None,
        })
        .await
        .map_err(mail_failure)
}

/// The alert mail's text, all in the sender's language, its times in the tenant's zone.
pub fn mail_text(alert: &Alert, reader: &Reader) -> String {
    let (deadline, footer) = match reader.lang {
        Lang::Nl => (
            "Uiterste meldtermijn (AVG art. 33)",
            "leakwatch signaleert e-mail die bij de verkeerde ontvanger is beland. Open de leakwatch-invoegtoepassing om het incident te bekijken en uw besluit vast te leggen.",
        ),
        Lang::En => (
            "Notification deadline (GDPR Art. 33)",
            "leakwatch detects e-mail that reached the wrong recipient. Open the leakwatch add-in to see the incident and record your decision.",
        ),
    };
    format!(
        "{}\n\n{}\n\nIncident: {}\n{deadline}: {}\n\n-- \n{footer}\n",
        alert.title,
        alert.body,
        alert.incident_id,
        reader.zone.minute(alert.deadline_at, reader.lang)
    )
}

/// The webhook body. Minimal: ids, kind, status and deadline, never the subject or any
/// address (a chat channel is read by more people than the sender). Machines get Unix
/// milliseconds; the chat text, read by people, the tenant's local time.
pub fn webhook_body(
    format: WebhookFormat,
    alert: &Alert,
    dedupe_key: &str,
    zone: &Zone,
) -> serde_json::Value {
    match format {
        WebhookFormat::Json => json!({
            "event": "alert",
            "dedupe_key": dedupe_key,
            "alert": {
                "seq": alert.seq,
                "id": alert.id,
                "kind": alert.kind,
                "severity": alert.severity,
                "incident_id": alert.incident_id,
                "message_id": alert.message_id,
                "evidence_status": alert.evidence_status,
                "deadline_at": alert.deadline_at,
                "created_at": alert.created_at,
            }
        }),
        WebhookFormat::Chat => json!({
            "text": format!(
                "leakwatch {} alert: {} (incident {}; evidence: {}; notification deadline {})",
                alert.severity.as_str(),
                alert.kind.as_str().replace('_', " "),
                alert.incident_id,
                alert.evidence_status.as_str().replace('_', " "),
                zone.minute(alert.deadline_at, Lang::En)
            )
        }),
    }
}

/// `sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}` under the webhook's secret.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

async fn send_webhook(
    state: &AlertEngine,
    hook: &settings::Webhook,
    row: &Claimed,
    alert: &Alert,
    zone: &Zone,
) -> Result<(), Failure> {
    let dedupe_key = format!("{}:{}", alert.kind.as_str(), alert.incident_id);
    let body = serde_json::to_vec(&webhook_body(hook.format, alert, &dedupe_key, zone))
        .expect("a webhook body serialises");
    post_signed(state, hook, "alert", &row.id.to_string(), &dedupe_key, body)
        .await
        .map_err(|failed| failed.failure)
}

/// How a webhook delivery failed: why, and the receiver's status when it answered.
pub struct WebhookFailure {
    pub failure: Failure,
    pub status: Option<u16>,
    /// Refused by the outbound rule (never connected to).
    pub refused: bool,
}

/// POSTs `body` to the webhook with leakwatch's headers and signature.
pub async fn post_signed(
    state: &AlertEngine,
    hook: &settings::Webhook,
    event: &str,
    delivery: &str,
    dedupe_key: &str,
    body: Vec<u8>,
) -> Result<(), WebhookFailure> {
    let timestamp = now_ms() / 1000;
    let refused = |message: String| WebhookFailure {
        failure: Failure::permanent(message),
        status: None,
        refused: true,
    };
    let response = state
        .webhooks()
        .request(reqwest::Method::POST, &hook.url)
        .map_err(|e| refused(format!("webhook: {e}")))?
        .timeout(Duration::from_secs(
            state.settings().webhook_timeout_seconds.max(1),
        ))
        .header("Content-Type", "application/json")
        .header(
            "User-Agent",
            concat!("leakwatch/", env!("CARGO_PKG_VERSION")),
        )
        .header("X-Leakwatch-Event", event)
        .header("X-Leakwatch-Delivery", delivery)
        .header("X-Leakwatch-Dedupe-Key", dedupe_key)
        .header("X-Leakwatch-Timestamp", timestamp.to_string())
        .header(
            "X-Leakwatch-Signature",
            signature(&hook.secret, timestamp, &body),
        )
        .body(body)
        .send()
        .await
        .map_err(|e| {
            // Refused by the outbound rule: the same target will be refused again.
            let refused = OutboundError::find(&e).is_some_and(OutboundError::is_refused);
            WebhookFailure {
                failure: Failure {
                    permanent: refused,
                    message: format!("webhook: {}", outbound::describe(&e)),
                },
                status: None,
                refused,
            }
        })?;
    let status = response.status();
    let answered = |failure| WebhookFailure {
        failure,
        status: Some(status.as_u16()),
        refused: false,
    };
    if status.is_success() {
        Ok(())
    } else if status.is_client_error()
        && status != reqwest::StatusCode::REQUEST_TIMEOUT
        && status != reqwest::StatusCode::TOO_MANY_REQUESTS
    {
        // The receiver refuses this request (wrong URL, revoked hook): trying again will not help.
        Err(answered(Failure::permanent(format!(
            "webhook answered {status}"
        ))))
    } else {
        Err(answered(Failure::transient(format!(
            "webhook answered {status}"
        ))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_exponentially_up_to_the_maximum() {
        assert_eq!(retry_delay_ms(1, 5, 3600), 5_000);
        assert_eq!(retry_delay_ms(2, 5, 3600), 10_000);
        assert_eq!(retry_delay_ms(4, 5, 3600), 40_000);
        assert_eq!(retry_delay_ms(20, 5, 3600), 3_600_000);
        assert_eq!(retry_delay_ms(99, 5, 3600), 3_600_000);
    }

    fn alert() -> Alert {
        Alert {
            seq: 7,
            id: "a1".into(),
            kind: super::super::Kind::IncidentSummary,
            severity: super::super::Severity::Normal,
            incident_id: "i1".into(),
            message_id: "m1".into(),
            title: "Incident aangemaakt: \u{201c}Loonstroken\u{201d}".into(),
            body: "Stand van zaken: niet geopend.".into(),
            texts: None,
            evidence_status: crate::pixel::Status::NotOpened,
            // 7 December 2026, 19:43:07 UTC.
            deadline_at: 1_796_672_587_000,
            created_at: 1_796_413_387_000,
        }
    }

    #[test]
    fn the_mail_is_in_one_language_with_the_tenants_time() {
        let nl = mail_text(
            &alert(),
            &Reader {
                lang: Lang::Nl,
                zone: Zone::default(),
            },
        );
        assert!(
            nl.contains("\nUiterste meldtermijn (AVG art. 33): 7 december 2026 om 20:43 (Europe/Amsterdam, UTC+1)\n"),
            "{nl}"
        );
        assert!(
            !nl.contains("Deadline") && !nl.contains("GDPR") && !nl.contains("add-in"),
            "{nl}"
        );
        let en = mail_text(
            &alert(),
            &Reader {
                lang: Lang::En,
                zone: Zone::parse("Europe/London").unwrap(),
            },
        );
        assert!(
            en.contains("\nNotification deadline (GDPR Art. 33): 7 December 2026, 19:43 (Europe/London, UTC+0)\n"),
            "{en}"
        );
        assert!(en.ends_with("record your decision.\n"), "{en}");
    }

    #[test]
    fn the_chat_text_reads_the_tenants_time_and_machines_get_milliseconds() {
        let zone = Zone::parse("America/New_York").unwrap();
        let chat = webhook_body(WebhookFormat::Chat, &alert(), "k", &zone);
        assert_eq!(
            chat["text"],
            "leakwatch normal alert: incident summary (incident i1; evidence: not opened; notification deadline 7 December 2026, 14:43 (America/New_York, UTC-5))"
        );
        let json = webhook_body(WebhookFormat::Json, &alert(), "k", &zone);
        assert_eq!(json["alert"]["deadline_at"], 1_796_672_587_000_i64);
    }

    #[test]
    fn the_signature_covers_timestamp_and_body() {
        let a = signature("0123456789abcdef", 1, b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64);
        assert_ne!(a, signature("0123456789abcdef", 2, b"{}"));
        assert_ne!(a, signature("0123456789abcdef", 1, b"{ }"));
        assert_ne!(a, signature("fedcba9876543210", 1, b"{}"));
        // Computed independently with Python's hmac module.
        assert_eq!(
            signature("key", 1, b"{}"),
            "sha256=1ba6b8171186efc613e8bcc0cbdab2748f24984d7c5a84faa2637afa0e40d224"
        );
    }
}
