//! ZIM collections: their articles, pictures and styles at `/z/{name}/{path}`, under a
//! sandbox policy. A ZIM is someone else's HTML and scripts: the sandbox gives its pages an
//! origin of their own, so nothing in them can read the box's cookies, call its pages with the
//! visitor's session, or post a form.

use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};

use crate::content::encode_path;
use crate::usage::EventKind;
use crate::usage::counts::COLLECTION_PREFIX;
use crate::web::error::AppError;
use crate::web::extract::Visitor;
use crate::web::files::{ZimEntity, serve_zim};
use crate::web::state::AppState;
use crate::zim::Target;

/// Policy for everything served from a ZIM: scripts may run (some collections need them to
/// show maths or fold sections) but in a sandbox without the box's origin, with nowhere to
/// send data and no forms.
pub const ZIM_CSP: &str = "sandbox allow-scripts allow-popups allow-popups-to-escape-sandbox; \
     default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; media-src 'self'; \
     font-src 'self' data:; connect-src 'none'; object-src 'none'; base-uri 'self'; \
     form-action 'none'; frame-ancestors 'self'";

/// `GET /z/{name}` and `/z/{name}/`: the collection's main page.
pub async fn main_page(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, AppError> {
    let c = state.collections.get(&name).ok_or(AppError::NotFound)?;
    match &c.main {
        Some(_) => Ok(Redirect::to(&c.url()).into_response()),
        None => Err(AppError::NotFound),
    }
}

/// `GET /z/{name}/{*path}`: an entry; a redirect entry sends the browser to its target, so
/// that the target's relative links resolve from its own address. An article (an HTML page,
/// not its pictures or styles) read whole counts as a view of the collection.
pub async fn entry(
    State(state): State<AppState>,
    Path((name, path)): Path<(String, String)>,
    visitor: Visitor,
    req: Request,
) -> Result<Response, AppError> {
    let c = state.collections.get(&name).ok_or(AppError::NotFound)?;
    let archive = std::sync::Arc::clone(&c.archive);
    let found = tokio::task::spawn_blocking(move || {
        use unicode_normalization::UnicodeNormalization;
        let i = match archive.lookup(&path)? {
            Some(i) => Some(i),
            // Browsers send what the page wrote; an archive may hold the other normal form.
            None => archive.lookup(&path.nfc().collect::<String>())?,
        };
        let Some(i) = i else {
            return Ok(None);
        };
        let d = archive.dirent(i)?;
        if let Target::Redirect(_) = d.target {
            let (_, to) = archive.resolve(i)?;
            return Ok(Some(Err(archive.url_path(&to))));
        }
        let Target::Item {
            mime,
            cluster,
            blob,
        } = d.target
        else {
            return Ok(None);
        };
        let blob = archive.blob(cluster, blob)?;
        Ok::<_, crate::zim::ZimError>(Some(Ok((i, archive.mime(mime).to_string(), blob))))
    })
    .await?;
    let found = found.map_err(|e| {
        tracing::warn!(collection = %c.name, error = %e, "ZIM entry cannot be read");
        AppError::NotFound
    })?;
    match found {
        None => Err(AppError::NotFound),
        Some(Err(to)) => {
            Ok(Redirect::to(&format!("/z/{}/{}", c.name, encode_path(&to))).into_response())
        }
        Some(Ok((i, mime, blob))) => {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(ZIM_CSP),
            );
            // A day in the phone's own cache (an edition's items never change; a new edition
            // has other tags); never in a shared one, as a first visit also sets the cookie.
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=86400"),
            );
            if mime.starts_with("text/html")
                && req.method() == axum::http::Method::GET
                && !req.headers().contains_key(header::RANGE)
                && let Some(who) = visitor.id()
            {
                state.records.record(EventKind::View, who, |e| {
                    e.material = Some(format!("{COLLECTION_PREFIX}{}", c.name));
                });
            }
            let entity = ZimEntity::new(std::sync::Arc::clone(&c.archive), blob, i, &mime, headers);
            Ok(serve_zim(entity, &req))
        }
    }
}
