//! `/admin/backup`: a manager downloads a backup of the whole box (records, the centre's
//! materials, lessons and settings) to keep on a USB stick; `hoclieu restore` puts it back.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::web::error::AppError;
use crate::web::staff::auth::Manager;
use crate::web::state::AppState;

/// `GET /admin/backup`: made on the spot into a temporary file on the data disk (no GET
/// changes anything the box keeps), then sent.
pub async fn download(
    State(state): State<AppState>,
    Manager(s): Manager,
    req: Request,
) -> Result<Response, AppError> {
    let data = state.settings().data.clone();
    let centre = state.centre().to_string();
    let file = tokio::task::spawn_blocking(move || {
        let mut tmp = tempfile::Builder::new()
            .prefix(".download-")
            .tempfile_in(&data)?;
        crate::package::backup::backup(
            &data,
            None,
            std::io::BufWriter::new(tmp.as_file_mut()),
            &crate::package::local::created_now(),
            &centre,
        )
        .map_err(std::io::Error::other)?;
        // The open handle keeps the bytes; the name goes at once.
        tmp.reopen()
    })
    .await
    .map_err(crate::Error::from)?
    .map_err(AppError::internal)?;
    tracing::info!(user = %s.user, "backup downloaded");
    let mut res = tokio::task::spawn_blocking(move || {
        crate::web::files::serve(
            crate::content::source::Blob::File(file),
            "application/x-tar",
            &req,
        )
    })
    .await
    .map_err(crate::Error::from)?
    .map_err(AppError::internal)?;
    let name = format!(
        "attachment; filename=\"hoclieu-{}{}\"",
        crate::package::local::created_now()
            .get(..10)
            .unwrap_or("sao-luu"),
        crate::package::backup::SUFFIX
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res.into_response())
}
