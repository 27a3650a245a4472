//! Query-string parameters, decoded leniently and validated with messages a person can act on.

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::content::Category;
use crate::search::MAX_LIMIT;
use crate::web::error::AppError;

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
}

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
        })
    }
}

/// `?q=` of the suggestion endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct SuggestParams {
    /// What has been typed so far.
    pub q: Option<String>,
}

/// A posted form, or a clear 400 when it cannot be decoded.
pub fn form<T>(
    f: Result<axum::Form<T>, axum::extract::rejection::FormRejection>,
) -> Result<T, AppError> {
    f.map(|axum::Form(v)| v)
        .map_err(|e| AppError::BadRequest(format!("Biểu mẫu không đúng dạng ({}).", e.body_text())))
}

/// A field chosen in a staff form, or 400 with what to do.
pub fn category_field(value: Option<&str>) -> Result<Category, AppError> {
    value
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| AppError::BadRequest("Hãy chọn lĩnh vực.".into()))
}
