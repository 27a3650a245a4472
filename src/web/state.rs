//! Shared state of the web layer: the catalogue, its index and suggestions, once they are ready.
//!
//! The server accepts connections before the index is built; until then pages answer 503.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use crate::content::centre::CentreLibrary;
use crate::content::{Library, Source};
use crate::error::Result;
use crate::search::suggest::Suggester;
use crate::search::{Opened, SearchIndex};
use crate::usage::{Recorder, UsageEvent};

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
}

impl Catalog {
    /// Loads the library with an in-memory index (tests).
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
        }
    }

    /// A material's body as HTML, rendered once and then kept while it is popular.
    pub fn rendered_body(&self, m: &crate::content::Material) -> crate::Result<Arc<str>> {
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

/// Keeps the catalogue in step with the library: loads it at start, and after an edit, an
/// import or a change seen on disk loads it again and re-indexes only what changed.
#[derive(Debug)]
pub struct Librarian {
    base: Source,
    centre: Option<CentreLibrary>,
    /// Where the index lives; `None` keeps it in memory (tests).
    data_dir: Option<PathBuf>,
    /// One load at a time: the index has a single writer.
    lock: Mutex<()>,
}

impl Librarian {
    /// A librarian for `base`, with the centre's folder layered over it when given.
    pub fn new(base: Source, centre: Option<CentreLibrary>, data_dir: Option<PathBuf>) -> Self {
        Librarian {
            base,
            centre,
            data_dir,
            lock: Mutex::new(()),
        }
    }

    /// The centre's writable library, if there is one.
    pub fn centre(&self) -> Option<&CentreLibrary> {
        self.centre.as_ref()
    }

    fn library(&self) -> Library {
        let Some(centre) = &self.centre else {
            return Library::load(self.base.clone());
        };
        let hidden = centre.hidden().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "library settings unreadable; nothing hidden");
            Default::default()
        });
        Library::load_hiding(centre.over(self.base.clone()), &hidden)
    }

    fn guard(&self) -> std::sync::MutexGuard<'_, ()> {
        self.lock
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Loads the library and opens or builds its index, then installs the catalogue
    /// (blocking: run it off the async workers).
    pub fn load(&self, state: &AppState) -> Result<Opened> {
        let _one = self.guard();
        let library = self.library();
        let (index, opened) = match &self.data_dir {
            Some(dir) => SearchIndex::open_or_build(dir, &library)?,
            None => (SearchIndex::in_memory(&library)?, Opened::Reused),
        };
        state.set_catalog(Catalog::assemble(library, index));
        Ok(opened)
    }

    /// Loads the library again and brings the index up to date (blocking). Returns how many
    /// materials were re-indexed or dropped.
    pub fn reload(&self, state: &AppState) -> Result<usize> {
        let Some(current) = state.catalog() else {
            return self.load(state).map(|_| 0);
        };
        let _one = self.guard();
        // Another reload may have finished while this one waited.
        let current = state.catalog().unwrap_or(current);
        let library = self.library();
        let touched = current.index.update(&current.library, &library)?;
        tracing::info!(
            materials = library.materials().len(),
            reindexed = touched,
            problems = library.problems().len(),
            "library reloaded"
        );
        state.set_catalog(Catalog::assemble(library, current.index.clone()));
        Ok(touched)
    }
}

/// The usage log as the web layer sees it: a recorder for events and a connection for
/// profiles and reports.
#[derive(Clone, Debug)]
pub struct Usage {
    /// Queues events for the writer thread.
    pub recorder: Recorder,
    /// The clock events are stamped with (phones correct it).
    pub clock: Arc<crate::clock::Clock>,
    /// A connection of its own (WAL lets it read while the writer writes).
    pub db: Arc<Mutex<rusqlite::Connection>>,
}

/// Cheap to clone; handed to every handler.
#[derive(Clone, Debug, Default)]
pub struct AppState {
    catalog: Arc<RwLock<Option<Arc<Catalog>>>>,
    usage: Option<Usage>,
    centre: Option<Arc<str>>,
    /// Failed logins per client address, in memory only (addresses are never stored).
    pub login_limiter: Arc<crate::web::staff::auth::LoginLimiter>,
    /// Searches running at once: one per core, the rest wait in order, so that under load
    /// every request waits about as long instead of the unlucky ones waiting far longer.
    pub search_permits: SearchPermits,
    librarian: Option<Arc<Librarian>>,
    lessons: Option<crate::lessons::LessonStore>,
    /// Largest upload accepted, if not the default.
    upload_limit: Option<usize>,
    /// A checked package waiting for the staff member to confirm it.
    pub pending_import: Arc<crate::web::staff::packages::PendingSlot>,
    /// How many times a catalogue was installed (1 after start, +1 per reload).
    loads: Arc<std::sync::atomic::AtomicU64>,
    settings: Arc<crate::settings::Settings>,
    listen_addr: Option<std::net::SocketAddr>,
}

/// The permits for concurrent searches (one per core).
#[derive(Debug, Clone)]
pub struct SearchPermits(pub Arc<tokio::sync::Semaphore>);

impl Default for SearchPermits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        SearchPermits(Arc::new(tokio::sync::Semaphore::new(cores)))
    }
}

impl AppState {
    /// State with no catalogue yet (pages answer 503 until [`AppState::set_catalog`]).
    pub fn starting() -> AppState {
        AppState::default()
    }

