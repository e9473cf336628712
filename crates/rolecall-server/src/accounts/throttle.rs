//! Throttling failed sign-ins per account and source address together.
//!
//! Accounts lock after repeated failures (their count is in the database,
//! shared by every replica). In memory, per process, failures are also
//! counted per pair of a source address and the account the attempt named
//! (its email, as typed: an email with no account counts exactly like one
//! with an account, so the throttle tells nothing about which exist):
//!
//! - **per pair**: [`Limits::per_account`] failures within
//!   [`Limits::window_ms`] and that address may not try that account again
//!   until the window has moved on. Others behind the same address (a
//!   clinic behind one NAT) are not held up;
//! - **per address**: failures against [`Limits::accounts_per_address`]
//!   different accounts within the window, and the address may try no
//!   account until the window has moved on. This is the ceiling against
//!   password spraying (one password tried on many accounts), set far above
//!   what the staff of one site mistype in a quarter of an hour.
//!
//! The counts reset on a restart, and each replica counts its own share.
//! Memory is bounded: at most [`MAX_PAIRS`] pairs are remembered, each with
//! at most [`Limits::per_account`] times; accounts are remembered as 64-bit
//! keyed hashes, so a long typed "email" costs no more than a short one.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Mutex;

/// The pairs of address and account remembered at most; beyond it those
/// whose failures left the window are forgotten, and if that is not enough,
/// whole addresses. About 15 MB when full.
pub const MAX_PAIRS: usize = 100_000;

/// How many failures are allowed, and over which window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Failures from one address against one account.
    pub per_account: usize,
    /// Different accounts one address may fail against.
    pub accounts_per_address: usize,
    /// The sliding window both are counted over (ms).
    pub window_ms: i64,
}

impl Default for Limits {
    /// 10 failures per account and address, 50 accounts per address, in 15
    /// minutes.
    fn default() -> Self {
        Limits {
            per_account: 10,
            accounts_per_address: 50,
            window_ms: 15 * 60_000,
        }
    }
}

/// Why an attempt is refused, and for how long (ms).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blocked {
    /// This address failed too often against this account.
    Account {
        /// Until the oldest of those failures leaves the window.
        wait_ms: i64,
    },
    /// This address failed against too many accounts.
    Address {
        /// Until enough of those accounts leave the window.
        wait_ms: i64,
    },
}

impl Blocked {
    /// How long until an attempt is allowed again (ms).
    pub fn wait_ms(self) -> i64 {
        match self {
            Blocked::Account { wait_ms } | Blocked::Address { wait_ms } => wait_ms,
        }
    }
}

/// Which limit a failure has just reached (worth an audit record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// [`Limits::per_account`] for this pair.
    Account,
    /// [`Limits::accounts_per_address`] for this address.
    Address,
}

/// Failed attempts per address and account, in a sliding window.
#[derive(Debug)]
pub struct Throttle {
    limits: Limits,
    /// Keys the account hashes, so nobody can pick emails that collide.
    keys: RandomState,
    state: Mutex<State>,
}

/// Per address, per account (hashed), the times of recent failures, oldest
/// first.
#[derive(Debug, Default)]
struct State {
    addresses: HashMap<String, HashMap<u64, VecDeque<i64>>>,
    /// The pairs in `addresses`, kept at most [`MAX_PAIRS`].
    pairs: usize,
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::new(Limits::default())
    }
}

impl Throttle {
    /// A throttle with these limits.
    pub fn new(limits: Limits) -> Throttle {
        Throttle {
            limits,
            keys: RandomState::new(),
            state: Mutex::new(State::default()),
        }
    }

