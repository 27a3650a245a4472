//! Content packages: materials and lessons carried between centres as one uncompressed tar file
//! (`*.hoclieu.tar`), for example on a USB stick. [`export`] writes one; [`read`] checks one into
//! a staging folder, [`plan`] compares it with what is installed and [`apply`] hands files over.
//!
//! A package is untrusted input: [`read`] refuses anything but plain files at plain paths under
//! `library/` and `lessons/`, each listed with its size and SHA-256 in the manifest, within
//! [`Limits`]. It writes only inside the staging folder and never touches the real library.

pub mod backup;
pub mod local;

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Path of the manifest, the first entry of every package.
pub const MANIFEST_PATH: &str = "hoclieu-package.toml";

/// The package format this module writes and reads.
pub const FORMAT: u32 = 1;

/// How a package file's name ends.
pub const FILE_SUFFIX: &str = ".hoclieu.tar";

/// The manifest is parsed in memory, so it gets its own bound; 16 MiB is far above what
/// 10,000 files need (about 150 bytes each).
const MAX_MANIFEST_BYTES: u64 = 16 << 20;

/// UStar header fields: the path is split into a prefix and a name at a `/`.
const USTAR_NAME: usize = 100;
const USTAR_PREFIX: usize = 155;

const COPY_CHUNK: usize = 64 * 1024;

/// Why a package could not be written, read or applied. Messages are meant for an admin page.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// Writing the package file failed.
    #[error("writing the package failed: {source}")]
    WritePackage {
        /// The underlying error.
        source: io::Error,
    },
    /// Reading the package file failed (for example, the USB stick was removed).
    #[error("reading the package failed: {source}")]
    ReadPackage {
        /// The underlying error.
        source: io::Error,
    },
    /// Reading the staging folder or writing a file into it failed.
    #[error("{}: could not write into the staging folder: {source}", path.display())]
    Staging {
        /// The file or folder on disk.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The staging folder given to [`read`] is not empty.
    #[error(
        "the staging folder {path} is not empty; packages are unpacked into a new empty folder"
    )]
    StagingNotEmpty {
        /// The folder.
        path: PathBuf,
    },
    /// A file to put in an archive cannot be read.
    #[error("{path}: cannot be read: {source}")]
    ReadFile {
        /// The file on disk.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
    /// The caller's `put` failed while applying a file.
    #[error("{path:?}: installing the file failed: {source}")]
    Install {
        /// Package path of the file.
        path: String,
        /// The underlying error.
        source: io::Error,
    },
    /// The tar structure is broken.
    #[error("the package file is damaged or is not a hoclieu package ({detail})")]
    Corrupt {
        /// What the tar reader said.
        detail: String,
    },
    /// The package ends in the middle of a file.
    #[error(
        "{path:?}: the package ends in the middle of this file; it was probably not copied completely"
    )]
    Truncated {
        /// Package path of the file.
        path: String,
    },
    /// The first entry is not the manifest.
    #[error("the package does not start with {MANIFEST_PATH}; it is not a hoclieu package")]
    MissingManifest,
    /// The manifest is larger than this module accepts.
    #[error("the package description ({MANIFEST_PATH}) is larger than {limit} bytes")]
    ManifestTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// The manifest is not valid.
    #[error("the package description ({MANIFEST_PATH}) is not valid: {detail}")]
    BadManifest {
        /// What is wrong.
        detail: String,
    },
    /// The manifest declares a format other than [`FORMAT`].
    #[error(
        "the package uses format {found}, but this version of hoclieu reads only format {FORMAT}; update hoclieu to import it"
    )]
    UnsupportedFormat {
        /// The declared format.
        found: i64,
    },
    /// A path is empty.
    #[error("a file in the package has an empty path")]
    EmptyPath,
    /// A path is not valid UTF-8.
    #[error("{path:?}: the path is not valid UTF-8 text")]
    NotUtf8 {
        /// The path, with invalid bytes replaced.
        path: String,
    },
    /// A path starts with `/`.
    #[error("{path:?}: absolute paths are not allowed")]
    AbsolutePath {
        /// The path.
        path: String,
    },
    /// A path has a `..` segment.
    #[error("{path:?}: paths must not contain \"..\"")]
    ParentSegment {
        /// The path.
        path: String,
    },
    /// A path has a `.` segment.
    #[error("{path:?}: paths must not contain \".\" segments")]
    DotSegment {
        /// The path.
        path: String,
    },
    /// A path has an empty segment (`//`, or a trailing `/`).
    #[error("{path:?}: paths must not contain empty segments (\"//\" or a trailing \"/\")")]
    EmptySegment {
        /// The path.
        path: String,
    },
    /// A path has a backslash.
    #[error("{path:?}: paths must not contain backslashes")]
    Backslash {
        /// The path.
        path: String,
    },
    /// A path has a NUL or other control character.
    #[error("{path:?}: paths must not contain control characters")]
    ControlChar {
        /// The path.
        path: String,
    },
    /// A path segment starts with `.`.
    #[error("{path:?}: hidden files and folders (names starting with \".\") are not allowed")]
    HiddenFile {
        /// The path.
        path: String,
    },
    /// A path is not in Unicode NFC, so it could name the same file as another path.
    #[error("{path:?}: the path is not in Unicode NFC form")]
    NotNfc {
        /// The path.
        path: String,
    },
    /// A path is too long for a tar header.
    #[error("{path:?}: the path is too long (at most 100 bytes per file name, 255 in all)")]
    PathTooLong {
        /// The path.
        path: String,
    },
    /// A path is outside `library/` and `lessons/`.
    #[error("{path:?}: files must be inside library/ or lessons/")]
    OutsideFolders {
        /// The path.
        path: String,
    },
    /// A path under `lessons/` is not `lessons/<code>.toml` with a valid code.
    #[error(
        "{path:?}: lessons must be named lessons/<code>.toml, the code being 4 to 16 of a-z, 0-9 and -"
    )]
    BadLessonName {
        /// The path.
        path: String,
    },
    /// A path is both a file and a folder of another file.
    #[error("{path:?} is a file, but {other:?} uses it as a folder")]
    PathClash {
        /// The file.
        path: String,
        /// The file below it.
        other: String,
    },
    /// An entry is a symbolic or hard link.
    #[error("{path:?} is a link (to {target:?}); packages may contain only ordinary files")]
    LinkEntry {
        /// The path.
        path: String,
        /// Where the link points.
        target: String,
    },
    /// An entry is a device or named pipe.
    #[error("{path:?} is a device or pipe; packages may contain only ordinary files")]
    DeviceEntry {
        /// The path.
        path: String,
    },
    /// An entry of another kind (extended headers, sparse files, ...).
    #[error("{path:?} is a {kind}, which format 1 packages do not use")]
    UnsupportedEntry {
        /// The path.
        path: String,
        /// What kind of entry it is.
        kind: String,
    },
    /// Two files have the same path.
    #[error("{path:?} appears twice in the package")]
    DuplicatePath {
        /// The path.
        path: String,
    },
    /// A file in the tar is not listed in the manifest (or a plan names a file not in the
    /// package).
    #[error("{path:?} is in the package but not in its description")]
    NotInManifest {
        /// The path.
        path: String,
    },
    /// A file listed in the manifest is not in the tar.
    #[error("{path:?} is listed in the package description but missing from the package")]
    MissingFile {
        /// The path.
        path: String,
    },
    /// A file is larger than [`Limits::max_file_bytes`].
    #[error("{path:?} is {size} bytes, more than the limit of {limit} bytes per file")]
    FileTooLarge {
        /// The path.
        path: String,
        /// Its declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The files together are larger than [`Limits::max_total_bytes`].
    #[error("the package holds more than the limit of {limit} bytes in all")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The package has more files than [`Limits::max_files`].
    #[error("the package holds more than the limit of {limit} files")]
    TooManyFiles {
        /// The limit.
        limit: usize,
    },
    /// A file's size differs from the one in the manifest.
    #[error("{path:?} is {found} bytes, but the package description says {expected}")]
    SizeMismatch {
        /// The path.
        path: String,
        /// Size in the manifest.
        expected: u64,
        /// Size in the tar.
        found: u64,
    },
    /// A file's SHA-256 differs from the one in the manifest.
    #[error("{path:?} is damaged: its checksum does not match the package description")]
    ChecksumMismatch {
        /// The path.
        path: String,
    },
}

/// A file to put in a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the package, such as `library/agriculture/lua-vu-xuan.md`.
    pub path: String,
    /// The file's contents.
    pub bytes: Vec<u8>,
}

/// The package description, `hoclieu-package.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Package format, [`FORMAT`].
    pub format: u32,
    /// When the package was made, as the exporter wrote it.
    pub created: String,
    /// The centre that made it; may be empty.
    #[serde(default)]
    pub centre: String,
    /// Materials in the package, sorted by id.
    #[serde(default, rename = "material")]
    pub materials: Vec<MaterialInfo>,
    /// Lessons in the package, sorted by code.
    #[serde(default, rename = "lesson")]
    pub lessons: Vec<LessonInfo>,
    /// Every file in the package, sorted by path.
    #[serde(default, rename = "file")]
    pub files: Vec<FileInfo>,
}

/// A material listed in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialInfo {
    /// Material id: library path without `.md`.
    pub id: String,
    /// Title.
    pub title: String,
    /// Date the facts were last checked, `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
}

/// A lesson listed in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonInfo {
    /// Lesson code; its file is `lessons/<code>.toml`.
    pub code: String,
    /// Title.
    pub title: String,
}

