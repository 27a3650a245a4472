//! `hoclieu serve`: resolve the settings (leniently: a broken settings file is reported, not
//! fatal), bind the port, print the addresses phones can open, then serve until stopped.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::args::ServeArgs;
use crate::server::startup::library_source;
use crate::server::{self, ServeOpts};

/// Runs `hoclieu serve`.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    // A broken settings file must not keep the library off the air: serve without it, loudly.
    let (resolved, broken) = args.resolve_lenient()?;
    if let Some(e) = &broken {
        eprintln!("hoclieu: {e}");
        eprintln!(
            "hoclieu: serving WITHOUT the settings file (defaults, HOCLIEU_* and flags only); fix it, then restart (`hoclieu config` shows the problem)"
        );
        tracing::error!(error = %e, "settings file broken; serving without it");
    }
    let settings = resolved.settings;
    let source = library_source(settings.library.as_deref())?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .with_context(|| {
                format!(
                    "listening on {} (is another server using the port?)",
                    settings.listen
                )
            })?;
        let addr = listener.local_addr()?;
        println!("hoclieu đang chạy. Mở trên điện thoại hoặc máy tính cùng mạng Wi-Fi:");
        for url in crate::addresses::reachable_urls(addr) {
            println!("  {url}");
        }
        tracing::info!(%addr, library = %source.describe(), data = %settings.data.display(), "serving");
        server::run(
            ServeOpts {
                source,
                settings: settings.clone(),
            },
            listener,
            server::shutdown_signal(),
        )
        .await
        .context("serving")
    })?;
    Ok(ExitCode::SUCCESS)
}
