//! "I sent this to the wrong person": a sender turns a registered message into a leak
//! incident. The moment of awareness starts the 72-hour clock of GDPR Art. 33. Every
//! incident stays in the tenant's breach register (Art. 33(5)), notified or not, with its
//! decision and reason.
//!
//! Privacy by design: fetches of a message are shown only here, through its incident, and
//! every view of them is written to the audit log. The sender sees their own incidents;
//! admins see the tenant's (that list is the breach register).
//!
//! Opening an incident raises its summary alert in the same transaction, through the alert
//! engine ([`crate::alerts`]); the evidence is the pixel's ([`crate::pixel::Evidence`]);
//! [`notification`] drafts the Art. 33 notification from both.

pub mod notification;

use axum::extract::FromRef;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sqlx::Row;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::alerts::{self, AlertEngine};
use crate::auth::{AuthUser, Authenticator};
use crate::kit::audit::{self, Action};
use crate::kit::clock::Clock;
use crate::kit::db::Db;
use crate::kit::error::{ApiError, ApiResult};
use crate::kit::ids::{IncidentId, MessageId, UserId};
use crate::kit::json::{ApiJson, ApiPath, ApiQuery};
use crate::kit::time::Zone;
use crate::pixel::Evidence;

pub use crate::pixel::ClassEvidence;

/// What the incidents API needs: the database, the clock (awareness and deadlines), and
/// the alert engine to raise the summary with.
#[derive(Clone)]
pub struct IncidentsState {
    db: Db,
    clock: Clock,
    alerts: AlertEngine,
}

impl IncidentsState {
    pub fn new(db: Db, clock: Clock, alerts: AlertEngine) -> IncidentsState {
        IncidentsState { db, clock, alerts }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn alerts(&self) -> &AlertEngine {
        &self.alerts
    }
}

/// GDPR Art. 33: notify the supervisory authority within 72 hours of becoming aware.
pub const NOTIFICATION_WINDOW_MS: i64 = 72 * 3600 * 1000;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    IncidentsState: FromRef<S>,
    Authenticator: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(show, update))
        .merge(notification::router())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateIncident {
    pub message_id: String,
    /// The recipients the message should not have gone to (recipients of the message).
    #[serde(default)]
    pub wrong_recipients: Vec<String>,
    /// What happened, in the sender's words (optional; editable later).
    #[serde(default)]
    pub description: String,
    /// When the sender became aware, Unix ms, if earlier than now (not before sending).
    #[serde(default)]
    pub aware_at: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Created {
    pub id: String,
    pub aware_at: i64,
    pub deadline_at: i64,
}

/// The Art. 33 decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// The breach is notified to the supervisory authority.
    Notify,
    /// Not notified: unlikely to result in a risk to people (the reason is kept).
    NoNotify,
}

impl Decision {
    fn as_str(self) -> &'static str {
        match self {
            Decision::Notify => "notify",
            Decision::NoNotify => "no_notify",
        }
    }

    fn parse(text: &str) -> Option<Decision> {
        match text {
            "notify" => Some(Decision::Notify),
            "no_notify" => Some(Decision::NoNotify),
            _ => None,
        }
    }
}

/// open (undecided) | to_notify | notified | not_notified
fn status_of(decision: Option<Decision>, notified_at: Option<i64>) -> &'static str {
    match (decision, notified_at) {
        (None, _) => "open",
        (Some(Decision::Notify), None) => "to_notify",
        (Some(Decision::Notify), Some(_)) => "notified",
        (Some(Decision::NoNotify), _) => "not_notified",
    }
}

/// Opens an incident for one of the caller's messages and raises its summary alert.
#[utoipa::path(post, path = "/api/v1/incidents", tag = "incidents", request_body = CreateIncident, security(("bearer" = [])),
    responses((status = 201, body = Created), (status = 400, description = "Invalid request"),
        (status = 404, description = "No such message for this user"),
        (status = 409, description = "The message already has an incident")))]
