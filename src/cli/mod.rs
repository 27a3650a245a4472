//! The command line: its arguments ([`args`]) and the body of each command, one module each.
//! Every command module has a `run` that does the command and returns the exit code.

pub mod admin;
pub mod args;
pub mod backup;
pub mod check;
pub mod config;
pub mod doctor;
pub mod package;
pub mod report;
pub mod serve;
