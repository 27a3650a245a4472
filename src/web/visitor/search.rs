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
    /// The collection searched alone (`in=`): its name; its hits are `shelves[0]`.
    within: Option<String>,
}

impl SearchPage {
    /// Where a collection's other hits are listed, a page at a time.
    fn more_in(&self, name: &str) -> String {
        page_url(&self.q, None, Some(name), 0)
    }

    /// The same search over the whole library.
    fn everywhere(&self) -> String {
        page_url(&self.q, None, None, 0)
    }
}

/// The address of a page of results.
fn page_url(q: &str, category: Option<Category>, within: Option<&str>, offset: usize) -> String {
    let start = "/search?";
    let mut ser = form_urlencoded::Serializer::for_suffix(start.to_string(), start.len());
    ser.append_pair("q", q);
    if let Some(c) = category {
        ser.append_pair("category", c.slug());
    }
    if let Some(w) = within {
        ser.append_pair("in", w);
    }
    if offset > 0 {
        ser.append_pair("offset", &offset.to_string());
    }
    ser.finish()
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

/// `GET /search?q=&category=&offset=`, or `?q=&in=COLLECTION&offset=` for one collection's
/// hits alone.
pub async fn search(
    State(state): State<AppState>,
    visitor: Visitor,
    Params(p): Params<SearchParams>,
) -> Result<Html<String>, AppError> {
    let p = p.validate()?;
    let limit = p.limit.unwrap_or(DEFAULT_LIMIT);
    if let Some(name) = p.within {
        // One collection's hits, page by page: the rest of a search already counted.
        let found = state
            .search_collection(name.clone(), p.q.clone(), limit, p.offset)
            .await?
            .ok_or(AppError::NotFound)?;
        let shown = p.offset + found.results.hits.len();
        let next_url = (shown < found.results.total && shown < MAX_OFFSET)
            .then(|| page_url(&p.q, None, Some(&name), shown));
        return Ok(render(&SearchPage {
            site: Site::new(),
            results: crate::search::Results::empty(&p.q),
            q: p.q,
            category: None,
            offset: p.offset,
            next_url,
            lessons: Vec::new(),
            shelves: vec![found],
            within: Some(name),
        })?);
    }
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
    let next_url = (shown < results.total && shown < MAX_OFFSET)
        .then(|| page_url(&p.q, p.category, None, shown));
    Ok(render(&SearchPage {
        site: Site::new(),
        q: p.q,
        category: p.category,
        results,
        offset: p.offset,
        next_url,
        lessons,
        shelves,
        within: None,
    })?)
}
