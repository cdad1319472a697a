//! Retention: what is past its tenant's period is deleted, by a job every server starts
//! (`privacy.retention_interval_seconds`, first run at start) and [`run_retention`].
//!
//! Per tenant, with "now" from [`crate::kit::clock::Clock`]:
//! 1. incidents whose last change (creation, update, decision, notification) is older than
//!    `register_retention_days` go, with their alerts and the alerts' outbox rows (children
//!    first: `outbox.alert_seq` -> `alerts.incident_id` -> `incidents`);
//! 2. messages older than `retention_days` that no incident refers to go, with their
//!    fetch records (`pixel_hits`, `pixel_counts` -> `messages`). A message of an incident
//!    deleted in step 1 is such a message now (the register period is never shorter).
//!
//! Then expired objection requests go. Every delete repeats its conditions in the statement
//! itself, in one transaction per chunk, so an incident opened or a fetch recorded meanwhile
//! is never lost: either the statement sees it and keeps the rows, or the foreign key makes
//! the transaction fail, it is rolled back, and the chunk waits for the next run.
//!
//! Several servers: a lease row (`job_leases`) lets one run at a time; the others skip.
//! Were two to run at once anyway (an expired lease), each deletes what it finds still
//! there, and the counts add up. Each tenant that lost rows gets a system audit entry with
//! the counts. The audit log itself is never deleted here.

use std::time::Duration;

use serde::Serialize;
use sqlx::Row;
use tokio::task::JoinHandle;

use super::settings::PrivacySettings;
use super::PrivacyState;
use crate::kit::audit::{self, Action, Actor};
use crate::kit::db::{Backend, Db};
use crate::kit::ids::random_id;
use crate::kit::ids::TenantId;
use crate::kit::time::now_ms;

const DAY_MS: i64 = 86_400_000;
/// Rows selected and deleted per transaction: short transactions, so the pixel writer (on
/// SQLite, the one writer lock) waits little.
const CHUNK: usize = 500;
/// How long a run may hold the lease (system time; renewed per tenant) before another
/// server may take over.
const LEASE_MS: i64 = 10 * 60 * 1000;
const LEASE: &str = "retention";

/// Rows deleted, by table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub messages: u64,
    pub pixel_counts: u64,
    pub pixel_hits: u64,
    pub incidents: u64,
    pub alerts: u64,
    pub outbox: u64,
}

impl Counts {
    pub fn is_zero(&self) -> bool {
        *self == Counts::default()
    }

    fn add(&mut self, other: &Counts) {
        self.messages += other.messages;
        self.pixel_counts += other.pixel_counts;
        self.pixel_hits += other.pixel_hits;
        self.incidents += other.incidents;
        self.alerts += other.alerts;
        self.outbox += other.outbox;
    }
}

/// One tenant's part of a run.
#[derive(Debug, Clone, Serialize)]
pub struct TenantReport {
    pub tenant_id: String,
    pub retention_days: i64,
    pub register_retention_days: i64,
    pub deleted: Counts,
}

/// What a run did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RetentionReport {
    /// False when another server held the lease (nothing was done).
    pub ran: bool,
    /// "Now" of the run (Unix milliseconds).
    pub at: i64,
    pub tenants: Vec<TenantReport>,
    /// All tenants together.
    pub total: Counts,
    pub objection_requests: u64,
    /// Rows left for the next run because a transaction failed (a conflict with a fetch or
    /// an incident being recorded at that moment).
    pub deferred: u64,
}

/// Deletes what is past its period, now.
pub async fn run_retention(state: &PrivacyState) -> anyhow::Result<RetentionReport> {
    let db = state.db();
    let now = state.clock().now_ms();
    let holder = random_id();
    let mut report = RetentionReport {
        at: now,
        ..RetentionReport::default()
    };
    if !take_lease(db, &holder).await? {
        tracing::debug!("retention: another server is running it");
        return Ok(report);
    }
    report.ran = true;
    let result = run(state, now, &holder, &mut report).await;
    if let Err(e) = release_lease(db, &holder).await {
        tracing::warn!(error = %e, "retention: cannot release the lease");
    }
    result?;
    if report.total.is_zero() && report.objection_requests == 0 {
        tracing::debug!("retention: nothing to delete");
    } else {
        let t = &report.total;
        tracing::info!(
            messages = t.messages,
            pixel_counts = t.pixel_counts,
            pixel_hits = t.pixel_hits,
            incidents = t.incidents,
            alerts = t.alerts,
            outbox = t.outbox,
            objection_requests = report.objection_requests,
            deferred = report.deferred,
            "retention: deleted records past their period"
        );
    }
    Ok(report)
}