pub async fn create(
    State(state): State<IncidentsState>,
    user: AuthUser,
    ApiJson(body): ApiJson<CreateIncident>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let row = sqlx::query(
        "SELECT m.sender_id, m.recipients, m.subject, m.lang, m.tracked, m.created_at, u.email, t.time_zone FROM messages m \
         JOIN users u ON u.id = m.sender_id JOIN tenants t ON t.id = m.tenant_id WHERE m.id = $1 AND m.tenant_id = $2",
    )
    .bind(&body.message_id)
    .bind(&user.tenant_id)
    .fetch_optional(&state.db().pool)
    .await?
    .ok_or(ApiError::NotFound("message"))?;
    let sender: UserId = row.try_get("sender_id")?;
    if !user.may_see(&sender) {
        return Err(ApiError::NotFound("message"));
    }
    let recipients: String = row.try_get("recipients")?;
    let wrong = wrong_recipients(&recipients, &body.wrong_recipients)?;
    if body.description.len() > 10_000 {
        return Err(ApiError::BadRequest(
            "description: longer than 10000 bytes".into(),
        ));
    }
    let sent_at: i64 = row.try_get("created_at")?;
    let now = state.clock().now_ms();
    let aware_at = match body.aware_at {
        None => now,
        Some(t) if t > now => return Err(ApiError::BadRequest("aware_at: in the future".into())),
        Some(t) if t < sent_at => {
            return Err(ApiError::BadRequest(
                "aware_at: before the message was sent".into(),
            ))
        }
        Some(t) => t,
    };
    let tracked = row.try_get::<i64, _>("tracked")? != 0;
    let lang: String = row.try_get("lang")?;
    let ctx = alerts::Context {
        incident_id: IncidentId::random(),
        tenant_id: user.tenant_id.clone(),
        message_id: MessageId::from(body.message_id.as_str()),
        sender_id: sender,
        sender_email: row.try_get("email")?,
        subject: row.try_get("subject")?,
        lang: if lang == "nl" {
            leakwatch_core::Lang::Nl
        } else {
            leakwatch_core::Lang::En
        },
        tracked,
        sent_at,
        wrong_recipients: wrong.len(),
        aware_at,
        deadline_at: aware_at + NOTIFICATION_WINDOW_MS,
        created_at: now,
        decided: false,
        zone: Zone::stored(&row.try_get::<String, _>("time_zone")?),
    };
    let evidence =
        Evidence::for_message(state.db(), ctx.message_id.as_str(), tracked, wrong.len()).await?;
    let settings = alerts::tenant_settings(state.db(), &user.tenant_id).await?;

    let mut tx = state.db().pool.begin().await?;
    let inserted = sqlx::query(
        "INSERT INTO incidents (id, tenant_id, message_id, reporter_id, wrong_recipients, aware_at, deadline_at, status, created_at, description, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $8) ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(&ctx.incident_id)
    .bind(&user.tenant_id)
    .bind(&body.message_id)
    .bind(&user.user_id)
    .bind(serde_json::to_string(&wrong).map_err(anyhow::Error::from)?)
    .bind(aware_at)
    .bind(ctx.deadline_at)
    .bind(now)
    .bind(&body.description)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(ApiError::Conflict(
            "this message already has an incident; update that one".into(),
        ));
    }
    audit::record(
        &mut *tx,
        &user.tenant_id,
        &user.actor(),
        Action::IncidentOpened,
        ("incident", ctx.incident_id.as_str()),
        json!({"message_id": body.message_id, "wrong_recipients": wrong.len()}),
        now,
    )
    .await?;
    let raised = alerts::raise(
        &mut tx,
        state.alerts(),
        &alerts::summary(&ctx, &evidence),
        &settings,
    )
    .await?;
    tx.commit().await?;
    alerts::announced(state.alerts(), raised);
    metrics::counter!("leakwatch_incidents_opened_total").increment(1);
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: ctx.incident_id.into_string(),
            aware_at,
            deadline_at: ctx.deadline_at,
        }),
    ))
}

