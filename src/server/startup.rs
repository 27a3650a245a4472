//! The one constructor of the running app: from the settings (and the library source they
//! name) it opens the data folder, the usage records, the trusted clock, the centre's library,
//! the lessons and the librarian, and hands back an [`App`] whose state the router serves.
//! `serve`, the commands that need the box's library, and the integration tests all use it,
//! so the tests exercise the real assembly.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};

use crate::catalog::{Librarian, watch};
use crate::clock::Clock;
use crate::content::centre::CentreLibrary;
use crate::content::{Library, Source};
use crate::data_dir::{DataDir, Storage, WORK_FOLDERS};
use crate::lessons::LessonStore;
use crate::search::Opened;
use crate::settings::Settings;
use crate::usage;
use crate::web::state::{
    AppState, MAX_UPLOAD_BYTES, Records, SearchPermits, SiteInfo, StaffMemory, UsageLog,
};

/// The library a setting names: the starter library inside the binary, or a folder.
pub fn library_source(folder: Option<&Path>) -> crate::Result<Source> {
    match folder {
        None => Ok(Source::Embedded),
        Some(d) => Source::dir(d).map_err(|e| crate::Error::BadPath {
            path: d.to_path_buf(),
            message: format!("cannot use as library folder: {e}"),
        }),
    }
}

/// The assembled app: its state, and what must be stopped with it.
pub struct App {
    /// What the router serves.
    pub state: AppState,
    writer: Option<usage::Writer>,
    watcher: Option<notify::RecommendedWatcher>,
    announced: Option<mdns_sd::ServiceDaemon>,
    loader: Option<tokio::task::JoinHandle<()>>,
    /// Reads documents copied into the library folder (see [`super::loose_documents`]).
    reading: Option<tokio::task::JoinHandle<()>>,
    shelving: Option<tokio::task::JoinHandle<()>>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

/// What [`App::assemble`] needs beyond the settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// The library to serve (the settings' `library`, opened).
    pub source: Source,
    /// The address the server listens on (printed on the poster).
    pub listen_addr: SocketAddr,
    /// Largest upload accepted.
    pub upload_limit: usize,
    /// How documents are read (by default this program, run again as a bounded worker).
    pub documents: Option<crate::documents::worker::Reader>,
}

impl Options {
    /// Defaults for serving `source` on `listen_addr`.
    pub fn new(source: Source, listen_addr: SocketAddr) -> Options {
        Options {
            source,
            listen_addr,
            upload_limit: MAX_UPLOAD_BYTES,
            documents: crate::documents::worker::Reader::this_program(),
        }
    }
}

impl App {
    /// Builds the app. Nothing is loaded yet: the catalogue comes from [`App::start`] (in the
    /// background) or [`App::load`]. A part that cannot be opened is reported and left out in
    /// its named way (no records, no centre folder), never fatal: serving matters most.
    pub fn assemble(settings: Settings, opts: Options) -> crate::Result<App> {
        let data = DataDir::new(&settings.data);
        let (ethnic_groups, unknown) = usage::profile::offered_groups(&settings.ethnic_groups);
        if !unknown.is_empty() {
            tracing::warn!(names = ?unknown, "ethnic_groups: not groups of Vietnam's list; left out of the form");
        }
        let mut storage = data.storage();
        let (records, clock, writer) = match &storage {
            Storage::ReadOnly { cause } => {
                tracing::error!(
                    data = %data.root().display(),
                    %cause,
                    "the data folder cannot be written (memory card read-only, full or failing?): serving the library from what can be read; visits are NOT recorded and the staff area is closed until the card is replaced or repaired"
                );
                (Records::Unavailable, fallback_clock(), None)
            }
            Storage::Writable => {
                remove_leftovers(&data);
                match open_usage(&data, settings.retention_days) {
                    Ok((log, writer)) => {
                        let clock = Arc::clone(&log.clock);
                        (Records::Open(Arc::new(log)), clock, Some(writer))
                    }
                    Err(e) => {
                        if cannot_write(&e) {
                            storage = Storage::ReadOnly {
                                cause: e.to_string(),
                            };
                        }
                        // Counting is worth less than serving: keep going without it, and say so.
                        tracing::error!(error = %e, "usage log cannot be opened; participation will not be counted");
                        (Records::Unavailable, fallback_clock(), None)
                    }
                }
            }
        };
        let centre = match CentreLibrary::open(data.root()) {
            Ok(c) => Some(c.with_clock(Arc::clone(&clock))),
            Err(e) => {
                tracing::error!(error = %e, "the centre's library folder cannot be opened; serving the starter library only");
                None
            }
        };
        let lessons = LessonStore::open(data.root()).unwrap_or_else(|e| {
            tracing::error!(error = %e, "the lessons folder cannot be created; lessons are read-only");
            LessonStore::at(data.lessons())
        });
        let library = Arc::new(Librarian::new(
            opts.source,
            centre,
            Some(data.root().to_path_buf()),
        ));
        let collections = Arc::new(crate::collections::Shelf::new(data.zim(), data.zim_index()));
        if !storage.is_read_only() {
            let _ = std::fs::create_dir_all(collections.dir());
        }
        collections.rescan();
        let state = AppState {
            library,
            lessons,
            records,
            clock,
            site: Arc::new(SiteInfo {
                settings,
                listen_addr: opts.listen_addr,
                upload_limit: opts.upload_limit,
                documents: opts.documents,
                ethnic_groups,
                storage,
            }),
            staff: Arc::new(StaffMemory::default()),
            search_permits: SearchPermits::default(),
            collections,
        };
        Ok(App {
            state,
            writer,
            watcher: None,
            announced: None,
            loader: None,
            reading: None,
            shelving: None,
        })
    }

