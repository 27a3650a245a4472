//! Why a package could not be written, read or applied: one error type for the whole format,
//! each variant naming the file at fault so that an admin page can say what to fix.

use std::io;
use std::path::PathBuf;

use super::{FORMAT, MANIFEST_PATH};

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
    /// The staging folder given to [`read`](super::read()) is not empty.
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
    /// A file is larger than [`Limits::max_file_bytes`](super::Limits::max_file_bytes).
    #[error("{path:?} is {size} bytes, more than the limit of {limit} bytes per file")]
    FileTooLarge {
        /// The path.
        path: String,
        /// Its declared size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The files together are larger than
    /// [`Limits::max_total_bytes`](super::Limits::max_total_bytes).
    #[error("the package holds more than the limit of {limit} bytes in all")]
    TooLarge {
        /// The limit.
        limit: u64,
    },
    /// The package has more files than [`Limits::max_files`](super::Limits::max_files).
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

impl PackageError {
    /// Whether this box failed (a disk error), rather than the package being at fault: such a
    /// failure is logged with its cause and reported to staff without the system's words.
    pub fn is_local_failure(&self) -> bool {
        matches!(
            self,
            PackageError::WritePackage { .. }
                | PackageError::Staging { .. }
                | PackageError::StagingNotEmpty { .. }
                | PackageError::ReadFile { .. }
                | PackageError::Install { .. }
        )
    }
}