    /// State with a ready catalogue.
    pub fn ready(catalog: Catalog) -> AppState {
        let s = AppState::default();
        s.set_catalog(catalog);
        s
    }

    /// Adds the usage log.
    pub fn with_usage(mut self, usage: Usage) -> AppState {
        self.usage = Some(usage);
        self
    }

    /// Adds the librarian that (re)loads the catalogue.
    pub fn with_librarian(mut self, librarian: Librarian) -> AppState {
        self.librarian = Some(Arc::new(librarian));
        self
    }

    /// The librarian, when the library can change while serving.
    pub fn librarian(&self) -> Option<Arc<Librarian>> {
        self.librarian.clone()
    }

    /// Sets the largest upload accepted (default [`crate::web::staff::materials::MAX_UPLOAD_BYTES`]).
    pub fn with_upload_limit(mut self, bytes: usize) -> AppState {
        self.upload_limit = Some(bytes);
        self
    }

    /// The largest upload accepted.
    pub fn upload_limit(&self) -> usize {
        self.upload_limit
            .unwrap_or(crate::web::staff::materials::MAX_UPLOAD_BYTES)
    }

    /// Adds the lessons folder.
    pub fn with_lessons(mut self, lessons: crate::lessons::LessonStore) -> AppState {
        self.lessons = Some(lessons);
        self
    }

    /// The lessons folder, when there is a data folder.
    pub fn lessons(&self) -> Option<&crate::lessons::LessonStore> {
        self.lessons.as_ref()
    }

    /// Runs `f` on the lessons folder off the async workers; 503 without one.
    pub async fn with_lessons_store<T: Send + 'static>(
        &self,
        f: impl FnOnce(
            &crate::lessons::LessonStore,
        ) -> std::result::Result<T, crate::lessons::LessonError>
        + Send
        + 'static,
    ) -> std::result::Result<T, crate::web::AppError> {
        let store = self.lessons.clone().ok_or(crate::web::AppError::Starting)?;
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(crate::Error::from)?
            .map_err(|e| match e {
                crate::lessons::LessonError::Invalid(m) => crate::web::AppError::BadRequest(m),
                other => crate::web::AppError::Internal(crate::Error::Io(std::io::Error::other(
                    other.to_string(),
                ))),
            })
    }

    /// The centre's own library folder, when the library can change while serving.
    pub fn centre_library(&self) -> Option<CentreLibrary> {
        self.librarian.as_ref().and_then(|l| l.centre().cloned())
    }

    /// Reloads the library after a change, off the async workers.
    pub async fn reload_library(&self) -> Result<usize> {
        let Some(librarian) = self.librarian() else {
            return Ok(0);
        };
        let state = self.clone();
        tokio::task::spawn_blocking(move || librarian.reload(&state)).await?
    }

    /// Sets the box's settings (commune, district, mDNS) and the address it listens on.
    pub fn with_settings(
        mut self,
        settings: crate::settings::Settings,
        listen_addr: std::net::SocketAddr,
    ) -> AppState {
        self.settings = Arc::new(settings);
        self.listen_addr = Some(listen_addr);
        self
    }

    /// The box's settings (defaults in tests).
    pub fn settings(&self) -> Arc<crate::settings::Settings> {
        Arc::clone(&self.settings)
    }

    /// The address the server listens on, once known.
    pub fn listen_addr(&self) -> Option<std::net::SocketAddr> {
        self.listen_addr
    }

    /// Sets the centre's name.
    pub fn with_centre(mut self, name: &str) -> AppState {
        self.centre = Some(Arc::from(name));
        self
    }

    /// The centre's name, shown on pages and reports.
    pub fn centre(&self) -> &str {
        self.centre
            .as_deref()
            .unwrap_or("Trung tâm học tập cộng đồng")
    }

    /// The usage log, when one is open.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// Runs `f` on the database connection off the async workers; `None` when no database
    /// is open (the server then serves without counting).
    pub async fn with_db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<Option<T>, crate::web::AppError> {
        let Some(usage) = self.usage() else {
            return Ok(None);
        };
        let db = Arc::clone(&usage.db);
        let out = tokio::task::spawn_blocking(move || {
            let conn = db.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&conn)
        })
        .await
        .map_err(crate::Error::from)?
        .map_err(|e| crate::web::AppError::Internal(crate::Error::Usage(e)))?;
        Ok(Some(out))
    }

    /// A new event happening now, stamped by the server's clock (or the system's, without a
    /// usage log).
    pub fn event(&self, kind: crate::usage::EventKind, participant: &str) -> UsageEvent {
        match &self.usage {
            Some(u) => UsageEvent::at(&u.clock, kind, participant),
            None => UsageEvent::now(kind, participant),
        }
    }

    /// Records an event if a usage log is open.
    pub fn record(&self, event: UsageEvent) {
        if let Some(u) = &self.usage {
            u.recorder.record(event);
        }
    }

    /// Installs (or replaces) the catalogue.
    pub fn set_catalog(&self, catalog: Catalog) {
        let mut slot = self
            .catalog
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *slot = Some(Arc::new(catalog));
        self.loads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many times a catalogue was installed since start.
    pub fn catalog_loads(&self) -> u64 {
        self.loads.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The current catalogue, if ready.
    pub fn catalog(&self) -> Option<Arc<Catalog>> {
        self.catalog
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}
