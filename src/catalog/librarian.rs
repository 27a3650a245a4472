//! The one keeper of the live catalogue: loads it at start, and after an edit, an import or a
//! change seen on disk loads the library again and re-indexes only what changed. It owns the
//! slot the web layer reads, and a cheap stamp of the library folders (names, sizes, times) so
//! that the watcher seeing the server's own write does not load everything a second time.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use super::Catalog;
use crate::content::Library;
use crate::content::Source;
use crate::content::centre::CentreLibrary;
use crate::error::Result;
use crate::search::{Opened, SearchIndex};

/// Keeps the catalogue in step with the library.
#[derive(Debug)]
pub struct Librarian {
    base: Source,
    centre: Option<CentreLibrary>,
    /// Where the index lives; `None` keeps it in memory.
    data_dir: Option<PathBuf>,
    /// One load at a time: the index has a single writer.
    lock: Mutex<()>,
    current: RwLock<Option<Arc<Catalog>>>,
    /// How many times a catalogue was installed (1 after start, +1 per reload).
    loads: AtomicU64,
    /// The folders' stamp when the current catalogue was read.
    stamp: Mutex<Option<u64>>,
    /// Whether the index had to be built in memory (the data folder would not take it).
    in_memory: AtomicBool,
}

impl Librarian {
    /// A librarian for `base`, with the centre's folder layered over it when there is one,
    /// and its index under `data_dir` (in memory without one).
    pub fn new(base: Source, centre: Option<CentreLibrary>, data_dir: Option<PathBuf>) -> Self {
        Librarian {
            base,
            centre,
            data_dir,
            lock: Mutex::new(()),
            current: RwLock::new(None),
            loads: AtomicU64::new(0),
            stamp: Mutex::new(None),
            in_memory: AtomicBool::new(false),
        }
    }

    /// Whether the index lives in memory for this run because the data folder could not
    /// hold it (read-only or full).
    pub fn index_in_memory(&self) -> bool {
        self.in_memory.load(Ordering::Relaxed)
    }

    /// The centre's writable library, if its folder could be opened.
    pub fn centre(&self) -> Option<&CentreLibrary> {
        self.centre.as_ref()
    }

    /// The library as served (the starter library without a centre folder).
    pub fn base(&self) -> &Source {
        &self.base
    }

    /// The current catalogue; `None` until the first load finishes.
    pub fn current(&self) -> Option<Arc<Catalog>> {
        self.current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// How many times a catalogue was installed since start.
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Relaxed)
    }

    /// The folders whose files make the library (watched for hand edits).
    pub fn folders(&self) -> Vec<PathBuf> {
        let mut out = Vec::new();
        collect_dirs(&self.base, &mut out);
        if let Some(c) = &self.centre {
            out.push(c.root().to_path_buf());
        }
        out
    }

    fn library(&self) -> Library {
        let manifest = self
            .data_dir
            .as_ref()
            .map(|d| crate::data_dir::DataDir::new(d).library_manifest());
        match (&self.centre, manifest) {
            (Some(centre), manifest) => centre.library(self.base.clone(), manifest.as_deref()),
            (None, Some(m)) => Library::load_cached(self.base.clone(), &Default::default(), &m),
            (None, None) => Library::load(self.base.clone()),
        }
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn install(&self, catalog: Catalog, stamp: u64) {
        *self
            .current
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(catalog));
        *self
            .stamp
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(stamp);
        self.loads.fetch_add(1, Ordering::Relaxed);
    }

    /// Loads the library and opens or builds its index, then installs the catalogue
    /// (blocking: run it off the async workers).
    pub fn load(&self) -> Result<Opened> {
        let _one = self.guard();
        let library = self.library();
        // Taken when listing, before reading: a change made while reading shows as a new
        // stamp later.
        let stamp = library.listing_stamp();
        let (index, opened) = match &self.data_dir {
            Some(dir) => match SearchIndex::open_or_build(dir, &library) {
                Ok(opened) => opened,
                // Searching matters more than keeping the index: a read-only or full memory
                // card still gets a working search, rebuilt at every start until it is fixed.
                Err(e) => match SearchIndex::open_read_only(dir, &library) {
                    Ok(index) => {
                        tracing::warn!(error = %e, "the data folder takes no writes; searching its index read-only");
                        (index, Opened::Reused)
                    }
                    Err(reason) => {
                        tracing::error!(error = %e, %reason, "the search index cannot be opened or written in the data folder; building it in memory for this run");
                        self.in_memory.store(true, Ordering::Relaxed);
                        let reason = format!("in memory, the data folder would not take it ({e})");
                        (SearchIndex::in_memory(&library)?, Opened::Built { reason })
                    }
                },
            },
            None => (SearchIndex::in_memory(&library)?, Opened::Reused),
        };
        self.install(Catalog::assemble(library, index), stamp);
        crate::memory::give_back();
        Ok(opened)
    }

    /// Loads the library again and brings the index up to date (blocking). Returns how many
    /// materials were re-indexed or dropped.
    pub fn reload(&self) -> Result<usize> {
        self.reload_stamped(None)
    }

    /// [`Librarian::reload`] with the folders' stamp already taken (the watcher's check), so
    /// the folders are not walked twice.
    fn reload_stamped(&self, stamp: Option<u64>) -> Result<usize> {
        let Some(current) = self.current() else {
            return self.load().map(|_| 0);
        };
        let _one = self.guard();
        // Another reload may have finished while this one waited.
        let current = self.current().unwrap_or(current);
        let stamp = stamp.unwrap_or_else(|| self.stamp_now());
        let library = self.library();
        let touched = current.index.update(&current.library, &library)?;
        tracing::info!(
            materials = library.materials().len(),
            reindexed = touched,
            problems = library.problems().len(),
            "library reloaded"
        );
        self.install(Catalog::assemble(library, current.index.clone()), stamp);
        drop(current);
        crate::memory::give_back();
        Ok(touched)
    }

    /// Reloads only when the folders differ from what the current catalogue was read from
    /// (the watcher calls this: most events it sees are the server's own saves, already
    /// loaded). `None` when nothing had changed.
    pub fn reload_if_changed(&self) -> Result<Option<usize>> {
        let known = *self
            .stamp
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = self.stamp_now();
        if self.current().is_some() && known == Some(now) {
            return Ok(None);
        }
        self.reload_stamped(Some(now)).map(Some)
    }

    /// What listing the library folders says now (names, sizes, times and the hidden list),
    /// hashed as [`Library::listing_stamp`]: cheap next to reading every file, and changed by
    /// any edit.
    fn stamp_now(&self) -> u64 {
        let (source, hidden) = match &self.centre {
            Some(c) => (c.over(self.base.clone()), c.hidden().unwrap_or_default()),
            None => (self.base.clone(), Default::default()),
        };
        crate::content::source::listing_stamp(&source.list().0, &hidden)
    }
}

fn collect_dirs(source: &Source, out: &mut Vec<PathBuf>) {
    match source {
        Source::Embedded => {}
        Source::Dir(d) => out.push(d.clone()),
        Source::Layered(layers) => layers.iter().for_each(|l| collect_dirs(l, out)),
    }
}
