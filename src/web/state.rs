//! What every handler can reach, built once by `server::startup`: the live library, the
//! lessons, the usage records, the trusted clock, the box's settings and the staff area's
//! in-memory state. Handlers take the part they need as a sub-state (`State<Records>`, …).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::FromRef;

use super::login_limit::LoginLimiter;
use crate::catalog::{Catalog, Librarian};
use crate::clock::Clock;
use crate::content::centre::CentreLibrary;
use crate::lessons::LessonStore;
use crate::package::Package;
use crate::package::Planned;
use crate::settings::Settings;
use crate::usage::{EventKind, Recorder, UsageEvent};

use super::error::AppError;

/// Largest attachment accepted by default (a short training video).
pub const MAX_UPLOAD_BYTES: usize = 300 * 1024 * 1024;

/// Cheap to clone; handed to every handler.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The live catalogue and the centre's library.
    pub library: Arc<Librarian>,
    /// The lessons folder.
    pub lessons: LessonStore,
    /// The usage records (or why there are none).
    pub records: Records,
    /// The box's trusted clock: every "now" comes from here.
    pub clock: Arc<Clock>,
    /// Settings and where the box listens.
    pub site: Arc<SiteInfo>,
    /// The staff area's memory: failed logins, a package waiting for confirmation, drafts.
    pub staff: Arc<StaffMemory>,
    /// Searches running at once.
    pub search_permits: SearchPermits,
    /// The ZIM files served as collections.
    pub collections: Arc<crate::collections::Shelf>,
}

/// The box's settings as pages need them.
#[derive(Debug)]
pub struct SiteInfo {
    /// Everything the settings file, environment and flags said.
    pub settings: Settings,
    /// The address the server listens on.
    pub listen_addr: SocketAddr,
    /// Largest upload accepted.
    pub upload_limit: usize,
    /// Reads PDF, Word and LibreOffice files in bounded workers (`None`: this program cannot
    /// be run again as one, and documents are not read).
    pub documents: Option<crate::documents::worker::Reader>,
    /// The ethnic groups the settings name, as the profile form offers and reports list them.
    pub ethnic_groups: Vec<(&'static str, &'static str)>,
    /// Whether the data folder could be written at start (if not, the staff area is closed
    /// and `/healthz` says the box is degraded).
    pub storage: crate::data_dir::Storage,
}

impl SiteInfo {
    /// The centre's name, shown on pages and reports.
    pub fn centre(&self) -> &str {
        &self.settings.centre
    }
}

/// What the staff area keeps in memory only.
#[derive(Debug, Default)]
pub struct StaffMemory {
    /// Failed logins per address and account (never written down).
    pub login_limiter: LoginLimiter,
    /// A checked package waiting for the staff member to confirm it.
    pub pending_import: Mutex<Option<PendingImport>>,
    /// Forms posted after their session had expired, until their author logs in again.
    pub drafts: super::drafts::Drafts,
    /// Held while a package export runs: one at a time, so exports cannot pile up.
    pub exporting: Arc<tokio::sync::Mutex<()>>,
    /// Documents found in the library folder that could not be read: path, and (size, why).
    /// Tried again when the file changes, or after a restart.
    pub unread_documents: Mutex<std::collections::BTreeMap<String, (u64, String)>>,
}

/// A checked package waiting to be applied.
#[derive(Debug)]
pub struct PendingImport {
    /// Names this import in the confirm form.
    pub id: String,
    /// The name the file was uploaded with.
    pub file_name: String,
    /// The checked package.
    pub package: Package,
    /// What it would change.
    pub plan: Vec<Planned>,
    /// Holds the staged files; removed when the pending import goes.
    pub staging: tempfile::TempDir,
}

/// The usage log as handlers see it: open, or unavailable (the server then serves without
/// counting, and the staff area, which needs the accounts, answers 503).
#[derive(Clone, Debug)]
pub enum Records {
    /// Recording and readable.
    Open(Arc<UsageLog>),
    /// The database could not be opened at start.
    Unavailable,
}

/// An open usage log.
#[derive(Debug)]
pub struct UsageLog {
    /// Queues events for the writer thread.
    pub recorder: Recorder,
    /// A connection of its own (WAL lets it read while the writer writes).
    pub db: Mutex<rusqlite::Connection>,
    /// The clock events are stamped with.
    pub clock: Arc<Clock>,
    /// Issues and checks the participant cookies.
    pub visitors: super::participant_ids::Visitors,
    /// The box's signing key (made at first start, kept in the same database).
    pub box_key: Arc<crate::box_key::BoxKey>,
}

impl Records {
    /// The box's signing key, if the records are open.
    pub fn box_key(&self) -> Option<&crate::box_key::BoxKey> {
        match self {
            Records::Open(log) => Some(&log.box_key),
            Records::Unavailable => None,
        }
    }

