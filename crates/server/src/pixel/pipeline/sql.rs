//! The writer's message lookup in power-of-two row counts (a batch's new pixel ids are
//! split into such chunks), so each connection prepares a handful of statements once.

use super::*;

/// The message lookup, per statement size (index: log2 of the row count); the same SQL
/// serves both backends. The writes are each backend's own (`sqlite.rs`, `postgres.rs`).
pub(super) struct Statements {
    pub(super) lookup: Vec<String>,
}

impl Statements {
    pub(super) fn new() -> Statements {
        let lookup = (0..CHUNK_SIZES)
            .map(|bit| {
                format!(
                    "SELECT id, pixel_id, sender_network, created_at FROM messages WHERE pixel_id IN ({}) AND tracked <> 0",
                    placeholders(1 << bit, 1)
                )
            })
            .collect();
        Statements { lookup }
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
