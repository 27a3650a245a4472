//! Writing archives: sorted entries with plain tar headers (no time, owner or mode), so the same
//! content always gives the same bytes. Files come from memory or are streamed from disk.

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

/// A file to put in a package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Path inside the package, such as `library/agriculture/lua-vu-xuan.md`.
    pub path: String,
    /// The file's contents.
    pub bytes: Vec<u8>,
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
    mut materials: Vec<MaterialInfo>,
    mut lessons: Vec<LessonInfo>,
    mut files: Vec<Entry>,
) -> Result<Manifest, PackageError> {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let paths = files.iter().map(|f| f.path.as_str());
    prepare(areas, paths, &mut materials, &mut lessons)?;
    let infos = files.iter().map(file_info).collect();
    let manifest = manifest(created, centre, materials, lessons, infos);
    let text = manifest_text(&manifest)?;
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
    prepare(
        areas,
        files.iter().map(|f| f.0.as_str()),
        &mut materials,
        &mut lessons,
    )?;
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
            sha256: hex(&hasher.finalize()),
        });
    }
    let manifest = manifest(created, centre, materials, lessons, infos);
    let text = manifest_text(&manifest)?;
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
        if hex(&hasher.hasher.finalize()) != info.sha256 {
            return Err(PackageError::ChecksumMismatch { path: path.clone() });
        }
    }
    let mut out = builder.into_inner().map_err(write_err)?;
    out.flush().map_err(write_err)?;
    Ok(manifest)
}

/// Sorts what the manifest lists and checks it as [`read`](super::read()) will, before any file
/// is read.
fn prepare<'a>(
    areas: Areas,
    paths: impl Iterator<Item = &'a str>,
    materials: &mut [MaterialInfo],
    lessons: &mut [LessonInfo],
) -> Result<(), PackageError> {
    materials.sort_by(|a, b| a.id.cmp(&b.id));
    lessons.sort_by(|a, b| a.code.cmp(&b.code));
    check_paths(paths, areas)?;
    check_materials(materials)
}

fn manifest(
    created: &str,
    centre: &str,
    materials: Vec<MaterialInfo>,
    lessons: Vec<LessonInfo>,
    files: Vec<FileInfo>,
) -> Manifest {
    Manifest {
        format: FORMAT,
        created: created.to_string(),
        centre: centre.to_string(),
        materials,
        lessons,
        files,
    }
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

pub(super) fn file_info(e: &Entry) -> FileInfo {
    FileInfo {
        path: e.path.clone(),
        size: e.bytes.len() as u64,
        sha256: hex(&Sha256::digest(&e.bytes)),
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
