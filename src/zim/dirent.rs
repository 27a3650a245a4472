//! Directory entries: what an archive holds under each path, an item in a cluster or a
//! redirect to another entry.

use super::ZimError;
use super::header::read_u32;

/// MIME index marking a redirect.
const REDIRECT: u16 = 0xffff;
/// Obsolete kinds without content: link targets and deleted entries.
const LINK_TARGET: u16 = 0xfffe;
const DELETED: u16 = 0xfffd;
/// A path and a title together longer than this are not a real entry.
pub(super) const MAX_DIRENT: usize = 64 * 1024;

/// What an entry points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Content: blob `blob` of cluster `cluster`, of MIME type `mime` (an index into the
    /// archive's list).
    Item {
        /// Index into the archive's MIME list.
        mime: u16,
        /// Cluster number.
        cluster: u32,
        /// Blob number within the cluster.
        blob: u32,
    },
    /// Another entry, by its index in path order.
    Redirect(u32),
    /// An obsolete entry with nothing in it.
    Nothing,
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dirent {
    /// Namespace letter (`C`, `M`, `W`, `X` in new archives; `A`, `I`, `-`… in old ones).
    pub namespace: u8,
    /// Path within the namespace, as stored (UTF-8 in practice; bytes in the format).
    pub path: Vec<u8>,
    /// Title; the path when the archive stores none.
    pub title: Vec<u8>,
    /// What it points at.
    pub target: Target,
}

impl Dirent {
    /// Parses the entry at the start of `b`. `Ok(None)` means `b` ends before the entry does
    /// (read more and try again).
    pub(super) fn parse(b: &[u8], mime_count: usize) -> Result<Option<Dirent>, ZimError> {
        if b.len() < 8 {
            return Ok(None);
        }
        let mime = u16::from_le_bytes([b[0], b[1]]);
        let extra = b[2] as usize;
        let namespace = b[3];
        let (target, strings) = match mime {
            REDIRECT => {
                if b.len() < 12 {
                    return Ok(None);
                }
                (Target::Redirect(read_u32(b, 8)), 12)
            }
            LINK_TARGET | DELETED => (Target::Nothing, 8),
            m if (m as usize) < mime_count => {
                if b.len() < 16 {
                    return Ok(None);
                }
                let (cluster, blob) = (read_u32(b, 8), read_u32(b, 12));
                (
                    Target::Item {
                        mime: m,
                        cluster,
                        blob,
                    },
                    16,
                )
            }
            m => {
                return Err(ZimError::Damaged(format!(
                    "mục có kiểu tệp số {m}, danh sách chỉ có {mime_count}"
                )));
            }
        };
        let rest = &b[strings..];
        let Some(p) = rest.iter().position(|&c| c == 0) else {
            return Ok(None);
        };
        let Some(t) = rest[p + 1..].iter().position(|&c| c == 0) else {
            return Ok(None);
        };
        if rest.len() < p + 1 + t + 1 + extra {
            return Ok(None);
        }
        let path = rest[..p].to_vec();
        let title = match &rest[p + 1..p + 1 + t] {
            [] => path.clone(),
            t => t.to_vec(),
        };
        Ok(Some(Dirent {
            namespace,
            path,
            title,
            target,
        }))
    }
}
