//! Recording pixel fetches: handlers put hits on a bounded queue; one writer task takes
//! whatever is queued (up to `batch_max`, never waiting for more) and commits it in one
//! transaction; each handler answers its GIF once the writer says its hit is committed, so
//! an answered fetch is never lost. When the database fails or is slow, the handler answers
//! anyway (a recipient's mail must never show a broken image) and the loss is counted.
//!
//! One transaction per batch:
//! 1. pixel ids are resolved to messages (cached; a pixel id is fixed for its message's life),
//!    hits of unknown or deleted messages are dropped, and fetches from the sender's own
//!    network right after registering are re-classed `self_view`;
//! 2. hits are aggregated per (message, class) and upserted with a multi-row
//!    `INSERT ... SELECT ... JOIN messages ... ON CONFLICT DO UPDATE ... RETURNING hits`;
//!    the join drops a message deleted meanwhile, the returned running count tells which
//!    of the batch's hits are among the first `detail_cap_per_class` of their class: only
//!    those get a detail row in `pixel_hits` (a flood only increments `pixel_counts.hits`).
//!    The running count comes from the row itself under its row lock, so the cap and the
//!    counts stay exact with several servers on one PostgreSQL. Rows are upserted in key
//!    order, so two servers' batches lock shared rows in the same order;
//! 3. detail rows, with a multi-row `INSERT`.
//!
//! Statements have power-of-two row counts (a batch is split into such chunks), so each
//! connection prepares a handful of statements once and reuses them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use metrics::{Counter, Gauge, Histogram};
use sqlx::Row;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

use super::classify::{Agent, Class};
use super::network::{day_of, DayKey, NetPrefix, NetworkKeys};
use super::token::{PixelId, Verifier};
use crate::config::Config;
use crate::db::{Backend, Db};
use crate::keys::Keys;

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
    pub async fn start(db: Db, config: &Config, keys: &Keys) -> anyhow::Result<Pipeline> {
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
            sql: Statements::new(db.backend, pixel.detail_cap_per_class),
            db,
            rx,
            stop: stop.clone(),
            batch_max: pixel.batch_max,
            cap: pixel.detail_cap_per_class,
            self_view_ms: pixel.self_view_seconds.saturating_mul(1000),
            network_keys: network_keys.clone(),
            messages: HashMap::new(),
            metrics: WriterMetrics::new(),
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
}

/// Pixel ids remembered by the writer (including those of no message) before it starts over.
const MESSAGE_CACHE_MAX: usize = 100_000;

/// The largest statement, in rows.
const CHUNK_MAX: usize = 128;
const CHUNK_SIZES: usize = CHUNK_MAX.trailing_zeros() as usize + 1;

struct Writer {
    db: Db,
    rx: mpsc::Receiver<Queued>,
    stop: Arc<Notify>,
    batch_max: usize,
    cap: i64,
    self_view_ms: i64,
    network_keys: Arc<NetworkKeys>,
    messages: HashMap<PixelId, Option<Arc<Message>>>,
    sql: Statements,
    metrics: WriterMetrics,
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

impl Writer {
    async fn run(mut self) {
        let mut batch: Vec<Queued> = Vec::with_capacity(self.batch_max.min(4096));
        let mut stopping = false;
        loop {
            let received = if stopping {
                self.rx.recv_many(&mut batch, self.batch_max).await
            } else {
                tokio::select! {
                    biased;
                    n = self.rx.recv_many(&mut batch, self.batch_max) => n,
                    _ = self.stop.notified() => {
                        // No new hits; what is queued is still committed.
                        self.rx.close();
                        stopping = true;
                        continue;
                    }
                }
            };
            if received == 0 {
                break;
            }
            self.metrics.queue_depth.set(self.rx.len() as f64);
            self.commit(&mut batch).await;
        }
        self.metrics.queue_depth.set(0.0);
    }

