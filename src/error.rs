//! The library's error type. HTTP status codes are chosen in `web::error`, not here.

use std::path::PathBuf;

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in library code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing a file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A material file could not be parsed.
    #[error("material: {0}")]
    Material(#[from] crate::content::MaterialError),
    /// The search index failed.
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    /// Opening the search index directory failed.
    #[error("search index: {0}")]
    IndexDir(#[from] tantivy::directory::error::OpenDirectoryError),
    /// A folder given on the command line is unusable.
    #[error("{path}: {message}")]
    BadPath {
        /// The folder.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The usage database failed.
    #[error("usage store: {0}")]
    Usage(#[from] rusqlite::Error),
    /// The box's signing key could not be made or read.
    #[error(transparent)]
    BoxKey(#[from] crate::box_key::KeyError),
    /// A ZIM archive could not be read.
    #[error("ZIM: {0}")]
    Zim(#[from] crate::zim::ZimError),
    /// A background task panicked or was cancelled.
    #[error("background task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}
