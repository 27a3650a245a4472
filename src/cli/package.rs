//! `hoclieu package`: carry materials and lessons between centres in one file: export the
//! centre's own (or chosen) ones, or check a package and, with `--apply`, install it.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::args::{ExportArgs, ImportArgs, PackageCommand, Place};
use crate::content::Library;
use crate::content::centre::CentreLibrary;
use crate::lessons::LessonStore;
use crate::package::{Change, local};
use crate::server::startup::{library_source, local_library};

/// Runs `hoclieu package ...`.
pub fn run(command: PackageCommand) -> anyhow::Result<ExitCode> {
    match command {
        PackageCommand::Export(args) => export(args),
        PackageCommand::Import(args) => import(args),
    }
}

/// The library as the server would see it: the base with the centre's folder over it.
fn centre_library(place: &Place) -> anyhow::Result<(Library, CentreLibrary, LessonStore)> {
    let at = place.settings()?;
    let base = library_source(at.library.as_deref())?;
    local_library(&at, base)
        .with_context(|| format!("opening the library in {}", at.data.display()))
}

fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let (library, _, lessons) = centre_library(&args.place)?;
    let centre_name = args.place.settings()?.centre;
    let selection = local::Selection {
        materials: (!args.materials.is_empty()).then_some(args.materials),
        lessons: (!args.lessons.is_empty()).then_some(args.lessons),
    };
    let created = local::created_now();
    let manifest = super::write_beside(&args.out, "tar.part", |out| {
        Ok(local::export(
            out,
            &library,
            &lessons,
            &selection,
            &centre_name,
            &created,
        )?)
    })?;
    println!(
        "Wrote {}: {} materials, {} lessons, {} files.",
        args.out.display(),
        manifest.materials.len(),
        manifest.lessons.len(),
        manifest.files.len()
    );
    Ok(ExitCode::SUCCESS)
}

fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let (library, centre, lessons) = centre_library(&args.place)?;
    let data = args.place.settings()?.data;
    // Staged on the data disk so that installing is a rename.
    let staging = tempfile::Builder::new()
        .prefix(".package-")
        .tempdir_in(&data)?;
    let pkg = local::stage(&args.file, staging.path())
        .with_context(|| format!("{} was refused; nothing was changed", args.file.display()))?;
    let planned = local::plan(&pkg, &library, &lessons);
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
    let done = local::apply(&pkg, &planned, args.replace_conflicts, &centre, &lessons)?;
    println!(
        "Installed: {} new, {} changed, {} conflicts replaced, {} conflicts kept, {} already the same.",
        done.new, done.changed, done.conflicts_applied, done.conflicts_skipped, done.same
    );
    Ok(ExitCode::SUCCESS)
}