    /// Records an event happening now, if the log is open.
    pub fn record(&self, kind: EventKind, participant: &str, fill: impl FnOnce(&mut UsageEvent)) {
        if let Records::Open(log) = self {
            let mut e = UsageEvent::at(&log.clock, kind, participant);
            fill(&mut e);
            log.recorder.record(e);
        }
    }

    /// Runs `f` on the database off the async workers; 503 when the log is unavailable.
    pub async fn db<T: Send + 'static>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, AppError> {
        let Records::Open(log) = self else {
            return Err(AppError::NoRecords);
        };
        let log = Arc::clone(log);
        super::offload::blocking(move || {
            let conn = log
                .db
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            f(&conn)
        })
        .await
    }

    /// Whether records are kept.
    pub fn is_open(&self) -> bool {
        matches!(self, Records::Open(_))
    }
}

/// The permits for concurrent searches: one per core, the rest wait in order, so that under
/// load every request waits about as long instead of the unlucky ones waiting far longer.
#[derive(Debug, Clone)]
pub struct SearchPermits(pub Arc<tokio::sync::Semaphore>);

impl Default for SearchPermits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        SearchPermits(Arc::new(tokio::sync::Semaphore::new(cores)))
    }
}

impl AppState {
    /// The current catalogue, or 503 while the library is still loading.
    pub fn catalog(&self) -> Result<Arc<Catalog>, AppError> {
        self.library.current().ok_or(AppError::Starting)
    }

    /// The centre's own library folder, or 503 when it could not be opened.
    pub fn centre_library(&self) -> Result<CentreLibrary, AppError> {
        self.library
            .centre()
            .cloned()
            .ok_or(AppError::NoCentreLibrary)
    }

    /// Reloads the library after a change made through the server, off the async workers.
    pub async fn reload_library(&self) -> Result<usize, AppError> {
        let librarian = Arc::clone(&self.library);
        super::offload::blocking(move || librarian.reload()).await
    }

    /// Runs a search, waiting in line for a core (one search per core at a time, in order).
    pub async fn search(
        &self,
        q: String,
        category: Option<crate::content::Category>,
        limit: usize,
        offset: usize,
    ) -> Result<crate::search::Results, AppError> {
        let catalog = self.catalog()?;
        let _permit = self
            .search_permits
            .0
            .acquire()
            .await
            .map_err(|_| AppError::Starting)?;
        super::offload::blocking(move || {
            catalog
                .index
                .search(&catalog.library, &q, category, limit, offset)
        })
        .await
    }

    /// The ZIM collections' answers to `q` (first page only: at most `limit` articles each).
    /// A search with a field chosen is about materials, and asks none.
    pub async fn search_collections(
        &self,
        q: String,
        category: Option<crate::content::Category>,
        limit: usize,
    ) -> Vec<crate::collections::search::ShelfResults> {
        if category.is_some() || q.trim().is_empty() || self.collections.list().is_empty() {
            return Vec::new();
        }
        let Ok(_permit) = self.search_permits.0.acquire().await else {
            return Vec::new();
        };
        let shelf = Arc::clone(&self.collections);
        tokio::task::spawn_blocking(move || shelf.search(&q, limit))
            .await
            .unwrap_or_default()
    }

    /// One collection's answer to `q`, a page of `limit` from `offset`: `None` when there is
    /// no such collection (or nothing of it indexed yet).
    pub async fn search_collection(
        &self,
        name: String,
        q: String,
        limit: usize,
        offset: usize,
    ) -> Result<Option<crate::collections::search::ShelfResults>, AppError> {
        let _permit = self
            .search_permits
            .0
            .acquire()
            .await
            .map_err(|_| AppError::Starting)?;
        let shelf = Arc::clone(&self.collections);
        Ok(
            tokio::task::spawn_blocking(move || shelf.search_in(&name, &q, limit, offset))
                .await
                .unwrap_or_default(),
        )
    }

    /// What reports show instead of stored ids: the titles of the materials, lessons and
    /// collections on the box now.
    pub async fn report_titles(&self) -> crate::usage::export::Titles {
        let catalog = self.catalog().ok();
        let store = self.lessons.clone();
        let lessons = super::offload::blocking(move || store.list())
            .await
            .unwrap_or_default();
        crate::usage::export::Titles::new(
            catalog.as_ref().map(|c| &c.library),
            lessons.iter().map(|l| (l.code.clone(), l.title.clone())),
        )
        .with_collections(
            self.collections
                .list()
                .iter()
                .map(|c| (c.name.clone(), c.title.clone())),
        )
    }

    /// Now, by the trusted clock.
    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}

macro_rules! sub_state {
    ($($field:ident: $ty:ty),* $(,)?) => {$(
        impl FromRef<AppState> for $ty {
            fn from_ref(s: &AppState) -> $ty {
                s.$field.clone()
            }
        }
    )*};
}

sub_state! {
    library: Arc<Librarian>,
    lessons: LessonStore,
    records: Records,
    clock: Arc<Clock>,
    site: Arc<SiteInfo>,
    staff: Arc<StaffMemory>,
}
