//! The audit log: who did what, when, to which object. Every view of fetch evidence (which
//! exists only through incidents) and every change of policy, users or incident decisions
//! is recorded here, so a tenant's data protection officer can show that tracking data was
//! only looked at for leak handling. Entries are never updated; retention leaves them alone.
//!
//! Every feature writes entries, so writing ([`crate::kit::audit`]) is in the kit; this
//! feature is the reading side: the admins' list and CSV export.

pub mod http;

use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;
use utoipa::ToSchema;

use crate::kit::db::Db;
use crate::kit::ids::TenantId;

pub use http::AuditPage;

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
    /// What changed, as the action records it; null when it records nothing more.
    #[schema(value_type = Option<Object>)]
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
pub async fn list(db: &Db, tenant_id: &TenantId, q: &Query) -> Result<Vec<Entry>, sqlx::Error> {
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
