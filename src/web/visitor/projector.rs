//! `/l/{code}/chieu`: a published lesson on the classroom's projector, filling the screen with
//! its QR code, its code in large capitals and the box's numeric address, so that a room of
//! phones can open it. Showing it is not taking part, so it is not counted.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;

use super::lesson::published;
use crate::lessons::Lesson;
use crate::web::error::AppError;
use crate::web::lesson_view::lesson_addresses;
use crate::web::page::{Site, render};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "lesson_projector.html")]
struct ProjectorPage {
    site: Site,
    l: Lesson,
    qr_svg: String,
    /// The address in the QR code, first, then any other the box has.
    addresses: Vec<String>,
}

/// `GET /l/{code}/chieu`.
pub async fn show(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Html<String>, AppError> {
    let l = published(&state, code).await?;
    let mut addresses = lesson_addresses(&state.site, &l);
    if addresses.is_empty() {
        addresses.push(l.url());
    }
    Ok(render(&ProjectorPage {
        site: Site::new(),
        qr_svg: crate::web::qr::svg(&addresses[0])?,
        addresses,
        l,
    })?)
}
