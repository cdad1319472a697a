//! The server's idea of "now" for everything that acts on time passing: alert rules that
//! fire after N hours, reminders, retention. Production uses the system clock; tests use a
//! manual clock and move it forward, so that "48 hours later" takes no time at all.
//! What records when something happened (registration, pixel fetches, incidents, alerts)
//! uses it too, so a test sees one consistent time line; only the outbox's delivery
//! schedule and token expiry use the system clock.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub struct Clock(Option<Arc<AtomicI64>>);

impl Clock {
    /// The system clock.
    pub fn system() -> Clock {
        Clock(None)
    }

    /// A clock that stands still at `now_ms` until moved with [`Clock::advance`] or [`Clock::set`].
    pub fn manual(now_ms: i64) -> Clock {
        Clock(Some(Arc::new(AtomicI64::new(now_ms))))
    }

    /// Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match &self.0 {
            None => crate::kit::time::now_ms(),
            Some(t) => t.load(Ordering::SeqCst),
        }
    }

    /// Moves a manual clock forward; panics on the system clock, which cannot be moved.
    pub fn advance(&self, ms: i64) {
        self.0
            .as_ref()
            .expect("only a manual clock can be moved")
            .fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set(&self, now_ms: i64) {
        self.0
            .as_ref()
            .expect("only a manual clock can be moved")
            .store(now_ms, Ordering::SeqCst);
    }

    pub fn is_manual(&self) -> bool {
        self.0.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(48 * 3600 * 1000);
        assert_eq!(clock.now_ms(), 1_000 + 48 * 3600 * 1000);
        let shared = clock.clone();
        shared.set(5);
        assert_eq!(clock.now_ms(), 5);
    }

    #[test]
    fn the_system_clock_is_now() {
        let before = crate::kit::time::now_ms();
        let now = Clock::system().now_ms();
        assert!(now >= before && now - before < 5_000);
    }
}
