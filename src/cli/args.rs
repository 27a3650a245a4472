//! The command line: what the user typed, turned into checked settings for each command.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::settings::{self, Layer, Resolved, Settings, SettingsError};

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
    /// Print the effective settings and where each came from.
    Config(ServeArgs),
    /// Check the installation (disk, data folder, database, index, library, clock, port) and
    /// say what to do about each problem; exits 1 if something is broken.
    Doctor(ServeArgs),
    /// Save the records, the centre's materials, lessons and settings to one file (safe while
    /// the server runs).
    Backup(BackupArgs),
    /// Put a backup back into an empty data folder.
    Restore(RestoreArgs),
    /// Carry materials and lessons between centres in one file (e.g. on a USB stick).
    #[command(subcommand)]
    Package(PackageCommand),
    /// The centre's signed period summaries for the district.
    #[command(subcommand)]
    Summary(SummaryCommand),
    /// The district office: import the centres' summaries, accept their keys.
    #[command(subcommand)]
    District(DistrictCommand),
    /// Print the text read from a PDF, Word (.docx) or LibreOffice (.odt) document, as the
    /// library indexes it (read in a bounded worker, like the server does).
    Read(ReadArgs),
    /// Check a ZIM file (Kiwix's offline libraries) whole: its directory, every cluster and
    /// its checksum; print what it holds. Exits 1 if it cannot be read.
    Zim(ZimArgs),
    /// Read one document from standard input and answer in JSON (what `read` and the server
    /// run, bounded by the kernel).
    #[command(hide = true)]
    ExtractWorker(ExtractWorkerArgs),
}

/// Options of `hoclieu read`.
#[derive(Debug, clap::Args)]
pub struct ReadArgs {
    /// The document.
    pub file: PathBuf,
    /// Print the material file that would be made of it (front matter and Markdown).
    #[arg(long)]
    pub material: bool,
    /// Read scanned pages with Tesseract (when installed, with its Vietnamese data).
    #[arg(long)]
    pub ocr: bool,
}

/// Options of `hoclieu zim`.
#[derive(Debug, clap::Args)]
pub struct ZimArgs {
    /// The ZIM file (or the first part, `.zimaa`, of a split one).
    pub file: PathBuf,
    /// Where the archive starts in the file, for one embedded in another file.
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// The archive's pieces in a larger file, in order, as OFFSET:LENGTH (repeated).
    #[arg(long = "range", value_parser = parse_range)]
    pub ranges: Vec<(u64, u64)>,
    /// Also read every article's content (slower: decodes everything).
    #[arg(long)]
    pub read_all: bool,
    /// Then list the articles, one a line: URL path, a tab, title.
    #[arg(long)]
    pub list: bool,
}

fn parse_range(s: &str) -> Result<(u64, u64), String> {
    let (o, n) = s.split_once(':').ok_or("expected OFFSET:LENGTH")?;
    Ok((
        o.parse().map_err(|e| format!("offset: {e}"))?,
        n.parse().map_err(|e| format!("length: {e}"))?,
    ))
}

/// Options of the worker.
#[derive(Debug, clap::Args)]
pub struct ExtractWorkerArgs {
    /// Address space allowed, bytes.
    #[arg(long)]
    pub memory: u64,
    /// Processor time allowed, seconds.
    #[arg(long)]
    pub seconds: u64,
    /// Read scanned pages with Tesseract, when it is installed.
    #[arg(long)]
    pub ocr: bool,
}

/// `hoclieu summary ...`.
#[derive(Debug, Subcommand)]
pub enum SummaryCommand {
    /// Write one period's signed summary to a file (for the district, by USB stick).
    Export(SummaryExportArgs),
}

/// Options of `hoclieu summary export`.
#[derive(Debug, clap::Args)]
pub struct SummaryExportArgs {
    /// Settings and data folder.
    #[command(flatten)]
    pub place: Place,
    /// The period: 2026-11 (month), 2026-Q4, 2026-H2, 2026 (year) or 2026-LLW (learning week).
    #[arg(long)]
    pub period: String,
    /// File to write (for example /media/usb/ban-bo-2026-H2.hoclieu-summary.json).
    #[arg(long)]
    pub to: PathBuf,
}

