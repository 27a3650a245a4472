//! The district office's side: centres' signed summaries imported into the district box's
//! database. A centre's first file pins its key; a file signed by another key waits until a
//! manager accepts that key. A file is kept whole or not at all, and importing it again changes
//! nothing; a higher revision of a period replaces the one held.

pub mod parquet;
pub mod report;

use rusqlite::{Connection, OptionalExtension, params};

use crate::box_key;
use crate::summary::{self, Summary, SummaryError, Verified};

/// Why a file was refused (nothing of it was kept).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// Damaged, altered or not a summary.
    #[error("{0}")]
    File(#[from] SummaryError),
    /// From a centre of another district.
    #[error("tệp của huyện «{theirs}», không phải của huyện «{ours}»")]
    OtherDistrict {
        /// The district the file names.
        theirs: String,
        /// This office's district.
        ours: String,
    },
    /// The same revision of the period is held with other contents.
    #[error(
        "đã có lần gửi số {revision} kỳ {period} của «{centre}» với nội dung khác; hãy xuất lại ở trung tâm"
    )]
    Conflict {
        /// Centre name.
        centre: String,
        /// Period.
        period: String,
        /// Revision.
        revision: u64,
    },
    /// Signed by a key not yet accepted, and larger than a waiting file may be.
    #[error("tệp ký bằng khóa chưa được xác nhận và lớn quá mức để giữ chờ")]
    TooLargeToHold,
    /// Too many files are already waiting for a manager.
    #[error(
        "quá nhiều tệp đang chờ cán bộ xác nhận khóa; hãy xác nhận hoặc từ chối các khóa đang chờ trước"
    )]
    TooManyWaiting,
    /// The database failed.
    #[error("cơ sở dữ liệu: {0}")]
    Db(#[from] rusqlite::Error),
}

/// What importing one file did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    /// Kept: a period not held before, or a higher revision (`replaced` is the one it replaced).
    New {
        /// Centre name.
        centre: String,
        /// Period name.
        period: String,
        /// Its revision.
        revision: u64,
        /// The revision it replaced.
        replaced: Option<u64>,
    },
    /// This file (or this revision) is already held: nothing changed.
    Again {
        /// Centre name.
        centre: String,
        /// Period name.
        period: String,
        /// Its revision.
        revision: u64,
    },
    /// A newer revision is held: nothing changed.
    Older {
        /// Centre name.
        centre: String,
        /// Period name.
        period: String,
        /// This file's revision.
        revision: u64,
        /// The revision held.
        held: u64,
    },
    /// Signed by a key other than the centre's: kept aside until a manager accepts the key.
    Held {
        /// Centre name.
        centre: String,
        /// Period name.
        period: String,
        /// The new key's fingerprint.
        fingerprint: String,
        /// The pinned key's fingerprint.
        pinned: String,
    },
}

impl std::fmt::Display for Imported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Imported::New {
                centre,
                period,
                revision,
                replaced: None,
            } => write!(f, "đã nhận: «{centre}» kỳ {period} (lần gửi {revision})"),
            Imported::New {
                centre,
                period,
                revision,
                replaced: Some(old),
            } => write!(
                f,
                "đã nhận: «{centre}» kỳ {period} (lần gửi {revision}, thay lần {old})"
            ),
            Imported::Again {
                centre,
                period,
                revision,
            } => write!(
                f,
                "đã có từ trước: «{centre}» kỳ {period} (lần gửi {revision}); không thay đổi gì"
            ),
            Imported::Older {
                centre,
                period,
                revision,
                held,
            } => write!(
                f,
                "bỏ qua: «{centre}» kỳ {period} lần gửi {revision} cũ hơn lần {held} đã có"
            ),
            Imported::Held {
                centre,
                period,
                fingerprint,
                pinned,
            } if pinned.is_empty() => write!(
                f,
                "chờ xác nhận: «{centre}» kỳ {period}, trung tâm gửi lần đầu qua mạng, ký bằng khóa {fingerprint}; cán bộ cần xác nhận khóa"
            ),
            Imported::Held {
                centre,
                period,
                fingerprint,
                pinned,
            } => write!(
                f,
                "chờ xác nhận: «{centre}» kỳ {period} ký bằng khóa mới {fingerprint} (khóa đã biết {pinned}); cán bộ cần xác nhận khóa mới"
            ),
        }
    }
}

