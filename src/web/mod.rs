//! The HTTP face of hoclieu: the router and its layers (this file), the handlers behind each
//! route (`visitor/`, `staff/`, `api`), and below them what handlers share: state, errors,
//! extractors, the page frame, file serving and assets.
//!
//! `router(state)` binds nothing, so tests drive it in-process; `server` runs it on a socket.

pub mod api;
pub mod assets;
pub mod district_inbox;
pub mod drafts;
pub mod error;
pub mod extract;
pub mod files;
pub mod lesson_view;
pub mod login_limit;
pub mod offload;
pub mod page;
pub mod participant;
pub mod participant_ids;
pub mod qr;
pub mod staff;
pub mod state;
pub mod visitor;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::routing::{get, post};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};
use tracing::Level;

pub use error::AppError;
pub use state::AppState;

/// Largest request body accepted.
const BODY_LIMIT: usize = 64 * 1024;

/// Largest material form (the Markdown text of one material and its fields).
const MATERIAL_FORM_LIMIT: usize = 2 * 1024 * 1024;

/// Longest a request may take before the client gets 408.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest an upload may take (300 MB at 0.5 MB/s).
const UPLOAD_TIMEOUT: Duration = Duration::from_secs(15 * 60);
/// Longest a ZIM upload may take (10 GB at 1 MB/s is under three hours).
const ZIM_UPLOAD_TIMEOUT: Duration = Duration::from_secs(6 * 60 * 60);

/// Policy for pages: only our own scripts, styles, images and media.
const PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; media-src 'self'; \
                        object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/// All routes of the site.
