//! Alerts for the signed-in sender: the list (`GET /api/v1/alerts?after=SEQ`) and the live
//! stream (`GET /api/v1/alerts/stream`, server-sent events), and the tenant's alert
//! settings for admins (`/api/v1/tenant/alerts`).
//!
//! The stream authenticates with the `Authorization` header or, for `EventSource` (which
//! cannot set headers), an `access_token` query parameter. It first replays what is stored
//! after `Last-Event-ID` (or `?after=`), then sends each new alert as `event: alert` with
//! `id: SEQ`. Besides the live feed it re-reads the table every `REREAD` (also the
//! keep-alive; `alerts.stream_reread_seconds`), so an alert whose announcement was missed (a lost PostgreSQL listener
//! connection) still arrives, at least once.

use std::collections::BTreeSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, State};
use axum::http::{HeaderMap, Method};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::settings::AlertSettings;
use super::{published_from_row, Alert, AlertEngine, Published};
use crate::accounts::Role;
use crate::auth::{authenticate, user_of_cookie, AuthUser, Authenticator};
use crate::kit::audit::{self, Action};
use crate::kit::error::{ApiError, ApiResult};
use crate::kit::json::ApiJson;
use crate::kit::json::ApiQuery;

/// Alerts committed out of sequence order by this many (sequence numbers are shared by all
/// tenants) are still caught by the re-read. Only this audience's alerts in the window are
/// read again, so a wide window costs little.
const REORDER_WINDOW: i64 = 10_000;
/// Rows per table read.
const PAGE: i64 = 1000;

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    AlertEngine: FromRef<S>,
    Authenticator: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(stream))
        .routes(routes!(show_settings, set_settings))
        .routes(routes!(super::test_send::send_test))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only alerts with a greater `seq`.
    pub after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertList {
    pub alerts: Vec<Alert>,
}

/// Who sees which alerts: a sender their own; an admin who asks for `scope=tenant` the
/// whole tenant's.
#[derive(Debug, Clone)]
struct Audience {
    tenant_id: String,
    user_id: Option<String>,
}

impl Audience {
    fn sees(&self, p: &Published) -> bool {
        p.tenant_id == self.tenant_id && self.user_id.as_ref().is_none_or(|u| *u == p.user_id)
    }
}

async fn stored_after(
    state: &AlertEngine,
    audience: &Audience,
    after: i64,
    limit: i64,
) -> Result<Vec<Published>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT seq, tenant_id, user_id, payload FROM alerts WHERE tenant_id = $1 AND ($2 = '' OR user_id = $2) AND seq > $3 \
         ORDER BY seq LIMIT $4",
    )
    .bind(&audience.tenant_id)
    .bind(audience.user_id.clone().unwrap_or_default())
    .bind(after)
    .bind(limit)
    .fetch_all(&state.db().pool)
    .await?;
    rows.iter().map(published_from_row).collect()
}

