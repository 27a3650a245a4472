//! `/admin/packages`: download the centre's package, and import another centre's in two steps:
//! upload (checked and compared, nothing changed) then apply. The checked package waits in a
//! staging folder on the data disk until it is applied or replaced.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

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
        .unwrap_or_default()
        .into_iter()
        .map(|l| (l.code, l.title))
        .collect();
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
        .file
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

/// `GET /admin/packages/export?material=ID&lesson=CODE...`: the chosen materials (with their
/// attachments) and lessons as one package; with nothing chosen, all of the centre's own
/// materials and every lesson.
pub async fn export(
    State(state): State<AppState>,
    Staff(_): Staff,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Response, AppError> {
    let (mut materials, mut lessons) = (Vec::new(), Vec::new());
    for (k, v) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match k.as_ref() {
            "material" => materials.push(v.into_owned()),
            "lesson" => lessons.push(v.into_owned()),
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
    let lessons = state.lessons.clone();
    let centre_name = state.site.centre().to_string();
    let created = local::created_at(state.now_ms());
    let bytes = blocking(move || {
        let mut out = Vec::new();
        local::export(
            &mut out,
            &catalog.library,
            &lessons,
            &selection,
            &centre_name,
            &created,
        )
        .map(|_| out)
    })
    .await?;
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
        ],
        bytes,
    )
        .into_response())
}