    /// Commits a batch (retrying once after a database error such as a deadlock) and
    /// answers every hit in it.
    async fn commit(&mut self, batch: &mut Vec<Queued>) {
        let started = Instant::now();
        let mut result = self.try_commit(batch).await;
        if matches!(result, Err(sqlx::Error::Database(_))) {
            // Perhaps a message went away under a cached lookup: look again.
            for queued in batch.iter() {
                self.messages.remove(&queued.hit.pixel);
            }
            result = self.try_commit(batch).await;
        }
        self.metrics.batch_size.record(batch.len() as f64);
        match result {
            Ok(results) => {
                self.metrics
                    .commit_seconds
                    .record(started.elapsed().as_secs_f64());
                let mut by_class = [0u64; Class::ALL.len()];
                let mut dropped = 0;
                for (queued, (recorded, class)) in batch.drain(..).zip(results) {
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
            }
            Err(e) => {
                tracing::warn!(error = %e, hits = batch.len(), "committing pixel hits failed");
                self.metrics.failed_commits.increment(1);
                self.metrics.failed_hits.increment(batch.len() as u64);
                for queued in batch.drain(..) {
                    let _ = queued.reply.send(Outcome::Failed);
                }
            }
        }
    }

    /// One attempt: for each hit, whether it was recorded and its final class.
    async fn try_commit(&mut self, batch: &[Queued]) -> Result<Vec<(bool, Class)>, sqlx::Error> {
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
        if entries.is_empty() {
            return Ok(out);
        }
        // Key order: contiguous groups, locks taken in the same order by every server.
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
        // Day keys for the detail rows, before the transaction (creating one writes).
        let mut day_keys: Vec<(i64, DayKey)> = Vec::new();
        for entry in &entries {
            let day = day_of(batch[entry.index].hit.at);
            if !day_keys.iter().any(|(d, _)| *d == day) {
                day_keys.push((day, self.network_keys.key(&self.db, day).await?));
            }
        }

        let mut tx = self.db.pool.begin().await?;
        let mut details: Vec<usize> = Vec::new(); // indexes into entries
        let mut offset = 0;
        for size in chunk_sizes(groups.len()) {
            let chunk = &mut groups[offset..offset + size];
            offset += size;
            let mut query = sqlx::query(&self.sql.upsert[size.trailing_zeros() as usize]);
            for g in chunk.iter() {
                let first = &entries[g.start];
                let n = (g.end - g.start) as i64;
                let at = |e: &Entry| batch[e.index].hit.at;
                let first_at = entries[g.start..g.end].iter().map(at).min().unwrap_or(0);
                let last_at = entries[g.start..g.end].iter().map(at).max().unwrap_or(0);
                query = query
                    .bind(first.message.id.as_str())
                    .bind(first.class.as_str())
                    .bind(n)
                    .bind(n.min(self.cap))
                    .bind(first_at)
                    .bind(last_at);
            }
            for row in query.fetch_all(&mut *tx).await? {
                let message_id: String = row.try_get(0)?;
                let class: String = row.try_get(1)?;
                let hits: i64 = row.try_get(2)?;
                let Some(class) = Class::parse(&class) else {
                    continue;
                };
                let found = chunk.binary_search_by(|g| {
                    let e = &entries[g.start];
                    (e.message.id.as_str(), e.class).cmp(&(message_id.as_str(), class))
                });
                let Ok(position) = found else { continue };
                let g = &mut chunk[position];
                g.recorded = true;
                // This batch's hits are numbers hits-n+1 ..= hits of their class; those
                // up to the cap get a detail row.
                let n = (g.end - g.start) as i64;
                let kept = (hits.min(self.cap) - (hits - n)).clamp(0, n) as usize;
                details.extend(g.start..g.start + kept);
            }
        }
        let mut offset = 0;
        for size in chunk_sizes(details.len()) {
            let mut query = sqlx::query(&self.sql.detail[size.trailing_zeros() as usize]);
            for &i in &details[offset..offset + size] {
                let entry = &entries[i];
                let hit = &batch[entry.index].hit;
                let network = match hit.net {
                    Some(net) => {
                        let day = day_of(hit.at);
                        let key = &day_keys.iter().find(|(d, _)| *d == day).expect("keyed").1;
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
            offset += size;
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        for g in groups.iter().filter(|g| g.recorded) {
            for entry in &entries[g.start..g.end] {
                out[entry.index].0 = true;
            }
        }
        Ok(out)
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
            .key(&self.db, day_of(message.created_at))
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
            let mut query = sqlx::query(&self.sql.lookup[size.trailing_zeros() as usize]);
            for i in 0..size {
                query = query.bind(chunk[i.min(chunk.len() - 1)].0.as_str());
            }
            for row in query.fetch_all(&self.db.pool).await? {
                let pixel_id: String = row.try_get("pixel_id")?;
                if let Some(position) = missing.iter().position(|(text, _)| *text == pixel_id) {
                    found[position] = Some(Arc::new(Message {
                        id: row.try_get("id")?,
                        sender_network: row.try_get("sender_network")?,
                        created_at: row.try_get("created_at")?,
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
                    "SELECT id, pixel_id, sender_network, created_at FROM messages WHERE pixel_id IN ({})",
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
                     FROM (VALUES {}) AS v JOIN messages m ON m.id = v.column1 \
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
