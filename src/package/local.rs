//! Content packages applied to this box: exporting the centre's materials and lessons to one
//! file, and importing one into the centre library after showing what it would change. The
//! format and its safety checks are in [`crate::package`].

use std::collections::BTreeSet;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::content::centre::CentreLibrary;
use crate::content::source::{Blob, FileData, SourceFile};
use crate::content::{Library, hex};
use crate::lessons::LessonStore;
use crate::package::{
    self, About, Applied, LessonInfo, LocalFile, Manifest, MaterialInfo, Package, PackageError,
    Planned, Prepared,
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
    /// A file of the package is sound as a file but not as content: larger than the editor's
    /// forms allow, or a lesson the lesson form would not save.
    #[error("{path}: {reason}")]
    Refused {
        /// Its path in the package.
        path: String,
        /// Why, in words for the admin page.
        reason: String,
    },
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
    Ok(prepare_export(library, lessons, selection, centre, created)?.write(out)?)
}

/// Where a file of an export comes from.
#[derive(Debug)]
pub enum Origin<'a> {
    /// A file of the library (in the binary or on disk).
    Library(&'a SourceFile),
    /// A lesson's file.
    Lesson(PathBuf),
}

/// An opened file of an export, read as it is copied.
#[derive(Debug)]
pub enum Opened {
    /// Bytes inside the binary.
    Memory(std::io::Cursor<FileData>),
    /// A file on disk.
    File(std::fs::File),
}

impl Read for Opened {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Opened::Memory(c) => c.read(buf),
            Opened::File(f) => f.read(buf),
        }
    }
}

/// An export checked and checksummed, not yet written: its size is known, so a download can
/// announce it, and its files are read again only as they are written.
pub type PreparedExport<'a> = Prepared<Origin<'a>, OpenFile<'a>>;

/// How an export opens each of its files.
pub type OpenFile<'a> = Box<dyn Fn(&Origin<'a>) -> std::io::Result<Opened> + Send + 'a>;

/// Checks the selected materials (with their attachments) and lessons and checksums their
/// files, streaming them (nothing is held in memory whole, whatever their size).
pub fn prepare_export<'a>(
    library: &'a Library,
    lessons: &LessonStore,
    selection: &Selection,
    centre: &str,
    created: &str,
) -> Result<PreparedExport<'a>, PackageIoError> {
    let mut files: Vec<(String, Origin<'a>)> = Vec::new();
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
        let mut add = |file: &'a SourceFile| {
            if seen.insert(file.rel.clone()) {
                files.push((format!("{LIBRARY}{}", file.rel), Origin::Library(file)));
            }
        };
        add(&m.file);
        // A picture's smaller copies go with it, so the other box shows it light too.
        for rel in m
            .attachments
            .iter()
            .flat_map(|a| std::iter::once(&a.rel).chain(a.copies.iter().map(|c| &c.rel)))
        {
            if let Some(f) = library.file(rel) {
                add(f);
            }
        }
    }
    let all = lessons
        .list()
        .map_err(|e| PackageIoError::Missing(e.to_string()))?;
    let mut lesson_infos = Vec::new();
    for l in all.iter() {
        if selection
            .lessons
            .as_ref()
            .is_some_and(|codes| !codes.contains(&l.code))
        {
            continue;
        }
        let Some(path) = lessons.path(&l.code) else {
            continue;
        };
        files.push((format!("{LESSONS}{}.toml", l.code), Origin::Lesson(path)));
        lesson_infos.push(LessonInfo {
            code: l.code.clone(),
            title: l.title.clone(),
        });
    }
    if let Some(codes) = &selection.lessons
        && let Some(missing) = codes
            .iter()
            .find(|c| !lesson_infos.iter().any(|l| &&l.code == c))
    {
        return Err(PackageIoError::Missing(format!("no lesson {missing}")));
    }
    let about = About {
        areas: package::Areas::Package,
        created: created.to_string(),
        centre: centre.to_string(),
        materials: infos,
        lessons: lesson_infos,
    };
    let open: OpenFile<'a> = Box::new(move |origin| match origin {
        Origin::Library(file) => Ok(match library.source().open(file)? {
            Blob::Memory { data, .. } => Opened::Memory(std::io::Cursor::new(data)),
            Blob::File(f) => Opened::File(f),
        }),
        Origin::Lesson(path) => Ok(Opened::File(std::fs::File::open(path)?)),
    });
    Ok(package::prepare(about, files, open)?)
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

