//! CSS, script and icons from `web/static`, embedded in the binary.
//!
//! Pages link assets as `/static/NAME?v=HASH`; a matching hash is cached for a year, anything
//! else for an hour with ETag revalidation, so an upgrade never shows stale CSS.

use axum::extract::{Path, Query, Request};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use rust_embed::RustEmbed;
use serde::Deserialize;

use crate::content::source::Blob;
use crate::web::error::AppError;

#[derive(RustEmbed)]
#[folder = "web/static/"]
struct Static;

/// The short version tag of an asset (first 8 hex digits of its SHA-256).
fn version(name: &str) -> Option<String> {
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

/// Query of an asset request.
#[derive(Debug, Deserialize)]
pub struct AssetQuery {
    v: Option<String>,
}

/// `GET /static/{*name}`.
pub async fn get(
    Path(name): Path<String>,
    Query(q): Query<AssetQuery>,
    req: Request,
) -> Result<Response, AppError> {
    let file = Static::get(&name).ok_or(AppError::NotFound)?;
    let content_type = crate::content::content_type(&name);
    let current = q.v.is_some() && q.v == version(&name);
    let blob = Blob::Memory {
        sha256: file.metadata.sha256_hash(),
        data: file.data,
    };
    let mut res =
        crate::web::files::serve(blob, &content_type, &req).map_err(crate::Error::from)?;
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(res)
}