/// The caller's alerts, oldest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = AlertList), (status = 401, description = "Not authenticated")))]
pub async fn list(
    State(state): State<AlertEngine>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<AlertList>> {
    let audience = Audience {
        tenant_id: user.tenant_id.to_string(),
        user_id: Some(user.user_id.to_string()),
    };
    let alerts = stored_after(
        &state,
        &audience,
        q.after.unwrap_or(0),
        q.limit.unwrap_or(100).clamp(1, 1000),
    )
    .await?
    .into_iter()
    .map(|p| p.alert)
    .collect();
    Ok(Json(AlertList { alerts }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StreamQuery {
    /// The bearer token, for clients that cannot send headers (`EventSource`).
    pub access_token: Option<String>,
    /// Replay stored alerts after this `seq` (`Last-Event-ID` takes precedence). Without
    /// either, only alerts raised from now on are sent.
    pub after: Option<i64>,
    /// `tenant`: every alert of the tenant (admins only; audit-logged).
    pub scope: Option<String>,
}

/// The live stream of the caller's alerts (server-sent events).
#[utoipa::path(get, path = "/api/v1/alerts/stream", tag = "alerts", security(("bearer" = [])),
    params(StreamQuery),
    responses((status = 200, description = "text/event-stream of `alert` events with `id: seq` and an Alert as data", content_type = "text/event-stream"),
        (status = 401, description = "Not authenticated"), (status = 403, description = "scope=tenant without being an admin")))]
pub async fn stream(
    State(state): State<AlertEngine>,
    State(auth): State<Authenticator>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<StreamQuery>,
) -> ApiResult<Response> {
    let header_token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|h| {
            h.strip_prefix("Bearer ")
                .or_else(|| h.strip_prefix("bearer "))
        });
    let (user, credential) = match header_token.or(q.access_token.as_deref()) {
        Some(token) => (
            authenticate(&auth, token.trim()).await?,
            Credential::Bearer(token.trim().to_string()),
        ),
        // The dashboard's EventSource sends its session cookie.
        None => (
            user_of_cookie(&auth, &Method::GET, &headers)
                .await?
                .ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?,
            Credential::Session(headers.clone()),
        ),
    };
    let tenant_wide = q.scope.as_deref() == Some("tenant");
    if tenant_wide && user.role != Role::Admin {
        return Err(ApiError::Forbidden("scope=tenant needs an admin".into()));
    }
    if let Some(scope) = q.scope.as_deref().filter(|s| *s != "tenant" && *s != "own") {
        return Err(ApiError::BadRequest(format!(
            "scope: unknown '{scope}' (own or tenant)"
        )));
    }
    let audience = Audience {
        tenant_id: user.tenant_id.to_string(),
        user_id: (!tenant_wide).then(|| user.user_id.to_string()),
    };
    if tenant_wide {
        audit::record(
            &state.db().pool,
            &user.tenant_id,
            &user.actor(),
            Action::AlertStreamOpened,
            ("alerts", "tenant"),
            json!({}),
            state.clock().now_ms(),
        )
        .await?;
    }
    let last_event_id = headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    // Subscribe before reading the table, so nothing falls between the two.
    let live = state.alerts().subscribe();
    let after = match last_event_id.or(q.after) {
        Some(after) => after,
        None => {
            let row = sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM alerts")
                .fetch_one(&state.db().pool)
                .await?;
            sqlx::Row::try_get::<i64, _>(&row, "seq")?
        }
    };
    let reread = Duration::from_secs(state.settings().stream_reread_seconds.max(1));
    let (tx, rx) = mpsc::channel(64);
    let closing = state.alerts().closing();
    tokio::spawn(feed(
        state, auth, audience, after, live, tx, closing, reread, credential,
    ));
    Ok(Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(reread))
        .into_response())
}

/// What a stream was opened with, checked again on every re-read.
enum Credential {
    Bearer(String),
    /// The request's headers, with the session cookie.
    Session(HeaderMap),
}

impl Credential {
    async fn still_valid(&self, auth: &Authenticator) -> bool {
        match self {
            Credential::Bearer(token) => authenticate(auth, token).await.is_ok(),
            Credential::Session(headers) => {
                matches!(
                    user_of_cookie(auth, &Method::GET, headers).await,
                    Ok(Some(_))
                )
            }
        }
    }
}

