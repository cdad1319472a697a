//! Recording pixel fetches: handlers put hits on a bounded queue; one writer task takes
//! whatever is queued (up to `batch_max`, never waiting for more) and commits it in one
//! transaction; each handler answers its GIF once the writer says its hit is committed, so
//! an answered fetch is never lost. When the database fails or is slow, the handler answers
//! anyway (a recipient's mail must never show a broken image) and the loss is counted.
//!
//! One commit per batch:
//! 1. pixel ids are resolved to messages (cached; a pixel id is fixed for its message's life),
//!    hits of unknown, deleted or untracked messages are dropped, and fetches from the sender's own
//!    network right after registering are re-classed `self_view` (`plan.rs`);
//! 2. hits are aggregated per (message, class) and upserted in key order, each returning its
//!    running count (`INSERT ... SELECT ... JOIN messages ... ON CONFLICT DO UPDATE ...
//!    RETURNING hits`); the join drops a message deleted or untracked (its recipients
//!    objected) meanwhile, whatever the cache says; the running count tells which of the
//!    batch's hits are among the first `detail_cap_per_class` of their class, and only those
//!    get a detail row in `pixel_hits` (a flood only increments `pixel_counts.hits`). The
//!    running count comes from the row itself under its row lock, so the cap and the counts
//!    stay exact with several servers on one PostgreSQL; key order means two servers' batches
//!    lock shared rows in the same order (`commit.rs`).
//!
//! How a batch reaches the database is each backend's own: SQLite's writer is a thread with
//! its own connection and cached statements, one transaction per batch, one hop there and
//! back (`sqlite.rs`); PostgreSQL's is one statement over arrays, committed on its own
//! (`postgres.rs`). With PostgreSQL the writer has up to four batches in flight, on four
//! connections: the next is sent while earlier ones' commits are being flushed, unless it
//! writes a row one of them writes (it would only wait for the row lock): then it waits and
//! takes in everything queued meanwhile, so a flood on one token makes few, big commits
//! (`schedule.rs`). SQLite has one writer anyway, so one batch at a time, with checkpoints
//! on a thread beside it (`sqlite.rs`).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use metrics::{Counter, Gauge, Histogram};
use sqlx::any::AnyArguments;
use sqlx::{Any, Row};
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::{JoinHandle, JoinSet};

use super::classify::{Agent, Class};
use super::feed::CommitFeed;
use super::network::{day_of, DayKey, NetPrefix, NetworkKeys};
use super::token::{PixelId, Verifier};
use crate::kit::config::Config;
use crate::kit::db::{Backend, Db};
use crate::kit::keys::Keys;

mod commit;
mod instruments;
mod plan;
mod postgres;
mod schedule;
mod sql;
mod sqlite;

use commit::*;
use instruments::*;
use postgres::*;
use schedule::*;
use sql::*;
use sqlite::*;

/// One pixel fetch, classified when it arrived.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub pixel: PixelId,
    /// Unix milliseconds.
    pub at: i64,
    pub class: Class,
    pub agent: Agent,
    /// The client's network; hashed by the writer with the day's key, never stored as is.
    pub net: Option<NetPrefix>,
}

/// What became of a hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Committed: counted, and kept in detail when under the cap.
    Committed,
    /// Its pixel id belongs to no (longer existing) message: nothing to record.
    Dropped,
    /// The commit failed.
    Failed,
    /// Not committed within `commit_timeout_ms`; it may still be.
    TimedOut,
    /// The pipeline has stopped.
    NotRunning,
}

struct Queued {
    hit: Hit,
    reply: oneshot::Sender<Outcome>,
}

/// The recording pipeline; a cheap handle shared by the handlers.
#[derive(Clone)]
pub struct Pipeline(Arc<Shared>);

struct Shared {
    tx: mpsc::Sender<Queued>,
    accepting: AtomicBool,
    alive: Arc<AtomicBool>,
    stop: Arc<Notify>,
    writer: tokio::sync::Mutex<Option<JoinHandle<()>>>,
    verifier: Verifier,
    network_keys: Arc<NetworkKeys>,
    own_networks: Vec<ipnet::IpNet>,
    trusted_proxies: Vec<ipnet::IpNet>,
    commit_timeout: Duration,
    timed_out: Counter,
    not_running: Counter,
}

