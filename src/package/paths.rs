//! Which paths an archive may hold: the shared library-path rule, then the tar header's length
//! limits and the folders (areas) files may be in. The same checks guard writing and reading,
//! so a package that can be written can always be read.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::content::path::{UnsafePath, check_rel};
use crate::lessons;

use super::{Areas, PackageError};

/// UStar header fields: the path is split into a prefix and a name at a `/`.
const USTAR_NAME: usize = 100;
const USTAR_PREFIX: usize = 155;

/// The path rules shared by [`export`](super::export) and [`read`](super::read()): the same
/// package must never be writable yet unreadable, and every path must stay a plain relative
/// path inside the staging folder.
pub(super) fn check_path(path: &str, areas: Areas) -> Result<(), PackageError> {
    let owned = || path.to_string();
    check_rel(path).map_err(|why| unsafe_path(why, owned()))?;
    // The library keys files by NFC paths; two spellings of one name would collide there.
    if !unicode_normalization::is_nfc(path) {
        return Err(PackageError::NotNfc { path: owned() });
    }
    if !fits_ustar(path) {
        return Err(PackageError::PathTooLong { path: owned() });
    }
    check_area(path, areas)
}

/// A package error for each part of the shared rule, naming the path for the admin page.
fn unsafe_path(why: UnsafePath, path: String) -> PackageError {
    match why {
        UnsafePath::Empty => PackageError::EmptyPath,
        UnsafePath::ControlChar => PackageError::ControlChar { path },
        UnsafePath::Backslash => PackageError::Backslash { path },
        UnsafePath::Absolute => PackageError::AbsolutePath { path },
        UnsafePath::EmptySegment => PackageError::EmptySegment { path },
        UnsafePath::DotSegment => PackageError::DotSegment { path },
        UnsafePath::ParentSegment => PackageError::ParentSegment { path },
        UnsafePath::Hidden => PackageError::HiddenFile { path },
    }
}

/// `library/<rel>` or `lessons/<code>.toml`.
fn check_area(path: &str, areas: Areas) -> Result<(), PackageError> {
    match path.split_once('/') {
        Some(("library", _)) => Ok(()),
        Some(("history" | "records" | "settings", _)) if areas == Areas::Backup => Ok(()),
        Some(("lessons", name)) => match name.strip_suffix(".toml") {
            // The lessons folder's own rule, so that every lesson a package carries can be saved.
            Some(code) if lessons::valid_code(code) => Ok(()),
            _ => Err(PackageError::BadLessonName {
                path: path.to_string(),
            }),
        },
        _ => Err(PackageError::OutsideFolders {
            path: path.to_string(),
        }),
    }
}

/// Whether a UStar header can hold the path: whole in the name field, or split at a `/` into
/// prefix and name the way the tar crate splits it (longest prefix that fits).
pub(super) fn fits_ustar(path: &str) -> bool {
    let bytes = path.as_bytes();
    if bytes.len() <= USTAR_NAME {
        return true;
    }
    let window = &bytes[..bytes.len().min(USTAR_PREFIX + 1)];
    match window.iter().rposition(|&b| b == b'/') {
        Some(cut) => bytes.len() - cut - 1 <= USTAR_NAME,
        None => false,
    }
}

/// Checks every path, then that none repeats and none is used as another's folder.
pub(super) fn check_paths<'a>(
    paths: impl Iterator<Item = &'a str>,
    areas: Areas,
) -> Result<(), PackageError> {
    let mut all = BTreeSet::new();
    for path in paths {
        check_path(path, areas)?;
        if !all.insert(path) {
            return Err(PackageError::DuplicatePath {
                path: path.to_string(),
            });
        }
    }
    for &path in &all {
        let mut folders = path.match_indices('/').map(|(i, _)| &path[..i]);
        if let Some(clash) = folders.find(|f| all.contains(f)) {
            return Err(PackageError::PathClash {
                path: clash.to_string(),
                other: path.to_string(),
            });
        }
    }
    Ok(())
}

/// Where a package path lives under a staging folder. Only called with checked paths.
pub(super) fn staged(staging: &Path, package_path: &str) -> PathBuf {
    let mut p = staging.to_path_buf();
    p.extend(package_path.split('/'));
    p
}
