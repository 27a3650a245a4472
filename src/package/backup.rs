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

/// Restores a backup into `data`, which must be empty or absent. Every checksum is verified
/// before anything is moved into place; if anything fails, the folder is left empty again.
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
