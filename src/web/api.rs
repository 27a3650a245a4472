//! The JSON API: the stable contract other tools and the tests use.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::error::{ApiError, AppError};
use super::extract::{DEFAULT_LIMIT, Params, SearchParams, SuggestParams};
use super::state::AppState;
use crate::content::{Attachment, Category};
use crate::search::Results;
use crate::search::suggest::{MAX_SUGGESTIONS, Suggestion};

/// `GET /healthz`: 200 once the index is ready, 503 before. `status` is `degraded` (still 200:
/// the library is served) when something is missing, each named in `degraded`: a data folder
/// that cannot be written, visits not recorded, the index kept in memory.
pub async fn health(State(state): State<AppState>) -> Response {
    let library = &state.library;
    let Some(c) = library.current() else {
        return AppError::Starting.into_json();
    };
    let read_only = state.site.storage.is_read_only();
    let degraded: Vec<&str> = [
        (read_only, "data folder cannot be written"),
        (!state.records.is_open(), "visits are not recorded"),
        (library.index_in_memory(), "search index kept in memory"),
    ]
    .into_iter()
    .filter_map(|(bad, what)| bad.then_some(what))
    .collect();
    Json(serde_json::json!({
        "status": if degraded.is_empty() { "ok" } else { "degraded" },
        "materials": c.library.materials().len(),
        "indexed": c.index.num_docs(),
        "problems": c.library.problems().len(),
        "loads": library.loads(),
        "storage": if read_only { "read-only" } else { "writable" },
        "recording": state.records.is_open(),
        "degraded": degraded,
    }))
    .into_response()
}

/// The answer of `GET /api/search`: the materials' results, and each ZIM collection's.
#[derive(Debug, Serialize)]
pub struct SearchAnswer {
    #[serde(flatten)]
    results: Results,
    collections: Vec<crate::collections::search::ShelfResults>,
}

/// `GET /api/search?q=&category=&limit=`, or `?q=&in=COLLECTION&limit=&offset=` for one
/// collection's hits alone.
pub async fn search(
    State(state): State<AppState>,
    Params(p): Params<SearchParams>,
) -> Result<Json<SearchAnswer>, ApiError> {
    let p = p.validate()?;
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if let Some(name) = p.within {
        // Within one collection: its hits alone, page by page.
        let found = state
            .search_collection(name, p.q.clone(), limit, p.offset)
            .await?
            .ok_or(AppError::NotFound)?;
        return Ok(Json(SearchAnswer {
            results: Results::empty(&p.q),
            collections: vec![found],
        }));
    }
    let results = state.search(p.q.clone(), p.category, limit, 0).await?;
    let collections = state.search_collections(p.q, p.category, SHELF_HITS).await;
    Ok(Json(SearchAnswer {
        results,
        collections,
    }))
}

/// Articles shown at most per collection.
pub const SHELF_HITS: usize = 5;

/// Suggestion places kept for the collections' articles when they have some: a Wikipedia
/// must not crowd out the centre's own materials, nor be crowded out by them.
pub const SHELF_SUGGESTIONS: usize = 3;

/// `GET /api/suggest?q=`: up to 8 titles for the search box, the library's first, then the
/// collections' articles.
pub async fn suggest(
    State(state): State<AppState>,
    Params(p): Params<SuggestParams>,
) -> Result<Json<Vec<Suggestion>>, ApiError> {
    let catalog = state.catalog()?;
    let typed = p.q.unwrap_or_default();
    let mut own = catalog.suggester.suggest(&catalog.library, &typed);
    if state.collections.list().is_empty() || typed.trim().chars().count() < 2 {
        return Ok(Json(own));
    }
    let shelf = std::sync::Arc::clone(&state.collections);
    let theirs = tokio::task::spawn_blocking(move || shelf.suggest(&typed, MAX_SUGGESTIONS))
        .await
        .unwrap_or_default();
    own.truncate(MAX_SUGGESTIONS - theirs.len().min(SHELF_SUGGESTIONS));
    let room = MAX_SUGGESTIONS - own.len();
    own.extend(theirs.into_iter().take(room));
    Ok(Json(own))
}

/// One material in `GET /api/materials`.
#[derive(Debug, Serialize)]
pub struct MaterialInfo {
    id: String,
    title: String,
    category: Category,
    language: String,
    tags: Vec<String>,
    summary: String,
    url: String,
    attachments: Vec<Attachment>,
}

/// `GET /api/materials`: every material with its attachments.
pub async fn materials(State(state): State<AppState>) -> Result<Json<Vec<MaterialInfo>>, ApiError> {
    let catalog = state.catalog()?;
    Ok(Json(
        catalog
            .library
            .materials()
            .iter()
            .map(|m| MaterialInfo {
                id: m.id.clone(),
                title: m.title.clone(),
                category: m.category,
                language: m.language.clone(),
                tags: m.tags.clone(),
                summary: m.summary.clone(),
                url: m.url(),
                attachments: m.attachments.clone(),
            })
            .collect(),
    ))
}

/// Largest difference from the box's clock a phone report may claim (about 30 years): beyond
/// it the report is garbage, not a clock.
const MAX_CLOCK_CLAIM_MS: i64 = 30 * 365 * 24 * 60 * 60 * 1000;

/// `POST /api/clock` with body `t=<phone time in ms>`: a page's script reports the phone's
/// clock, which carries network time. Reports are keyed by the phone's address, held in memory
/// only, so one phone counts once however many cookies it makes up.
pub async fn clock(
    State(clock): State<std::sync::Arc<crate::clock::Clock>>,
    peer: Option<axum::Extension<axum::extract::ConnectInfo<std::net::SocketAddr>>>,
    body: String,
) -> axum::http::StatusCode {
    let Some(t) = body
        .trim()
        .strip_prefix("t=")
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|t| (t - clock.now_ms()).abs() < MAX_CLOCK_CLAIM_MS)
    else {
        return axum::http::StatusCode::BAD_REQUEST;
    };
    let phone = peer.map_or_else(
        || "unknown".to_string(),
        |axum::Extension(axum::extract::ConnectInfo(a))| a.ip().to_string(),
    );
    clock.report(&phone, t);
    axum::http::StatusCode::NO_CONTENT
}