    /// The limits.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn key(&self, account: &str) -> u64 {
        self.keys.hash_one(account.trim().to_ascii_lowercase())
    }

    /// Whether `address` may not try `account` at `now`, and why.
    pub fn blocked_for(&self, address: &str, account: &str, now: i64) -> Option<Blocked> {
        let key = self.key(account);
        let mut state = self.lock();
        let cutoff = now - self.limits.window_ms;
        let accounts = state.prune(address, cutoff)?;
        if accounts.len() >= self.limits.accounts_per_address {
            // Allowed again once all but `accounts_per_address - 1` of them
            // have left the window: the latest failure of each, ordered.
            let mut latest: Vec<i64> = accounts
                .values()
                .filter_map(|t| t.back().copied())
                .collect();
            latest.sort_unstable();
            let leaving = latest.len() - self.limits.accounts_per_address;
            let wait_ms = latest
                .get(leaving)
                .map_or(0, |t| t + self.limits.window_ms - now);
            return Some(Blocked::Address { wait_ms });
        }
        let times = accounts.get(&key)?;
        if times.len() >= self.limits.per_account {
            let wait_ms = times
                .front()
                .map_or(0, |oldest| oldest + self.limits.window_ms - now);
            return Some(Blocked::Account { wait_ms });
        }
        None
    }

    /// Counts a failure from `address` against `account` at `now`. Returns
    /// the limit this failure is the one to reach, if any.
    pub fn fail(&self, address: &str, account: &str, now: i64) -> Option<Reached> {
        let key = self.key(account);
        let mut state = self.lock();
        let cutoff = now - self.limits.window_ms;
        let known = state
            .prune(address, cutoff)
            .is_some_and(|accounts| accounts.contains_key(&key));
        if !known {
            state.make_room(address, cutoff);
            state.pairs += 1;
        }
        let accounts = state.addresses.entry(address.to_owned()).or_default();
        let times = accounts.entry(key).or_default();
        let before = times.len();
        times.push_back(now);
        if times.len() > self.limits.per_account {
            // Past the limit the count no longer matters, only the newest.
            times.pop_front();
        }
        if !known && accounts.len() == self.limits.accounts_per_address {
            Some(Reached::Address)
        } else if before + 1 == self.limits.per_account {
            Some(Reached::Account)
        } else {
            None
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent data behind.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl State {
    /// Forgets the failures of `address` that left the window; its accounts
    /// with failures left, if any.
    fn prune(&mut self, address: &str, cutoff: i64) -> Option<&mut HashMap<u64, VecDeque<i64>>> {
        let accounts = self.addresses.get_mut(address)?;
        let before = accounts.len();
        accounts.retain(|_, times| {
            while times.front().is_some_and(|&t| t <= cutoff) {
                times.pop_front();
            }
            !times.is_empty()
        });
        self.pairs -= before - accounts.len();
        if accounts.is_empty() {
            self.addresses.remove(address);
            return None;
        }
        self.addresses.get_mut(address)
    }

    /// Makes room for one more pair of `address` when [`MAX_PAIRS`] are
    /// remembered: forgets what left the window, then, if still full, other
    /// addresses altogether, a tenth of the room at once, so that a flood
    /// of new pairs does not pay for a full pass each.
    fn make_room(&mut self, address: &str, cutoff: i64) {
        if self.pairs < MAX_PAIRS {
            return;
        }
        let keys: Vec<String> = self.addresses.keys().cloned().collect();
        for key in keys {
            self.prune(&key, cutoff);
        }
        while self.pairs >= MAX_PAIRS - MAX_PAIRS / 10 {
            let Some(victim) = self.addresses.keys().find(|k| *k != address).cloned() else {
                break;
            };
            if let Some(accounts) = self.addresses.remove(&victim) {
                self.pairs -= accounts.len();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Throttle {
        Throttle::new(Limits {
            per_account: 3,
            accounts_per_address: 4,
            window_ms: 1000,
        })
    }

    #[test]
    fn a_pair_is_blocked_after_its_limit_until_the_window_moves_on() {
        let throttle = small();
        assert_eq!(throttle.blocked_for("a", "ann@x", 0), None);
        assert_eq!(throttle.fail("a", "ann@x", 0), None);
        assert_eq!(throttle.fail("a", "ann@x", 100), None);
        assert_eq!(throttle.fail("a", "Ann@X ", 200), Some(Reached::Account));
        assert_eq!(
            throttle.blocked_for("a", "ann@x", 300),
            Some(Blocked::Account { wait_ms: 700 })
        );
        assert_eq!(
            throttle.blocked_for("a", "bo@x", 300),
            None,
            "another account behind the same address is not blocked"
        );
        assert_eq!(
            throttle.blocked_for("b", "ann@x", 300),
            None,
            "the same account from another address is not blocked"
        );
        assert_eq!(
            throttle.blocked_for("a", "ann@x", 1001),
            None,
            "the first failure left the window"
        );
    }

    #[test]
    fn an_address_is_blocked_after_failing_against_many_accounts() {
        let throttle = small();
        for (i, account) in ["p@x", "q@x", "r@x"].iter().enumerate() {
            assert_eq!(throttle.fail("a", account, i as i64 * 100), None);
        }
        assert_eq!(throttle.fail("a", "p@x", 250), None, "no new account");
        assert_eq!(throttle.fail("a", "s@x", 300), Some(Reached::Address));
        // Blocked until one account (q@x, failed at 100) leaves the window.
        assert_eq!(
            throttle.blocked_for("a", "anyone@x", 400),
            Some(Blocked::Address { wait_ms: 700 })
        );
        assert_eq!(throttle.blocked_for("b", "anyone@x", 400), None);
        assert_eq!(throttle.blocked_for("a", "anyone@x", 1101), None);
    }

    #[test]
    fn memory_stays_bounded_by_the_pairs_remembered() {
        let throttle = Throttle::new(Limits {
            per_account: 2,
            accounts_per_address: usize::MAX,
            window_ms: i64::MAX / 4,
        });
        for i in 0..MAX_PAIRS + 10 {
            throttle.fail(&format!("10.0.{}.{}", i / 256, i % 256), "x@y", 0);
        }
        for _ in 0..10 {
            throttle.fail("10.9.9.9", "x@y", 0);
        }
        let state = throttle.lock();
        assert!(state.pairs <= MAX_PAIRS, "{}", state.pairs);
        let counted: usize = state.addresses.values().map(HashMap::len).sum();
        assert_eq!(counted, state.pairs);
        assert!(state.addresses["10.9.9.9"].values().all(|t| t.len() <= 2));
    }
}
