//! A clock that does not trust the box. Boxes without a battery-backed clock or internet come
//! back from a power cut at the last saved time or in 1970, and participation counted on wrong
//! days is worthless. This clock starts from the system time, never runs before the latest
//! time the box is known to have seen (the newest record or material date), and learns the true
//! time from the phones that visit: each page reports the phone's network time, and once
//! enough different phones agree, their median offset is taken. A few phones with wrong clocks
//! cannot move the median; a single phone cannot decide anything. Phones move it at once only up
//! to [`FREE_AHEAD_MS`] beyond what the box itself knows; further only when they keep saying so
//! for [`CONSISTENT_MS`], or when staff confirm the date. Which day old records may be pruned by
//! ([`Clock::prune_ms`]) is a stricter question: phones alone can never push it further than
//! the last trusted date plus the box's run time and [`FREE_AHEAD_MS`].
//!
//! Below the clock are the plain time helpers the rest builds on: now in ms by the system
//! clock, Vietnam days and hours, day numbers, and `YYYY-MM-DD` dates.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use time::{Date, Month};

/// Distinct phones that must report before their time is believed.
pub const MIN_REPORTERS: usize = 3;
/// Reports further apart than this from the median are outliers.
pub const AGREEMENT_MS: i64 = 2 * 60 * 1000;
/// A disagreement smaller than this is left alone (phones' clocks are not exact either).
pub const TOLERANCE_MS: i64 = 5 * 60 * 1000;
/// How far phones may move the clock forward at once beyond the earliest the date can be (the
/// newest record, or the date staff set, plus the time the box has run since). A week covers a
/// box unplugged over a holiday; a longer absence waits for [`CONSISTENT_MS`] or staff.
pub const FREE_AHEAD_MS: i64 = 7 * DAY_MS;
/// A time further ahead is followed only when the phones agreeing on it have kept saying so
/// for this long (each phone's report counts from when it first gave that time).
pub const CONSISTENT_MS: i64 = 60 * 60 * 1000;
/// Phones must agree with the date again this long after it was taken before old records are
/// pruned by it.
pub const STABLE_MS: i64 = 60 * 60 * 1000;
/// Reports kept, the most recent (one per phone).
const MAX_REPORTS: usize = 31;
/// A report older than this is forgotten.
const REPORT_TTL_MS: i64 = 6 * 60 * 60 * 1000;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// Where the system time comes from (the real clock, or a hand-set one in tests).
pub type SystemTime = Box<dyn Fn() -> i64 + Send + Sync>;

/// Who the clock's time comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Nobody has confirmed it: the system time, or the last known time.
    Guess,
    /// Phones agree on it.
    Phones,
    /// Staff set or confirmed it in the staff area.
    Staff,
}

/// A move of the clock that phones caused, kept for the staff area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jump {
    /// The clock's time just before the move.
    pub from_ms: i64,
    /// The time phones moved it to.
    pub to_ms: i64,
    /// Phones that agreed.
    pub phones: usize,
    /// Whether it went beyond [`FREE_AHEAD_MS`] (taken only after [`CONSISTENT_MS`]).
    pub far: bool,
}

/// What the staff area shows about the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// Now, by the clock.
    pub now_ms: i64,
    /// Who the time comes from.
    pub source: Source,
    /// What phones agree on but the clock does not follow yet (too far ahead): their time now.
    pub held_ms: Option<i64>,
    /// The last move phones caused in this run.
    pub jump: Option<Jump>,
    /// The day old records may be pruned by now, if any (see [`Clock::prune_ms`]).
    pub prune_day: Option<i64>,
}

/// One phone's latest report.
#[derive(Debug, Clone, Copy)]
struct Report {
    /// The offset it implies.
    offset: i64,
    /// System time received.
    at: i64,
    /// System time this phone first gave (about) this offset, and the offset it gave then: a
    /// time that creeps a little with every report does not stay "the same" for long.
    since: i64,
    first: i64,
}

