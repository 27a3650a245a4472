//! Staff login attempts per client address and per account, kept in memory only (addresses
//! are never stored), and the bound on password checks running at once (each argon2 check
//! takes 19 MiB and most of a core).
//!
//! An attempt is counted *before* its password is checked, so a burst of simultaneous guesses
//! cannot all pass the limit while they wait for hashing; a success takes back only its own
//! attempt, so logging in with one's own account never wipes the failures against another.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Attempts allowed per address within [`LIMIT_WINDOW`].
const MAX_PER_ADDRESS: u32 = 5;
/// Attempts allowed against one account within [`LIMIT_WINDOW`], from anywhere.
const MAX_PER_ACCOUNT: u32 = 5;
/// How long attempts are remembered.
const LIMIT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Password checks running at once.
const CONCURRENT_HASHES: usize = 2;
/// Accounts remembered at most (guesses at made-up names must not grow memory for ever).
const MAX_KEYS: usize = 10_000;

/// Who an attempt is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Address(IpAddr),
    Account(String),
}

/// Failed (or still running) login attempts.
#[derive(Debug)]
pub struct LoginLimiter {
    attempts: Mutex<HashMap<Key, (u32, Instant)>>,
    /// Permits for password checks.
    pub hashing: tokio::sync::Semaphore,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            attempts: Mutex::default(),
            hashing: tokio::sync::Semaphore::new(CONCURRENT_HASHES),
        }
    }
}

/// One counted attempt; [`LoginLimiter::succeeded`] takes it back.
#[derive(Debug)]
pub struct Attempt {
    keys: [Key; 2],
}

fn account_key(user: &str) -> Key {
    Key::Account(user.trim().to_lowercase().chars().take(64).collect())
}

impl LoginLimiter {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<Key, (u32, Instant)>> {
        self.attempts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts an attempt from `ip` at `user`, or refuses it (`None`) when either has had
    /// too many within the window.
    pub fn begin(&self, ip: IpAddr, user: &str) -> Option<Attempt> {
        let keys = [Key::Address(ip), account_key(user)];
        let mut m = self.map();
        m.retain(|_, (_, since)| since.elapsed() < LIMIT_WINDOW);
        let full = |k: &Key, max: u32| m.get(k).is_some_and(|(n, _)| *n >= max);
        if full(&keys[0], MAX_PER_ADDRESS) || full(&keys[1], MAX_PER_ACCOUNT) {
            return None;
        }
        if m.len() >= MAX_KEYS && !m.contains_key(&keys[1]) {
            // Memory is bounded: a flood of made-up names is refused rather than remembered.
            return None;
        }
        for k in &keys {
            m.entry(k.clone()).or_insert((0, Instant::now())).0 += 1;
        }
        Some(Attempt { keys })
    }

    /// The attempt succeeded: it no longer counts (other attempts still do).
    pub fn succeeded(&self, attempt: Attempt) {
        let mut m = self.map();
        for k in attempt.keys {
            if let Some((n, _)) = m.get_mut(&k) {
                *n = n.saturating_sub(1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_count_before_checking_and_a_success_clears_only_itself() {
        let l = LoginLimiter::default();
        let ip: IpAddr = [192, 168, 1, 9].into();
        // Five guesses at once all count before any is checked: the sixth is refused.
        let running: Vec<_> = (0..5).map(|_| l.begin(ip, "quanly").unwrap()).collect();
        assert!(l.begin(ip, "quanly").is_none());
        drop(running);
        // From another address the account is still protected.
        assert!(l.begin([10, 0, 0, 2].into(), "QuanLy").is_none());
        // A teacher's own success elsewhere does not reset the manager's failures.
        let teacher: IpAddr = [10, 0, 0, 3].into();
        for _ in 0..3 {
            let a = l.begin(teacher, "co-lan").unwrap();
            l.succeeded(a);
        }
        assert!(l.begin(teacher, "quanly").is_none());
        // Successes do not use up the teacher's own allowance.
        for _ in 0..10 {
            let a = l.begin(teacher, "co-lan").unwrap();
            l.succeeded(a);
        }
    }
}
