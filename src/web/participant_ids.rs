//! Participant ids as this box issues them: signed with a key kept in the database, so that
//! an id counts only if this box made it, and made at most a few at once per client address
//! (remembered in memory only, never stored), so that a script cannot make participants.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::usage::is_participant_id;

/// New ids one client address may get at once...
pub const NEW_IDS_AT_ONCE: u32 = 5;
/// ...and then one more every this long (about five per ten minutes).
pub const NEW_ID_EVERY: Duration = Duration::from_secs(120);
/// Client addresses remembered at most; beyond, an address not yet seen gets no new id.
const MAX_ADDRESSES: usize = 4096;
/// Ids remembered as already reported kept in this run (then forgotten, and reported again).
const MAX_SEEN: usize = 50_000;

/// What a request's participant cookie holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cookied {
    /// An id this box signed: the cookie came back.
    Signed(String),
    /// An id of the unsigned kind boxes made before ids were signed (or a forged one): it is
    /// signed anew, as a new id would be.
    Unsigned(String),
    /// No cookie, or not one of ours.
    Nothing,
}

/// Issues and checks participant ids: the signing key, and in memory only the new ids per
/// client address and the ids already reported kept.
#[derive(Debug)]
pub struct Visitors {
    key: Vec<u8>,
    new_ids: Mutex<HashMap<IpAddr, Bucket>>,
    seen: Mutex<HashSet<u128>>,
}

/// New ids left to an address, refilled with time.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    left: u32,
    since: Instant,
}

impl Bucket {
    fn refilled(mut self, now: Instant) -> Bucket {
        let every = NEW_ID_EVERY.as_millis().max(1);
        let steps = now.saturating_duration_since(self.since).as_millis() / every;
        if steps > 0 {
            let steps = u32::try_from(steps).unwrap_or(u32::MAX);
            self.left = self.left.saturating_add(steps).min(NEW_IDS_AT_ONCE);
            self.since = if self.left == NEW_IDS_AT_ONCE {
                now
            } else {
                self.since + NEW_ID_EVERY * steps
            };
        }
        self
    }
}

/// The key a client address is limited by: an IPv6 client may use a whole /64 of addresses.
fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0])
            }
        },
    }
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes a key of any length.
    Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!("HMAC takes any key"))
}

impl Visitors {
    /// With the key ids are signed with ([`crate::usage::store::participant_key`]).
    pub fn new(key: Vec<u8>) -> Visitors {
        Visitors {
            key,
            new_ids: Mutex::default(),
            seen: Mutex::default(),
        }
    }

    fn tag(&self, id: &str) -> Hmac<Sha256> {
        let mut m = mac(&self.key);
        m.update(b"hoclieu-participant:");
        m.update(id.as_bytes());
        m
    }

    /// The cookie value for an id: the id, then its signature (32 hex digits each).
    pub fn cookie_for(&self, id: &str) -> String {
        let tag = self.tag(id).finalize().into_bytes();
        format!("{id}{}", crate::content::hex(&tag[..16]))
    }

    /// What a cookie value holds.
    pub fn check(&self, value: Option<&str>) -> Cookied {
        let Some(v) = value else {
            return Cookied::Nothing;
        };
        if is_participant_id(v) {
            return Cookied::Unsigned(v.to_string());
        }
        let (id, tag) = (v.get(..32), v.get(32..));
        match (id, tag) {
            (Some(id), Some(tag)) if is_participant_id(id) && is_participant_id(tag) => {
                let Some(bytes) = crate::content::unhex(tag) else {
                    return Cookied::Nothing;
                };
                match self.tag(id).verify_truncated_left(&bytes) {
                    Ok(()) => Cookied::Signed(id.to_string()),
                    Err(_) => Cookied::Nothing,
                }
            }
            _ => Cookied::Nothing,
        }
    }

