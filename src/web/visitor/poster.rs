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
    wifi: &'a str,
    addresses: Vec<String>,
    qr_svg: String,
}

/// `GET /poster`.
pub async fn show(
    State(site): State<std::sync::Arc<SiteInfo>>,
    headers: HeaderMap,
) -> Result<Html<String>, AppError> {
    let addresses = crate::addresses::printed(site.listen_addr, site.settings.mdns, &headers);
    let first = addresses
        .first()
        .cloned()
        .unwrap_or_else(|| "http://hoclieu.local/".to_string());
    Ok(render(&Poster {
        site: Site::new(),
        centre: site.centre(),
        commune: &site.settings.commune,
        district: &site.settings.district,
        wifi: &site.settings.wifi,
        qr_svg: crate::web::qr::svg(&first)?,
        addresses,
    })?)
}
