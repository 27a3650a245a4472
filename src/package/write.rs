//! Writing archives: sorted entries with plain tar headers (no time, owner or mode), so the same
//! content always gives the same bytes. Files come from memory, from disk or from any source
//! that can open them again; they are streamed, never held in memory whole.

use std::fs;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::content::hex;

use super::manifest::{MAX_MANIFEST_BYTES, check_materials, manifest_toml};
use super::paths::check_paths;
use super::{
    Areas, FORMAT, FileInfo, LessonInfo, MANIFEST_PATH, Manifest, MaterialInfo, PackageError,
};

/// Bytes of a tar block: headers and padded data come in these.
const BLOCK: u64 = 512;

/// A file to put in a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the package, such as `library/agriculture/lua-vu-xuan.md`.
    pub path: String,
    /// The file's contents.
    pub bytes: Vec<u8>,
}

/// What an archive says about itself besides its files.
#[derive(Debug, Clone, Default)]
pub struct About {
    /// Which top-level folders its files may be in.
    pub areas: Areas,
    /// When it was made, written as given.
    pub created: String,
    /// The centre that made it.
    pub centre: String,
    /// The materials it carries.
    pub materials: Vec<MaterialInfo>,
    /// The lessons it carries.
    pub lessons: Vec<LessonInfo>,
}

/// An archive whose files were checked and checksummed, ready to be written: its size is known
/// before the first byte goes out (a download can announce it). `T` names where each file's
/// bytes are; `open` opens them again for the copy.
#[derive(Debug)]
pub struct Prepared<T, F> {
    manifest: Manifest,
    text: String,
    files: Vec<(String, T)>,
    open: F,
}

/// Writes a package of `files` to `out` and returns its manifest.
///
/// Paths are checked by the same rules as [`read`](super::read()). Materials, lessons and files
/// are sorted and tar headers carry no time, owner or mode of their own, so the same content
/// always gives the same bytes. `created` and `centre` are written as given.
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
    materials: Vec<MaterialInfo>,
    lessons: Vec<LessonInfo>,
    files: Vec<Entry>,
) -> Result<Manifest, PackageError> {
    let about = About {
        areas,
        created: created.to_string(),
        centre: centre.to_string(),
        materials,
        lessons,
    };
    let listed = files
        .iter()
        .enumerate()
        .map(|(i, e)| (e.path.clone(), i))
        .collect();
    prepare(about, listed, |&i: &usize| Ok(files[i].bytes.as_slice()))?.write(out)
}

/// [`export_areas`] for files on disk: `files` maps archive paths to the files to read.
pub fn export_files(
    areas: Areas,
    out: impl Write,
    created: &str,
    centre: &str,
    materials: Vec<MaterialInfo>,
    lessons: Vec<LessonInfo>,
    files: Vec<(String, PathBuf)>,
) -> Result<Manifest, PackageError> {
    let about = About {
        areas,
        created: created.to_string(),
        centre: centre.to_string(),
        materials,
        lessons,
    };
    prepare(about, files, |disk: &PathBuf| fs::File::open(disk))?.write(out)
}

/// Checks an archive of `files` as [`read`](super::read()) will and checksums every file, before
/// anything is written. Each file is opened twice with `open` (checksum, then copy) and never
/// held in memory whole; one that changes in between makes [`Prepared::write`] fail rather than
/// write a wrong checksum.
pub fn prepare<T, R, F>(
    mut about: About,
    mut files: Vec<(String, T)>,
    open: F,
) -> Result<Prepared<T, F>, PackageError>
where
    R: Read,
    F: Fn(&T) -> io::Result<R>,
{
    files.sort_by(|a, b| a.0.cmp(&b.0));
    about.materials.sort_by(|a, b| a.id.cmp(&b.id));
    about.lessons.sort_by(|a, b| a.code.cmp(&b.code));
    check_paths(files.iter().map(|f| f.0.as_str()), about.areas)?;
    check_materials(&about.materials)?;
    let mut infos = Vec::with_capacity(files.len());
    for (path, origin) in &files {
        let mut reader = open(origin).map_err(read_err(path))?;
        let mut hasher = Sha256::new();
        let size = io::copy(&mut reader, &mut hasher).map_err(read_err(path))?;
        infos.push(FileInfo {
            path: path.clone(),
            size,
            sha256: hex(&hasher.finalize()),
        });
    }
    let manifest = Manifest {
        format: FORMAT,
        created: about.created,
        centre: about.centre,
        materials: about.materials,
        lessons: about.lessons,
        files: infos,
    };
    let text = manifest_text(&manifest)?;
    Ok(Prepared {
        manifest,
        text,
        files,
        open,
    })
}

impl<T, R, F> Prepared<T, F>
where
    R: Read,
    F: Fn(&T) -> io::Result<R>,
{
    /// What the archive will say about itself.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The archive's size in bytes: a header block and padded data for the manifest and each
    /// file, then the two zero blocks that end a tar.
    pub fn len(&self) -> u64 {
        let entry = |size: u64| BLOCK + size.div_ceil(BLOCK) * BLOCK;
        entry(self.text.len() as u64)
            + self
                .manifest
                .files
                .iter()
                .map(|f| entry(f.size))
                .sum::<u64>()
            + 2 * BLOCK
    }

    /// Whether the archive has no files (it still has its manifest).
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Writes the archive to `out`, copying each file as it is read, and returns its manifest.
    pub fn write(self, out: impl Write) -> Result<Manifest, PackageError> {
        let write_err = |source| PackageError::WritePackage { source };
        let mut builder = tar::Builder::new(BufWriter::new(out));
        let mut header = plain_header(MANIFEST_PATH, self.text.len() as u64).map_err(write_err)?;
        header.set_cksum();
        builder
            .append(&header, self.text.as_bytes())
            .map_err(write_err)?;
        for ((path, origin), info) in self.files.iter().zip(&self.manifest.files) {
            let reader = (self.open)(origin).map_err(read_err(path))?;
            let mut header = plain_header(path, info.size).map_err(write_err)?;
            header.set_cksum();
            // Exactly the bytes counted: a file that grew or shrank fails the copy.
            let mut hashing = HashingReader {
                inner: reader.take(info.size),
                hasher: Sha256::new(),
            };
            builder.append(&header, &mut hashing).map_err(write_err)?;
            if hex(&hashing.hasher.finalize()) != info.sha256 {
                return Err(PackageError::ChecksumMismatch { path: path.clone() });
            }
        }
        let mut out = builder.into_inner().map_err(write_err)?;
        out.flush().map_err(write_err)?;
        Ok(self.manifest)
    }
}

/// A file of the archive could not be read (named by its path in the archive).
fn read_err(path: &str) -> impl FnOnce(io::Error) -> PackageError {
    let path = Path::new(path).to_path_buf();
    move |source| PackageError::ReadFile { path, source }
}

/// The manifest's text, refused here if [`read`](super::read()) would refuse it as too large.
fn manifest_text(manifest: &Manifest) -> Result<String, PackageError> {
    let text = manifest_toml(manifest);
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(PackageError::ManifestTooLarge {
            limit: MAX_MANIFEST_BYTES,
        });
    }
    Ok(text)
}

/// Hashes what it reads.
struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
pub(super) fn file_info(e: &Entry) -> FileInfo {
    FileInfo {
        path: e.path.clone(),
        size: e.bytes.len() as u64,
        sha256: hex(&Sha256::digest(&e.bytes)),
    }
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
