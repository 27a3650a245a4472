//! The staff area under `/admin`: sessions and login, the manager's report and its CSV tables,
//! accounts, and the teachers' work on materials, uploads, lessons, packages and backups.

pub mod accounts;
pub mod auth;
pub mod backup;
pub mod charts;
pub mod clock;
pub mod collections;
pub mod confirm;
pub mod dashboard;
pub mod district;
pub mod documents;
pub mod lessons;
pub mod materials;
pub mod packages;
pub mod report_csv;
pub mod session;
pub mod summary;
pub mod uploads;
