//! The command line: its arguments ([`args`]) and the body of each command, one module each.
//! Every command module has a `run` that does the command and returns the exit code.

pub mod admin;
pub mod args;
pub mod backup;
pub mod check;
pub mod config;
pub mod district;
pub mod doctor;
pub mod document;
pub mod package;
pub mod report;
pub mod serve;
pub mod zim;

use std::io::{BufWriter, Write};
use std::path::Path;

use anyhow::Context;

/// Writes `dest` through `write`: first into the file beside it with the extension
/// `part_extension`, then flushed, synced and renamed into place, so that a full or pulled
/// USB stick never leaves a file that looks whole.
fn write_beside<T>(
    dest: &Path,
    part_extension: &str,
    write: impl FnOnce(&mut BufWriter<std::fs::File>) -> anyhow::Result<T>,
) -> anyhow::Result<T> {
    let tmp = dest.with_extension(part_extension);
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut out = BufWriter::new(file);
    let written = write(&mut out)?;
    out.flush()?;
    out.into_inner()?.sync_all()?;
    std::fs::rename(&tmp, dest)?;
    Ok(written)
}