/// Creates the district's tables (every box has them; only a district fills them).
pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS district_keys(
            centre TEXT NOT NULL,
            key BLOB NOT NULL,
            pinned INTEGER NOT NULL,
            first_seen INTEGER NOT NULL,
            PRIMARY KEY(centre, key)) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS district_summaries(
            centre TEXT NOT NULL,
            period TEXT NOT NULL,
            revision INTEGER NOT NULL,
            name TEXT NOT NULL,
            commune TEXT NOT NULL,
            digest TEXT NOT NULL,
            key BLOB NOT NULL,
            imported_at INTEGER NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY(centre, period)) WITHOUT ROWID;
         CREATE TABLE IF NOT EXISTS district_held(
            digest TEXT PRIMARY KEY,
            centre TEXT NOT NULL,
            name TEXT NOT NULL,
            key BLOB NOT NULL,
            received_at INTEGER NOT NULL,
            file BLOB NOT NULL) WITHOUT ROWID;",
    )
}

/// Whether two names are of the same place (case, spacing and a leading "huyện"/"xã" aside).
pub fn same_place(a: &str, b: &str) -> bool {
    summary::place_key(a) == summary::place_key(b)
}

/// A transaction that takes the write lock at once (waiting up to the busy timeout), on a
/// shared connection (the server's, behind its lock).
fn immediate(conn: &Connection) -> rusqlite::Result<rusqlite::Transaction<'_>> {
    rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)
}

/// How a file reached the district.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// A manager imported it (USB stick, upload in /admin, the command line): the first file
    /// of a centre pins its key.
    ByHand,
    /// Sent over the network by a centre's box, with nobody checking: even a centre's first
    /// key waits for a manager (anyone on the network could send a file).
    Network,
}

/// Most files waiting for a manager, in all and per centre: a flood of files signed by made-up
/// keys must not fill the disk.
pub const MAX_HELD: i64 = 1_000;
/// See [`MAX_HELD`].
pub const MAX_HELD_PER_CENTRE: i64 = 20;
/// Largest file kept waiting (a real summary is tens of kB), so that waiting files take at
/// most [`MAX_HELD`] × this on disk.
pub const MAX_HELD_BYTES: usize = 1 << 20;

/// Checks and imports one file. `district` is this office's district (empty: a province or
/// national instance, which takes every district's files); `now_ms` stamps the import.
pub fn import(
    conn: &Connection,
    bytes: &[u8],
    district: &str,
    now_ms: i64,
) -> Result<Imported, ImportError> {
    import_from(conn, bytes, district, now_ms, Arrival::ByHand)
}

/// [`import`], saying how the file arrived.
pub fn import_from(
    conn: &Connection,
    bytes: &[u8],
    district: &str,
    now_ms: i64,
    arrival: Arrival,
) -> Result<Imported, ImportError> {
    let v = checked(bytes, district)?;
    let tx = immediate(conn)?;
    let outcome = import_checked(&tx, &v, bytes, now_ms, arrival)?;
    tx.commit()?;
    Ok(outcome)
}

/// Checks a file (signature, contents, district) without touching the database: done before
/// the database is locked, so that checking many files holds up nobody.
pub fn check_file(bytes: &[u8], district: &str) -> Result<Verified, ImportError> {
    checked(bytes, district)
}

/// Imports a file [`check_file`] accepted.
pub fn import_checked_file(
    conn: &Connection,
    v: &Verified,
    bytes: &[u8],
    now_ms: i64,
    arrival: Arrival,
) -> Result<Imported, ImportError> {
    let tx = immediate(conn)?;
    let outcome = import_checked(&tx, v, bytes, now_ms, arrival)?;
    tx.commit()?;
    Ok(outcome)
}

