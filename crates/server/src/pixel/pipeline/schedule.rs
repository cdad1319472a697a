//! The writer's loop: take what is queued, keep up to `commits_in_flight` batches
//! committing at once, hold back a batch that would wait for a row lock of one in flight,
//! answer each hit when its batch is done.

use super::*;

/// The message behind a pixel id, as far as the writer needs it.
#[derive(Debug)]
pub(super) struct Message {
    pub(super) id: String,
    pub(super) sender_network: Option<String>,
    pub(super) created_at: i64,
}

/// Pixel ids remembered by the writer (including those of no message) before it starts over.
pub(super) const MESSAGE_CACHE_MAX: usize = 100_000;

/// The largest statement, in rows.
pub(super) const CHUNK_MAX: usize = 128;
pub(super) const CHUNK_SIZES: usize = CHUNK_MAX.trailing_zeros() as usize + 1;

/// Batches committing at once: SQLite has one writer anyway; with PostgreSQL the next
/// batches (when they write other rows) are sent while earlier ones' commits are being
/// flushed, so neither the database nor the writer waits for the other. A spread load is
/// bound by the commits' latency, not by CPU (a third of the machine idle at two in
/// flight), so four overlap.
pub(super) fn commits_in_flight(backend: Backend) -> usize {
    match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 4,
    }
}

/// What a commit needs, shared by the writer and its commits in flight.
pub(super) struct Ctx {
    pub(super) db: Db,
    /// The message lookup.
    pub(super) sql: Statements,
    /// Where the batches are written.
    pub(super) store: Store,
    pub(super) cap: i64,
}

pub(super) struct Writer {
    pub(super) ctx: Arc<Ctx>,
    pub(super) rx: mpsc::Receiver<Queued>,
    pub(super) stop: Arc<Notify>,
    pub(super) batch_max: usize,
    pub(super) depth: usize,
    pub(super) self_view_ms: i64,
    pub(super) network_keys: Arc<NetworkKeys>,
    pub(super) messages: HashMap<PixelId, Option<Arc<Message>>>,
    pub(super) metrics: WriterMetrics,
    /// Emptied batch buffers, reused.
    pub(super) spare: Vec<Vec<Queued>>,
    /// The (message, class) rows each commit in flight writes.
    pub(super) busy: Vec<Busy>,
    /// Where committed messages go for the alert rules.
    pub(super) feed: Option<CommitFeed>,
    /// Hits whose commit could not reach the database, kept to be written when it is back
    /// (see [`Parked`]).
    pub(super) parked: Parked,
    /// Shutting down: the database gets no more time.
    pub(super) stopping: bool,
}

/// Hits held while the database is unreachable (PostgreSQL restarting, a failover, the
/// network). Their fetches are answered at `commit_timeout` anyway; the hits are written
/// once the database answers again, so an outage loses no fetch that reached the queue.
/// While hits are parked the writer takes nothing new: the queue holds later fetches (up to
/// `pixel.queue_capacity`), and a full queue makes fetches wait, then answer unconfirmed.
#[derive(Default)]
pub(super) struct Parked {
    pub(super) hits: Vec<Queued>,
    pub(super) since: Option<Instant>,
    pub(super) retry_at: Option<tokio::time::Instant>,
    pub(super) backoff: Duration,
}

/// The first retry after the database became unreachable, and the longest wait between two.
const PARKED_FIRST_RETRY: Duration = Duration::from_millis(100);
const PARKED_MAX_RETRY: Duration = Duration::from_secs(2);

/// A hit whose message exists, with its final class.
pub(super) struct Entry {
    pub(super) message: Arc<Message>,
    pub(super) class: Class,
    pub(super) index: usize,
}

/// Hits of one (message, class) in this batch: `entries[start..end]`, in arrival order.
pub(super) struct Group {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) recorded: bool,
}

/// A batch ready to commit: messages resolved, hits re-classed, grouped in key order.
pub(super) struct Prepared {
    pub(super) batch: Vec<Queued>,
    /// Per hit: recorded, and its final class.
    pub(super) out: Vec<(bool, Class)>,
    pub(super) entries: Vec<Entry>,
    pub(super) groups: Vec<Group>,
    pub(super) day_keys: Vec<(i64, DayKey)>,
    pub(super) retried: bool,
    pub(super) started: Instant,
}

/// A batch waiting for a commit in flight that writes one of its rows.
pub(super) struct Pending {
    pub(super) batch: Vec<Queued>,
    pub(super) started: Instant,
}

pub(super) type AnyQuery<'q> = sqlx::query::Query<'q, Any, AnyArguments<'q>>;
/// A row of `pixel_counts` a commit in flight writes.
pub(super) struct RowKey {
    pub(super) message: Arc<Message>,
    pub(super) class: Class,
}

/// The rows a commit in flight writes, by its task.
pub(super) struct Busy {
    pub(super) task: tokio::task::Id,
    pub(super) rows: Vec<RowKey>,
}

/// What planning a batch yields (see `plan`).
pub(super) struct Plan {
    /// Per hit: recorded, and its final class.
    pub(super) out: Vec<(bool, Class)>,
    pub(super) entries: Vec<Entry>,
    pub(super) groups: Vec<Group>,
    pub(super) day_keys: Vec<(i64, DayKey)>,
}

/// A commit that ended, with how.
pub(super) struct Done {
    pub(super) prepared: Prepared,
    pub(super) result: Result<(), CommitError>,
}

