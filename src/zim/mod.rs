//! Reading ZIM archives (Kiwix's offline libraries: Wikipedia, Wiktionary, WikiHow…), so a
//! centre's ZIM file can be one more shelf of the library.
//!
//! A small reader of our own on libzstd (the `zstd` crate) and lzma-rust2: every offset read
//! from the file is checked against the file before it is followed, clusters decode at most
//! [`cluster::MAX_DECODED`] bytes, and a damaged archive is an error, never a panic or a hang.
//! Both namespace layouts, split archives and embedded ones are read.

mod cluster;
mod dirent;
mod header;
mod source;
pub use source::split_parts;
mod verify;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

pub use cluster::{Blob, MAX_DECODED};
pub use dirent::{Dirent, Target};
use header::Header;
use source::Source;
pub use verify::Checked;

/// Decoded clusters kept for the next reads, in bytes: an article's pictures and styles are
/// usually in the cluster just read.
const CACHE_BYTES: usize = 16 * 1024 * 1024;
/// Redirects followed at most before an entry counts as a loop.
const MAX_REDIRECTS: usize = 16;
/// A metadata value longer than this is not read.
const MAX_METADATA: u64 = 64 * 1024;

/// Why an archive cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum ZimError {
    /// Reading the file failed.
    #[error("không đọc được tệp: {0}")]
    Io(#[from] std::io::Error),
    /// Not a ZIM archive at all.
    #[error("không phải tệp ZIM")]
    NotZim,
    /// A ZIM archive with something broken in it.
    #[error("tệp ZIM hỏng: {0}")]
    Damaged(String),
    /// A ZIM archive this reader cannot read.
    #[error("tệp ZIM dùng cách chưa hỗ trợ: {0}")]
    Unsupported(String),
    /// Something in it is larger than any real archive's.
    #[error("tệp ZIM có phần quá lớn: {0}")]
    TooLarge(String),
}

/// An open archive. Reads take `&self`; it can be shared between requests.
#[derive(Debug)]
pub struct Archive {
    source: Source,
    header: Header,
    mimes: Vec<String>,
    cache: Mutex<Cache>,
}

#[derive(Debug)]
struct Cache {
    clusters: lru::LruCache<u32, Arc<cluster::DecodedCluster>>,
    bytes: usize,
}

/// The articles a reader would browse or search: the front-article listing of new archives,
/// or the `A` namespace of old ones.
#[derive(Debug, Clone)]
pub enum Articles {
    /// A title-ordered listing of entry indices, `count` of them at archive offset `pos`.
    Listing {
        /// Archive offset of the first index.
        pos: u64,
        /// Number of indices.
        count: u32,
    },
    /// Every entry in this range of indices.
    Range(std::ops::Range<u32>),
}

