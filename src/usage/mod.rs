//! Counting participation: usage events, recorded off the request path into SQLite.
//!
//! Handlers call [`Recorder::record`], which never waits: it puts the event on a bounded queue.
//! One writer thread commits queued events in small batches (at most a quarter second old),
//! so a crash or power cut loses at most the events of the last moment. No IP address is
//! ever recorded: a participant is a random id kept in a first-party cookie.

pub mod counts;
pub mod export;
pub mod profile;
pub mod report;
pub mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError, sync_channel};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::clock;
use crate::content::Category;

// For `src/web` (and `src/server`) until they import these from `crate::clock`.

/// Queue length; beyond it events are dropped (and counted) rather than slowing pages.
const QUEUE: usize = 10_000;
/// Longest an event waits in memory before its batch is committed.
pub const FLUSH_INTERVAL: Duration = Duration::from_millis(250);
/// Most events in one transaction.
const MAX_BATCH: usize = 2_000;

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// A material's page was shown.
    View,
    /// An attachment was opened, played or downloaded.
    Attachment,
    /// A search was made.
    Search,
    /// A lesson page was shown.
    Lesson,
    /// The participant's cookie came back: the id is kept, so it is counted (no view).
    Kept,
}

impl EventKind {
    /// The name stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::View => "view",
            EventKind::Attachment => "attachment",
            EventKind::Search => "search",
            EventKind::Lesson => "lesson",
            EventKind::Kept => "kept",
        }
    }

    /// Whether the event counts as a view of learning material.
    pub fn is_view(self) -> bool {
        matches!(
            self,
            EventKind::View | EventKind::Attachment | EventKind::Lesson
        )
    }
}

/// One usage event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageEvent {
    /// Milliseconds since the Unix epoch (UTC).
    pub at_ms: i64,
    /// What happened.
    pub kind: EventKind,
    /// The participant's random id.
    pub participant: String,
    /// Material (or lesson) id, if any.
    pub material: Option<String>,
    /// Field, if any.
    pub category: Option<Category>,
    /// The query, for searches.
    pub query: Option<String>,
    /// Number of results, for searches.
    pub results: Option<u64>,
    /// Set when the time is a guess (the clock was not yet confirmed by phones): fixed up
    /// later from the offset phones agree on.
    pub guess: Option<Guess>,
}

/// How a guessed time was made, so it can be fixed when the true time is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guess {
    /// The clock offset used (ms added to the system time).
    pub offset_ms: i64,
    /// The run of the server it was made in (a later run's system clock is another story).
    pub boot: i64,
}

impl UsageEvent {
    /// An event happening now.
    pub fn now(kind: EventKind, participant: &str) -> UsageEvent {
        UsageEvent {
            at_ms: clock::now_ms(),
            kind,
            participant: participant.to_string(),
            material: None,
            category: None,
            query: None,
            results: None,
            guess: None,
        }
    }

    /// An event happening now by `clock`, marked as a guess while the clock is unconfirmed.
    pub fn at(clock: &crate::clock::Clock, kind: EventKind, participant: &str) -> UsageEvent {
        let mut e = UsageEvent::now(kind, participant);
        e.at_ms = clock.now_ms();
        e.guess = clock.is_guess().then(|| Guess {
            offset_ms: clock.offset_ms(),
            boot: clock.boot(),
        });
        e
    }

    /// The local (Vietnam) day number: days since 1970-01-01 in UTC+7.
    pub fn day(&self) -> i64 {
        clock::local_day(self.at_ms)
    }
}

/// A new random participant id (128 bits, hex).
pub fn new_participant_id() -> String {
    let mut b = [0u8; 16];
    if getrandom::fill(&mut b).is_err() {
        // No OS randomness is close to impossible on Linux; fall back to time so the page
        // still works (the id is only used for counting).
        b[..8].copy_from_slice(&clock::now_ms().to_le_bytes());
        b[8..].copy_from_slice(&std::process::id().to_le_bytes().repeat(2));
    }
    crate::content::hex(&b)
}

/// True for ids this server could have made (32 lower-case hex digits).
pub fn is_participant_id(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Counters for the health page and tests.
#[derive(Debug, Default)]
pub struct Stats {
    /// Events accepted onto the queue.
    pub queued: AtomicU64,
    /// Events committed to the store.
    pub written: AtomicU64,
    /// Events lost: queue full, or the store could not be written.
    pub dropped: AtomicU64,
}

/// The handle handlers use to record events. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Recorder {
    tx: SyncSender<UsageEvent>,
    stats: Arc<Stats>,
}

