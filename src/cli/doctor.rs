//! `hoclieu doctor`: looks the installation over and says, in plain words, what is wrong and
//! what to do: free disk, the data folder, the usage database, the search index, the library,
//! the clock and the port. It changes nothing.

use std::path::Path;
use std::process::ExitCode;

use crate::cli::args::ServeArgs;
use crate::clock::{date_of, iso, local_day, now_ms, release_floor_ms};
use crate::content::centre::CentreLibrary;
use crate::content::{Library, Severity};
use crate::server::startup::library_source;
use crate::settings::Settings;

/// Below this much free space the box is in danger (the database and index stop growing).
const DISK_FAIL_BYTES: u64 = 50 * 1024 * 1024;
/// Below this much free space it is time to act.
const DISK_WARN_BYTES: u64 = 500 * 1024 * 1024;

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// All is well.
    Ok,
    /// Works, but needs attention.
    Warn,
    /// Broken: fix it.
    Fail,
}

/// One thing checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How serious.
    pub level: Level,
    /// What was checked.
    pub topic: &'static str,
    /// What was found, and what to do.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tag = match self.level {
            Level::Ok => "OK  ",
            Level::Warn => "WARN",
            Level::Fail => "FAIL",
        };
        write!(f, "{tag} {:<9} {}", self.topic, self.message)
    }
}

fn finding(level: Level, topic: &'static str, message: impl Into<String>) -> Finding {
    Finding {
        level,
        topic,
        message: message.into(),
    }
}

