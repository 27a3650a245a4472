//! Clusters: the blocks that hold items, compressed (zstd, xz) or stored as they are.
//!
//! A compressed cluster is decoded as one stream from its start until the stream ends, never
//! up to "the next cluster": libzim writes the directory after the clusters, and nothing
//! promises the clusters are in order. A stored cluster is not read whole, so a 40 MB video is
//! read from the file a range at a time.

use std::io::Read;
use std::ops::Range;
use std::sync::Arc;

use super::ZimError;
use super::source::Source;

/// A compressed cluster decodes to at most this much. libzim's clusters are 2 MiB; big files
/// are stored uncompressed in clusters of their own. More is a damaged or hostile file.
pub const MAX_DECODED: usize = 64 * 1024 * 1024;

/// Largest zstd window accepted (2^26, [`MAX_DECODED`]): no cluster needs more, and a hostile
/// frame asking for more is refused before its window is allocated.
const ZSTD_WINDOW_LOG_MAX: u32 = 26;
/// Memory the xz decoder may use for its dictionary (xz's own preset 9 needs 64 MiB).
const XZ_MEMORY_KB: u32 = 96 * 1024;

/// A cluster, ready to give out its blobs.
#[derive(Debug)]
pub(super) enum Cluster {
    /// Stored: the offset table starts at `table` in the archive.
    Stored { table: u64, wide: bool, blobs: u32 },
    /// Decoded into memory: `offsets` (count + 1 of them) index into `data`, which may hold
    /// only the cluster's first blobs (see [`Cluster::read`]).
    Decoded { data: Vec<u8>, offsets: Vec<u64> },
}

/// Where a blob's bytes are.
#[derive(Debug, Clone)]
pub enum Blob {
    /// In a decoded cluster held in memory.
    Shared(Arc<DecodedCluster>, Range<usize>),
    /// In the file, `len` bytes at `pos` of the archive (a stored cluster).
    InFile {
        /// Archive offset.
        pos: u64,
        /// Length in bytes.
        len: u64,
    },
}

/// A decoded cluster shared between the cache and the blobs handed out.
#[derive(Debug)]
pub struct DecodedCluster(pub(super) Cluster);

impl Blob {
    /// Its length in bytes.
    pub fn len(&self) -> u64 {
        match self {
            Blob::Shared(_, r) => r.len() as u64,
            Blob::InFile { len, .. } => *len,
        }
    }

    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn offset_at(b: &[u8], wide: bool) -> u64 {
    if wide {
        super::header::read_u64(b, 0)
    } else {
        super::header::read_u32(b, 0) as u64
    }
}

impl Cluster {
    /// Reads the cluster at archive offset `pos`. `major` is the archive's major version
    /// (extended clusters exist only in version 6). A compressed cluster is decoded up to the
    /// end of blob `upto` (a page needs one article, on average half the cluster's work), or
    /// whole, its end checked, when `upto` is `None`.
    pub(super) fn read(
        source: &Source,
        pos: u64,
        major: u16,
        upto: Option<u32>,
    ) -> Result<Cluster, ZimError> {
        let mut info = [0u8; 1];
        source.read_exact_at(pos, &mut info)?;
        let wide = info[0] & 0x10 != 0;
        if wide && major < 6 {
            return Err(ZimError::Damaged(
                "cụm mở rộng trong tệp ZIM phiên bản 5".into(),
            ));
        }
        let w = if wide { 8 } else { 4 };
        match info[0] & 0x0f {
            0 | 1 => {
                let table = pos + 1;
                let mut first = [0u8; 8];
                source.read_exact_at(table, &mut first[..w])?;
                let first = offset_at(&first, wide);
                let blobs = check_first(first, w as u64)?;
                if table.checked_add(first).is_none_or(|e| e > source.len()) {
                    return Err(ZimError::Damaged(
                        "bảng vị trí trong cụm vượt quá tệp".into(),
                    ));
                }
                Ok(Cluster::Stored { table, wide, blobs })
            }
            2 => Err(ZimError::Unsupported("nén zlib (cũ, libzim đã bỏ)".into())),
            3 => Err(ZimError::Unsupported("nén bzip2 (cũ, libzim đã bỏ)".into())),
            4 => {
                let input = std::io::BufReader::new(source.reader_from(pos + 1));
                let xz = lzma_rust2::XzReader::new_mem_limit(input, false, XZ_MEMORY_KB);
                Cluster::decoded(xz, wide, upto)
            }
            5 => {
                let input = std::io::BufReader::new(source.reader_from(pos + 1));
                let mut zstd = zstd::stream::read::Decoder::with_buffer(input)
                    .map_err(|e| ZimError::Damaged(format!("cụm zstd: {e}")))?
                    .single_frame();
                // A frame may not ask for a window larger than any cluster accepted.
                zstd.window_log_max(ZSTD_WINDOW_LOG_MAX)
                    .map_err(|e| ZimError::Damaged(format!("cụm zstd: {e}")))?;
                Cluster::decoded(zstd, wide, upto)
            }
            c => Err(ZimError::Damaged(format!("cách nén không biết ({c})"))),
        }
    }

