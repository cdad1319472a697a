//! Recording pixel fetches: handlers put hits on a bounded queue; one writer task takes
//! whatever is queued (up to `batch_max`, never waiting for more) and commits it in one
//! transaction; each handler answers its GIF once the writer says its hit is committed, so
//! an answered fetch is never lost. When the database fails or is slow, the handler answers
//! anyway (a recipient's mail must never show a broken image) and the loss is counted.
//!
//! One transaction per batch:
//! 1. pixel ids are resolved to messages (cached; a pixel id is fixed for its message's life),
//!    hits of unknown, deleted or untracked messages are dropped, and fetches from the sender's own
//!    network right after registering are re-classed `self_view`;
//! 2. hits are aggregated per (message, class) and upserted with a multi-row
//!    `INSERT ... SELECT ... JOIN messages ... ON CONFLICT DO UPDATE ... RETURNING hits`;
//!    the join drops a message deleted or untracked (its recipients objected) meanwhile,
//!    whatever the cache says; the returned running count tells which
//!    of the batch's hits are among the first `detail_cap_per_class` of their class: only
//!    those get a detail row in `pixel_hits` (a flood only increments `pixel_counts.hits`).
//!    The running count comes from the row itself under its row lock, so the cap and the
//!    counts stay exact with several servers on one PostgreSQL. Rows are upserted in key
//!    order, so two servers' batches lock shared rows in the same order;
//! 3. detail rows, with a multi-row `INSERT`.
//!
//! A flood (every class of the batch known to be past its cap) is one upsert statement
//! without BEGIN/COMMIT around it. With PostgreSQL the writer has up to two batches in
//! flight, on two connections: the next is sent while the previous one's commit is being
//! flushed, unless it writes a row the previous one writes (it would only wait for the row
//! lock): then it waits and takes in everything queued meanwhile, so a flood on one token
//! makes few, big commits. SQLite has one writer anyway, so one batch at a time.
//!
//! Statements have power-of-two row counts (a batch is split into such chunks), so each
//! connection prepares a handful of statements once and reuses them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use metrics::{Counter, Gauge, Histogram};
use sqlx::any::{AnyArguments, AnyRow};
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
        let writer = Writer {
            depth: commits_in_flight(db.backend),
            ctx: Arc::new(Ctx {
                sql: Statements::new(db.backend, pixel.detail_cap_per_class),
                async_commit: db.backend == Backend::Postgres && !pixel.synchronous_commit,
                db,
                cap: pixel.detail_cap_per_class,
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

fn describe_metrics() {
    metrics::describe_counter!(
        "leakwatch_pixel_hits_total",
        "Pixel fetches committed, by class"
    );
    metrics::describe_counter!(
        "leakwatch_pixel_dropped_total",
        "Pixel fetches with a genuine token of a message that no longer exists"
    );
    metrics::describe_counter!(
        "leakwatch_pixel_commit_failures_total",
        "Batches of pixel hits whose commit failed"
    );
    metrics::describe_counter!(
        "leakwatch_pixel_unconfirmed_total",
        "Pixel fetches answered without a committed hit, by reason"
    );
    metrics::describe_histogram!("leakwatch_pixel_batch_size", "Pixel hits per commit");
    metrics::describe_histogram!(
        "leakwatch_pixel_commit_seconds",
        metrics::Unit::Seconds,
        "Time to commit a batch of pixel hits"
    );
    metrics::describe_gauge!(
        "leakwatch_pixel_queue_depth",
        "Pixel hits waiting for the writer"
    );
}

struct WriterMetrics {
    hits: [Counter; Class::ALL.len()],
    dropped: Counter,
    failed_commits: Counter,
    failed_hits: Counter,
    batch_size: Histogram,
    commit_seconds: Histogram,
    queue_depth: Gauge,
}

impl WriterMetrics {
    fn new() -> Self {
        WriterMetrics {
            hits: Class::ALL
                .map(|c| metrics::counter!("leakwatch_pixel_hits_total", "class" => c.as_str())),
            dropped: metrics::counter!("leakwatch_pixel_dropped_total"),
            failed_commits: metrics::counter!("leakwatch_pixel_commit_failures_total"),
            failed_hits: metrics::counter!("leakwatch_pixel_unconfirmed_total", "reason" => "commit_failed"),
            batch_size: metrics::histogram!("leakwatch_pixel_batch_size"),
            commit_seconds: metrics::histogram!("leakwatch_pixel_commit_seconds"),
            queue_depth: metrics::gauge!("leakwatch_pixel_queue_depth"),
        }
    }
}

/// The message behind a pixel id, as far as the writer needs it.
#[derive(Debug)]
struct Message {
    id: String,
    sender_network: Option<String>,
    created_at: i64,
    /// Classes known to be past the detail cap (bit per class): a flood on them needs no
    /// transaction. Learnt from the upserts' running counts.
    saturated: AtomicU8,
}

impl Message {
    fn is_saturated(&self, class: Class) -> bool {
        self.saturated.load(Ordering::Relaxed) & (1 << class as u8) != 0
    }

    fn set_saturated(&self, class: Class, saturated: bool) {
        let bit = 1 << class as u8;
        if saturated {
            self.saturated.fetch_or(bit, Ordering::Relaxed);
        } else {
            self.saturated.fetch_and(!bit, Ordering::Relaxed);
        }
    }
}

/// Pixel ids remembered by the writer (including those of no message) before it starts over.
const MESSAGE_CACHE_MAX: usize = 100_000;

/// The largest statement, in rows.
const CHUNK_MAX: usize = 128;
const CHUNK_SIZES: usize = CHUNK_MAX.trailing_zeros() as usize + 1;

/// Batches committing at once: SQLite has one writer anyway; with PostgreSQL the next batch
/// (when it writes other rows) is sent while the previous one's commit is being flushed, so
/// the database is not idle waiting for the writer.
fn commits_in_flight(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 2,
    }
}

/// What a commit needs, shared by the writer and its commits in flight.
struct Ctx {
    db: Db,
    sql: Statements,
    cap: i64,
    /// PostgreSQL with `pixel.synchronous_commit = false`: commits are not waited on to be
    /// flushed (`SET LOCAL synchronous_commit = off`).
    async_commit: bool,
}

struct Writer {
    ctx: Arc<Ctx>,
    rx: mpsc::Receiver<Queued>,
    stop: Arc<Notify>,
    batch_max: usize,
    depth: usize,
    self_view_ms: i64,
    network_keys: Arc<NetworkKeys>,
    messages: HashMap<PixelId, Option<Arc<Message>>>,
    metrics: WriterMetrics,
    /// Emptied batch buffers, reused.
    spare: Vec<Vec<Queued>>,
    /// The (message, class) rows each commit in flight writes.
    busy: Vec<(tokio::task::Id, Vec<RowKey>)>,
    /// Where committed messages go for the alert rules.
    feed: Option<CommitFeed>,
}

/// A hit whose message exists, with its final class.
struct Entry {
    message: Arc<Message>,
    class: Class,
    index: usize,
}

/// Hits of one (message, class) in this batch: `entries[start..end]`, in arrival order.
struct Group {
    start: usize,
    end: usize,
    recorded: bool,
}

/// A batch ready to commit: messages resolved, hits re-classed, grouped in key order.
struct Prepared {
    batch: Vec<Queued>,
    /// Per hit: recorded, and its final class.
    out: Vec<(bool, Class)>,
    entries: Vec<Entry>,
    groups: Vec<Group>,
    day_keys: Vec<(i64, DayKey)>,
    retried: bool,
    started: Instant,
}

/// A batch waiting for a commit in flight that writes one of its rows.
struct Pending {
    batch: Vec<Queued>,
    started: Instant,
}

type AnyQuery<'q> = sqlx::query::Query<'q, Any, AnyArguments<'q>>;
/// A row of `pixel_counts`.
type RowKey = (Arc<Message>, Class);
/// A batch's hits (recorded, final class), entries, groups and day keys.
type Plan = (
    Vec<(bool, Class)>,
    Vec<Entry>,
    Vec<Group>,
    Vec<(i64, DayKey)>,
);
type Done = (Prepared, Result<(), sqlx::Error>);

impl Writer {
    async fn run(mut self) {
        let mut in_flight: JoinSet<Done> = JoinSet::new();
        let mut buffer: Vec<Queued> = Vec::with_capacity(64);
        let mut pending: Option<Pending> = None;
        let mut stopping = false;
        let mut drained = false;
        loop {
            let room = !drained && pending.is_none() && in_flight.len() < self.depth;
            tokio::select! {
                biased;
                Some(done) = in_flight.join_next_with_id(), if !in_flight.is_empty() => {
                    match done {
                        Ok((task, (prepared, result))) => {
                            self.busy.retain(|(t, _)| *t != task);
                            self.finish(prepared, result, &mut in_flight).await;
                        }
                        Err(e) => {
                            self.busy.retain(|(t, _)| *t != e.id());
                            // The batch's handlers see their reply dropped and answer anyway.
                            tracing::error!(error = %e, "a pixel commit task failed");
                        }
                    }
                    if let Some(Pending { mut batch, started }) = pending.take() {
                        // Whatever was queued meanwhile joins the waiting batch.
                        while batch.len() < self.batch_max {
                            match self.rx.try_recv() {
                                Ok(queued) => batch.push(queued),
                                Err(_) => break,
                            }
                        }
                        pending = self.dispatch(batch, started, &mut in_flight).await;
                    }
                }
                _ = self.stop.notified(), if !stopping && !drained => {
                    // No new hits; what is queued is still committed.
                    self.rx.close();
                    stopping = true;
                }
                received = self.rx.recv_many(&mut buffer, self.batch_max), if room => {
                    if received == 0 {
                        drained = true;
                    } else {
                        self.metrics.queue_depth.set(self.rx.len() as f64);
                        let batch = std::mem::replace(&mut buffer, self.spare.pop().unwrap_or_default());
                        pending = self.dispatch(batch, Instant::now(), &mut in_flight).await;
                    }
                }
                else => break,
            }
        }
        self.metrics.queue_depth.set(0.0);
    }

    /// Prepares a batch and starts its commit, unless a commit in flight writes one of its
    /// rows: then the batch is handed back to wait for that commit (and to take in what is
    /// queued meanwhile), so a flood on one row makes fewer, bigger commits rather than
    /// commits waiting for each other's row lock. Answers the batch at once when there is
    /// nothing to write, or it cannot be prepared.
    async fn dispatch(
        &mut self,
        batch: Vec<Queued>,
        started: Instant,
        in_flight: &mut JoinSet<Done>,
    ) -> Option<Pending> {
        match self.prepare(batch, false, started).await {
            Ok(prepared) if prepared.entries.is_empty() => self.complete(prepared),
            Ok(prepared) if self.overlaps(&prepared) => {
                return Some(Pending {
                    batch: prepared.batch,
                    started,
                })
            }
            Ok(prepared) => self.spawn(prepared, in_flight),
            Err((batch, e)) => self.fail(batch, e),
        }
        None
    }

    fn overlaps(&self, prepared: &Prepared) -> bool {
        prepared.groups.iter().any(|g| {
            let e = &prepared.entries[g.start];
            self.busy.iter().any(|(_, keys)| {
                keys.iter()
                    .any(|(m, c)| *c == e.class && m.id == e.message.id)
            })
        })
    }

    fn spawn(&mut self, prepared: Prepared, in_flight: &mut JoinSet<Done>) {
        let keys = prepared
            .groups
            .iter()
            .map(|g| {
                let e = &prepared.entries[g.start];
                (e.message.clone(), e.class)
            })
            .collect();
        let task = in_flight.spawn(execute(self.ctx.clone(), prepared)).id();
        self.busy.push((task, keys));
    }

    /// A commit is done: answer its hits, or retry it once after a database error (a
    /// deadlock, a message deleted under a cached lookup).
    async fn finish(
        &mut self,
        prepared: Prepared,
        result: Result<(), sqlx::Error>,
        in_flight: &mut JoinSet<Done>,
    ) {
        match result {
            Ok(()) => self.complete(prepared),
            Err(sqlx::Error::Database(e)) if !prepared.retried => {
                tracing::debug!(error = %e, "retrying a batch of pixel hits");
                for queued in &prepared.batch {
                    self.messages.remove(&queued.hit.pixel);
                }
                // Straight away, even beside a commit on the same rows: it only waits for
                // their lock.
                match self.prepare(prepared.batch, true, prepared.started).await {
                    Ok(retry) if retry.entries.is_empty() => self.complete(retry),
                    Ok(retry) => self.spawn(retry, in_flight),
                    Err((batch, e)) => self.fail(batch, e),
                }
            }
            Err(e) => self.fail(prepared.batch, e),
        }
    }

    fn complete(&mut self, prepared: Prepared) {
        let Prepared {
            mut batch,
            out,
            started,
            entries,
            groups,
            ..
        } = prepared;
        if let Some(feed) = &self.feed {
            // The sender's own views change no alert; every other class may.
            feed.push(groups.iter().filter_map(|g| {
                let e = &entries[g.start];
                (g.recorded && e.class != Class::SelfView).then_some(e.message.id.as_str())
            }));
        }
        self.metrics.batch_size.record(batch.len() as f64);
        self.metrics
            .commit_seconds
            .record(started.elapsed().as_secs_f64());
        let mut by_class = [0u64; Class::ALL.len()];
        let mut dropped = 0;
        for (queued, (recorded, class)) in batch.drain(..).zip(out) {
            let outcome = if recorded {
                by_class[class as usize] += 1;
                Outcome::Committed
            } else {
                dropped += 1;
                Outcome::Dropped
            };
            let _ = queued.reply.send(outcome);
        }
        for (counter, n) in self.metrics.hits.iter().zip(by_class) {
            if n > 0 {
                counter.increment(n);
            }
        }
        if dropped > 0 {
            self.metrics.dropped.increment(dropped);
        }
        self.recycle(batch);
    }

    fn fail(&mut self, mut batch: Vec<Queued>, e: sqlx::Error) {
        tracing::warn!(error = %e, hits = batch.len(), "committing pixel hits failed");
        self.metrics.batch_size.record(batch.len() as f64);
        self.metrics.failed_commits.increment(1);
        self.metrics.failed_hits.increment(batch.len() as u64);
        for queued in batch.drain(..) {
            let _ = queued.reply.send(Outcome::Failed);
        }
        self.recycle(batch);
    }

    fn recycle(&mut self, batch: Vec<Queued>) {
        if self.spare.len() <= self.depth && batch.capacity() <= 4 * 1024 {
            self.spare.push(batch);
        }
    }

    /// Resolves messages, re-classes self-views, groups the hits in key order (contiguous
    /// groups; every server locks shared rows in the same order) and fetches the day keys
    /// the detail rows need (before any transaction: creating one writes).
    async fn prepare(
        &mut self,
        batch: Vec<Queued>,
        retried: bool,
        started: Instant,
    ) -> Result<Prepared, (Vec<Queued>, sqlx::Error)> {
        match self.plan(&batch).await {
            Ok((out, entries, groups, day_keys)) => Ok(Prepared {
                batch,
                out,
                entries,
                groups,
                day_keys,
                retried,
                started,
            }),
            Err(e) => Err((batch, e)),
        }
    }

    async fn plan(&mut self, batch: &[Queued]) -> Result<Plan, sqlx::Error> {
        self.resolve(batch).await?;
        let mut out: Vec<(bool, Class)> = batch.iter().map(|q| (false, q.hit.class)).collect();
        let mut entries = Vec::with_capacity(batch.len());
        for (index, queued) in batch.iter().enumerate() {
            let hit = &queued.hit;
            let Some(Some(message)) = self.messages.get(&hit.pixel) else {
                continue;
            };
            let message = message.clone();
            let class = if self.is_self_view(hit, &message).await? {
                Class::SelfView
            } else {
                hit.class
            };
            out[index].1 = class;
            entries.push(Entry {
                message,
                class,
                index,
            });
        }
        entries.sort_unstable_by(|a, b| {
            (a.message.id.as_str(), a.class, a.index).cmp(&(
                b.message.id.as_str(),
                b.class,
                b.index,
            ))
        });
        let mut groups: Vec<Group> = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            match groups.last_mut() {
                Some(g)
                    if {
                        let first = &entries[g.start];
                        first.message.id == entry.message.id && first.class == entry.class
                    } =>
                {
                    g.end = i + 1
                }
                _ => groups.push(Group {
                    start: i,
                    end: i + 1,
                    recorded: false,
                }),
            }
        }
        let mut day_keys: Vec<(i64, DayKey)> = Vec::new();
        for entry in &entries {
            let day = day_of(batch[entry.index].hit.at);
            if !day_keys.iter().any(|(d, _)| *d == day) {
                day_keys.push((day, self.network_keys.key(&self.ctx.db, day).await?));
            }
        }
        Ok((out, entries, groups, day_keys))
    }

    /// A fetch from the network that registered the message, soon after: the sender.
    async fn is_self_view(&self, hit: &Hit, message: &Message) -> Result<bool, sqlx::Error> {
        let (Some(net), Some(sender)) = (hit.net, message.sender_network.as_deref()) else {
            return Ok(false);
        };
        if hit.class == Class::Scanner
            || hit.class == Class::SelfView
            || (hit.at - message.created_at).abs() > self.self_view_ms
        {
            return Ok(false);
        }
        // The registration was hashed with the key of its own day.
        let key = self
            .network_keys
            .key(&self.ctx.db, day_of(message.created_at))
            .await?;
        Ok(key.hash(net).matches_text(sender))
    }

    /// Looks up the messages of pixel ids not seen before.
    async fn resolve(&mut self, batch: &[Queued]) -> Result<(), sqlx::Error> {
        let mut missing: Vec<(String, PixelId)> = Vec::new();
        for queued in batch {
            let pixel = queued.hit.pixel;
            if !self.messages.contains_key(&pixel) && !missing.iter().any(|(_, p)| *p == pixel) {
                missing.push((pixel.to_text(), pixel));
            }
        }
        if missing.is_empty() {
            return Ok(());
        }
        if self.messages.len() + missing.len() > MESSAGE_CACHE_MAX {
            self.messages.clear();
        }
        let mut found: Vec<Option<Arc<Message>>> = vec![None; missing.len()];
        for chunk in missing.chunks(CHUNK_MAX) {
            // Padded to a power of two with the last id, to reuse the prepared statement.
            let size = chunk.len().next_power_of_two();
            let mut query = sqlx::query(&self.ctx.sql.lookup[size.trailing_zeros() as usize]);
            for i in 0..size {
                query = query.bind(chunk[i.min(chunk.len() - 1)].0.as_str());
            }
            for row in query.fetch_all(&self.ctx.db.pool).await? {
                let pixel_id: String = row.try_get("pixel_id")?;
                if let Some(position) = missing.iter().position(|(text, _)| *text == pixel_id) {
                    found[position] = Some(Arc::new(Message {
                        id: row.try_get("id")?,
                        sender_network: row.try_get("sender_network")?,
                        created_at: row.try_get("created_at")?,
                        saturated: AtomicU8::new(0),
                    }));
                }
            }
        }
        for ((_, pixel), message) in missing.into_iter().zip(found) {
            // A pixel id of no message stays so: ids are random and never reused.
            self.messages.insert(pixel, message);
        }
        Ok(())
    }
}

/// Writes a prepared batch: the counts (multi-row upserts) and the detail rows under the
/// cap, in one transaction; a flood on classes already past their cap in one statement.
async fn execute(ctx: Arc<Ctx>, mut prepared: Prepared) -> Done {
    let result = write(&ctx, &mut prepared).await;
    if result.is_ok() {
        let Prepared {
            out,
            entries,
            groups,
            ..
        } = &mut prepared;
        for g in groups.iter().filter(|g| g.recorded) {
            for entry in &entries[g.start..g.end] {
                out[entry.index].0 = true;
            }
        }
    }
    (prepared, result)
}

async fn write(ctx: &Ctx, p: &mut Prepared) -> Result<(), sqlx::Error> {
    let mut details: Vec<usize> = Vec::new(); // indexes into entries
    let single = !ctx.async_commit
        && p.groups.len() <= CHUNK_MAX
        && p.groups.len().is_power_of_two()
        && p.groups.iter().all(|g| {
            let e = &p.entries[g.start];
            e.message.is_saturated(e.class)
        });
    let mut groups = std::mem::take(&mut p.groups);
    let outcome = async {
        if single {
            // Every class here is past its cap already (a flood): the counts are all there
            // is to write, so one statement, committed on its own, without BEGIN/COMMIT.
            let returned = ctx.upsert_query(p, &groups).fetch_all(&ctx.db.pool).await?;
            ctx.returned(returned, p, &mut groups, &mut details)?;
            // A class whose counts were deleted meanwhile is below its cap again; its detail
            // rows follow on their own. The counts are committed: a failure here must not
            // make the batch count twice.
            for chunk in chunks(&details) {
                if let Err(e) = ctx.detail_query(p, chunk).execute(&ctx.db.pool).await {
                    tracing::warn!(error = %e, "storing pixel detail rows failed");
                }
            }
        } else {
            let mut tx = if ctx.async_commit {
                // One round trip: a simple query with both statements.
                ctx.db
                    .pool
                    .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
                    .await?
            } else {
                ctx.db.pool.begin().await?
            };
            let mut offset = 0;
            for size in chunk_sizes(groups.len()) {
                let chunk = &mut groups[offset..offset + size];
                offset += size;
                let returned = ctx.upsert_query(p, chunk).fetch_all(&mut *tx).await?;
                ctx.returned(returned, p, chunk, &mut details)?;
            }
            for chunk in chunks(&details) {
                ctx.detail_query(p, chunk).execute(&mut *tx).await?;
            }
            tx.commit().await?;
        }
        Ok(())
    }
    .await;
    p.groups = groups;
    outcome
}

impl Ctx {
    /// The multi-row upsert of some groups (a power-of-two number of them).
    fn upsert_query<'q>(&'q self, p: &'q Prepared, groups: &[Group]) -> AnyQuery<'q> {
        let mut query = sqlx::query(&self.sql.upsert[groups.len().trailing_zeros() as usize]);
        for g in groups {
            let group = &p.entries[g.start..g.end];
            let n = group.len() as i64;
            let at = |e: &Entry| p.batch[e.index].hit.at;
            query = query
                .bind(group[0].message.id.as_str())
                .bind(group[0].class.as_str())
                .bind(n)
                .bind(n.min(self.cap))
                .bind(group.iter().map(at).min().unwrap_or(0))
                .bind(group.iter().map(at).max().unwrap_or(0));
        }
        query
    }

    /// Reads the upsert's running counts: marks the groups recorded (a group of a deleted
    /// message returns nothing) and picks the hits that get a detail row.
    fn returned(
        &self,
        returned: Vec<AnyRow>,
        p: &Prepared,
        groups: &mut [Group],
        details: &mut Vec<usize>,
    ) -> Result<(), sqlx::Error> {
        for row in returned {
            let message_id: String = row.try_get(0)?;
            let class: String = row.try_get(1)?;
            let hits: i64 = row.try_get(2)?;
            let Some(class) = Class::parse(&class) else {
                continue;
            };
            let found = groups.binary_search_by(|g| {
                let e = &p.entries[g.start];
                (e.message.id.as_str(), e.class).cmp(&(message_id.as_str(), class))
            });
            let Ok(position) = found else { continue };
            let g = &mut groups[position];
            g.recorded = true;
            // This batch's hits are numbers hits-n+1 ..= hits of their class; those up to
            // the cap get a detail row.
            let n = (g.end - g.start) as i64;
            let kept = (hits.min(self.cap) - (hits - n)).clamp(0, n) as usize;
            details.extend(g.start..g.start + kept);
            p.entries[g.start]
                .message
                .set_saturated(class, hits >= self.cap);
        }
        Ok(())
    }

    /// The multi-row insert of detail rows (a power-of-two number of them).
    fn detail_query<'q>(&'q self, p: &'q Prepared, details: &[usize]) -> AnyQuery<'q> {
        let mut query = sqlx::query(&self.sql.detail[details.len().trailing_zeros() as usize]);
        for &i in details {
            let entry = &p.entries[i];
            let hit = &p.batch[entry.index].hit;
            let network = match hit.net {
                Some(net) => {
                    let day = day_of(hit.at);
                    let (_, key) = p
                        .day_keys
                        .iter()
                        .find(|(d, _)| *d == day)
                        .expect("every hit's day has its key");
                    key.hash(net).to_text()
                }
                None => String::from("-"),
            };
            query = query
                .bind(entry.message.id.as_str())
                .bind(hit.at)
                .bind(entry.class.as_str())
                .bind(hit.agent.as_str())
                .bind(network);
        }
        query
    }
}

/// `items` in consecutive chunks of [`chunk_sizes`].
fn chunks<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let mut offset = 0;
    chunk_sizes(items.len()).map(move |size| {
        offset += size;
        &items[offset - size..offset]
    })
}

