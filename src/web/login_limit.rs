//! Failed staff logins per client address, kept in memory only (addresses are never stored),
//! and the bound on password checks running at once (each argon2 check takes 19 MiB and most
//! of a core).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed logins allowed per address within [`LIMIT_WINDOW`].
const MAX_FAILURES: u32 = 5;
/// How long failures are remembered.
const LIMIT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Password checks running at once.
const CONCURRENT_HASHES: usize = 2;

/// Failed login attempts per client address.
#[derive(Debug)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    /// Permits for password checks.
    pub hashing: tokio::sync::Semaphore,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            failures: Mutex::default(),
            hashing: tokio::sync::Semaphore::new(CONCURRENT_HASHES),
        }
    }
}

impl LoginLimiter {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (u32, Instant)>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether this address may try again now.
    pub fn allowed(&self, ip: IpAddr) -> bool {
        let mut m = self.map();
        m.retain(|_, (_, since)| since.elapsed() < LIMIT_WINDOW);
        m.get(&ip).is_none_or(|(n, _)| *n < MAX_FAILURES)
    }

    /// Counts a failed attempt.
    pub fn failed(&self, ip: IpAddr) {
        let mut m = self.map();
        let e = m.entry(ip).or_insert((0, Instant::now()));
        e.0 += 1;
    }

    /// Forgets this address's failures.
    pub fn succeeded(&self, ip: IpAddr) {
        self.map().remove(&ip);
    }
}
