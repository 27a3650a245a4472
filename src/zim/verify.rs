//! The whole-archive check: every directory entry and listing in order and in bounds, every
//! cluster decodable with the items entries point at, and the MD5 checksum. Opening an
//! archive checks only its header; this walks all of it, so it runs once per file, in the
//! background, or from `hoclieu zim check`.

use std::io::Read;

use md5::{Digest, Md5};

use super::cluster::Cluster;
use super::{Archive, Target, ZimError};

/// What a full check found in a sound archive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// Entries, of every kind.
    pub entries: u32,
    /// Entries with content.
    pub items: u32,
    /// Redirects.
    pub redirects: u32,
    /// Clusters, every one decoded.
    pub clusters: u32,
    /// Whether the archive carries an MD5 checksum (it matched, or the check failed).
    pub checksum: bool,
}

/// Pointers read at once while walking the directory.
const CHUNK: u32 = 4096;

impl Archive {
    /// Checks the whole archive; `progress` is told how many of `total` steps are done.
    pub fn verify(&self, mut progress: impl FnMut(u64, u64)) -> Result<Checked, ZimError> {
        let h = &self.header;
        let total = h.entry_count as u64 * 2 + h.cluster_count as u64 + 1;
        let mut done = 0u64;
        let mut out = Checked {
            entries: h.entry_count,
            clusters: h.cluster_count,
            ..Checked::default()
        };
        // Blobs each cluster must hold at least (the highest one an entry names, plus one).
        let mut needed = vec![0u32; h.cluster_count as usize];
        let mut previous: Option<(u8, Vec<u8>)> = None;
        let mut ptrs = vec![0u8; CHUNK as usize * 8];
        let mut start = 0u32;
        while start < h.entry_count {
            let n = CHUNK.min(h.entry_count - start);
            let buf = &mut ptrs[..n as usize * 8];
            self.source
                .read_exact_at(h.path_ptr_pos + 8 * start as u64, buf)?;
            for k in 0..n as usize {
                let pos = super::header::read_u64(buf, 8 * k);
                let d = self.dirent_at(pos)?;
                let key = (d.namespace, d.path);
                if previous.as_ref().is_some_and(|p| *p >= key) {
                    return Err(ZimError::Damaged(format!(
                        "các mục không theo thứ tự đường dẫn (mục {})",
                        start as usize + k
                    )));
                }
                match d.target {
                    Target::Item { cluster, blob, .. } => {
                        let Some(need) = needed.get_mut(cluster as usize) else {
                            return Err(ZimError::Damaged(format!(
                                "mục trỏ tới cụm {cluster}, tệp chỉ có {}",
                                h.cluster_count
                            )));
                        };
                        *need = (*need).max(blob.saturating_add(1));
                        out.items += 1;
                    }
                    Target::Redirect(to) if to >= h.entry_count => {
                        return Err(ZimError::Damaged(format!(
                            "chuyển hướng tới mục {to}, tệp chỉ có {}",
                            h.entry_count
                        )));
                    }
                    Target::Redirect(_) => out.redirects += 1,
                    Target::Nothing => {}
                }
                previous = Some(key);
            }
            start += n;
            done += n as u64;
            progress(done, total);
        }
        if let Some(pos) = h.title_ptr_pos {
            self.check_title_list(pos, h.entry_count, "bảng tên")?;
        }
        for name in [&b"listing/titleOrdered/v0"[..], b"listing/titleOrdered/v1"] {
            if let Some(i) = self.find(b'X', name)?
                && let Target::Item { cluster, blob, .. } = self.dirent(i)?.target
                && let super::Blob::InFile { pos, len } = self.blob(cluster, blob)?
            {
                self.check_title_list(pos, (len / 4) as u32, "danh sách bài theo tên")?;
            }
        }
        done += h.entry_count as u64;
        progress(done, total);
        for (n, need) in needed.iter().enumerate() {
            let mut b = [0u8; 8];
            self.source
                .read_exact_at(h.cluster_ptr_pos + 8 * n as u64, &mut b)?;
            let pos = u64::from_le_bytes(b);
            if pos < h.mime_list_pos || pos >= self.source.len() {
                return Err(ZimError::Damaged(format!("cụm {n} ở vị trí ngoài tệp")));
            }
            let blobs = match Cluster::read(&self.source, pos, h.major, None)? {
                Cluster::Stored { blobs, .. } => blobs,
                Cluster::Decoded { offsets, .. } => (offsets.len() - 1) as u32,
            };
            if blobs < *need {
                return Err(ZimError::Damaged(format!(
                    "cụm {n} có {blobs} phần, các mục cần {need}"
                )));
            }
            done += 1;
            progress(done, total);
        }
        if let Some(pos) = h.checksum_pos {
            out.checksum = true;
            let mut md5 = Md5::new();
            let mut reader = self.source.reader_from(0).take(pos);
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = reader.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                md5.update(&buf[..n]);
            }
            let mut stored = [0u8; 16];
            self.source.read_exact_at(pos, &mut stored)?;
            if md5.finalize()[..] != stored {
                return Err(ZimError::Damaged("mã kiểm tra MD5 không khớp".into()));
            }
        }
        progress(total, total);
        Ok(out)
    }

    /// A title-ordered list of `count` entry indices at `pos`: each in bounds, in order of
    /// namespace then title.
    fn check_title_list(&self, pos: u64, count: u32, what: &str) -> Result<(), ZimError> {
        let mut previous: Option<(u8, Vec<u8>)> = None;
        let mut buf = vec![0u8; CHUNK as usize * 4];
        let mut start = 0u32;
        while start < count {
            let n = CHUNK.min(count - start);
            let b = &mut buf[..n as usize * 4];
            self.source.read_exact_at(pos + 4 * start as u64, b)?;
            for k in 0..n as usize {
                let i = super::header::read_u32(b, 4 * k);
                if i >= self.header.entry_count {
                    return Err(ZimError::Damaged(format!(
                        "{what} trỏ tới mục {i}, ngoài tệp"
                    )));
                }
                let d = self.dirent(i)?;
                let key = (d.namespace, d.title);
                if previous.as_ref().is_some_and(|p| *p > key) {
                    return Err(ZimError::Damaged(format!("{what} không theo thứ tự")));
                }
                previous = Some(key);
            }
            start += n;
        }
        Ok(())
    }
}
