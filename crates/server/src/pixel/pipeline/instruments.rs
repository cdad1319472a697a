//! The writer's metric handles (the `metrics` crate), taken once when the pipeline starts.

use super::*;

pub(super) fn describe_metrics() {
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
    metrics::describe_gauge!(
        "leakwatch_pixel_parked_hits",
        "Pixel hits held while the database is unreachable, written when it is back"
    );
}

pub(super) struct WriterMetrics {
    pub(super) hits: [Counter; Class::ALL.len()],
    pub(super) dropped: Counter,
    pub(super) failed_commits: Counter,
    pub(super) failed_hits: Counter,
    pub(super) batch_size: Histogram,
    pub(super) commit_seconds: Histogram,
    pub(super) queue_depth: Gauge,
    pub(super) parked_hits: Gauge,
}

impl WriterMetrics {
    pub(super) fn new() -> Self {
        WriterMetrics {
            hits: Class::ALL
                .map(|c| metrics::counter!("leakwatch_pixel_hits_total", "class" => c.as_str())),
            dropped: metrics::counter!("leakwatch_pixel_dropped_total"),
            failed_commits: metrics::counter!("leakwatch_pixel_commit_failures_total"),
            failed_hits: metrics::counter!("leakwatch_pixel_unconfirmed_total", "reason" => "commit_failed"),
            batch_size: metrics::histogram!("leakwatch_pixel_batch_size"),
            commit_seconds: metrics::histogram!("leakwatch_pixel_commit_seconds"),
            queue_depth: metrics::gauge!("leakwatch_pixel_queue_depth"),
            parked_hits: metrics::gauge!("leakwatch_pixel_parked_hits"),
        }
    }
}
