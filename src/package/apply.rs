//! Applying a plan: each file to install is handed to the caller's `put`, in path order; where
//! it goes on disk is the caller's business.

use std::io;
use std::path::Path;

use serde::Serialize;

use super::{Change, Package, PackageError, Planned};

/// What [`apply`](fn@apply) did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// New files installed.
    pub new: usize,
    /// Changed files installed.
    pub changed: usize,
    /// Conflicting files installed over newer local ones.
    pub conflicts_applied: usize,
    /// Conflicting files left alone.
    pub conflicts_skipped: usize,
    /// Files already installed with the same contents.
    pub same: usize,
}

/// Hands each [`Change::New`] and [`Change::Changed`] file of `plan` (and each
/// [`Change::Conflict`] if `include_conflicts`) to `put(package_path, staged_file)`, in path
/// order, once per path.
///
/// `put` installs the file (moving it into place atomically and keeping history is its job).
/// The first failure stops the run; files already put stay put.
pub fn apply(
    pkg: &Package,
    plan: &[Planned],
    include_conflicts: bool,
    mut put: impl FnMut(&str, &Path) -> io::Result<()>,
) -> Result<Applied, PackageError> {
    let mut sorted: Vec<&Planned> = plan.iter().collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    sorted.dedup_by(|a, b| a.path == b.path);
    let mut done = Applied::default();
    for p in sorted {
        let counter = match (p.change, include_conflicts) {
            (Change::Same, _) => {
                done.same += 1;
                continue;
            }
            (Change::Conflict, false) => {
                done.conflicts_skipped += 1;
                continue;
            }
            (Change::Conflict, true) => &mut done.conflicts_applied,
            (Change::New, _) => &mut done.new,
            (Change::Changed, _) => &mut done.changed,
        };
        let Some(staged) = pkg.staged_path(&p.path) else {
            return Err(PackageError::NotInManifest {
                path: p.path.clone(),
            });
        };
        put(&p.path, &staged).map_err(|source| PackageError::Install {
            path: p.path.clone(),
            source,
        })?;
        *counter += 1;
    }
    Ok(done)
}
