//! Writing files so that a power cut leaves either the old or the new version, never a mix:
//! write beside, flush to the card, rename over, then flush the folder entry too.

use std::io::Write;
use std::path::Path;

/// Replaces `path` with `bytes` atomically and durably (creating parent folders).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new().prefix(".tmp-").tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// Moves `from` over `to` durably (both in the same file system).
pub fn rename_durably(from: &Path, to: &Path) -> std::io::Result<()> {
    let dir = to.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    std::fs::File::open(from)?.sync_all()?;
    std::fs::rename(from, to)?;
    sync_dir(dir)
}

/// Temporary names this program writes under (beside their final place): whatever is found
/// under them at start was cut short by a crash or a power cut.
pub const TEMPORARY_PREFIXES: [&str; 7] = [
    ".tmp-",
    ".upload-",
    ".package-",
    ".restore-",
    ".backup-",
    ".download-",
    ".doctor-",
];

/// Removes files and folders a crash left under temporary names in `dir` and its
/// subfolders; returns how many. Final names are never touched.
pub fn remove_leftovers_deep(dir: &Path) -> usize {
    let mut removed = remove_leftovers(dir);
    for e in walkdir::WalkDir::new(dir)
        .min_depth(1)
        .into_iter()
        .filter_entry(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .flatten()
    {
        if e.file_type().is_dir() {
            removed += remove_leftovers(e.path());
        }
    }
    removed
}

/// Removes files and folders a crash left under temporary names directly in `dir`; returns
/// how many. Final names are never touched.
pub fn remove_leftovers(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !TEMPORARY_PREFIXES.iter().any(|p| name.starts_with(p)) {
            continue;
        }
        let path = e.path();
        let gone = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match gone {
            Ok(()) => removed += 1,
            Err(err) => {
                tracing::warn!(path = %path.display(), error = %err, "cannot remove a leftover temporary file")
            }
        }
    }
    removed
}

/// Flushes a folder's entries (renames and new files) to disk.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_of_a_crash_are_removed_and_nothing_else() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join(".upload-abc"), b"half").unwrap();
        std::fs::create_dir(d.path().join(".package-x")).unwrap();
        std::fs::write(d.path().join(".package-x/f"), b"x").unwrap();
        std::fs::write(d.path().join("lua.md"), b"keep").unwrap();
        std::fs::write(d.path().join(".hidden-by-user"), b"keep").unwrap();
        std::fs::create_dir(d.path().join("health")).unwrap();
        std::fs::write(d.path().join("health/.tmp-1"), b"half").unwrap();
        assert_eq!(remove_leftovers_deep(d.path()), 3);
        let mut left: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".hidden-by-user", "health", "lua.md"]);
        assert_eq!(
            std::fs::read_dir(d.path().join("health")).unwrap().count(),
            0
        );
    }

    #[test]
    fn replaces_whole_files_and_leaves_no_temporary_behind() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("a/b.md");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(d.path().join("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["b.md"]);
    }
}

/// Whether `e`, or anything in its chain of causes, says the disk is full: an OS error
/// `ENOSPC`/`EDQUOT` (also inside an `io::Error` wrapping another error) or SQLite's
/// `SQLITE_FULL`.
pub fn is_disk_full(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ) {
                return true;
            }
            // An `io::Error` made from another error hides it from `source()`.
            if let Some(inner) = io.get_ref()
                && is_disk_full(inner)
            {
                return true;
            }
        }
        if let Some(db) = e.downcast_ref::<rusqlite::Error>()
            && db.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull)
        {
            return true;
        }
        next = e.source();
    }
    false
}

#[cfg(test)]
pub(crate) mod disk_full_tests {
    use super::*;

    /// A real "no space left on device" from the kernel: every write to /dev/full gets one.
    pub(crate) fn enospc() -> std::io::Error {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        f.write_all(b"x").and_then(|()| f.flush()).unwrap_err()
    }

    #[test]
    fn a_full_disk_is_recognised_however_it_is_wrapped() {
        let e = enospc();
        assert!(is_disk_full(&e), "{e:?}");
        let wrapped = std::io::Error::other(std::io::Error::other(enospc()));
        assert!(is_disk_full(&wrapped));
        assert!(!is_disk_full(&std::io::Error::from(
            std::io::ErrorKind::PermissionDenied
        )));

        let c = rusqlite::Connection::open_in_memory().unwrap();
        c.execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
            .unwrap();
        let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0)).unwrap();
        c.pragma_update(None, "max_page_count", pages).unwrap();
        let full = c
            .execute("INSERT INTO t VALUES (randomblob(100000))", [])
            .unwrap_err();
        assert!(is_disk_full(&full), "{full:?}");
        let other = c.execute("INSERT INTO nope VALUES (1)", []).unwrap_err();
        assert!(!is_disk_full(&other));
    }
}