/// Splits `n` rows into statements of power-of-two sizes, largest first.
fn chunk_sizes(n: usize) -> impl Iterator<Item = usize> {
    let full = n / CHUNK_MAX;
    let rest = n % CHUNK_MAX;
    std::iter::repeat_n(CHUNK_MAX, full).chain(
        (0..CHUNK_SIZES)
            .rev()
            .map(|bit| 1usize << bit)
            .filter(move |size| rest & size != 0),
    )
}

/// The writer's SQL, per statement size (index: log2 of the row count).
struct Statements {
    lookup: Vec<String>,
    upsert: Vec<String>,
    detail: Vec<String>,
}

impl Statements {
    fn new(backend: Backend, cap: i64) -> Statements {
        let (least, greatest) = match backend {
            Backend::Sqlite => ("MIN", "MAX"),
            Backend::Postgres => ("LEAST", "GREATEST"),
        };
        let sizes = (0..CHUNK_SIZES).map(|bit| 1usize << bit);
        let lookup = sizes
            .clone()
            .map(|n| {
                format!(
                    "SELECT id, pixel_id, sender_network, created_at FROM messages WHERE pixel_id IN ({}) AND tracked <> 0",
                    placeholders(n, 1)
                )
            })
            .collect();
        let upsert = sizes
            .clone()
            .map(|n| {
                format!(
                    "INSERT INTO pixel_counts (message_id, class, hits, details, first_at, last_at) \
                     SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6 \
                     FROM (VALUES {}) AS v JOIN messages m ON m.id = v.column1 AND m.tracked <> 0 \
                     WHERE true ORDER BY v.column1, v.column2 \
                     ON CONFLICT (message_id, class) DO UPDATE SET \
                     hits = pixel_counts.hits + excluded.hits, \
                     details = pixel_counts.details + {least}({cap}, pixel_counts.hits + excluded.hits) - {least}({cap}, pixel_counts.hits), \
                     first_at = {least}(pixel_counts.first_at, excluded.first_at), \
                     last_at = {greatest}(pixel_counts.last_at, excluded.last_at) \
                     RETURNING message_id, class, hits",
                    placeholders(n, 6)
                )
            })
            .collect();
        let detail = sizes
            .map(|n| {
                format!(
                    "INSERT INTO pixel_hits (message_id, at, class, agent, network) VALUES {}",
                    placeholders(n, 5)
                )
            })
            .collect();
        Statements {
            lookup,
            upsert,
            detail,
        }
    }
}

/// `($1, $2), ($3, $4)` for rows of `width` parameters; a bare list for width 1.
fn placeholders(rows: usize, width: usize) -> String {
    let mut out = String::new();
    for r in 0..rows {
        if r > 0 {
            out.push_str(", ");
        }
        if width > 1 {
            out.push('(');
        }
        for c in 0..width {
            if c > 0 {
                out.push_str(", ");
            }
            out.push_str(&format!("${}", r * width + c + 1));
        }
        if width > 1 {
            out.push(')');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two() {
        assert_eq!(chunk_sizes(0).collect::<Vec<_>>(), Vec::<usize>::new());
        assert_eq!(chunk_sizes(1).collect::<Vec<_>>(), vec![1]);
        assert_eq!(chunk_sizes(37).collect::<Vec<_>>(), vec![32, 4, 1]);
        assert_eq!(
            chunk_sizes(300).collect::<Vec<_>>(),
            vec![128, 128, 32, 8, 4]
        );
        for n in 0..1000 {
            assert_eq!(chunk_sizes(n).sum::<usize>(), n);
        }
    }

    #[test]
    fn placeholder_lists() {
        assert_eq!(placeholders(3, 1), "$1, $2, $3");
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }
}
