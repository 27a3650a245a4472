//! The `hoclieu` command: parse arguments, set up logging, hand over to the chosen command.

use std::process::ExitCode;

use clap::Parser;
use hoclieu::cli::args::{Cli, Command};
use hoclieu::cli::{
    admin, backup, check, config, district, doctor, document, package, report, serve, zim,
};

fn main() -> ExitCode {
    let Cli { command } = Cli::parse();
    // Logs go to stderr; stdout carries what the user asked for (addresses, reports).
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        // The journal (systemd) and log files get plain text, not colour codes.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "hoclieu=info,tower_http=warn".into()),
        )
        .init();
    let result = match command {
        Command::Serve(args) => serve::run(args),
        Command::Check(args) => check::run(args),
        Command::Report(args) => report::run(args),
        Command::Admin(command) => admin::run(command),
        Command::Config(args) => config::run(args),
        Command::Doctor(args) => doctor::run(args),
        Command::Backup(args) => backup::run(args),
        Command::Restore(args) => backup::restore(args),
        Command::Package(command) => package::run(command),
        Command::Summary(command) => district::summary(command),
        Command::District(command) => district::run(command),
        Command::Read(args) => document::read(args),
        Command::Zim(args) => zim::check(args),
        Command::ExtractWorker(args) => document::worker(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("hoclieu: {e:#}");
            ExitCode::FAILURE
        }
    }
}
