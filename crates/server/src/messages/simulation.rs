//! The policy simulator's input (`GET /api/v1/tenant/simulation`, admins): the tenant's
//! registered mail of the last days, each with its sender, its recipients as the add-in
//! registered them and the rules it warned on, never a subject or body. The dashboard runs
//! the saved and the proposed policy over it with the WebAssembly core. Reading it is
//! audit-logged: it shows who mailed whom across the tenant.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use leakwatch_core::Finding;

use super::MessagesState;
use crate::auth::AuthUser;
use crate::kit::audit::{self, Action};
use crate::kit::error::{ApiError, ApiResult};
use crate::kit::json::ApiQuery;

/// At most this many messages, the newest (the browser checks each twice).
pub const MAX_MESSAGES: i64 = 5_000;
const DAY_MS: i64 = 24 * 3600 * 1000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimulationQuery {
    /// Days back from now: 1 to 90 (default 30).
    pub days: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SimulationMessage {
    /// The sender's address.
    pub sender: String,
    /// Recipients as registered: an address, `Name <address>` or `{address, name}`.
    #[schema(value_type = Vec<super::RecipientSchema>)]
    pub to: Vec<serde_json::Value>,
    #[schema(value_type = Vec<super::RecipientSchema>)]
    pub cc: Vec<serde_json::Value>,
    #[schema(value_type = Vec<super::RecipientSchema>)]
    pub bcc: Vec<serde_json::Value>,
    /// The rules the sender was shown at the time.
    pub findings: Vec<String>,
    pub overridden: bool,
    pub created_at: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct SimulationInput {
    pub days: i64,
    /// Oldest first.
    pub messages: Vec<SimulationMessage>,
    /// Whether older messages of the period were left out (more than the cap).
    pub truncated: bool,
}

fn list(recipients: &serde_json::Value, field: &str) -> Vec<serde_json::Value> {
    recipients
        .get(field)
        .and_then(|v| v.as_array())
        .cloned()
        .unwrap_or_default()
}

/// The tenant's registered mail of the last days, for the policy simulator.
#[utoipa::path(get, path = "/api/v1/tenant/simulation", tag = "tenant", security(("bearer" = [])),
    params(SimulationQuery),
    responses((status = 200, body = SimulationInput), (status = 400, description = "days outside 1 to 90"),
        (status = 403, description = "Not an admin")))]
pub async fn simulation(
    State(state): State<MessagesState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<SimulationQuery>,
) -> ApiResult<Json<SimulationInput>> {
    user.require_admin()?;
    let days = q.days.unwrap_or(30);
    if !(1..=90).contains(&days) {
        return Err(ApiError::BadRequest(format!(
            "days must be from 1 to 90; got {days}"
        )));
    }
    let now = state.clock().now_ms();
    let rows = sqlx::query(
        "SELECT u.email, m.recipients, m.findings, m.overridden, m.created_at FROM messages m \
         JOIN users u ON u.id = m.sender_id WHERE m.tenant_id = $1 AND m.created_at >= $2 \
         ORDER BY m.created_at DESC LIMIT $3",
    )
    .bind(&user.tenant_id)
    .bind(now - days * DAY_MS)
    .bind(MAX_MESSAGES + 1)
    .fetch_all(&state.db().pool)
    .await?;
    let truncated = rows.len() as i64 > MAX_MESSAGES;
    let mut messages = rows
        .iter()
        .take(MAX_MESSAGES as usize)
        .map(|row| {
            let recipients: serde_json::Value =
                serde_json::from_str(&row.try_get::<String, _>("recipients")?).unwrap_or_default();
            let findings: Vec<Finding> =
                serde_json::from_str(&row.try_get::<String, _>("findings")?).unwrap_or_default();
            let mut rules: Vec<String> = findings.into_iter().map(|f| f.rule).collect();
            rules.dedup();
            Ok(SimulationMessage {
                sender: row.try_get("email")?,
                to: list(&recipients, "to"),
                cc: list(&recipients, "cc"),
                bcc: list(&recipients, "bcc"),
                findings: rules,
                overridden: row.try_get::<i64, _>("overridden")? != 0,
                created_at: row.try_get("created_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    messages.reverse();
    audit::record(
        &state.db().pool,
        &user.tenant_id,
        &user.actor(),
        Action::RegisteredMailRead,
        ("tenant", user.tenant_id.as_str()),
        serde_json::json!({"purpose": "policy_simulation", "days": days, "messages": messages.len()}),
        now,
    )
    .await?;
    Ok(Json(SimulationInput {
        days,
        messages,
        truncated,
    }))
}
