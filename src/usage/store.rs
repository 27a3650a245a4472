//! The usage database: SQLite in WAL mode with `synchronous=FULL`, so a committed batch
//! survives a power cut (measured: NORMAL loses acknowledged commits when the page cache dies).
//!
//! Raw events are kept for the retention period; daily aggregates (who was active in which
//! field, which materials, searches and hours) are updated in the same transaction and kept
//! for good, so reports for past years still work after pruning. Every aggregate a report
//! thresholds by people keeps the participant, and `kept` lists the ids whose cookie came
//! back (the only ones a report counts).

use std::collections::HashMap;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use unicode_normalization::UnicodeNormalization;

use super::{EventKind, UsageEvent};
use crate::clock::{local_day, local_hour};

/// A gap longer than this starts a new session.
pub const SESSION_GAP_MS: i64 = 30 * 60 * 1000;
/// Longest search text stored.
const MAX_QUERY_CHARS: usize = 100;
/// Schema version kept in `PRAGMA user_version`.
const SCHEMA: i64 = 4;

/// Errors of the usage store.
pub type StoreResult<T> = Result<T, rusqlite::Error>;

/// An open usage database.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    /// Last event time per participant, to tell sessions apart without a query per event.
    last_seen: HashMap<String, i64>,
}

/// Applies the settings every connection needs (they are per connection in SQLite).
pub fn configure(conn: &Connection) -> StoreResult<()> {
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // Only the power-cut harness sets this, to prove it can see loss; never in service.
    let sync = match std::env::var("HOCLIEU_TEST_UNSAFE_SYNC").as_deref() {
        Ok("OFF") => "OFF",
        _ => "FULL",
    };
    conn.pragma_update(None, "synchronous", sync)?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(())
}

impl Store {
    /// Opens (creating if needed) the server's database in `data_dir`.
    pub fn open(data_dir: &Path) -> StoreResult<Store> {
        Store::open_file(&crate::data_dir::DataDir::new(data_dir).database())
    }

    /// Opens a database file.
    pub fn open_file(path: &Path) -> StoreResult<Store> {
        let conn = Connection::open(path)?;
        configure(&conn)?;
        migrate(&conn)?;
        crate::accounts::migrate(&conn)?;
        Ok(Store {
            conn,
            last_seen: HashMap::new(),
        })
    }

    /// The connection alone (for commands that write other tables in transactions).
    pub fn into_conn(self) -> Connection {
        self.conn
    }

    /// The connection, for reports in the same process.
    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Writes a batch of events and their aggregates in one transaction.
    pub fn insert(&mut self, events: &[UsageEvent]) -> StoreResult<()> {
        // Take the write lock at the start (waiting up to the busy timeout): a deferred
        // transaction that reads first cannot wait for it later and fails with "locked" when
        // the web side has just written (a login, a profile).
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        for e in events {
            if e.kind == EventKind::Kept {
                keep(&tx, e)?;
                continue;
            }
            let new_session = {
                let last = match self.last_seen.get(&e.participant) {
                    Some(&t) => Some(t),
                    None => tx
                        .query_row(
                            "SELECT MAX(at) FROM events WHERE participant = ?1",
                            [&e.participant],
                            |r| r.get::<_, Option<i64>>(0),
                        )
                        .optional()?
                        .flatten(),
                };
                last.is_none_or(|t| e.at_ms - t > SESSION_GAP_MS)
            };
            let prev = self
                .last_seen
                .entry(e.participant.clone())
                .or_insert(e.at_ms);
            *prev = (*prev).max(e.at_ms);
            insert_one(&tx, e, new_session)?;
        }
        tx.commit()?;
        // Forget participants idle for longer than a session gap: they would start anew anyway.
        if let Some(newest) = events.iter().map(|e| e.at_ms).max() {
            self.last_seen.retain(|_, t| newest - *t <= SESSION_GAP_MS);
        }
        Ok(())
    }

