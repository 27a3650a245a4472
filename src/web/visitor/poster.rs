//! `/poster`: an A4 sheet for the centre's wall with its name, how to connect, the address and a
//! QR code, so that villagers find the library without typing.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Html;

use crate::web::error::AppError;
use crate::web::page::{Site, render};
use crate::web::state::SiteInfo;

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
fn addresses(site: &SiteInfo, headers: &HeaderMap) -> Vec<String> {
    let addr = site.listen_addr;
    let mut out: Vec<String> = crate::addresses::reachable_urls(addr)
        .into_iter()
        .filter(|u| !u.contains("localhost"))
        .collect();
    if site.settings.mdns {
        out.push(format!("http://hoclieu.local:{}/", addr.port()));
    }
    if out.is_empty()
        && let Some(host) = crate::addresses::request_host(headers)
    {
        out.push(format!("http://{host}/"));
    }
    out
}

/// `GET /poster`.
pub async fn show(
    State(site): State<std::sync::Arc<SiteInfo>>,
    headers: HeaderMap,
) -> Result<Html<String>, AppError> {
    let addresses = addresses(&site, &headers);
    let first = addresses
        .first()
        .cloned()
        .unwrap_or_else(|| "http://hoclieu.local/".to_string());
    Ok(render(&Poster {
        site: Site::new(),
        centre: site.centre(),
        commune: &site.settings.commune,
        district: &site.settings.district,
        qr_svg: crate::web::qr::svg(&first)?,
        addresses,
    })?)
}
