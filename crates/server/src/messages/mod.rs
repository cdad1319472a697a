//! Message registration at send time: the add-in tells the server what it is about to send
//! (recipients, subject, the check's findings, whether a warning was overridden). The server
//! re-evaluates tracking against the tenant policy with the core's own decision, so a client
//! can never track more than the policy allows, and answers with the pixel and info URLs.

pub mod simulation;

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use leakwatch_core::address::{parse_recipient, Address};
use leakwatch_core::history::{Domains, Relation};
use leakwatch_core::sensitive::SensitiveCount;
use leakwatch_core::tracking::{decide, refusal, TrackingInput};
use leakwatch_core::{Finding, Lang, Recipient, Severity};

use crate::accounts::tenant_by_id;
use crate::auth::{AuthUser, Authenticator};
use crate::kit::client::{ClientAddr, TrustedProxies};
use crate::kit::clock::Clock;
use crate::kit::config::PublicUrl;
use crate::kit::db::Db;
use crate::kit::error::{ApiError, ApiResult};
use crate::kit::ids::{MessageId, UserId};
use crate::kit::json::{ApiJson, ApiPath, ApiQuery};
use crate::kit::keys::Keys;
use crate::pixel::{self, Pipeline, PixelId};
use crate::privacy::PrivacyState;

/// What registration needs: the database and clock, the pixel's token key and network
/// keys, the public URL the links are made from, and the recipients' objections.
#[derive(Clone)]
pub struct MessagesState {
    db: Db,
    clock: Clock,
    keys: Arc<Keys>,
    public_url: PublicUrl,
    pixel: Pipeline,
    privacy: PrivacyState,
}

impl MessagesState {
    pub fn new(
        db: Db,
        clock: Clock,
        keys: Arc<Keys>,
        public_url: PublicUrl,
        pixel: Pipeline,
        privacy: PrivacyState,
    ) -> MessagesState {
        MessagesState {
            db,
            clock,
            keys,
            public_url,
            pixel,
            privacy,
        }
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    pub fn keys(&self) -> &Keys {
        &self.keys
    }

    pub fn public_url(&self) -> &str {
        self.public_url.as_str()
    }

    pub fn pixel(&self) -> &Pipeline {
        &self.pixel
    }
}

pub fn router<S>() -> OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    MessagesState: FromRef<S>,
    Authenticator: FromRef<S>,
    TrustedProxies: FromRef<S>,
{
    OpenApiRouter::new()
        .routes(routes!(register, list))
        .routes(routes!(show))
        .routes(routes!(simulation::simulation))
}

/// A recipient as check-v1 takes it, for the API document only (the core's `Recipient`
/// parses): `"addr"`, `"Name <addr>"` or `{"address": ..., "name": ...}`.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = Recipient)]
#[allow(dead_code)]
pub enum RecipientSchema {
    Text(String),
    Structured {
        address: String,
        name: Option<String>,
    },
}

/// What the add-in registers.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RegisterMessage {
    /// Recipients as check-v1 takes them.
    #[serde(default)]
    #[schema(value_type = Vec<RecipientSchema>)]
    pub to: Vec<Recipient>,
    #[serde(default)]
    #[schema(value_type = Vec<RecipientSchema>)]
    pub cc: Vec<Recipient>,
    #[serde(default)]
    #[schema(value_type = Vec<RecipientSchema>)]
    pub bcc: Vec<Recipient>,
    #[serde(default)]
    pub subject: String,
    /// The send-time check's findings.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub findings: Vec<Finding>,
    /// The sender sent despite a warning.
    #[serde(default)]
    pub overridden: bool,
    /// The check's sensitive-data counts (kinds only, never the values).
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub sensitive: Vec<SensitiveCount>,
    /// Whether the message has attachments.
    #[serde(default)]
    pub has_attachments: bool,
    /// Ask for tracking; granted only when the policy allows tracking this message at all.
    #[serde(default)]
    pub track: Option<bool>,
    /// Language of `track_reason`.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub lang: Option<Lang>,
}

/// The longest subject registered, in bytes.
const MAX_SUBJECT_BYTES: usize = 2_000;

/// A registration that has passed the boundary: at least one recipient, every one an
/// address the core's parser accepts, a subject of bounded length. Inside, a message
/// cannot lack these.
#[derive(Debug)]
pub struct NewMessage {
    /// Every recipient (to, cc, bcc), parsed.
    pub recipients: Vec<Address>,
    /// The body as the add-in sent it (stored as given).
    pub body: RegisterMessage,
}

impl TryFrom<RegisterMessage> for NewMessage {
    type Error = ApiError;

