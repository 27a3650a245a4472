//! `/search`: the results page, with published lessons that match above the materials. The
//! first page of a search counts as one search in the usage reports.

use askama::Template;
use axum::extract::State;
use axum::response::Html;

use crate::content::Category;
use crate::lessons::Lesson;
use crate::search::Results;
use crate::usage::EventKind;
use crate::web::error::AppError;
use crate::web::extract::{DEFAULT_LIMIT, MAX_OFFSET, Params, SearchParams, Visitor};
use crate::web::offload::blocking;
use crate::web::page::{Site, render};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    site: Site,
    q: String,
    category: Option<Category>,
    results: Results,
    offset: usize,
    next_url: Option<String>,
    lessons: Vec<Lesson>,
    /// What the ZIM collections found (first page only).
    shelves: Vec<crate::collections::search::ShelfResults>,
}

/// Published lessons matching a query (first page only; there are few lessons).
async fn matching_lessons(state: &AppState, q: &str, category: Option<Category>) -> Vec<Lesson> {
    if q.trim().is_empty() {
        return Vec::new();
    }
    let q = q.to_string();
    let store = state.lessons.clone();
    let found = blocking(move || {
        Ok::<_, crate::lessons::LessonError>(
            store
                .list()?
                .iter()
                .filter(|l| l.published && category.is_none_or(|c| c == l.category))
                .filter(|l| crate::lessons::matches(l, &q))
                .take(5)
                .cloned()
                .collect(),
        )
    })
    .await;
    found.unwrap_or_else(|e| {
        tracing::warn!(error = ?e, "lessons could not be searched");
        Vec::new()
    })
}

/// `GET /search?q=&category=&offset=`.
pub async fn search(
    State(state): State<AppState>,
    visitor: Visitor,
    Params(p): Params<SearchParams>,
) -> Result<Html<String>, AppError> {
    let p = p.validate()?;
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    let results = state
        .search(p.q.clone(), p.category, limit, p.offset)
        .await?;
    let shelves = if p.offset == 0 {
        state
            .search_collections(p.q.clone(), p.category, crate::web::api::SHELF_HITS)
            .await
    } else {
        Vec::new()
    };
    // Only the first page of a search counts as a search.
    if let (Some(who), 0, false) = (visitor.id(), p.offset, p.q.trim().is_empty()) {
        // Only materials or articles about the whole query count as found: a search answered
        // with partial matches alone is a gap in the library.
        let full = results.full + shelves.iter().map(|s| s.results.full).sum::<usize>();
        state.records.record(EventKind::Search, who, |e| {
            e.query = Some(p.q.clone());
            e.results = Some(full as u64);
            e.category = p.category;
        });
    }
    let lessons = if p.offset == 0 {
        matching_lessons(&state, &p.q, p.category).await
    } else {
        Vec::new()
    };
    let shown = p.offset + results.hits.len();
    let next_url = (shown < results.total && shown < MAX_OFFSET).then(|| {
        let mut ser = form_urlencoded::Serializer::new(String::from("/search?"));
        ser.append_pair("q", &p.q);
        if let Some(c) = p.category {
            ser.append_pair("category", c.slug());
        }
        ser.append_pair("offset", &shown.to_string());
        ser.finish()
    });
    Ok(render(&SearchPage {
        site: Site::new(),
        q: p.q,
        category: p.category,
        results,
        offset: p.offset,
        next_url,
        lessons,
        shelves,
    })?)
}
