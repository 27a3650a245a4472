//! The command line: its arguments ([`args`]) and the body of each command.

pub mod args;
pub mod doctor;