/// Imports many files by hand (a province's stick of a year's files): each taken whole or
/// refused as [`import`] does, but committed together every [`BATCH`] files, so that a
/// thousand files are not a thousand waits for the disk. Returns each file's outcome in order.
pub fn import_many<'a>(
    conn: &Connection,
    files: impl IntoIterator<Item = &'a [u8]>,
    district: &str,
    now_ms: i64,
) -> rusqlite::Result<Vec<Result<Imported, ImportError>>> {
    // Signatures are checked first, outside the transaction that holds the write lock.
    let checked_files: Vec<(&[u8], Result<Verified, ImportError>)> = files
        .into_iter()
        .map(|b| (b, checked(b, district)))
        .collect();
    let mut out = Vec::new();
    let mut tx = immediate(conn)?;
    let mut in_batch = 0;
    for (bytes, v) in checked_files {
        let v = match v {
            Ok(v) => v,
            Err(e) => {
                out.push(Err(e));
                continue;
            }
        };
        // A savepoint per file: a file refused half-way leaves nothing behind.
        {
            let sp = tx.savepoint()?;
            match import_checked(&sp, &v, bytes, now_ms, Arrival::ByHand) {
                Ok(i) => {
                    sp.commit()?;
                    out.push(Ok(i));
                }
                // The disk failing is not the file's fault: stop, nothing of this batch kept.
                Err(ImportError::Db(e)) => return Err(e),
                Err(e) => out.push(Err(e)),
            }
        }
        in_batch += 1;
        if in_batch == BATCH {
            tx.commit()?;
            tx = immediate(conn)?;
            in_batch = 0;
        }
    }
    tx.commit()?;
    Ok(out)
}

/// Files committed together by [`import_many`].
pub const BATCH: usize = 500;

/// A file's signature and contents checked, and its district: nothing written yet.
fn checked(bytes: &[u8], district: &str) -> Result<Verified, ImportError> {
    let v = summary::open(bytes)?;
    let s = &v.summary;
    if !district.trim().is_empty() && !same_place(&s.centre.district, district) {
        return Err(ImportError::OtherDistrict {
            theirs: s.centre.district.clone(),
            ours: district.to_string(),
        });
    }
    Ok(v)
}

/// Imports a checked file within the caller's transaction.
fn import_checked(
    tx: &Connection,
    v: &Verified,
    bytes: &[u8],
    now_ms: i64,
    arrival: Arrival,
) -> Result<Imported, ImportError> {
    let s = &v.summary;
    let centre = s.centre.identity();
    let pinned: Option<Vec<u8>> = tx
        .prepare_cached("SELECT key FROM district_keys WHERE centre = ?1 AND pinned = 1")?
        .query_row([&centre], |r| r.get(0))
        .optional()?;
    match pinned {
        None if arrival == Arrival::ByHand => {
            tx.execute(
                "INSERT OR REPLACE INTO district_keys(centre, key, pinned, first_seen)
                 VALUES (?1, ?2, 1, ?3)",
                params![centre, v.key.as_slice(), now_ms],
            )?;
        }
        pinned if pinned.as_deref() != Some(v.key.as_slice()) => {
            let waiting = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> rusqlite::Result<i64> {
                tx.query_row(sql, p, |r| r.get(0))
            };
            let already: i64 = waiting(
                "SELECT COUNT(*) FROM district_held WHERE digest = ?1",
                &[&v.digest],
            )?;
            if already == 0
                && (waiting("SELECT COUNT(*) FROM district_held", &[])? >= MAX_HELD
                    || waiting(
                        "SELECT COUNT(*) FROM district_held WHERE centre = ?1",
                        &[&centre],
                    )? >= MAX_HELD_PER_CENTRE)
            {
                return Err(ImportError::TooManyWaiting);
            }
            tx.execute(
                "INSERT OR IGNORE INTO district_keys(centre, key, pinned, first_seen)
                 VALUES (?1, ?2, 0, ?3)",
                params![centre, v.key.as_slice(), now_ms],
            )?;
            if bytes.len() > MAX_HELD_BYTES {
                return Err(ImportError::TooLargeToHold);
            }
            tx.execute(
                "INSERT OR IGNORE INTO district_held(digest, centre, name, key, received_at, file)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    v.digest,
                    centre,
                    s.centre.name,
                    v.key.as_slice(),
                    now_ms,
                    bytes
                ],
            )?;
            return Ok(Imported::Held {
                centre: s.centre.name.clone(),
                period: s.period.clone(),
                fingerprint: v.fingerprint(),
                pinned: pinned
                    .and_then(|k| <[u8; 32]>::try_from(k.as_slice()).ok())
                    .map(|k| box_key::fingerprint(&k))
                    .unwrap_or_default(),
            });
        }
        _ => {}
    }
    keep(tx, v, &centre, now_ms)
}