pub fn router(state: AppState) -> Router {
    // Only text is compressed: PDFs, recordings, videos and archives are compressed already
    // (squeezing a 40 MB video again costs a small box's CPU for nothing). Ranged and partial
    // responses must reach the client byte for byte.
    let compress = DefaultPredicate::new().and(
        |status: StatusCode,
         _: axum::http::Version,
         h: &axum::http::HeaderMap,
         _: &axum::http::Extensions| {
            status != StatusCode::PARTIAL_CONTENT
                && !h.contains_key(header::CONTENT_RANGE)
                && h.get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(is_text)
        },
    );
    // Pages a visitor opens carry the participant cookie; assets and the API do not.
    let visitor_pages = Router::new()
        .route("/", get(visitor::home::home))
        .route("/c/{category}", get(visitor::home::category))
        .route("/m/{*path}", get(visitor::material::library_path))
        .route("/search", get(visitor::search::search))
        .route("/z/{name}", get(visitor::collection::main_page))
        .route("/z/{name}/", get(visitor::collection::main_page))
        .route("/z/{name}/{*path}", get(visitor::collection::entry))
        .route("/l/{code}", get(visitor::lesson::show))
        .route("/l/{code}/in", get(visitor::lesson::print))
        .route("/l/{code}/qr.svg", get(visitor::lesson::qr))
        .route(
            "/ve-ban",
            get(visitor::profile::show).post(visitor::profile::save),
        )
        .route("/ve-ban/xoa", post(visitor::profile::erase))
        .route_layer(axum::middleware::from_fn_with_state(
            state.records.clone(),
            participant::layer,
        ));
    // What every page makes a browser fetch next: a cookie arriving there came back.
    let fetched_next = Router::new()
        .route("/static/{*name}", get(visitor::static_files::get))
        .route("/favicon.ico", get(visitor::static_files::favicon))
        .route("/api/clock", post(api::clock))
        .route_layer(axum::middleware::from_fn_with_state(
            state.records.clone(),
            participant::came_back,
        ));
    // The multipart envelope around a file is small; the file itself is checked as it arrives.
    let upload_body_limit = state.site.upload_limit + 64 * 1024;
    // Most requests must finish quickly; an upload over slow Wi-Fi may take minutes.
    let quick = Router::new()
        .merge(visitor_pages)
        .merge(fetched_next)
        .route("/poster", get(visitor::poster::show))
        .route("/l/{code}/chieu", get(visitor::projector::show))
        .route("/admin", get(staff::dashboard::dashboard))
        .route(
            "/admin/login",
            get(staff::auth::login_form).post(staff::auth::login),
        )
        .route("/admin/logout", post(staff::auth::logout))
        .route(
            "/admin/accounts",
            get(staff::accounts::list).post(staff::accounts::save),
        )
        .route("/admin/accounts/remove", post(staff::accounts::remove))
        .route(
            "/admin/collections/remove",
            post(staff::collections::remove),
        )
        .route("/admin/backup", post(staff::backup::download))
        .route("/admin/summary", post(staff::summary::download))
        .route("/admin/summary/send", post(staff::summary::send))
        .route("/admin/district", get(staff::district::show))
        .route("/admin/district/key", post(staff::district::key))
        .route(
            "/admin/district/report.csv",
            get(staff::district::report_csv),
        )
        .route(
            "/admin/district/communes.csv",
            get(staff::district::communes_csv),
        )
        .route("/admin/clock", post(staff::clock::set))
        .route("/admin/materials", get(staff::materials::list))
        .route("/admin/materials/edit", get(staff::materials::edit))
        .route("/admin/materials/hide", post(staff::materials::hide))
        .route(
            "/admin/materials/remove-file",
            post(staff::materials::remove_file),
        )
        .route("/admin/packages", get(staff::packages::show))
        .route("/admin/packages/export", post(staff::packages::export))
        .route("/admin/packages/apply", post(staff::packages::apply))
        .route(
            "/admin/lessons",
            get(staff::lessons::list).post(staff::lessons::create),
        )
        .route(
            "/admin/lessons/{code}",
            get(staff::lessons::edit).post(staff::lessons::update),
        )
        .route("/admin/export/{table}", get(staff::report_csv::export_csv))
        .route("/healthz", get(api::health))
        .route("/api/search", get(api::search))
        .route("/api/suggest", get(api::suggest))
        .route("/api/materials", get(api::materials))
        // A body announced larger than allowed is refused (413) before any of it is read.
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    let uploads = Router::new()
        .route(
            "/admin/materials/upload",
            post(staff::uploads::upload).layer(DefaultBodyLimit::max(upload_body_limit)),
        )
        .route(
            "/admin/materials/documents",
            post(staff::documents::upload).layer(DefaultBodyLimit::max(upload_body_limit)),
        )
        .route(
            "/admin/packages/import",
            post(staff::packages::import).layer(DefaultBodyLimit::max(upload_body_limit)),
        )
        .route(
            "/admin/district/import",
            post(staff::district::import)
                .layer(DefaultBodyLimit::max(staff::district::UPLOAD_LIMIT)),
        )
        .route(
            "/api/district/summaries",
            post(district_inbox::receive).layer(DefaultBodyLimit::max(district_inbox::MAX_BYTES)),
        )
        .route(
            "/admin/district/plan",
            post(staff::district::plan).layer(DefaultBodyLimit::max(2 << 20)),
        )
        // A body announced larger than allowed is refused (413) before any of it is read; one
        // that grows past the limit is cut by DefaultBodyLimit as it streams.
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| async move {
                let announced = req
                    .headers()
                    .get(header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<usize>().ok());
                if announced.is_some_and(|n| n > upload_body_limit) {
                    return axum::response::IntoResponse::into_response(AppError::TooLarge);
                }
                next.run(req).await
            },
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            UPLOAD_TIMEOUT,
        ));
    // A ZIM is gigabytes over the centre's Wi-Fi: a manager's upload may take hours. It is
    // bounded by the free space on the card (checked as it streams) and MAX_ZIM_BYTES.
    let zim_upload = Router::new()
        .route("/admin/collections", post(staff::collections::upload))
        .layer(DefaultBodyLimit::max(staff::collections::body_limit()))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            ZIM_UPLOAD_TIMEOUT,
        ));
    // A material's whole text comes in one form: allow a long one.
    let long_forms = Router::new()
        .route("/admin/materials/save", post(staff::materials::save))
        .layer(DefaultBodyLimit::max(MATERIAL_FORM_LIMIT))
        .layer(RequestBodyLimitLayer::new(MATERIAL_FORM_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ));
    let site = std::sync::Arc::clone(&state.site);
    quick
        .merge(long_forms)
        .merge(uploads)
        .merge(zim_upload)
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            site,
            staff_closed_when_read_only,
        ))
        .layer(axum::middleware::from_fn(no_store_for_staff))
        // Forms here are small; nothing needs a large body.
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(PAGE_CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(CompressionLayer::new().compress_when(compress))
        // 5xx are logged once, with their cause, by AppError; the trace layer stays quiet.
        .layer(TraceLayer::new_for_http().on_failure(DefaultOnFailure::new().level(Level::DEBUG)))
}

/// Whether a content type is text worth compressing.
fn is_text(content_type: &str) -> bool {
    let essence = content_type.split(';').next().unwrap_or("").trim();
    essence.starts_with("text/")
        || matches!(
            essence,
            "application/json" | "application/javascript" | "application/xml" | "image/svg+xml"
        )
}

/// Staff pages and downloads hold reports and accounts: never kept by a browser or a proxy.
async fn no_store_for_staff(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let staff = req.uri().path().starts_with("/admin");
    let mut res = next.run(req).await;
    if staff {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// On a data folder that cannot be written, no login, save or report can work: the staff area
/// says why and what to do instead of failing page after page.
async fn staff_closed_when_read_only(
    axum::extract::State(site): axum::extract::State<std::sync::Arc<state::SiteInfo>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    if site.storage.is_read_only() && req.uri().path().starts_with("/admin") {
        return axum::response::IntoResponse::into_response(AppError::ReadOnlyData);
    }
    next.run(req).await
}

/// Fallback for unknown routes.
async fn not_found() -> AppError {
    AppError::NotFound
}
