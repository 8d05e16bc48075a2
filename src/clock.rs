//! Time in the units the store and tokens use, and the clock the server reads it from.
//!
//! Request paths ask the `Clock` in the app state, so a test can move the server's time
//! (mint a token that is already expired, say) instead of waiting for it to pass.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The server's clock: the system time, moved by an offset that only tests change.
/// Copies share the offset, so moving one moves the server's.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
}

impl Clock {
    /// The system time, unmoved.
    pub fn system() -> Clock {
        Clock::default()
    }

    /// Seconds since the Unix epoch, as this clock reads them.
    pub fn now_secs(&self) -> i64 {
        self.now_ms().div_euclid(1000)
    }

    /// Milliseconds since the Unix epoch, as this clock reads them.
    pub fn now_ms(&self) -> i64 {
        now_ms().saturating_add(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Moves this clock (and every copy of it) by `secs`, forwards or backwards.
    pub fn shift(&self, secs: i64) {
        self.offset_ms
            .fetch_add(secs.saturating_mul(1000), Ordering::Relaxed);
    }
}

/// When something that lives `lifespan` seconds from `now` ends, without overflowing: a
/// lifespan too large for the calendar ends at the end of time, a negative one at once.
pub fn expiry(now: i64, lifespan: i64) -> i64 {
    now.saturating_add(lifespan.max(0))
}

/// Seconds since the Unix epoch, by the system time.
pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// Milliseconds since the Unix epoch, by the system time.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shift_moves_every_copy() {
        let clock = Clock::system();
        let copy = clock.clone();
        let before = copy.now_secs();
        clock.shift(-3600);
        let after = copy.now_secs();
        assert!((before - 3600 - after).abs() <= 1, "{before} {after}");
    }

    #[test]
    fn expiry_saturates() {
        assert_eq!(expiry(1_000, i64::MAX), i64::MAX);
        assert_eq!(expiry(1_000, -5), 1_000);
        assert_eq!(expiry(1_000, 300), 1_300);
    }
}
