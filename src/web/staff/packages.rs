//! `/admin/packages`: download the centre's package, and import another centre's in two steps:
//! upload (checked and compared, nothing changed) then apply. The checked package waits in a
//! staging folder on the data disk until it is applied or replaced.

use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use tokio::sync::mpsc::error::SendTimeoutError;
use tokio::sync::{mpsc, oneshot};

use super::session::{Staff, StaffForm, StaffNav, check_token};
use super::uploads::receive;
use crate::package::Change;
use crate::package::local::{self, Selection};
use crate::web::error::AppError;
use crate::web::offload::blocking;
use crate::web::page::{Site, render};
use crate::web::state::{AppState, PendingImport};

/// What the page shows of a pending import.
struct Shown {
    id: String,
    file_name: String,
    centre: String,
    new: usize,
    changed: usize,
    conflicts: usize,
    same: usize,
    rows: Vec<(String, &'static str, String)>,
}

#[derive(Template)]
#[template(path = "admin_packages.html")]
struct Page {
    site: Site,
    nav: StaffNav,
    message: Option<String>,
    pending: Option<Shown>,
    /// The centre's own materials (id, title) and its lessons (code, title), to choose from.
    own_materials: Vec<(String, String)>,
    lessons: Vec<(String, String)>,
}

fn shown(p: &PendingImport) -> Shown {
    let count = |c: Change| p.plan.iter().filter(|x| x.change == c).count();
    Shown {
        id: p.id.clone(),
        file_name: p.file_name.clone(),
        centre: p.package.manifest.centre.clone(),
        new: count(Change::New),
        changed: count(Change::Changed),
        conflicts: count(Change::Conflict),
        same: count(Change::Same),
        rows: p
            .plan
            .iter()
            .filter(|x| x.change != Change::Same)
            .map(|x| {
                let word = match x.change {
                    Change::New => "Mới",
                    Change::Changed => "Đổi",
                    Change::Conflict => "Trung tâm mình sửa mới hơn",
                    Change::Same => "Giống",
                };
                (x.path.clone(), word, x.reason.clone())
            })
            .collect(),
    }
}

fn page(
    state: &AppState,
    s: &crate::accounts::Session,
    status: StatusCode,
    message: Option<String>,
) -> Result<Response, AppError> {
    let slot = state
        .staff
        .pending_import
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let own_materials = state
        .library
        .current()
        .map(|c| {
            c.library
                .materials()
                .iter()
                .filter(|m| !c.library.is_starter(m))
                .map(|m| (m.id.clone(), m.title.clone()))
                .collect()
        })
        .unwrap_or_default();
    let lessons = state
        .lessons
        .list()
        .map(|all| {
            all.iter()
                .map(|l| (l.code.clone(), l.title.clone()))
                .collect()
        })
        .unwrap_or_default();
    let body = render(&Page {
        site: Site::new(),
        nav: StaffNav::of(s),
        message,
        pending: slot.as_ref().map(shown),
        own_materials,
        lessons,
    })?;
    Ok((status, body).into_response())
}

/// `GET /admin/packages`.
pub async fn show(State(state): State<AppState>, Staff(s): Staff) -> Result<Response, AppError> {
    page(&state, &s, StatusCode::OK, None)
}

/// `POST /admin/packages/import` (multipart `token`, `file`): checks a package and shows what
/// it would change. A refused package is reported and leaves nothing behind.
pub async fn import(
    State(state): State<AppState>,
    Staff(s): Staff,
    multipart: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let catalog = state.catalog()?;
    let lessons = state.lessons.clone();
    // The import installs into the centre's library: refuse early without one.
    state.centre_library()?;
    // Staged on the data disk, so that installing is a rename.
    let data_dir = state.site.settings.data.clone();
    let up = receive(multipart, &data_dir, &s.csrf, state.site.upload_limit).await?;
    check_token(&s, up.fields.get("token").map(String::as_str))?;
    let file = up
        .file()
        .ok_or_else(|| AppError::BadRequest("Hãy chọn tệp gói.".into()))?;
    let file_name = file.name.clone();
    let checked = blocking(move || {
        let staging = tempfile::Builder::new()
            .prefix(".package-")
            .tempdir_in(&data_dir)?;
        let package = match local::stage(&file.path, staging.path()) {
            Ok(p) => p,
            // The package's own faults are told as they are; this box's disk errors are ours.
            Err(local::PackageIoError::Package(e)) if !e.is_local_failure() => {
                return Ok(Err(e.to_string()));
            }
            Err(local::PackageIoError::Package(e)) => return Err(std::io::Error::other(e)),
            Err(local::PackageIoError::Io(e)) => return Err(e),
            Err(local::PackageIoError::Missing(m)) => return Ok(Err(m)),
            Err(e @ local::PackageIoError::Refused { .. }) => return Ok(Err(e.to_string())),
        };
        let plan = local::plan(&package, &catalog.library, &lessons);
        Ok::<_, std::io::Error>(Ok((package, plan, staging)))
    })
    .await?;
    match checked {
        Err(why) => {
            tracing::warn!(user = ?s.user, file = ?file_name, reason = ?why, "package refused");
            page(
                &state,
                &s,
                StatusCode::BAD_REQUEST,
                Some(format!("Gói bị từ chối, không có gì thay đổi: {why}")),
            )
        }
        Ok((package, plan, staging)) => {
            let id = crate::accounts::random_token();
            *state
                .staff
                .pending_import
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(PendingImport {
                id,
                file_name,
                package,
                plan,
                staging,
            });
            page(&state, &s, StatusCode::OK, None)
        }
    }
}

/// The confirm button.
#[derive(Debug, Deserialize)]
pub struct ApplyForm {
    pending: Option<String>,
    replace_conflicts: Option<String>,
}

/// `POST /admin/packages/apply`: installs the pending package, then reloads the library.
pub async fn apply(
    State(state): State<AppState>,
    StaffForm(s, f): StaffForm<ApplyForm>,
) -> Result<Response, AppError> {
    let pending = {
        let mut slot = state
            .staff
            .pending_import
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match slot.take() {
            Some(p) if Some(&p.id) == f.pending.as_ref() => p,
            other => {
                *slot = other;
                return Err(AppError::BadRequest(
                    "Gói này không còn chờ cài. Hãy tải gói lên lại.".into(),
                ));
            }
        }
    };
    let lessons = state.lessons.clone();
    let centre = state.centre_library()?;
    let replace = f.replace_conflicts.is_some();
    let done =
        blocking(move || local::apply(&pending.package, &pending.plan, replace, &centre, &lessons))
            .await?;
    state.reload_library().await?;
    tracing::info!(user = ?s.user, new = done.new, changed = done.changed, "package installed");
    let message = format!(
        "Đã cài: {} tệp mới, {} tệp đổi, {} tệp thay bản trung tâm đã sửa, {} tệp giữ nguyên bản của trung tâm.",
        done.new, done.changed, done.conflicts_applied, done.conflicts_skipped
    );
    page(&state, &s, StatusCode::OK, Some(message))
}

/// Bytes handed to the connection at a time while a package is sent.
const CHUNK: usize = 64 * 1024;

/// Longest an export waits for the browser to take the next chunk: a download that stops
/// reading is dropped, so it cannot keep the export busy for everyone.
const STALL: Duration = Duration::from_secs(60);

/// `POST /admin/packages/export` (`material=ID&lesson=CODE...` and the session's token): the
/// chosen materials (with their attachments) and lessons as one package; with nothing chosen,
/// all of the centre's own materials and every lesson. A POST, never a GET: an export is
/// costly, and a picture pointing here must not start one each time a browser shows it.
///
/// The package is streamed: its files are checksummed first (so a missing or unreadable file
/// is an error page, and the download announces its size), then copied to the connection as
/// they are read, so memory stays flat whatever their size. One export runs at a time.
pub async fn export(
    State(state): State<AppState>,
    StaffForm(_, fields): StaffForm<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (mut materials, mut lessons) = (Vec::new(), Vec::new());
    for (k, v) in fields {
        match k.as_str() {
            "material" => materials.push(v),
            "lesson" => lessons.push(v),
            _ => {}
        }
    }
    let selection = if materials.is_empty() && lessons.is_empty() {
        Selection::default()
    } else {
        Selection {
            materials: Some(materials),
            lessons: Some(lessons),
        }
    };
    let catalog = state.catalog()?;
    let Ok(turn) = Arc::clone(&state.staff.exporting).try_lock_owned() else {
        return Err(AppError::Busy(
            "Máy chủ đang xuất gói khác. Xin đợi gói đó tải xong rồi thử lại.".into(),
        ));
    };
    let lessons = state.lessons.clone();
    let centre_name = state.site.centre().to_string();
    let created = local::created_at(state.now_ms());
    let (size_tx, size_rx) = oneshot::channel();
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(2);
    let runtime = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let prepared = local::prepare_export(
            &catalog.library,
            &lessons,
            &selection,
            &centre_name,
            &created,
        );
        let prepared = match prepared {
            Ok(p) => p,
            Err(e) => {
                // Free before answering, so that the next export never finds this one running.
                drop(turn);
                let _ = size_tx.send(Err(e));
                return;
            }
        };
        // Nobody waits any more (the request timed out or was dropped).
        if size_tx.send(Ok(prepared.len())).is_err() {
            return;
        }
        let mut out = ChunkSender {
            _turn: turn,
            tx,
            runtime,
            buf: Vec::with_capacity(CHUNK),
        };
        if let Err(e) = prepared.write(&mut out) {
            tracing::warn!(error = %e, "package export stopped before its end");
            // The body ends in an error, so the browser does not keep a cut package.
            let _ = out
                .tx
                .blocking_send(Err(std::io::Error::other("export stopped")));
        }
    });
    let size = size_rx.await.map_err(AppError::internal)??;
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-tar"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"hoclieu-trung-tam.hoclieu.tar\""),
            ),
            (header::CONTENT_LENGTH, HeaderValue::from(size)),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}

/// Hands what the package writer writes to the response body in chunks of [`CHUNK`] bytes,
/// waiting (at most [`STALL`]) while the connection has not taken the previous ones.
struct ChunkSender {
    /// The export's turn. Dropped before `tx` (fields drop in order), so that once the body
    /// has ended the next export can start.
    _turn: tokio::sync::OwnedMutexGuard<()>,
    tx: mpsc::Sender<std::io::Result<Bytes>>,
    runtime: tokio::runtime::Handle,
    buf: Vec<u8>,
}

impl ChunkSender {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.runtime
            .block_on(self.tx.send_timeout(Ok(chunk), STALL))
            .map_err(|e| match e {
                SendTimeoutError::Timeout(_) => std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    "the browser stopped taking the package",
                ),
                SendTimeoutError::Closed(_) => {
                    std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the download was closed")
                }
            })
    }
}

impl Write for ChunkSender {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}
