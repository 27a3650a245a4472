//! Collections: the ZIM files in `DATA/zim/`, each one more shelf of the library (served at
//! `/z/{name}/…`). The folder is looked at again every few seconds; a file copied in appears,
//! a file removed disappears, a damaged one is listed with its reason and never served.
//!
//! Opening checks an archive's header only, so a 1.5 GB Wikipedia is served at once; the
//! whole-archive check (directory, clusters, MD5) runs in the background, once per file: its
//! outcome is kept in `DATA/zim/.checked.json` by size, modification time and uuid.

pub mod index;
pub mod search;
pub mod text;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::content::encode_path;
use crate::zim::{Archive, ZimError};

/// Where the check outcomes are kept, in the collections folder.
const CHECKED_FILE: &str = ".checked.json";

/// One ZIM file being served.
#[derive(Debug)]
pub struct Collection {
    /// Its name in URLs (`/z/{name}/`), from the file name.
    pub name: String,
    /// The file (the first part of a split archive).
    pub file: PathBuf,
    /// The archive's own title, or the file name.
    pub title: String,
    /// The archive's description.
    pub description: String,
    /// Its languages (ISO 639-3, as the archive says).
    pub language: String,
    /// The URL path of its main page, if it has one.
    pub main: Option<String>,
    /// Number of articles.
    pub articles: u32,
    /// The open archive.
    pub archive: Arc<Archive>,
    stamp: Stamp,
}

impl Collection {
    /// The URL of the entry at `path`.
    pub fn url_of(&self, path: &str) -> String {
        format!("/z/{}/{}", self.name, encode_path(path))
    }

    /// The URL of its main page (or of the collection).
    pub fn url(&self) -> String {
        match &self.main {
            Some(m) => self.url_of(m),
            None => format!("/z/{}/", self.name),
        }
    }
}

/// What identifies a file's content without reading it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Stamp {
    size: u64,
    modified: u64,
}

/// A file that is not served, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// The file's name in the folder.
    pub file: String,
    /// Why.
    pub reason: String,
}

/// The outcome of a whole-archive check, kept across restarts.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Outcome {
    size: u64,
    modified: u64,
    uuid: String,
    /// `None`: sound.
    error: Option<String>,
}

/// The collections folder and what is served from it.
#[derive(Debug)]
pub struct Shelf {
    dir: PathBuf,
    served: RwLock<Vec<Arc<Collection>>>,
    refused: RwLock<Vec<Refused>>,
    /// Collections whose whole-archive check has not run yet.
    unchecked: RwLock<Vec<String>>,
    /// Where the collections' search indexes are (`DATA/zim-index`).
    index_root: PathBuf,
    /// How far each collection's index is.
    progress: RwLock<BTreeMap<String, index::Progress>>,
    /// Reading orders of collections being indexed, by index folder (one per edition), kept
    /// between slices: reading one walks the whole directory.
    orders: RwLock<BTreeMap<PathBuf, Arc<Vec<u32>>>>,
    /// Collections' indexes opened for searching, by folder.
    searchers: RwLock<BTreeMap<PathBuf, crate::search::SearchIndex>>,
}

impl Shelf {
    /// A shelf over `dir` (`DATA/zim`) with its indexes in `index_root`, empty until
    /// [`Shelf::rescan`].
    pub fn new(dir: impl Into<PathBuf>, index_root: impl Into<PathBuf>) -> Shelf {
        Shelf {
            dir: dir.into(),
            served: RwLock::new(Vec::new()),
            refused: RwLock::new(Vec::new()),
            unchecked: RwLock::new(Vec::new()),
            index_root: index_root.into(),
            progress: RwLock::new(BTreeMap::new()),
            searchers: RwLock::new(BTreeMap::new()),
            orders: RwLock::new(BTreeMap::new()),
        }
    }

    /// How far the search index of collection `name` is.
    pub fn progress(&self, name: &str) -> Option<index::Progress> {
        read(&self.progress).get(name).copied()
    }

    /// The index folder of a collection.
    pub fn index_dir(&self, c: &Collection) -> PathBuf {
        index::index_dir(&self.index_root, c)
    }

