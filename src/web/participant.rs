//! Who is visiting, without knowing who they are: a random id in a first-party cookie.
//!
//! The id is made on the first page a device opens and lives for two years. Nothing else about
//! the device (no IP address, no browser fingerprint) is kept. The cookie is not `Secure`
//! because the centre's box serves plain HTTP on its own Wi-Fi; it is HttpOnly and SameSite.

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};

use crate::usage::{is_participant_id, new_participant_id};

/// Name of the participant cookie.
pub const COOKIE: &str = "hl_p";
/// Two years.
const MAX_AGE_DAYS: i64 = 730;

/// The participant behind a request (put in request extensions by [`layer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant(pub String);

impl Participant {
    /// A token for this participant's forms: only a page that knows the (HttpOnly) id can
    /// make it, so another site cannot post forms in a visitor's name.
    pub fn form_token(&self) -> String {
        let digest = Sha256::digest(format!("hoclieu-form:{}", self.0));
        crate::content::hex(&digest[..16])
    }
}

/// The value of the first cookie called `name` in a request's headers.
pub fn cookie_value(headers: &axum::http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_string())
}

/// The id in a request's cookies, if it is one this server could have made.
pub fn from_headers(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE).filter(|v| is_participant_id(v))
}

/// Middleware: attaches a [`Participant`] to the request, creating the cookie if needed.
pub async fn layer(mut req: Request, next: Next) -> Response {
    let (id, fresh) = match from_headers(req.headers()) {
        Some(id) => (id, false),
        None => (new_participant_id(), true),
    };
    req.extensions_mut().insert(Participant(id.clone()));
    let mut res = next.run(req).await;
    if fresh {
        let c = Cookie::build((COOKIE, id))
            .path("/")
            .http_only(true)
            .same_site(SameSite::Lax)
            .max_age(cookie::time::Duration::days(MAX_AGE_DAYS))
            .build();
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    res
}
