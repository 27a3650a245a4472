//! The bytes of one archive: a single file, the parts of a split one (`.zimaa`, `.zimab`…, read
//! as their concatenation), or an archive embedded in a larger file, whole at an offset or in
//! several ranges.
//!
//! Reads are positional (`pread`), never a memory map: a file truncated or replaced under a
//! running server gives a read error here, where a map would kill the process with SIGBUS.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::ZimError;

/// Where a part's bytes are read from.
#[derive(Debug)]
enum Bytes {
    File(File),
    /// An archive held in memory (tests, fuzzing).
    Memory(Vec<u8>),
}

impl Bytes {
    fn read_at(&self, buf: &mut [u8], at: u64) -> io::Result<usize> {
        match self {
            Bytes::File(f) => f.read_at(buf, at),
            Bytes::Memory(m) => {
                let from = (at as usize).min(m.len());
                let n = buf.len().min(m.len() - from);
                buf[..n].copy_from_slice(&m[from..from + n]);
                Ok(n)
            }
        }
    }
}

/// `len` bytes of a file from `offset`, and where they start in the archive.
#[derive(Debug)]
struct Part {
    file: Bytes,
    offset: u64,
    start: u64,
    len: u64,
}

/// A range of a file that is part of an archive: the file, the offset, and the length (to the
/// file's end when `None`).
pub(super) type Piece = (PathBuf, u64, Option<u64>);

/// The archive's bytes: its pieces, one after another.
#[derive(Debug)]
pub(super) struct Source {
    parts: Vec<Part>,
    len: u64,
    paths: Vec<PathBuf>,
}

/// The parts of a split archive, in order: `name.zimaa`, `name.zimab`… up to the first one
/// missing. `first` is the `.zimaa` file.
pub fn split_parts(first: &Path) -> Vec<PathBuf> {
    let Some(name) = first.file_name().and_then(|n| n.to_str()) else {
        return vec![first.to_path_buf()];
    };
    let Some(stem) = name.strip_suffix("aa") else {
        return vec![first.to_path_buf()];
    };
    let mut parts = Vec::new();
    for a in b'a'..=b'z' {
        for b in b'a'..=b'z' {
            let p = first.with_file_name(format!("{stem}{}{}", a as char, b as char));
            if !p.is_file() {
                return parts;
            }
            parts.push(p);
        }
    }
    parts
}

impl Source {
    /// The archive made of `pieces`, in order.
    pub(super) fn open(pieces: &[Piece]) -> Result<Source, ZimError> {
        let mut parts = Vec::with_capacity(pieces.len());
        let mut paths: Vec<PathBuf> = Vec::new();
        let mut start = 0u64;
        for (path, offset, len) in pieces {
            let file = File::open(path)?;
            let size = file.metadata()?.len();
            let len = len.unwrap_or(size.saturating_sub(*offset));
            if offset.checked_add(len).is_none_or(|end| end > size) {
                return Err(ZimError::Damaged(format!(
                    "{}: phần {offset}+{len} vượt quá tệp ({size} byte)",
                    path.display()
                )));
            }
            if !paths.contains(path) {
                paths.push(path.clone());
            }
            // Empty parts (zimsplit leaves one at the end) hold nothing to read.
            if len > 0 {
                parts.push(Part {
                    file: Bytes::File(file),
                    offset: *offset,
                    start,
                    len,
                });
            }
            start += len;
        }
        Ok(Source {
            parts,
            len: start,
            paths,
        })
    }

    /// An archive held in memory.
    pub(super) fn memory(bytes: Vec<u8>) -> Source {
        let len = bytes.len() as u64;
        Source {
            parts: vec![Part {
                file: Bytes::Memory(bytes),
                offset: 0,
                start: 0,
                len,
            }],
            len,
            paths: Vec::new(),
        }
    }

    /// The archive's length in bytes.
    pub(super) fn len(&self) -> u64 {
        self.len
    }

    /// The files it is read from.
    pub(super) fn paths(&self) -> &[PathBuf] {
        &self.paths
    }

    /// Fills `buf` from archive offset `pos`; an archive shorter than that is damaged.
    pub(super) fn read_exact_at(&self, pos: u64, buf: &mut [u8]) -> Result<(), ZimError> {
        let n = self.read_at(pos, buf)?;
        if n < buf.len() {
            return Err(ZimError::Damaged(format!(
                "đọc {} byte ở vị trí {pos}, vượt quá cuối tệp ({} byte)",
                buf.len(),
                self.len
            )));
        }
        Ok(())
    }

    /// Reads at most `buf.len()` bytes from archive offset `pos`, fewer only at the end.
    pub(super) fn read_at(&self, pos: u64, buf: &mut [u8]) -> io::Result<usize> {
        if pos >= self.len {
            return Ok(0);
        }
        let want = buf.len().min((self.len - pos) as usize);
        let mut done = 0;
        let mut at = pos;
        while done < want {
            let i = self.parts.partition_point(|p| p.start + p.len <= at);
            let Some(part) = self.parts.get(i) else {
                break;
            };
            let within = at - part.start;
            let n = ((part.len - within) as usize).min(want - done);
            let got = part
                .file
                .read_at(&mut buf[done..done + n], part.offset + within)?;
            if got == 0 {
                // The file shrank since it was opened.
                break;
            }
            done += got;
            at += got as u64;
        }
        Ok(done)
    }

    /// A reader of the archive from `pos` to its end, for decompressors that find the end of
    /// their stream themselves.
    pub(super) fn reader_from(&self, pos: u64) -> SourceReader<'_> {
        SourceReader { source: self, pos }
    }
}

/// [`Source::reader_from`].
pub(super) struct SourceReader<'a> {
    source: &'a Source,
    pos: u64,
}

impl Read for SourceReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.source.read_at(self.pos, buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}