/// Reads and checks a package into `staging` (a fresh empty folder on the data disk). Its
/// materials and lessons are held to the limits of the editor's forms: one that is larger, or a
/// lesson the form would refuse, refuses the whole package.
pub fn stage(file: &Path, staging: &Path) -> Result<Package, PackageIoError> {
    let input = std::io::BufReader::new(std::fs::File::open(file)?);
    let pkg = package::read(input, &package::Limits::default(), staging)?;
    for f in pkg.files() {
        if let Some(staged) = pkg.staged_path(&f.path)
            && let Some(reason) = refusal(&f.path, f.size, &staged)?
        {
            return Err(PackageIoError::Refused {
                path: f.path.clone(),
                reason,
            });
        }
    }
    Ok(pkg)
}

/// Why a file arriving at `path` (an archive path such as `library/x/y.md` or
/// `lessons/abcd.toml`, `size` bytes, its bytes in `staged`) must not be installed: the limits
/// of the forms, which a package or a backup must not get around. `None`: it may.
pub fn refusal(path: &str, size: u64, staged: &Path) -> std::io::Result<Option<String>> {
    if let Some(rel) = path.strip_prefix(LIBRARY)
        && rel.ends_with(".md")
    {
        let max = crate::content::material::MAX_BYTES;
        return Ok((size > max).then(|| {
            format!(
                "tài liệu dài {:.1} MB, quá mức {:.0} MB mà trang soạn tài liệu cho phép",
                size as f64 / 1e6,
                max as f64 / 1e6
            )
        }));
    }
    let Some(code) = path
        .strip_prefix(LESSONS)
        .and_then(|name| name.strip_suffix(".toml"))
    else {
        return Ok(None);
    };
    if size > crate::lessons::MAX_FILE_BYTES {
        return Ok(Some(format!(
            "bài học dài {:.1} MB, quá mức trang soạn bài học cho phép",
            size as f64 / 1e6
        )));
    }
    let bytes = std::fs::read(staged)?;
    Ok(match crate::lessons::parse(code, &bytes) {
        Ok(_) => None,
        Err(crate::lessons::LessonError::Io(e)) => return Err(e),
        Err(e) => Some(format!("bài học không dùng được ({e})")),
    })
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
    let bytes = std::fs::read(lessons.path(code)?).ok()?;
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
                centre.put_file(rel, staged).map_err(other)
            } else if let Some(code) = path
                .strip_prefix(LESSONS)
                .and_then(|name| name.strip_suffix(".toml"))
            {
                // Through the store, so that its cached list (which search reads) sees the
                // lesson at once rather than when the folder watcher fires.
                lessons.put_file(code, staged).map_err(other)
            } else {
                Err(other(format!("unexpected path {path}")))
            }
        },
    )?)
}

/// `package::apply` reports what its `put` returns as an I/O error.
fn other(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Category;
    use crate::lessons::Lesson;
    use crate::package::Entry;

    fn lesson(code: &str) -> Lesson {
        Lesson {
            code: code.into(),
            title: format!("Bài {code}"),
            category: Category::Agriculture,
            audience: String::new(),
            date: "2026-12-05".into(),
            notes: String::new(),
            published: true,
            author: "co-lan".into(),
            items: vec![],
        }
    }

    /// A package holding `lessons`, staged in a fresh folder under `data`.
    fn staged_package(data: &Path, lessons: &[Lesson]) -> (tempfile::TempDir, Package) {
        let files = lessons
            .iter()
            .map(|l| Entry {
                path: format!("{LESSONS}{}.toml", l.code),
                bytes: toml::to_string(l).unwrap().into_bytes(),
            })
            .collect();
        let infos = lessons
            .iter()
            .map(|l| LessonInfo {
                code: l.code.clone(),
                title: l.title.clone(),
            })
            .collect();
        let mut bytes = Vec::new();
        package::export(&mut bytes, "t", "", vec![], infos, files).unwrap();
        let staging = tempfile::tempdir_in(data).unwrap();
        let pkg = package::read(
            bytes.as_slice(),
            &package::Limits::default(),
            staging.path(),
        );
        (staging, pkg.unwrap())
    }

    #[test]
    fn imported_lessons_are_listed_and_found_at_once() {
        let data = tempfile::tempdir().unwrap();
        let lessons = LessonStore::open(data.path()).unwrap();
        let centre = CentreLibrary::open(data.path()).unwrap();
        lessons.save(&lesson("abcd")).unwrap();
        // Listing fills the store's cache, as the search page does on a running server.
        assert_eq!(lessons.list().unwrap().len(), 1);
        let (_staging, pkg) = staged_package(data.path(), &[lesson("k7m2p")]);
        let planned = package::plan(&pkg, |_| None);
        let done = apply(&pkg, &planned, false, &centre, &lessons).unwrap();
        assert_eq!(done.new, 1);
        let codes: Vec<String> = lessons
            .list()
            .unwrap()
            .iter()
            .map(|l| l.code.clone())
            .collect();
        assert_eq!(codes, ["abcd", "k7m2p"]);
        assert_eq!(lessons.get("k7m2p").unwrap(), Some(lesson("k7m2p")));
    }
}