    /// Fixes the times stamped while the clock was a guess, now that phones agree the true
    /// offset is `offset_ms` in run `boot`: those events move, and the daily totals of every
    /// day they left or reached are counted again from the raw events. Guesses of other runs
    /// cannot be fixed (that run's system clock is gone); they are kept as they are.
    /// Returns how many events moved.
    pub fn settle_clock(&mut self, boot: i64, offset_ms: i64) -> StoreResult<usize> {
        // Take the write lock at the start (waiting up to the busy timeout): a deferred
        // transaction that reads first cannot wait for it later and fails with "locked" when
        // the web side has just written (a login, a profile).
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let rows: Vec<(i64, i64, i64)> = tx
            .prepare("SELECT id, at, guess_offset FROM events WHERE guess_boot = ?1")?
            .query_map([boot], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<StoreResult<_>>()?;
        let mut days = std::collections::BTreeSet::new();
        let mut moved = 0;
        for (id, at, guessed) in rows {
            let fixed = at - guessed + offset_ms;
            if fixed != at {
                days.insert(local_day(at));
                days.insert(local_day(fixed));
                moved += 1;
            }
            tx.prepare_cached(
                "UPDATE events SET at = ?2, day = ?3, guess_offset = NULL, guess_boot = NULL
                 WHERE id = ?1",
            )?
            .execute(params![id, fixed, local_day(fixed)])?;
        }
        let stale = tx.execute(
            "UPDATE events SET guess_offset = NULL, guess_boot = NULL WHERE guess_boot IS NOT NULL",
            [],
        )?;
        if stale > 0 {
            tracing::warn!(
                events = stale,
                "times guessed in an earlier run cannot be fixed; kept as guessed"
            );
        }
        recount_days(&tx, &days)?;
        let marks: Vec<(i64, i64, i64)> = tx
            .prepare("SELECT day, at, guess_offset FROM box_on WHERE boot = ?1 AND guess_offset IS NOT NULL")?
            .query_map([boot], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<StoreResult<_>>()?;
        for (day, at, guessed) in marks {
            let fixed = at - guessed + offset_ms;
            tx.execute(
                "DELETE FROM box_on WHERE day = ?1 AND boot = ?2 AND trusted = 0",
                params![day, boot],
            )?;
            tx.execute(
                "INSERT OR IGNORE INTO box_on(day, boot, trusted, at) VALUES (?1, ?2, 1, ?3)",
                params![local_day(fixed), boot, fixed],
            )?;
        }
        // Marks of earlier runs keep their guessed date, untrusted.
        tx.execute(
            "UPDATE box_on SET guess_offset = NULL WHERE guess_offset IS NOT NULL AND boot <> ?1",
            [boot],
        )?;
        tx.commit()?;
        // Session gaps were measured on the old times.
        self.last_seen.clear();
        Ok(moved)
    }

    /// Marks day `day` as one the box was on in run `boot`, first seen at `at_ms`; with
    /// `guess_offset`, the date was a guess made with that offset.
    pub fn mark_on(
        &self,
        day: i64,
        boot: i64,
        at_ms: i64,
        guess_offset: Option<i64>,
    ) -> StoreResult<()> {
        self.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO box_on(day, boot, trusted, at, guess_offset)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                day,
                boot,
                guess_offset.is_none(),
                at_ms,
                guess_offset
            ])?;
        Ok(())
    }

    /// The time of the newest event, if any.
    pub fn latest_event_ms(&self) -> StoreResult<Option<i64>> {
        self.conn
            .query_row("SELECT MAX(at) FROM events", [], |r| r.get(0))
    }

    /// Deletes raw events older than `keep_days` before `today`; aggregates stay.
    pub fn prune(&self, today: i64, keep_days: i64) -> StoreResult<usize> {
        self.conn
            .execute("DELETE FROM events WHERE day < ?1", [today - keep_days])
    }
}

