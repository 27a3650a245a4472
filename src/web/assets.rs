//! CSS, script and icons from `web/static`, embedded in the binary.
//!
//! Pages link assets as `/static/NAME?v=HASH`; a matching hash is cached for a year, anything
//! else for an hour with ETag revalidation, so an upgrade never shows stale CSS.

use rust_embed::RustEmbed;

use crate::content::source::Blob;

#[derive(RustEmbed)]
#[folder = "web/static/"]
struct Static;

/// An embedded asset with its digest, ready for `files::serve`; `None` when there is none.
pub fn blob(name: &str) -> Option<Blob> {
    let file = Static::get(name)?;
    Some(Blob::Memory {
        sha256: file.metadata.sha256_hash(),
        data: file.data,
    })
}

/// The short version tag of an asset (first 8 hex digits of its SHA-256).
pub fn version(name: &str) -> Option<String> {
    let f = Static::get(name)?;
    Some(crate::content::hex(&f.metadata.sha256_hash()[..4]))
}

/// The URL of an asset with its cache-busting version.
pub fn url(name: &str) -> String {
    match version(name) {
        Some(v) => format!("/static/{name}?v={v}"),
        None => format!("/static/{name}"),
    }
}
