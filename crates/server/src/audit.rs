//! The audit log: who did what, when, to which object. Every view of fetch evidence (which
//! exists only through incidents) and every change of policy, users or incident decisions
//! is recorded here, so a tenant's data protection officer can show that tracking data was
//! only looked at for leak handling. Entries are never updated; retention leaves them alone.

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};
use utoipa::ToSchema;

use crate::auth::AuthUser;

/// What was done. Stored as its snake_case name; new actions may be added, never renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Fetch evidence of an incident was shown (incident view, notification draft, export).
    EvidenceViewed,
    IncidentOpened,
    IncidentUpdated,
    NotificationEdited,
    PolicyChanged,
    AlertSettingsChanged,
    UserAdded,
    UserChanged,
    OidcChanged,
    AuditExported,
    /// A tenant-wide alert stream was opened by an admin.
    AlertStreamOpened,
    /// The tenant's retention periods or record-of-processing details were changed.
    PrivacySettingsChanged,
    /// A recipient confirmed an objection (GDPR Art. 21); the detail never holds the address.
    ObjectionConfirmed,
    /// The retention job deleted records past their period (the detail has the counts).
    RetentionApplied,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::EvidenceViewed => "evidence_viewed",
            Action::IncidentOpened => "incident_opened",
            Action::IncidentUpdated => "incident_updated",
            Action::NotificationEdited => "notification_edited",
            Action::PolicyChanged => "policy_changed",
            Action::AlertSettingsChanged => "alert_settings_changed",
            Action::UserAdded => "user_added",
            Action::UserChanged => "user_changed",
            Action::OidcChanged => "oidc_changed",
            Action::AuditExported => "audit_exported",
            Action::AlertStreamOpened => "alert_stream_opened",
            Action::PrivacySettingsChanged => "privacy_settings_changed",
            Action::ObjectionConfirmed => "objection_confirmed",
            Action::RetentionApplied => "retention_applied",
        }
    }
}

/// Who acted: a signed-in user, or the system itself (command line, scheduled jobs).
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<String>,
    pub label: String,
}

impl Actor {
    pub fn user(user: &AuthUser) -> Actor {
        Actor {
            user_id: Some(user.user_id.clone()),
            label: user.email.clone(),
        }
    }

    /// The command line or a job, named (`cli`, `retention`, ...).
    pub fn system(label: &str) -> Actor {
        Actor {
            user_id: None,
            label: label.to_string(),
        }
    }
}

/// Appends one entry. Takes any executor, so an entry can share the transaction of the
/// change it records (then both are kept or neither is).
pub async fn record<'e, E>(
    executor: E,
    tenant_id: &str,
    actor: &Actor,
    action: Action,
    target: (&str, &str),
    detail: serde_json::Value,
    at_ms: i64,
) -> Result<(), sqlx::Error>
where
    E: Executor<'e, Database = Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (tenant_id, at, actor_id, actor, action, target_type, target_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(tenant_id)
    .bind(at_ms)
    .bind(actor.user_id.as_deref())
    .bind(&actor.label)
    .bind(action.as_str())
    .bind(target.0)
    .bind(target.1)
    .bind(detail.to_string())
    .execute(executor)
    .await?;
    Ok(())
}

/// One entry as admins see and export it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Entry {
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    #[schema(value_type = Object)]
    pub detail: serde_json::Value,
}

impl Entry {
    fn from_row(row: &AnyRow) -> Result<Entry, sqlx::Error> {
        let detail: String = row.try_get("detail")?;
        Ok(Entry {
            seq: row.try_get("seq")?,
            at: row.try_get("at")?,
            actor_id: row.try_get("actor_id")?,
            actor: row.try_get("actor")?,
            action: row.try_get("action")?,
            target_type: row.try_get("target_type")?,
            target_id: row.try_get("target_id")?,
            detail: serde_json::from_str(&detail).unwrap_or(serde_json::Value::Null),
        })
    }
}

/// A filter on the log; every field optional.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Query {
    /// Only entries with `seq` greater than this (paging forward).
    pub after: Option<i64>,
    pub since_ms: Option<i64>,
    pub until_ms: Option<i64>,
    pub action: Option<String>,
    pub target_id: Option<String>,
    pub limit: Option<i64>,
}

/// A tenant's entries, oldest first.
pub async fn list(
    db: &crate::db::Db,
    tenant_id: &str,
    q: &Query,
) -> Result<Vec<Entry>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT seq, at, actor_id, actor, action, target_type, target_id, detail FROM audit_log \
         WHERE tenant_id = $1 AND seq > $2 AND at >= $3 AND at <= $4 \
           AND ($5 = '' OR action = $5) AND ($6 = '' OR target_id = $6) \
         ORDER BY seq LIMIT $7",
    )
    .bind(tenant_id)
    .bind(q.after.unwrap_or(0))
    .bind(q.since_ms.unwrap_or(0))
    .bind(q.until_ms.unwrap_or(i64::MAX))
    .bind(q.action.clone().unwrap_or_default())
    .bind(q.target_id.clone().unwrap_or_default())
    .bind(q.limit.unwrap_or(1_000).clamp(1, 100_000))
    .fetch_all(&db.pool)
    .await?;
    rows.iter().map(Entry::from_row).collect()
}
