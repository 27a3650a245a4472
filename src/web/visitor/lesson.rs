//! Lessons as visitors see them: the page at `/l/{code}`, its QR code, and the A4 handout.
//! Only published lessons are shown; opening one counts as joining it in the usage reports.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use crate::lessons::Lesson;
use crate::usage::EventKind;
use crate::usage::report::LESSON_PREFIX;
use crate::web::error::AppError;
use crate::web::participant::Participant;
use crate::web::state::{AppState, Catalog};
use crate::web::visitor::pages::{Site, render};

/// Characters of a material's text put on the handout.
const KEY_CONTENT_CHARS: usize = 700;

/// One material of a lesson as shown.
pub struct ShownItem {
    /// Material title (or a note that it is gone).
    pub title: String,
    /// Its page, if it still exists.
    pub url: Option<String>,
    /// The teacher's note.
    pub note: String,
    /// The material's summary.
    pub summary: String,
    /// The opening of its text (handout only).
    pub key_content: String,
}

/// The items of a lesson, looked up in the catalogue.
pub fn shown_items(lesson: &Lesson, catalog: &Catalog, with_content: bool) -> Vec<ShownItem> {
    lesson
        .items
        .iter()
        .map(|it| match catalog.library.get(&it.material) {
            Some(m) => ShownItem {
                title: m.title.clone(),
                url: Some(m.url()),
                note: it.note.clone(),
                summary: m.summary.clone(),
                key_content: if with_content {
                    key_content(catalog, m)
                } else {
                    String::new()
                },
            },
            None => ShownItem {
                title: format!("{} (tài liệu này không còn trong thư viện)", it.material),
                url: None,
                note: it.note.clone(),
                summary: String::new(),
                key_content: String::new(),
            },
        })
        .collect()
}

fn key_content(catalog: &Catalog, m: &crate::content::Material) -> String {
    let Ok(parsed) = catalog.library.read(m) else {
        return String::new();
    };
    let plain = crate::content::markdown::to_plain_text(&parsed.body);
    let text = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(KEY_CONTENT_CHARS) {
        None => text,
        Some((cut, _)) => {
            let head = &text[..cut];
            let end = head.rfind(['.', '!', '?']).map_or(cut, |i| i + 1);
            format!("{} …", &text[..end])
        }
    }
}

/// A published lesson, or 404.
async fn published(state: &AppState, code: String) -> Result<Lesson, AppError> {
    state
        .with_lessons_store(move |s| s.get(&code))
        .await?
        .filter(|l| l.published)
        .ok_or(AppError::NotFound)
}

fn date_vi(l: &Lesson) -> Option<String> {
    crate::usage::report::parse_date(&l.date).map(crate::usage::report::vi_date)
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
    participant: Option<Extension<Participant>>,
) -> Result<Html<String>, AppError> {
    let catalog = state.catalog().ok_or(AppError::Starting)?;
    let l = published(&state, code).await?;
    if let Some(Extension(p)) = participant {
        let mut e = state.event(EventKind::Lesson, &p.0);
        e.material = Some(format!("{LESSON_PREFIX}{}", l.code));
        e.category = Some(l.category);
        state.record(e);
    }
    render(&LessonPage {
        site: Site::new(),
        date_vi: date_vi(&l),
        items: shown_items(&l, &catalog, false),
        l,
    })
}

/// The Host a page was reached by, when it is a plain host name or address (it goes into
/// printed addresses and QR codes, so nothing else is let through).
pub fn request_host(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.len() <= 255
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || ".-:[]".contains(c))
        })
}

/// The address phones should open, from the Host the page was reached by.
fn address(headers: &HeaderMap, path: &str) -> String {
    let host = request_host(headers).unwrap_or("hoclieu.local");
    format!("http://{host}{path}")
}

/// An SVG QR code for a text (without the XML declaration, so it can sit inside HTML).
pub fn qr_svg(text: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|_| AppError::BadRequest("Địa chỉ quá dài để làm mã QR.".into()))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

/// `GET /l/{code}/qr.svg`.
pub async fn qr(
    State(state): State<AppState>,
    Path(code): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let l = published(&state, code).await?;
    let svg = qr_svg(&address(&headers, &l.url()))?;
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
    let catalog = state.catalog().ok_or(AppError::Starting)?;
    let l = published(&state, code).await?;
    let address = address(&headers, &l.url());
    let cat = catalog.clone();
    let lesson = l.clone();
    // Reading every material's file blocks.
    let items = tokio::task::spawn_blocking(move || shown_items(&lesson, &cat, true))
        .await
        .map_err(crate::Error::from)?;
    render(&PrintPage {
        site: Site::new(),
        centre: state.centre(),
        date_vi: date_vi(&l),
        qr_svg: qr_svg(&address)?,
        address,
        items,
        l,
    })
}