async fn run(
    state: &PrivacyState,
    now: i64,
    holder: &str,
    report: &mut RetentionReport,
) -> anyhow::Result<()> {
    let db = state.db();
    let tenants = sqlx::query("SELECT id, privacy FROM tenants ORDER BY id")
        .fetch_all(&db.pool)
        .await?;
    for row in tenants {
        let tenant_id: TenantId = row.try_get("id")?;
        let privacy: Option<String> = row.try_get("privacy")?;
        let settings = PrivacySettings::from_column(privacy.as_deref());
        renew_lease(db, holder).await?;
        let mut deleted = Counts::default();
        let register_cutoff = now - settings.register_retention_days * DAY_MS;
        let cutoff = now - settings.retention_days * DAY_MS;
        report.deferred +=
            delete_incidents(db, tenant_id.as_str(), register_cutoff, &mut deleted).await;
        report.deferred += delete_messages(db, tenant_id.as_str(), cutoff, &mut deleted).await;
        if !deleted.is_zero() {
            audit::record(
                &db.pool,
                &tenant_id,
                &Actor::system("retention"),
                Action::RetentionApplied,
                ("tenant", tenant_id.as_str()),
                serde_json::json!({
                    "deleted": deleted,
                    "retention_days": settings.retention_days,
                    "register_retention_days": settings.register_retention_days,
                    "messages_before": crate::kit::time::rfc3339(cutoff),
                    "incidents_before": crate::kit::time::rfc3339(register_cutoff),
                }),
                now,
            )
            .await?;
        }
        report.total.add(&deleted);
        report.tenants.push(TenantReport {
            tenant_id: tenant_id.into_string(),
            retention_days: settings.retention_days,
            register_retention_days: settings.register_retention_days,
            deleted,
        });
    }
    report.objection_requests = sqlx::query("DELETE FROM objection_requests WHERE expires_at < $1")
        .bind(now)
        .execute(&db.pool)
        .await?
        .rows_affected();
    Ok(())
}

/// `$start, $start+1, ...` for `n` parameters.
fn params(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// An incident's last change, per backend.
fn last_change(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            "MAX(created_at, updated_at, COALESCE(decided_at, 0), COALESCE(notified_at, 0))"
        }
        Backend::Postgres => {
            "GREATEST(created_at, updated_at, COALESCE(decided_at, 0), COALESCE(notified_at, 0))"
        }
    }
}

/// Deletes the tenant's incidents past the register period, chunk by chunk. Returns the
/// rows left for the next run.
async fn delete_incidents(db: &Db, tenant_id: &str, cutoff: i64, deleted: &mut Counts) -> u64 {
    let last = last_change(db.backend);
    loop {
        let ids: Vec<String> = match sqlx::query_scalar(&format!(
            "SELECT id FROM incidents WHERE tenant_id = $1 AND {last} < $2 ORDER BY id LIMIT {CHUNK}"
        ))
        .bind(tenant_id)
        .bind(cutoff)
        .fetch_all(&db.pool)
        .await
        {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "retention: cannot list old incidents");
                return 0;
            }
        };
        if ids.is_empty() {
            return 0;
        }
        // Only incidents still past the period when the statement runs.
        let still = format!(
            "SELECT id FROM incidents WHERE id IN ({}) AND {last} < $1",
            params(2, ids.len())
        );
        let statements = [
            format!(
                "DELETE FROM outbox WHERE alert_seq IN (SELECT seq FROM alerts WHERE incident_id IN ({still}))"
            ),
            format!("DELETE FROM alerts WHERE incident_id IN ({still})"),
            format!("DELETE FROM incidents WHERE id IN ({still})"),
        ];
        match delete_chunk(db, &statements, cutoff, &ids).await {
            Ok([outbox, alerts, incidents]) => {
                deleted.outbox += outbox;
                deleted.alerts += alerts;
                deleted.incidents += incidents;
                if incidents == 0 {
                    return 0;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "retention: old incidents left for the next run");
                return ids.len() as u64;
            }
        }
    }
}

