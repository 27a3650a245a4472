//! `hoclieu backup` and `hoclieu restore`: save the records, the centre's materials, lessons
//! and settings to one file (safe while the server runs), and put such a file back.

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::args::{BackupArgs, RestoreArgs};
use crate::package::{backup, local};
use crate::settings::{self, Layer};

/// Runs `hoclieu backup`.
pub fn run(args: BackupArgs) -> anyhow::Result<ExitCode> {
    let resolved = args.place.resolve(Layer::default())?;
    let s = &resolved.settings;
    anyhow::ensure!(s.data.is_dir(), "no data folder at {}", s.data.display());
    let manifest = super::write_beside(&args.to, "part", |out| {
        Ok(backup::backup(
            &s.data,
            resolved.file.as_deref(),
            out,
            &local::created_now(),
            &s.centre,
        )?)
    })?;
    let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
    println!(
        "Saved {} files ({:.1} MB) to {}.",
        manifest.files.len(),
        bytes as f64 / 1e6,
        args.to.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs `hoclieu restore`.
pub fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let data = args.place.settings()?.data;
    let done = backup::restore(&args.file, &data)
        .with_context(|| format!("{} was not restored", args.file.display()))?;
    println!("Restored {} files into {}.", done.files, data.display());
    for (path, why) in &done.refused {
        println!("Not restored (beyond what the editor allows): {path}: {why}");
    }
    if done.settings_file {
        println!(
            "The settings file is at {}; copy it to {} if the box uses that one.",
            crate::data_dir::DataDir::new(&data)
                .settings_copy()
                .display(),
            settings::DEFAULT_FILE
        );
    }
    println!("The search index is rebuilt when the server starts.");
    Ok(ExitCode::SUCCESS)
}
