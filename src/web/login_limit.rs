//! Staff login attempts per client address and per account, kept in memory only (addresses
//! are never stored), and the short queue for password hashing: one hash at a time (in the
//! process's one argon2 buffer, `accounts::password`), a few waiting, the rest refused at once.
//!
//! An attempt is counted *before* its password is checked, so a burst of simultaneous guesses
//! cannot all pass the limit while they wait for hashing; a success takes back only its own
//! attempt, so logging in with one's own account never wipes the failures against another.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Attempts allowed per address within [`LIMIT_WINDOW`].
const MAX_PER_ADDRESS: u32 = 5;
/// Attempts allowed against one account within [`LIMIT_WINDOW`], from anywhere.
const MAX_PER_ACCOUNT: u32 = 5;
/// How long attempts are remembered.
const LIMIT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Password hashes running at once: one, as there is one argon2 buffer (19 MiB). A second
/// would double that memory to save a fraction of a second on a login, on a box whose RAM is
/// scarcer than its time, and leaves the other core to the villagers' pages.
const CONCURRENT_HASHES: usize = 1;
/// Password hashes running or waiting; more are refused at once as "busy" (on a Pi a hash
/// takes about 0.3 s, so the last in the queue waits about a second).
pub const HASH_QUEUE: usize = 4;
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
    /// Places in the hashing queue (running or waiting).
    queue: Arc<Semaphore>,
    /// Permits to hash now.
    running: Arc<Semaphore>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            attempts: Mutex::default(),
            queue: Arc::new(Semaphore::new(HASH_QUEUE)),
            running: Arc::new(Semaphore::new(CONCURRENT_HASHES)),
        }
    }
}

/// The turn to hash a password: move it into the blocking work, so that a client that hangs
/// up does not free the turn while its hash still runs.
#[derive(Debug)]
pub struct HashTurn {
    _queued: OwnedSemaphorePermit,
    _running: OwnedSemaphorePermit,
}

/// Too many password hashes already wait: answer "busy" instead of queueing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks waiting")]
pub struct Busy;

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

    /// Waits for the turn to hash a password, or refuses at once when [`HASH_QUEUE`] hashes
    /// already run or wait.
    pub async fn hash_turn(&self) -> Result<HashTurn, Busy> {
        let queued = Arc::clone(&self.queue)
            .try_acquire_owned()
            .map_err(|_| Busy)?;
        let running = Arc::clone(&self.running)
            .acquire_owned()
            .await
            .map_err(|_| Busy)?;
        Ok(HashTurn {
            _queued: queued,
            _running: running,
        })
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

    #[tokio::test]
    async fn the_hash_queue_is_short_and_refuses_at_once() {
        let l = LoginLimiter::default();
        let first = l.hash_turn().await.unwrap();
        // The others wait for the one running...
        let waiting: Vec<_> = (1..HASH_QUEUE).map(|_| Box::pin(l.hash_turn())).collect();
        let mut waiting = waiting;
        for w in &mut waiting {
            assert!(futures_poll_once(w).is_none(), "waits while one runs");
        }
        // ...and one more is refused without waiting.
        assert_eq!(l.hash_turn().await.unwrap_err(), Busy);
        drop(first);
        let second = waiting.remove(0).await.unwrap();
        drop(second);
    }

    /// Polls a future once.
    fn futures_poll_once<F: std::future::Future + Unpin>(f: &mut F) -> Option<F::Output> {
        let waker = std::task::Waker::noop();
        let mut cx = std::task::Context::from_waker(waker);
        match std::pin::Pin::new(f).poll(&mut cx) {
            std::task::Poll::Ready(v) => Some(v),
            std::task::Poll::Pending => None,
        }
    }

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