/// `hoclieu district ...`.
#[derive(Debug, Subcommand)]
pub enum DistrictCommand {
    /// Check and import centres' summary files; each is taken whole or refused.
    Import(DistrictImportArgs),
    /// List the centres' new keys waiting for a manager.
    Keys(DistrictPlaceArgs),
    /// Accept a centre's new key (check its fingerprint with the centre first); the files it
    /// signed are imported.
    AcceptKey(DistrictKeyArgs),
    /// Refuse a centre's new key; the files it signed are dropped.
    RefuseKey(DistrictKeyArgs),
    /// Write every imported summary as Parquet files (one table per kind of count) for a
    /// province's or the nation's engine.
    Export(DistrictExportArgs),
}

/// Options of `hoclieu district export`.
#[derive(Debug, clap::Args)]
pub struct DistrictExportArgs {
    /// Settings and data folder.
    #[command(flatten)]
    pub place: Place,
    /// Folder to write the .parquet files into.
    #[arg(long)]
    pub parquet: PathBuf,
}

/// Options of `hoclieu district import`.
#[derive(Debug, clap::Args)]
pub struct DistrictImportArgs {
    /// Settings and data folder.
    #[command(flatten)]
    pub place: Place,
    /// Summary files.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

/// Where the district's records are.
#[derive(Debug, clap::Args)]
pub struct DistrictPlaceArgs {
    /// Settings and data folder.
    #[command(flatten)]
    pub place: Place,
}

/// Options of `hoclieu district accept-key` and `refuse-key`.
#[derive(Debug, clap::Args)]
pub struct DistrictKeyArgs {
    /// Settings and data folder.
    #[command(flatten)]
    pub place: Place,
    /// The key's fingerprint, as `hoclieu district keys` lists it (xxxx-xxxx-xxxx-xxxx).
    pub fingerprint: String,
}

/// `hoclieu package ...`.
#[derive(Debug, Subcommand)]
pub enum PackageCommand {
    /// Write the centre's own materials and lessons (or the chosen ones) to a package file.
    Export(ExportArgs),
    /// Check a package and show what it would add or change; with --apply, install it.
    Import(ImportArgs),
}

/// Where a command finds its settings, the library and the data folder. Each value may also
/// come from a `HOCLIEU_*` variable or the settings file (see [`crate::settings`]).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Place {
    /// Settings file (default: $HOCLIEU_CONFIG, else /etc/hoclieu/hoclieu.toml if it exists).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Library folder used instead of the built-in starter library.
    #[arg(long)]
    pub library: Option<PathBuf>,
    /// Folder for the index, the records, lessons and the centre's own materials
    /// (default hoclieu-data).
    #[arg(long)]
    pub data: Option<PathBuf>,
}

impl Place {
    /// The effective settings: defaults, the file, the environment, then these flags and
    /// `more` flags.
    pub fn resolve(&self, more: Layer) -> Result<Resolved, SettingsError> {
        self.resolve_with(more, false).map(|(r, _)| r)
    }

    /// [`Place::resolve`]; with `skip_broken_file`, a settings file that cannot be read or
    /// parsed is left out (and its error returned beside the result) instead of failing.
    pub fn resolve_with(
        &self,
        more: Layer,
        skip_broken_file: bool,
    ) -> Result<(Resolved, Option<SettingsError>), SettingsError> {
        let env = |k: &str| std::env::var(k).ok();
        let mut skipped = None;
        let file = match settings::settings_file(self.config.as_deref(), env) {
            Some(path) => match settings::file_layer(&path) {
                Ok(layer) => Some((path, layer)),
                Err(e) if skip_broken_file => {
                    skipped = Some(e);
                    None
                }
                Err(e) => return Err(e),
            },
            None => None,
        };
        let flags = Layer {
            library: self.library.clone(),
            data: self.data.clone(),
            ..more
        };
        let r = settings::resolve(
            file.as_ref().map(|(p, l)| (p.as_path(), l.clone())),
            settings::env_layer(env)?,
            flags,
        );
        r.validate()?;
        Ok((r, skipped))
    }