    /// Takes one new id from what `peer` may still get; `false` when it has had its share
    /// (or too many addresses are being remembered). A request the accept loop did not give
    /// an address (only an in-process test) is not limited.
    pub fn may_issue(&self, peer: Option<IpAddr>, now: Instant) -> bool {
        let Some(ip) = peer else {
            return true;
        };
        let key = address_key(ip);
        let mut m = self
            .new_ids
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.len() >= MAX_ADDRESSES && !m.contains_key(&key) {
            // A full bucket is the same as none: forget those before refusing.
            m.retain(|_, b| b.refilled(now).left < NEW_IDS_AT_ONCE);
            if m.len() >= MAX_ADDRESSES {
                return false;
            }
        }
        let b = m.get(&key).map_or(
            Bucket {
                left: NEW_IDS_AT_ONCE,
                since: now,
            },
            |b| b.refilled(now),
        );
        if b.left == 0 {
            m.insert(key, b);
            return false;
        }
        m.insert(
            key,
            Bucket {
                left: b.left - 1,
                ..b
            },
        );
        true
    }

    /// Whether `id` is reported kept for the first time in this run (so the report is queued
    /// once, not on every request).
    pub fn first_return(&self, id: &str) -> bool {
        let Ok(n) = u128::from_str_radix(id, 16) else {
            return false;
        };
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() >= MAX_SEEN {
            seen.clear();
        }
        seen.insert(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::new_participant_id;

    #[test]
    fn only_signed_ids_come_back() {
        let v = Visitors::new(vec![7; 32]);
        let id = new_participant_id();
        let c = v.cookie_for(&id);
        assert_eq!(c.len(), 64);
        assert_eq!(v.check(Some(&c)), Cookied::Signed(id.clone()));
        assert_eq!(v.check(Some(&id)), Cookied::Unsigned(id.clone()));
        let other = Visitors::new(vec![8; 32]);
        assert_eq!(other.check(Some(&c)), Cookied::Nothing, "another box's key");
        let mut forged = c.clone();
        forged.replace_range(63.., if c.ends_with('0') { "1" } else { "0" });
        assert_eq!(v.check(Some(&forged)), Cookied::Nothing);
        for bad in ["", "../../etc/passwd", &"A".repeat(64), &c[..50]] {
            assert_eq!(v.check(Some(bad)), Cookied::Nothing, "{bad}");
        }
    }

    #[test]
    fn an_address_gets_a_few_new_ids_then_one_every_two_minutes() {
        let v = Visitors::new(vec![1; 32]);
        let t = Instant::now();
        let phone = Some(IpAddr::from([192, 168, 1, 20]));
        let other = Some(IpAddr::from([192, 168, 1, 21]));
        for _ in 0..NEW_IDS_AT_ONCE {
            assert!(v.may_issue(phone, t));
        }
        assert!(!v.may_issue(phone, t));
        assert!(!v.may_issue(phone, t + Duration::from_secs(119)));
        assert!(v.may_issue(other, t), "another phone is not held back");
        assert!(v.may_issue(phone, t + NEW_ID_EVERY));
        assert!(!v.may_issue(phone, t + NEW_ID_EVERY));
        // After a long quiet time, a few at once again, never more.
        let later = t + Duration::from_secs(3600);
        for _ in 0..NEW_IDS_AT_ONCE {
            assert!(v.may_issue(phone, later));
        }
        assert!(!v.may_issue(phone, later));
        // An IPv6 client cannot dodge the bound by changing the end of its address.
        let a: IpAddr = "fd00:1:2:3::1".parse().unwrap();
        for i in 0..NEW_IDS_AT_ONCE {
            let ip: IpAddr = format!("fd00:1:2:3::{:x}", i + 2).parse().unwrap();
            assert!(v.may_issue(Some(ip), t));
        }
        assert!(!v.may_issue(Some(a), t));
    }

    #[test]
    fn memory_of_addresses_is_bounded() {
        let v = Visitors::new(vec![1; 32]);
        let t = Instant::now();
        for i in 0..MAX_ADDRESSES as u32 {
            assert!(v.may_issue(
                Some(IpAddr::from(std::net::Ipv4Addr::from((10u32 << 24) | i))),
                t
            ));
        }
        assert!(!v.may_issue(Some(IpAddr::from([192, 168, 9, 9])), t));
        // Once the remembered addresses have their share back, they are forgotten.
        let later = t + NEW_ID_EVERY;
        assert!(v.may_issue(Some(IpAddr::from([192, 168, 9, 9])), later));
        assert!(v.new_ids.lock().unwrap().len() <= 2);
    }
}
