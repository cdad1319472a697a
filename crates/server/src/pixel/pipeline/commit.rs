//! Writing a planned batch: the multi-row upserts and the detail rows under the cap in
//! one transaction, or a flood in one autocommit upsert.

use super::*;

/// Writes a prepared batch: the counts (multi-row upserts) and the detail rows under the
/// cap, in one transaction; a flood on classes already past their cap in one statement.
pub(super) async fn execute(ctx: Arc<Ctx>, mut prepared: Prepared) -> Done {
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
    Done { prepared, result }
}

pub(super) async fn write(ctx: &Ctx, p: &mut Prepared) -> Result<(), sqlx::Error> {
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
    pub(super) fn upsert_query<'q>(&'q self, p: &'q Prepared, groups: &[Group]) -> AnyQuery<'q> {
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
    pub(super) fn returned(
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
    pub(super) fn detail_query<'q>(&'q self, p: &'q Prepared, details: &[usize]) -> AnyQuery<'q> {
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