/// A file listed in a manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileInfo {
    /// Path inside the package.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the contents, 64 lowercase hex digits.
    pub sha256: String,
}

/// Bounds on what [`read`] accepts, so a hostile or broken package cannot fill the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single file, in bytes.
    pub max_file_bytes: u64,
    /// Largest sum of all files, in bytes.
    pub max_total_bytes: u64,
    /// Most files.
    pub max_files: usize,
    /// Which top-level folders files may be in.
    pub areas: Areas,
}

impl Default for Limits {
    /// 200 MiB per file (a long video), 2 GiB in all, 10,000 files.
    fn default() -> Self {
        Limits {
            max_file_bytes: 200 << 20,
            max_total_bytes: 2 << 30,
            max_files: 10_000,
            areas: Areas::Package,
        }
    }
}

/// The top-level folders an archive's files may be in: what it is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Areas {
    /// A content package: `library/` and `lessons/` only.
    #[default]
    Package,
    /// A backup of a whole box: also `history/` (replaced versions), `records/` (the
    /// database) and `settings/`.
    Backup,
}

impl Limits {
    /// Bounds for a backup: the database and all media of a box (8 GiB per file, 64 GiB in all,
    /// a million files).
    pub fn backup() -> Limits {
        Limits {
            max_file_bytes: 8 << 30,
            max_total_bytes: 64 << 30,
            max_files: 1_000_000,
            areas: Areas::Backup,
        }
    }
}

/// A package that [`read`] checked and unpacked into its staging folder.
#[derive(Debug)]
pub struct Package {
    /// The package description.
    pub manifest: Manifest,
    staging: PathBuf,
    /// Index into `manifest.files` by path.
    index: HashMap<String, usize>,
}

impl Package {
    /// Every file in the package, in manifest order.
    pub fn files(&self) -> impl Iterator<Item = &FileInfo> {
        self.manifest.files.iter()
    }

    /// Where a file of the package was staged; `None` if the package has no such file, so a
    /// path that did not come from the package can never point outside the staging folder.
    pub fn staged_path(&self, package_path: &str) -> Option<PathBuf> {
        self.index
            .contains_key(package_path)
            .then(|| staged(&self.staging, package_path))
    }
}

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

/// One file of a [`plan`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Planned {
    /// Package path.
    pub path: String,
    /// How it compares with the installed copy.
    pub change: Change,
    /// Why, in words for the admin page.
    pub reason: String,
}

/// What [`apply`] did.
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

/// Writes a package of `files` to `out` and returns its manifest.
///
/// Paths are checked by the same rules as [`read`]. Materials, lessons and files are sorted
/// and tar headers carry no time, owner or mode of their own, so the same content always gives
/// the same bytes. `created` and `centre` are written as given.
pub fn export(
    out: impl Write,
    created: &str,
    centre: &str,
    materials: Vec<MaterialInfo>,
    lessons: Vec<LessonInfo>,
    files: Vec<Entry>,
) -> Result<Manifest, PackageError> {
    export_areas(
        Areas::Package,
        out,
        created,
        centre,
        materials,
        lessons,
        files,
    )
}

/// [`export`] for an archive of another kind (a backup), whose files may be in `areas`.
pub fn export_areas(
    areas: Areas,
    out: impl Write,
    created: &str,
    centre: &str,
    mut materials: Vec<MaterialInfo>,
    mut lessons: Vec<LessonInfo>,
    mut files: Vec<Entry>,
) -> Result<Manifest, PackageError> {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    materials.sort_by(|a, b| a.id.cmp(&b.id));
    lessons.sort_by(|a, b| a.code.cmp(&b.code));
    check_paths(files.iter().map(|f| f.path.as_str()), areas)?;
    check_materials(&materials)?;
    let manifest = Manifest {
        format: FORMAT,
        created: created.to_string(),
        centre: centre.to_string(),
        materials,
        lessons,
        files: files.iter().map(file_info).collect(),
    };
    let text = manifest_toml(&manifest);
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(PackageError::ManifestTooLarge {
            limit: MAX_MANIFEST_BYTES,
        });
    }
    write_tar(out, text.as_bytes(), &files)?;
    Ok(manifest)
}

/// [`export_areas`] for files on disk, streamed (never held in memory whole): `files` maps
/// archive paths to the files to read. Each file is read twice (checksum, then copy); a file
/// that changes in between makes the export fail rather than write a wrong checksum.
pub fn export_files(
    areas: Areas,
    out: impl Write,
    created: &str,
    centre: &str,
    mut materials: Vec<MaterialInfo>,
    mut lessons: Vec<LessonInfo>,
    mut files: Vec<(String, PathBuf)>,
) -> Result<Manifest, PackageError> {
    files.sort_by(|a, b| a.0.cmp(&b.0));
    materials.sort_by(|a, b| a.id.cmp(&b.id));
    lessons.sort_by(|a, b| a.code.cmp(&b.code));
    check_paths(files.iter().map(|f| f.0.as_str()), areas)?;
    check_materials(&materials)?;
    let read_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PackageError::ReadFile { path, source }
    };
    let mut infos = Vec::with_capacity(files.len());
    for (path, disk) in &files {
        let mut f = fs::File::open(disk).map_err(read_err(disk))?;
        let mut hasher = Sha256::new();
        let size = io::copy(&mut f, &mut hasher).map_err(read_err(disk))?;
        infos.push(FileInfo {
            path: path.clone(),
            size,
            sha256: format!("{:x}", hasher.finalize()),
        });
    }
    let manifest = Manifest {
        format: FORMAT,
        created: created.to_string(),
        centre: centre.to_string(),
        materials,
        lessons,
        files: infos,
    };
    let text = manifest_toml(&manifest);
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(PackageError::ManifestTooLarge {
            limit: MAX_MANIFEST_BYTES,
        });
    }
    let write_err = |source| PackageError::WritePackage { source };
    let mut builder = tar::Builder::new(BufWriter::new(out));
    append(&mut builder, MANIFEST_PATH, text.as_bytes()).map_err(write_err)?;
    for ((path, disk), info) in files.iter().zip(&manifest.files) {
        let f = fs::File::open(disk).map_err(read_err(disk))?;
        let mut header = plain_header(path, info.size).map_err(write_err)?;
        header.set_cksum();
        // Exactly the bytes counted: a file that grew or shrank fails the copy.
        let mut limited = f.take(info.size);
        let mut hasher = HashingReader {
            inner: &mut limited,
            hasher: Sha256::new(),
        };
        builder.append(&header, &mut hasher).map_err(write_err)?;
        if format!("{:x}", hasher.hasher.finalize()) != info.sha256 {
            return Err(PackageError::ChecksumMismatch { path: path.clone() });
        }
    }
    let mut out = builder.into_inner().map_err(write_err)?;
    out.flush().map_err(write_err)?;
    Ok(manifest)
}

/// Hashes what it reads.
struct HashingReader<'a, R> {
    inner: &'a mut R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Reads and checks a package, unpacking its files into `staging` under their package paths.
