//! Server-rendered HTML pages (askama templates in `web/templates`), in Vietnamese, usable
//! without JavaScript.

use askama::Template;
use axum::Extension;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use crate::content::{Category, Material};
use crate::search::Results;
use crate::usage::EventKind;
use crate::web::assets;
use crate::web::error::AppError;
use crate::web::params::{Params, SearchParams};
use crate::web::participant::Participant;
use crate::web::state::AppState;

/// What every page needs for its header and footer.
pub struct Site {
    /// Centre or site name.
    pub name: &'static str,
    /// Stylesheet URL.
    pub css: String,
    /// Script URL.
    pub js: String,
    /// Icon URL.
    pub favicon: String,
    /// The four fields.
    pub fields: [Category; 4],
}

impl Default for Site {
    fn default() -> Self {
        Site::new()
    }
}

impl Site {
    /// The site-wide values.
    pub fn new() -> Site {
        Site {
            name: "Học liệu",
            css: assets::url("style.css"),
            js: assets::url("suggest.js"),
            favicon: assets::url("icons/logo.svg"),
            fields: Category::ALL,
        }
    }
}

fn icon(c: Category) -> String {
    assets::url(&format!("icons/{}.svg", c.slug()))
}

/// Renders a template, turning a template error into a 500.
pub fn render(t: &impl Template) -> Result<Html<String>, AppError> {
    t.render().map(Html).map_err(|e| {
        AppError::Internal(crate::Error::Io(std::io::Error::other(format!(
            "template: {e}"
        ))))
    })
}

/// A field card on the home page.
pub struct FieldCard {
    category: Category,
    icon: String,
    count: usize,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    site: Site,
    centre: &'a str,
    fields: Vec<FieldCard>,
    featured: Vec<&'a Material>,
    recent: Vec<&'a Material>,
}

/// `GET /`.
pub async fn home(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    let catalog = state.catalog().ok_or(AppError::Starting)?;
    let counts = catalog.library.counts();
    let fields = Category::ALL
        .iter()
        .map(|&c| FieldCard {
            category: c,
            icon: icon(c),
            count: counts.get(&c).copied().unwrap_or(0),
        })
        .collect();
    render(&HomePage {
        site: Site::new(),
        centre: state.centre(),
        fields,
        featured: catalog.library.featured(),
        recent: catalog.library.recently_updated(5),
    })
}

#[derive(Template)]
#[template(path = "category.html")]
struct CategoryPage<'a> {
    site: Site,
    category: Category,
    icon: String,
    featured: Vec<&'a Material>,
    items: Vec<&'a Material>,
}

/// `GET /c/{category}`.
pub async fn category(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Html<String>, AppError> {
    let category: Category = slug.parse().map_err(|_| AppError::NotFound)?;
    let catalog = state.catalog().ok_or(AppError::Starting)?;
    render(&CategoryPage {
        site: Site::new(),
        category,
        icon: icon(category),
        featured: catalog
            .library
            .featured()
            .into_iter()
            .filter(|m| m.category == category)
            .collect(),
        items: catalog.library.in_category(category),
    })
}

#[derive(Template)]
#[template(path = "material.html")]
struct MaterialPage<'a> {
    site: Site,
    m: &'a Material,
    body: std::sync::Arc<str>,
}

/// Sizes as a reader says them: "2,4 MB".
fn human_size(bytes: &u64) -> String {
    let b = *bytes as f64;
    let s = if b < 1024.0 {
        format!("{bytes} byte")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.0} KB", b / 1024.0)
    } else {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    };
    s.replace('.', ",")
}

/// `GET /m/{*path}`: a material's page, or one of the library's files.
pub async fn library_path(
    State(state): State<AppState>,
    Path(path): Path<String>,
    participant: Option<Extension<Participant>>,
    req: Request,
) -> Result<Response, AppError> {
    use unicode_normalization::UnicodeNormalization;
    let catalog = state.catalog().ok_or(AppError::Starting)?;
    let path: String = path.nfc().collect();
    let record = |kind: EventKind, m: &Material| {
        if let Some(Extension(p)) = &participant {
            let mut e = state.event(kind, &p.0);
            e.material = Some(m.id.clone());
            e.category = Some(m.category);
            state.record(e);
        }
    };
    if let Some(m) = catalog.library.get(&path) {
        let body = catalog.rendered_body(m).map_err(|e| {
            tracing::warn!(id = %m.id, error = %e, "material changed on disk and no longer reads");
            AppError::NotFound
        })?;
        record(EventKind::View, m);
        return Ok(render(&MaterialPage {
            site: Site::new(),
            m,
            body,
        })?
        .into_response());
    }
    let file = catalog
        .library
        .file(&path)
        .ok_or(AppError::NotFound)?
        .clone();
    // A player fetches a file in many ranges; count only the request that starts it.
    if starts_playback(&req)
        && let Some(m) = catalog.library.owner(&file.rel)
    {
        record(EventKind::Attachment, m);
    }
    let content_type = crate::content::content_type(&file.rel);
    // Opening and stat-ing a file blocks; keep it off the async workers.
    let source = catalog.library.source().clone();
    let ct = content_type.clone();
    let mut res = tokio::task::spawn_blocking(move || {
        let blob = source.open(&file)?;
        crate::web::files::serve(blob, &ct, &req)
    })
    .await
    .map_err(crate::Error::from)?
    .map_err(|e| {
        tracing::warn!(path = %path, error = %e, "library file cannot be opened");
        AppError::NotFound
    })?;
    let h = res.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    if let Some(csp) = attachment_csp(&content_type) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(csp),
        );
    }
    Ok(res)
}

