//! Where library files come from: the starter library compiled into the binary, or a folder.
//!
//! A source lists files by their library-relative path (always `/`-separated, NFC) and reads
//! them. A folder source never yields anything outside its root: hidden files are skipped and
//! symlinks are followed only when they land inside the root.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use rust_embed::RustEmbed;
use unicode_normalization::UnicodeNormalization;

use crate::content::path::is_hidden;

/// The starter library in `content/`, embedded at compile time.
#[derive(RustEmbed)]
#[folder = "content/"]
#[exclude = ".*"]
#[exclude = "*/.*"]
struct StarterLibrary;

/// One file of a library.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path relative to the library root, `/`-separated, NFC.
    pub rel: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Absolute path on disk for folder libraries; `None` for the embedded one.
    pub disk_path: Option<PathBuf>,
    /// Which layer of a [`Source::Layered`] it comes from (0 otherwise).
    pub layer: usize,
    /// When and where the file on disk last changed, as listed; `None` for the embedded one.
    pub changed: Option<Changed>,
}

/// A hash of what a listing says of each file (path, layer, size, times) and of the ids left
/// out: any edit changes it, and it costs nothing beyond the listing. Only compared within one
/// run of the program.
pub fn listing_stamp(files: &[SourceFile], hidden: &std::collections::BTreeSet<String>) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in files {
        (&f.rel, f.layer, f.bytes, f.changed).hash(&mut h);
    }
    hidden.hash(&mut h);
    h.finish()
}

/// What tells that a file on disk changed without reading it: its modification and status
/// change times (a copy that keeps the old modification time still changes the second) and its
/// inode (a file replaced by another one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Changed {
    /// Modification time, nanoseconds since 1970.
    pub modified_ns: i64,
    /// Status change time, nanoseconds since 1970.
    pub status_ns: i64,
    /// Inode number.
    pub inode: u64,
}

impl Changed {
    #[cfg(unix)]
    fn of(m: &std::fs::Metadata) -> Option<Changed> {
        use std::os::unix::fs::MetadataExt;
        Some(Changed {
            modified_ns: m.mtime().saturating_mul(1_000_000_000) + m.mtime_nsec(),
            status_ns: m.ctime().saturating_mul(1_000_000_000) + m.ctime_nsec(),
            inode: m.ino(),
        })
    }

    #[cfg(not(unix))]
    fn of(_: &std::fs::Metadata) -> Option<Changed> {
        None
    }

    /// The later of both times, nanoseconds since 1970.
    pub fn latest_ns(&self) -> i64 {
        self.modified_ns.max(self.status_ns)
    }
}

/// The contents of a file, borrowed from the binary or read from disk.
pub type FileData = Cow<'static, [u8]>;

/// An opened file, ready to serve.
#[derive(Debug)]
pub enum Blob {
    /// Bytes inside the binary, with their SHA-256 computed at build time.
    Memory {
        /// The bytes.
        data: FileData,
        /// Their SHA-256.
        sha256: [u8; 32],
    },
    /// A file on disk.
    File(std::fs::File),
}

/// A library's storage.
#[derive(Debug, Clone)]
pub enum Source {
    /// The starter library inside the binary.
    Embedded,
    /// A folder on disk (canonical path).
    Dir(PathBuf),
    /// Several sources seen as one; a file in a later layer replaces the file with the same
    /// path in an earlier one (the centre's own copy of a starter material).
    Layered(Vec<Source>),
}

/// Something that went wrong while listing a folder; reported, then skipped.
#[derive(Debug, Clone)]
pub struct ListProblem {
    /// Path relative to the root, as far as it is known.
    pub rel: String,
    /// What is wrong, in words.
    pub message: String,
}

