//! Backups of a whole box: a consistent copy of the usage database taken while the server runs,
//! the centre's own materials with their history, its lessons and settings, in one archive with
//! a SHA-256 for every file; and restoring one into an empty data folder. The search index is
//! not saved: it is rebuilt from the library.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::content::path::is_hidden;
use crate::data_dir::{
    DATABASE, DataDir, LIBRARY_SETTINGS, SETTINGS_COPY, WORK_FOLDERS as FOLDERS,
};
use crate::package::{self, Areas, Limits, Manifest, PackageError};

/// File name ending of backups.
pub const SUFFIX: &str = ".hoclieu-backup.tar";

/// Errors of backup and restore.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The archive was refused or could not be written.
    #[error(transparent)]
    Archive(#[from] PackageError),
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Copying the database failed.
    #[error("copying the database: {0}")]
    Database(#[from] rusqlite::Error),
    /// Restoring over existing data is refused.
    #[error("{0} is not empty; restore into an empty folder (move the old one aside first)")]
    NotEmpty(PathBuf),
    /// The backup's database is not one this program made: what is wrong, one item each.
    #[error("the backup's database is refused: {}", .0.join("; "))]
    UnsoundDatabase(Vec<String>),
}

/// Writes a backup of `data` (and of the settings file, if given) to `out`.
pub fn backup(
    data: &Path,
    settings_file: Option<&Path>,
    out: impl Write,
    created: &str,
    centre: &str,
) -> Result<Manifest, BackupError> {
    let scratch = tempfile::Builder::new()
        .prefix(".backup-")
        .tempdir_in(data)?;
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let db = data.join(DATABASE);
    if db.exists() {
        let copy = scratch.path().join(DATABASE);
        copy_database(&db, &copy)?;
        files.push((format!("records/{DATABASE}"), copy));
    }
    for folder in FOLDERS {
        let root = data.join(folder);
        if !root.is_dir() {
            continue;
        }
        for entry in walkdir::WalkDir::new(&root)
            .into_iter()
            .filter_entry(|e| e.depth() == 0 || !is_hidden(&e.file_name().to_string_lossy()))
        {
            let entry = entry.map_err(std::io::Error::other)?;
            if !entry.file_type().is_file() {
                continue;
            }
            let Ok(rel) = entry.path().strip_prefix(data) else {
                continue;
            };
            let Some(rel) = rel.to_str() else {
                tracing::warn!(path = %entry.path().display(), "file name is not UTF-8; not saved");
                continue;
            };
            files.push((rel.replace('\\', "/"), entry.path().to_path_buf()));
        }
    }
    let library_settings = DataDir::new(data).library_settings();
    if library_settings.is_file() {
        files.push((format!("settings/{LIBRARY_SETTINGS}"), library_settings));
    }
    if let Some(f) = settings_file.filter(|f| f.is_file()) {
        files.push((format!("settings/{SETTINGS_COPY}"), f.to_path_buf()));
    }
    Ok(package::export_files(
        Areas::Backup,
        out,
        created,
        centre,
        Vec::new(),
        Vec::new(),
        files,
    )?)
}

/// A consistent copy of a database that may be in use (SQLite's online backup).
fn copy_database(from: &Path, to: &Path) -> Result<(), rusqlite::Error> {
    let src =
        rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    src.busy_timeout(std::time::Duration::from_secs(10))?;
    let mut dst = rusqlite::Connection::open(to)?;
    let b = rusqlite::backup::Backup::new(&src, &mut dst)?;
    b.run_to_completion(256, std::time::Duration::from_millis(5), None)?;
    drop(b);
    // A single file, no WAL beside it, so the archive holds everything.
    dst.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}

/// What a restore put back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restored {
    /// Files written.
    pub files: usize,
    /// Whether a settings file was in the backup (restored as `hoclieu.toml` in the data folder).
    pub settings_file: bool,
    /// Materials and lessons not restored, with why: larger than the editor's forms allow, or
    /// a lesson the form would refuse (the server would not load them anyway).
    pub refused: Vec<(String, String)>,
}

