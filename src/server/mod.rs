//! Running the server: load the catalogue in the background, serve meanwhile, stop cleanly.

pub mod mdns;

use std::future::Future;
use std::path::PathBuf;

use tokio::net::TcpListener;

use crate::content::Source;
use crate::search::Opened;
use crate::usage;
use crate::web::state::Librarian;
use crate::web::state::Usage;
use crate::web::{self, AppState};

/// What `run` needs.
#[derive(Debug)]
pub struct ServeOpts {
    /// The library to serve (the one in the settings, opened).
    pub source: Source,
    /// Everything else.
    pub settings: crate::settings::Settings,
}

/// Serves on `listener` until `shutdown` completes. The catalogue is loaded in the background;
/// requests before it is ready get 503 (and `/healthz` says so).
pub async fn run(
    opts: ServeOpts,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> crate::Result<()> {
    std::fs::create_dir_all(&opts.settings.data).map_err(|e| crate::Error::BadPath {
        path: opts.settings.data.clone(),
        message: format!("cannot create data folder: {e}"),
    })?;
    let (state, writer) = match open_usage(&opts.settings.data, opts.settings.retention_days) {
        Ok((usage, writer)) => (AppState::starting().with_usage(usage), Some(writer)),
        Err(e) => {
            // Counting is worth less than serving: keep going without it, and say so.
            tracing::error!(error = %e, "usage log cannot be opened; participation will not be counted");
            (AppState::starting(), None)
        }
    };
    // Half-written files of a crash or a power cut (their final names are never half-written).
    let data = &opts.settings.data;
    let leftovers = crate::fsutil::remove_leftovers(data)
        + ["library", "lessons", "history"]
            .iter()
            .map(|d| crate::fsutil::remove_leftovers_deep(&data.join(d)))
            .sum::<usize>();
    if leftovers > 0 {
        tracing::info!(
            files = leftovers,
            "removed temporary files left by an interrupted run"
        );
    }
    let centre_library = match crate::content::centre::CentreLibrary::open(&opts.settings.data) {
        Ok(c) => Some(c),
        Err(e) => {
            tracing::error!(error = %e, "the centre's library folder cannot be opened; serving the starter library only");
            None
        }
    };
    let mut watched: Vec<PathBuf> = centre_library
        .iter()
        .map(|c| c.root().to_path_buf())
        .collect();
    if let Source::Dir(d) = &opts.source {
        watched.push(d.clone());
    }
    watched.push(opts.settings.data.join("lessons"));
    let librarian = Librarian::new(
        opts.source.clone(),
        centre_library,
        Some(opts.settings.data.clone()),
    );
    let state = state.with_librarian(librarian);
    let state = match crate::lessons::LessonStore::open(&opts.settings.data) {
        Ok(l) => state.with_lessons(l),
        Err(e) => {
            tracing::error!(error = %e, "the lessons folder cannot be opened; lessons are unavailable");
            state
        }
    };
    let centre = opts.settings.centre.clone();
    let settings = opts.settings.clone();
    let loader = {
        let state = state.clone();
        tokio::task::spawn_blocking(move || load(state, opts))
    };
    let listen_addr = listener.local_addr().map_err(crate::Error::Io)?;
    let state = state
        .with_centre(&centre)
        .with_settings(settings.clone(), listen_addr);
    let _watching = crate::catalog::watch::watch(watched, state.clone());
    let announced = settings
        .mdns
        .then(|| crate::server::mdns::announce(listen_addr.port(), &centre))
        .flatten();
    let app = web::router(state);
    let served = serve_connections(listener, app, shutdown).await;
    loader.abort();
    if let Some(d) = announced {
        let _ = d.shutdown();
    }
    if let Some(w) = writer {
        tokio::task::spawn_blocking(move || w.finish()).await?;
    }
    served.map_err(crate::Error::Io)
}

/// How long a client may take to send a request's headers (also how long an idle keep-alive
/// connection stays open): slow or silent connections must not hold the box's few sockets.
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);
/// Largest request head accepted (request line and headers); beyond it hyper answers 431.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// How long in-flight requests get to finish at shutdown.
pub const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(8);