impl Source {
    /// A folder source; the path must exist and be a directory.
    pub fn dir(path: &Path) -> std::io::Result<Self> {
        let root = path.canonicalize()?;
        if !root.is_dir() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::NotADirectory,
                format!("{} is not a folder", root.display()),
            ));
        }
        Ok(Source::Dir(root))
    }

    /// A short description for logs: `embedded starter library` or the folder.
    pub fn describe(&self) -> String {
        match self {
            Source::Embedded => "embedded starter library".to_string(),
            Source::Dir(root) => root.display().to_string(),
            Source::Layered(layers) => layers
                .iter()
                .map(Source::describe)
                .collect::<Vec<_>>()
                .join(" + "),
        }
    }

    /// Lists every file, sorted by path, and the problems met on the way.
    pub fn list(&self) -> (Vec<SourceFile>, Vec<ListProblem>) {
        let (mut files, problems) = match self {
            Source::Embedded => (list_embedded(), Vec::new()),
            Source::Dir(root) => list_dir(root),
            Source::Layered(layers) => list_layers(layers),
        };
        files.sort_by(|a, b| a.rel.cmp(&b.rel));
        (files, problems)
    }

    /// Opens a listed file for serving: embedded bytes with their digest, or an open file.
    pub fn open(&self, file: &SourceFile) -> std::io::Result<Blob> {
        match (&file.disk_path, self) {
            (_, Source::Layered(layers)) => layer(layers, file)?.open(file),
            (Some(p), Source::Dir(root)) => Ok(Blob::File(std::fs::File::open(inside(root, p)?)?)),
            _ => StarterLibrary::get(&file.rel)
                .map(|f| Blob::Memory {
                    sha256: f.metadata.sha256_hash(),
                    data: f.data,
                })
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound)),
        }
    }

    /// Reads a listed file of at most `max` bytes: never more is read, whatever the file has
    /// grown to since it was listed; a larger one is an `InvalidData` error.
    pub fn read_at_most(&self, file: &SourceFile, max: u64) -> std::io::Result<FileData> {
        let too_large = || {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("larger than {:.1} MB", max as f64 / 1e6),
            )
        };
        match (&file.disk_path, self) {
            (_, Source::Layered(layers)) => layer(layers, file)?.read_at_most(file, max),
            (Some(p), Source::Dir(root)) => {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(
                    &mut std::io::Read::take(std::fs::File::open(inside(root, p)?)?, max + 1),
                    &mut bytes,
                )?;
                if bytes.len() as u64 > max {
                    return Err(too_large());
                }
                Ok(Cow::Owned(bytes))
            }
            _ => match self.read(file)? {
                data if data.len() as u64 > max => Err(too_large()),
                data => Ok(data),
            },
        }
    }

    /// Reads a listed file.
    pub fn read(&self, file: &SourceFile) -> std::io::Result<FileData> {
        match (&file.disk_path, self) {
            (_, Source::Layered(layers)) => layer(layers, file)?.read(file),
            (Some(p), Source::Dir(root)) => Ok(Cow::Owned(std::fs::read(inside(root, p)?)?)),
            _ => StarterLibrary::get(&file.rel)
                .map(|f| f.data)
                .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound)),
        }
    }
}

/// The real path of a listed file, refused when it now points outside the library (it may
/// have been swapped for a symlink since it was listed).
fn inside(root: &Path, listed: &Path) -> std::io::Result<PathBuf> {
    let real = listed.canonicalize()?;
    if !real.starts_with(root) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::PermissionDenied,
            "file now points outside the library",
        ));
    }
    Ok(real)
}

fn layer<'a>(layers: &'a [Source], file: &SourceFile) -> std::io::Result<&'a Source> {
    layers
        .get(file.layer)
        .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::NotFound))
}

fn list_layers(layers: &[Source]) -> (Vec<SourceFile>, Vec<ListProblem>) {
    let mut files = std::collections::BTreeMap::new();
    let mut problems = Vec::new();
    for (i, source) in layers.iter().enumerate() {
        let (listed, p) = source.list();
        problems.extend(p);
        for mut f in listed {
            f.layer = i;
            files.insert(f.rel.clone(), f);
        }
    }
    (files.into_values().collect(), problems)
}

fn list_embedded() -> Vec<SourceFile> {
    StarterLibrary::iter()
        .filter_map(|name| {
            let f = StarterLibrary::get(&name)?;
            Some(SourceFile {
                rel: name.nfc().collect(),
                bytes: f.data.len() as u64,
                disk_path: None,
                layer: 0,
                changed: None,
            })
        })
        .collect()
}

fn list_dir(root: &Path) -> (Vec<SourceFile>, Vec<ListProblem>) {
    let mut files = Vec::new();
    let mut plain_dirs = std::collections::HashSet::new();
    let mut problems = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !is_hidden(&e.file_name().to_string_lossy()));
    for entry in walker {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let rel = e
                    .path()
                    .and_then(|p| p.strip_prefix(root).ok())
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                problems.push(ListProblem {
                    rel,
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        // Folders reached without a symlink on the way: what lies in them is inside the root
        // without asking the kernel where each file really is (a realpath per file was a
        // third of an unchanged 50k library's start).
        let plain_parent = entry.depth() == 0
            || entry
                .path()
                .parent()
                .is_some_and(|p| plain_dirs.contains(p));
        if entry.file_type().is_dir() {
            if plain_parent && !entry.path_is_symlink() {
                plain_dirs.insert(entry.path().to_path_buf());
            }
            continue;
        }
        if !entry.file_type().is_file() {
            continue;
        }
        let Ok(rel_path) = entry.path().strip_prefix(root) else {
            continue;
        };
        let Some(rel) = rel_string(rel_path) else {
            problems.push(ListProblem {
                rel: rel_path.to_string_lossy().into_owned(),
                message: "file name is not valid UTF-8; rename it".to_string(),
            });
            continue;
        };
        // A symlink is listed under its own name but must resolve inside the root.
        let inside = (plain_parent && !entry.path_is_symlink())
            || entry
                .path()
                .canonicalize()
                .is_ok_and(|real| real.starts_with(root));
        if !inside {
            problems.push(ListProblem {
                rel,
                message: "link points outside the library; skipped".to_string(),
            });
            continue;
        }
        let meta = entry.metadata().ok();
        files.push(SourceFile {
            rel,
            bytes: meta.as_ref().map_or(0, |m| m.len()),
            disk_path: Some(entry.path().to_path_buf()),
            layer: 0,
            changed: meta.as_ref().and_then(Changed::of),
        });
    }
    (files, problems)
}

fn rel_string(rel: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for c in rel.components() {
        parts.push(c.as_os_str().to_str()?.nfc().collect::<String>());
    }
    Some(parts.join("/"))
}
