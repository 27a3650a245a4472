//! A clock that does not trust the box. Boxes without a battery-backed clock or internet come
//! back from a power cut at the last saved time or in 1970, and participation counted on wrong
//! days is worthless. This clock starts from the system time, never runs before the latest
//! time the box is known to have seen (the newest record or material date), and learns the true
//! time from the phones that visit: each page reports the phone's network time, and once
//! enough different phones agree, their median offset is taken. A few phones with wrong clocks
//! cannot move the median; a single phone cannot decide anything.
//!
//! Below the clock are the plain time helpers the rest builds on: now in ms by the system
//! clock, Vietnam days and hours, day numbers, and `YYYY-MM-DD` dates.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use time::{Date, Month};

/// Distinct phones that must report before their time is believed.
pub const MIN_REPORTERS: usize = 3;
/// Reports further apart than this from the median are outliers.
pub const AGREEMENT_MS: i64 = 2 * 60 * 1000;
/// A disagreement smaller than this is left alone (phones' clocks are not exact either).
pub const TOLERANCE_MS: i64 = 5 * 60 * 1000;
/// Reports kept, the most recent (one per phone).
const MAX_REPORTS: usize = 31;
/// A report older than this is forgotten.
const REPORT_TTL_MS: i64 = 6 * 60 * 60 * 1000;

/// Where the system time comes from (the real clock, or a hand-set one in tests).
pub type SystemTime = Box<dyn Fn() -> i64 + Send + Sync>;

/// The box's idea of the time.
pub struct Clock {
    system: SystemTime,
    /// Added to the system time.
    offset: AtomicI64,
    /// The offset once phones have confirmed it; `None` while the time is only a guess.
    confirmed: Mutex<Option<i64>>,
    /// Latest report per phone: (offset it implies, system time received).
    reports: Mutex<HashMap<String, (i64, i64)>>,
    /// A random number naming this run of the server.
    boot: i64,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("offset", &self.offset.load(Ordering::Relaxed))
            .field("confirmed", &self.confirmed_offset())
            .finish_non_exhaustive()
    }
}

/// What a report changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Not enough agreeing phones yet.
    Undecided,
    /// The phones agree with the clock as it is.
    Confirmed,
    /// The phones agree on another time; the clock now follows them (new offset in ms).
    Corrected(i64),
}

impl Clock {
    /// The real system clock, never earlier than `floor_ms` (ms since the epoch).
    pub fn system(floor_ms: i64) -> Clock {
        Clock::with_source(floor_ms, Box::new(now_ms))
    }

    /// A clock reading `system`, never earlier than `floor_ms`.
    pub fn with_source(floor_ms: i64, system: SystemTime) -> Clock {
        let now = system();
        let offset = if now < floor_ms {
            tracing::warn!(
                system_ms = now,
                floor_ms,
                "the system clock is earlier than the last known time; using the last known time until phones report"
            );
            floor_ms - now
        } else {
            0
        };
        Clock {
            system,
            offset: AtomicI64::new(offset),
            confirmed: Mutex::new(None),
            reports: Mutex::new(HashMap::new()),
            boot: random_boot(),
        }
    }

    /// This run's number (guessed times of other runs cannot be fixed with this run's offset).
    pub fn boot(&self) -> i64 {
        self.boot
    }

    /// Now, in ms since the epoch (UTC), as well as the box knows it.
    pub fn now_ms(&self) -> i64 {
        (self.system)() + self.offset.load(Ordering::Relaxed)
    }

    /// The offset applied now.
    pub fn offset_ms(&self) -> i64 {
        self.offset.load(Ordering::Relaxed)
    }

