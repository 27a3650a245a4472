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
    /// Print participation numbers for a period (with the previous period beside them).
    Report(ReportArgs),
    /// Manage staff accounts.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Carry materials and lessons between centres in one file (e.g. on a USB stick).
    #[command(subcommand)]
    Package(PackageCommand),
}

/// `hoclieu package ...`.
#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// Write the centre's own materials and lessons (or the chosen ones) to a package file.
    Export(ExportArgs),
    /// Check a package and show what it would add or change; with --apply, install it.
    Import(ImportArgs),
}

/// Where a command finds the library and the data folder.
#[derive(Debug, clap::Args)]
pub struct LibraryArgs {
    /// Library folder used instead of the built-in starter library.
    #[arg(long, env = "HOCLIEU_LIBRARY")]
    pub library: Option<PathBuf>,
    /// Folder the server keeps its records, lessons and own materials in.
    #[arg(long, env = "HOCLIEU_DATA", default_value = "hoclieu-data")]
    pub data: PathBuf,
}

/// Options of `hoclieu package export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Library and data folder.
    #[command(flatten)]
    pub at: LibraryArgs,
    /// File to write (ends in .hoclieu.tar).
    #[arg(long)]
    pub out: PathBuf,
    /// A material to include (repeat for more; default: every material the centre made).
    #[arg(long = "material")]
    pub materials: Vec<String>,
    /// A lesson to include (repeat for more; default: every lesson).
    #[arg(long = "lesson")]
    pub lessons: Vec<String>,
    /// The centre's name, written in the package.
    #[arg(long, env = "HOCLIEU_CENTRE", default_value = "")]
    pub centre: String,
}

/// Options of `hoclieu package import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The package file.
    pub file: PathBuf,
    /// Library and data folder.
    #[command(flatten)]
    pub at: LibraryArgs,
    /// Install it (without this, only show what would change).
    #[arg(long)]
    pub apply: bool,
    /// Also replace files this centre changed more recently than the package.
    #[arg(long)]
    pub replace_conflicts: bool,
}

/// `hoclieu admin ...`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Set (or create) an account's password for /admin. Reads the password from the
    /// terminal, or the first line of standard input when piped.
    SetPassword(SetPasswordArgs),
    /// List the accounts.
    List(DataArgs),
    /// Remove an account (the last manager cannot be removed).
    Remove(RemoveArgs),
}

/// Options naming only the data folder.
#[derive(Debug, clap::Args)]
pub struct DataArgs {
    /// Folder the server keeps its records in.
    #[arg(long, env = "HOCLIEU_DATA", default_value = "hoclieu-data")]
    pub data: PathBuf,
}

/// Options of `hoclieu admin remove`.
#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// Folder the server keeps its records in.
    #[arg(long, env = "HOCLIEU_DATA", default_value = "hoclieu-data")]
    pub data: PathBuf,
    /// Account name.
    #[arg(long)]
    pub user: String,
}

/// Account roles on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    /// Everything: reports, accounts, lessons and materials.
    Manager,
    /// Lessons and materials.
    Teacher,
}

/// Options of `hoclieu admin set-password`.
#[derive(Debug, clap::Args)]
pub struct SetPasswordArgs {
    /// Folder the server keeps its records in.
    #[arg(long, env = "HOCLIEU_DATA", default_value = "hoclieu-data")]
    pub data: PathBuf,
    /// Account name.
    #[arg(long, default_value = "quanly")]
    pub user: String,
    /// What the account may do.
    #[arg(long, value_enum, default_value = "manager")]
    pub role: RoleArg,
}

/// Output formats of `hoclieu report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Aligned text.
    Table,
    /// JSON.
    Json,
    /// CSV, one table after another.
    Csv,
}

/// Options of `hoclieu report`.
#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Folder the server keeps its records in.
    #[arg(long, env = "HOCLIEU_DATA", default_value = "hoclieu-data")]
    pub data: PathBuf,
    /// First day, YYYY-MM-DD (Vietnam time).
    #[arg(long, requires = "to", conflicts_with = "period")]
    pub from: Option<String>,
    /// Last day, YYYY-MM-DD, included.
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// A named period instead: 2026-11, 2026-Q4, 2026-H2, 2026, or 2026-LLW (learning week).
    #[arg(long)]
    pub period: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: ReportFormat,
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
    /// The centre's name, shown on pages and reports.
    #[arg(
        long,
        env = "HOCLIEU_CENTRE",
        default_value = "Trung tâm học tập cộng đồng"
    )]
    pub centre: String,
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
