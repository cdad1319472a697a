//! What the pixel writer tells whoever evaluates fetches (the alert engine): the messages it
//! has just committed fetches of. The pixel defines it and only pushes; the reader is wired
//! in at the root, so the pixel knows nothing of alerts.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Messages the pixel writer has just committed fetches for, waiting for the evaluator.
/// A set, so a flood on one message is one evaluation, however many commits it takes.
#[derive(Clone, Default)]
pub struct CommitFeed(Arc<Feed>);

#[derive(Default)]
struct Feed {
    messages: Mutex<HashSet<String>>,
    wake: Notify,
}

impl CommitFeed {
    pub fn push<'a>(&self, message_ids: impl IntoIterator<Item = &'a str>) {
        let mut set = self
            .0
            .messages
            .lock()
            .expect("the feed lock is never poisoned");
        let before = set.len();
        for id in message_ids {
            if !set.contains(id) {
                set.insert(id.to_string());
            }
        }
        let grew = set.len() > before;
        drop(set);
        if grew {
            self.0.wake.notify_one();
        }
    }

    /// Nothing pushed since the last take.
    pub fn is_empty(&self) -> bool {
        self.0
            .messages
            .lock()
            .expect("the feed lock is never poisoned")
            .is_empty()
    }

    /// Everything pushed since the last take.
    pub fn take(&self) -> HashSet<String> {
        std::mem::take(
            &mut *self
                .0
                .messages
                .lock()
                .expect("the feed lock is never poisoned"),
        )
    }
}

impl CommitFeed {
    /// Resolves when something new was pushed (or was pushed before and not yet waited for).
    pub async fn pushed(&self) {
        self.0.wake.notified().await
    }
}
