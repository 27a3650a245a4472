//! `hoclieu summary export` (a centre's signed period summary, to a file) and `hoclieu
//! district ...` (the district office imports such files and manages the centres' keys).

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::args::{DistrictCommand, Place, SummaryCommand, SummaryExportArgs};
use crate::district;
use crate::settings::Role;
use crate::summary::{self, Centre, Made};

/// Runs `hoclieu summary ...`.
pub fn summary(command: SummaryCommand) -> anyhow::Result<ExitCode> {
    match command {
        SummaryCommand::Export(args) => export(args),
    }
}

fn export(args: SummaryExportArgs) -> anyhow::Result<ExitCode> {
    let settings = args.place.settings()?;
    let store = crate::usage::store::Store::open(&settings.data)
        .with_context(|| format!("opening the records in {}", settings.data.display()))?;
    let conn = store.conn();
    let key = summary::box_key(conn)?;
    let (groups, _) = crate::usage::profile::offered_groups(&settings.ethnic_groups);
    let titles = super::report::titles(&args.place);
    let made = Made {
        centre: Centre {
            name: settings.centre.clone(),
            commune: settings.commune.clone(),
            district: settings.district.clone(),
            province: settings.province.clone(),
        },
        ethnic_groups: &groups,
        titles: &titles,
        // Outside the server nobody confirms the clock: the system time is all there is.
        now_ms: crate::clock::now_ms(),
        clock_trusted: false,
    };
    let s = summary::make(conn, &args.period, &made)?;
    let bytes = summary::seal(&s, &key);
    super::write_beside(&args.to, "part", |out| {
        std::io::Write::write_all(out, &bytes)?;
        Ok(())
    })?;
    println!(
        "Wrote the summary of {} (revision {}, {} participants, box on {} of {} days) to {}; signed by key {}.",
        s.period,
        s.revision,
        s.counts.participants,
        s.box_days.on,
        s.box_days.days,
        args.to.display(),
        key.fingerprint()
    );
    if s.centre.commune.trim().is_empty() || s.centre.district.trim().is_empty() {
        eprintln!(
            "note: the settings give no commune or district; the district office needs them to tell centres apart"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The district's database, checked to belong to a district box.
fn district_db(place: &Place) -> anyhow::Result<(crate::usage::store::Store, String)> {
    let settings = place.settings()?;
    anyhow::ensure!(
        settings.role == Role::District,
        "this box is a centre; a district office's box has role = \"district\" in its settings (or HOCLIEU_ROLE=district)"
    );
    let store = crate::usage::store::Store::open(&settings.data)
        .with_context(|| format!("opening the records in {}", settings.data.display()))?;
    district::migrate(store.conn())?;
    Ok((store, settings.district))
}

/// Runs `hoclieu district ...`.
pub fn run(command: DistrictCommand) -> anyhow::Result<ExitCode> {
    match command {
        DistrictCommand::Import(args) => {
            let (store, ours) = district_db(&args.place)?;
            let conn = store.into_conn();
            let mut refused = 0;
            // Read and imported a batch at a time: a year of a province's files is many.
            for chunk in args.files.chunks(district::BATCH) {
                // A file larger than any summary is not read at all.
                let read_one = |f: &std::path::PathBuf| -> std::io::Result<Vec<u8>> {
                    let len = std::fs::metadata(f)?.len();
                    if len > crate::summary::MAX_FILE_BYTES as u64 {
                        return Err(std::io::Error::other(format!(
                            "{len} byte, lớn hơn mọi tệp tổng hợp"
                        )));
                    }
                    std::fs::read(f)
                };
                let read: Vec<(&std::path::PathBuf, std::io::Result<Vec<u8>>)> =
                    chunk.iter().map(|f| (f, read_one(f))).collect();
                let readable: Vec<&[u8]> = read
                    .iter()
                    .filter_map(|(_, r)| r.as_ref().ok().map(Vec::as_slice))
                    .collect();
                let mut done =
                    district::import_many(&conn, readable, &ours, crate::clock::now_ms())?
                        .into_iter();
                for (f, r) in &read {
                    let outcome = match r {
                        Err(e) => Err(format!("không đọc được tệp: {e}")),
                        Ok(_) => match done.next() {
                            Some(Ok(i)) => Ok(i),
                            Some(Err(e)) => Err(e.to_string()),
                            None => Err("không được xử lý".to_string()),
                        },
                    };
                    match outcome {
                        Ok(i) => println!("{}: {i}", f.display()),
                        Err(e) => {
                            refused += 1;
                            println!("{}: bị từ chối: {e}", f.display());
                        }
                    }
                }
            }
            Ok(if refused == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
        DistrictCommand::Export(args) => {
            let (store, _) = district_db(&args.place)?;
            let started = std::time::Instant::now();
            let files = district::parquet::export(store.conn(), &args.parquet)?;
            for (path, rows) in &files {
                let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
                println!(
                    "{}: {rows} rows, {:.1} kB",
                    path.display(),
                    size as f64 / 1e3
                );
            }
            eprintln!("exported in {:.2} s", started.elapsed().as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
        DistrictCommand::Keys(args) => {
            let (store, _) = district_db(&args.place)?;
            let keys = district::held_keys(store.conn())?;
            if keys.is_empty() {
                println!("No new keys waiting.");
            }
            for k in keys {
                println!(
                    "{}: new key {} (known key {}), {} file(s) waiting",
                    k.name, k.fingerprint, k.pinned, k.files
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        DistrictCommand::AcceptKey(args) | DistrictCommand::RefuseKey(args)
            if args.fingerprint.trim().is_empty() =>
        {
            anyhow::bail!("give the key's fingerprint")
        }
        DistrictCommand::AcceptKey(args) => {
            let (store, _) = district_db(&args.place)?;
            let conn = store.into_conn();
            let Some(k) = find_key(&conn, &args.fingerprint)? else {
                anyhow::bail!("no new key {} is waiting", args.fingerprint.trim());
            };
            let done =
                district::accept_key(&conn, &k.centre, &k.fingerprint, crate::clock::now_ms())?
                    .unwrap_or_default();
            println!("Key {} is now the key of {}.", k.fingerprint, k.name);
            for d in &done {
                println!("{}", district::outcome_text(d));
            }
            Ok(ExitCode::SUCCESS)
        }
        DistrictCommand::RefuseKey(args) => {
            let (store, _) = district_db(&args.place)?;
            let conn = store.into_conn();
            let Some(k) = find_key(&conn, &args.fingerprint)? else {
                anyhow::bail!("no new key {} is waiting", args.fingerprint.trim());
            };
            district::refuse_key(&conn, &k.centre, &k.fingerprint)?;
            println!(
                "Key {} of {} refused; its files were dropped.",
                k.fingerprint, k.name
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn find_key(
    conn: &rusqlite::Connection,
    fingerprint: &str,
) -> anyhow::Result<Option<district::HeldKey>> {
    Ok(district::held_keys(conn)?
        .into_iter()
        .find(|k| k.fingerprint == fingerprint.trim()))
}
