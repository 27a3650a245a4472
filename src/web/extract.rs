//! Query-string parameters, decoded leniently and validated with messages a person can act on.

use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::AppError;
use super::participant::Participant;
use crate::content::Category;
use crate::search::MAX_LIMIT;

/// Like `Query`, but a malformed query string becomes an ordinary 400 page.
#[derive(Debug)]
pub struct Params<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Params<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(v)) => Ok(Params(v)),
            Err(e) => Err(AppError::BadRequest(format!(
                "Địa chỉ tìm kiếm không đúng dạng ({}).",
                e.body_text()
            ))),
        }
    }
}

/// `?q=&category=&limit=&offset=` as received.
#[derive(Debug, Default, Deserialize)]
pub struct SearchParams {
    q: Option<String>,
    category: Option<String>,
    limit: Option<String>,
    offset: Option<String>,
    /// A ZIM collection's name: search it alone, page by page.
    #[serde(rename = "in")]
    within: Option<String>,
}

/// Checked search parameters.
#[derive(Debug)]
pub struct Search {
    /// The query text (may be empty).
    pub q: String,
    /// Restrict to a field.
    pub category: Option<Category>,
    /// Requested number of hits.
    pub limit: Option<usize>,
    /// Hits to skip.
    pub offset: usize,
    /// The one ZIM collection searched, if the search is within one.
    pub within: Option<String>,
}

/// Results per page when the client does not say.
pub const DEFAULT_LIMIT: usize = 20;

/// Furthest a client may page into results.
pub const MAX_OFFSET: usize = 1000;

impl SearchParams {
    /// Checks the values; an unknown field or a non-number is a 400 with a clear message.
    pub fn validate(self) -> Result<Search, AppError> {
        let category = match self.category.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(c) => Some(c.parse::<Category>().map_err(|_| {
                AppError::BadRequest(format!(
                    "Không có lĩnh vực «{c}». Các lĩnh vực: agriculture, health, law, life-skills."
                ))
            })?),
        };
        let number =
            |name: &str, v: Option<String>, max: usize| -> Result<Option<usize>, AppError> {
                match v.as_deref().map(str::trim) {
                    None | Some("") => Ok(None),
                    Some(s) => s
                        .parse::<usize>()
                        .map(|n| Some(n.min(max)))
                        .map_err(|_| AppError::BadRequest(format!("«{name}» phải là một số."))),
                }
            };
        Ok(Search {
            q: self.q.unwrap_or_default(),
            category,
            limit: number("limit", self.limit, MAX_LIMIT)?,
            offset: number("offset", self.offset, MAX_OFFSET)?.unwrap_or(0),
            within: self.within.filter(|w| !w.trim().is_empty()),
        })
    }
}

/// `?q=` of the suggestion endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct SuggestParams {
    /// What has been typed so far.
    pub q: Option<String>,
}

/// A posted form; one that cannot be decoded is a clear 400.
#[derive(Debug)]
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        axum::Form::<T>::from_request(req, state)
            .await
            .map(|axum::Form(v)| Form(v))
            .map_err(|e| AppError::bad(format!("Biểu mẫu không đúng dạng ({}).", e.body_text())))
    }
}

/// The form token a form carries (`token=`), whatever else it holds.
#[derive(Debug, Default, Deserialize)]
pub struct Token {
    /// The token, if sent.
    pub token: Option<String>,
}

/// Decodes a form body twice: its token, and the form itself.
pub fn token_and_form<T: DeserializeOwned>(body: &[u8]) -> Result<(Option<String>, T), AppError> {
    let bad =
        |e: serde_urlencoded::de::Error| AppError::bad(format!("Biểu mẫu không đúng dạng ({e})."));
    let Token { token } = serde_urlencoded::from_bytes(body).map_err(bad)?;
    Ok((token, serde_urlencoded::from_bytes(body).map_err(bad)?))
}

/// The visitor behind a request, when the participant layer saw one (pages a visitor opens).
#[derive(Debug, Clone)]
pub struct Visitor(pub Option<Participant>);

impl<S: Send + Sync> FromRequestParts<S> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Visitor(parts.extensions.get::<Participant>().cloned()))
    }
}

impl Visitor {
    /// The participant id, if the participant layer saw the request; empty when no id could
    /// be given (the view is then recorded as uncounted).
    pub fn id(&self) -> Option<&str> {
        self.0.as_ref().map(|p| p.id.as_str())
    }
}

/// A form a visitor posts from one of our pages: decoded, and its token checked against the
/// visitor's, so another site cannot post it in a visitor's name.
#[derive(Debug)]
pub struct VisitorForm<T>(pub Participant, pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for VisitorForm<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        // Only a device whose cookie came back (it opened the form's page first) posts a
        // form: an id made up for this request is nobody's.
        let who = req
            .extensions()
            .get::<Participant>()
            .filter(|p| p.returned)
            .cloned()
            .ok_or_else(|| {
                AppError::bad(
                    "Trình duyệt không gửi lại mã khách (có thể đã chặn cookie). Hãy mở lại trang rồi gửi lại.",
                )
            })?;
        let body = body_bytes(req, state).await?;
        let (token, form) = token_and_form(&body)?;
        if token.as_deref() != Some(who.form_token().as_str()) {
            return Err(AppError::bad(
                "Biểu mẫu đã cũ hoặc không phải từ trang này. Hãy mở lại trang rồi gửi lại.",
            ));
        }
        Ok(VisitorForm(who, form))
    }
}

/// A field chosen in a staff form, or 400 with what to do.
pub fn category_field(value: Option<&str>) -> Result<Category, AppError> {
    value
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| AppError::BadRequest("Hãy chọn lĩnh vực.".into()))
}

/// A request's whole body (within the route's limit: 413 beyond it).
pub async fn body_bytes<S: Send + Sync>(
    req: Request,
    state: &S,
) -> Result<axum::body::Bytes, AppError> {
    axum::body::Bytes::from_request(req, state)
        .await
        .map_err(|e| {
            if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                AppError::TooLarge
            } else {
                AppError::bad("Biểu mẫu gửi lên không trọn vẹn. Hãy thử lại.")
            }
        })
}
