//! `hoclieu config`: print the effective settings as a settings file, each value with where it
//! came from (default, file, `HOCLIEU_*` variable or flag); a broken file is an error here.

use std::process::ExitCode;

use crate::cli::args::ServeArgs;

/// Runs `hoclieu config`.
pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let resolved = args.resolve()?;
    print!("{}", resolved.to_toml());
    Ok(ExitCode::SUCCESS)
}
