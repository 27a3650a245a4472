//! The live library: the loaded materials with their search index and suggestions
//! ([`Catalog`]), the [`Librarian`] that loads and swaps it, and the folder watcher.

pub mod watch;
