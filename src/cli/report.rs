//! `hoclieu report`: participation numbers for a period, beside those of the period before,
//! read from the usage database (read-only) and printed as a table, JSON or CSV.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::args::{ReportArgs, ReportFormat};
use crate::usage::export::{self, Compared};
use crate::usage::report::{Period, parse_date, report};

/// Runs `hoclieu report`.
pub fn run(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let period = match (&args.period, &args.from, &args.to) {
        (Some(p), _, _) => Period::named(p).with_context(|| {
            format!("unknown period {p:?} (try 2026-11, 2026-Q4, 2026-H2, 2026)")
        })?,
        (None, Some(f), Some(t)) => {
            let from =
                parse_date(f).with_context(|| format!("--from {f:?} is not a date YYYY-MM-DD"))?;
            let to =
                parse_date(t).with_context(|| format!("--to {t:?} is not a date YYYY-MM-DD"))?;
            Period::new(from, to).context("--to is before --from")?
        }
        _ => anyhow::bail!("give --from and --to, or --period"),
    };
    let data = args.place.settings()?.data;
    let db = data.join("hoclieu.sqlite3");
    anyhow::ensure!(
        db.exists(),
        "no usage records in {} (wrong --data?)",
        data.display()
    );
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .with_context(|| format!("opening {}", db.display()))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let c = Compared {
        current: report(&conn, period)?,
        previous: report(&conn, period.previous())?,
    };
    match args.format {
        ReportFormat::Json => println!("{}", serde_json::to_string_pretty(&c)?),
        ReportFormat::Csv => print!("{}", export::csv_all(&c.current)?),
        ReportFormat::Table => print!("{}", export::text(&c)),
    }
    Ok(ExitCode::SUCCESS)
}