impl Pipeline {
    /// Starts the writer. Install the metrics recorder before, so the handles are live.
    /// Committed messages are pushed into `feed` for the alert evaluator.
    pub async fn start(
        db: Db,
        config: &Config,
        keys: &Keys,
        feed: Option<CommitFeed>,
    ) -> anyhow::Result<Pipeline> {
        let pixel = &config.pixel;
        anyhow::ensure!(
            pixel.queue_capacity > 0,
            "pixel.queue_capacity must be at least 1"
        );
        anyhow::ensure!(pixel.batch_max > 0, "pixel.batch_max must be at least 1");
        anyhow::ensure!(
            pixel.detail_cap_per_class >= 0,
            "pixel.detail_cap_per_class must not be negative"
        );
        describe_metrics();
        let (tx, rx) = mpsc::channel(pixel.queue_capacity);
        let alive = Arc::new(AtomicBool::new(true));
        let stop = Arc::new(Notify::new());
        let network_keys = Arc::new(NetworkKeys::default());
        let cap = pixel.detail_cap_per_class;
        let store = match (db.backend, &db.sqlite_file) {
            (Backend::Sqlite, Some(file)) => {
                Store::Sqlite(SqliteWriter::open(file, cap, alive.clone())?)
            }
            (Backend::Sqlite, None) => {
                anyhow::bail!("the pixel writer needs a SQLite database file, not one in memory")
            }
            (Backend::Postgres, _) => {
                Store::Postgres(PostgresBatch::new(cap, !pixel.synchronous_commit))
            }
        };
        let writer = Writer {
            depth: commits_in_flight(db.backend),
            ctx: Arc::new(Ctx {
                sql: Statements::new(),
                store,
                db,
                cap,
            }),
            rx,
            stop: stop.clone(),
            batch_max: pixel.batch_max,
            self_view_ms: pixel.self_view_seconds.saturating_mul(1000),
            network_keys: network_keys.clone(),
            messages: HashMap::new(),
            metrics: WriterMetrics::new(),
            spare: Vec::new(),
            busy: Vec::new(),
            feed,
            parked: Parked::default(),
            stopping: false,
        };
        let guard = AliveGuard(alive.clone());
        let handle = tokio::spawn(async move {
            let _guard = guard;
            writer.run().await;
        });
        Ok(Pipeline(Arc::new(Shared {
            tx,
            accepting: AtomicBool::new(true),
            alive,
            stop,
            writer: tokio::sync::Mutex::new(Some(handle)),
            verifier: Verifier::new(&keys.pixel.secret),
            network_keys,
            own_networks: pixel.own_networks.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
            commit_timeout: Duration::from_millis(pixel.commit_timeout_ms),
            timed_out: metrics::counter!("leakwatch_pixel_unconfirmed_total", "reason" => "timeout"),
            not_running: metrics::counter!("leakwatch_pixel_unconfirmed_total", "reason" => "not_running"),
        })))
    }

    /// Records a hit; resolves when it is committed, or when it cannot be (failure,
    /// timeout, shutdown). Never fails: the caller answers the GIF whatever happens.
    pub async fn record(&self, hit: Hit) -> Outcome {
        let shared = &*self.0;
        if !shared.accepting.load(Ordering::Acquire) {
            shared.not_running.increment(1);
            return Outcome::NotRunning;
        }
        let (reply, answer) = oneshot::channel();
        let queued = Queued { hit, reply };
        let outcome = tokio::time::timeout(shared.commit_timeout, async move {
            if shared.tx.send(queued).await.is_err() {
                return Outcome::NotRunning;
            }
            answer.await.unwrap_or(Outcome::NotRunning)
        })
        .await
        .unwrap_or(Outcome::TimedOut);
        match outcome {
            Outcome::TimedOut => shared.timed_out.increment(1),
            Outcome::NotRunning => shared.not_running.increment(1),
            _ => {}
        }
        outcome
    }

    /// Stops accepting hits, commits everything already queued, and returns when done.
    pub async fn shutdown(&self) {
        self.0.accepting.store(false, Ordering::Release);
        self.0.stop.notify_one();
        let handle = self.0.writer.lock().await.take();
        if let Some(handle) = handle {
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "the pixel writer ended abnormally");
            }
        }
    }

    /// Accepting and committing hits.
    pub fn is_running(&self) -> bool {
        self.0.accepting.load(Ordering::Acquire) && self.0.alive.load(Ordering::Acquire)
    }

    pub fn verifier(&self) -> &Verifier {
        &self.0.verifier
    }

    pub fn network_keys(&self) -> &NetworkKeys {
        &self.0.network_keys
    }

    pub fn own_networks(&self) -> &[ipnet::IpNet] {
        &self.0.own_networks
    }

    pub fn trusted_proxies(&self) -> &[ipnet::IpNet] {
        &self.0.trusted_proxies
    }
}

/// Marks the writer dead when its task ends, however it ends.
struct AliveGuard(Arc<AtomicBool>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholder_lists() {
        assert_eq!(placeholders(3, 1), "$1, $2, $3");
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
