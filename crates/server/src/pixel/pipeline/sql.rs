//! The writer's statements for each backend and statement size (power-of-two row counts,
//! so each connection prepares a handful once).

use super::*;

/// `items` in consecutive chunks of [`chunk_sizes`].
pub(super) fn chunks<T>(items: &[T]) -> impl Iterator<Item = &[T]> {
    let mut offset = 0;
    chunk_sizes(items.len()).map(move |size| {
        offset += size;
        &items[offset - size..offset]
    })
}

/// Splits `n` rows into statements of power-of-two sizes, largest first.
pub(super) fn chunk_sizes(n: usize) -> impl Iterator<Item = usize> {
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
pub(super) struct Statements {
    pub(super) lookup: Vec<String>,
    pub(super) upsert: Vec<String>,
    pub(super) detail: Vec<String>,
}

impl Statements {
    pub(super) fn new(backend: Backend, cap: i64) -> Statements {
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
pub(super) fn placeholders(rows: usize, width: usize) -> String {
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
