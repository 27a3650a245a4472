//! The staff area under `/admin`: login and sessions, the manager's report, accounts, and the
//! teachers' work on materials, uploads, lessons, packages and backups.

pub mod accounts;
pub mod auth;
pub mod backup;
pub mod lessons;
pub mod materials;
pub mod packages;
pub mod uploads;
