//! Integration tests: the real router driven in-process, and the real binary.

#![allow(clippy::unwrap_used)] // test helpers may panic: a panic is a failed test

mod admin;
mod api;
mod clock;
mod connections;
mod counting;
mod district;
mod docmaker;
mod documents;
mod files;
mod full_disk;
mod index;
mod layers;
mod lessons;
mod library;
mod limits;
mod login_flood;
mod materials;
mod packages;
mod pages;
mod pictures;
mod props;
mod read_only;
mod restore;
mod search;
mod search_honest;
mod server;
mod staff;
mod usage;
mod util;
mod zim;
mod zimmaker;