///
/// `staging` must be an existing empty folder that the caller owns. The input is streamed:
/// sizes in tar headers are checked against `limits` and the manifest before any data is read,
/// bytes are counted as they arrive, and each file is hashed while it is written. On error,
/// whatever was already written stays in `staging` for the caller to delete; nothing is ever
/// written outside it.
pub fn read(input: impl Read, limits: &Limits, staging: &Path) -> Result<Package, PackageError> {
    ensure_empty(staging)?;
    let mut archive = tar::Archive::new(BufReader::with_capacity(COPY_CHUNK, input));
    // Raw mode: the tar crate would otherwise read GNU long-name and PAX entries into memory
    // whole, whatever their size. Format 1 uses neither, so they are refused below instead.
    let mut entries = archive.entries().map_err(tar_error)?.raw(true);
    let manifest = read_manifest(&mut entries)?;
    let index = check_manifest(&manifest, limits)?;
    let mut seen = BTreeSet::new();
    let mut entry_count = 0usize;
    for entry in entries {
        let mut entry = entry.map_err(tar_error)?;
        entry_count += 1;
        if entry_count > limits.max_files {
            return Err(PackageError::TooManyFiles {
                limit: limits.max_files,
            });
        }
        let Some(path) = file_entry_path(&entry)? else {
            continue;
        };
        check_path(&path, limits.areas)?;
        if !seen.insert(path.clone()) {
            return Err(PackageError::DuplicatePath { path });
        }
        let Some(&i) = index.get(&path) else {
            return Err(PackageError::NotInManifest { path });
        };
        stage_entry(&mut entry, &manifest.files[i], limits, staging)?;
    }
    if let Some(missing) = manifest.files.iter().find(|f| !seen.contains(&f.path)) {
        return Err(PackageError::MissingFile {
            path: missing.path.clone(),
        });
    }
    Ok(Package {
        manifest,
        staging: staging.to_path_buf(),
        index,
    })
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

// ---- paths ----

/// The path rules shared by [`export`] and [`read`]: the same package must never be writable
/// yet unreadable, and every path must stay a plain relative path inside the staging folder.
fn check_path(path: &str, areas: Areas) -> Result<(), PackageError> {
    let owned = || path.to_string();
    if path.is_empty() {
        return Err(PackageError::EmptyPath);
    }
    if path.chars().any(char::is_control) {
        return Err(PackageError::ControlChar { path: owned() });
    }
    if path.contains('\\') {
        return Err(PackageError::Backslash { path: owned() });
    }
    if path.starts_with('/') {
        return Err(PackageError::AbsolutePath { path: owned() });
    }
    for segment in path.split('/') {
        match segment {
            "" => return Err(PackageError::EmptySegment { path: owned() }),
            "." => return Err(PackageError::DotSegment { path: owned() }),
            ".." => return Err(PackageError::ParentSegment { path: owned() }),
            s if s.starts_with('.') => return Err(PackageError::HiddenFile { path: owned() }),
            _ => {}
        }
    }
    // The library keys files by NFC paths; two spellings of one name would collide there.
    if !unicode_normalization::is_nfc(path) {
        return Err(PackageError::NotNfc { path: owned() });
    }
    if !fits_ustar(path) {
        return Err(PackageError::PathTooLong { path: owned() });
    }
    check_area(path, areas)
}

/// `library/<rel>` or `lessons/<code>.toml`.
fn check_area(path: &str, areas: Areas) -> Result<(), PackageError> {
    match path.split_once('/') {
        Some(("library", _)) => Ok(()),
        Some(("history" | "records" | "settings", _)) if areas == Areas::Backup => Ok(()),
        Some(("lessons", name)) => match name.strip_suffix(".toml") {
            Some(code) if is_lesson_code(code) => Ok(()),
            _ => Err(PackageError::BadLessonName {
                path: path.to_string(),
            }),
        },
        _ => Err(PackageError::OutsideFolders {
            path: path.to_string(),
        }),
    }
}

fn is_lesson_code(code: &str) -> bool {
    (4..=16).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether a UStar header can hold the path: whole in the name field, or split at a `/` into
/// prefix and name the way the tar crate splits it (longest prefix that fits).
fn fits_ustar(path: &str) -> bool {
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
fn check_paths<'a>(paths: impl Iterator<Item = &'a str>, areas: Areas) -> Result<(), PackageError> {
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
fn staged(staging: &Path, package_path: &str) -> PathBuf {
    let mut p = staging.to_path_buf();
    p.extend(package_path.split('/'));
    p
}

// ---- manifest ----

/// `updated` dates are compared as text, which is only right for `YYYY-MM-DD`.
fn check_materials(materials: &[MaterialInfo]) -> Result<(), PackageError> {
    match materials
        .iter()
        .find(|m| m.updated.as_deref().is_some_and(|d| !is_iso_date(d)))
    {
        Some(m) => Err(PackageError::BadManifest {
            detail: format!(
                "material {:?}: updated must be a date like 2026-11-29",
                m.id
            ),
        }),
        None => Ok(()),
    }
}

fn is_iso_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            _ => c.is_ascii_digit(),
        })
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks the manifest on its own, before any file is read, and indexes its files by path.
fn check_manifest(
    manifest: &Manifest,
    limits: &Limits,
) -> Result<HashMap<String, usize>, PackageError> {
    if manifest.files.len() > limits.max_files {
        return Err(PackageError::TooManyFiles {
            limit: limits.max_files,
        });
    }
    check_paths(manifest.files.iter().map(|f| f.path.as_str()), limits.areas)?;
    check_materials(&manifest.materials)?;
    let mut total = 0u64;
    for f in &manifest.files {
        if f.size > limits.max_file_bytes {
            return Err(PackageError::FileTooLarge {
                path: f.path.clone(),
                size: f.size,
                limit: limits.max_file_bytes,
            });
        }
        total = total.saturating_add(f.size);
        if total > limits.max_total_bytes {
            return Err(PackageError::TooLarge {
                limit: limits.max_total_bytes,
            });
        }
        if !is_sha256_hex(&f.sha256) {
            return Err(PackageError::BadManifest {
                detail: format!("{:?}: sha256 must be 64 lowercase hex digits", f.path),
            });
        }
    }
    let index = manifest.files.iter().enumerate();
    Ok(index.map(|(i, f)| (f.path.clone(), i)).collect())
}

/// Parses the manifest text, checking `format` first so that a newer package gets "update
/// hoclieu" rather than whatever field format 1 happens to miss.
fn parse_manifest(bytes: &[u8]) -> Result<Manifest, PackageError> {
    #[derive(Deserialize)]
    struct Probe {
        format: Option<i64>,
    }
    let bad = |detail: String| PackageError::BadManifest { detail };
    let text = std::str::from_utf8(bytes).map_err(|_| bad("it is not UTF-8 text".into()))?;
    let probe: Probe = toml::from_str(text).map_err(|e| bad(e.to_string()))?;
    match probe.format {
        None => return Err(bad("it has no format number".into())),
        Some(found) if found != i64::from(FORMAT) => {
            return Err(PackageError::UnsupportedFormat { found });
        }
        Some(_) => {}
    }
    toml::from_str(text).map_err(|e| bad(e.to_string()))
}

/// The manifest as TOML. Written by hand because the crate's `toml` has no serializer enabled,
/// and a fixed layout keeps packages byte-identical across versions of `toml`.
fn manifest_toml(m: &Manifest) -> String {
    let mut out = String::new();
    out.push_str(&format!("format = {}\n", m.format));
    push_kv(&mut out, "created", &m.created);
    push_kv(&mut out, "centre", &m.centre);
    for mat in &m.materials {
        out.push_str("\n[[material]]\n");
        push_kv(&mut out, "id", &mat.id);
        push_kv(&mut out, "title", &mat.title);
        if let Some(updated) = &mat.updated {
            push_kv(&mut out, "updated", updated);
        }
    }
    for lesson in &m.lessons {
        out.push_str("\n[[lesson]]\n");
        push_kv(&mut out, "code", &lesson.code);
        push_kv(&mut out, "title", &lesson.title);
    }
    for f in &m.files {
        out.push_str("\n[[file]]\n");
        push_kv(&mut out, "path", &f.path);
        out.push_str(&format!("size = {}\n", f.size));
        push_kv(&mut out, "sha256", &f.sha256);
    }
    out
}

fn push_kv(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str(" = \"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            // TOML forbids the other C0 controls and DEL in basic strings.
            c if c < ' ' || c == '\u{7f}' => out.push_str(&format!("\\u{:04X}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push_str("\"\n");
}

// ---- writing ----

fn file_info(e: &Entry) -> FileInfo {
    FileInfo {
        path: e.path.clone(),
        size: e.bytes.len() as u64,
        sha256: format!("{:x}", Sha256::digest(&e.bytes)),
    }
}

fn write_tar(out: impl Write, manifest: &[u8], files: &[Entry]) -> Result<(), PackageError> {
    let write_err = |source| PackageError::WritePackage { source };
    let mut builder = tar::Builder::new(BufWriter::new(out));
    append(&mut builder, MANIFEST_PATH, manifest).map_err(write_err)?;
    for f in files {
        append(&mut builder, &f.path, &f.bytes).map_err(write_err)?;
    }
    let mut out = builder.into_inner().map_err(write_err)?;
    out.flush().map_err(write_err)
}

/// One regular-file entry with a header that depends only on path and size.
fn append<W: Write>(builder: &mut tar::Builder<W>, path: &str, bytes: &[u8]) -> io::Result<()> {
    let mut header = plain_header(path, bytes.len() as u64)?;
    header.set_cksum();
    builder.append(&header, bytes)
}

/// A regular-file header with no time, owner or mode of its own.
fn plain_header(path: &str, size: u64) -> io::Result<tar::Header> {
    let mut header = tar::Header::new_ustar();
    header.set_path(path)?;
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header.set_uid(0);
    header.set_gid(0);
    Ok(header)
}

// ---- reading ----

fn ensure_empty(staging: &Path) -> Result<(), PackageError> {
    let mut listing = fs::read_dir(staging).map_err(|source| PackageError::Staging {
        path: staging.to_path_buf(),
        source,
    })?;
    match listing.next() {
        None => Ok(()),
        Some(_) => Err(PackageError::StagingNotEmpty {
            path: staging.to_path_buf(),
        }),
    }
}

/// The tar crate reports broken structure as `Other`/`InvalidData`/`UnexpectedEof`; anything
/// else is the medium failing.
fn tar_error(e: io::Error) -> PackageError {
    match e.kind() {
        io::ErrorKind::Other | io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof => {
            PackageError::Corrupt {
                detail: e.to_string(),
            }
        }
        _ => PackageError::ReadPackage { source: e },
    }
}

fn read_manifest<R: Read>(entries: &mut tar::Entries<'_, R>) -> Result<Manifest, PackageError> {
    let Some(entry) = entries.next() else {
        return Err(PackageError::MissingManifest);
    };
    let mut entry = entry.map_err(tar_error)?;
    let is_manifest = entry.header().entry_type() == tar::EntryType::Regular
        && entry.path_bytes().as_ref() == MANIFEST_PATH.as_bytes();
    if !is_manifest {
        return Err(PackageError::MissingManifest);
    }
    let size = entry.size();
    if size > MAX_MANIFEST_BYTES {
        return Err(PackageError::ManifestTooLarge {
            limit: MAX_MANIFEST_BYTES,
        });
    }
    let mut bytes = Vec::new();
    // `take` again: the header's size was only checked, never trusted to bound the read.
    let read = (&mut entry)
        .take(MAX_MANIFEST_BYTES)
        .read_to_end(&mut bytes)
        .map_err(|source| PackageError::ReadPackage { source })?;
    if (read as u64) < size {
        return Err(PackageError::Truncated {
            path: MANIFEST_PATH.to_string(),
        });
    }
    parse_manifest(&bytes)
}

/// The path of a regular-file entry; `None` for a directory, which is skipped since folders
/// are made as files need them. Links, devices and other kinds are refused.
fn file_entry_path<R: Read>(entry: &tar::Entry<'_, R>) -> Result<Option<String>, PackageError> {
    let raw = entry.path_bytes();
    let path = match std::str::from_utf8(&raw) {
        Ok(p) => p.to_string(),
        Err(_) => {
            return Err(PackageError::NotUtf8 {
                path: String::from_utf8_lossy(&raw).into_owned(),
            });
        }
    };
    use tar::EntryType as T;
    match entry.header().entry_type() {
        T::Regular => Ok(Some(path)),
        T::Directory => Ok(None),
        T::Symlink | T::Link => {
            let target = entry.link_name_bytes().unwrap_or_default();
            Err(PackageError::LinkEntry {
                path,
                target: String::from_utf8_lossy(&target).into_owned(),
            })
        }
        T::Char | T::Block | T::Fifo => Err(PackageError::DeviceEntry { path }),
        other => Err(PackageError::UnsupportedEntry {
            path,
            kind: entry_kind(other),
        }),
    }
}

fn entry_kind(t: tar::EntryType) -> String {
    use tar::EntryType as T;
    match t {
        T::XHeader | T::XGlobalHeader => "PAX extended header".into(),
        T::GNULongName | T::GNULongLink => "GNU long-name header".into(),
        T::GNUSparse => "sparse file".into(),
        T::Continuous => "contiguous file".into(),
        other => format!("tar entry of type {:?}", char::from(other.as_byte())),
    }
}

/// Checks an entry's declared size, then copies it into staging, counting and hashing.
fn stage_entry<R: Read>(
    entry: &mut tar::Entry<'_, R>,
    info: &FileInfo,
    limits: &Limits,
    staging: &Path,
) -> Result<(), PackageError> {
    let path = &info.path;
    let declared = entry.size();
    if declared > limits.max_file_bytes {
        return Err(PackageError::FileTooLarge {
            path: path.clone(),
            size: declared,
            limit: limits.max_file_bytes,
        });
    }
    if declared != info.size {
        return Err(PackageError::SizeMismatch {
            path: path.clone(),
            expected: info.size,
            found: declared,
        });
    }
    let dest = staged(staging, path);
    let staging_err = |source| PackageError::Staging {
        path: dest.clone(),
        source,
    };
    if let Some(parent) = dest.parent() {
        fs::create_dir_all(parent).map_err(staging_err)?;
    }
    // `create_new` never follows or reuses anything already at `dest`.
    let file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&dest)
        .map_err(staging_err)?;
    let (copied, sha) = copy_hashed(entry, file, info, &dest)?;
    if copied < info.size {
        return Err(PackageError::Truncated { path: path.clone() });
    }
    if sha != info.sha256 {
        return Err(PackageError::ChecksumMismatch { path: path.clone() });
    }
    Ok(())
}

/// Copies at most `info.size` bytes and fails on the first byte past it, whatever the tar
/// reader would hand out. Returns the bytes copied and their SHA-256.
fn copy_hashed(
    src: &mut impl Read,
    dest: fs::File,
    info: &FileInfo,
    dest_path: &Path,
) -> Result<(u64, String), PackageError> {
    let staging_err = |source| PackageError::Staging {
        path: dest_path.to_path_buf(),
        source,
    };
    let mut dest = BufWriter::with_capacity(COPY_CHUNK, dest);
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; COPY_CHUNK];
    let mut copied = 0u64;
    loop {
        let n = match src.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(source) => return Err(PackageError::ReadPackage { source }),
        };
        copied += n as u64;
        if copied > info.size {
            return Err(PackageError::SizeMismatch {
                path: info.path.clone(),
                expected: info.size,
                found: copied,
            });
        }
        hasher.update(&buf[..n]);
        dest.write_all(&buf[..n]).map_err(staging_err)?;
    }
    dest.flush().map_err(staging_err)?;
    Ok((copied, format!("{:x}", hasher.finalize())))
}

