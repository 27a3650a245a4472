//! `hoclieu report`: participation numbers for a period, beside those of the period before,
//! read from the usage database (read-only) and printed as a table, JSON or CSV (the CSV as
//! the web's export writes it, with the library's titles).

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::args::{Place, ReportArgs, ReportFormat};
use crate::server::startup::{library_source, local_library};
use crate::usage::export::{self, Compared, Titles};
use crate::usage::report::{Period, PeriodError};

const NO_PERIOD: &str = "give --from and --to, or --period";

/// Runs `hoclieu report`.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let period = Period::parse(
        args.period.as_deref(),
        args.from.as_deref(),
        args.to.as_deref(),
    )
    .map_err(|e| anyhow::anyhow!(in_flags(e)))?
    .context(NO_PERIOD)?;
    let settings = args.place.settings()?;
    let data = settings.data;
    let db = crate::data_dir::DataDir::new(&data).database();
    anyhow::ensure!(
        db.exists(),
        "no usage records in {} (wrong --data?)",
        data.display()
    );
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("opening {}", db.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let (groups, _) = crate::usage::profile::offered_groups(&settings.ethnic_groups);
    let c = Compared::of(&conn, period, &groups)?;
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&c)?),
        ReportFormat::Csv => print!("{}", export::csv_all(&c.current, &titles(&args.place))?),
        ReportFormat::Table => print!("{}", export::text(&c, &titles(&args.place))),
    }
    Ok(ExitCode::SUCCESS)
}

/// The titles of the box's materials, lessons and collections, as the web export shows them; ids when the
/// library cannot be read (the numbers still come out).
pub(crate) fn titles(place: &Place) -> Titles {
    let read = || -> anyhow::Result<Titles> {
        let at = place.settings()?;
        let (library, _, lessons) = local_library(&at, library_source(at.library.as_deref())?)?;
        let lessons = lessons.list()?;
        let zim = crate::data_dir::DataDir::new(&at.data).zim();
        Ok(Titles::new(
            Some(&library),
            lessons.iter().map(|l| (l.code.clone(), l.title.clone())),
        )
        .with_collections(crate::collections::Shelf::titles_in(&zim)))
    };
    read().unwrap_or_else(|e| {
        eprintln!("note: titles unavailable ({e:#}); ids are shown instead");
        Titles::default()
    })
}

/// What is wrong with the period, in the words of the flags.
fn in_flags(e: PeriodError) -> String {
    match e {
        PeriodError::BadStart(f) => format!("--from {f:?} is not a date YYYY-MM-DD"),
        PeriodError::BadEnd(t) => format!("--to {t:?} is not a date YYYY-MM-DD"),
        PeriodError::EndBeforeStart => "--to is before --from".to_string(),
        PeriodError::OnlyOneEnd => NO_PERIOD.to_string(),
        PeriodError::UnknownName(_) | PeriodError::OutOfRange | PeriodError::TooLong => {
            e.to_string()
        }
    }
}
