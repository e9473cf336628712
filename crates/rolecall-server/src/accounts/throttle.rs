//! Throttling failed sign-ins per source address.
//!
//! Accounts lock after repeated failures (their count is in the database,
//! shared by every replica). An attacker who tries one password against
//! many accounts never trips an account's lockout, so failures are also
//! counted per source address: more than [`Throttle::limit`] failures in
//! [`Throttle::window_ms`] and that address is refused until the window has
//! moved on. This count is kept in memory, per process: it resets on a
//! restart, and each replica counts its own share.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The addresses remembered at most; beyond it the oldest are forgotten
/// first, so a flood of addresses cannot exhaust memory.
const MAX_ADDRESSES: usize = 100_000;

/// Failed attempts per source address, in a sliding window.
#[derive(Debug)]
pub struct Throttle {
    limit: usize,
    window_ms: i64,
    failures: Mutex<HashMap<String, VecDeque<i64>>>,
}

impl Default for Throttle {
    /// 20 failures per address in 15 minutes.
    fn default() -> Self {
        Throttle::new(20, 15 * 60_000)
    }
}

impl Throttle {
    /// At most `limit` failures per address within `window_ms`.
    pub fn new(limit: usize, window_ms: i64) -> Throttle {
        Throttle {
            limit,
            window_ms,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// The failures allowed per window.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// The window, in ms.
    pub fn window_ms(&self) -> i64 {
        self.window_ms
    }

    /// When `address` is throttled at `now`: the ms until it may try again.
    pub fn blocked_for(&self, address: &str, now: i64) -> Option<i64> {
        let mut failures = self.lock();
        let times = failures.get_mut(address)?;
        Self::forget_old(times, now - self.window_ms);
        if times.len() < self.limit {
            return None;
        }
        // The oldest failure in the window leaves it first.
        times.front().map(|oldest| oldest + self.window_ms - now)
    }

    /// Counts a failure from `address` at `now`. Returns true when this
    /// failure is the one that reaches the limit (worth an audit record).
    pub fn fail(&self, address: &str, now: i64) -> bool {
        let mut failures = self.lock();
        if failures.len() >= MAX_ADDRESSES && !failures.contains_key(address) {
            let cutoff = now - self.window_ms;
            failures.retain(|_, times| times.back().is_some_and(|&t| t > cutoff));
            if failures.len() >= MAX_ADDRESSES {
                // Still full of recent addresses: drop one to make room.
                if let Some(key) = failures.keys().next().cloned() {
                    failures.remove(&key);
                }
            }
        }
        let times = failures.entry(address.to_owned()).or_default();
        Self::forget_old(times, now - self.window_ms);
        times.push_back(now);
        times.len() == self.limit
    }

    fn forget_old(times: &mut VecDeque<i64>, cutoff: i64) {
        while times.front().is_some_and(|&t| t <= cutoff) {
            times.pop_front();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<i64>>> {
        // A panic while holding the lock leaves consistent data behind.
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_the_limit_until_the_window_moves_on() {
        let throttle = Throttle::new(3, 1000);
        assert_eq!(throttle.blocked_for("a", 0), None);
        assert!(!throttle.fail("a", 0));
        assert!(!throttle.fail("a", 100));
        assert!(throttle.fail("a", 200));
        assert_eq!(throttle.blocked_for("a", 300), Some(700));
        assert_eq!(
            throttle.blocked_for("b", 300),
            None,
            "other addresses are not blocked"
        );
        assert_eq!(
            throttle.blocked_for("a", 1001),
            None,
            "the first failure left the window"
        );
    }
}