/// Accepts connections until `shutdown`, serving each with hyper's HTTP/1 server: headers
/// must arrive within [`HEADER_READ_TIMEOUT`] and fit in [`MAX_HEAD_BYTES`]. Accept errors
/// (out of file descriptors) are logged and waited out, never fatal. At shutdown, requests in
/// flight get [`SHUTDOWN_GRACE`] to finish.
async fn serve_connections(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(MAX_HEAD_BYTES)
        .keep_alive(true);
    tokio::pin!(shutdown);
    let mut accept_failing = false;
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => {
                    accept_failing = false;
                    a
                }
                Err(e) => {
                    // EMFILE and friends: the connections in flight will free descriptors.
                    if !accept_failing {
                        tracing::warn!(error = %e, "cannot accept connections for now (too many open files?); retrying");
                        accept_failing = true;
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        // The peer address reaches handlers only for login rate limiting and clock reports;
        // it is never stored.
        let service =
            hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
                req.extensions_mut()
                    .insert(axum::extract::ConnectInfo(peer));
                app.clone().oneshot(req.map(axum::body::Body::new))
            });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some requests were still running at shutdown; they were cut");
    }
    Ok(())
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
fn move_aside(data_dir: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    let stamp = usage::now_ms();
    let db = data_dir.join(usage::store::DB_FILE);
    let target = data_dir.join(format!("{}.broken-{stamp}", usage::store::DB_FILE));
    for suffix in ["", "-wal", "-shm"] {
        let from = std::path::PathBuf::from(format!("{}{suffix}", db.display()));
        if from.exists() {
            std::fs::rename(&from, format!("{}{suffix}", target.display()))?;
        }
    }
    crate::fsutil::sync_dir(data_dir)?;
    Ok(target)
}

fn open_usage(
    data_dir: &std::path::Path,
    retention_days: i64,
) -> crate::Result<(Usage, usage::Writer)> {
    let store = match usage::store::Store::open(data_dir) {
        Ok(s) => s,
        Err(e) if is_damaged(&e) => {
            let moved = move_aside(data_dir)?;
            tracing::error!(
                error = %e,
                moved_to = %moved.display(),
                "the usage database is damaged; it was moved aside and a new one started (restore a backup to get the records back; staff accounts must be set again)"
            );
            usage::store::Store::open(data_dir)?
        }
        Err(e) => return Err(e.into()),
    };
    // The clock is never earlier than this release or the newest record.
    let floor = crate::clock::release_floor_ms().max(store.latest_event_ms()?.unwrap_or(0));
    let clock = std::sync::Arc::new(crate::clock::Clock::system(floor));
    let reader = rusqlite::Connection::open(data_dir.join(usage::store::DB_FILE))?;
    usage::store::configure(&reader)?;
    // Old events are pruned by the writer once phones confirm the date, not now: a clock
    // set in the future would delete everything.
    let (recorder, writer) = usage::start_with_clock(
        store,
        Some(usage::ClockLink {
            clock: std::sync::Arc::clone(&clock),
            retention_days,
        }),
    );
    Ok((
        Usage {
            recorder,
            clock,
            db: std::sync::Arc::new(std::sync::Mutex::new(reader)),
        },
        writer,
    ))
}

fn load(state: AppState, opts: ServeOpts) {
    let started = std::time::Instant::now();
    let source_name = opts.source.describe();
    let Some(librarian) = state.librarian() else {
        return;
    };
    match librarian.load(&state) {
        Ok(opened) => {
            let Some(catalog) = state.catalog() else {
                return;
            };
            for p in catalog.library.problems() {
                tracing::warn!(problem = %p, "library problem");
            }
            let how = match opened {
                Opened::Reused => "reused".to_string(),
                Opened::Built { reason } => format!("built ({reason})"),
            };
            tracing::info!(
                library = %source_name,
                materials = catalog.library.materials().len(),
                problems = catalog.library.problems().len(),
                index = %how,
                ms = started.elapsed().as_millis() as u64,
                "library ready"
            );
        }
        Err(e) => {
            tracing::error!(error = %e, library = %source_name, "library could not be loaded; pages will answer 503");
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}

/// The URLs at which phones on the same network can reach a server bound to `addr`.
pub fn reachable_urls(addr: std::net::SocketAddr) -> Vec<String> {
    let port = addr.port();
    if !addr.ip().is_unspecified() {
        return vec![format!("http://{addr}/")];
    }
    let mut urls: Vec<String> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.is_loopback())
        .filter_map(|i| match i.ip() {
            std::net::IpAddr::V4(v4) => Some(format!("http://{v4}:{port}/")),
            std::net::IpAddr::V6(_) => None,
        })
        .collect();
    urls.push(format!("http://localhost:{port}/"));
    urls
}
