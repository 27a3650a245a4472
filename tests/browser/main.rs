//! The site in a real browser: Debian's headless Chromium, driven through chromedriver, against
//! the real `hoclieu` binary on 127.0.0.1 (downloads under compression, phone-width layout, the
//! printed report, axe-core, the lesson editor by keyboard and mouse). Without a browser these
//! tests skip loudly; under `CI=true` that is a failure.

#![allow(clippy::unwrap_used)] // test helpers may panic: a panic is a failed test

mod browser;
mod fetch;
mod http;
mod pages;
mod site;

mod axe;
mod collections;
mod district_print;
mod downloads;
mod lesson_editor;
mod overflow;
mod report_print;
mod screenshots;
