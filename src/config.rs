//! The command line: what the user typed, turned into checked settings for each command.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::content::Source;

/// hoclieu: thư viện học liệu ngoại tuyến cho trung tâm học tập cộng đồng.
#[derive(Debug, Parser)]
#[command(name = "hoclieu", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the library on the local network.
    Serve(ServeArgs),
    /// Check a library folder and report every problem; exits 1 if there is any.
    Check(CheckArgs),
}

/// Options of `hoclieu serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Library folder to serve instead of the built-in starter library.
    #[arg(long, env = "HOCLIEU_LIBRARY")]
    pub library: Option<PathBuf>,
    /// Folder for the search index and records (created if missing).
    #[arg(long, env = "HOCLIEU_DATA", default_value = "hoclieu-data")]
    pub data: PathBuf,
    /// Address and port to listen on; 0.0.0.0 means every network interface.
    #[arg(long, env = "HOCLIEU_LISTEN", default_value = "0.0.0.0:8080")]
    pub listen: SocketAddr,
}

/// Options of `hoclieu check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Library folder to check (default: the built-in starter library).
    #[arg(long, env = "HOCLIEU_LIBRARY")]
    pub library: Option<PathBuf>,
}

/// Opens the library a command asked for.
pub fn library_source(dir: Option<&PathBuf>) -> crate::Result<Source> {
    match dir {
        None => Ok(Source::Embedded),
        Some(d) => Source::dir(d).map_err(|e| crate::Error::BadPath {
            path: d.clone(),
            message: format!("cannot use as library folder: {e}"),
        }),
    }
}