    /// Indexes the first checked collection whose index is not complete, for at most `time`
    /// or until `stop`. Returns whether there was one. Blocking.
    pub fn index_next(
        &self,
        time: std::time::Duration,
        stop: &std::sync::atomic::AtomicBool,
    ) -> bool {
        let unchecked = self.unchecked();
        let next = self.list().into_iter().find(|c| {
            !unchecked.contains(&c.name) && self.progress(&c.name).is_none_or(|p| !p.complete())
        });
        let Some(c) = next else {
            return false;
        };
        let dir = self.index_dir(&c);
        let order = match read(&self.orders).get(&dir).cloned() {
            Some(o) => Ok(o),
            None => index::reading_order(&c.archive).map(Arc::new),
        };
        let indexed = order.and_then(|order| {
            write(&self.orders).insert(dir.clone(), Arc::clone(&order));
            index::index_with(&c, &dir, &order, time, stop)
        });
        match indexed {
            Ok(p) => {
                if p.complete() {
                    write(&self.orders).remove(&dir);
                }
                tracing::info!(
                    collection = %c.name,
                    done = p.done,
                    total = p.total,
                    rate = format!("{:.0}/s", p.rate),
                    seconds_left = p.seconds_left().unwrap_or(0),
                    "indexing ZIM collection"
                );
                write(&self.progress).insert(c.name.clone(), p);
                true
            }
            Err(e) => {
                // Not retried until the file changes or the box restarts.
                tracing::error!(collection = %c.name, error = %e, "ZIM collection cannot be indexed");
                write(&self.progress).insert(
                    c.name.clone(),
                    index::Progress {
                        done: u32::MAX,
                        total: 0,
                        rate: 0.0,
                    },
                );
                false
            }
        }
    }

    /// Index folders of collections no longer served are removed; the served ones' progress
    /// is read from their last commit.
    fn tidy_indexes(&self) {
        let served = self.list();
        let keep: Vec<PathBuf> = served.iter().map(|c| self.index_dir(c)).collect();
        self.close_searchers(&keep);
        if let Ok(entries) = std::fs::read_dir(&self.index_root) {
            for e in entries.flatten() {
                let p = e.path();
                if p.is_dir()
                    && !keep.contains(&p)
                    && let Err(err) = std::fs::remove_dir_all(&p)
                {
                    tracing::warn!(dir = %p.display(), error = %err, "old ZIM index not removed");
                }
            }
        }
        write(&self.orders).retain(|dir, _| keep.contains(dir));
        let mut progress = write(&self.progress);
        progress.retain(|name, _| served.iter().any(|c| c.name == *name));
        for c in &served {
            if !progress.contains_key(&c.name)
                && let Some(p) = index::progress(&self.index_dir(c))
            {
                progress.insert(c.name.clone(), p);
            }
        }
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The collections served, in name order.
    pub fn list(&self) -> Vec<Arc<Collection>> {
        read(&self.served).clone()
    }

    /// The collection named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Collection>> {
        read(&self.served).iter().find(|c| c.name == name).cloned()
    }

    /// (name, title) of each archive in `dir` that opens, as a report names them; reads
    /// headers and metadata only, and changes nothing (for the command line, beside a server).
    pub fn titles_in(dir: &Path) -> Vec<(String, String)> {
        let mut names = Vec::new();
        let mut out = Vec::new();
        for (file, stamp) in archive_files(dir) {
            if let Ok(c) = open(&file, stamp, &names) {
                names.push(c.name.clone());
                out.push((c.name.clone(), c.title.clone()));
            }
        }
        out
    }

    /// Files in the folder that are not served, with their reasons.
    pub fn refused(&self) -> Vec<Refused> {
        read(&self.refused).clone()
    }

    /// Names of collections served but not yet checked whole.
    pub fn unchecked(&self) -> Vec<String> {
        read(&self.unchecked).clone()
    }