// ---- planning ----

/// The package's `updated` date for each library path, from its materials.
struct PackageDates<'a> {
    by_id: HashMap<&'a str, &'a MaterialInfo>,
    by_dir: HashMap<&'a str, Vec<&'a MaterialInfo>>,
}

impl<'a> PackageDates<'a> {
    fn new(materials: &'a [MaterialInfo]) -> Self {
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
    fn owner(&self, path: &str) -> Option<&'a MaterialInfo> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use tar::EntryType;
    use tempfile::TempDir;

    // ---- helpers ----

    fn small() -> Limits {
        Limits {
            max_file_bytes: 1000,
            max_total_bytes: 3000,
            max_files: 5,
            areas: Areas::Package,
        }
    }

    fn unlimited() -> Limits {
        Limits {
            max_file_bytes: u64::MAX,
            max_total_bytes: u64::MAX,
            max_files: usize::MAX,
            areas: Areas::Package,
        }
    }

    /// A parent folder holding only an empty `staging` folder, so a test can check that
    /// nothing appeared next to it.
    struct Sandbox {
        parent: TempDir,
        staging: PathBuf,
    }

    impl Sandbox {
        fn new() -> Self {
            let parent = TempDir::new().unwrap();
            let staging = parent.path().join("staging");
            fs::create_dir(&staging).unwrap();
            Sandbox { parent, staging }
        }

        fn read(&self, bytes: &[u8], limits: &Limits) -> Result<Package, PackageError> {
            read(bytes, limits, &self.staging)
        }

        /// Reads, expects an error, and checks nothing escaped the staging folder.
        fn refuse(&self, bytes: &[u8], limits: &Limits) -> PackageError {
            let err = self.read(bytes, limits).unwrap_err();
            self.assert_contained();
            err
        }

        /// Only `staging` is in the parent, and staging holds only plain files and folders.
        fn assert_contained(&self) {
            let names: Vec<OsString> = fs::read_dir(self.parent.path())
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names, vec![OsString::from("staging")]);
            for e in walkdir::WalkDir::new(&self.staging) {
                let e = e.unwrap();
                assert!(
                    e.file_type().is_file() || e.file_type().is_dir(),
                    "{:?} is neither file nor folder",
                    e.path()
                );
            }
        }

        /// Package paths of the files in staging, sorted.
        fn staged(&self) -> Vec<String> {
            let mut out: Vec<String> = walkdir::WalkDir::new(&self.staging)
                .into_iter()
                .map(|e| e.unwrap())
                .filter(|e| e.file_type().is_file())
                .map(|e| {
                    let rel = e.path().strip_prefix(&self.staging).unwrap();
                    rel.to_str().unwrap().to_string()
                })
                .collect();
            out.sort();
            out
        }
    }

    fn entry(path: &str, bytes: &[u8]) -> Entry {
        Entry {
            path: path.into(),
            bytes: bytes.to_vec(),
        }
    }

    fn material(id: &str, updated: Option<&str>) -> MaterialInfo {
        MaterialInfo {
            id: id.into(),
            title: format!("Tài liệu {id}"),
            updated: updated.map(String::from),
        }
    }

    fn sample_files() -> Vec<Entry> {
        vec![
            entry(
                "library/agriculture/lua-vu-xuan.md",
                "+++\ntitle = \"Lúa vụ xuân\"\n+++\nGieo mạ.\n".as_bytes(),
            ),
            entry("library/agriculture/lua-vu-xuan.svg", b"<svg/>"),
            entry("library/health/nuoc-sach.md", b"+++\n+++\nboil\n"),
            entry("lessons/k7m2p.toml", b"title = \"Bai 1\"\n"),
            entry("library/empty.pdf", b""),
        ]
    }

    fn sample_materials() -> Vec<MaterialInfo> {
        vec![
            material("health/nuoc-sach", None),
            material("agriculture/lua-vu-xuan", Some("2026-11-29")),
        ]
    }

    fn sample_lessons() -> Vec<LessonInfo> {
        vec![LessonInfo {
            code: "k7m2p".into(),
            title: "Bài 1: \"Lúa\"".into(),
        }]
    }

    fn export_sample() -> (Vec<u8>, Manifest) {
        let mut out = Vec::new();
        let m = export(
            &mut out,
            "2026-11-29T22:00:00Z",
            "TTHTCĐ xã Tân Phú",
            sample_materials(),
            sample_lessons(),
            sample_files(),
        )
        .unwrap();
        (out, m)
    }

    /// A UStar header whose path bytes are written raw, bypassing the tar crate's checks.
    fn header(path: &[u8], kind: EntryType, size: u64) -> tar::Header {
        let mut h = tar::Header::new_ustar();
        h.as_old_mut().name[..path.len()].copy_from_slice(path);
        h.set_entry_type(kind);
        h.set_size(size);
        h.set_mode(0o644);
        h.set_cksum();
        h
    }

    fn file(path: &str, data: &[u8]) -> (tar::Header, Vec<u8>) {
        (
            header(path.as_bytes(), EntryType::Regular, data.len() as u64),
            data.to_vec(),
        )
    }

    fn info(path: &str, data: &[u8]) -> FileInfo {
        file_info(&entry(path, data))
    }

    fn manifest_of(files: Vec<FileInfo>) -> (tar::Header, Vec<u8>) {
        let m = Manifest {
            format: FORMAT,
            created: "now".into(),
            centre: String::new(),
            materials: vec![],
            lessons: vec![],
            files,
        };
        file(MANIFEST_PATH, manifest_toml(&m).as_bytes())
    }

