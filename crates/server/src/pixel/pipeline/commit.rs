//! Writing a planned batch: what it writes ([`Rows`]), handed whole to the backend's writer
//! (`sqlite.rs`: a thread with its own connection; `postgres.rs`: one statement), and what
//! the running counts it returns say about each hit.

use super::*;

/// The rows a batch writes, in key order: one count per (message, class) group, and the
/// detail candidates, each group's first hits up to the cap. A candidate gets its row when
/// the group's running count says it is among its class's first `cap` fetches.
pub(super) struct Rows {
    pub(super) counts: Vec<CountRow>,
    pub(super) details: Vec<DetailRow>,
    pub(super) day_keys: Vec<(i64, DayKey)>,
}

pub(super) struct CountRow {
    pub(super) message: Arc<Message>,
    pub(super) class: Class,
    /// This batch's hits of the group.
    pub(super) hits: i64,
    pub(super) first_at: i64,
    pub(super) last_at: i64,
}

pub(super) struct DetailRow {
    /// Index into `counts`.
    pub(super) group: usize,
    /// 1 for the group's first hit in this batch (arrival order).
    pub(super) ordinal: i64,
    pub(super) at: i64,
    pub(super) agent: Agent,
    pub(super) net: Option<NetPrefix>,
}

/// The running count of each group after the commit (`counts` order), `None` where the
/// message no longer exists or is no longer tracked.
pub(super) type Running = Vec<Option<i64>>;

impl Rows {
    pub(super) fn of(p: &Prepared, cap: i64) -> Rows {
        let mut counts = Vec::with_capacity(p.groups.len());
        let mut details = Vec::with_capacity(p.entries.len().min(p.groups.len() * 4));
        for (group, g) in p.groups.iter().enumerate() {
            let entries = &p.entries[g.start..g.end];
            let at = |e: &Entry| p.batch[e.index].hit.at;
            counts.push(CountRow {
                message: entries[0].message.clone(),
                class: entries[0].class,
                hits: entries.len() as i64,
                first_at: entries.iter().map(at).min().unwrap_or(0),
                last_at: entries.iter().map(at).max().unwrap_or(0),
            });
            for (ordinal, entry) in (1..=cap).zip(entries) {
                let hit = &p.batch[entry.index].hit;
                details.push(DetailRow {
                    group,
                    ordinal,
                    at: hit.at,
                    agent: hit.agent,
                    net: hit.net,
                });
            }
        }
        Rows {
            counts,
            details,
            day_keys: p.day_keys.clone(),
        }
    }

    /// Whether a candidate gets its detail row: this batch's hits of its group are numbers
    /// `running - hits + 1 ..= running` of their class.
    pub(super) fn kept(&self, detail: &DetailRow, running: i64, cap: i64) -> bool {
        running - self.counts[detail.group].hits + detail.ordinal <= cap
    }

    /// The keyed hash of the candidate's network, as stored (`-` without one).
    pub(super) fn network(&self, detail: &DetailRow) -> String {
        match detail.net {
            Some(net) => {
                let day = day_of(detail.at);
                let (_, key) = self
                    .day_keys
                    .iter()
                    .find(|(d, _)| *d == day)
                    .expect("every hit's day has its key");
                key.hash(net).to_text()
            }
            None => String::from("-"),
        }
    }
}

/// Why a commit failed.
#[derive(Debug)]
pub(super) enum CommitError {
    Database(sqlx::Error),
    Sqlite(rusqlite::Error),
    /// The SQLite writer thread is gone (it panicked): nothing was committed.
    WriterGone,
}

impl CommitError {
    /// An error of the database itself (a deadlock, a busy lock, a message deleted under a
    /// cached lookup), which a second try may not meet.
    pub(super) fn is_retryable(&self) -> bool {
        matches!(
            self,
            CommitError::Database(sqlx::Error::Database(_))
                | CommitError::Sqlite(rusqlite::Error::SqliteFailure(..))
        )
    }
}

impl std::fmt::Display for CommitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CommitError::Database(e) => e.fmt(f),
            CommitError::Sqlite(e) => e.fmt(f),
            CommitError::WriterGone => f.write_str("the SQLite writer thread has stopped"),
        }
    }
}

/// Writes a prepared batch and marks which of its hits were recorded.
pub(super) async fn execute(ctx: Arc<Ctx>, mut prepared: Prepared) -> Done {
    let rows = Rows::of(&prepared, ctx.cap);
    let result = match &ctx.store {
        Store::Sqlite(writer) => writer.write(rows).await,
        Store::Postgres(statement) => statement.write(&ctx.db, rows).await,
    };
    let result = result.map(|running| {
        let Prepared {
            out,
            entries,
            groups,
            ..
        } = &mut prepared;
        for (g, running) in groups.iter_mut().zip(running) {
            // A group of a deleted or untracked message returned nothing.
            if running.is_none() {
                continue;
            }
            g.recorded = true;
            for entry in &entries[g.start..g.end] {
                out[entry.index].0 = true;
            }
        }
    });
    Done { prepared, result }
}

/// Where a backend's writer keeps its rows.
pub(super) enum Store {
    Sqlite(SqliteWriter),
    Postgres(PostgresBatch),
}