impl Articles {
    /// How many there are.
    pub fn len(&self) -> u32 {
        match self {
            Articles::Listing { count, .. } => *count,
            Articles::Range(r) => r.end - r.start,
        }
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Archive {
    /// Opens `path`: a `.zim` file, or the first part (`.zimaa`) of a split archive, or a
    /// `.zim` name whose parts are beside it.
    pub fn open(path: &Path) -> Result<Archive, ZimError> {
        let name = path.to_string_lossy();
        let parts = if name.ends_with(".zimaa") {
            source::split_parts(path)
        } else if !path.exists() && Path::new(&format!("{name}aa")).is_file() {
            source::split_parts(Path::new(&format!("{name}aa")))
        } else {
            vec![path.to_path_buf()]
        };
        let pieces: Vec<source::Piece> = parts.into_iter().map(|p| (p, 0, None)).collect();
        Archive::from_source(Source::open(&pieces)?)
    }

    /// Opens an archive stored in pieces of one file, `(offset, length)` each, in order.
    pub fn open_ranges(path: &Path, ranges: &[(u64, u64)]) -> Result<Archive, ZimError> {
        let pieces: Vec<source::Piece> = ranges
            .iter()
            .map(|&(o, n)| (path.to_path_buf(), o, Some(n)))
            .collect();
        Archive::from_source(Source::open(&pieces)?)
    }

    /// Opens an archive embedded in a larger file, `len` bytes (the rest of the file if
    /// `None`) from `offset`.
    pub fn open_embedded(path: &Path, offset: u64, len: Option<u64>) -> Result<Archive, ZimError> {
        let len = match len {
            Some(n) => n,
            // The archive ends with its checksum, wherever the file around it ends.
            None => {
                let source = Source::open(&[(path.to_path_buf(), offset, None)])?;
                let mut head = [0u8; 80];
                let n = source.read_at(0, &mut head)?;
                if n < 80 || header::read_u64(&head, 56) != 80 {
                    return Err(ZimError::Damaged(
                        "không biết tệp ZIM nhúng dài bao nhiêu".into(),
                    ));
                }
                header::read_u64(&head, 72).saturating_add(16)
            }
        };
        Archive::from_source(Source::open(&[(path.to_path_buf(), offset, Some(len))])?)
    }

    /// An archive held in memory (tests and fuzzing; the server reads files).
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Archive, ZimError> {
        Archive::from_source(Source::memory(bytes))
    }

    fn from_source(source: Source) -> Result<Archive, ZimError> {
        let mut head = [0u8; 80];
        let n = source.read_at(0, &mut head)?;
        let header = Header::parse(&head[..n], source.len())?;
        let mimes = read_mimes(&source, &header)?;
        Ok(Archive {
            source,
            header,
            mimes,
            cache: Mutex::new(Cache {
                clusters: lru::LruCache::unbounded(),
                bytes: 0,
            }),
        })
    }

    /// The files it is read from (several for a split archive).
    pub fn paths(&self) -> &[PathBuf] {
        self.source.paths()
    }

    /// The archive's size in bytes.
    pub fn size(&self) -> u64 {
        self.source.len()
    }

    /// The archive's unique id, which a new edition of the same content changes.
    pub fn uuid(&self) -> [u8; 16] {
        self.header.uuid
    }

    /// Number of entries (content, metadata, indexes, redirects).
    pub fn entry_count(&self) -> u32 {
        self.header.entry_count
    }

    /// Whether the archive has the new layout (no namespaces in URLs).
    pub fn new_layout(&self) -> bool {
        self.header.new_layout()
    }

    /// The MIME type of MIME index `i`.
    pub fn mime(&self, i: u16) -> &str {
        self.mimes.get(i as usize).map_or("", String::as_str)
    }

    /// Entry `i`, in path order.
    pub fn dirent(&self, i: u32) -> Result<Dirent, ZimError> {
        let pos = self.dirent_pos(i)?;
        self.dirent_at(pos)
    }

    fn dirent_pos(&self, i: u32) -> Result<u64, ZimError> {
        if i >= self.header.entry_count {
            return Err(ZimError::Damaged(format!(
                "mục số {i}, tệp chỉ có {}",
                self.header.entry_count
            )));
        }
        let mut b = [0u8; 8];
        self.source
            .read_exact_at(self.header.path_ptr_pos + 8 * i as u64, &mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn dirent_at(&self, pos: u64) -> Result<Dirent, ZimError> {
        if pos < self.header.mime_list_pos || pos >= self.source.len() {
            return Err(ZimError::Damaged(format!("mục ở vị trí {pos}, ngoài tệp")));
        }
        let mut size = 256;
        loop {
            let mut buf = vec![0u8; size];
            let n = self.source.read_at(pos, &mut buf)?;
            if let Some(d) = Dirent::parse(&buf[..n], self.mimes.len())? {
                return Ok(d);
            }
            if n < size || size >= dirent::MAX_DIRENT {
                return Err(ZimError::Damaged(format!("mục ở vị trí {pos} bị cắt cụt")));
            }
            size = (size * 8).min(dirent::MAX_DIRENT);
        }
    }

    /// The index of the entry `namespace`/`path`, by binary search over the path order.
    pub fn find(&self, namespace: u8, path: &[u8]) -> Result<Option<u32>, ZimError> {
        let (mut lo, mut hi) = (0u32, self.header.entry_count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let d = self.dirent(mid)?;
            match (d.namespace, d.path.as_slice()).cmp(&(namespace, path)) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(Some(mid)),
            }
        }
        Ok(None)
    }

    /// The first index whose namespace is at least `namespace`.
    fn namespace_start(&self, namespace: u8) -> Result<u32, ZimError> {
        let (mut lo, mut hi) = (0u32, self.header.entry_count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.dirent(mid)?.namespace < namespace {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok(lo)
    }

    /// Entry `i` with its redirects followed: the index and entry of the content it leads to.
    pub fn resolve(&self, mut i: u32) -> Result<(u32, Dirent), ZimError> {
        for _ in 0..=MAX_REDIRECTS {
            let d = self.dirent(i)?;
            match d.target {
                Target::Redirect(to) => i = to,
                _ => return Ok((i, d)),
            }
        }
        Err(ZimError::Damaged(format!(
            "chuỗi chuyển hướng dài hơn {MAX_REDIRECTS} bước"
        )))
    }

    /// The entry a URL path within the collection names (`wiki/Lúa` in a new archive,
    /// `A/Lúa` in an old one), without following redirects.
    pub fn lookup(&self, url_path: &str) -> Result<Option<u32>, ZimError> {
        if self.new_layout() {
            return self.find(b'C', url_path.as_bytes());
        }
        match url_path.split_once('/') {
            Some((ns, path)) if ns.len() == 1 => self.find(ns.as_bytes()[0], path.as_bytes()),
            _ => Ok(None),
        }
    }

    /// The URL path of an entry within the collection, the inverse of [`Archive::lookup`].
    pub fn url_path(&self, d: &Dirent) -> String {
        let path = String::from_utf8_lossy(&d.path);
        if self.new_layout() {
            path.into_owned()
        } else {
            format!("{}/{path}", d.namespace as char)
        }
    }

    /// The main page's content entry, if the archive names one.
    pub fn main_page(&self) -> Result<Option<u32>, ZimError> {
        let start = match self.find(b'W', b"mainPage")? {
            Some(i) if self.new_layout() => Some(i),
            _ => self.header.main_page,
        };
        match start {
            Some(i) => Ok(Some(self.resolve(i)?.0)),
            None => Ok(None),
        }
    }

    /// Metadata value `key` (`Title`, `Language`, `Description`…), as text.
    pub fn metadata(&self, key: &str) -> Result<Option<String>, ZimError> {
        let Some(i) = self.find(b'M', key.as_bytes())? else {
            return Ok(None);
        };
        let (_, d) = self.resolve(i)?;
        let Target::Item { cluster, blob, .. } = d.target else {
            return Ok(None);
        };
        let blob = self.blob(cluster, blob)?;
        let bytes = self.read_blob(&blob, MAX_METADATA)?;
        Ok(Some(String::from_utf8_lossy(&bytes).trim().to_string()))
    }

    /// Where the bytes of blob `blob` of cluster `cluster` are.
    pub fn blob(&self, cluster: u32, blob: u32) -> Result<Blob, ZimError> {
        let c = self.cluster(cluster, blob)?;
        cluster::Cluster::blob(&c, &self.source, blob)
    }

    /// Cluster `n`, holding at least blob `blob`. A page asks for one article: the first ask
    /// decodes the cluster up to it; a later ask past it decodes the cluster whole, so that
    /// reading a cluster's articles in order (indexing) decodes it at most twice.
    fn cluster(&self, n: u32, blob: u32) -> Result<Arc<cluster::DecodedCluster>, ZimError> {
        let cached = self.lock_cache().clusters.get(&n).cloned();
        let upto = match cached {
            Some(c) if c.0.holds(blob) => return Ok(c),
            Some(_) => None,
            None => Some(blob),
        };
        if n >= self.header.cluster_count {
            return Err(ZimError::Damaged(format!(
                "mục trỏ tới cụm {n}, tệp chỉ có {}",
                self.header.cluster_count
            )));
        }
        let mut b = [0u8; 8];
        self.source
            .read_exact_at(self.header.cluster_ptr_pos + 8 * n as u64, &mut b)?;
        let pos = u64::from_le_bytes(b);
        if pos < self.header.mime_list_pos || pos >= self.source.len() {
            return Err(ZimError::Damaged(format!("cụm {n} ở vị trí ngoài tệp")));
        }
        // Decoded without the lock: two requests may decode the same cluster, neither waits.
        let c = Arc::new(cluster::DecodedCluster(cluster::Cluster::read(
            &self.source,
            pos,
            self.header.major,
            upto,
        )?));
        let size = c.0.memory();
        if size <= CACHE_BYTES / 2 {
            let mut cache = self.lock_cache();
            // A request that decoded less at the same time must not replace a longer prefix.
            let keep_old = cache
                .clusters
                .peek(&n)
                .is_some_and(|old| old.0.memory() > size);
            if !keep_old {
                if let Some(old) = cache.clusters.put(n, c.clone()) {
                    cache.bytes -= old.0.memory();
                }
                cache.bytes += size;
            }
            while cache.bytes > CACHE_BYTES {
                match cache.clusters.pop_lru() {
                    Some((_, old)) => cache.bytes -= old.0.memory(),
                    None => break,
                }
            }
        }
        Ok(c)
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        // The cache holds no invariant a panicking reader could break.
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The bytes of a blob, if it is at most `max` long.
    pub fn read_blob(&self, blob: &Blob, max: u64) -> Result<Vec<u8>, ZimError> {
        if blob.len() > max {
            return Err(ZimError::TooLarge(format!(
                "{} byte, quá {max} byte",
                blob.len()
            )));
        }
        Ok(match blob {
            Blob::Shared(c, r) => c.bytes(r.clone()).to_vec(),
            Blob::InFile { pos, len } => {
                let mut buf = vec![0u8; *len as usize];
                self.source.read_exact_at(*pos, &mut buf)?;
                buf
            }
        })
    }

    /// Reads up to `buf.len()` bytes of a blob from `offset` within it (for ranges of big
    /// files, which are stored uncompressed and read from the file piece by piece).
    pub fn read_blob_at(
        &self,
        blob: &Blob,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<usize, ZimError> {
        let left = blob.len().saturating_sub(offset);
        let n = (buf.len() as u64).min(left) as usize;
        match blob {
            Blob::Shared(c, r) => {
                let start = r.start + offset as usize;
                buf[..n].copy_from_slice(c.bytes(start..start + n));
            }
            Blob::InFile { pos, .. } => self.source.read_exact_at(pos + offset, &mut buf[..n])?,
        }
        Ok(n)
    }

    /// The articles: the front-article listing when the archive has one, else the `A`
    /// namespace (old layout) or the `C` namespace (new layout without a listing).
    pub fn articles(&self) -> Result<Articles, ZimError> {
        if self.new_layout()
            && let Some(i) = self.find(b'X', b"listing/titleOrdered/v1")?
            && let Target::Item { cluster, blob, .. } = self.dirent(i)?.target
            && let Blob::InFile { pos, len } = self.blob(cluster, blob)?
        {
            return Ok(Articles::Listing {
                pos,
                count: (len / 4).min(self.header.entry_count as u64) as u32,
            });
        }
        let ns = if self.new_layout() { b'C' } else { b'A' };
        Ok(Articles::Range(
            self.namespace_start(ns)?..self.namespace_start(ns + 1)?,
        ))
    }

    /// The entry index of article `k` of `articles`.
    pub fn article(&self, articles: &Articles, k: u32) -> Result<u32, ZimError> {
        match articles {
            Articles::Listing { pos, count } if k < *count => {
                let mut b = [0u8; 4];
                self.source.read_exact_at(pos + 4 * k as u64, &mut b)?;
                Ok(u32::from_le_bytes(b))
            }
            Articles::Range(r) if k < r.end - r.start => Ok(r.start + k),
            _ => Err(ZimError::Damaged(format!("bài số {k} ngoài danh sách"))),
        }
    }
}

/// The MIME type list after the header: NUL-terminated names ending with an empty one.
fn read_mimes(source: &Source, h: &Header) -> Result<Vec<String>, ZimError> {
    // libzim writes it in the first kilobyte; allow more, but not without end.
    let mut buf = vec![0u8; 16 * 1024];
    let n = source.read_at(h.mime_list_pos, &mut buf)?;
    let mut mimes = Vec::new();
    let mut at = 0;
    loop {
        let Some(len) = buf[at..n].iter().position(|&b| b == 0) else {
            return Err(ZimError::Damaged(
                "danh sách kiểu tệp không có điểm kết thúc".into(),
            ));
        };
        if len == 0 {
            return Ok(mimes);
        }
        let name = &buf[at..at + len];
        if !name.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
            return Err(ZimError::Damaged("danh sách kiểu tệp có ký tự lạ".into()));
        }
        mimes.push(String::from_utf8_lossy(name).into_owned());
        at += len + 1;
    }
}
