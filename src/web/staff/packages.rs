//! `/admin/packages`: download the centre's package, and import another centre's in two steps:
//! upload (checked and compared, nothing changed) then apply. The checked package waits in a
//! staging folder on the data disk until it is applied or replaced.

use std::sync::Mutex;

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::package::{Change, Package, Planned};
use crate::web::error::AppError;
use crate::web::staff::auth::{Staff, StaffNav, check_token};
use crate::web::state::AppState;
use crate::web::visitor::pages::{Site, render};

/// A checked package waiting to be applied.
#[derive(Debug)]
pub struct Pending {
    id: String,
    file_name: String,
    package: Package,
    plan: Vec<Planned>,
    /// Holds the staged files; removed when the pending import goes.
    _staging: tempfile::TempDir,
}

/// The one import waiting for confirmation (a new upload replaces it).
pub type PendingSlot = Mutex<Option<Pending>>;

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

fn shown(p: &Pending) -> Shown {
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
    status: axum::http::StatusCode,
    message: Option<String>,
) -> Result<Response, AppError> {
    let slot = state
        .pending_import
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let own_materials = state
        .catalog()
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
        .lessons()
        .and_then(|l| l.list().ok())
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
    page(&state, &s, axum::http::StatusCode::OK, None)
}

/// `POST /admin/packages/import` (multipart `token`, `file`): checks a package and shows what
/// it would change. A refused package is reported and leaves nothing behind.
pub async fn import(
    State(state): State<AppState>,
    Staff(s): Staff,
    multipart: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let catalog = state.catalog().ok_or(AppError::Starting)?;
    let lessons = state.lessons().cloned().ok_or(AppError::Starting)?;
    let centre = state.centre_library().ok_or(AppError::Starting)?;
    let data_dir = centre
        .root()
        .parent()
        .map(std::path::Path::to_path_buf)
        .ok_or(AppError::Starting)?;
    let up =
        crate::web::staff::uploads::receive(multipart, &data_dir, &s.csrf, state.upload_limit())
            .await?;
    check_token(&s, up.fields.get("token").map(String::as_str))?;
    let file = up
        .file
        .ok_or_else(|| AppError::BadRequest("Hãy chọn tệp gói.".into()))?;
    let file_name = file.name.clone();
    let checked = tokio::task::spawn_blocking(move || {
        let staging = tempfile::Builder::new()
            .prefix(".package-")
            .tempdir_in(&data_dir)?;
        let package = match crate::package::local::stage(&file.path, staging.path()) {
            Ok(p) => p,
            Err(e) => return Ok(Err(e.to_string())),
        };
        let plan = crate::package::local::plan(&package, &catalog.library, &lessons);
        Ok::<_, std::io::Error>(Ok((package, plan, staging)))
    })
    .await
    .map_err(crate::Error::from)?
    .map_err(AppError::internal)?;
    match checked {
        Err(why) => {
            tracing::warn!(user = %s.user, file = %file_name, reason = %why, "package refused");
            page(
                &state,
                &s,
                axum::http::StatusCode::BAD_REQUEST,
                Some(format!("Gói bị từ chối, không có gì thay đổi: {why}")),
            )
        }
        Ok((package, plan, staging)) => {
            let id = crate::accounts::random_token();
            *state
                .pending_import
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Pending {
                id,
                file_name,
                package,
                plan,
                _staging: staging,
            });
            page(&state, &s, axum::http::StatusCode::OK, None)
        }
    }
}

/// The confirm button.
#[derive(Debug, Deserialize)]
pub struct ApplyForm {
    token: Option<String>,
    pending: Option<String>,
    replace_conflicts: Option<String>,
}

/// `POST /admin/packages/apply`: installs the pending package, then reloads the library.
pub async fn apply(
    State(state): State<AppState>,
    Staff(s): Staff,
    f: Result<Form<ApplyForm>, FormRejection>,
) -> Result<Response, AppError> {
    let f = crate::web::params::form(f)?;
    check_token(&s, f.token.as_deref())?;
    let pending = {
        let mut slot = state
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
    let lessons = state.lessons().cloned().ok_or(AppError::Starting)?;
    let centre = state.centre_library().ok_or(AppError::Starting)?;
    let replace = f.replace_conflicts.is_some();
    let done = tokio::task::spawn_blocking(move || {
        crate::package::local::apply(&pending.package, &pending.plan, replace, &centre, &lessons)
    })
    .await
    .map_err(crate::Error::from)?
    .map_err(AppError::internal)?;
    state.reload_library().await?;
    tracing::info!(user = %s.user, new = done.new, changed = done.changed, "package installed");
    let message = format!(
        "Đã cài: {} tệp mới, {} tệp đổi, {} tệp thay bản trung tâm đã sửa, {} tệp giữ nguyên bản của trung tâm.",
        done.new, done.changed, done.conflicts_applied, done.conflicts_skipped
    );
    page(&state, &s, axum::http::StatusCode::OK, Some(message))
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
        crate::package::local::Selection::default()
    } else {
        crate::package::local::Selection {
            materials: Some(materials),
            lessons: Some(lessons),
        }
    };
    let catalog = state.catalog().ok_or(AppError::Starting)?;
    let lessons = state.lessons().cloned().ok_or(AppError::Starting)?;
    let centre_name = state.centre().to_string();
    let bytes = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        let created = crate::package::local::created_now();
        crate::package::local::export(
            &mut out,
            &catalog.library,
            &lessons,
            &selection,
            &centre_name,
            &created,
        )
        .map(|_| out)
    })
    .await
    .map_err(crate::Error::from)?
    .map_err(|e| match e {
        crate::package::local::PackageIoError::Missing(m) => AppError::BadRequest(m),
        other => AppError::internal(other),
    })?;
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