/// Days from `first` to `last` (day numbers) the box was on, and of those whose date was certain.
pub fn days_on(conn: &Connection, (first, last): (i64, i64)) -> StoreResult<(u64, u64)> {
    conn.query_row(
        "SELECT COUNT(DISTINCT day), COUNT(DISTINCT CASE WHEN trusted THEN day END)
         FROM box_on WHERE day BETWEEN ?1 AND ?2",
        params![first, last],
        |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
    )
}

/// How many raw events [`Store::prune`] would delete by `today` (asked before staff set a date).
pub fn prunable(conn: &Connection, today: i64, keep_days: i64) -> StoreResult<u64> {
    conn.query_row(
        "SELECT COUNT(*) FROM events WHERE day < ?1",
        [today - keep_days],
        |r| r.get(0),
    )
}

fn migrate(conn: &Connection) -> StoreResult<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version >= SCHEMA {
        return Ok(());
    }
    if version < 1 {
        create_v1(conn)?;
    }
    if version < 2 {
        // v2: times stamped while the clock was a guess, to fix once phones tell the true time.
        conn.execute_batch(
            "BEGIN;
            ALTER TABLE events ADD COLUMN guess_offset INTEGER;
            ALTER TABLE events ADD COLUMN guess_boot INTEGER;
            CREATE INDEX IF NOT EXISTS events_guess ON events(guess_boot) WHERE guess_boot IS NOT NULL;
            PRAGMA user_version = 2;
            COMMIT;",
        )?;
    }
    if version < 3 {
        migrate_v3(conn)?;
    }
    migrate_v4(conn)
}