/// The given wrong recipients, each checked to be a recipient of the message.
fn wrong_recipients(stored: &str, given: &[String]) -> ApiResult<Vec<String>> {
    let known = message_recipients(stored);
    let mut wrong: Vec<String> = Vec::new();
    for (i, text) in given.iter().enumerate() {
        let address = leakwatch_core::address::parse_mailbox(text)
            .map_err(|e| ApiError::BadRequest(format!("wrong_recipients[{i}]: {e}")))?;
        if !known.contains(&address.canonical()) {
            return Err(ApiError::BadRequest(format!(
                "wrong_recipients[{i}]: {text} is not a recipient of this message"
            )));
        }
        if !wrong.contains(&address.written) {
            wrong.push(address.written);
        }
    }
    Ok(wrong)
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

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct IncidentView {
    pub id: String,
    pub message_id: String,
    pub subject: String,
    /// When the message was sent (registered), Unix ms.
    pub sent_at: i64,
    pub tracked: bool,
    pub wrong_recipients: Vec<String>,
    pub description: String,
    /// Who reported it.
    pub reporter: String,
    pub aware_at: i64,
    pub deadline_at: i64,
    pub created_at: i64,
    /// open | to_notify | notified | not_notified
    pub status: String,
    pub decision: Option<Decision>,
    pub decision_reason: Option<String>,
    pub decided_at: Option<i64>,
    pub decided_by: Option<String>,
    pub notified_at: Option<i64>,
    pub authority_reference: Option<String>,
    pub evidence: Evidence,
}

const INCIDENT_SQL: &str = "SELECT i.id, i.message_id, i.reporter_id, i.wrong_recipients, i.description, i.aware_at, i.deadline_at, i.created_at, \
     i.decision, i.decision_reason, i.decided_at, i.decided_by, i.notified_at, i.authority_reference, \
     m.subject, m.created_at AS sent_at, m.tracked, m.sender_id, r.email AS reporter \
     FROM incidents i JOIN messages m ON m.id = i.message_id JOIN users r ON r.id = i.reporter_id";

/// An incident row, without its evidence yet.
async fn view_from_row(state: &IncidentsState, row: &sqlx::any::AnyRow) -> ApiResult<IncidentView> {
    let wrong: String = row.try_get("wrong_recipients")?;
    let wrong: Vec<String> = serde_json::from_str(&wrong).unwrap_or_default();
    let decision = row
        .try_get::<Option<String>, _>("decision")?
        .as_deref()
        .and_then(Decision::parse);
    let notified_at: Option<i64> = row.try_get("notified_at")?;
    let message_id: String = row.try_get("message_id")?;
    let tracked = row.try_get::<i64, _>("tracked")? != 0;
    let evidence = Evidence::for_message(state.db(), &message_id, tracked, wrong.len()).await?;
    Ok(IncidentView {
        id: row.try_get("id")?,
        message_id,
        subject: row.try_get("subject")?,
        sent_at: row.try_get("sent_at")?,
        tracked,
        description: row.try_get("description")?,
        reporter: row.try_get("reporter")?,
        aware_at: row.try_get("aware_at")?,
        deadline_at: row.try_get("deadline_at")?,
        created_at: row.try_get("created_at")?,
        status: status_of(decision, notified_at).into(),
        decision,
        decision_reason: row.try_get("decision_reason")?,
        decided_at: row.try_get("decided_at")?,
        decided_by: row.try_get("decided_by")?,
        notified_at,
        authority_reference: row.try_get("authority_reference")?,
        wrong_recipients: wrong,
        evidence,
    })
}

/// Loads an incident the caller may see, with its evidence, and records the view.
pub async fn load_viewed(
    state: &IncidentsState,
    user: &AuthUser,
    id: &str,
    what: &str,
) -> ApiResult<IncidentView> {
    let row = sqlx::query(&format!(
        "{INCIDENT_SQL} WHERE i.id = $1 AND i.tenant_id = $2"
    ))
    .bind(id)
    .bind(&user.tenant_id)
    .fetch_optional(&state.db().pool)
    .await?
    .ok_or(ApiError::NotFound("incident"))?;
    let reporter: UserId = row.try_get("reporter_id")?;
    let sender: UserId = row.try_get("sender_id")?;
    if !user.may_see_incident(&reporter) && !user.may_see_incident(&sender) {
        return Err(ApiError::NotFound("incident"));
    }
    let view = view_from_row(state, &row).await?;
    audit::record(
        &state.db().pool,
        &user.tenant_id,
        &user.actor(),
        Action::EvidenceViewed,
        ("incident", id),
        json!({"view": what, "hits_total": view.evidence.hits_total}),
        state.clock().now_ms(),
    )
    .await?;
    Ok(view)
}

/// An incident with its evidence (the view is audit-logged).
#[utoipa::path(get, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident id")),
    responses((status = 200, body = IncidentView), (status = 404, description = "No such incident for this user")))]
