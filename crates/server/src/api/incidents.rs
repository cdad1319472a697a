//! "I sent this to the wrong person": a sender turns a registered message into a leak
//! incident. The moment of awareness starts the 72-hour clock of GDPR Art. 33. The evidence
//! is what the pixel recorded for that message.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;

use super::ApiJson;
use crate::auth::AuthUser;
use crate::db::{now_ms, random_id};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// GDPR Art. 33: notify the supervisory authority within 72 hours of becoming aware.
pub const NOTIFICATION_WINDOW_MS: i64 = 72 * 3600 * 1000;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/incidents", post(create))
        .route("/api/v1/incidents/{id}", get(show))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateIncident {
    pub message_id: String,
    /// The recipients the message should not have gone to.
    #[serde(default)]
    pub wrong_recipients: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Created {
    pub id: String,
}

/// Opens an incident for one of the caller's messages.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = CreateIncident, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, description = "Invalid request"), (status = 404, description = "No such message for this user")))]
pub async fn create(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(body): ApiJson<CreateIncident>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let row =
        sqlx::query("SELECT sender_id, recipients FROM messages WHERE id = $1 AND tenant_id = $2")
            .bind(&body.message_id)
            .bind(&user.tenant_id)
            .fetch_optional(&state.db().pool)
            .await?
            .ok_or(ApiError::NotFound("message"))?;
    let sender: String = row.try_get("sender_id")?;
    if !user.may_see(&sender) {
        return Err(ApiError::NotFound("message"));
    }
    let recipients: String = row.try_get("recipients")?;
    let known = message_recipients(&recipients);
    let mut wrong = Vec::new();
    for (i, text) in body.wrong_recipients.iter().enumerate() {
        let address = leakwatch_core::address::parse_mailbox(text)
            .map_err(|e| ApiError::BadRequest(format!("wrong_recipients[{i}]: {e}")))?;
        if !known.contains(&address.canonical()) {
            return Err(ApiError::BadRequest(format!(
                "wrong_recipients[{i}]: {text} is not a recipient of this message"
            )));
        }
        wrong.push(address.written);
    }
    let id = random_id();
    let aware_at = now_ms();
    sqlx::query(
        "INSERT INTO incidents (id, tenant_id, message_id, reporter_id, wrong_recipients, aware_at, deadline_at, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8)",
    )
    .bind(&id)
    .bind(&user.tenant_id)
    .bind(&body.message_id)
    .bind(&user.user_id)
    .bind(serde_json::to_string(&wrong).map_err(anyhow::Error::from)?)
    .bind(aware_at)
    .bind(aware_at + NOTIFICATION_WINDOW_MS)
    .bind(aware_at)
    .execute(&state.db().pool)
    .await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// Canonical addresses of a stored recipients document.
fn message_recipients(json: &str) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    ["to", "cc", "bcc"]
        .iter()
        .flat_map(|field| value[field].as_array().cloned().unwrap_or_default())
        .filter_map(|r| serde_json::from_value::<leakwatch_core::Recipient>(r).ok())
        .filter_map(|r| leakwatch_core::address::parse_recipient(&r).ok())
        .map(|a| a.canonical())
        .collect()
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ClassEvidence {
    pub class: String,
    pub hits: i64,
    pub first_at: i64,
    pub last_at: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    /// Every pixel request answered for the message.
    pub hits_total: i64,
    pub by_class: Vec<ClassEvidence>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentView {
    pub id: String,
    pub message_id: String,
    pub wrong_recipients: Vec<String>,
    pub aware_at: i64,
    pub deadline_at: i64,
    pub status: String,
    pub evidence: Evidence,
}

/// An incident with its evidence.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, body = IncidentView), (status = 404, description = "No such incident for this user")))]
pub async fn show(
    State(state): State<AppState>,
    user: AuthUser,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentView>> {
    let row = sqlx::query(
        "SELECT id, message_id, reporter_id, wrong_recipients, aware_at, deadline_at, status FROM incidents WHERE id = $1 AND tenant_id = $2",
    )
    .bind(&id)
    .bind(&user.tenant_id)
    .fetch_optional(&state.db().pool)
    .await?
    .ok_or(ApiError::NotFound("incident"))?;
    let reporter: String = row.try_get("reporter_id")?;
    if !user.may_see(&reporter) {
        return Err(ApiError::NotFound("incident"));
    }
    let message_id: String = row.try_get("message_id")?;
    let classes = sqlx::query(
        "SELECT class, hits, first_at, last_at FROM pixel_counts WHERE message_id = $1 ORDER BY class",
    )
    .bind(&message_id)
    .fetch_all(&state.db().pool)
    .await?;
    let by_class = classes
        .iter()
        .map(|r| {
            Ok(ClassEvidence {
                class: r.try_get("class")?,
                hits: r.try_get("hits")?,
                first_at: r.try_get("first_at")?,
                last_at: r.try_get("last_at")?,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let wrong: String = row.try_get("wrong_recipients")?;
    Ok(Json(IncidentView {
        id: row.try_get("id")?,
        message_id,
        wrong_recipients: serde_json::from_str(&wrong).unwrap_or_default(),
        aware_at: row.try_get("aware_at")?,
        deadline_at: row.try_get("deadline_at")?,
        status: row.try_get("status")?,
        evidence: Evidence {
            hits_total: by_class.iter().map(|c| c.hits).sum(),
            by_class,
        },
    }))
}
