//! Comparing a package with what is installed: each file is new, the same, changed, or in
//! conflict with newer local work, judged by checksum and the materials' `updated` dates.

use std::collections::HashMap;

use serde::Serialize;

use super::{FileInfo, MaterialInfo, Package};

/// What installed copy of a package path, if any, the caller has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    /// SHA-256 of the installed file, 64 lowercase hex digits.
    pub sha256: String,
    /// `updated` date of the installed material the file belongs to (`YYYY-MM-DD`), if known.
    pub updated: Option<String>,
}

/// How a package file compares with the installed one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Change {
    /// Not installed yet.
    New,
    /// Installed with the same contents.
    Same,
    /// Installed with other contents, and the package's copy is not older.
    Changed,
    /// Installed with other contents that are newer: applying would overwrite newer work.
    Conflict,
}

/// One file of a [`plan`](fn@plan).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    /// Package path.
    pub path: String,
    /// How it compares with the installed copy.
    pub change: Change,
    /// Why, in words for the admin page.
    pub reason: String,
}

/// Compares each file of `pkg` with the installed copy that `local` describes; sorted by path.
///
/// An absent copy is [`Change::New`], an equal checksum [`Change::Same`]. Otherwise library
/// files compare `updated` dates: the package's date is that of the material whose `.md` the
/// file is, or which owns it as an attachment (same folder, name starting with the material's
/// file name followed by `.`, `-` or `_`, the longest such name winning — the library's own
/// rule for unlinked attachments). An installed copy dated later than the package's, or dated
/// when the package's is not, is a [`Change::Conflict`]; anything else is [`Change::Changed`].
/// Lessons carry no date, so a different lesson is always [`Change::Changed`].
pub fn plan(pkg: &Package, local: impl Fn(&str) -> Option<LocalFile>) -> Vec<Planned> {
    let dates = PackageDates::new(&pkg.manifest.materials);
    let mut planned: Vec<Planned> = pkg
        .files()
        .map(|f| {
            let (change, reason) = compare(f, local(&f.path), &dates);
            Planned {
                path: f.path.clone(),
                change,
                reason,
            }
        })
        .collect();
    planned.sort_by(|a, b| a.path.cmp(&b.path));
    planned
}

/// The package's `updated` date for each library path, from its materials.
pub(super) struct PackageDates<'a> {
    by_id: HashMap<&'a str, &'a MaterialInfo>,
    by_dir: HashMap<&'a str, Vec<&'a MaterialInfo>>,
}

impl<'a> PackageDates<'a> {
    pub(super) fn new(materials: &'a [MaterialInfo]) -> Self {
        let mut by_dir: HashMap<&str, Vec<&MaterialInfo>> = HashMap::new();
        for m in materials {
            by_dir.entry(split_dir(&m.id).0).or_default().push(m);
        }
        PackageDates {
            by_id: materials.iter().map(|m| (m.id.as_str(), m)).collect(),
            by_dir,
        }
    }

    /// The material a library path is, or belongs to as an attachment.
    pub(super) fn owner(&self, path: &str) -> Option<&'a MaterialInfo> {
        let rel = path.strip_prefix("library/")?;
        if let Some(m) = rel.strip_suffix(".md").and_then(|id| self.by_id.get(id)) {
            return Some(m);
        }
        let (dir, name) = split_dir(rel);
        let candidates = self.by_dir.get(dir)?;
        candidates
            .iter()
            .copied()
            .filter(|m| {
                name.strip_prefix(split_dir(&m.id).1)
                    .is_some_and(|rest| rest.starts_with(['.', '-', '_']))
            })
            .max_by_key(|m| m.id.len())
    }
}

/// `("a/b", "c")` for `a/b/c`, `("", "c")` for `c`.
fn split_dir(rel: &str) -> (&str, &str) {
    rel.rsplit_once('/').unwrap_or(("", rel))
}

fn compare(f: &FileInfo, local: Option<LocalFile>, dates: &PackageDates) -> (Change, String) {
    let Some(local) = local else {
        return (Change::New, "not installed here".into());
    };
    if local.sha256 == f.sha256 {
        return (Change::Same, "already installed, identical".into());
    }
    if f.path.starts_with("lessons/") {
        return (Change::Changed, "differs from the installed lesson".into());
    }
    let ours = dates.owner(&f.path).and_then(|m| m.updated.as_deref());
    match (ours, local.updated.as_deref()) {
        (Some(ours), Some(theirs)) if ours < theirs => (
            Change::Conflict,
            format!("the installed copy is newer ({theirs}) than the package's ({ours})"),
        ),
        (None, Some(theirs)) => (
            Change::Conflict,
            format!("the installed copy is dated {theirs}; the package's copy has no date"),
        ),
        (Some(ours), Some(theirs)) => (
            Change::Changed,
            format!(
                "the package's copy ({ours}) is as new or newer than the installed one ({theirs})"
            ),
        ),
        (_, None) => (
            Change::Changed,
            "differs from the installed copy, which has no date".into(),
        ),
    }
}