/// Restores a backup into `data`, which must be empty or absent. Every checksum is verified,
/// and the database checked ([`check_database`]), before anything is moved into place; if
/// anything fails, the folder is left empty again.
pub fn restore(file: &Path, data: &Path) -> Result<Restored, BackupError> {
    if data.exists() && std::fs::read_dir(data)?.next().is_some() {
        return Err(BackupError::NotEmpty(data.to_path_buf()));
    }
    std::fs::create_dir_all(data)?;
    let result = restore_into(file, data);
    if result.is_err() {
        // Leave nothing half-restored behind.
        for entry in std::fs::read_dir(data)?.flatten() {
            let p = entry.path();
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(&p)
            } else {
                std::fs::remove_file(&p)
            };
        }
    }
    result
}

fn restore_into(file: &Path, data: &Path) -> Result<Restored, BackupError> {
    let staging = tempfile::Builder::new()
        .prefix(".restore-")
        .tempdir_in(data)?;
    let input = std::io::BufReader::new(std::fs::File::open(file)?);
    let pkg = package::read(input, &Limits::backup(), staging.path())?;
    if let Some(db) = pkg.staged_path(&format!("records/{DATABASE}")) {
        check_database(&db, staging.path())?;
    }
    let mut done = Restored::default();
    for f in pkg.files() {
        let Some(staged) = pkg.staged_path(&f.path) else {
            continue;
        };
        let target = match f.path.as_str() {
            p if p == format!("records/{DATABASE}") => data.join(DATABASE),
            p if p == format!("settings/{LIBRARY_SETTINGS}") => {
                DataDir::new(data).library_settings()
            }
            p if p == format!("settings/{SETTINGS_COPY}") => {
                done.settings_file = true;
                DataDir::new(data).settings_copy()
            }
            p if FOLDERS.iter().any(|d| p.starts_with(&format!("{d}/"))) => {
                if let Some(why) = super::local::refusal(p, f.size, &staged)? {
                    tracing::warn!(path = p, reason = %why, "not restored: beyond the forms' limits");
                    done.refused.push((p.to_string(), why));
                    continue;
                }
                data.join(p)
            }
            // Other records of a newer version: not understood, not restored.
            other => {
                tracing::warn!(path = other, "not restored: unknown part of the backup");
                continue;
            }
        };
        crate::fsutil::rename_durably(&staged, &target)?;
        done.files += 1;
    }
    Ok(done)
}

/// Refuses a database this program would not have made: any trigger or view, a table, index
/// or column that its own schema does not have (or has otherwise), a failed integrity check,
/// or an unsound account. A trigger in a restored database could, for instance, delete every
/// event as it is counted. `scratch` is a folder for the reference schema.
pub fn check_database(db: &Path, scratch: &Path) -> Result<(), BackupError> {
    use rusqlite::OpenFlags;
    let reference_file = tempfile::Builder::new()
        .prefix(".schema-")
        .tempdir_in(scratch)?;
    let reference = crate::usage::store::Store::open_file(&reference_file.path().join("db"))?;
    // Every box makes the district's tables at start (a district's hold its imports).
    crate::district::migrate(reference.conn())?;
    let reference = Schema::of(reference.conn())?;
    let unreadable =
        |e: rusqlite::Error| BackupError::UnsoundDatabase(vec![format!("unreadable: {e}")]);
    let conn = rusqlite::Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(unreadable)?;
    // Nothing in the file runs while it is read here.
    conn.pragma_update(None, "trusted_schema", false)
        .map_err(unreadable)?;
    let integrity: Vec<String> = conn
        .prepare("PRAGMA integrity_check")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .map_err(unreadable)?;
    if integrity != ["ok"] {
        return Err(BackupError::UnsoundDatabase(
            integrity
                .into_iter()
                .take(5)
                .map(|l| format!("integrity check: {l}"))
                .collect(),
        ));
    }
    let restored = Schema::of(&conn).map_err(unreadable)?;
    let mut problems = restored.differences(&reference);
    if problems.is_empty() && restored.tables.contains_key("accounts") {
        problems.extend(crate::accounts::problems(&conn).map_err(unreadable)?);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(BackupError::UnsoundDatabase(problems))
    }
}

