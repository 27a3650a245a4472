//! `hoclieu check`: load a library folder (or the built-in one), print every problem found in
//! it and a one-line summary; the exit code says whether there was any problem.

use std::process::ExitCode;

use crate::cli::args::CheckArgs;
use crate::content::{Library, Severity};
use crate::server::startup::library_source;

/// Runs `hoclieu check`.
pub fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let source = library_source(args.place.settings()?.library.as_deref())?;
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