    /// Loads the catalogue now (blocking), reporting the library's problems.
    pub fn load(&self) -> crate::Result<Opened> {
        load(&self.state.library)
    }

    /// Starts what a serving box runs beside the router: the catalogue loading in the
    /// background (pages answer 503 meanwhile), the folder watcher and the mDNS name.
    /// Needs a Tokio runtime.
    pub fn start(&mut self) {
        let librarian = Arc::clone(&self.state.library);
        self.loader = Some(tokio::task::spawn_blocking(move || {
            if let Err(e) = load(&librarian) {
                tracing::error!(error = %e, "library could not be loaded; pages will answer 503");
            }
        }));
        self.watch();
        self.reading = Some(tokio::spawn(super::loose_documents::run(
            self.state.clone(),
        )));
        self.shelving = Some(tokio::spawn(watch_collections(Arc::clone(
            &self.state.collections,
        ))));
        let settings = &self.state.site.settings;
        self.announced = settings
            .mdns
            .then(|| super::mdns::announce(self.state.site.listen_addr.port(), &settings.centre))
            .flatten();
    }

    /// Starts watching the library and lessons folders (needs a Tokio runtime).
    pub fn watch(&mut self) {
        self.watcher = watch::watch(Arc::clone(&self.state.library), self.state.lessons.clone());
    }

    /// The router over this app's state.
    pub fn router(&self) -> axum::Router {
        crate::web::router(self.state.clone())
    }

    /// Stops the background parts and commits every recorded event (blocking).
    pub fn stop(mut self) {
        if let Some(l) = self.loader.take() {
            l.abort();
        }
        if let Some(r) = self.reading.take() {
            r.abort();
        }
        if let Some(s) = self.shelving.take() {
            s.abort();
        }
        self.watcher = None;
        if let Some(d) = self.announced.take() {
            let _ = d.shutdown();
        }
        if let Some(w) = self.writer.take() {
            w.finish();
        }
    }
}

fn load(librarian: &Librarian) -> crate::Result<Opened> {
    let started = std::time::Instant::now();
    let opened = librarian.load()?;
    if let Some(catalog) = librarian.current() {
        for p in catalog.library.problems() {
            tracing::warn!(problem = %p, "library problem");
        }
        let how = match &opened {
            Opened::Reused => "reused".to_string(),
            Opened::Built { reason } => format!("built ({reason})"),
        };
        tracing::info!(
            library = %librarian.base().describe(),
            materials = catalog.library.materials().len(),
            problems = catalog.library.problems().len(),
            index = %how,
            ms = started.elapsed().as_millis() as u64,
            "library ready"
        );
    }
    Ok(opened)
}

/// Half-written files of a crash or a power cut (their final names are never half-written).
fn remove_leftovers(data: &DataDir) {
    let removed = crate::fsutil::remove_leftovers(data.root())
        + WORK_FOLDERS
            .iter()
            .map(|d| crate::fsutil::remove_leftovers_deep(&data.root().join(d)))
            .sum::<usize>();
    if removed > 0 {
        tracing::info!(
            files = removed,
            "removed temporary files left by an interrupted run"
        );
    }
}

/// The library as this box serves it, for the commands that work on it without serving:
/// `source` with the centre's folder over it, the centre's folder, and the lessons.
pub fn local_library(
    settings: &Settings,
    source: Source,
) -> crate::Result<(Library, CentreLibrary, LessonStore)> {
    let data = DataDir::new(&settings.data);
    let centre = CentreLibrary::open(data.root())?;
    let lessons = LessonStore::open(data.root())?;
    Ok((centre.library(source, None), centre, lessons))
}

