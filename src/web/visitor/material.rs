//! `/m/{path}`: a material's page, or one of the library's files (attachments, pictures),
//! served with ranges for players. Opening either counts in the usage reports.

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::content::{Attachment, Material};
use crate::usage::EventKind;
use crate::web::error::AppError;
use crate::web::extract::Visitor;
use crate::web::page::{Site, render};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "material.html")]
struct MaterialPage<'a> {
    site: Site,
    m: &'a Material,
    body: std::sync::Arc<str>,
    /// The attachments to list (all but the pictures the body already shows), with how long
    /// each recording or video plays.
    attachments: Vec<(&'a Attachment, Option<String>)>,
}

/// Sizes as a reader says them: "2,4 MB" (askama hands fields by reference, methods' results
/// by value).
fn human_size(bytes: impl std::borrow::Borrow<u64>) -> String {
    crate::content::human_size(*bytes.borrow())
}

/// `GET /m/{*path}`: a material's page, or one of the library's files.
pub async fn library_path(
    State(state): State<AppState>,
    Path(path): Path<String>,
    visitor: Visitor,
    req: Request,
) -> Result<Response, AppError> {
    use unicode_normalization::UnicodeNormalization;
    let catalog = state.catalog()?;
    let path: String = path.nfc().collect();
    let record = |kind: EventKind, m: &Material| {
        if let Some(who) = visitor.id() {
            state.records.record(kind, who, |e| {
                e.material = Some(m.id.clone());
                e.category = Some(m.category);
            });
        }
    };
    if let Some(m) = catalog.library.get(&path) {
        let body = catalog.rendered_body(m).map_err(|e| {
            tracing::warn!(id = %m.id, error = %e, "material changed on disk and no longer reads");
            AppError::NotFound
        })?;
        record(EventKind::View, m);
        let listed: Vec<&Attachment> = m.listed_attachments().collect();
        // Reading a recording's headers blocks (once per catalogue; then it is remembered);
        // a page without recordings or videos, most of them, skips the trip.
        let lengths = if listed.iter().any(|a| matches!(a.kind(), "audio" | "video")) {
            let (cat, id) = (std::sync::Arc::clone(&catalog), m.id.clone());
            tokio::task::spawn_blocking(move || {
                cat.library.get(&id).map_or_else(Vec::new, |m| {
                    m.listed_attachments()
                        .map(|a| cat.duration(a).map(crate::content::media::spoken))
                        .collect()
                })
            })
            .await?
        } else {
            Vec::new()
        };
        let lengths = lengths.into_iter().chain(std::iter::repeat(None));
        let attachments = listed.into_iter().zip(lengths).collect();
        return Ok(render(&MaterialPage {
            site: Site::new(),
            m,
            body,
            attachments,
        })?
        .into_response());
    }
    let file = catalog
        .library
        .file(&path)
        .ok_or(AppError::NotFound)?
        .clone();
    // A player fetches a file in many ranges; count only the request that starts it.
    if starts_playback(&req)
        && let Some(m) = catalog.library.owner(&file.rel)
    {
        record(EventKind::Attachment, m);
    }
    let content_type = crate::content::content_type(&file.rel);
    // Opening and stat-ing a file blocks; keep it off the async workers.
    let source = catalog.library.source().clone();
    let ct = content_type.clone();
    let opened = tokio::task::spawn_blocking(move || {
        let blob = source.open(&file)?;
        crate::web::files::serve(blob, &ct, &req)
    })
    .await?;
    let mut res = opened.map_err(|e| {
        tracing::warn!(path = %path, error = %e, "library file cannot be opened");
        AppError::NotFound
    })?;
    let h = res.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    if let Some(csp) = attachment_csp(&content_type) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
    }
    Ok(res)
}

/// A plain GET, or a range from the first byte; not HEAD, not a later chunk.
fn starts_playback(req: &Request) -> bool {
    if req.method() != axum::http::Method::GET {
        return false;
    }
    match req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    {
        None => true,
        Some(r) => r.trim().starts_with("bytes=0-"),
    }
}

/// Files that a browser could run script from are locked down when opened directly.
/// Only pictures, recordings, videos and PDFs are opened under the page's policy; anything else
/// a browser might render (RSS, Atom, RDF, XUL, HTML…) runs nothing and reaches nothing.
fn attachment_csp(content_type: &str) -> Option<&'static str> {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let media = (essence.starts_with("image/") && essence != "image/svg+xml")
        || essence.starts_with("audio/")
        || essence.starts_with("video/")
        || essence == "application/pdf";
    match essence {
        _ if media => None,
        // A drawing keeps its inline styles and embedded pictures, and nothing else.
        "image/svg+xml" => Some("default-src 'none'; style-src 'unsafe-inline'; img-src data:"),
        _ => Some("sandbox; default-src 'none'"),
    }
}