impl Recorder {
    /// Queues an event; never blocks.
    pub fn record(&self, event: UsageEvent) {
        match self.tx.try_send(event) {
            Ok(()) => {
                self.stats.queued.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

/// The writer thread.
#[derive(Debug)]
pub struct Writer {
    handle: JoinHandle<()>,
    stop: Arc<AtomicBool>,
}

impl Writer {
    /// Commits everything queued so far, then stops the thread. Recorders still around
    /// afterwards drop their events (and count them).
    pub fn finish(self) {
        self.stop.store(true, Ordering::SeqCst);
        if self.handle.join().is_err() {
            tracing::error!("usage writer panicked");
        }
    }
}

/// The clock the writer fixes guessed times with, and how long raw events are kept (old ones
/// are pruned only by a date the clock trusts for it, [`crate::clock::Clock::prune_ms`]: a
/// clock that phones set in the future must not prune).
#[derive(Debug, Clone)]
pub struct ClockLink {
    /// The server's clock.
    pub clock: Arc<crate::clock::Clock>,
    /// Days raw events are kept.
    pub retention_days: i64,
    /// Where the date last pruned by is kept for the next run ([`crate::clock::save_pruned`]).
    pub pruned_file: Option<std::path::PathBuf>,
}

/// Starts the writer thread on an open store.
pub fn start(store: store::Store) -> (Recorder, Writer) {
    start_with_clock(store, None)
}

/// Starts the writer thread; with a clock, guessed times are fixed once it is confirmed.
pub fn start_with_clock(store: store::Store, clock: Option<ClockLink>) -> (Recorder, Writer) {
    let (tx, rx) = sync_channel(QUEUE);
    let stats = Arc::new(Stats::default());
    let thread_stats = stats.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let thread_stop = stop.clone();
    let handle = std::thread::Builder::new()
        .name("usage-writer".into())
        .spawn(move || write_loop(store, rx, &thread_stats, &thread_stop, clock))
        .expect("spawning the usage writer thread");
    (Recorder { tx, stats }, Writer { handle, stop })
}

fn write_loop(
    mut store: store::Store,
    rx: Receiver<UsageEvent>,
    stats: &Stats,
    stop: &AtomicBool,
    clock: Option<ClockLink>,
) {
    let mut batch = Vec::with_capacity(256);
    let mut failing = false;
    // The confirmed offset the store's guesses were last settled with.
    let mut settled: Option<i64> = None;
    // The day old events were last pruned by in this run.
    let mut pruned: Option<i64> = None;
    let mut on = OnDays::default();
    loop {
        if let Some(link) = &clock {
            settle(&mut store, link, &mut settled);
            if settled.is_some() {
                prune(&store, link, &mut pruned);
            }
            on.mark(&store, link);
        }
        let first = match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) if !stop.load(Ordering::SeqCst) => continue,
            // Stopping (or every sender gone) and the queue is empty: done.
            Err(_) => match rx.try_recv() {
                Ok(e) => e,
                Err(_) => break,
            },
        };
        batch.push(first);
        let deadline = Instant::now() + FLUSH_INTERVAL;
        while batch.len() < MAX_BATCH {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(e) => batch.push(e),
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => break,
            }
        }
        if let Some(link) = &clock {
            settle(&mut store, link, &mut settled);
            // Stamped as guesses before the confirmation, queued, written after it.
            if let Some(offset) = settled {
                for e in &mut batch {
                    if let Some(g) = e.guess.filter(|g| g.boot == link.clock.boot()) {
                        e.at_ms += offset - g.offset_ms;
                        e.guess = None;
                    }
                }
            }
        }
        let n = batch.len() as u64;
        match insert_with_retries(&mut store, &batch) {
            Ok(()) => {
                stats.written.fetch_add(n, Ordering::Relaxed);
                if failing {
                    tracing::info!("usage store writable again");
                    failing = false;
                }
            }
            Err(e) => {
                stats.dropped.fetch_add(n, Ordering::Relaxed);
                // Log once per failure spell, not once per batch: a full disk lasts.
                if !failing {
                    tracing::error!(error = %e, events = n, "usage events could not be saved (disk full or read-only?); pages keep working");
                    failing = true;
                }
            }
        }
        batch.clear();
    }
    // A date confirmed in the last moment is still settled and pruned by before stopping.
    if let Some(link) = &clock {
        settle(&mut store, link, &mut settled);
        if settled.is_some() {
            prune(&store, link, &mut pruned);
        }
    }
}

/// Attempts at committing one batch before its events are counted as lost.
const ATTEMPTS: u32 = 5;

/// Commits a batch, trying again a few times: a busy database (another connection writing)
/// is a moment's wait, not a reason to lose events. A full or read-only disk fails every time.
fn insert_with_retries(store: &mut store::Store, batch: &[UsageEvent]) -> store::StoreResult<()> {
    let mut attempt = 1;
    loop {
        match store.insert(batch) {
            Ok(()) => return Ok(()),
            Err(e) if attempt < ATTEMPTS => {
                tracing::debug!(error = %e, attempt, "usage batch not committed; trying again");
                std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Once the clock is confirmed (or corrected again), fixes the stored guesses.
fn settle(store: &mut store::Store, link: &ClockLink, settled: &mut Option<i64>) {
    let Some(offset) = link.clock.confirmed_offset() else {
        return;
    };
    if *settled == Some(offset) {
        return;
    }
    match store.settle_clock(link.clock.boot(), offset) {
        Ok(moved) => {
            if moved > 0 {
                tracing::info!(
                    events = moved,
                    "times recorded before the clock was known are fixed"
                );
            }
            *settled = Some(offset);
        }
        Err(e) => tracing::warn!(error = %e, "fixing guessed times failed; will retry"),
    }
}

/// The box's days on, marked as the clock passes into each (and when it becomes trusted).
#[derive(Default)]
struct OnDays {
    /// The day and trust last marked.
    last: Option<(i64, bool)>,
    /// After a failed mark, when to try again (a full disk stays full).
    retry: Option<Instant>,
}

impl OnDays {
    fn mark(&mut self, store: &store::Store, link: &ClockLink) {
        let c = &link.clock;
        let now = c.now_ms();
        let guess = c.is_guess();
        let day = clock::local_day(now);
        if self.last == Some((day, !guess)) || self.retry.is_some_and(|t| Instant::now() < t) {
            return;
        }
        match store.mark_on(day, c.boot(), now, guess.then(|| c.offset_ms())) {
            Ok(()) => {
                self.last = Some((day, !guess));
                self.retry = None;
            }
            Err(e) => {
                tracing::debug!(error = %e, "the day could not be marked as on; will retry");
                self.retry = Some(Instant::now() + Duration::from_secs(60));
            }
        }
    }
}

/// Prunes old raw events by the date the clock trusts for it, once a day at most.
fn prune(store: &store::Store, link: &ClockLink, pruned: &mut Option<i64>) {
    let Some(ms) = link.clock.prune_ms() else {
        return;
    };
    let today = clock::local_day(ms);
    if pruned.is_some_and(|d| d >= today) {
        return;
    }
    match store.prune(today, link.retention_days) {
        Ok(n) => {
            if n > 0 {
                tracing::info!(events = n, "old raw usage events pruned; daily totals kept");
            }
            *pruned = Some(today);
            if let Some(file) = &link.pruned_file
                && let Err(e) = clock::save_pruned(file, ms)
            {
                tracing::warn!(error = %e, file = %file.display(), "the date pruned by could not be kept");
            }
        }
        Err(e) => tracing::warn!(error = %e, "pruning old events failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_database_delays_events_but_loses_none() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::Store::open(dir.path()).unwrap();
        let (rec, writer) = start(store);
        // The web side writes too (sessions, profiles): here as fast as it can, while events
        // stream in. Before immediate transactions this lost whole batches to "locked".
        let other =
            rusqlite::Connection::open(crate::data_dir::DataDir::new(dir.path()).database())
                .unwrap();
        store::configure(&other).unwrap();
        other
            .execute_batch("CREATE TABLE IF NOT EXISTS busy(n INTEGER)")
            .unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let hammer = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    other
                        .execute_batch("BEGIN IMMEDIATE; INSERT INTO busy VALUES (1); COMMIT;")
                        .unwrap();
                }
            })
        };
        for i in 0..3000 {
            let mut e = UsageEvent::now(EventKind::View, &format!("{:032x}", i % 97));
            e.at_ms += i64::from(i);
            rec.record(e);
            if i % 300 == 0 {
                std::thread::sleep(Duration::from_millis(30));
            }
        }
        std::thread::sleep(Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        hammer.join().unwrap();
        let stats = rec.stats();
        writer.finish();
        assert_eq!(stats.dropped.load(Ordering::Relaxed), 0);
        assert_eq!(stats.written.load(Ordering::Relaxed), 3000);
    }

    #[test]
    fn a_store_that_cannot_be_written_drops_events_and_keeps_going() {
        let dir = tempfile::tempdir().unwrap();
        let store = store::Store::open(dir.path()).unwrap();
        // What a full disk or a read-only file system looks like to SQLite: writes fail.
        store
            .conn()
            .pragma_update(None, "query_only", true)
            .unwrap();
        let (rec, writer) = start(store);
        for _ in 0..3 {
            rec.record(UsageEvent::now(EventKind::View, "p"));
        }
        writer.finish();
        assert_eq!(rec.stats().queued.load(Ordering::Relaxed), 3);
        assert_eq!(rec.stats().written.load(Ordering::Relaxed), 0);
        assert_eq!(rec.stats().dropped.load(Ordering::Relaxed), 3);
        // After the writer is gone, recording still never blocks or panics.
        rec.record(UsageEvent::now(EventKind::View, "p"));
        assert_eq!(rec.stats().dropped.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn participant_ids_are_random_hex() {
        let a = new_participant_id();
        assert!(is_participant_id(&a), "{a}");
        assert_ne!(a, new_participant_id());
        assert!(!is_participant_id("../../etc"));
        assert!(!is_participant_id(&"A".repeat(32)));
    }
}