/// The clock without records to set its floor: never earlier than this release.
fn fallback_clock() -> Arc<Clock> {
    Arc::new(Clock::system(crate::clock::release_floor_ms()))
}

/// Whether the usage database failed to open because nothing can be written where it lives.
fn cannot_write(e: &crate::Error) -> bool {
    use rusqlite::ErrorCode as C;
    match e {
        crate::Error::Usage(e) => matches!(
            e.sqlite_error_code(),
            Some(C::ReadOnly | C::CannotOpen | C::DiskFull | C::PermissionDenied)
        ),
        crate::Error::Io(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ReadOnlyFilesystem
                | std::io::ErrorKind::PermissionDenied
                | std::io::ErrorKind::StorageFull
        ),
        _ => false,
    }
}

/// Whether SQLite says the file is not a database or is corrupt (as opposed to, say, a
/// read-only disk, where moving the file would not help).
fn is_damaged(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt)
    )
}

/// Moves the database and its WAL files aside as `hoclieu.sqlite3.broken-<ms>`; returns the
/// new name of the main file.
fn move_aside(data: &DataDir, stamp: i64) -> std::io::Result<std::path::PathBuf> {
    let db = data.database();
    let target = std::path::PathBuf::from(format!("{}.broken-{stamp}", db.display()));
    for suffix in ["", "-wal", "-shm"] {
        let from = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        if from.exists() {
            std::fs::rename(&from, format!("{}{suffix}", target.display()))?;
        }
    }
    crate::fsutil::sync_dir(data.root())?;
    Ok(target)
}

fn open_usage(data: &DataDir, retention_days: i64) -> crate::Result<(UsageLog, usage::Writer)> {
    let store = match usage::store::Store::open(data.root()) {
        Ok(s) => s,
        Err(e) if is_damaged(&e) => {
            let moved = move_aside(
                data,
                crate::clock::release_floor_ms().max(crate::clock::now_ms()),
            )?;
            tracing::error!(
                error = %e,
                moved_to = %moved.display(),
                "the usage database is damaged; it was moved aside and a new one started (restore a backup to get the records back; staff accounts must be set again)"
            );
            usage::store::Store::open(data.root())?
        }
        Err(e) => return Err(e.into()),
    };
    // The district's tables (a centre's box has them too, empty): summaries it imports.
    crate::district::migrate(store.conn())?;
    // The clock is never earlier than this release or the newest record.
    let floor = crate::clock::release_floor_ms().max(store.latest_event_ms()?.unwrap_or(0));
    let clock =
        Arc::new(Clock::system(floor).with_pruned_ms(crate::clock::read_pruned(&data.pruned())));
    let key = usage::store::participant_key(store.conn())?;
    let box_key = Arc::new(crate::box_key::BoxKey::load_or_create(store.conn())?);
    tracing::info!(fingerprint = %box_key.fingerprint(), "box signing key");
    let reader = rusqlite::Connection::open(data.database())?;
    usage::store::configure(&reader)?;
    // Old events are pruned by the writer once the date is trusted for it, not now: a clock
    // set in the future would delete everything.
    let (recorder, writer) = usage::start_with_clock(
        store,
        Some(usage::ClockLink {
            clock: Arc::clone(&clock),
            retention_days,
            pruned_file: Some(data.pruned()),
        }),
    );
    Ok((
        UsageLog {
            recorder,
            db: Mutex::new(reader),
            clock,
            visitors: crate::web::participant_ids::Visitors::new(key),
            box_key,
        },
        writer,
    ))
}

/// Longest the collections' indexing runs before the folder is looked at again.
const INDEX_SLICE: std::time::Duration = std::time::Duration::from_secs(30);

/// How often the collections folder is looked at again.
const SHELF_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Keeps the collections in step with `DATA/zim/`, and checks new archives whole, one at a
/// time, in the background.
async fn watch_collections(shelf: Arc<crate::collections::Shelf>) {
    loop {
        let s = Arc::clone(&shelf);
        let indexing = tokio::task::spawn_blocking(move || {
            s.rescan();
            while s.check_next() {}
            // A slice of indexing at a time, so the folder is looked at again meanwhile.
            let never = std::sync::atomic::AtomicBool::new(false);
            let indexing = s.index_next(INDEX_SLICE, &never);
            if indexing {
                // The slice's writer (its buffers, the merges') is gone: 200 MB stayed held
                // after a 200k-article archive on one core otherwise.
                crate::memory::give_back();
            }
            indexing
        })
        .await
        .unwrap_or(false);
        // Between slices the folder has just been looked at: no pause, which cost a seventh
        // of the indexing time.
        if !indexing {
            tokio::time::sleep(SHELF_EVERY).await;
        }
    }
}
