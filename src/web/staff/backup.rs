//! `POST /admin/backup`: a manager downloads a backup of the whole box (records, the centre's
//! materials, lessons and settings) to keep on a USB stick; `hoclieu restore` puts it back.
//! A POST with the session's token, never a GET: making a backup is costly, and a picture
//! pointing here must not make one each time a manager's browser shows it.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::session::ManagerForm;
use crate::web::error::AppError;
use crate::web::extract::Token;
use crate::web::offload::blocking;
use crate::web::state::AppState;

/// `POST /admin/backup`: made on the spot into a temporary file on the data disk, then sent.
pub async fn download(
    State(state): State<AppState>,
    ManagerForm(s, Token { .. }): ManagerForm<Token>,
) -> Result<Response, AppError> {
    // The file is sent whole: ranges and validators belong to GETs.
    let req = axum::http::Request::get("/admin/backup")
        .body(())
        .map_err(AppError::internal)?;
    let data = state.site.settings.data.clone();
    let centre = state.site.centre().to_string();
    let created = crate::package::local::created_at(state.now_ms());
    let stamp = created.clone();
    let file = blocking(move || {
        let mut tmp = tempfile::Builder::new()
            .prefix(".download-")
            .tempfile_in(&data)?;
        crate::package::backup::backup(
            &data,
            None,
            std::io::BufWriter::new(tmp.as_file_mut()),
            &stamp,
            &centre,
        )?;
        // The open handle keeps the bytes; the name goes at once.
        Ok::<_, crate::package::backup::BackupError>(tmp.reopen()?)
    })
    .await?;
    tracing::info!(user = ?s.user, "backup downloaded");
    let mut res = blocking(move || {
        crate::web::files::serve(
            crate::content::source::Blob::File(file),
            "application/x-tar",
            &req,
        )
    })
    .await?;
    let name = format!(
        "attachment; filename=\"hoclieu-{}{}\"",
        created.get(..10).unwrap_or("sao-luu"),
        crate::package::backup::SUFFIX
    );
    if let Ok(v) = HeaderValue::from_str(&name) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res.into_response())
}
