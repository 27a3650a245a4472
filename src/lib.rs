//! hoclieu: an offline library of Vietnamese learning materials, served on a community learning
//! centre's Wi-Fi from one small box.
//!
//! - [`content`] reads the library (Markdown with TOML front matter, and attached files).
//! - [`search`] indexes it with Vietnamese-aware analysis and answers queries.
//! - [`usage`] counts participation privately and turns it into reports.
//! - [`web`] serves pages, files and the JSON API.
//! - [`cli`] and [`server`] turn the command line into a running server.

pub mod accounts;
pub mod addresses;
pub mod box_key;
pub mod catalog;
pub mod cli;
pub mod clock;
pub mod collections;
pub mod content;
pub mod data_dir;
pub mod district;
pub mod documents;
pub mod error;
pub mod fsutil;
#[doc(hidden)]
pub mod fuzzing;
pub mod lessons;
pub mod memory;
pub mod package;
pub mod search;
pub mod server;
pub mod settings;
pub mod summary;
pub mod summary_transport;
pub mod usage;
pub mod web;
pub mod zim;

pub use error::{Error, Result};