/// Internal tables SQLite itself makes (AUTOINCREMENT, ANALYZE).
const SQLITE_TABLES: [&str; 3] = ["sqlite_sequence", "sqlite_stat1", "sqlite_stat4"];
/// Words of a table's definition that change what its rows may hold or how they compare; a
/// restored table may use only those its reference uses.
const TABLE_WORDS: [&str; 6] = [
    "CHECK",
    "COLLATE",
    "GENERATED",
    "AS",
    "REFERENCES",
    "DEFAULT",
];

/// The objects of a database, as `sqlite_schema` and the table pragmas describe them.
#[derive(Debug, Default)]
struct Schema {
    /// Table name → (its columns as `table_xinfo` rows, the words of its definition).
    tables: std::collections::BTreeMap<String, (Vec<String>, Vec<String>)>,
    /// Index name → (its table, its definition with spaces collapsed; none for SQLite's own).
    indexes: std::collections::BTreeMap<String, (String, Option<String>)>,
    /// Triggers, views and anything else: (type, name).
    others: Vec<(String, String)>,
}

impl Schema {
    fn of(conn: &rusqlite::Connection) -> rusqlite::Result<Schema> {
        let mut schema = Schema::default();
        let mut st = conn.prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema")?;
        let rows: Vec<(String, String, String, Option<String>)> = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (kind, name, table, sql) in rows {
            match kind.as_str() {
                "table" => {
                    let mut cols = conn.prepare("SELECT * FROM pragma_table_xinfo(?1)")?;
                    let columns = cols
                        .query_map([&name], |r| {
                            // name, type, notnull, default, pk, hidden (generated).
                            Ok(format!(
                                "{:?} {:?} {:?} {:?} {:?} {:?}",
                                r.get::<_, rusqlite::types::Value>(1)?,
                                r.get::<_, String>(2)?.to_uppercase(),
                                r.get::<_, rusqlite::types::Value>(3)?,
                                r.get::<_, rusqlite::types::Value>(4)?,
                                r.get::<_, rusqlite::types::Value>(5)?,
                                r.get::<_, rusqlite::types::Value>(6)?,
                            ))
                        })?
                        .collect::<rusqlite::Result<Vec<_>>>()?;
                    let words = sql.as_deref().map(words).unwrap_or_default();
                    schema.tables.insert(name, (columns, words));
                }
                "index" => {
                    let sql = sql.map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "));
                    schema.indexes.insert(name, (table, sql));
                }
                _ => schema.others.push((kind, name)),
            }
        }
        Ok(schema)
    }

    /// What `self` (a restored database) has that `reference` does not; missing objects and
    /// columns are allowed (an older version's backup, brought up to date when it is opened).
    fn differences(&self, reference: &Schema) -> Vec<String> {
        let mut out: Vec<String> = self
            .others
            .iter()
            .map(|(kind, name)| format!("a {kind} named {name:?} (this program makes none)"))
            .collect();
        for (name, (columns, words)) in &self.tables {
            if SQLITE_TABLES.contains(&name.as_str()) {
                continue;
            }
            let Some((ref_columns, ref_words)) = reference.tables.get(name) else {
                out.push(format!("an unknown table {name:?}"));
                continue;
            };
            for c in columns.iter().filter(|c| !ref_columns.contains(c)) {
                out.push(format!("table {name:?}: unknown or altered column {c}"));
            }
            for w in words
                .iter()
                .filter(|w| TABLE_WORDS.contains(&w.as_str()) && !ref_words.contains(w))
            {
                out.push(format!("table {name:?}: its definition uses {w}"));
            }
        }
        for (name, (table, sql)) in &self.indexes {
            let known = match (sql, reference.indexes.get(name)) {
                // SQLite's own index of a PRIMARY KEY or UNIQUE column, on a table checked above.
                (None, _) => name.starts_with("sqlite_autoindex_"),
                (Some(sql), Some((ref_table, Some(ref_sql)))) => {
                    ref_table == table && sql == ref_sql
                }
                _ => false,
            };
            if !known {
                out.push(format!("an unknown or altered index {name:?} on {table:?}"));
            }
        }
        out
    }
}

/// The upper-cased words of an SQL definition.
fn words(sql: &str) -> Vec<String> {
    sql.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_uppercase)
        .collect()
}