    fn decoded(mut stream: impl Read, wide: bool, upto: Option<u32>) -> Result<Cluster, ZimError> {
        let w = if wide { 8 } else { 4 };
        let broken = |e: std::io::Error| ZimError::Damaged(format!("giải nén cụm: {e}"));
        // The offset table first: its first entry is its own length.
        let mut data = vec![0u8; w];
        stream.read_exact(&mut data).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => ZimError::Damaged("cụm rỗng".into()),
            _ => broken(e),
        })?;
        let blobs = check_first(offset_at(&data, wide), w as u64)? as usize;
        let table = (blobs + 1) * w;
        if table > MAX_DECODED {
            return Err(too_large());
        }
        data.resize(table, 0);
        stream
            .read_exact(&mut data[w..])
            .map_err(|_| ZimError::Damaged("bảng vị trí trong cụm vượt quá cụm".into()))?;
        let offsets: Vec<u64> = (0..=blobs)
            .map(|i| offset_at(&data[i * w..], wide))
            .collect();
        if offsets.windows(2).any(|p| p[0] > p[1]) {
            return Err(ZimError::Damaged("vị trí trong cụm sai".into()));
        }
        let end = offsets[blobs];
        match upto {
            Some(i) if (i as usize) < blobs => {
                let want = offsets[i as usize + 1];
                if want > MAX_DECODED as u64 {
                    return Err(too_large());
                }
                data.resize(want as usize, 0);
                stream
                    .read_exact(&mut data[table..])
                    .map_err(|_| ZimError::Damaged("vị trí trong cụm sai".into()))?;
            }
            _ => {
                // Whole: what the table promises (within bounds), then whatever else there is.
                data.reserve((end.min(MAX_DECODED as u64) as usize).saturating_sub(table));
                stream
                    .take((MAX_DECODED - table) as u64 + 1)
                    .read_to_end(&mut data)
                    .map_err(broken)?;
                if data.len() > MAX_DECODED {
                    return Err(too_large());
                }
                if end > data.len() as u64 {
                    return Err(ZimError::Damaged("vị trí trong cụm sai".into()));
                }
            }
        }
        Ok(Cluster::Decoded { data, offsets })
    }

    /// Whether blob `i` is in memory, or in the file: false for a cluster decoded only up to
    /// an earlier blob.
    pub(super) fn holds(&self, i: u32) -> bool {
        match self {
            Cluster::Stored { .. } => true,
            Cluster::Decoded { data, offsets } => offsets
                .get(i as usize + 1)
                .is_none_or(|&end| end <= data.len() as u64),
        }
    }

    /// Where blob `i` is.
    pub(super) fn blob(
        this: &Arc<DecodedCluster>,
        source: &Source,
        i: u32,
    ) -> Result<Blob, ZimError> {
        match &this.0 {
            Cluster::Stored { table, wide, blobs } => {
                if i >= *blobs {
                    return Err(missing_blob(i, *blobs));
                }
                let w = if *wide { 8 } else { 4 };
                let mut pair = [0u8; 16];
                source.read_exact_at(table + i as u64 * w as u64, &mut pair[..2 * w])?;
                let (a, b) = (offset_at(&pair, *wide), offset_at(&pair[w..], *wide));
                if a > b || table.checked_add(b).is_none_or(|e| e > source.len()) {
                    return Err(ZimError::Damaged("vị trí trong cụm sai".into()));
                }
                Ok(Blob::InFile {
                    pos: table + a,
                    len: b - a,
                })
            }
            Cluster::Decoded { offsets, .. } => {
                let n = (offsets.len() - 1) as u32;
                if i >= n {
                    return Err(missing_blob(i, n));
                }
                if !this.0.holds(i) {
                    // Archive::blob decodes far enough first; never slice past what is here.
                    return Err(ZimError::Damaged("cụm chưa giải nén tới phần này".into()));
                }
                let r = offsets[i as usize] as usize..offsets[i as usize + 1] as usize;
                Ok(Blob::Shared(this.clone(), r))
            }
        }
    }

    /// Bytes the cluster holds in memory (for the cache's budget).
    pub(super) fn memory(&self) -> usize {
        match self {
            Cluster::Stored { .. } => 0,
            Cluster::Decoded { data, offsets } => data.len() + offsets.len() * 8,
        }
    }
}

impl DecodedCluster {
    /// The bytes of a range of a decoded cluster.
    pub(super) fn bytes(&self, r: Range<usize>) -> &[u8] {
        match &self.0 {
            Cluster::Decoded { data, .. } => &data[r],
            Cluster::Stored { .. } => &[],
        }
    }
}

fn too_large() -> ZimError {
    ZimError::TooLarge(format!("một cụm giải nén ra hơn {} MB", MAX_DECODED >> 20))
}

fn missing_blob(i: u32, n: u32) -> ZimError {
    ZimError::Damaged(format!("mục trỏ tới phần {i} của cụm chỉ có {n} phần"))
}

/// The number of blobs, from the first offset of the table (which is the table's length).
fn check_first(first: u64, w: u64) -> Result<u32, ZimError> {
    if first < w || !first.is_multiple_of(w) || first / w - 1 > u32::MAX as u64 {
        return Err(ZimError::Damaged("bảng vị trí trong cụm sai".into()));
    }
    Ok((first / w - 1) as u32)
}