/// Everything a report or staff may change, under one lock.
#[derive(Debug)]
struct Trust {
    /// The offset once confirmed; `None` while the time is only a guess.
    confirmed: Option<i64>,
    source: Source,
    /// System time the confirmed offset was taken, and last agreed with by phones.
    taken_at: i64,
    agreed_at: i64,
    /// The earliest the date can be was `known_ms` at system time `known_sys` (the newest
    /// record at start, or the date staff set): the base of [`FREE_AHEAD_MS`].
    known_ms: i64,
    known_sys: i64,
    /// The date old records were last pruned by (in an earlier run, or set by staff) was
    /// `pruned_ms` at system time `pruned_sys`: the base of pruning by phones' word.
    pruned_ms: i64,
    pruned_sys: i64,
    held: Option<i64>,
    jump: Option<Jump>,
}

/// The box's idea of the time.
pub struct Clock {
    system: SystemTime,
    /// Added to the system time.
    offset: AtomicI64,
    trust: Mutex<Trust>,
    /// Latest report per phone.
    reports: Mutex<HashMap<String, Report>>,
    /// A random number naming this run of the server.
    boot: i64,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("offset", &self.offset.load(Ordering::Relaxed))
            .field("trust", &*self.trust())
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
    /// The phones agree on a time too far ahead to follow yet (their offset in ms): followed
    /// once they keep saying so for [`CONSISTENT_MS`], or when staff confirm it.
    Held(i64),
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
            trust: Mutex::new(Trust {
                confirmed: None,
                source: Source::Guess,
                taken_at: now,
                agreed_at: now,
                // The time the clock starts at: a box set up weeks after its release, its
                // clock a few days behind, must still take the phones' word at once (with
                // the release date as base, every box fell "far" behind a week after it).
                known_ms: floor_ms.max(now),
                known_sys: now,
                pruned_ms: floor_ms,
                pruned_sys: now,
                held: None,
                jump: None,
            }),
            reports: Mutex::new(HashMap::new()),
            boot: random_boot(),
        }
    }

    /// The same clock, with old records last pruned by `ms` (see [`read_pruned`]): pruning
    /// by phones' word goes on from there, not from the newest record, which phones may have
    /// moved in an earlier run.
    pub fn with_pruned_ms(self, ms: Option<i64>) -> Clock {
        if let Some(ms) = ms {
            self.trust().pruned_ms = ms;
        }
        self
    }

    fn trust(&self) -> std::sync::MutexGuard<'_, Trust> {
        self.trust
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
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

    /// The offset phones or staff confirmed, if they have.
    pub fn confirmed_offset(&self) -> Option<i64> {
        self.trust().confirmed
    }

    /// Whether times stamped now are only a guess (to be fixed when phones report).
    pub fn is_guess(&self) -> bool {
        self.confirmed_offset().is_none()
    }

    /// What the staff area shows.
    pub fn status(&self) -> Status {
        let system = (self.system)();
        let t = self.trust();
        Status {
            now_ms: system + self.offset_ms(),
            source: t.source,
            held_ms: t.held.map(|o| system + o),
            jump: t.jump,
            prune_day: prune_ms(&t, system, system + self.offset_ms()).map(local_day),
        }
    }

    /// The time old records may be pruned by now, if any (they are pruned by its Vietnam
    /// day). Never while the time is a guess, nor until phones have agreed with it again
    /// [`STABLE_MS`] after it was taken; and phones alone never push it further than the date
    /// last pruned by (in an earlier run, or set by staff), plus the time the box has run since
    /// and [`FREE_AHEAD_MS`]: a jump they cause cannot delete what the last trusted date kept.
    /// A date staff confirmed is pruned by as it is.
    pub fn prune_ms(&self) -> Option<i64> {
        let system = (self.system)();
        prune_ms(&self.trust(), system, system + self.offset_ms())
    }

    /// Staff say it is `at_ms` now: the clock follows, the date is trusted (old records are
    /// pruned by it) and phones move it from there on only within [`FREE_AHEAD_MS`].
    pub fn set_by_staff(&self, at_ms: i64) {
        let system = (self.system)();
        let mut t = self.trust();
        let offset = at_ms - system;
        let from = system + self.offset_ms();
        self.offset.store(offset, Ordering::Relaxed);
        *t = Trust {
            confirmed: Some(offset),
            source: Source::Staff,
            taken_at: system,
            agreed_at: system,
            known_ms: at_ms,
            known_sys: system,
            pruned_ms: at_ms,
            pruned_sys: system,
            held: None,
            jump: None,
        };
        drop(t);
        // Reports made before no longer count for or against the new time.
        self.reports().clear();
        tracing::warn!(from_ms = from, to_ms = at_ms, "staff set the clock");
    }

    fn reports(&self) -> std::sync::MutexGuard<'_, HashMap<String, Report>> {
        self.reports
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A phone (by its address) says it is `phone_ms` now.
    pub fn report(&self, phone: &str, phone_ms: i64) -> Verdict {
        let system = (self.system)();
        let offset = phone_ms - system;
        let mut reports = self.reports();
        let (since, first) = match reports.get(phone) {
            Some(r) if (r.first - offset).abs() <= AGREEMENT_MS => (r.since, r.first),
            _ => (system, offset),
        };
        reports.insert(
            phone.to_string(),
            Report {
                offset,
                at: system,
                since,
                first,
            },
        );
        reports.retain(|_, r| system - r.at <= REPORT_TTL_MS);
        if reports.len() > MAX_REPORTS {
            // Keep the most recent ones.
            let mut by_age: Vec<(String, i64)> =
                reports.iter().map(|(k, r)| (k.clone(), r.at)).collect();
            by_age.sort_by_key(|(_, at)| std::cmp::Reverse(*at));
            for (k, _) in by_age.into_iter().skip(MAX_REPORTS) {
                reports.remove(&k);
            }
        }
        let mut all: Vec<Report> = reports.values().copied().collect();
        drop(reports);
        if all.len() < MIN_REPORTERS {
            return Verdict::Undecided;
        }
        all.sort_unstable_by_key(|r| r.offset);
        let median = all[all.len() / 2].offset;
        let agreeing: Vec<Report> = all
            .iter()
            .filter(|r| (r.offset - median).abs() <= AGREEMENT_MS)
            .copied()
            .collect();
        // A clear majority, and at least the minimum number of phones, must agree.
        if agreeing.len() < MIN_REPORTERS || agreeing.len() * 2 <= all.len() {
            return Verdict::Undecided;
        }
        self.decide(system, median, &agreeing)
    }

    /// The phones in `agreeing` say the offset is `median`.
    fn decide(&self, system: i64, median: i64, agreeing: &[Report]) -> Verdict {
        let mut t = self.trust();
        let current = self.offset.load(Ordering::Relaxed);
        let same = (median - current).abs() <= TOLERANCE_MS;
        if same && t.confirmed.is_some() {
            t.agreed_at = system;
            t.held = None;
            return Verdict::Undecided;
        }
        let bound = t.known_ms + (system - t.known_sys).max(0) + FREE_AHEAD_MS;
        let far = system + median > bound;
        if far && !consistent(agreeing) {
            if t.held.is_none_or(|h| (h - median).abs() > AGREEMENT_MS) {
                tracing::warn!(
                    clock_ms = system + current,
                    phones_ms = system + median,
                    phones = agreeing.len(),
                    "phones agree on a time far beyond the last known one; not followed until they keep saying so or staff confirm it"
                );
            }
            t.held = Some(median);
            return Verdict::Held(median);
        }
        t.held = None;
        t.source = Source::Phones;
        t.taken_at = system;
        t.agreed_at = system;
        if same {
            t.confirmed = Some(current);
            tracing::info!(offset_ms = current, "phones confirm the clock");
            return Verdict::Confirmed;
        }
        self.offset.store(median, Ordering::Relaxed);
        t.confirmed = Some(median);
        t.jump = Some(Jump {
            from_ms: system + current,
            to_ms: system + median,
            phones: agreeing.len(),
            far,
        });
        tracing::warn!(
            from_ms = system + current,
            to_ms = system + median,
            moved_s = (median - current) / 1000,
            phones = agreeing.len(),
            far,
            "the clock was wrong; following the time the phones agree on"
        );
        Verdict::Corrected(median)
    }
}