/// A plain GET, or a range from the first byte; not HEAD, not a later chunk.
fn starts_playback(req: &Request) -> bool {
    if req.method() != axum::http::Method::GET {
        return false;
    }
    match req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    {
        None => true,
        Some(r) => r.trim().starts_with("bytes=0-"),
    }
}

/// Files that a browser could run script from are locked down when opened directly.
fn attachment_csp(content_type: &str) -> Option<&'static str> {
    match content_type {
        "image/svg+xml" | "text/xml" | "application/xml" => {
            Some("default-src 'none'; style-src 'unsafe-inline'; img-src data:")
        }
        "text/html" | "application/xhtml+xml" => Some("sandbox; default-src 'none'"),
        _ => None,
    }
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    site: Site,
    q: String,
    category: Option<Category>,
    results: Results,
    offset: usize,
    next_url: Option<String>,
    lessons: Vec<crate::lessons::Lesson>,
}

/// Published lessons matching a query (first page only; there are few lessons).
async fn matching_lessons(
    state: &AppState,
    q: &str,
    category: Option<Category>,
) -> Vec<crate::lessons::Lesson> {
    if state.lessons().is_none() || q.trim().is_empty() {
        return Vec::new();
    }
    let q = q.to_string();
    let found = state
        .with_lessons_store(move |st| {
            Ok(st
                .list()?
                .into_iter()
                .filter(|l| l.published && category.is_none_or(|c| c == l.category))
                .filter(|l| crate::lessons::matches(l, &q))
                .take(5)
                .collect())
        })
        .await;
    found.unwrap_or_else(|e| {
        tracing::warn!(error = ?e, "lessons could not be searched");
        Vec::new()
    })
}

/// `GET /search?q=&category=&offset=`.
pub async fn search(
    State(state): State<AppState>,
    participant: Option<Extension<Participant>>,
    Params(p): Params<SearchParams>,
) -> Result<Html<String>, AppError> {
    let p = p.validate()?;
    let limit = p.limit.unwrap_or(crate::web::api::DEFAULT_LIMIT);
    let results = crate::web::run_search(&state, p.q.clone(), p.category, limit, p.offset).await?;
    // Only the first page of a search counts as a search.
    if let (Some(Extension(who)), 0, false) = (&participant, p.offset, p.q.trim().is_empty()) {
        let mut e = state.event(EventKind::Search, &who.0);
        e.query = Some(p.q.clone());
        e.results = Some(results.total as u64);
        e.category = p.category;
        state.record(e);
    }
    let lessons = if p.offset == 0 {
        matching_lessons(&state, &p.q, p.category).await
    } else {
        Vec::new()
    };
    let shown = p.offset + results.hits.len();
    let next_url = (shown < results.total && shown < crate::web::params::MAX_OFFSET).then(|| {
        let mut ser = form_urlencoded::Serializer::new(String::from("/search?"));
        ser.append_pair("q", &p.q);
        if let Some(c) = p.category {
            ser.append_pair("category", c.slug());
        }
        ser.append_pair("offset", &shown.to_string());
        ser.finish()
    });
    render(&SearchPage {
        site: Site::new(),
        q: p.q,
        category: p.category,
        results,
        offset: p.offset,
        next_url,
        lessons,
    })
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    site: Site,
    heading: &'a str,
    message: &'a str,
}

/// The error page's HTML (used by `AppError`); falls back to plain text if rendering fails.
pub fn error_page(heading: &str, message: &str) -> String {
    ErrorPage {
        site: Site::new(),
        heading,
        message,
    }
    .render()
    .unwrap_or_else(|_| format!("{heading}. {message}"))
}

/// Fallback for unknown routes.
pub async fn not_found() -> AppError {
    AppError::NotFound
}
