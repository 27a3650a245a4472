//! `/static/{name}`: the embedded CSS, script and icons. A link with the asset's current
//! version is cached for a year; anything else for an hour with ETag revalidation.

use axum::extract::{Path, Query, Request};
use axum::http::{HeaderValue, header};
use axum::response::Response;
use serde::Deserialize;

use crate::web::assets;
use crate::web::error::AppError;

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
    let blob = assets::blob(&name).ok_or(AppError::NotFound)?;
    let content_type = crate::content::content_type(&name);
    let current = q.v.is_some() && q.v == assets::version(&name);
    let mut res = crate::web::files::serve(blob, &content_type, &req)?;
    let cache = if current {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=3600"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Ok(res)
}

/// `GET /favicon.ico`: browsers ask for it on pages that name no icon (printed pages opened
/// from a bookmark); the logo answers instead of a 404 in the log.
pub async fn favicon(req: Request) -> Result<Response, AppError> {
    let name = "icons/logo.svg";
    let blob = assets::blob(name).ok_or(AppError::NotFound)?;
    let mut res = crate::web::files::serve(blob, "image/svg+xml", &req)?;
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    Ok(res)
}
