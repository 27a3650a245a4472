//! Content packages applied to this box: exporting the centre's materials and lessons to one
//! file, and importing one into the centre library after showing what it would change. The
//! format and its safety checks are in [`crate::package`].

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::content::centre::CentreLibrary;
use crate::content::{Library, hex};
use crate::lessons::LessonStore;
use crate::package::{
    self, Applied, Entry, LessonInfo, LocalFile, Manifest, MaterialInfo, Package, PackageError,
    Planned,
};

/// Prefix of library files inside a package.
const LIBRARY: &str = "library/";
/// Prefix of lessons inside a package.
const LESSONS: &str = "lessons/";

/// Errors of exporting or importing.
#[derive(Debug, thiserror::Error)]
pub enum PackageIoError {
    /// The package itself was refused or could not be written.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// Reading the library or writing the result failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Something asked for is not there.
    #[error("{0}")]
    Missing(String),
}

/// What to export: `None` means everything of that kind the centre made itself.
#[derive(Debug, Default, Clone)]
pub struct Selection {
    /// Material ids; `None`: every material in the centre's own folder.
    pub materials: Option<Vec<String>>,
    /// Lesson codes; `None`: every lesson.
    pub lessons: Option<Vec<String>>,
}

/// Writes a package of the selected materials (with their attachments) and lessons.
pub fn export(
    out: impl Write,
    library: &Library,
    lessons: &LessonStore,
    selection: &Selection,
    centre: &str,
    created: &str,
) -> Result<Manifest, PackageIoError> {
    let mut files = Vec::new();
    let mut infos = Vec::new();
    let ids: Vec<String> = match &selection.materials {
        Some(ids) => ids.clone(),
        None => library
            .materials()
            .iter()
            .filter(|m| !library.is_starter(m))
            .map(|m| m.id.clone())
            .collect(),
    };
    let mut seen = BTreeSet::new();
    for id in ids {
        let m = library
            .get(&id)
            .ok_or_else(|| PackageIoError::Missing(format!("no material {id}")))?;
        infos.push(MaterialInfo {
            id: m.id.clone(),
            title: m.title.clone(),
            updated: m.updated.clone(),
        });
        let mut add = |file: &crate::content::SourceFile| -> Result<(), PackageIoError> {
            if seen.insert(file.rel.clone()) {
                files.push(Entry {
                    path: format!("{LIBRARY}{}", file.rel),
                    bytes: library.read_file(file)?.into_owned(),
                });
            }
            Ok(())
        };
        add(&m.file)?;
        for a in &m.attachments {
            if let Some(f) = library.file(&a.rel) {
                add(f)?;
            }
        }
    }
    let all = lessons
        .list()
        .map_err(|e| PackageIoError::Missing(e.to_string()))?;
    let mut lesson_infos = Vec::new();
    for l in all {
        if selection
            .lessons
            .as_ref()
            .is_some_and(|codes| !codes.contains(&l.code))
        {
            continue;
        }
        let path = lessons.dir().join(format!("{}.toml", l.code));
        files.push(Entry {
            path: format!("{LESSONS}{}.toml", l.code),
            bytes: std::fs::read(path)?,
        });
        lesson_infos.push(LessonInfo {
            code: l.code,
            title: l.title,
        });
    }
    if let Some(codes) = &selection.lessons
        && let Some(missing) = codes
            .iter()
            .find(|c| !lesson_infos.iter().any(|l| &&l.code == c))
    {
        return Err(PackageIoError::Missing(format!("no lesson {missing}")));
    }
    Ok(package::export(
        out,
        created,
        centre,
        infos,
        lesson_infos,
        files,
    )?)
}

/// The time a package is made, to the second (a fixed length, so that two exports of the same
/// content differ only in these characters).
pub fn created_now() -> String {
    created_at(time::OffsetDateTime::now_utc().unix_timestamp() * 1000)
}

/// The creation stamp for a moment in ms since the epoch (the server passes its trusted
/// clock, so a box whose system clock went back does not date its packages in 1970).
pub fn created_at(ms: i64) -> String {
    let f = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(f).ok())
        .unwrap_or_default()
}

/// Reads and checks a package into `staging` (a fresh empty folder on the data disk).
pub fn stage(file: &Path, staging: &Path) -> Result<Package, PackageIoError> {
    let input = std::io::BufReader::new(std::fs::File::open(file)?);
    Ok(package::read(input, &package::Limits::default(), staging)?)
}

/// What importing `pkg` would do to this box.
pub fn plan(pkg: &Package, library: &Library, lessons: &LessonStore) -> Vec<Planned> {
    package::plan(pkg, |path| local_file(path, library, lessons))
}

fn local_file(path: &str, library: &Library, lessons: &LessonStore) -> Option<LocalFile> {
    if let Some(rel) = path.strip_prefix(LIBRARY) {
        if let Some(m) = rel.strip_suffix(".md").and_then(|id| library.get(id)) {
            return Some(LocalFile {
                sha256: m.sha256.clone(),
                updated: m.updated.clone(),
            });
        }
        let f = library.file(rel)?;
        let bytes = library.read_file(f).ok()?;
        return Some(LocalFile {
            sha256: hex(&Sha256::digest(&bytes)),
            updated: library.owner(rel).and_then(|m| m.updated.clone()),
        });
    }
    let code = path.strip_prefix(LESSONS)?.strip_suffix(".toml")?;
    let bytes = std::fs::read(lessons.dir().join(format!("{code}.toml"))).ok()?;
    Some(LocalFile {
        sha256: hex(&Sha256::digest(&bytes)),
        updated: None,
    })
}

/// Applies a plan: library files go into the centre library (the versions they replace kept
/// in its history), lessons into the lessons folder. Each file lands whole or not at all.
pub fn apply(
    pkg: &Package,
    planned: &[Planned],
    include_conflicts: bool,
    centre: &CentreLibrary,
    lessons: &LessonStore,
) -> Result<Applied, PackageIoError> {
    Ok(package::apply(
        pkg,
        planned,
        include_conflicts,
        |path, staged| {
            if let Some(rel) = path.strip_prefix(LIBRARY) {
                centre
                    .put_file(rel, staged)
                    .map_err(|e| std::io::Error::other(e.to_string()))
            } else if let Some(name) = path.strip_prefix(LESSONS) {
                crate::fsutil::rename_durably(staged, &lessons.dir().join(name))
            } else {
                Err(std::io::Error::other(format!("unexpected path {path}")))
            }
        },
    )?)
}