    /// The offset phones confirmed, if they have.
    pub fn confirmed_offset(&self) -> Option<i64> {
        *self
            .confirmed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether times stamped now are only a guess (to be fixed when phones report).
    pub fn is_guess(&self) -> bool {
        self.confirmed_offset().is_none()
    }

    /// A phone (by its participant id) says it is `phone_ms` now.
    pub fn report(&self, phone: &str, phone_ms: i64) -> Verdict {
        let system = (self.system)();
        let mut reports = self
            .reports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        reports.insert(phone.to_string(), (phone_ms - system, system));
        reports.retain(|_, (_, at)| system - *at <= REPORT_TTL_MS);
        if reports.len() > MAX_REPORTS {
            // Keep the most recent ones.
            let mut by_age: Vec<(String, i64)> = reports
                .iter()
                .map(|(k, (_, at))| (k.clone(), *at))
                .collect();
            by_age.sort_by_key(|(_, at)| std::cmp::Reverse(*at));
            for (k, _) in by_age.into_iter().skip(MAX_REPORTS) {
                reports.remove(&k);
            }
        }
        let mut offsets: Vec<i64> = reports.values().map(|(o, _)| *o).collect();
        drop(reports);
        if offsets.len() < MIN_REPORTERS {
            return Verdict::Undecided;
        }
        offsets.sort_unstable();
        let median = offsets[offsets.len() / 2];
        let agreeing = offsets
            .iter()
            .filter(|o| (*o - median).abs() <= AGREEMENT_MS)
            .count();
        // A clear majority, and at least the minimum number of phones, must agree.
        if agreeing < MIN_REPORTERS || agreeing * 2 <= offsets.len() {
            return Verdict::Undecided;
        }
        let mut confirmed = self
            .confirmed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = self.offset.load(Ordering::Relaxed);
        if (median - current).abs() <= TOLERANCE_MS {
            if confirmed.is_none() {
                *confirmed = Some(current);
                tracing::info!(offset_ms = current, "phones confirm the clock");
                return Verdict::Confirmed;
            }
            return Verdict::Undecided;
        }
        self.offset.store(median, Ordering::Relaxed);
        *confirmed = Some(median);
        tracing::warn!(
            from_ms = current,
            to_ms = median,
            phones = agreeing,
            "the clock was wrong; following the time the phones agree on"
        );
        Verdict::Corrected(median)
    }
}

/// The day this release was made: a box's clock is never earlier than that.
pub const RELEASED: &str = "2026-11-29";

/// [`RELEASED`] in ms since the epoch.
pub fn release_floor_ms() -> i64 {
    parse_date(RELEASED).map_or(0, |d| d.midnight().assume_utc().unix_timestamp() * 1000)
}

/// Offset of Vietnam's time (Asia/Ho_Chi_Minh, UTC+7 all year, no daylight saving).
pub const VN_OFFSET_SECS: i64 = 7 * 3600;
/// Julian day number of 1970-01-01.
const EPOCH_JULIAN: i32 = 2_440_588;

/// Milliseconds since the epoch, now, by the system clock (unchecked: see [`Clock`]).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Day number in Vietnam time for a UTC timestamp.
pub fn local_day(at_ms: i64) -> i64 {
    (at_ms.div_euclid(1000) + VN_OFFSET_SECS).div_euclid(86_400)
}

/// Hour of the day (0–23) in Vietnam time.
pub fn local_hour(at_ms: i64) -> i64 {
    (at_ms.div_euclid(1000) + VN_OFFSET_SECS).rem_euclid(86_400) / 3600
}

/// The day number (days since 1970-01-01) of a date.
pub fn day_number(d: Date) -> i64 {
    i64::from(d.to_julian_day() - EPOCH_JULIAN)
}

/// The date of a day number.
pub fn date_of(day: i64) -> Date {
    Date::from_julian_day(day as i32 + EPOCH_JULIAN).unwrap_or(Date::MIN)
}

/// `YYYY-MM-DD`.
pub fn iso(d: Date) -> String {
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<Date> {
    let mut it = s.trim().splitn(3, '-');
    let y: i32 = it.next()?.parse().ok()?;
    let m: u8 = it.next()?.parse().ok()?;
    let d: u8 = it.next()?.parse().ok()?;
    Date::from_calendar_date(y, Month::try_from(m).ok()?, d).ok()
}

fn random_boot() -> i64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    // Positive, and never 0 so it can be told from "no run".
    (i64::from_le_bytes(b) & i64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const DAY: i64 = 24 * 60 * 60 * 1000;
    /// 2026-12-01 00:00 UTC.
    const TRUE_NOW: i64 = 1_796_083_200_000;

    fn clock_at(system: i64, floor: i64) -> (Clock, Arc<AtomicI64>) {
        let t = Arc::new(AtomicI64::new(system));
        let t2 = Arc::clone(&t);
        (
            Clock::with_source(floor, Box::new(move || t2.load(Ordering::Relaxed))),
            t,
        )
    }

    #[test]
    fn a_clock_back_in_1970_starts_from_the_last_known_time_then_follows_the_phones() {
        let floor = TRUE_NOW - 3 * DAY;
        let (c, _) = clock_at(0, floor);
        assert_eq!(c.now_ms(), floor);
        assert!(c.is_guess());
        assert_eq!(c.report("a", TRUE_NOW), Verdict::Undecided);
        assert_eq!(c.report("b", TRUE_NOW + 20_000), Verdict::Undecided);
        // One phone reporting twice is still one phone.
        assert_eq!(c.report("b", TRUE_NOW + 20_000), Verdict::Undecided);
        assert!(matches!(
            c.report("c", TRUE_NOW - 10_000),
            Verdict::Corrected(_)
        ));
        assert!(
            (c.now_ms() - TRUE_NOW).abs() < 30_000,
            "{}",
            c.now_ms() - TRUE_NOW
        );
        assert!(!c.is_guess());
    }

    #[test]
    fn a_few_lying_phones_cannot_move_it() {
        let (c, _) = clock_at(TRUE_NOW, TRUE_NOW - DAY);
        // Two phones set to 2019, one far in the future, four honest ones.
        c.report("liar1", TRUE_NOW - 2_500 * DAY);
        c.report("liar2", TRUE_NOW - 2_500 * DAY);
        c.report("liar3", TRUE_NOW + 900 * DAY);
        c.report("h1", TRUE_NOW + 1_000);
        c.report("h2", TRUE_NOW - 3_000);
        c.report("h3", TRUE_NOW + 4_000);
        assert!(c.is_guess(), "three against three decides nothing");
        assert_eq!(c.report("h4", TRUE_NOW + 2_000), Verdict::Confirmed);
        assert_eq!(c.offset_ms(), 0);
        assert_eq!(c.now_ms(), TRUE_NOW);
    }

    #[test]
    fn liars_without_an_honest_majority_are_undecided() {
        let (c, _) = clock_at(TRUE_NOW, 0);
        c.report("a", TRUE_NOW - 400 * DAY);
        c.report("b", TRUE_NOW + 1_000);
        c.report("c", TRUE_NOW + 77 * DAY);
        c.report("d", TRUE_NOW - 9 * DAY);
        assert!(c.is_guess(), "four phones that all disagree prove nothing");
    }

    #[test]
    fn vietnam_days_start_at_17_utc() {
        // 2026-01-01 00:00 in Hanoi is 2025-12-31 17:00 UTC.
        let new_year_utc_ms = 1_767_200_400_000;
        assert_eq!(local_day(new_year_utc_ms), local_day(new_year_utc_ms + 1));
        assert_eq!(
            local_day(new_year_utc_ms - 1) + 1,
            local_day(new_year_utc_ms)
        );
        assert_eq!(local_hour(new_year_utc_ms), 0);
        assert_eq!(local_hour(new_year_utc_ms - 1), 23);
    }

    #[test]
    fn day_numbers_round_trip() {
        let d = |s| parse_date(s).unwrap();
        assert_eq!(day_number(d("1970-01-01")), 0);
        assert_eq!(date_of(day_number(d("2026-11-29"))), d("2026-11-29"));
        assert_eq!(iso(d(" 2026-02-03")), "2026-02-03");
        assert!(parse_date("2026-02-30").is_none());
    }

    #[test]
    fn a_plausible_but_stale_clock_is_corrected_when_phones_agree() {
        // The box came back at the time it last saved, two days behind.
        let (c, sys) = clock_at(TRUE_NOW - 2 * DAY, TRUE_NOW - 3 * DAY);
        assert_eq!(c.offset_ms(), 0);
        for p in ["a", "b", "c"] {
            c.report(p, TRUE_NOW);
        }
        assert_eq!(c.offset_ms(), 2 * DAY);
        sys.fetch_add(60_000, Ordering::Relaxed);
        assert_eq!(c.now_ms(), TRUE_NOW + 60_000);
        // Small drift later is not worth a change.
        for p in ["d", "e", "f"] {
            c.report(p, c.now_ms() + 30_000);
        }
        assert_eq!(c.offset_ms(), 2 * DAY);
    }
}