/// Keeps a verified summary by the revision rules (the key is already the centre's).
fn keep(tx: &Connection, v: &Verified, centre: &str, now_ms: i64) -> Result<Imported, ImportError> {
    let s = &v.summary;
    let held: Option<(u64, String, Vec<u8>)> = tx
        .query_row(
            "SELECT revision, digest, key FROM district_summaries WHERE centre = ?1 AND period = ?2",
            params![centre, s.period],
            |r| Ok((r.get::<_, i64>(0)? as u64, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let name = s.centre.name.clone();
    let period = s.period.clone();
    // A summary signed by the centre's earlier key gives way to its current key's, whatever
    // the revisions: a new box counts its revisions from 1 again.
    let held = held.map(|(rev, digest, key)| (rev, digest, key.as_slice() == v.key.as_slice()));
    match held {
        Some((rev, digest, true)) if rev == s.revision => {
            if digest == v.digest {
                return Ok(Imported::Again {
                    centre: name,
                    period,
                    revision: rev,
                });
            }
            // Same revision, other contents: re-signed, or a centre restored from an old
            // backup. Which is right cannot be told here.
            let held_body: String = tx.query_row(
                "SELECT body FROM district_summaries WHERE centre = ?1 AND period = ?2",
                params![centre, s.period],
                |r| r.get(0),
            )?;
            if serde_json::from_str::<Summary>(&held_body).ok().as_ref() == Some(s) {
                return Ok(Imported::Again {
                    centre: name,
                    period,
                    revision: rev,
                });
            }
            Err(ImportError::Conflict {
                centre: name,
                period,
                revision: rev,
            })
        }
        Some((rev, _, true)) if rev > s.revision => Ok(Imported::Older {
            centre: name,
            period,
            revision: s.revision,
            held: rev,
        }),
        held => {
            tx.execute(
                "INSERT OR REPLACE INTO district_summaries
                 (centre, period, revision, name, commune, digest, key, imported_at, body)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    centre,
                    s.period,
                    s.revision as i64,
                    s.centre.name,
                    s.centre.commune,
                    v.digest,
                    v.key.as_slice(),
                    now_ms,
                    serde_json::to_string(s).unwrap_or_default(),
                ],
            )?;
            Ok(Imported::New {
                centre: name,
                period,
                revision: s.revision,
                replaced: held.map(|(r, _, _)| r),
            })
        }
    }
}

/// What importing a file did, or why it was refused, in words.
pub fn outcome_text(r: &Result<Imported, ImportError>) -> String {
    match r {
        Ok(i) => i.to_string(),
        Err(e) => format!("bị từ chối: {e}"),
    }
}

/// A key waiting for a manager, with the files it signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldKey {
    /// The centre's identity.
    pub centre: String,
    /// Its name as the files give it.
    pub name: String,
    /// The new key's fingerprint.
    pub fingerprint: String,
    /// The pinned key's fingerprint.
    pub pinned: String,
    /// Files waiting.
    pub files: u64,
}

/// Keys waiting for acceptance.
pub fn held_keys(conn: &Connection) -> Result<Vec<HeldKey>, ImportError> {
    let rows: Vec<(String, Vec<u8>, String, i64)> = conn
        .prepare(
            "SELECT centre, key, MAX(name), COUNT(*) FROM district_held GROUP BY centre, key
             ORDER BY centre, MIN(received_at)",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let fp = |k: &[u8]| {
        <[u8; 32]>::try_from(k)
            .map(|k| box_key::fingerprint(&k))
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for (centre, key, name, files) in rows {
        let pinned: Option<Vec<u8>> = conn
            .query_row(
                "SELECT key FROM district_keys WHERE centre = ?1 AND pinned = 1",
                [&centre],
                |r| r.get(0),
            )
            .optional()?;
        out.push(HeldKey {
            name,
            fingerprint: fp(&key),
            pinned: pinned.as_deref().map(fp).unwrap_or_default(),
            files: files as u64,
            centre,
        });
    }
    Ok(out)
}

/// A manager accepts the key with `fingerprint` as the centre's (after checking it with the
/// centre, e.g. by phone): it replaces the pinned one, and the files it signed are imported
/// (replacing what the earlier key signed). Returns what importing each did, or why it could
/// not be; `None` when no such key is waiting.
pub fn accept_key(
    conn: &Connection,
    centre: &str,
    fingerprint: &str,
    now_ms: i64,
) -> Result<Option<Vec<Result<Imported, ImportError>>>, ImportError> {
    let Some(key) = waiting_key(conn, centre, fingerprint)? else {
        return Ok(None);
    };
    let tx = immediate(conn)?;
    tx.execute(
        "UPDATE district_keys SET pinned = (key = ?2) WHERE centre = ?1",
        params![centre, key],
    )?;
    let files: Vec<Vec<u8>> = tx
        .prepare("SELECT file FROM district_held WHERE centre = ?1 AND key = ?2")?
        .query_map(params![centre, key], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut done: Vec<Result<Imported, ImportError>> = Vec::new();
    let mut verified: Vec<Verified> = Vec::new();
    for f in &files {
        match summary::open(f) {
            Ok(v) => verified.push(v),
            Err(e) => done.push(Err(e.into())),
        }
    }
    verified.sort_by_key(|v| (v.summary.period.clone(), v.summary.revision));
    for v in &verified {
        match keep(&tx, v, centre, now_ms) {
            Ok(i) => done.push(Ok(i)),
            Err(ImportError::Db(e)) => return Err(ImportError::Db(e)),
            // A conflicting file stays out, and is said so; the others still go in.
            Err(e) => done.push(Err(e)),
        }
    }
    tx.execute(
        "DELETE FROM district_held WHERE centre = ?1 AND key = ?2",
        params![centre, key],
    )?;
    tx.commit()?;
    Ok(Some(done))
}

/// A manager refuses a waiting key: its files are dropped.
pub fn refuse_key(conn: &Connection, centre: &str, fingerprint: &str) -> Result<bool, ImportError> {
    let Some(key) = waiting_key(conn, centre, fingerprint)? else {
        return Ok(false);
    };
    let tx = immediate(conn)?;
    tx.execute(
        "DELETE FROM district_held WHERE centre = ?1 AND key = ?2",
        params![centre, key],
    )?;
    tx.execute(
        "DELETE FROM district_keys WHERE centre = ?1 AND key = ?2 AND pinned = 0",
        params![centre, key],
    )?;
    tx.commit()?;
    Ok(true)
}

fn waiting_key(
    conn: &Connection,
    centre: &str,
    fingerprint: &str,
) -> Result<Option<Vec<u8>>, ImportError> {
    let keys: Vec<Vec<u8>> = conn
        .prepare("SELECT DISTINCT key FROM district_held WHERE centre = ?1")?
        .query_map([centre], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(keys.into_iter().find(|k| {
        <[u8; 32]>::try_from(k.as_slice())
            .is_ok_and(|k| box_key::fingerprint(&k) == fingerprint.trim())
    }))
}

/// One imported summary as held.
#[derive(Debug, Clone)]
pub struct Held {
    /// The centre's identity.
    pub centre: String,
    /// The summary.
    pub summary: Summary,
    /// When it was imported (ms).
    pub imported_at: i64,
}

/// Every summary held for `period` (all periods when `None`), by commune and centre.
pub fn summaries(conn: &Connection, period: Option<&str>) -> Result<Vec<Held>, ImportError> {
    let mut st = conn.prepare(
        "SELECT centre, body, imported_at FROM district_summaries
         WHERE ?1 IS NULL OR period = ?1 ORDER BY commune, name, period",
    )?;
    let rows = st.query_map([period], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get(2)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (centre, body, imported_at) = row?;
        match serde_json::from_str(&body) {
            Ok(summary) => out.push(Held {
                centre,
                summary,
                imported_at,
            }),
            Err(e) => tracing::warn!(centre, error = %e, "a held summary could not be read"),
        }
    }
    Ok(out)
}

/// Every centre the district has heard from: identity, name, commune (by commune, name).
pub fn centres(conn: &Connection) -> Result<Vec<(String, String, String)>, ImportError> {
    Ok(conn
        .prepare(
            "SELECT centre, MAX(name), MAX(commune) FROM district_summaries
             GROUP BY centre ORDER BY 3, 2",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?)
}