impl Writer {
    pub(super) async fn run(mut self) {
        let mut in_flight: JoinSet<Done> = JoinSet::new();
        let mut buffer: Vec<Queued> = Vec::with_capacity(64);
        let mut pending: Option<Pending> = None;
        let mut drained = false;
        loop {
            let parked = !self.parked.hits.is_empty();
            let room = !drained && !parked && pending.is_none() && in_flight.len() < self.depth;
            let retry_at = self
                .parked
                .retry_at
                .unwrap_or_else(tokio::time::Instant::now);
            tokio::select! {
                biased;
                Some(done) = in_flight.join_next_with_id(), if !in_flight.is_empty() => {
                    match done {
                        Ok((task, Done { prepared, result })) => {
                            self.busy.retain(|b| b.task != task);
                            self.finish(prepared, result, &mut in_flight).await;
                        }
                        Err(e) => {
                            self.busy.retain(|b| b.task != e.id());
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
                _ = self.stop.notified(), if !self.stopping && !drained => {
                    // No new hits; what is queued is still committed.
                    self.rx.close();
                    self.stopping = true;
                }
                _ = tokio::time::sleep_until(retry_at), if parked && in_flight.is_empty() && pending.is_none() => {
                    let (batch, started) = self.parked.take();
                    pending = self.dispatch(batch, started, &mut in_flight).await;
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
    pub(super) async fn dispatch(
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
            Err((batch, e)) if is_unreachable(&e) && !self.stopping => self.park(batch, started, e),
            Err((batch, e)) => self.fail(batch, e),
        }
        None
    }

    /// Holds a batch that could not reach the database, to be tried again after a backoff.
    pub(super) fn park(
        &mut self,
        mut batch: Vec<Queued>,
        started: Instant,
        e: impl std::fmt::Display,
    ) {
        let parked = &mut self.parked;
        if parked.hits.is_empty() {
            tracing::warn!(error = %e, hits = batch.len(), "the database is unreachable: pixel hits are held until it is back");
        }
        parked.backoff = if parked.backoff.is_zero() {
            PARKED_FIRST_RETRY
        } else {
            (parked.backoff * 2).min(PARKED_MAX_RETRY)
        };
        parked.retry_at = Some(tokio::time::Instant::now() + parked.backoff);
        parked.since.get_or_insert(started);
        parked.hits.append(&mut batch);
        self.metrics.parked_hits.set(parked.hits.len() as f64);
        self.recycle(batch);
    }

    pub(super) fn overlaps(&self, prepared: &Prepared) -> bool {
        prepared.groups.iter().any(|g| {
            let e = &prepared.entries[g.start];
            self.busy.iter().any(|busy| {
                busy.rows
                    .iter()
                    .any(|row| row.class == e.class && row.message.id == e.message.id)
            })
        })
    }

    pub(super) fn spawn(&mut self, prepared: Prepared, in_flight: &mut JoinSet<Done>) {
        let rows = prepared
            .groups
            .iter()
            .map(|g| {
                let e = &prepared.entries[g.start];
                RowKey {
                    message: e.message.clone(),
                    class: e.class,
                }
            })
            .collect();
        let task = in_flight.spawn(execute(self.ctx.clone(), prepared)).id();
        self.busy.push(Busy { task, rows });
    }

    /// A commit is done: answer its hits, or retry it once after a database error (a
    /// deadlock, a message deleted under a cached lookup).
    pub(super) async fn finish(
        &mut self,
        prepared: Prepared,
        result: Result<(), CommitError>,
        in_flight: &mut JoinSet<Done>,
    ) {
        match result {
            Ok(()) => self.complete(prepared),
            Err(CommitError::Database(e)) if is_unreachable(&e) && !self.stopping => {
                self.park(prepared.batch, prepared.started, e)
            }
            Err(e) if e.is_retryable() && !prepared.retried => {
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

    pub(super) fn complete(&mut self, prepared: Prepared) {
        if !self.parked.backoff.is_zero() && self.parked.hits.is_empty() {
            tracing::info!("the database is back: held pixel hits are written");
            self.parked.backoff = Duration::ZERO;
            self.parked.since = None;
            self.metrics.parked_hits.set(0.0);
        }
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

    pub(super) fn fail(&mut self, mut batch: Vec<Queued>, e: impl std::fmt::Display) {
        tracing::warn!(error = %e, hits = batch.len(), "committing pixel hits failed");
        self.metrics.batch_size.record(batch.len() as f64);
        self.metrics.failed_commits.increment(1);
        self.metrics.failed_hits.increment(batch.len() as u64);
        for queued in batch.drain(..) {
            let _ = queued.reply.send(Outcome::Failed);
        }
        self.recycle(batch);
    }

    pub(super) fn recycle(&mut self, batch: Vec<Queued>) {
        if self.spare.len() <= self.depth && batch.capacity() <= 4 * 1024 {
            self.spare.push(batch);
        }
    }
}

impl Parked {
    /// The held hits, to be tried again, and when the first of them arrived.
    fn take(&mut self) -> (Vec<Queued>, Instant) {
        self.retry_at = None;
        (
            std::mem::take(&mut self.hits),
            self.since.take().unwrap_or_else(Instant::now),
        )
    }
}

/// Whether an error says the database could not be reached (rather than refused the
/// statement): the connection broke or could not be made, or PostgreSQL is shutting down,
/// starting up or out of connections.
pub(super) fn is_unreachable(e: &sqlx::Error) -> bool {
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53300")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_connection_is_unreachable_and_a_refused_statement_is_not() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(is_unreachable(&sqlx::Error::Io(reset)));
        assert!(is_unreachable(&sqlx::Error::PoolTimedOut));
        assert!(!is_unreachable(&sqlx::Error::RowNotFound));
        assert!(!is_unreachable(&sqlx::Error::ColumnNotFound("hits".into())));
    }
}
