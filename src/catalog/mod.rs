//! The live library: the loaded materials with their search index and suggestions
//! ([`Catalog`]), the [`Librarian`] that loads it, swaps it after a change and knows when a
//! change on disk is really new, and the [`watch`]er of the library folders.

mod librarian;
pub mod watch;

use std::sync::{Arc, Mutex};

pub use librarian::Librarian;

use crate::content::{Library, Material, Source};
use crate::error::Result;
use crate::search::SearchIndex;
use crate::search::suggest::Suggester;

/// Rendered material bodies kept for reuse (a few KB each).
const RENDERED_PAGES: usize = 256;

/// A loaded library with its search index.
#[derive(Debug)]
pub struct Catalog {
    /// The materials and their files.
    pub library: Library,
    /// Full-text index over them.
    pub index: SearchIndex,
    /// Title suggestions.
    pub suggester: Suggester,
    /// Recently shown material bodies as HTML. Belongs to this catalogue, so a new catalogue
    /// (a changed library) starts with an empty cache.
    rendered: Mutex<lru::LruCache<String, Arc<str>>>,
    /// Lengths of recordings and videos (seconds), read once per catalogue.
    durations: Mutex<std::collections::HashMap<String, Option<u64>>>,
}

impl Catalog {
    /// Loads the library with an in-memory index (benchmarks and fuzzing).
    pub fn in_memory(source: Source) -> Result<Catalog> {
        let library = Library::load(source);
        let index = SearchIndex::in_memory(&library)?;
        Ok(Catalog::assemble(library, index))
    }

    /// A library with its index.
    pub fn assemble(library: Library, index: SearchIndex) -> Catalog {
        let suggester = Suggester::new(&library);
        Catalog {
            library,
            index,
            suggester,
            rendered: Mutex::new(lru::LruCache::new(
                std::num::NonZeroUsize::new(RENDERED_PAGES).unwrap_or(std::num::NonZeroUsize::MIN),
            )),
            durations: Mutex::default(),
        }
    }

    /// How long an attachment plays, in seconds, when it is a recording or a video whose
    /// headers say (blocking: the first time, the file's headers are read).
    pub fn duration(&self, a: &crate::content::Attachment) -> Option<u64> {
        if !matches!(a.kind(), "audio" | "video") {
            return None;
        }
        let lock = || {
            self.durations
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(d) = lock().get(&a.rel) {
            return *d;
        }
        let d = self
            .library
            .file(&a.rel)
            .and_then(|f| self.library.source().open(f).ok())
            .and_then(|blob| crate::content::media::duration_secs(blob, &a.rel));
        lock().insert(a.rel.clone(), d);
        d
    }

    /// A material's body as HTML, rendered once and then kept while it is popular.
    pub fn rendered_body(&self, m: &Material) -> Result<Arc<str>> {
        let lock = || {
            self.rendered
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        };
        if let Some(html) = lock().get(&m.id) {
            return Ok(html.clone());
        }
        // Rendered outside the lock: other pages are served meanwhile.
        let parsed = self.library.read(m)?;
        let html: Arc<str> = Arc::from(self.library.render(m, &parsed.body));
        lock().put(m.id.clone(), html.clone());
        Ok(html)
    }
}
