//! Running the server: assemble the app ([`startup`]), serve it on a socket ([`accept`])
//! while the catalogue loads in the background, announce `hoclieu.local` ([`mdns`]), and stop
//! cleanly on Ctrl-C or SIGTERM.

pub mod accept;
pub mod loose_documents;
pub mod mdns;
pub mod startup;

use std::future::Future;

use tokio::net::TcpListener;

use crate::content::Source;
use startup::{App, Options};

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
    let listen_addr = listener.local_addr()?;
    // First: the raised descriptor limit also serves the database and the index.
    let limits = accept::Limits::for_this_process();
    let mut app = App::assemble(opts.settings, Options::new(opts.source, listen_addr))?;
    app.start();
    let served = accept::serve_connections(listener, app.router(), limits, shutdown).await;
    tokio::task::spawn_blocking(move || app.stop()).await?;
    served.map_err(crate::Error::Io)
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