/// Runs `hoclieu doctor`: prints every finding; fails if any finding is [`Level::Fail`].
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = match args.resolve() {
        Ok(r) => r.settings,
        Err(e) => {
            println!("FAIL settings  {e}. Fix the settings file or the flag.");
            return Ok(ExitCode::FAILURE);
        }
    };
    let base = library_source(settings.library.as_deref())?;
    // Only looked at, never created: the doctor changes nothing.
    let centre = crate::data_dir::DataDir::new(&settings.data)
        .library()
        .is_dir()
        .then(|| CentreLibrary::open(&settings.data).ok())
        .flatten();
    let library = match &centre {
        Some(c) => c.library(base, None),
        None => Library::load(base),
    };
    let findings = examine(&settings, &library, now_ms());
    for f in &findings {
        println!("{f}");
    }
    let worst = findings.iter().map(|f| f.level).max().unwrap_or(Level::Ok);
    Ok(if worst == Level::Fail {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// Runs every check. `now_ms` is the system time (a parameter so tests can set it).
pub fn examine(settings: &Settings, library: &Library, now_ms: i64) -> Vec<Finding> {
    let data = &settings.data;
    let mut out = vec![data_folder(data), disk(data)];
    let latest = database(data, &mut out);
    out.push(index(data, library));
    out.push(library_problems(library));
    out.push(scanned_pages(
        library,
        crate::documents::ocr::Ocr::find().is_some(),
    ));
    out.push(clock(now_ms, latest));
    out.push(port(settings.listen));
    out
}

fn data_folder(data: &Path) -> Finding {
    if !data.exists() {
        return finding(
            Level::Warn,
            "data",
            format!(
                "{} does not exist yet; `hoclieu serve` creates it on first start.",
                data.display()
            ),
        );
    }
    match tempfile::Builder::new()
        .prefix(".doctor-")
        .tempfile_in(data)
    {
        Ok(_) => finding(
            Level::Ok,
            "data",
            format!("{} is writable.", data.display()),
        ),
        Err(e) => finding(
            Level::Fail,
            "data",
            format!(
                "cannot write in {} ({e}). Give the server's user the folder: \
                 sudo chown -R hoclieu:hoclieu {}",
                data.display(),
                data.display()
            ),
        ),
    }
}

fn disk(data: &Path) -> Finding {
    let probe = if data.exists() {
        data
    } else {
        data.parent().unwrap_or(Path::new("."))
    };
    let probe = if probe.as_os_str().is_empty() {
        Path::new(".")
    } else {
        probe
    };
    match rustix::fs::statvfs(probe) {
        Ok(s) => {
            let free = s.f_bavail.saturating_mul(s.f_frsize);
            let mb = free / (1024 * 1024);
            if free < DISK_FAIL_BYTES {
                finding(
                    Level::Fail,
                    "disk",
                    format!(
                        "only {mb} MB free. Participation records may be lost: delete old files or use a bigger card."
                    ),
                )
            } else if free < DISK_WARN_BYTES {
                finding(
                    Level::Warn,
                    "disk",
                    format!("{mb} MB free. Make room soon (old videos, backups on the card)."),
                )
            } else {
                finding(Level::Ok, "disk", format!("{mb} MB free."))
            }
        }
        Err(e) => finding(
            Level::Warn,
            "disk",
            format!("cannot tell free space ({e})."),
        ),
    }
}

/// Checks the usage database and the box key kept in it (one read-only connection for both);
/// returns the newest event's time.
fn database(data: &Path, out: &mut Vec<Finding>) -> Option<i64> {
    let path = crate::data_dir::DataDir::new(data).database();
    if !path.exists() {
        out.push(finding(
            Level::Ok,
            "database",
            "no records yet (none are made before the first visit).",
        ));
        out.push(finding(
            Level::Ok,
            "box key",
            "not made yet; the server makes it on first start.",
        ));
        return None;
    }
    let opened =
        rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .and_then(|c| {
                let check: String = c.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
                let latest: Option<i64> = c
                    .query_row("SELECT MAX(at) FROM events", [], |r| r.get(0))
                    .unwrap_or(None);
                let events: i64 = c
                    .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
                    .unwrap_or(0);
                Ok((check, latest, events, box_key(&c)))
            });
    match opened {
        Ok((check, latest, events, key)) if check == "ok" => {
            out.push(finding(
                Level::Ok,
                "database",
                format!("intact, {events} recorded events."),
            ));
            out.push(key);
            latest
        }
        Ok((check, _, _, key)) => {
            out.push(finding(
                Level::Fail,
                "database",
                format!("damaged ({check}). Stop the server, restore the latest backup with `hoclieu restore`, or move {} aside to start a new one.", path.display()),
            ));
            out.push(key);
            None
        }
        Err(e) => {
            out.push(finding(
                Level::Fail,
                "database",
                format!("cannot be read ({e}). Restore the latest backup with `hoclieu restore`, or move {} aside.", path.display()),
            ));
            out.push(finding(
                Level::Warn,
                "box key",
                format!("cannot be read ({e})."),
            ));
            None
        }
    }
}

/// The fingerprint of the key the box signs its summaries with, for the district to compare.
fn box_key(c: &rusqlite::Connection) -> Finding {
    match crate::box_key::BoxKey::load(c) {
        Ok(Some(key)) => finding(
            Level::Ok,
            "box key",
            format!(
                "fingerprint {} (the district sees this on every summary).",
                key.fingerprint()
            ),
        ),
        Ok(None) => finding(
            Level::Ok,
            "box key",
            "not made yet; the server makes it on its next start.",
        ),
        Err(e) => finding(Level::Warn, "box key", format!("cannot be read ({e}).")),
    }
}

fn index(data: &Path, library: &Library) -> Finding {
    if !crate::data_dir::DataDir::new(data).index().exists() {
        return finding(
            Level::Ok,
            "index",
            "not built yet; the server builds it on start.",
        );
    }
    match crate::search::SearchIndex::diagnose(data, library) {
        Ok(n) => finding(Level::Ok, "index", format!("up to date, {n} materials.")),
        Err(why) => finding(
            Level::Warn,
            "index",
            format!("{why}; the server rebuilds it on its next start (this takes a moment)."),
        ),
    }
}

/// Whether scanned PDF pages can be read as text here, and how many wait for it.
fn scanned_pages(library: &Library, tesseract: bool) -> Finding {
    let waiting: usize = library
        .materials()
        .iter()
        .filter_map(|m| m.document.as_ref())
        .map(|d| d.unread_scans().len())
        .sum();
    let how = crate::documents::ocr::HOW_TO_ADD;
    match (tesseract, waiting) {
        (true, 0) => finding(
            Level::Ok,
            "scans",
            "Tesseract reads scanned PDF pages (Vietnamese).",
        ),
        (true, n) => finding(
            Level::Ok,
            "scans",
            format!(
                "Tesseract reads scanned PDF pages; {n} page(s) wait their turn in the background."
            ),
        ),
        (false, 0) => finding(
            Level::Ok,
            "scans",
            format!("No scanned pages in the library. To read scanned PDFs as text: {how}"),
        ),
        (false, n) => finding(
            Level::Warn,
            "scans",
            format!("{n} scanned PDF page(s) are not searchable: {how}"),
        ),
    }
}

fn library_problems(library: &Library) -> Finding {
    let errors: Vec<_> = library
        .problems()
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .collect();
    let n = library.materials().len();
    if errors.is_empty() {
        return finding(
            Level::Ok,
            "library",
            format!("{n} materials, no broken files."),
        );
    }
    let shown: Vec<String> = errors.iter().take(3).map(ToString::to_string).collect();
    finding(
        Level::Warn,
        "library",
        format!(
            "{n} materials; {} broken file(s) are skipped. Fix or remove them (see /admin/materials): {}",
            errors.len(),
            shown.join("; ")
        ),
    )
}

fn clock(now_ms: i64, latest_event: Option<i64>) -> Finding {
    let floor = release_floor_ms();
    let day = |ms: i64| iso(date_of(local_day(ms)));
    if now_ms < floor {
        return finding(
            Level::Warn,
            "clock",
            format!(
                "the system clock says {} (before this program was made). Phones that visit will correct it; or set it: sudo date -s \"YYYY-MM-DD HH:MM\".",
                day(now_ms)
            ),
        );
    }
    if let Some(latest) = latest_event
        && latest > now_ms + 60_000
    {
        return finding(
            Level::Warn,
            "clock",
            format!(
                "the system clock says {}, but records go up to {}. The clock went back (power cut?). Phones that visit will correct it; or set it by hand.",
                day(now_ms),
                day(latest)
            ),
        );
    }
    finding(Level::Ok, "clock", format!("plausible ({}).", day(now_ms)))
}

fn port(listen: std::net::SocketAddr) -> Finding {
    match std::net::TcpListener::bind(listen) {
        Ok(_) => finding(Level::Ok, "port", format!("{listen} is free.")),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => finding(
            Level::Warn,
            "port",
            format!(
                "{listen} is in use: hoclieu may already be running (sudo systemctl status hoclieu), or another program holds the port; choose another with --listen."
            ),
        ),
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => finding(
            Level::Fail,
            "port",
            format!(
                "not allowed to listen on {listen}; ports below 1024 need the systemd service (it grants that) or a port such as 8080."
            ),
        ),
        Err(e) => finding(
            Level::Fail,
            "port",
            format!("cannot listen on {listen}: {e}."),
        ),
    }
}
