//! PostgreSQL: a batch is one statement over arrays (one round trip, committed on its own):
//! the counts upserted from one set of arrays, and in the same statement the detail
//! candidates under the cap inserted from another, decided by the running counts the
//! upsert returns under its row locks. The arrays travel as comma-separated text
//! (`string_to_array`): every value is a number or one of the writer's fixed words and
//! base64url texts, none has a comma, and sqlx's `Any` driver binds no arrays.

use std::fmt::Write as _;

use super::*;

pub(super) struct PostgresBatch {
    sql: String,
    /// `pixel.synchronous_commit = false`: `SET LOCAL synchronous_commit = off`, which
    /// needs a transaction around the statement.
    async_commit: bool,
}

impl PostgresBatch {
    pub(super) fn new(cap: i64, async_commit: bool) -> PostgresBatch {
        PostgresBatch {
            sql: batch_sql(cap),
            async_commit,
        }
    }

    pub(super) async fn write(&self, db: &Db, rows: Rows) -> Result<Running, CommitError> {
        let query = bind(sqlx::query(&self.sql), &rows);
        let returned = if self.async_commit {
            // One round trip: a simple query with both statements.
            let mut tx = db
                .pool
                .begin_with("BEGIN; SET LOCAL synchronous_commit = off")
                .await
                .map_err(CommitError::Database)?;
            let returned = query
                .fetch_all(&mut *tx)
                .await
                .map_err(CommitError::Database)?;
            tx.commit().await.map_err(CommitError::Database)?;
            returned
        } else {
            query
                .fetch_all(&db.pool)
                .await
                .map_err(CommitError::Database)?
        };
        let mut running: Running = vec![None; rows.counts.len()];
        for row in returned {
            let message_id: &str = row.try_get(0).map_err(CommitError::Database)?;
            let class: &str = row.try_get(1).map_err(CommitError::Database)?;
            let hits: i64 = row.try_get(2).map_err(CommitError::Database)?;
            let Some(class) = Class::parse(class) else {
                continue;
            };
            let found = rows
                .counts
                .binary_search_by(|c| (c.message.id.as_str(), c.class).cmp(&(message_id, class)));
            if let Ok(group) = found {
                running[group] = Some(hits);
            }
        }
        Ok(running)
    }
}

/// The batch's ten arrays, as comma-separated text.
fn bind<'q>(query: AnyQuery<'q>, rows: &Rows) -> AnyQuery<'q> {
    let mut columns: [String; 10] = Default::default();
    for (i, count) in rows.counts.iter().enumerate() {
        let sep = if i > 0 { "," } else { "" };
        let [message, class, hits, first_at, last_at, ..] = &mut columns;
        let _ = write!(message, "{sep}{}", count.message.id);
        let _ = write!(class, "{sep}{}", count.class.as_str());
        let _ = write!(hits, "{sep}{}", count.hits);
        let _ = write!(first_at, "{sep}{}", count.first_at);
        let _ = write!(last_at, "{sep}{}", count.last_at);
    }
    for (i, detail) in rows.details.iter().enumerate() {
        let sep = if i > 0 { "," } else { "" };
        let [.., group, ordinal, at, agent, network] = &mut columns;
        // WITH ORDINALITY numbers the count rows from 1.
        let _ = write!(group, "{sep}{}", detail.group + 1);
        let _ = write!(ordinal, "{sep}{}", detail.ordinal);
        let _ = write!(at, "{sep}{}", detail.at);
        let _ = write!(agent, "{sep}{}", detail.agent.as_str());
        let _ = write!(network, "{sep}{}", rows.network(detail));
    }
    columns
        .into_iter()
        .fold(query, |query, column| query.bind(column))
}

/// The counts in key order, so two servers lock shared rows in the same order; the join
/// drops a message deleted or untracked meanwhile (and with it its detail rows).
fn batch_sql(cap: i64) -> String {
    format!(
        "WITH v AS ( \
           SELECT * FROM unnest(string_to_array($1, ','), string_to_array($2, ','), \
             string_to_array($3, ',')::bigint[], string_to_array($4, ',')::bigint[], \
             string_to_array($5, ',')::bigint[]) \
           WITH ORDINALITY AS v(message_id, class, hits, first_at, last_at, g) \
         ), up AS ( \
           INSERT INTO pixel_counts (message_id, class, hits, details, first_at, last_at) \
           SELECT v.message_id, v.class, v.hits, LEAST({cap}, v.hits), v.first_at, v.last_at \
           FROM v JOIN messages m ON m.id = v.message_id AND m.tracked <> 0 \
           ORDER BY v.message_id, v.class \
           ON CONFLICT (message_id, class) DO UPDATE SET \
           hits = pixel_counts.hits + excluded.hits, \
           details = pixel_counts.details + LEAST({cap}, pixel_counts.hits + excluded.hits) - LEAST({cap}, pixel_counts.hits), \
           first_at = LEAST(pixel_counts.first_at, excluded.first_at), \
           last_at = GREATEST(pixel_counts.last_at, excluded.last_at) \
           RETURNING message_id, class, hits \
         ), kept AS ( \
           INSERT INTO pixel_hits (message_id, at, class, agent, network) \
           SELECT v.message_id, d.at, v.class, d.agent, d.network \
           FROM unnest(string_to_array($6, ',')::bigint[], string_to_array($7, ',')::bigint[], \
             string_to_array($8, ',')::bigint[], string_to_array($9, ','), string_to_array($10, ',')) \
             AS d(g, ordinal, at, agent, network) \
           JOIN v ON v.g = d.g \
           JOIN up ON up.message_id = v.message_id AND up.class = v.class \
           WHERE up.hits - v.hits + d.ordinal <= {cap} \
         ) \
         SELECT message_id, class, hits FROM up"
    )
}