pub async fn show(
    State(state): State<IncidentsState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<IncidentView>> {
    Ok(Json(load_viewed(&state, &user, &id, "incident").await?))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only incidents with this status (open, to_notify, notified, not_notified).
    pub status: Option<String>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
    /// Only incidents opened before this time (Unix ms), for the next page.
    pub before: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct IncidentList {
    pub incidents: Vec<IncidentView>,
}

/// The caller's incidents, newest first; for privacy officers and admins the tenant's breach register
/// (every incident, notified or not, with its decision and reason). Audit-logged.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = IncidentList), (status = 401, description = "Not authenticated")))]
pub async fn list(
    State(state): State<IncidentsState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<IncidentList>> {
    let admin = user.role.keeps_register();
    let rows = sqlx::query(&format!(
        "{INCIDENT_SQL} WHERE i.tenant_id = $1 AND ($2 = 1 OR i.reporter_id = $3 OR m.sender_id = $3) AND i.created_at < $4 \
         AND ($6 = '' OR i.status = $6) ORDER BY i.created_at DESC LIMIT $5"
    ))
    .bind(&user.tenant_id)
    .bind(i64::from(admin))
    .bind(&user.user_id)
    .bind(q.before.unwrap_or(i64::MAX))
    .bind(q.limit.unwrap_or(100).clamp(1, 1000))
    .bind(q.status.clone().unwrap_or_default())
    .fetch_all(&state.db().pool)
    .await?;
    let mut incidents = Vec::with_capacity(rows.len());
    for row in &rows {
        incidents.push(view_from_row(&state, row).await?);
    }
    if !incidents.is_empty() {
        audit::record(
            &state.db().pool,
            &user.tenant_id,
            &user.actor(),
            Action::EvidenceViewed,
            ("incident_list", ""),
            json!({"view": "list", "incidents": incidents.iter().map(|i| &i.id).collect::<Vec<_>>()}),
            state.clock().now_ms(),
        )
        .await?;
    }
    Ok(Json(IncidentList { incidents }))
}

/// A change to an incident: the decision and its reason, the filing, corrections.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateIncident {
    pub decision: Option<Decision>,
    /// Required with `no_notify`: why the breach is unlikely to result in a risk.
    pub decision_reason: Option<String>,
    /// When it was filed with the authority (requires the `notify` decision).
    pub notified_at: Option<i64>,
    /// The authority's reference for the notification.
    pub authority_reference: Option<String>,
    pub wrong_recipients: Option<Vec<String>>,
    pub description: Option<String>,
}

/// Records the decision (notify or not, with the reason) and the filing (privacy officers
/// and admins only), or corrections (also the reporting sender). Audit-logged with what
/// changed.
#[utoipa::path(patch, path = "/api/v1/incidents/{id}", tag = "incidents", security(("bearer" = [])),
    params(("id" = String, Path, description = "Incident id")), request_body = UpdateIncident,
    responses((status = 200, body = IncidentView), (status = 400, description = "Invalid change"),
        (status = 403, description = "A decision or filing by a sender"),
        (status = 404, description = "No such incident for this user")))]
