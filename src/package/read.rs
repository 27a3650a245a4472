//! Reading archives: the tar is streamed, each entry checked against the manifest and the
//! limits before its data is read, then copied into the staging folder while it is hashed.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::content::hex;

use super::manifest::{MAX_MANIFEST_BYTES, check_manifest, parse_manifest};
use super::paths::{check_path, staged};
use super::{FileInfo, Limits, MANIFEST_PATH, Manifest, PackageError};

const COPY_CHUNK: usize = 64 * 1024;

/// A package that [`read`](fn@read) checked and unpacked into its staging folder.
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
    Ok((copied, hex(&hasher.finalize())))
}
