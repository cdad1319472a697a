//! SQLite: a thread of its own holds the writer's connection (`rusqlite`) with its
//! statements prepared once, and writes each batch in one transaction. A batch crosses
//! between the writer task and this thread once each way; through sqlx every statement,
//! `BEGIN` and `COMMIT` did (a futex wake-up each), and each one-row statement was cheaper
//! in SQLite than that hop.
//!
//! Checkpoints: a spread load dirties a page or two per hit (its count row, its detail row
//! in the message index), so the WAL grows fast, and SQLite's automatic checkpoint (after
//! the commit that passes 1,000 frames, on the committing connection) had the writer copy
//! pages back and wait for two `fsync`s every few commits. A second thread now copies them
//! every [`CHECKPOINT_EVERY`] with a passive checkpoint on its own connection, beside the
//! writer; the writer's own automatic checkpoint is kept, at [`WRITER_CHECKPOINT_FRAMES`],
//! only so that the WAL is reset now and then (a passive checkpoint beside a writer that
//! never pauses never catches up with it, and only a caught-up WAL starts over): by then the
//! other thread has copied nearly everything, so the writer's checkpoint is short.

use std::path::Path;
use std::sync::mpsc as std_mpsc;

use rusqlite::{params, Connection, OptionalExtension};

use super::*;

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// How often the checkpoint thread copies committed pages into the database file.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(50);

/// The writer's own automatic checkpoint: after the commit that passes this many WAL frames
/// (4 kB pages: a WAL of about 16 MB at most, under load).
const WRITER_CHECKPOINT_FRAMES: u32 = 4_000;

/// The handle of the writer thread; the thread ends when the handle is dropped.
pub(super) struct SqliteWriter {
    jobs: std_mpsc::Sender<Job>,
    upsert: Arc<str>,
    cap: i64,
}

impl SqliteWriter {
    /// Opens the connection on a new thread. `alive` goes false when the thread ends (its
    /// handle dropped, or a panic): `/readyz` then says the writer is gone.
    pub(super) fn open(file: &Path, cap: i64, alive: Arc<AtomicBool>) -> anyhow::Result<Self> {
        let connection = Connection::open(file)?;
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        // 32 MB (the default is 2 MB): the count rows and the detail index of thousands of
        // messages stay in the writer's cache instead of being read back each batch.
        connection.pragma_update(None, "cache_size", -32 * 1024)?;
        connection.pragma_update(None, "wal_autocheckpoint", WRITER_CHECKPOINT_FRAMES)?;
        let checkpoints = Checkpoints::start(file)?;
        let (jobs, queue) = std_mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("pixel-sqlite".into())
            .spawn(move || {
                let _guard = AliveGuard(alive);
                let mut connection = connection;
                while let Ok(job) = queue.recv() {
                    job(&mut connection);
                    checkpoints.committed();
                }
                // Dropping `checkpoints` ends its thread.
            })?;
        Ok(SqliteWriter {
            jobs,
            upsert: upsert_sql(cap).into(),
            cap,
        })
    }

    /// Runs `job` on the writer thread with its connection.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Connection) -> T + Send + 'static,
    ) -> Result<T, CommitError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            let _ = reply.send(job(connection));
        });
        self.jobs.send(job).map_err(|_| CommitError::WriterGone)?;
        answer.await.map_err(|_| CommitError::WriterGone)
    }

    /// Writes a batch in one transaction: each group's count upserted (its running count
    /// returned), then the detail rows of the candidates under the cap.
    pub(super) async fn write(&self, rows: Rows) -> Result<Running, CommitError> {
        let upsert = self.upsert.clone();
        let cap = self.cap;
        self.run(move |connection| write_batch(connection, &upsert, cap, &rows))
            .await?
            .map_err(CommitError::Sqlite)
    }
}

/// The checkpoint thread's handle: tells it that something was committed; the thread ends
/// when the handle is dropped.
struct Checkpoints {
    wake: std_mpsc::SyncSender<()>,
}

