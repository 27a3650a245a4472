//! Integration tests: the real router driven in-process, and the real binary.

#![allow(clippy::unwrap_used)] // test helpers may panic: a panic is a failed test

mod admin;
mod api;
mod clock;
mod files;
mod index;
mod layers;
mod lessons;
mod library;
mod limits;
mod materials;
mod packages;
mod pages;
mod pictures;
mod props;
mod search;
mod server;
mod staff;
mod usage;
mod util;
