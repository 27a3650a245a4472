//! The `hoclieu` command: parse arguments, set up logging, run the chosen command.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use hoclieu::cli::args::{Cli, Command, library_source};
use hoclieu::content::{Library, Severity};
use hoclieu::server::{self, ServeOpts};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs go to stderr; stdout carries what the user asked for (addresses, reports).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "hoclieu=info,tower_http=warn".into()),
        )
        .init();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Check(args) => check(args),
        Command::Doctor(args) => doctor(args),
        Command::Backup(args) => backup(args),
        Command::Restore(args) => restore(args),
        Command::Config(args) => args
            .resolve()
            .map(|r| {
                print!("{}", r.to_toml());
                ExitCode::SUCCESS
            })
            .map_err(Into::into),
        Command::Report(args) => report(args),
        Command::Admin(hoclieu::cli::args::AdminCommand::SetPassword(args)) => set_password(args),
        Command::Admin(hoclieu::cli::args::AdminCommand::List(args)) => list_accounts(args),
        Command::Package(hoclieu::cli::args::PackageCommand::Export(args)) => package_export(args),
        Command::Package(hoclieu::cli::args::PackageCommand::Import(args)) => package_import(args),
        Command::Admin(hoclieu::cli::args::AdminCommand::Remove(args)) => remove_account(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hoclieu: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: hoclieu::cli::args::ServeArgs) -> anyhow::Result<ExitCode> {
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
    let source = library_source(settings.library.as_ref())?;
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
        for url in server::reachable_urls(addr) {
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

fn check(args: hoclieu::cli::args::CheckArgs) -> anyhow::Result<ExitCode> {
    let source = library_source(args.place.settings()?.library.as_ref())?;
    let name = source.describe();
    let library = Library::load(source);
    for p in library.problems() {
        println!("{p}");
    }
    let errors = library
        .problems()
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = library.problems().len() - errors;
    let counts: Vec<String> = library
        .counts()
        .iter()
        .map(|(c, n)| format!("{c} {n}"))
        .collect();
    println!(
        "{name}: {} materials ({}), {errors} errors, {warnings} warnings",
        library.materials().len(),
        counts.join(", ")
    );
    Ok(if library.problems().is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn report(args: hoclieu::cli::args::ReportArgs) -> anyhow::Result<ExitCode> {
    use hoclieu::cli::args::ReportFormat;
    use hoclieu::usage::export::{self, Compared};
    use hoclieu::usage::report::{Period, parse_date, report};
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

fn set_password(args: hoclieu::cli::args::SetPasswordArgs) -> anyhow::Result<ExitCode> {
    use std::io::{BufRead, IsTerminal};
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("Mật khẩu mới cho {}: ", args.user))?;
        let second = rpassword::prompt_password("Nhập lại mật khẩu: ")?;
        anyhow::ensure!(first == second, "the two passwords differ; nothing changed");
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_string()
    };
    let store = open_store(&args.place.settings()?.data)?;
    let role = match args.role {
        hoclieu::cli::args::RoleArg::Manager => hoclieu::accounts::Role::Manager,
        hoclieu::cli::args::RoleArg::Teacher => hoclieu::accounts::Role::Teacher,
    };
    hoclieu::accounts::set_password(
        store.conn(),
        &args.user,
        &password,
        role,
        hoclieu::usage::now_ms(),
    )?;
    println!(
        "Password set for {} ({}). Log in at /admin.",
        args.user,
        role.as_str()
    );
    Ok(ExitCode::SUCCESS)
}

fn open_store(data: &std::path::Path) -> anyhow::Result<hoclieu::usage::store::Store> {
    std::fs::create_dir_all(data).with_context(|| format!("creating {}", data.display()))?;
    hoclieu::usage::store::Store::open(data)
        .with_context(|| format!("opening the database in {}", data.display()))
}

fn list_accounts(args: hoclieu::cli::args::Place) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.settings()?.data)?;
    for a in hoclieu::accounts::list(store.conn())? {
        println!("{}\t{}", a.username, a.role.as_str());
    }
    Ok(ExitCode::SUCCESS)
}

fn remove_account(args: hoclieu::cli::args::RemoveArgs) -> anyhow::Result<ExitCode> {
    let store = open_store(&args.place.settings()?.data)?;
    hoclieu::accounts::remove(store.conn(), &args.user)?;
    println!("Removed {}.", args.user);
    Ok(ExitCode::SUCCESS)
}

/// The library as the server would see it: the base with the centre's folder over it.
fn centre_library(
    place: &hoclieu::cli::args::Place,
) -> anyhow::Result<(
    hoclieu::content::Library,
    hoclieu::content::centre::CentreLibrary,
    hoclieu::lessons::LessonStore,
)> {
    let at = place.settings()?;
    let base = hoclieu::cli::args::library_source(at.library.as_ref())?;
    let centre = hoclieu::content::centre::CentreLibrary::open(&at.data)
        .with_context(|| format!("opening the library in {}", at.data.display()))?;
    let lessons = hoclieu::lessons::LessonStore::open(&at.data)?;
    let library = hoclieu::content::Library::load_hiding(centre.over(base), &centre.hidden()?);
    Ok((library, centre, lessons))
}

fn package_export(args: hoclieu::cli::args::ExportArgs) -> anyhow::Result<ExitCode> {
    let (library, _, lessons) = centre_library(&args.place)?;
    let centre_name = args.place.settings()?.centre;
    let selection = hoclieu::package::local::Selection {
        materials: (!args.materials.is_empty()).then_some(args.materials),
        lessons: (!args.lessons.is_empty()).then_some(args.lessons),
    };
    let created = hoclieu::package::local::created_now();
    // Written beside, then renamed: a full USB stick must not leave half a package.
    let tmp = args.out.with_extension("tar.part");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let manifest = hoclieu::package::local::export(
        &mut out,
        &library,
        &lessons,
        &selection,
        &centre_name,
        &created,
    )?;
    use std::io::Write;
    out.flush()?;
    out.into_inner()?.sync_all()?;
    std::fs::rename(&tmp, &args.out)?;
    println!(
        "Wrote {}: {} materials, {} lessons, {} files.",
        args.out.display(),
        manifest.materials.len(),
        manifest.lessons.len(),
        manifest.files.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn package_import(args: hoclieu::cli::args::ImportArgs) -> anyhow::Result<ExitCode> {
    use hoclieu::package::Change;
    let (library, centre, lessons) = centre_library(&args.place)?;
    let data = args.place.settings()?.data;
    // Staged on the data disk so that installing is a rename.
    let staging = tempfile::Builder::new()
        .prefix(".package-")
        .tempdir_in(&data)?;
    let pkg = hoclieu::package::local::stage(&args.file, staging.path())
        .with_context(|| format!("{} was refused; nothing was changed", args.file.display()))?;
    let planned = hoclieu::package::local::plan(&pkg, &library, &lessons);
    for p in &planned {
        let what = match p.change {
            Change::New => "new     ",
            Change::Same => "same    ",
            Change::Changed => "changed ",
            Change::Conflict => "CONFLICT",
        };
        println!("{what} {}  {}", p.path, p.reason);
    }
    if !args.apply {
        println!("Nothing changed yet. Run again with --apply to install.");
        return Ok(ExitCode::SUCCESS);
    }
    let done =
        hoclieu::package::local::apply(&pkg, &planned, args.replace_conflicts, &centre, &lessons)?;
    println!(
        "Installed: {} new, {} changed, {} conflicts replaced, {} conflicts kept, {} already the same.",
        done.new, done.changed, done.conflicts_applied, done.conflicts_skipped, done.same
    );
    Ok(ExitCode::SUCCESS)
}

fn doctor(args: hoclieu::cli::args::ServeArgs) -> anyhow::Result<ExitCode> {
    use hoclieu::cli::doctor::Level;
    let settings = match args.resolve() {
        Ok(r) => r.settings,
        Err(e) => {
            println!("FAIL settings  {e}. Fix the settings file or the flag.");
            return Ok(ExitCode::FAILURE);
        }
    };
    let source = library_source(settings.library.as_ref())?;
    // Only looked at, never created: the doctor changes nothing.
    let centre = settings
        .data
        .join("library")
        .is_dir()
        .then(|| hoclieu::content::centre::CentreLibrary::open(&settings.data).ok())
        .flatten();
    let hidden = centre
        .as_ref()
        .and_then(|c| c.hidden().ok())
        .unwrap_or_default();
    let source = match &centre {
        Some(c) => c.over(source),
        None => source,
    };
    let library = Library::load_hiding(source, &hidden);
    let findings = hoclieu::cli::doctor::examine(&settings, &library, hoclieu::usage::now_ms());
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

fn backup(args: hoclieu::cli::args::BackupArgs) -> anyhow::Result<ExitCode> {
    let resolved = args.place.resolve(hoclieu::settings::Layer::default())?;
    let s = &resolved.settings;
    anyhow::ensure!(s.data.is_dir(), "no data folder at {}", s.data.display());
    // Written beside, then renamed: a pulled USB stick must not leave a file that looks whole.
    let tmp = args.to.with_extension("part");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut out = std::io::BufWriter::new(file);
    let manifest = hoclieu::package::backup::backup(
        &s.data,
        resolved.file.as_deref(),
        &mut out,
        &hoclieu::package::local::created_now(),
        &s.centre,
    )?;
    use std::io::Write;
    out.flush()?;
    out.into_inner()?.sync_all()?;
    std::fs::rename(&tmp, &args.to)?;
    let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
    println!(
        "Saved {} files ({:.1} MB) to {}.",
        manifest.files.len(),
        bytes as f64 / 1e6,
        args.to.display()
    );
    Ok(ExitCode::SUCCESS)
}

fn restore(args: hoclieu::cli::args::RestoreArgs) -> anyhow::Result<ExitCode> {
    let data = args.place.settings()?.data;
    let done = hoclieu::package::backup::restore(&args.file, &data)
        .with_context(|| format!("{} was not restored", args.file.display()))?;
    println!("Restored {} files into {}.", done.files, data.display());
    if done.settings_file {
        println!(
            "The settings file is at {}; copy it to {} if the box uses that one.",
            data.join("hoclieu.toml").display(),
            hoclieu::settings::DEFAULT_FILE
        );
    }
    println!("The search index is rebuilt when the server starts.");
    Ok(ExitCode::SUCCESS)
}