    fn tar_of(entries: Vec<(tar::Header, Vec<u8>)>) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (h, d) in entries {
            b.append(&h, d.as_slice()).unwrap();
        }
        b.into_inner().unwrap()
    }

    /// A package with a correct manifest for `listed`, whose tar holds `entries`.
    fn package(listed: &[(&str, &[u8])], entries: Vec<(tar::Header, Vec<u8>)>) -> Vec<u8> {
        let infos = listed.iter().map(|(p, d)| info(p, d)).collect();
        let mut all = vec![manifest_of(infos)];
        all.extend(entries);
        tar_of(all)
    }

    const A: &str = "library/a.md";

    /// Whether an error is the expected one.
    type Expect = fn(&PackageError) -> bool;
    /// Whether an error is the expected one for a given path.
    type ExpectFor = fn(&PackageError, &str) -> bool;

    // ---- round trip and determinism ----

    #[test]
    fn round_trip_keeps_manifest_and_bytes() {
        let (bytes, exported) = export_sample();
        let sb = Sandbox::new();
        let pkg = sb.read(&bytes, &small()).unwrap();
        assert_eq!(pkg.manifest, exported);
        assert_eq!(pkg.manifest.centre, "TTHTCĐ xã Tân Phú");
        assert_eq!(pkg.manifest.lessons[0].title, "Bài 1: \"Lúa\"");
        for f in sample_files() {
            let staged = pkg.staged_path(&f.path).unwrap();
            assert!(staged.starts_with(&sb.staging));
            assert_eq!(fs::read(&staged).unwrap(), f.bytes, "{}", f.path);
        }
        let mut expected: Vec<String> = sample_files().into_iter().map(|f| f.path).collect();
        expected.sort();
        assert_eq!(sb.staged(), expected);
        assert_eq!(pkg.files().count(), 5);
        sb.assert_contained();
    }

    #[test]
    fn manifest_lists_sorted_files_with_sizes_and_checksums() {
        let (_, m) = export_sample();
        let paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
        let mut sorted = paths.clone();
        sorted.sort();
        assert_eq!(paths, sorted);
        let svg = m.files.iter().find(|f| f.path.ends_with(".svg")).unwrap();
        assert_eq!(svg.size, 6);
        assert_eq!(
            svg.sha256,
            format!("{:x}", Sha256::digest(b"<svg/>")),
            "sha256 of the bytes, lowercase hex"
        );
        assert_eq!(m.materials[0].id, "agriculture/lua-vu-xuan", "sorted by id");
        assert_eq!(m.format, 1);
    }

    #[test]
    fn exporting_twice_gives_identical_bytes_whatever_the_input_order() {
        let (first, _) = export_sample();
        let (second, _) = export_sample();
        assert_eq!(first, second);
        let mut files = sample_files();
        files.reverse();
        let mut materials = sample_materials();
        materials.reverse();
        let mut shuffled = Vec::new();
        export(
            &mut shuffled,
            "2026-11-29T22:00:00Z",
            "TTHTCĐ xã Tân Phú",
            materials,
            sample_lessons(),
            files,
        )
        .unwrap();
        assert_eq!(first, shuffled);
    }

    #[test]
    fn exported_headers_are_plain_and_manifest_comes_first() {
        let (bytes, _) = export_sample();
        let mut archive = tar::Archive::new(bytes.as_slice());
        let mut paths = Vec::new();
        for e in archive.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!(h.entry_type(), EntryType::Regular);
            assert_eq!(h.mode().unwrap(), 0o644);
            assert_eq!(h.mtime().unwrap(), 0);
            assert_eq!(h.uid().unwrap(), 0);
            assert_eq!(h.gid().unwrap(), 0);
            assert_eq!(h.username_bytes(), Some(&b""[..]));
            assert_eq!(h.groupname_bytes(), Some(&b""[..]));
            assert!(h.as_ustar().is_some(), "plain POSIX ustar headers");
            paths.push(String::from_utf8(e.path_bytes().into_owned()).unwrap());
        }
        assert_eq!(paths[0], MANIFEST_PATH);
        let mut rest = paths[1..].to_vec();
        rest.sort();
        assert_eq!(paths[1..], rest);
    }

    #[test]
    fn manifest_text_survives_quotes_backslashes_and_controls() {
        let awkward = "a \"quoted\" \\path\\ \n line\ttab \u{1} \u{7f} \u{85} Đắk Lắk 🌾";
        let mut out = Vec::new();
        let materials = vec![MaterialInfo {
            id: "x/y".into(),
            title: awkward.into(),
            updated: None,
        }];
        let m = export(&mut out, awkward, awkward, materials, vec![], vec![]).unwrap();
        let sb = Sandbox::new();
        let pkg = sb.read(&out, &small()).unwrap();
        assert_eq!(pkg.manifest, m);
        assert_eq!(pkg.manifest.centre, awkward);
        assert_eq!(pkg.manifest.materials[0].title, awkward);
    }

    #[test]
    fn long_paths_use_the_ustar_prefix_and_round_trip() {
        let dir = "library/".to_string() + &"thu-muc-".repeat(15);
        let path = format!("{dir}/{}.md", "a".repeat(97));
        assert!(path.len() > 200);
        let mut out = Vec::new();
        export(&mut out, "t", "", vec![], vec![], vec![entry(&path, b"x")]).unwrap();
        let sb = Sandbox::new();
        let pkg = sb.read(&out, &small()).unwrap();
        assert_eq!(fs::read(pkg.staged_path(&path).unwrap()).unwrap(), b"x");
    }

    #[test]
    fn export_refuses_what_read_would_refuse() {
        let cases: Vec<(Vec<Entry>, Expect)> = vec![
            (
                vec![entry("../x", b"")],
                |e| matches!(e, PackageError::ParentSegment { path } if path == "../x"),
            ),
            (
                vec![entry(A, b"1"), entry(A, b"2")],
                |e| matches!(e, PackageError::DuplicatePath { path } if path == A),
            ),
            (
                vec![entry("library/a", b""), entry("library/a/b.md", b"")],
                |e| matches!(e, PackageError::PathClash { path, other } if path == "library/a" && other == "library/a/b.md"),
            ),
            (vec![entry(MANIFEST_PATH, b"")], |e| {
                matches!(e, PackageError::OutsideFolders { .. })
            }),
            (
                vec![entry(&format!("library/{}.md", "n".repeat(98)), b"")],
                |e| matches!(e, PackageError::PathTooLong { .. }),
            ),
        ];
        for (files, expected) in cases {
            let mut out = Vec::new();
            let err = export(&mut out, "t", "", vec![], vec![], files).unwrap_err();
            assert!(expected(&err), "{err:?}");
            assert!(out.is_empty(), "nothing written on refusal");
        }
        let bad_date = vec![material("a", Some("29/11/2026"))];
        let err = export(Vec::new(), "t", "", bad_date, vec![], vec![]).unwrap_err();
        assert!(matches!(err, PackageError::BadManifest { .. }), "{err:?}");
    }

    // ---- path rules ----

    #[test]
    fn path_rules() {
        use PackageError as E;
        let ok = [
            "library/a.md",
            "library/agriculture/lúa-vụ-xuân.md",
            "library/x/y/z.mp4",
            "lessons/k7m2p.toml",
            "lessons/abcd.toml",
            "lessons/0123456789abcdef.toml",
            "lessons/a-b-c.toml",
        ];
        for p in ok {
            assert!(check_path(p, Areas::Package).is_ok(), "{p}");
        }
        let refused: [(&str, Expect); 22] = [
            ("", |e| matches!(e, E::EmptyPath)),
            ("/etc/passwd", |e| matches!(e, E::AbsolutePath { .. })),
            ("../x", |e| matches!(e, E::ParentSegment { .. })),
            ("library/../../x", |e| matches!(e, E::ParentSegment { .. })),
            ("library/./a.md", |e| matches!(e, E::DotSegment { .. })),
            ("library//a.md", |e| matches!(e, E::EmptySegment { .. })),
            ("library/a/", |e| matches!(e, E::EmptySegment { .. })),
            ("library\\a.md", |e| matches!(e, E::Backslash { .. })),
            ("library/a\0.md", |e| matches!(e, E::ControlChar { .. })),
            ("library/a\n.md", |e| matches!(e, E::ControlChar { .. })),
            ("library/a\u{85}.md", |e| matches!(e, E::ControlChar { .. })),
            ("library/.git/config", |e| matches!(e, E::HiddenFile { .. })),
            ("library/.a.md", |e| matches!(e, E::HiddenFile { .. })),
            ("library/lu\u{300}a.md", |e| matches!(e, E::NotNfc { .. })),
            ("library", |e| matches!(e, E::OutsideFolders { .. })),
            ("src/main.rs", |e| matches!(e, E::OutsideFolders { .. })),
            ("lessons/abc.toml", |e| matches!(e, E::BadLessonName { .. })),
            ("lessons/ABCD.toml", |e| {
                matches!(e, E::BadLessonName { .. })
            }),
            ("lessons/ab_cd.toml", |e| {
                matches!(e, E::BadLessonName { .. })
            }),
            ("lessons/abcd.txt", |e| matches!(e, E::BadLessonName { .. })),
            ("lessons/x/abcd.toml", |e| {
                matches!(e, E::BadLessonName { .. })
            }),
            ("lessons/0123456789abcdefg.toml", |e| {
                matches!(e, E::BadLessonName { .. })
            }),
        ];
        for (p, expected) in refused {
            let err = check_path(p, Areas::Package).unwrap_err();
            assert!(expected(&err), "{p:?}: {err:?}");
        }
    }

    #[test]
    fn ustar_fit_matches_what_the_tar_crate_can_write() {
        for (path, fits) in [
            (format!("library/{}", "a".repeat(92)), true),
            (format!("library/{}", "a".repeat(93)), true),
            (format!("library/{}", "a".repeat(100)), true),
            (format!("library/{}", "a".repeat(101)), false),
            (
                format!("library/{}/{}", "d".repeat(146), "n".repeat(100)),
                true,
            ),
            (
                format!("library/{}/{}", "d".repeat(147), "n".repeat(100)),
                true,
            ),
            (
                format!("library/{}/{}", "d".repeat(148), "n".repeat(100)),
                false,
            ),
            (
                format!("library/{}/{}", "d".repeat(146), "n".repeat(101)),
                false,
            ),
        ] {
            assert_eq!(fits_ustar(&path), fits, "{}", path.len());
            let written = tar::Header::new_ustar().set_path(&path).is_ok();
            assert_eq!(written, fits, "tar crate agrees for {} bytes", path.len());
        }
    }

    #[test]
    fn errors_name_the_path_in_plain_words() {
        let err = PackageError::ChecksumMismatch {
            path: "library/a.md".into(),
        };
        assert_eq!(
            err.to_string(),
            "\"library/a.md\" is damaged: its checksum does not match the package description"
        );
        let err = check_path("library/a\0.md", Areas::Package).unwrap_err();
        assert!(err.to_string().contains(r#""library/a\0.md""#), "{err}");
        let err = PackageError::UnsupportedFormat { found: 2 };
        assert!(err.to_string().contains("update hoclieu"));
    }

    // ---- hostile paths ----

    #[test]
    fn refuses_parent_dir_entry() {
        let sb = Sandbox::new();
        let bytes = package(&[], vec![file("../x", b"evil")]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(&err, PackageError::ParentSegment { path } if path == "../x"),
            "{err:?}"
        );
        assert!(sb.staged().is_empty());
    }

    #[test]
    fn refuses_absolute_entry() {
        let sb = Sandbox::new();
        let bytes = package(&[], vec![file("/etc/passwd", b"root::0:0::/:/bin/sh\n")]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(&err, PackageError::AbsolutePath { path } if path == "/etc/passwd"),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_dotdot_inside_library() {
        let sb = Sandbox::new();
        let bytes = package(&[], vec![file("library/../../x", b"evil")]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(&err, PackageError::ParentSegment { path } if path == "library/../../x"),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_hostile_path_listed_in_manifest_before_reading_files() {
        let sb = Sandbox::new();
        let bytes = package(&[("library/../../x", b"evil")], vec![file(A, b"fine")]);
        let err = sb.refuse(&bytes, &small());
        assert!(matches!(err, PackageError::ParentSegment { .. }), "{err:?}");
        assert!(sb.staged().is_empty(), "refused before any file was staged");
    }

    #[test]
    fn refuses_control_characters_and_non_utf8_in_entry_paths() {
        let sb = Sandbox::new();
        let bytes = package(&[], vec![file("library/a\u{1}.md", b"x")]);
        let err = sb.refuse(&bytes, &small());
        assert!(matches!(err, PackageError::ControlChar { .. }), "{err:?}");

        let sb = Sandbox::new();
        let raw = header(b"library/\xff.md", EntryType::Regular, 1);
        let bytes = package(&[], vec![(raw, b"x".to_vec())]);
        let err = sb.refuse(&bytes, &small());
        assert!(matches!(err, PackageError::NotUtf8 { .. }), "{err:?}");
    }

    #[test]
    fn refuses_backslash_and_hidden_entries() {
        let sb = Sandbox::new();
        let bytes = package(&[], vec![file("library\\..\\..\\x", b"x")]);
        let err = sb.refuse(&bytes, &small());
        assert!(matches!(err, PackageError::Backslash { .. }), "{err:?}");

        let sb = Sandbox::new();
        let bytes = package(&[], vec![file("library/.hidden", b"x")]);
        let err = sb.refuse(&bytes, &small());
        assert!(matches!(err, PackageError::HiddenFile { .. }), "{err:?}");
    }

    #[test]
    fn refuses_bad_lesson_names() {
        for name in ["lessons/a!b$c.toml", "lessons/ab.toml", "lessons/Bai1.toml"] {
            let sb = Sandbox::new();
            let bytes = package(&[], vec![file(name, b"title = \"x\"\n")]);
            let err = sb.refuse(&bytes, &small());
            assert!(
                matches!(&err, PackageError::BadLessonName { path } if path == name),
                "{name}: {err:?}"
            );
        }
    }

    #[test]
    fn refuses_files_outside_library_and_lessons() {
        let sb = Sandbox::new();
        let bytes = package(&[], vec![file("web/index.html", b"<script>")]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(err, PackageError::OutsideFolders { .. }),
            "{err:?}"
        );
    }

    // ---- entry kinds ----

    #[test]
    fn refuses_symlink_entry() {
        let sb = Sandbox::new();
        let mut h = header(A.as_bytes(), EntryType::Symlink, 0);
        h.set_link_name("/etc/passwd").unwrap();
        h.set_cksum();
        let bytes = package(&[(A, b"")], vec![(h, vec![])]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(&err, PackageError::LinkEntry { path, target } if path == A && target == "/etc/passwd"),
            "{err:?}"
        );
        assert!(sb.staged().is_empty());
    }

    #[test]
    fn refuses_hardlink_entry() {
        let sb = Sandbox::new();
        let mut h = header(A.as_bytes(), EntryType::Link, 0);
        h.set_link_name("../../etc/shadow").unwrap();
        h.set_cksum();
        let bytes = package(&[(A, b"")], vec![(h, vec![])]);
        let err = sb.refuse(&bytes, &small());
        assert!(matches!(err, PackageError::LinkEntry { .. }), "{err:?}");
    }

    #[test]
    fn refuses_device_entries() {
        for kind in [EntryType::Char, EntryType::Block, EntryType::Fifo] {
            let sb = Sandbox::new();
            let h = header(b"library/dev.md", kind, 0);
            let bytes = package(&[], vec![(h, vec![])]);
            let err = sb.refuse(&bytes, &small());
            assert!(
                matches!(err, PackageError::DeviceEntry { .. }),
                "{kind:?}: {err:?}"
            );
        }
    }

    #[test]
    fn refuses_gnu_long_names_and_pax_headers() {
        let sb = Sandbox::new();
        let long = format!("library/{}.md", "n".repeat(120));
        let mut b = tar::Builder::new(Vec::new());
        let (mh, md) = manifest_of(vec![]);
        b.append(&mh, md.as_slice()).unwrap();
        // The tar crate writes a GNU long-name entry for a name over 100 bytes.
        let mut h = tar::Header::new_gnu();
        h.set_size(1);
        h.set_mode(0o644);
        b.append_data(&mut h, &long, &b"x"[..]).unwrap();
        let bytes = b.into_inner().unwrap();
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(&err, PackageError::UnsupportedEntry { kind, .. } if kind.contains("GNU")),
            "{err:?}"
        );

        let sb = Sandbox::new();
        let pax = header(b"PaxHeaders/x", EntryType::XHeader, 0);
        let bytes = package(&[], vec![(pax, vec![])]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(&err, PackageError::UnsupportedEntry { kind, .. } if kind.contains("PAX")),
            "{err:?}"
        );
    }

    #[test]
    fn directory_entries_are_skipped_and_create_nothing() {
        let sb = Sandbox::new();
        let dir = header(b"../outside/", EntryType::Directory, 0);
        let bytes = package(&[(A, b"ok")], vec![(dir, vec![]), file(A, b"ok")]);
        let pkg = sb.read(&bytes, &small()).unwrap();
        assert_eq!(pkg.files().count(), 1);
        assert_eq!(sb.staged(), vec![A.to_string()]);
        sb.assert_contained();
    }

    // ---- manifest agreement ----

    #[test]
    fn refuses_file_not_in_manifest() {
        let sb = Sandbox::new();
        let bytes = package(
            &[(A, b"a")],
            vec![file(A, b"a"), file("library/b.md", b"b")],
        );
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(&err, PackageError::NotInManifest { path } if path == "library/b.md"),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_manifest_file_missing_from_tar() {
        let sb = Sandbox::new();
        let bytes = package(&[(A, b"a"), ("library/b.md", b"b")], vec![file(A, b"a")]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(&err, PackageError::MissingFile { path } if path == "library/b.md"),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_checksum_mismatch() {
        let sb = Sandbox::new();
        let bytes = package(&[(A, b"good")], vec![file(A, b"evil")]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(&err, PackageError::ChecksumMismatch { path } if path == A),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_size_mismatch() {
        let sb = Sandbox::new();
        let bytes = package(&[(A, b"short")], vec![file(A, b"much longer")]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(
                err,
                PackageError::SizeMismatch {
                    expected: 5,
                    found: 11,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_duplicate_entries() {
        let sb = Sandbox::new();
        let bytes = package(&[(A, b"a")], vec![file(A, b"a"), file(A, b"a")]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(&err, PackageError::DuplicatePath { path } if path == A),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_duplicates_and_clashes_in_manifest() {
        let sb = Sandbox::new();
        let bytes = package(&[(A, b"a"), (A, b"a")], vec![file(A, b"a")]);
        let err = sb.refuse(&bytes, &small());
        assert!(matches!(err, PackageError::DuplicatePath { .. }), "{err:?}");

        let sb = Sandbox::new();
        let listed: &[(&str, &[u8])] = &[("library/a", b""), ("library/a/b.md", b"")];
        let bytes = package(listed, vec![]);
        let err = sb.refuse(&bytes, &small());
        assert!(matches!(err, PackageError::PathClash { .. }), "{err:?}");
    }

    // ---- limits ----

    #[test]
    fn refuses_file_over_limit_declared_in_manifest() {
        let sb = Sandbox::new();
        let big = vec![b'x'; 1001];
        let bytes = package(&[(A, &big)], vec![file(A, &big)]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(
                err,
                PackageError::FileTooLarge {
                    size: 1001,
                    limit: 1000,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(sb.staged().is_empty(), "refused before reading the file");
    }

    #[test]
    fn refuses_header_declaring_huge_size_without_reading_it() {
        // Manifest says 10 bytes; the header claims a terabyte but carries 10 bytes.
        let sb = Sandbox::new();
        let h = header(A.as_bytes(), EntryType::Regular, 1 << 40);
        let bytes = package(&[(A, b"0123456789")], vec![(h, b"0123456789".to_vec())]);
        assert!(bytes.len() < 4096);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(err, PackageError::FileTooLarge { size, .. } if size == 1 << 40),
            "{err:?}"
        );
        assert!(sb.staged().is_empty());
    }

    #[test]
    fn huge_declared_size_is_counted_not_trusted_even_without_limits() {
        // With no limits at all, a header and manifest both claiming a terabyte over 1 KiB
        // of data end in "truncated" after staging only the bytes that exist: the 1024 bytes
        // and the 1024-byte end marker, which the reader cannot tell from data.
        let sb = Sandbox::new();
        let claimed = FileInfo {
            path: A.into(),
            size: 1 << 40,
            sha256: "0".repeat(64),
        };
        let h = header(A.as_bytes(), EntryType::Regular, 1 << 40);
        let bytes = tar_of(vec![manifest_of(vec![claimed]), (h, vec![7u8; 1024])]);
        let err = sb.refuse(&bytes, &unlimited());
        assert!(
            matches!(&err, PackageError::Truncated { path } if path == A),
            "{err:?}"
        );
        assert_eq!(
            fs::metadata(sb.staging.join("library/a.md")).unwrap().len(),
            2048
        );
    }

    #[test]
    fn header_size_must_match_manifest_even_within_limits() {
        let sb = Sandbox::new();
        let h = header(A.as_bytes(), EntryType::Regular, 500);
        let bytes = package(&[(A, b"0123456789")], vec![(h, vec![0; 500])]);
        let err = sb.refuse(&bytes, &unlimited());
        assert!(
            matches!(
                err,
                PackageError::SizeMismatch {
                    expected: 10,
                    found: 500,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_total_over_limit() {
        let sb = Sandbox::new();
        let chunk = vec![b'x'; 900];
        let names = [
            "library/1.md",
            "library/2.md",
            "library/3.md",
            "library/4.md",
        ];
        let listed: Vec<(&str, &[u8])> = names.iter().map(|n| (*n, chunk.as_slice())).collect();
        let files = names.iter().map(|n| file(n, &chunk)).collect();
        let err = sb.refuse(&package(&listed, files), &small());
        assert!(
            matches!(err, PackageError::TooLarge { limit: 3000 }),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_too_many_files() {
        let sb = Sandbox::new();
        let names: Vec<String> = (0..6).map(|i| format!("library/{i}.md")).collect();
        let listed: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
        let files = names.iter().map(|n| file(n, b"x")).collect();
        let err = sb.refuse(&package(&listed, files), &small());
        assert!(
            matches!(err, PackageError::TooManyFiles { limit: 5 }),
            "{err:?}"
        );

        // Entries that are not files count too, so a stream of them cannot run forever.
        let sb = Sandbox::new();
        let dirs = (0..6)
            .map(|i| {
                (
                    header(format!("library/d{i}/").as_bytes(), EntryType::Directory, 0),
                    vec![],
                )
            })
            .collect();
        let err = sb.refuse(&package(&[], dirs), &small());
        assert!(matches!(err, PackageError::TooManyFiles { .. }), "{err:?}");
    }

    #[test]
    fn refuses_oversize_manifest_without_reading_it() {
        let sb = Sandbox::new();
        let h = header(
            MANIFEST_PATH.as_bytes(),
            EntryType::Regular,
            MAX_MANIFEST_BYTES + 1,
        );
        let bytes = tar_of(vec![(h, b"format = 1\n".to_vec())]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(err, PackageError::ManifestTooLarge { .. }),
            "{err:?}"
        );
    }

    // ---- broken packages ----

    #[test]
    fn refuses_truncated_package() {
        let (bytes, _) = export_sample();
        // (path, header position, data position) of each entry, manifest first.
        let mut archive = tar::Archive::new(bytes.as_slice());
        let positions: Vec<(String, usize, usize)> = archive
            .entries()
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let path = String::from_utf8(e.path_bytes().into_owned()).unwrap();
                let (h, d) = (e.raw_header_position(), e.raw_file_position());
                (path, h as usize, d as usize)
            })
            .collect();
        let (last, last_header, last_data) = positions.last().unwrap().clone();
        let cases: [(usize, ExpectFor); 4] = [
            (
                last_data + 3,
                |e, last| matches!(e, PackageError::Truncated { path } if path == last),
            ),
            (last_header + 100, |e, _| {
                matches!(e, PackageError::Corrupt { .. })
            }),
            // At an entry boundary the tar looks complete: the manifest tells what is missing.
            (
                last_header,
                |e, last| matches!(e, PackageError::MissingFile { path } if path == last),
            ),
            (
                positions[0].2 + 3,
                |e, _| matches!(e, PackageError::Truncated { path } if path == MANIFEST_PATH),
            ),
        ];
        for (cut, expected) in cases {
            let sb = Sandbox::new();
            let err = sb.refuse(&bytes[..cut], &small());
            assert!(expected(&err, &last), "cut at {cut}: {err:?}");
        }
    }

    #[test]
    fn every_cut_before_the_end_marker_is_refused() {
        let (bytes, _) = export_sample();
        let end_of_data = bytes.len() - 1024;
        for cut in (0..end_of_data).step_by(61) {
            let sb = Sandbox::new();
            assert!(sb.read(&bytes[..cut], &small()).is_err(), "cut at {cut}");
            sb.assert_contained();
        }
        // Without the end marker the package is still whole.
        let sb = Sandbox::new();
        assert!(sb.read(&bytes[..end_of_data], &small()).is_ok());
    }

    /// Hands out at most 7 bytes per read, then fails with `fail_at` bytes read, if set.
    struct Trickle<'a> {
        bytes: &'a [u8],
        read: usize,
        fail_at: Option<usize>,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.fail_at.is_some_and(|at| self.read >= at) {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "device removed",
                ));
            }
            let n = buf.len().min(7).min(self.bytes.len() - self.read);
            buf[..n].copy_from_slice(&self.bytes[self.read..self.read + n]);
            self.read += n;
            Ok(n)
        }
    }

    #[test]
    fn short_reads_are_fine_and_a_failing_medium_is_reported_as_such() {
        let (bytes, m) = export_sample();
        let sb = Sandbox::new();
        let input = Trickle {
            bytes: &bytes,
            read: 0,
            fail_at: None,
        };
        let pkg = read(input, &small(), &sb.staging).unwrap();
        assert_eq!(pkg.manifest, m);

        let sb = Sandbox::new();
        let input = Trickle {
            bytes: &bytes,
            read: 0,
            fail_at: Some(bytes.len() / 2),
        };
        let err = read(input, &small(), &sb.staging).unwrap_err();
        assert!(matches!(err, PackageError::ReadPackage { .. }), "{err:?}");
        sb.assert_contained();
    }

    #[test]
    fn refuses_garbage() {
        let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
        let sb = Sandbox::new();
        let err = sb.refuse(&garbage, &small());
        assert!(matches!(err, PackageError::Corrupt { .. }), "{err:?}");

        // A flipped byte in a header breaks its checksum.
        let (mut bytes, _) = export_sample();
        bytes[512 * 3 + 10] ^= 0x20;
        let sb = Sandbox::new();
        let err = sb.refuse(&bytes, &small());
        assert!(matches!(err, PackageError::Corrupt { .. }), "{err:?}");

        for empty in [&[][..], &[0u8; 1024][..]] {
            let sb = Sandbox::new();
            let err = sb.refuse(empty, &small());
            assert!(matches!(err, PackageError::MissingManifest), "{err:?}");
        }
    }

    #[test]
    fn refuses_missing_manifest() {
        let sb = Sandbox::new();
        let err = sb.refuse(&tar_of(vec![file(A, b"a")]), &small());
        assert!(matches!(err, PackageError::MissingManifest), "{err:?}");

        // The manifest must come first, not later.
        let sb = Sandbox::new();
        let (mh, md) = manifest_of(vec![info(A, b"a")]);
        let err = sb.refuse(&tar_of(vec![file(A, b"a"), (mh, md)]), &small());
        assert!(matches!(err, PackageError::MissingManifest), "{err:?}");
    }

    #[test]
    fn refuses_other_formats_before_parsing_the_rest() {
        let sb = Sandbox::new();
        let text = "format = 2\n[[bundle]]\nwhatever = true\n";
        let err = sb.refuse(
            &tar_of(vec![file(MANIFEST_PATH, text.as_bytes())]),
            &small(),
        );
        assert!(
            matches!(err, PackageError::UnsupportedFormat { found: 2 }),
            "{err:?}"
        );
    }

    #[test]
    fn refuses_unparsable_manifests() {
        let sha = "a".repeat(64);
        for text in [
            "this is = not [toml".to_string(),
            "created = \"t\"\n".to_string(),
            "format = \"1\"\n".to_string(),
            "format = 1\n".to_string(),
            format!("format = 1\ncreated = \"t\"\n[[file]]\npath = \"{A}\"\nsize = -1\nsha256 = \"{sha}\"\n"),
            format!("format = 1\ncreated = \"t\"\n[[file]]\npath = \"{A}\"\nsize = 1\nsha256 = \"{}\"\n", "A".repeat(64)),
            "format = 1\ncreated = \"t\"\n[[material]]\nid = \"a\"\ntitle = \"a\"\nupdated = \"hôm qua\"\n".to_string(),
        ] {
            let sb = Sandbox::new();
            let err = sb.refuse(&tar_of(vec![file(MANIFEST_PATH, text.as_bytes())]), &small());
            assert!(matches!(err, PackageError::BadManifest { .. }), "{text}: {err:?}");
        }
        let sb = Sandbox::new();
        let err = sb.refuse(
            &tar_of(vec![file(MANIFEST_PATH, b"format = 1\xff")]),
            &small(),
        );
        assert!(matches!(err, PackageError::BadManifest { .. }), "{err:?}");
    }

    #[test]
    fn refuses_non_empty_staging() {
        let sb = Sandbox::new();
        fs::write(sb.staging.join("left-over"), b"").unwrap();
        let (bytes, _) = export_sample();
        let err = sb.read(&bytes, &small()).unwrap_err();
        assert!(
            matches!(err, PackageError::StagingNotEmpty { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn staged_path_only_knows_package_files() {
        let (bytes, _) = export_sample();
        let sb = Sandbox::new();
        let pkg = sb.read(&bytes, &small()).unwrap();
        assert!(pkg.staged_path("lessons/k7m2p.toml").is_some());
        assert_eq!(pkg.staged_path("../../etc/passwd"), None);
        assert_eq!(pkg.staged_path("library/nope.md"), None);
    }

    // ---- plan and apply ----

    const MD: &str = "library/agriculture/lua-vu-xuan.md";
    const SVG: &str = "library/agriculture/lua-vu-xuan.svg";
    const LESSON: &str = "lessons/k7m2p.toml";
    const UNDATED: &str = "library/health/nuoc-sach.md";
    const PDF: &str = "library/empty.pdf";

    fn sample_package(sb: &Sandbox) -> Package {
        let (bytes, _) = export_sample();
        sb.read(&bytes, &small()).unwrap()
    }

    fn sha_of(pkg: &Package, path: &str) -> String {
        pkg.files().find(|f| f.path == path).unwrap().sha256.clone()
    }

    fn local(sha: &str, updated: Option<&str>) -> LocalFile {
        LocalFile {
            sha256: sha.into(),
            updated: updated.map(String::from),
        }
    }

    fn changes(planned: &[Planned]) -> Vec<(&str, Change)> {
        planned
            .iter()
            .map(|p| (p.path.as_str(), p.change))
            .collect()
    }

    #[test]
    fn plan_new_same_changed_conflict() {
        let sb = Sandbox::new();
        let pkg = sample_package(&sb);
        let other = "f".repeat(64);
        let installed: HashMap<&str, LocalFile> = [
            (MD, local(&other, Some("2026-11-28"))), // older locally: Changed
            (SVG, local(&other, Some("2026-12-01"))), // newer locally: Conflict
            (LESSON, local(&sha_of(&pkg, LESSON), None)),
            (UNDATED, local(&other, None)),
        ]
        .into_iter()
        .collect();
        let planned = plan(&pkg, |p| installed.get(p).cloned());
        assert_eq!(
            changes(&planned),
            vec![
                (LESSON, Change::Same),
                (MD, Change::Changed),
                (SVG, Change::Conflict),
                (PDF, Change::New),
                (UNDATED, Change::Changed),
            ]
        );
        let svg = &planned[2];
        assert!(svg.reason.contains("2026-12-01") && svg.reason.contains("2026-11-29"));
    }

    #[test]
    fn plan_dates_equal_is_changed_and_undated_package_is_conflict() {
        let sb = Sandbox::new();
        let pkg = sample_package(&sb);
        let other = "f".repeat(64);
        let planned = plan(&pkg, |p| match p {
            MD => Some(local(&other, Some("2026-11-29"))),
            UNDATED => Some(local(&other, Some("2020-01-01"))),
            _ => None,
        });
        let find = |path| planned.iter().find(|p| p.path == path).unwrap().change;
        assert_eq!(find(MD), Change::Changed);
        assert_eq!(
            find(UNDATED),
            Change::Conflict,
            "local has a date, package none"
        );
    }

    #[test]
    fn lessons_that_differ_are_changed_whatever_the_dates() {
        let sb = Sandbox::new();
        let pkg = sample_package(&sb);
        let planned = plan(&pkg, |p| {
            (p == LESSON).then(|| local(&"0".repeat(64), Some("2999-01-01")))
        });
        let lesson = planned.iter().find(|p| p.path == LESSON).unwrap();
        assert_eq!(lesson.change, Change::Changed);
    }

    #[test]
    fn attachments_belong_to_the_longest_matching_material_in_their_folder() {
        let materials = vec![
            material("a/lua", Some("2026-01-01")),
            material("a/lua-xuan", Some("2026-06-01")),
            material("b/lua-xuan-2", Some("2026-09-01")),
            material("a/cam", None),
        ];
        let dates = PackageDates::new(&materials);
        let owner = |p| dates.owner(p).map(|m| m.id.as_str());
        assert_eq!(owner("library/a/lua-xuan-lich.svg"), Some("a/lua-xuan"));
        assert_eq!(owner("library/a/lua.pdf"), Some("a/lua"));
        assert_eq!(owner("library/a/lua_2.jpg"), Some("a/lua"));
        assert_eq!(
            owner("library/a/luam.jpg"),
            None,
            "needs . - or _ after the name"
        );
        assert_eq!(owner("library/b/lua.pdf"), None, "other folder");
        assert_eq!(owner("library/a/lua-xuan.md"), Some("a/lua-xuan"));
        assert_eq!(owner("lessons/lua-xuan.toml"), None);
    }

    #[test]
    fn apply_puts_new_and_changed_files_in_order() {
        let sb = Sandbox::new();
        let pkg = sample_package(&sb);
        let other = "f".repeat(64);
        let planned = plan(&pkg, |p| match p {
            MD => Some(local(&other, Some("2026-01-01"))),
            SVG => Some(local(&other, Some("2027-01-01"))),
            LESSON => Some(local(&sha_of(&pkg, LESSON), None)),
            _ => None,
        });
        let mut reversed = planned.clone();
        reversed.reverse();
        let mut put = Vec::new();
        let applied = apply(&pkg, &reversed, false, |path, staged| {
            put.push((path.to_string(), fs::read(staged).unwrap()));
            Ok(())
        })
        .unwrap();
        let paths: Vec<&str> = put.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(paths, vec![MD, PDF, UNDATED]);
        let originals: HashMap<String, Vec<u8>> = sample_files()
            .into_iter()
            .map(|e| (e.path, e.bytes))
            .collect();
        for (path, bytes) in &put {
            assert_eq!(&originals[path], bytes, "{path}: the staged bytes");
        }
        assert_eq!(
            applied,
            Applied {
                new: 2,
                changed: 1,
                conflicts_applied: 0,
                conflicts_skipped: 1,
                same: 1,
            }
        );

        let mut put = Vec::new();
        let applied = apply(&pkg, &planned, true, |path, _| {
            put.push(path.to_string());
            Ok(())
        })
        .unwrap();
        assert_eq!(
            put,
            vec![MD, SVG, PDF, UNDATED],
            "the same lesson is not put"
        );
        assert_eq!(applied.conflicts_applied, 1);
    }

    #[test]
    fn apply_stops_at_the_first_failure() {
        let sb = Sandbox::new();
        let pkg = sample_package(&sb);
        let planned = plan(&pkg, |_| None);
        let mut calls = 0;
        let err = apply(&pkg, &planned, false, |path, _| {
            calls += 1;
            if path == PDF {
                Err(io::Error::other("disk full"))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
        assert!(
            matches!(&err, PackageError::Install { path, .. } if path == PDF),
            "{err:?}"
        );
        assert_eq!(
            calls, 4,
            "{LESSON}, {MD}, {SVG}, then {PDF} failed; {UNDATED} not tried"
        );
    }

    #[test]
    fn apply_refuses_plans_for_files_not_in_the_package() {
        let sb = Sandbox::new();
        let pkg = sample_package(&sb);
        let forged = vec![Planned {
            path: "../../etc/passwd".into(),
            change: Change::New,
            reason: String::new(),
        }];
        let mut called = false;
        let err = apply(&pkg, &forged, true, |_, _| {
            called = true;
            Ok(())
        })
        .unwrap_err();
        assert!(matches!(err, PackageError::NotInManifest { .. }), "{err:?}");
        assert!(!called);
    }
}
