//! Planning a batch: pixel ids resolved to messages (cached), hits re-classed
//! `self_view`, grouped per (message, class) in key order, the day keys loaded.

use super::*;

impl Writer {
    /// Resolves messages, re-classes self-views, groups the hits in key order (contiguous
    /// groups; every server locks shared rows in the same order) and fetches the day keys
    /// the detail rows need (before any transaction: creating one writes).
    pub(super) async fn prepare(
        &mut self,
        batch: Vec<Queued>,
        retried: bool,
        started: Instant,
    ) -> Result<Prepared, (Vec<Queued>, sqlx::Error)> {
        match self.plan(&batch).await {
            Ok(Plan {
                out,
                entries,
                groups,
                day_keys,
            }) => Ok(Prepared {
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

    pub(super) async fn plan(&mut self, batch: &[Queued]) -> Result<Plan, sqlx::Error> {
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
        Ok(Plan {
            out,
            entries,
            groups,
            day_keys,
        })
    }

    /// A fetch from the network that registered the message, soon after: the sender.
    pub(super) async fn is_self_view(
        &self,
        hit: &Hit,
        message: &Message,
    ) -> Result<bool, sqlx::Error> {
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
    pub(super) async fn resolve(&mut self, batch: &[Queued]) -> Result<(), sqlx::Error> {
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