    fn try_from(body: RegisterMessage) -> Result<NewMessage, ApiError> {
        let mut recipients = Vec::new();
        for (field, list) in [("to", &body.to), ("cc", &body.cc), ("bcc", &body.bcc)] {
            for (i, recipient) in list.iter().enumerate() {
                let address = parse_recipient(recipient)
                    .map_err(|e| ApiError::BadRequest(format!("{field}[{i}]: {e}")))?;
                recipients.push(address);
            }
        }
        if recipients.is_empty() {
            return Err(ApiError::BadRequest(
                "a message needs at least one recipient".into(),
            ));
        }
        if body.subject.len() > MAX_SUBJECT_BYTES {
            return Err(ApiError::BadRequest(format!(
                "subject: longer than {MAX_SUBJECT_BYTES} bytes"
            )));
        }
        Ok(NewMessage { recipients, body })
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Registered {
    pub id: String,
    pub track: bool,
    pub track_reason: String,
    /// Present when tracked: the pixel to insert, always with the disclosure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pixel_url: Option<String>,
    /// The recipients' transparency page, linked from the disclosure.
    pub info_url: String,
}

/// Registers a message about to be sent.
#[utoipa::path(post, path = "/api/v1/messages", tag = "messages", request_body = RegisterMessage,
    security(("bearer" = [])),
    responses((status = 201, body = Registered), (status = 400, description = "Invalid recipients"), (status = 401, description = "Not authenticated")))]
pub async fn register(
    State(state): State<MessagesState>,
    user: AuthUser,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<RegisterMessage>,
) -> ApiResult<(StatusCode, Json<Registered>)> {
    let message = NewMessage::try_from(body)?;
    let recipients = &message.recipients;
    let tenant = tenant_by_id(state.db(), &user.tenant_id)
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .ok_or(ApiError::NotFound("tenant"))?;
    let sender = leakwatch_core::address::parse_addr_spec(&user.email).ok();
    let domains = Domains::from_policy(&tenant.policy).with_sender(sender.as_ref());
    let outside: Vec<&Address> = recipients
        .iter()
        .filter(|a| domains.relation(a) != Relation::Internal)
        .collect();
    // Sending despite a warning is overriding it, whatever the flag says.
    let warned = message.body.overridden
        || message
            .body
            .findings
            .iter()
            .any(|f| f.severity >= Severity::Warn);
    let blocked = message
        .body
        .findings
        .iter()
        .any(|f| f.severity == Severity::Block);
    let input = TrackingInput {
        outside: &outside,
        warned,
        blocked,
        sensitive: &message.body.sensitive,
        has_attachments: message.body.has_attachments,
    };
    let lang = message.body.lang.unwrap_or_default();
    let policy = &tenant.policy.tracking;
    let (track, track_reason) = match message.body.track {
        Some(true) => match refusal(policy, lang, &input) {
            Some(reason) => (false, reason),
            None => (
                true,
                lang.pick(
                    "Tracked at the sender's request.",
                    "Gevolgd op verzoek van de afzender.",
                )
                .to_string(),
            ),
        },
        Some(false) => (
            false,
            lang.pick(
                "Not tracked at the sender's request.",
                "Niet gevolgd op verzoek van de afzender.",
            )
            .to_string(),
        ),
        None => decide(policy, lang, &input),
    };
    // A recipient who objected (GDPR Art. 21) gets the disclosure, never the pixel.
    let (track, track_reason) = crate::privacy::unless_objected(
        &state.privacy,
        &user.tenant_id,
        recipients,
        lang,
        (track, track_reason),
    )
    .await?;

    let id = MessageId::random();
    let pixel_id = track.then(PixelId::random);
    let created_at = state.clock().now_ms();
    // The registering client's network, so that the sender's own view of the pixel right
    // after sending is recognised (a keyed daily hash, as for fetches; tracked mail only).
    let sender_network = match client {
        Some(ip) if track => Some(
            state
                .pixel()
                .network_keys()
                .hash(state.db(), ip, created_at)
                .await?,
        ),
        _ => None,
    };
    let recipients_json =
        serde_json::json!({"to": message.body.to, "cc": message.body.cc, "bcc": message.body.bcc});
    sqlx::query(
        "INSERT INTO messages (id, tenant_id, sender_id, pixel_id, tracked, track_reason, subject, recipients, findings, overridden, sender_network, created_at, sensitive, has_attachments, lang) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(&id)
    .bind(&user.tenant_id)
    .bind(&user.user_id)
    .bind(pixel_id.map(PixelId::to_text))
    .bind(i64::from(track))
    .bind(&track_reason)
    .bind(&message.body.subject)
    .bind(recipients_json.to_string())
    .bind(serde_json::to_string(&message.body.findings).map_err(anyhow::Error::from)?)
    .bind(i64::from(message.body.overridden))
    .bind(sender_network)
    .bind(created_at)
    .bind(serde_json::to_string(&message.body.sensitive).map_err(anyhow::Error::from)?)
    .bind(i64::from(message.body.has_attachments))
    .bind(lang.code())
    .execute(&state.db().pool)
    .await?;

    let pixel_url = pixel_id.map(|p| {
        format!(
            "{}/p/{}",
            state.public_url(),
            pixel::issue_token(&state.keys().pixel.secret, p)
        )
    });
    // The notice is in the message's language; its link opens the page in that language
    // (a reader's browser may not ask for it).
    let info_url = match message.body.lang {
        Some(lang) => format!("{}/i/{}?lang={}", state.public_url(), id, lang.code()),
        None => format!("{}/i/{}", state.public_url(), id),
    };
    metrics::counter!("leakwatch_messages_registered_total", "tracked" => track.to_string())
        .increment(1);
    Ok((
        StatusCode::CREATED,
        Json(Registered {
            id: id.into_string(),
            track,
            track_reason,
            pixel_url,
            info_url,
        }),
    ))
}

/// A registered message as its sender sees it: whether it is tracked, never its fetches
/// (those are shown only through an incident).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    pub id: String,
    pub subject: String,
    pub track: bool,
    pub track_reason: String,
    #[schema(value_type = Object)]
    pub recipients: serde_json::Value,
    pub overridden: bool,
    pub created_at: i64,
    /// The incident opened for this message, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<String>,
}

