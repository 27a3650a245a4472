//! Who is visiting, without knowing who they are: a random id in a signed first-party cookie.
//!
//! An id is made on the first page a device opens (at most a few per client address and ten
//! minutes, counted in memory only: addresses are never stored) and lives for two years. It is
//! counted only once its cookie comes back on a later request: a page, or the style sheet and
//! clock report every page makes a browser fetch. A script that never sends the cookie back,
//! or a browser that refuses cookies, is no participant; its views are recorded as uncounted.
//! The cookie is not `Secure` because the box serves plain HTTP on its own Wi-Fi.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use cookie::{Cookie, SameSite};
use sha2::{Digest, Sha256};

use super::participant_ids::Cookied;
use super::state::Records;
use crate::usage::{EventKind, UsageEvent, new_participant_id};

/// Name of the participant cookie.
pub const COOKIE: &str = "hl_p";
/// Two years.
const MAX_AGE_DAYS: i64 = 730;

/// The participant behind a request (put in request extensions by [`layer`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Participant {
    /// The id; empty when none could be given (too many new ids from one address, or no
    /// records): such views are recorded as uncounted.
    pub id: String,
    /// Whether the request brought the signed cookie back (not a freshly made id).
    pub returned: bool,
}

impl Participant {
    /// A token for this participant's forms: only a page that knows the (HttpOnly) id can
    /// make it, so another site cannot post forms in a visitor's name.
    pub fn form_token(&self) -> String {
        let digest = Sha256::digest(format!("hoclieu-form:{}", self.id));
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

fn peer_of(req: &Request) -> Option<IpAddr> {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip())
}

/// Notes that `id`'s cookie came back, once per run: from then on it is counted.
fn returned(records: &Records, id: &str) {
    if let Records::Open(log) = records
        && log.visitors.first_return(id)
    {
        log.recorder
            .record(UsageEvent::at(&log.clock, EventKind::Kept, id));
    }
}

/// Middleware for pages: attaches a [`Participant`] to the request, issuing a signed cookie
/// if the request brought none (while its address may still get new ids).
pub async fn layer(State(records): State<Records>, mut req: Request, next: Next) -> Response {
    let Records::Open(log) = &records else {
        // Nothing is counted: no id is needed.
        req.extensions_mut().insert(Participant {
            id: String::new(),
            returned: false,
        });
        return next.run(req).await;
    };
    let visitors = &log.visitors;
    let checked = visitors.check(cookie_value(req.headers(), COOKIE).as_deref());
    let (who, fresh) = match checked {
        Cookied::Signed(id) => {
            returned(&records, &id);
            (Participant { id, returned: true }, false)
        }
        other if visitors.may_issue(peer_of(&req), Instant::now()) => {
            // An unsigned id of an older box keeps its number, so its device's records
            // before and after stay one participant.
            let id = match other {
                Cookied::Unsigned(id) => id,
                _ => new_participant_id(),
            };
            (
                Participant {
                    id,
                    returned: false,
                },
                true,
            )
        }
        _ => (
            Participant {
                id: String::new(),
                returned: false,
            },
            false,
        ),
    };
    let cookie = fresh.then(|| visitors.cookie_for(&who.id));
    req.extensions_mut().insert(who);
    let mut res = next.run(req).await;
    if let Some(value) = cookie {
        let c = Cookie::build((COOKIE, value))
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

/// Middleware for what a page makes a browser fetch next (style sheet, icon, clock report):
/// a signed cookie arriving there came back, so its id is kept. Nothing is issued here.
pub async fn came_back(State(records): State<Records>, req: Request, next: Next) -> Response {
    if let Records::Open(log) = &records
        && let Cookied::Signed(id) = log
            .visitors
            .check(cookie_value(req.headers(), COOKIE).as_deref())
    {
        returned(&records, &id);
    }
    next.run(req).await
}