/// Deletes the tenant's messages past the retention period that no incident refers to, with
/// their fetch records. Returns the rows left for the next run.
async fn delete_messages(db: &Db, tenant_id: &str, cutoff: i64, deleted: &mut Counts) -> u64 {
    loop {
        let ids: Vec<String> = match sqlx::query_scalar(&format!(
            "SELECT id FROM messages m WHERE tenant_id = $1 AND created_at < $2 \
             AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.message_id = m.id) ORDER BY id LIMIT {CHUNK}"
        ))
        .bind(tenant_id)
        .bind(cutoff)
        .fetch_all(&db.pool)
        .await
        {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "retention: cannot list old messages");
                return 0;
            }
        };
        if ids.is_empty() {
            return 0;
        }
        let still = format!(
            "SELECT id FROM messages m WHERE id IN ({}) AND created_at < $1 \
             AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.message_id = m.id)",
            params(2, ids.len())
        );
        let statements = [
            format!("DELETE FROM pixel_hits WHERE message_id IN ({still})"),
            format!("DELETE FROM pixel_counts WHERE message_id IN ({still})"),
            format!("DELETE FROM messages WHERE id IN ({still})"),
        ];
        // A fetch committed between the deletes makes the last one fail on its foreign
        // key; once more, then the chunk waits for the next run.
        let mut result = delete_chunk(db, &statements, cutoff, &ids).await;
        if result.is_err() {
            result = delete_chunk(db, &statements, cutoff, &ids).await;
        }
        match result {
            Ok([hits, counts, messages]) => {
                deleted.pixel_hits += hits;
                deleted.pixel_counts += counts;
                deleted.messages += messages;
                if messages == 0 {
                    return 0;
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "retention: old messages left for the next run");
                return ids.len() as u64;
            }
        }
    }
}

/// Runs three deletes (each bound to `cutoff` then `ids`) in one transaction.
async fn delete_chunk(
    db: &Db,
    statements: &[String; 3],
    cutoff: i64,
    ids: &[String],
) -> Result<[u64; 3], sqlx::Error> {
    let mut tx = db.pool.begin().await?;
    let mut counts = [0u64; 3];
    for (sql, count) in statements.iter().zip(counts.iter_mut()) {
        let mut query = sqlx::query(sql).bind(cutoff);
        for id in ids {
            query = query.bind(id);
        }
        *count = query.execute(&mut *tx).await?.rows_affected();
    }
    tx.commit().await?;
    Ok(counts)
}

async fn take_lease(db: &Db, holder: &str) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let taken = sqlx::query(
        "INSERT INTO job_leases (name, holder, until) VALUES ($1, $2, $3) \
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, until = excluded.until \
         WHERE job_leases.until < $4",
    )
    .bind(LEASE)
    .bind(holder)
    .bind(now + LEASE_MS)
    .bind(now)
    .execute(&db.pool)
    .await?;
    Ok(taken.rows_affected() == 1)
}

async fn renew_lease(db: &Db, holder: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE job_leases SET until = $1 WHERE name = $2 AND holder = $3")
        .bind(now_ms() + LEASE_MS)
        .bind(LEASE)
        .bind(holder)
        .execute(&db.pool)
        .await?;
    Ok(())
}

async fn release_lease(db: &Db, holder: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE job_leases SET until = 0 WHERE name = $1 AND holder = $2")
        .bind(LEASE)
        .bind(holder)
        .execute(&db.pool)
        .await?;
    Ok(())
}

/// The scheduled job; stops when dropped.
pub struct Job(JoinHandle<()>);

impl Drop for Job {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the job: a run at once, then one every `privacy.retention_interval_seconds`
/// (none when that is 0).
pub fn start(state: &PrivacyState) -> Option<Job> {
    let seconds = state.settings().retention_interval_seconds;
    if seconds == 0 {
        return None;
    }
    let state = state.clone();
    Some(Job(tokio::spawn(async move {
        let mut interval = tokio::time::interval(Duration::from_secs(seconds));
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            interval.tick().await;
            if let Err(e) = run_retention(&state).await {
                tracing::warn!(error = %e, "retention run failed; next run in {seconds} s");
            }
        }
    })))
}
