//! Lessons as visitors see them: the page at `/l/{code}`, its QR code, and the A4 handout.
//! Only published lessons are shown; opening one counts as joining it in the usage reports.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use crate::lessons::Lesson;
use crate::usage::EventKind;
use crate::usage::report::LESSON_PREFIX;
use crate::web::error::AppError;
use crate::web::extract::Visitor;
use crate::web::lesson_view::{ShownItem, shown_items};
use crate::web::offload::blocking;
use crate::web::page::{Site, render};
use crate::web::state::AppState;

/// A published lesson, or 404.
pub async fn published(state: &AppState, code: String) -> Result<Lesson, AppError> {
    let store = state.lessons.clone();
    blocking(move || store.get(&code))
        .await?
        .filter(|l| l.published)
        .ok_or(AppError::NotFound)
}

fn date_vi(l: &Lesson) -> Option<String> {
    crate::clock::parse_date(&l.date).map(crate::usage::report::vi_date)
}

#[derive(Template)]
#[template(path = "lesson.html")]
struct LessonPage {
    site: Site,
    l: Lesson,
    date_vi: Option<String>,
    items: Vec<ShownItem>,
}

/// `GET /l/{code}`.
pub async fn show(
    State(state): State<AppState>,
    Path(code): Path<String>,
    visitor: Visitor,
) -> Result<Html<String>, AppError> {
    let catalog = state.catalog()?;
    let l = published(&state, code).await?;
    if let Some(who) = visitor.id() {
        state.records.record(EventKind::Lesson, who, |e| {
            e.material = Some(format!("{LESSON_PREFIX}{}", l.code));
            e.category = Some(l.category);
        });
    }
    Ok(render(&LessonPage {
        site: Site::new(),
        date_vi: date_vi(&l),
        items: shown_items(&l, &catalog, false),
        l,
    })?)
}

/// The address phones should open for `path`: the box's own address, as on the poster, never
/// the Host the page happened to be opened with (`localhost` on the box's own browser).
fn address(state: &AppState, headers: &HeaderMap, path: &str) -> String {
    let site = &state.site;
    let base = crate::addresses::printed(site.listen_addr, site.settings.mdns, headers)
        .into_iter()
        .next()
        .unwrap_or_else(|| "http://hoclieu.local/".to_string());
    format!("{}{}", base.trim_end_matches('/'), path)
}

/// `GET /l/{code}/qr.svg`.
pub async fn qr(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let l = published(&state, code).await?;
    let svg = crate::web::qr::svg(&address(&state, &headers, &l.url()))?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("image/svg+xml"),
        )],
        svg,
    )
        .into_response())
}

#[derive(Template)]
#[template(path = "lesson_print.html")]
struct PrintPage<'a> {
    site: Site,
    centre: &'a str,
    l: Lesson,
    date_vi: Option<String>,
    items: Vec<ShownItem>,
    qr_svg: String,
    address: String,
}

/// `GET /l/{code}/in`: the A4 handout.
pub async fn print(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Html<String>, AppError> {
    let catalog = state.catalog()?;
    let l = published(&state, code).await?;
    let address = address(&state, &headers, &l.url());
    let lesson = l.clone();
    // Reading every material's file blocks.
    let items = tokio::task::spawn_blocking(move || shown_items(&lesson, &catalog, true)).await?;
    Ok(render(&PrintPage {
        site: Site::new(),
        centre: state.site.centre(),
        date_vi: date_vi(&l),
        qr_svg: crate::web::qr::svg(&address)?,
        address,
        items,
        l,
    })?)
}