impl Checkpoints {
    fn start(file: &Path) -> anyhow::Result<Checkpoints> {
        let connection = Connection::open(file)?;
        connection.busy_timeout(Duration::from_secs(5))?;
        // Its own automatic checkpoint never runs: it commits nothing.
        let (wake, woken) = std_mpsc::sync_channel::<()>(1);
        std::thread::Builder::new()
            .name("pixel-checkpoint".into())
            .spawn(move || {
                // One passive checkpoint per period in which something was committed: it
                // copies what it can without waiting for the writer or for readers.
                while woken.recv().is_ok() {
                    let started = Instant::now();
                    if let Err(e) =
                        connection.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::debug!(error = %e, "a background checkpoint failed; the writer's own one still runs");
                    }
                    std::thread::sleep(CHECKPOINT_EVERY.saturating_sub(started.elapsed()));
                }
            })?;
        Ok(Checkpoints { wake })
    }

    /// After a job: wakes the thread unless it is already due to run.
    fn committed(&self) {
        let _ = self.wake.try_send(());
    }
}

fn write_batch(
    connection: &mut Connection,
    upsert_sql: &str,
    cap: i64,
    rows: &Rows,
) -> rusqlite::Result<Running> {
    // IMMEDIATE: take the write lock first (waiting for it under busy_timeout), rather than
    // fail to upgrade a read snapshot another server's commit made stale.
    let tx = connection.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut running = Vec::with_capacity(rows.counts.len());
    {
        let mut upsert = tx.prepare_cached(upsert_sql)?;
        for count in &rows.counts {
            let hits: Option<i64> = upsert
                .query_row(
                    params![
                        count.message.id,
                        count.class.as_str(),
                        count.hits,
                        count.first_at,
                        count.last_at
                    ],
                    |row| row.get(0),
                )
                .optional()?;
            running.push(hits);
        }
        let mut detail = tx.prepare_cached(DETAIL_SQL)?;
        for candidate in &rows.details {
            let Some(hits) = running[candidate.group] else {
                continue;
            };
            if !rows.kept(candidate, hits, cap) {
                continue;
            }
            let count = &rows.counts[candidate.group];
            detail.execute(params![
                count.message.id,
                candidate.at,
                count.class.as_str(),
                candidate.agent.as_str(),
                rows.network(candidate)
            ])?;
        }
    }
    tx.commit()?;
    Ok(running)
}

/// One group's count; the join drops a message deleted or untracked meanwhile (no row
/// returned).
fn upsert_sql(cap: i64) -> String {
    format!(
        "INSERT INTO pixel_counts (message_id, class, hits, details, first_at, last_at) \
         SELECT m.id, ?2, ?3, MIN({cap}, ?3), ?4, ?5 FROM messages m \
         WHERE m.id = ?1 AND m.tracked <> 0 \
         ON CONFLICT (message_id, class) DO UPDATE SET \
         hits = pixel_counts.hits + excluded.hits, \
         details = pixel_counts.details + MIN({cap}, pixel_counts.hits + excluded.hits) - MIN({cap}, pixel_counts.hits), \
         first_at = MIN(pixel_counts.first_at, excluded.first_at), \
         last_at = MAX(pixel_counts.last_at, excluded.last_at) \
         RETURNING hits"
    )
}

const DETAIL_SQL: &str =
    "INSERT INTO pixel_hits (message_id, at, class, agent, network) VALUES (?1, ?2, ?3, ?4, ?5)";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_dead_writer_thread_commits_nothing_and_says_so() {
        let dir = std::env::temp_dir().join(format!("leakwatch-pixel-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let alive = Arc::new(AtomicBool::new(true));
        let writer = SqliteWriter::open(&dir.join("dead.db"), 50, alive.clone()).unwrap();
        assert_eq!(writer.run(|_| 1).await.unwrap(), 1);
        // The thread dies in the middle of a job: the job's caller learns nothing was
        // committed, and so does every later one.
        let died = writer
            .run(|connection| {
                if connection.is_autocommit() {
                    panic!("the writer thread dies");
                }
            })
            .await;
        assert!(matches!(died, Err(CommitError::WriterGone)), "{died:?}");
        let rows = Rows {
            counts: Vec::new(),
            details: Vec::new(),
            day_keys: Vec::new(),
        };
        assert!(matches!(
            writer.write(rows).await,
            Err(CommitError::WriterGone)
        ));
        let deadline = Instant::now() + Duration::from_secs(5);
        while alive.load(Ordering::Acquire) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            !alive.load(Ordering::Acquire),
            "/readyz must see the writer gone"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