fn view_from_row(row: &sqlx::any::AnyRow) -> Result<MessageView, sqlx::Error> {
    let recipients: String = row.try_get("recipients")?;
    Ok(MessageView {
        id: row.try_get("id")?,
        subject: row.try_get("subject")?,
        track: row.try_get::<i64, _>("tracked")? != 0,
        track_reason: row.try_get("track_reason")?,
        recipients: serde_json::from_str(&recipients).unwrap_or_default(),
        overridden: row.try_get::<i64, _>("overridden")? != 0,
        created_at: row.try_get("created_at")?,
        incident_id: row.try_get("incident_id")?,
    })
}

const VIEW_SQL: &str = "SELECT m.id, m.sender_id, m.subject, m.tracked, m.track_reason, m.recipients, m.overridden, m.created_at, \
     (SELECT i.id FROM incidents i WHERE i.message_id = m.id ORDER BY i.created_at LIMIT 1) AS incident_id FROM messages m";

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// At most this many (default 50, at most 500).
    pub limit: Option<i64>,
    /// Only messages registered before this time (Unix ms), for the next page.
    pub before: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageList {
    pub messages: Vec<MessageView>,
}

/// The caller's own messages, newest first (whether each is tracked, never its fetches).
#[utoipa::path(get, path = "/api/v1/messages", tag = "messages", security(("bearer" = [])),
    params(ListQuery),
    responses((status = 200, body = MessageList), (status = 401, description = "Not authenticated")))]
pub async fn list(
    State(state): State<MessagesState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Json<MessageList>> {
    let rows = sqlx::query(&format!(
        "{VIEW_SQL} WHERE m.tenant_id = $1 AND m.sender_id = $2 AND m.created_at < $3 ORDER BY m.created_at DESC LIMIT $4"
    ))
    .bind(&user.tenant_id)
    .bind(&user.user_id)
    .bind(q.before.unwrap_or(i64::MAX))
    .bind(q.limit.unwrap_or(50).clamp(1, 500))
    .fetch_all(&state.db().pool)
    .await?;
    let messages = rows
        .iter()
        .map(view_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Json(MessageList { messages }))
}

/// One of the caller's own messages (admins: any message of their tenant).
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages", security(("bearer" = [])),
    params(("id" = String, Path, description = "Message id")),
    responses((status = 200, body = MessageView), (status = 404, description = "No such message for this user")))]
pub async fn show(
    State(state): State<MessagesState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MessageView>> {
    let row = sqlx::query(&format!("{VIEW_SQL} WHERE m.id = $1 AND m.tenant_id = $2"))
        .bind(&id)
        .bind(&user.tenant_id)
        .fetch_optional(&state.db().pool)
        .await?
        .ok_or(ApiError::NotFound("message"))?;
    let sender: UserId = row.try_get("sender_id")?;
    if !user.may_see(&sender) {
        return Err(ApiError::NotFound("message"));
    }
    Ok(Json(view_from_row(&row)?))
}