    /// Looks at the folder again: opens new and changed files, drops removed ones. Returns
    /// whether anything changed. Blocking (reads headers).
    pub fn rescan(&self) -> bool {
        let found = archive_files(&self.dir);
        let checked = self.load_checked();
        let before: Vec<(PathBuf, Stamp)> = read(&self.served)
            .iter()
            .map(|c| (c.file.clone(), c.stamp.clone()))
            .collect();
        let mut served = Vec::new();
        let mut refused = Vec::new();
        let mut unchecked = Vec::new();
        let mut names: Vec<String> = Vec::new();
        for (file, stamp) in found {
            let file_name = file_name(&file);
            let known = read(&self.served)
                .iter()
                .find(|c| c.file == file && c.stamp == stamp)
                .cloned();
            let opened = match known {
                Some(c) => Ok(c),
                None => open(&file, stamp.clone(), &names),
            };
            match opened {
                Ok(c) => {
                    let outcome = checked
                        .get(&file_name)
                        .filter(|o| o.size == stamp.size && o.modified == stamp.modified)
                        .filter(|o| o.uuid == hex_uuid(&c.archive));
                    match outcome.map(|o| &o.error) {
                        Some(Some(e)) => refused.push(Refused {
                            file: file_name,
                            reason: e.clone(),
                        }),
                        Some(None) => {
                            names.push(c.name.clone());
                            served.push(c);
                        }
                        None => {
                            names.push(c.name.clone());
                            unchecked.push(c.name.clone());
                            served.push(c);
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(file = %file.display(), error = %e, "ZIM file not served");
                    refused.push(Refused {
                        file: file_name,
                        reason: e.to_string(),
                    });
                }
            }
        }
        served.sort_by(|a, b| a.name.cmp(&b.name));
        let after: Vec<(PathBuf, Stamp)> = served
            .iter()
            .map(|c| (c.file.clone(), c.stamp.clone()))
            .collect();
        let changed = after != before || *read(&self.refused) != refused;
        for c in &served {
            if !before.iter().any(|b| b.0 == c.file) {
                tracing::info!(collection = %c.name, title = %c.title, articles = c.articles, "ZIM collection added");
            }
        }
        *write(&self.served) = served;
        *write(&self.refused) = refused;
        *write(&self.unchecked) = unchecked;
        self.tidy_indexes();
        changed
    }

    /// Runs the whole-archive check of one unchecked collection, if any; a damaged one stops
    /// being served. Returns whether one was checked. Blocking (reads the whole file).
    pub fn check_next(&self) -> bool {
        let Some(name) = read(&self.unchecked).first().cloned() else {
            return false;
        };
        let Some(c) = self.get(&name) else {
            write(&self.unchecked).retain(|n| *n != name);
            return true;
        };
        let started = std::time::Instant::now();
        let result = c.archive.verify(|_, _| {});
        let error = result.as_ref().err().map(ZimError::to_string);
        match &error {
            None => {
                tracing::info!(collection = %name, ms = started.elapsed().as_millis() as u64, "ZIM collection checked whole")
            }
            Some(e) => {
                tracing::warn!(collection = %name, error = %e, "ZIM collection is damaged; no longer served")
            }
        }
        let mut checked = self.load_checked();
        checked.insert(
            file_name(&c.file),
            Outcome {
                size: c.stamp.size,
                modified: c.stamp.modified,
                uuid: hex_uuid(&c.archive),
                error: error.clone(),
            },
        );
        self.save_checked(&checked);
        write(&self.unchecked).retain(|n| *n != name);
        if let Some(e) = error {
            write(&self.served).retain(|s| s.name != name);
            write(&self.refused).push(Refused {
                file: file_name(&c.file),
                reason: e,
            });
        }
        true
    }

    fn load_checked(&self) -> BTreeMap<String, Outcome> {
        std::fs::read(self.dir.join(CHECKED_FILE))
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    fn save_checked(&self, checked: &BTreeMap<String, Outcome>) {
        let Ok(json) = serde_json::to_vec_pretty(checked) else {
            return;
        };
        // Losing this file only means checking again: not worth failing anything for.
        if let Err(e) = crate::fsutil::write_atomic(&self.dir.join(CHECKED_FILE), &json) {
            tracing::warn!(error = %e, "cannot keep the ZIM check outcomes; they will run again");
        }
    }
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
}

fn hex_uuid(a: &Archive) -> String {
    crate::content::hex(&a.uuid())
}

/// The archives in `dir`: `.zim` files and the first parts (`.zimaa`) of split ones, with
/// their stamps (a split archive's is its parts' total size and latest change).
fn archive_files(dir: &Path) -> Vec<(PathBuf, Stamp)> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let n = file_name(p);
            !n.starts_with('.') && (n.ends_with(".zim") || n.ends_with(".zimaa"))
        })
        .collect();
    found.sort();
    found
        .into_iter()
        .filter_map(|p| {
            let parts = if file_name(&p).ends_with(".zimaa") {
                crate::zim::split_parts(&p)
            } else {
                vec![p.clone()]
            };
            let mut stamp = Stamp {
                size: 0,
                modified: 0,
            };
            for part in &parts {
                let m = std::fs::metadata(part).ok()?;
                stamp.size += m.len();
                let t = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs());
                stamp.modified = stamp.modified.max(t);
            }
            Some((p, stamp))
        })
        .collect()
}

/// A URL name from a file name: letters, digits, `-`, `_` and `.` kept, the rest `-`; a name
/// already taken gets `-2`, `-3`…
fn url_name(file: &Path, taken: &[String]) -> String {
    let n = file_name(file);
    let stem = n
        .strip_suffix(".zimaa")
        .or_else(|| n.strip_suffix(".zim"))
        .unwrap_or(&n);
    let mut name: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '-'
            }
        })
        .collect();
    if name.is_empty() || name.starts_with('.') {
        name.insert_str(0, "zim");
    }
    let base = name.clone();
    let mut k = 2;
    while taken.contains(&name) {
        name = format!("{base}-{k}");
        k += 1;
    }
    name
}

fn open(file: &Path, stamp: Stamp, taken: &[String]) -> Result<Arc<Collection>, ZimError> {
    let archive = Archive::open(file)?;
    let meta = |k: &str| archive.metadata(k).ok().flatten().unwrap_or_default();
    let main = archive
        .main_page()?
        .map(|i| archive.dirent(i).map(|d| archive.url_path(&d)))
        .transpose()?;
    let articles = archive.articles()?.len();
    let name = url_name(file, taken);
    let title = match meta("Title") {
        t if t.is_empty() => name.clone(),
        t => t,
    };
    Ok(Arc::new(Collection {
        name,
        file: file.to_path_buf(),
        title,
        description: meta("Description"),
        language: meta("Language"),
        main,
        articles,
        archive: Arc::new(archive),
        stamp,
    }))
}