    /// The effective settings with only these flags.
    pub fn settings(&self) -> Result<Settings, SettingsError> {
        self.resolve(Layer::default()).map(|r| r.settings)
    }
}

/// Options of `hoclieu backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Settings and data folder.
    #[command(flatten)]
    pub place: Place,
    /// File to write (for example on a USB stick: /media/usb/hoclieu-2026-11-29.hoclieu-backup.tar).
    #[arg(long)]
    pub to: PathBuf,
}

/// Options of `hoclieu restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The backup file.
    pub file: PathBuf,
    /// Settings and data folder (must be empty).
    #[command(flatten)]
    pub place: Place,
}

/// Options of `hoclieu package export`.
#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// Settings, library and data folder.
    #[command(flatten)]
    pub place: Place,
    /// File to write (ends in .hoclieu.tar).
    #[arg(long)]
    pub out: PathBuf,
    /// A material to include (repeat for more; default: every material the centre made).
    #[arg(long = "material")]
    pub materials: Vec<String>,
    /// A lesson to include (repeat for more; default: every lesson).
    #[arg(long = "lesson")]
    pub lessons: Vec<String>,
}

/// Options of `hoclieu package import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The package file.
    pub file: PathBuf,
    /// Settings, library and data folder.
    #[command(flatten)]
    pub place: Place,
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
    List(Place),
    /// Remove an account (the last manager cannot be removed).
    Remove(RemoveArgs),
}

/// Options of `hoclieu admin remove`.
#[derive(Debug, clap::Args)]
pub struct RemoveArgs {
    /// Settings and data folder.
    #[command(flatten)]
    pub place: Place,
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
    /// Settings and data folder.
    #[command(flatten)]
    pub place: Place,
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
    /// Settings and data folder.
    #[command(flatten)]
    pub place: Place,
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

/// Options of `hoclieu serve` (and `hoclieu config`, which prints what they add up to).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ServeArgs {
    /// Settings file, library and data folder.
    #[command(flatten)]
    pub place: Place,
    /// The centre's name, shown on pages, the poster and reports.
    #[arg(long)]
    pub centre: Option<String>,
    /// The commune (xã).
    #[arg(long)]
    pub commune: Option<String>,
    /// The district (huyện) or province.
    #[arg(long)]
    pub district: Option<String>,
    /// The name of the centre's Wi-Fi network, printed on the poster.
    #[arg(long)]
    pub wifi: Option<String>,
    /// Address and port to listen on; 0.0.0.0 means every network interface (default
    /// 0.0.0.0:8080).
    #[arg(long)]
    pub listen: Option<SocketAddr>,
    /// Days raw usage events are kept (default 730; daily totals are kept for good).
    #[arg(long)]
    pub retention_days: Option<i64>,
    /// Do not announce hoclieu.local on the network.
    #[arg(long)]
    pub no_mdns: bool,
}

impl ServeArgs {
    /// The effective settings.
    pub fn resolve(&self) -> Result<Resolved, SettingsError> {
        self.resolve_serving().map(|(r, _)| r)
    }

    /// The settings to serve with: a broken settings file is left out (the box keeps serving
    /// with the environment, the flags and the defaults) and its error returned to be reported.
    pub fn resolve_lenient(&self) -> Result<(Resolved, Option<SettingsError>), SettingsError> {
        self.place.resolve_with(self.layer(), true)
    }

    fn resolve_serving(&self) -> Result<(Resolved, Option<SettingsError>), SettingsError> {
        self.place.resolve_with(self.layer(), false)
    }

    fn layer(&self) -> Layer {
        Layer {
            centre: self.centre.clone(),
            commune: self.commune.clone(),
            district: self.district.clone(),
            wifi: self.wifi.clone(),
            listen: self.listen,
            retention_days: self.retention_days,
            mdns: self.no_mdns.then_some(false),
            ..Layer::default()
        }
    }
}

/// Options of `hoclieu check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Library folder to check (default: the one in the settings, else the built-in library).
    #[command(flatten)]
    pub place: Place,
}
