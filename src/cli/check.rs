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
    let unread = check_documents(&library)?;
    let library_errors = library
        .problems()
        .iter()
        .filter(|p| p.severity == Severity::Error)
        .count();
    let warnings = library.problems().len() - library_errors;
    let errors = library_errors + unread;
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
    Ok(if library.problems().is_empty() && unread == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Reads each document no material holds, as the server would (in its bounded worker), and
/// prints those it could not read; returns how many.
fn check_documents(library: &Library) -> anyhow::Result<usize> {
    let loose = library.loose_documents();
    if loose.is_empty() {
        return Ok(0);
    }
    let Some(reader) = crate::documents::worker::Reader::this_program() else {
        return Ok(0);
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut unread = 0;
    for f in loose {
        let Some(path) = &f.disk_path else { continue };
        match rt.block_on(reader.read(path)) {
            Ok(doc) => {
                let notes = doc.notes();
                println!(
                    "{}: document, becomes a material when served{}",
                    f.rel,
                    if notes.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", notes.join("; "))
                    }
                );
            }
            Err(e) => {
                unread += 1;
                println!("{}: error (skipped): {e}", f.rel);
            }
        }
    }
    Ok(unread)
}