/// v4: the days the box was on (so a report can tell "box off" from "nobody came"), and the
/// last revision of each period's summary sent to the district.
///
/// A day is marked when the box first runs on it, by the date the clock had then; while the
/// clock was a guess (`guess_offset`, `boot`) the mark is moved once phones or staff confirm
/// it, like the events. `trusted` says the date is certain.
fn migrate_v4(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(
        "BEGIN;
        CREATE TABLE IF NOT EXISTS box_on(
            day INTEGER NOT NULL,
            boot INTEGER NOT NULL,
            trusted INTEGER NOT NULL,
            at INTEGER NOT NULL,
            guess_offset INTEGER,
            PRIMARY KEY(day, boot, trusted)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS summary_revisions(
            period TEXT PRIMARY KEY,
            revision INTEGER NOT NULL) WITHOUT ROWID;
        PRAGMA user_version = 4;
        COMMIT;",
    )
}

/// v3: which ids were kept (their cookie came back), and searches and hours per participant,
/// so that reports count only kept ids and show no cell behind fewer than five of them.
///
/// Records made before ids were checked cannot say whether a cookie came back; an id seen
/// on more than one event (or day) is taken as kept, one seen once is not. Searches and
/// hours per participant are rebuilt from the raw events still kept; days already pruned
/// keep their old totals (`search_day`, `hour_day`), which reports no longer show because
/// nobody can tell how many people are behind them.
fn migrate_v3(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(
        "BEGIN;
        CREATE TABLE IF NOT EXISTS kept(
            participant TEXT PRIMARY KEY,
            day INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS search_person(
            day INTEGER NOT NULL,
            query TEXT NOT NULL,
            participant TEXT NOT NULL,
            searches INTEGER NOT NULL,
            zero INTEGER NOT NULL,
            PRIMARY KEY(day, query, participant)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS hour_person(
            day INTEGER NOT NULL,
            hour INTEGER NOT NULL,
            participant TEXT NOT NULL,
            views INTEGER NOT NULL,
            PRIMARY KEY(day, hour, participant)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS secrets(
            name TEXT PRIMARY KEY,
            value BLOB NOT NULL) WITHOUT ROWID;
        INSERT OR IGNORE INTO kept(participant, day)
            SELECT participant, MIN(day) FROM active
            WHERE category = '' AND participant <> ''
            GROUP BY participant HAVING COUNT(*) > 1 OR SUM(views + searches) > 1;
        INSERT OR IGNORE INTO search_person(day, query, participant, searches, zero)
            SELECT day, query, participant, COUNT(*), COALESCE(SUM(results = 0), 0) FROM events
            WHERE kind = 'search' AND query IS NOT NULL AND query <> ''
            GROUP BY day, query, participant;
        INSERT OR IGNORE INTO hour_person(day, hour, participant, views)
            SELECT day, ((at / 1000 + 25200) % 86400) / 3600, participant, COUNT(*) FROM events
            WHERE kind <> 'search' AND at >= 0
            GROUP BY 1, 2, 3;
        PRAGMA user_version = 3;
        COMMIT;",
    )
}

/// The key participant cookies are signed with, made on first use and kept in the database
/// (so cookies stay valid across restarts, and across a backup restored on a new box).
pub fn participant_key(conn: &Connection) -> StoreResult<Vec<u8>> {
    let stored = || -> StoreResult<Option<Vec<u8>>> {
        conn.query_row(
            "SELECT value FROM secrets WHERE name = 'participant'",
            [],
            |r| r.get(0),
        )
        .optional()
    };
    if let Some(k) = stored()?.filter(|k| k.len() >= 32) {
        return Ok(k);
    }
    let mut key = vec![0u8; 32];
    getrandom::fill(&mut key).map_err(|e| {
        rusqlite::Error::ToSqlConversionFailure(format!("no randomness: {e}").into())
    })?;
    conn.execute(
        "INSERT INTO secrets(name, value) VALUES ('participant', ?1)
         ON CONFLICT(name) DO UPDATE SET value = excluded.value WHERE length(value) < 32",
        [&key],
    )?;
    Ok(stored()?.unwrap_or(key))
}

/// Notes that an id came back: from now on (and for its earlier events) it is counted.
fn keep(tx: &rusqlite::Transaction<'_>, e: &UsageEvent) -> StoreResult<()> {
    if e.participant.is_empty() {
        return Ok(());
    }
    tx.prepare_cached("INSERT OR IGNORE INTO kept(participant, day) VALUES (?1, ?2)")?
        .execute(params![e.participant, e.day()])?;
    Ok(())
}

fn create_v1(conn: &Connection) -> StoreResult<()> {
    conn.execute_batch(
        "BEGIN;
        CREATE TABLE IF NOT EXISTS events(
            id INTEGER PRIMARY KEY,
            at INTEGER NOT NULL,
            day INTEGER NOT NULL,
            kind TEXT NOT NULL,
            participant TEXT NOT NULL,
            material TEXT,
            category TEXT,
            query TEXT,
            results INTEGER);
        CREATE INDEX IF NOT EXISTS events_day ON events(day);
        CREATE INDEX IF NOT EXISTS events_participant ON events(participant, at);
        -- One row per participant per day overall (category = ''), and per field.
        CREATE TABLE IF NOT EXISTS active(
            day INTEGER NOT NULL,
            participant TEXT NOT NULL,
            category TEXT NOT NULL,
            views INTEGER NOT NULL DEFAULT 0,
            searches INTEGER NOT NULL DEFAULT 0,
            sessions INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY(day, category, participant)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS material_day(
            day INTEGER NOT NULL,
            material TEXT NOT NULL,
            participant TEXT NOT NULL,
            views INTEGER NOT NULL,
            PRIMARY KEY(day, material, participant)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS search_day(
            day INTEGER NOT NULL,
            query TEXT NOT NULL,
            searches INTEGER NOT NULL,
            zero INTEGER NOT NULL,
            PRIMARY KEY(day, query)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS hour_day(
            day INTEGER NOT NULL,
            hour INTEGER NOT NULL,
            views INTEGER NOT NULL,
            PRIMARY KEY(day, hour)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS profiles(
            participant TEXT PRIMARY KEY,
            age_band TEXT,
            gender TEXT,
            ethnicity TEXT,
            village TEXT,
            newly_literate INTEGER,
            updated_at INTEGER NOT NULL);
        PRAGMA user_version = 1;
        COMMIT;",
    )
}

/// Normalises a search for counting: NFC, lower case, single spaces, bounded length.
pub fn normalise_query(q: &str) -> String {
    let lower: String = q.nfc().flat_map(char::to_lowercase).collect();
    let mut out: String = lower.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some((i, _)) = out.char_indices().nth(MAX_QUERY_CHARS) {
        out.truncate(i);
    }
    out
}

fn insert_one(
    tx: &rusqlite::Transaction<'_>,
    e: &UsageEvent,
    new_session: bool,
) -> StoreResult<()> {
    let day = e.day();
    let category = e.category.map(|c| c.slug());
    let query = e.query.as_deref().map(normalise_query);
    tx.prepare_cached(
        "INSERT INTO events(at, day, kind, participant, material, category, query, results,
                            guess_offset, guess_boot)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(params![
        e.at_ms,
        day,
        e.kind.as_str(),
        e.participant,
        e.material,
        category,
        query,
        e.results.map(|n| n as i64),
        e.guess.map(|g| g.offset_ms),
        e.guess.map(|g| g.boot),
    ])?;
    aggregate(
        tx,
        &Row {
            at: e.at_ms,
            is_view: e.kind.is_view(),
            participant: &e.participant,
            material: e.material.as_deref(),
            category,
            query: query.as_deref(),
            results: e.results.map(|n| n as i64),
        },
        new_session,
    )
}

/// Counts the daily totals of `days` again from the raw events.
fn recount_days(
    tx: &rusqlite::Transaction<'_>,
    days: &std::collections::BTreeSet<i64>,
) -> StoreResult<()> {
    for &day in days {
        for table in [
            "active",
            "material_day",
            "search_day",
            "hour_day",
            "search_person",
            "hour_person",
        ] {
            tx.execute(&format!("DELETE FROM {table} WHERE day = ?1"), [day])?;
        }
        let mut st = tx.prepare(
            "SELECT id, at, kind, participant, material, category, query, results
             FROM events WHERE day = ?1 AND kind <> 'kept' ORDER BY at, id",
        )?;
        let rows: Vec<(i64, StoredEvent)> = st
            .query_map([day], |r| {
                Ok((
                    r.get(0)?,
                    StoredEvent {
                        at: r.get(1)?,
                        kind: r.get(2)?,
                        participant: r.get(3)?,
                        material: r.get(4)?,
                        category: r.get(5)?,
                        query: r.get(6)?,
                        results: r.get(7)?,
                    },
                ))
            })?
            .collect::<StoreResult<_>>()?;
        for (id, e) in rows {
            let previous: Option<i64> = tx
                .prepare_cached(
                    "SELECT MAX(at) FROM events WHERE participant = ?1
                     AND (at < ?2 OR (at = ?2 AND id < ?3))",
                )?
                .query_row(params![e.participant, e.at, id], |r| r.get(0))?;
            let new_session = previous.is_none_or(|t| e.at - t > SESSION_GAP_MS);
            aggregate(
                tx,
                &Row {
                    at: e.at,
                    is_view: e.kind != "search",
                    participant: &e.participant,
                    material: e.material.as_deref(),
                    category: e.category.as_deref(),
                    query: e.query.as_deref(),
                    results: e.results,
                },
                new_session,
            )?;
        }
    }
    Ok(())
}

/// A raw event as stored.
struct StoredEvent {
    at: i64,
    kind: String,
    participant: String,
    material: Option<String>,
    category: Option<String>,
    query: Option<String>,
    results: Option<i64>,
}

/// What the daily totals need of an event.
struct Row<'a> {
    at: i64,
    is_view: bool,
    participant: &'a str,
    material: Option<&'a str>,
    category: Option<&'a str>,
    query: Option<&'a str>,
    results: Option<i64>,
}

/// Adds one event to the daily totals.
fn aggregate(tx: &rusqlite::Transaction<'_>, e: &Row<'_>, new_session: bool) -> StoreResult<()> {
    let day = local_day(e.at);
    let category = e.category;
    let (views, searches) = if e.is_view { (1, 0) } else { (0, 1) };
    let mut upsert = tx.prepare_cached(
        "INSERT INTO active(day, participant, category, views, searches, sessions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(day, category, participant) DO UPDATE SET
           views = views + excluded.views,
           searches = searches + excluded.searches,
           sessions = sessions + excluded.sessions",
    )?;
    upsert.execute(params![
        day,
        e.participant,
        "",
        views,
        searches,
        i64::from(new_session)
    ])?;
    // Taking part in a field means opening its materials; a filtered search alone does not.
    if let (true, Some(c)) = (e.is_view, category) {
        upsert.execute(params![day, e.participant, c, views, searches, 0])?;
    }
    if let (true, Some(m)) = (e.is_view, e.material) {
        tx.prepare_cached(
            "INSERT INTO material_day(day, material, participant, views) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT(day, material, participant) DO UPDATE SET views = views + 1",
        )?
        .execute(params![day, m, e.participant])?;
    }
    // Hours and searches per participant: a report shows one only behind enough people.
    if e.is_view {
        tx.prepare_cached(
            "INSERT INTO hour_person(day, hour, participant, views) VALUES (?1, ?2, ?3, 1)
             ON CONFLICT(day, hour, participant) DO UPDATE SET views = views + 1",
        )?
        .execute(params![day, local_hour(e.at), e.participant])?;
    }
    if let Some(q) = e.query.filter(|q| !q.is_empty()) {
        let zero = i64::from(e.results == Some(0));
        tx.prepare_cached(
            "INSERT INTO search_person(day, query, participant, searches, zero)
             VALUES (?1, ?2, ?3, 1, ?4)
             ON CONFLICT(day, query, participant) DO UPDATE SET searches = searches + 1,
               zero = zero + excluded.zero",
        )?
        .execute(params![day, q, e.participant, zero])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_connection_is_wal_and_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let mode: String = store
            .conn()
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        let sync: i64 = store
            .conn()
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "FULL");
    }

    #[test]
    fn queries_are_normalised() {
        assert_eq!(normalise_query("  Trồng   LÚA "), "trồng lúa");
        assert_eq!(normalise_query(&"a".repeat(500)).len(), 100);
    }

    #[test]
    fn days_on_by_a_guessed_clock_move_when_the_clock_is_confirmed() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let day_ms = 86_400_000;
        let (boot, old_boot) = (7, 6);
        // This run: the box came back at a stale time, 40 days behind.
        let guessed_at = 20_000 * day_ms + 3_600_000;
        store.mark_on(20_000, boot, guessed_at, Some(0)).unwrap();
        // An earlier run never had its clock confirmed.
        store
            .mark_on(19_000, old_boot, 19_000 * day_ms, Some(0))
            .unwrap();
        store.mark_on(20_041, boot, 20_041 * day_ms, None).unwrap();
        store.settle_clock(boot, 40 * day_ms).unwrap();
        let days: Vec<(i64, bool)> = store
            .conn()
            .prepare("SELECT day, trusted FROM box_on ORDER BY day")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<StoreResult<_>>()
            .unwrap();
        let moved = local_day(guessed_at + 40 * day_ms);
        assert_eq!(days, vec![(19_000, false), (moved, true), (20_041, true)]);
        let period = crate::usage::report::Period::new(
            crate::clock::date_of(18_990),
            crate::clock::date_of(20_100),
        )
        .unwrap();
        assert_eq!(days_on(store.conn(), period.range()).unwrap(), (3, 2));
    }
}