/// Whether the agreeing phones have kept saying so for [`CONSISTENT_MS`].
fn consistent(agreeing: &[Report]) -> bool {
    let first = agreeing.iter().map(|r| r.since).min().unwrap_or(0);
    let last = agreeing.iter().map(|r| r.at).max().unwrap_or(0);
    last - first >= CONSISTENT_MS
}

fn prune_ms(t: &Trust, system: i64, now: i64) -> Option<i64> {
    match t.source {
        Source::Guess => None,
        Source::Staff => Some(now),
        Source::Phones if t.agreed_at - t.taken_at < STABLE_MS => None,
        Source::Phones => {
            let cap = t.pruned_ms + (system - t.pruned_sys).max(0) + FREE_AHEAD_MS;
            Some(now.min(cap))
        }
    }
}

/// The date old records were last pruned by, kept in `path` (none when it is missing or
/// unreadable: the newest record stands in for it).
pub fn read_pruned(path: &Path) -> Option<i64> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Keeps `ms` in `path` as the date old records were pruned by.
pub fn save_pruned(path: &Path, ms: i64) -> std::io::Result<()> {
    crate::fsutil::write_atomic(path, format!("{ms}\n").as_bytes())
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

    const HOUR: i64 = 60 * 60 * 1000;
    const YEAR: i64 = 365 * DAY;

    /// Each phone reports `at`; the first verdict that decided something.
    fn report_all(c: &Clock, phones: &[&str], at: i64) -> Verdict {
        let verdicts: Vec<Verdict> = phones.iter().map(|p| c.report(p, at)).collect();
        verdicts
            .into_iter()
            .find(|v| *v != Verdict::Undecided)
            .unwrap_or(Verdict::Undecided)
    }

    #[test]
    fn three_phones_saying_three_years_later_are_held_and_prune_nothing() {
        // Restarted an hour after the newest record, with a good system clock.
        let (c, sys) = clock_at(TRUE_NOW, TRUE_NOW - HOUR);
        let liars = ["10.0.0.1", "10.0.0.2", "10.0.0.3"];
        assert!(matches!(
            report_all(&c, &liars, TRUE_NOW + 3 * YEAR),
            Verdict::Held(_)
        ));
        assert_eq!(c.now_ms(), TRUE_NOW);
        assert!(c.is_guess());
        assert_eq!(c.prune_ms(), None);
        assert_eq!(c.status().held_ms, Some(TRUE_NOW + 3 * YEAR));
        // Said again and again within the hour, it is still held.
        sys.fetch_add(50 * 60_000, Ordering::Relaxed);
        assert!(matches!(
            report_all(&c, &liars, TRUE_NOW + 3 * YEAR + 50 * 60_000),
            Verdict::Held(_)
        ));
        assert_eq!(c.prune_ms(), None);
    }

    #[test]
    fn a_far_time_phones_keep_giving_for_an_hour_is_followed_but_never_pruned_by() {
        // A box unplugged for three months came back at the time it last saved.
        let (c, sys) = clock_at(TRUE_NOW - 90 * DAY, TRUE_NOW - 90 * DAY);
        let phones = ["a", "b", "c"];
        assert!(matches!(
            report_all(&c, &phones, TRUE_NOW),
            Verdict::Held(_)
        ));
        sys.fetch_add(61 * 60_000, Ordering::Relaxed);
        let v = report_all(&c, &phones, TRUE_NOW + 61 * 60_000);
        assert!(matches!(v, Verdict::Corrected(_)), "{v:?}");
        assert!((c.now_ms() - (TRUE_NOW + 61 * 60_000)).abs() < 1_000);
        let jump = c.status().jump.unwrap();
        assert!(jump.far);
        assert_eq!(jump.phones, 3);
        // Pruned by only once the date held for an hour, and then only as far as the last
        // trusted date plus the run time and a week, never by the three months phones added.
        assert_eq!(c.prune_ms(), None);
        sys.fetch_add(61 * 60_000, Ordering::Relaxed);
        c.report("d", c.now_ms());
        let by = c.prune_ms().unwrap();
        assert_eq!(by, TRUE_NOW - 90 * DAY + 122 * 60_000 + FREE_AHEAD_MS);
        assert!(local_day(by) < local_day(c.now_ms()));
    }

    #[test]
    fn a_week_ahead_is_followed_at_once_and_pruned_by_once_stable() {
        let (c, sys) = clock_at(TRUE_NOW - 5 * DAY, TRUE_NOW - 5 * DAY);
        let phones = ["a", "b", "c"];
        assert!(matches!(
            report_all(&c, &phones, TRUE_NOW),
            Verdict::Corrected(_)
        ));
        assert_eq!(c.now_ms(), TRUE_NOW);
        assert!(!c.is_guess());
        assert!(!c.status().jump.unwrap().far);
        assert_eq!(c.prune_ms(), None, "not before it held for a while");
        sys.fetch_add(2 * HOUR, Ordering::Relaxed);
        c.report("a", c.now_ms());
        assert_eq!(c.prune_ms(), Some(c.now_ms()));
    }

    #[test]
    fn steps_of_a_few_days_do_not_add_up_to_a_far_jump() {
        let (c, _) = clock_at(TRUE_NOW, TRUE_NOW);
        assert!(matches!(
            report_all(&c, &["a", "b", "c"], TRUE_NOW + 6 * DAY),
            Verdict::Corrected(_)
        ));
        // Six days more, from new addresses that outnumber the first ones.
        let v = report_all(&c, &["d", "e", "f", "g"], TRUE_NOW + 12 * DAY);
        assert!(matches!(v, Verdict::Held(_)), "{v:?}");
        assert_eq!(c.now_ms(), TRUE_NOW + 6 * DAY);
    }

    #[test]
    fn a_far_time_that_keeps_creeping_is_never_consistent_so_never_followed() {
        // Phones a month ahead whose time creeps forward a minute per report (each report
        // close to the one before) never keep one time for an hour, however patient.
        let (c, sys) = clock_at(TRUE_NOW, TRUE_NOW);
        let phones = ["a", "b", "c"];
        let mut ahead = 30 * DAY;
        for _ in 0..20 {
            let v = report_all(&c, &phones, c.now_ms() + ahead);
            assert!(matches!(v, Verdict::Held(_)), "{v:?}");
            sys.fetch_add(10 * 60_000, Ordering::Relaxed);
            ahead += 60_000;
        }
        assert_eq!(c.offset_ms(), 0);
        assert_eq!(c.prune_ms(), None);
    }

    #[test]
    fn a_date_staff_set_is_pruned_by_at_once_and_bounds_phones_from_there() {
        let (c, _) = clock_at(TRUE_NOW, TRUE_NOW);
        c.set_by_staff(TRUE_NOW + 3 * YEAR);
        assert_eq!(c.status().source, Source::Staff);
        assert_eq!(c.prune_ms(), Some(TRUE_NOW + 3 * YEAR));
        assert!(!c.is_guess());
        // From there on, phones cannot take it more than a week further ahead at once.
        let v = report_all(&c, &["a", "b", "c"], TRUE_NOW + 3 * YEAR + 30 * DAY);
        assert!(matches!(v, Verdict::Held(_)), "{v:?}");
    }

    #[test]
    fn pruning_goes_on_from_the_date_last_pruned_by_not_the_newest_record() {
        // An earlier run let phones stamp records three years ahead; the last date pruned by
        // was kept. Phones confirming that future time prune only from the kept date.
        let (c, sys) = clock_at(TRUE_NOW, TRUE_NOW + 3 * YEAR);
        let c = c.with_pruned_ms(Some(TRUE_NOW - DAY));
        report_all(&c, &["a", "b", "c"], TRUE_NOW + 3 * YEAR);
        sys.fetch_add(2 * HOUR, Ordering::Relaxed);
        c.report("a", c.now_ms());
        assert_eq!(
            c.prune_ms(),
            Some(TRUE_NOW - DAY + 2 * HOUR + FREE_AHEAD_MS)
        );
    }
}