pub async fn update(
    State(state): State<IncidentsState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<UpdateIncident>,
) -> ApiResult<Json<IncidentView>> {
    let current = load_viewed(&state, &user, &id, "update").await?;
    // Whether to notify is the privacy officer's call (GDPR Art. 33), not the sender's; she
    // may still correct what she reported.
    if body.decision.is_some()
        || body.decision_reason.is_some()
        || body.notified_at.is_some()
        || body.authority_reference.is_some()
    {
        user.require_privacy_officer()?;
    }
    let decision = body.decision.or(current.decision);
    let reason = body
        .decision_reason
        .clone()
        .or(current.decision_reason.clone())
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    if decision == Some(Decision::NoNotify) && reason.is_none() {
        return Err(ApiError::BadRequest(
            "decision_reason: required when the breach is not notified (GDPR Art. 33(5))".into(),
        ));
    }
    let notified_at = body.notified_at.or(current.notified_at);
    if notified_at.is_some() && decision != Some(Decision::Notify) {
        return Err(ApiError::BadRequest(
            "notified_at: only with the 'notify' decision".into(),
        ));
    }
    if let Some(t) = body.notified_at {
        if t < current.aware_at || t > state.clock().now_ms() {
            return Err(ApiError::BadRequest(
                "notified_at: between awareness and now".into(),
            ));
        }
    }
    let wrong = match &body.wrong_recipients {
        Some(given) => {
            let stored: String = sqlx::query("SELECT recipients FROM messages WHERE id = $1")
                .bind(&current.message_id)
                .fetch_one(&state.db().pool)
                .await?
                .try_get("recipients")?;
            wrong_recipients(&stored, given)?
        }
        None => current.wrong_recipients.clone(),
    };
    let description = body
        .description
        .clone()
        .unwrap_or(current.description.clone());
    if description.len() > 10_000 || reason.as_ref().is_some_and(|r| r.len() > 10_000) {
        return Err(ApiError::BadRequest(
            "text fields: at most 10000 bytes".into(),
        ));
    }
    if body
        .authority_reference
        .as_ref()
        .is_some_and(|r| r.len() > 200)
    {
        return Err(ApiError::BadRequest(
            "authority_reference: longer than 200 bytes".into(),
        ));
    }
    let now = state.clock().now_ms();
    let mut tx = state.db().pool.begin().await?;
    // Only the fields given are written, so a concurrent change of another field (the DPO's
    // decision, the sender's description) is not undone; the status follows from the row.
    sqlx::query(
        "UPDATE incidents SET \
           decided_at = CASE WHEN $1 IS NOT NULL AND $1 <> COALESCE(decision, '') THEN $8 ELSE decided_at END, \
           decided_by = CASE WHEN $1 IS NOT NULL AND $1 <> COALESCE(decision, '') THEN $9 ELSE decided_by END, \
           decision = COALESCE($1, decision), decision_reason = COALESCE($2, decision_reason), \
           notified_at = COALESCE($3, notified_at), authority_reference = COALESCE($4, authority_reference), \
           wrong_recipients = COALESCE($5, wrong_recipients), description = COALESCE($6, description), \
           updated_at = $8 WHERE id = $7",
    )
    .bind(body.decision.map(Decision::as_str))
    .bind(body.decision_reason.as_ref().map(|r| r.trim().to_string()))
    .bind(body.notified_at)
    .bind(body.authority_reference.clone())
    .bind(
        body.wrong_recipients
            .as_ref()
            .map(|_| serde_json::to_string(&wrong))
            .transpose()
            .map_err(anyhow::Error::from)?,
    )
    .bind(body.description.clone())
    .bind(&id)
    .bind(now)
    .bind(&user.email)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE incidents SET status = CASE WHEN decision IS NULL THEN 'open' WHEN decision = 'no_notify' THEN 'not_notified' \
           WHEN notified_at IS NULL THEN 'to_notify' ELSE 'notified' END WHERE id = $1",
    )
    .bind(&id)
    .execute(&mut *tx)
    .await?;
    audit::record(
        &mut *tx,
        &user.tenant_id,
        &user.actor(),
        Action::IncidentUpdated,
        ("incident", &id),
        json!({
            "decision": body.decision,
            "decision_reason": body.decision_reason,
            "notified_at": body.notified_at,
            "authority_reference": body.authority_reference,
            "wrong_recipients": body.wrong_recipients.as_ref().map(|_| wrong.len()),
            "description_changed": body.description.is_some(),
        }),
        now,
    )
    .await?;
    tx.commit().await?;
    let row = sqlx::query(&format!("{INCIDENT_SQL} WHERE i.id = $1"))
        .bind(&id)
        .fetch_one(&state.db().pool)
        .await?;
    Ok(Json(view_from_row(&state, &row).await?))
}
