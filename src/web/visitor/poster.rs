//! `/poster`: an A4 sheet for the centre's wall with its name, how to connect, the address and a
//! QR code, so that villagers find the library without typing.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Html;

use crate::web::error::AppError;
use crate::web::state::AppState;
use crate::web::visitor::lesson::qr_svg;
use crate::web::visitor::pages::{Site, render};

#[derive(Template)]
#[template(path = "poster.html")]
struct Poster<'a> {
    site: Site,
    centre: &'a str,
    commune: &'a str,
    district: &'a str,
    addresses: Vec<String>,
    qr_svg: String,
}

/// The addresses to print: the box's network addresses (phones can always use those), then
/// `hoclieu.local` when it is announced; the Host the page was opened with if nothing else.
fn addresses(state: &AppState, headers: &HeaderMap) -> Vec<String> {
    let mut out: Vec<String> = state
        .listen_addr()
        .map(crate::server::reachable_urls)
        .unwrap_or_default()
        .into_iter()
        .filter(|u| !u.contains("localhost"))
        .collect();
    if let Some(addr) = state.listen_addr()
        && state.settings().mdns
    {
        out.push(format!("http://hoclieu.local:{}/", addr.port()));
    }
    if out.is_empty()
        && let Some(host) = crate::web::visitor::lesson::request_host(headers)
    {
        out.push(format!("http://{host}/"));
    }
    out
}

/// `GET /poster`.
pub async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Html<String>, AppError> {
    let addresses = addresses(&state, &headers);
    let first = addresses
        .first()
        .cloned()
        .unwrap_or_else(|| "http://hoclieu.local/".to_string());
    let settings = state.settings();
    render(&Poster {
        site: Site::new(),
        centre: state.centre(),
        commune: &settings.commune,
        district: &settings.district,
        qr_svg: qr_svg(&first)?,
        addresses,
    })
}