/// Sends one stream's alerts: the stored ones after `after`, then live ones, each once.
///
/// Table reads page through everything stored (1000 at a time) and set the floor of the
/// next read to `REORDER_WINDOW` below the highest sequence seen in the table; live sends
/// only mark a sequence as sent. So an alert that commits after a higher one, or whose
/// announcement was missed, is still sent by a later read, and nothing is sent twice while
/// it is within the window. Each re-read also checks the token again: a stream ends when
/// its token or session expires or its user is removed or disabled.
#[allow(clippy::too_many_arguments)]
async fn feed(
    state: AlertEngine,
    auth: Authenticator,
    audience: Audience,
    after: i64,
    mut live: broadcast::Receiver<Arc<Published>>,
    tx: mpsc::Sender<Result<Event, Infallible>>,
    mut closing: tokio::sync::watch::Receiver<bool>,
    reread_every: Duration,
    credential: Credential,
) {
    if *closing.borrow() {
        return;
    }
    metrics::gauge!("leakwatch_alert_streams").increment(1.0);
    let mut sent: BTreeSet<i64> = BTreeSet::new();
    let mut floor = after;
    let event = |p: &Published| {
        Event::default()
            .event("alert")
            .id(p.alert.seq.to_string())
            .json_data(&p.alert)
            .unwrap_or_else(|_| Event::default().comment("unserialisable alert"))
    };
    let mut first = true;
    'stream: loop {
        if !first && !credential.still_valid(&auth).await {
            break 'stream;
        }
        first = false;
        let mut from = floor;
        let mut highest = floor;
        loop {
            let page = match stored_after(&state, &audience, from, PAGE).await {
                Ok(page) => page,
                Err(e) => {
                    tracing::warn!(error = %e, "an alert stream cannot read the table");
                    break;
                }
            };
            for p in &page {
                highest = highest.max(p.alert.seq);
                if sent.insert(p.alert.seq) {
                    tokio::select! {
                        r = tx.send(Ok(event(p))) => if r.is_err() { break 'stream },
                        _ = closing.changed() => break 'stream,
                    }
                }
            }
            match page.last() {
                Some(last) if page.len() as i64 == PAGE => from = last.alert.seq,
                _ => break,
            }
        }
        floor = floor.max(highest - REORDER_WINDOW);
        sent = sent.split_off(&(floor + 1));
        let reread = tokio::time::sleep(reread_every);
        tokio::pin!(reread);
        loop {
            tokio::select! {
                received = live.recv() => match received {
                    Ok(p) => {
                        if audience.sees(&p) && p.alert.seq > floor && sent.insert(p.alert.seq) {
                            tokio::select! {
                                r = tx.send(Ok(event(&p))) => if r.is_err() { break 'stream },
                                _ = closing.changed() => break 'stream,
                            }
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue 'stream,
                    Err(broadcast::error::RecvError::Closed) => break 'stream,
                },
                _ = &mut reread => continue 'stream,
                _ = tx.closed() => break 'stream,
                _ = closing.changed() => break 'stream,
            }
        }
    }
    metrics::gauge!("leakwatch_alert_streams").decrement(1.0);
}

/// The tenant's alert settings (webhook secrets masked).
#[utoipa::path(get, path = "/api/v1/tenant/alerts", tag = "tenant", security(("bearer" = [])),
    responses((status = 200, body = AlertSettings), (status = 403, description = "Not an admin")))]
pub async fn show_settings(
    State(state): State<AlertEngine>,
    user: AuthUser,
) -> ApiResult<Json<AlertSettings>> {
    user.require_admin()?;
    Ok(Json(
        super::settings::load(state.db(), &user.tenant_id)
            .await?
            .masked(),
    ))
}

/// Replaces the tenant's alert settings (a webhook secret of `"********"` keeps the stored
/// one). Audit-logged, secrets masked.
#[utoipa::path(put, path = "/api/v1/tenant/alerts", tag = "tenant", security(("bearer" = [])),
    request_body = AlertSettings,
    responses((status = 200, body = AlertSettings), (status = 400, description = "Invalid settings"),
        (status = 403, description = "Not an admin")))]
pub async fn set_settings(
    State(state): State<AlertEngine>,
    user: AuthUser,
    ApiJson(body): ApiJson<AlertSettings>,
) -> ApiResult<Json<AlertSettings>> {
    user.require_admin()?;
    let stored = super::settings::load(state.db(), &user.tenant_id).await?;
    let settings = body.unmask(&stored);
    settings.validate().map_err(ApiError::BadRequest)?;
    settings
        .check_targets(state.outbound())
        .await
        .map_err(ApiError::BadRequest)?;
    let now = state.clock().now_ms();
    let mut tx = state.db().pool.begin().await?;
    sqlx::query("UPDATE tenants SET alerting = $1 WHERE id = $2")
        .bind(serde_json::to_string(&settings).map_err(anyhow::Error::from)?)
        .bind(&user.tenant_id)
        .execute(&mut *tx)
        .await?;
    audit::record(
        &mut *tx,
        &user.tenant_id,
        &user.actor(),
        Action::AlertSettingsChanged,
        ("tenant", user.tenant_id.as_str()),
        serde_json::to_value(settings.clone().masked()).unwrap_or_default(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(Json(settings.masked()))
}
