//! `hoclieu read FILE`: the text the library would index from a document, read by the same
//! bounded worker as the server's; and the worker itself.

use std::process::ExitCode;

use crate::cli::args::{ExtractWorkerArgs, ReadArgs};
use crate::content::{Category, material};
use crate::documents::{self, worker};
use anyhow::Context;

/// Runs `hoclieu read`.
pub fn read(args: ReadArgs) -> anyhow::Result<ExitCode> {
    let reader = worker::Reader::this_program().context("cannot find the hoclieu program")?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let read = async {
        if args.ocr {
            reader.read_scanned(&args.file).await
        } else {
            reader.read(&args.file).await
        }
    };
    let doc = match rt.block_on(read) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("{}: {e}", args.file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    if args.material {
        let name = args
            .file
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        let p = documents::material::parsed(
            &doc,
            &name,
            &documents::sha256_of(&args.file)?,
            None,
            Category::LifeSkills,
        );
        print!("{}", material::write(&p)?);
    } else {
        println!("{}", doc.plain_text());
    }
    for note in doc.notes() {
        eprintln!("{}: {note}", args.file.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs the worker: one document from standard input, the answer on standard output.
pub fn worker(args: ExtractWorkerArgs) -> anyhow::Result<ExitCode> {
    worker::serve(args.memory, args.seconds, args.ocr)?;
    Ok(ExitCode::SUCCESS)
}
