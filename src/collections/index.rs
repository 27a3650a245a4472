//! Indexing a collection's articles for search, a batch at a time, so that a 1.6 million
//! article Wikipedia is indexed on a small box without running out of memory and without
//! starting again after a power cut.
//!
//! Articles are read in cluster order (each cluster is decoded once, not once per article) and
//! committed every [`BATCH`] articles with the position reached in the commit's payload: a
//! tantivy commit is atomic, so after a crash the index holds exactly the articles before the
//! last payload, and indexing goes on from there. What is committed is searchable meanwhile.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::Collection;
use super::text;
use crate::zim::{Archive, Target};

/// Articles per commit.
pub const BATCH: u32 = 1000;
/// Text of one article indexed at most (Wikipedia's longest articles are ~300 KB of text).
const MAX_TEXT: usize = 256 * 1024;
/// HTML of one article read at most.
const MAX_HTML: u64 = 8 * 1024 * 1024;

/// What a commit records: which archive, and how far the reading order is done.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
struct Payload {
    uuid: String,
    done: u32,
    total: u32,
}

/// How far a collection's indexing is.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Progress {
    /// Articles indexed (or skipped as unreadable).
    pub done: u32,
    /// Articles to index.
    pub total: u32,
    /// Articles a second in the last run, if it indexed any.
    pub rate: f64,
}

impl Progress {
    /// Whether every article is indexed.
    pub fn complete(&self) -> bool {
        self.done >= self.total
    }

    /// Seconds left at the last rate.
    pub fn seconds_left(&self) -> Option<u64> {
        (self.rate > 0.0).then(|| (self.total.saturating_sub(self.done) as f64 / self.rate) as u64)
    }
}

/// The index folder of `c` under `root` (`DATA/zim-index`): a new edition (another uuid) or
/// a new index format gets a folder of its own.
pub fn index_dir(root: &Path, c: &Collection) -> PathBuf {
    root.join(format!(
        "{}-{}-v{}",
        c.name,
        crate::content::hex(&c.archive.uuid()[..8]),
        crate::search::SCHEMA_VERSION
    ))
}

/// The articles to index, in the order they are read: HTML items by cluster and blob. It reads
/// the whole directory: callers that index in slices keep it between them.
pub fn reading_order(zim: &Archive) -> crate::Result<Vec<u32>> {
    let articles = zim.articles()?;
    let mut items: Vec<(u32, u32, u32)> = Vec::with_capacity(articles.len() as usize);
    for k in 0..articles.len() {
        let i = zim.article(&articles, k)?;
        // Redirects are other names of the article they lead to, which is indexed itself.
        if let Target::Item {
            mime,
            cluster,
            blob,
        } = zim.dirent(i)?.target
            && zim.mime(mime).starts_with("text/html")
        {
            items.push((cluster, blob, i));
        }
    }
    items.sort_unstable();
    Ok(items.into_iter().map(|t| t.2).collect())
}

/// How far the index in `dir` is, from its last commit.
pub fn progress(dir: &Path) -> Option<Progress> {
    let index = tantivy::Index::open_in_dir(dir).ok()?;
    let p = payload(&index)?;
    Some(Progress {
        done: p.done,
        total: p.total,
        rate: 0.0,
    })
}

fn payload(index: &tantivy::Index) -> Option<Payload> {
    let metas = index.load_metas().ok()?;
    serde_json::from_str(metas.payload.as_deref()?).ok()
}

/// Indexes `c`'s articles into `dir` from where the last commit stopped, until all are done,
/// `time` has passed or `stop` is set; commits every [`BATCH`] articles. Blocking.
pub fn index_some(
    c: &Collection,
    dir: &Path,
    time: Duration,
    stop: &AtomicBool,
) -> crate::Result<Progress> {
    index_with(c, dir, &reading_order(&c.archive)?, time, stop)
}

/// [`index_some`] with the collection's [`reading_order`] already read.
pub fn index_with(
    c: &Collection,
    dir: &Path,
    order: &[u32],
    time: Duration,
    stop: &AtomicBool,
) -> crate::Result<Progress> {
    let started = Instant::now();
    let uuid = crate::content::hex(&c.archive.uuid());
    let (index, fields, mut writer) = crate::search::shelf_index(dir)?;
    let mut at = match payload(&index) {
        Some(p) if p.uuid == uuid => p,
        _ => Payload {
            uuid: uuid.clone(),
            done: 0,
            total: 0,
        },
    };
    at.total = order.len() as u32;
    let first = at.done;
    let mut since_commit = 0;
    for &entry in order.iter().skip(at.done as usize) {
        if stop.load(Ordering::Relaxed) || started.elapsed() >= time {
            break;
        }
        if let Some(doc) = article_document(c, &fields, entry) {
            writer.add_document(doc)?;
        }
        at.done += 1;
        since_commit += 1;
        if since_commit == BATCH {
            commit(&mut writer, &at)?;
            since_commit = 0;
        }
    }
    if since_commit > 0 || at.done == 0 {
        commit(&mut writer, &at)?;
    }
    let _ = writer.wait_merging_threads();
    let secs = started.elapsed().as_secs_f64();
    Ok(Progress {
        done: at.done,
        total: at.total,
        rate: if secs > 0.0 {
            f64::from(at.done - first) / secs
        } else {
            0.0
        },
    })
}

fn commit(writer: &mut tantivy::IndexWriter, at: &Payload) -> crate::Result<()> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&serde_json::to_string(at).unwrap_or_default());
    prepared.commit()?;
    Ok(())
}

/// The indexed document of article `entry`, or `None` when it cannot be read (logged; the
/// rest of the collection is indexed).
fn article_document(
    c: &Collection,
    fields: &crate::search::Fields,
    entry: u32,
) -> Option<tantivy::TantivyDocument> {
    let zim = &c.archive;
    let read = || -> Result<(String, String, text::ArticleText), crate::zim::ZimError> {
        let d = zim.dirent(entry)?;
        let Target::Item { cluster, blob, .. } = d.target else {
            return Err(crate::zim::ZimError::Damaged("không phải bài".into()));
        };
        let b = zim.blob(cluster, blob)?;
        let html = zim.read_blob(&b, MAX_HTML)?;
        let title = String::from_utf8_lossy(&d.title).into_owned();
        Ok((zim.url_path(&d), title, text::extract(&html, MAX_TEXT)))
    };
    match read() {
        Ok((url, title, article)) => {
            let title = if title.is_empty() {
                article.title
            } else {
                title
            };
            let sections: Vec<(usize, &str)> = article
                .sections
                .iter()
                .map(|(at, id)| (*at, id.as_str()))
                .collect();
            Some(crate::search::document(
                fields,
                &url,
                "zim",
                &title,
                &article.text,
                &sections,
            ))
        }
        Err(e) => {
            tracing::warn!(collection = %c.name, entry, error = %e, "ZIM article not indexed");
            None
        }
    }
}
