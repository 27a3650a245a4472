//! Content packages: materials and lessons carried between centres as one uncompressed tar file
//! (`*.hoclieu.tar`), for example on a USB stick. [`export`] writes one; [`read()`] checks one
//! into a staging folder, [`plan()`] compares it with what is installed and [`apply()`] hands
//! files over.
//!
//! A package is untrusted input: [`read()`] refuses anything but plain files at plain paths
//! under `library/` and `lessons/`, each listed with its size and SHA-256 in the manifest,
//! within [`Limits`]. It writes only inside the staging folder and never touches the real
//! library.
//!
//! The format modules below only know the file format; [`local`] and [`backup`] apply it to
//! this box and are the only ones that use the library, the lessons or the database.

pub mod backup;
pub mod local;

mod apply;
mod error;
mod limits;
mod manifest;
mod paths;
mod plan;
mod read;
mod write;

#[cfg(test)]
mod tests;

pub use apply::{Applied, apply};
pub use error::PackageError;
pub use limits::{Areas, Limits};
pub use manifest::{FileInfo, LessonInfo, Manifest, MaterialInfo};
pub use plan::{Change, LocalFile, Planned, plan};
pub use read::{Package, read};
pub use write::{About, Entry, Prepared, export, export_areas, export_files, prepare};

/// Path of the manifest, the first entry of every package.
pub const MANIFEST_PATH: &str = "hoclieu-package.toml";

/// The package format this module writes and reads.
pub const FORMAT: u32 = 1;

/// How a package file's name ends.
pub const FILE_SUFFIX: &str = ".hoclieu.tar";
