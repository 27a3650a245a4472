//! The optional "about you" page: a villager says their age band, gender, ethnic group,
//! village and whether they are newly literate; they can see and erase it.

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

use crate::usage::profile::{self, AGE_BANDS, Choices, ETHNICITIES, GENDERS, Profile};
use crate::web::error::AppError;
use crate::web::participant::Participant;
use crate::web::state::AppState;
use crate::web::visitor::pages::{Site, render};

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    site: Site,
    token: String,
    profile: Profile,
    has_profile: bool,
    enabled: bool,
    saved: bool,
    erased: bool,
    age_bands: Choices,
    genders: Choices,
    ethnicities: Choices,
}

/// `?da-luu` / `?da-xoa` after a save or erase.
#[derive(Debug, Deserialize)]
pub struct Done {
    #[serde(rename = "da-luu")]
    saved: Option<String>,
    #[serde(rename = "da-xoa")]
    erased: Option<String>,
}

/// `GET /ve-ban`.
pub async fn show(
    State(state): State<AppState>,
    Extension(who): Extension<Participant>,
    Query(done): Query<Done>,
) -> Result<Html<String>, AppError> {
    let id = who.0.clone();
    let stored = state.with_db(move |c| profile::load(c, &id)).await?;
    let enabled = stored.is_some();
    let stored = stored.flatten();
    render(&ProfilePage {
        site: Site::new(),
        token: who.form_token(),
        has_profile: stored.is_some(),
        profile: stored.unwrap_or_default(),
        enabled,
        saved: done.saved.is_some(),
        erased: done.erased.is_some(),
        age_bands: AGE_BANDS,
        genders: GENDERS,
        ethnicities: ETHNICITIES,
    })
}

/// The profile form as posted.
#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    token: Option<String>,
    age_band: Option<String>,
    gender: Option<String>,
    ethnicity: Option<String>,
    village: Option<String>,
    newly_literate: Option<String>,
}

fn check_token(who: &Participant, token: Option<&str>) -> Result<(), AppError> {
    if token == Some(who.form_token().as_str()) {
        Ok(())
    } else {
        Err(AppError::BadRequest(
            "Biểu mẫu đã cũ hoặc không phải từ trang này. Hãy mở lại trang «Về bạn» rồi gửi lại."
                .into(),
        ))
    }
}

/// `POST /ve-ban`.
pub async fn save(
    State(state): State<AppState>,
    Extension(who): Extension<Participant>,
    f: Result<Form<ProfileForm>, FormRejection>,
) -> Result<Response, AppError> {
    let f = crate::web::params::form(f)?;
    check_token(&who, f.token.as_deref())?;
    let p = Profile::from_form(
        f.age_band.as_deref(),
        f.gender.as_deref(),
        f.ethnicity.as_deref(),
        f.village.as_deref(),
        f.newly_literate.as_deref(),
    )
    .map_err(|e| AppError::BadRequest(format!("Lựa chọn không hợp lệ: {e}.")))?;
    let id = who.0.clone();
    let now = crate::usage::now_ms();
    state
        .with_db(move |c| profile::save(c, &id, &p, now))
        .await?;
    // Post/redirect/get: reloading the page does not send the form again.
    Ok(Redirect::to("/ve-ban?da-luu").into_response())
}

/// The erase form as posted.
#[derive(Debug, Deserialize)]
pub struct EraseForm {
    token: Option<String>,
}

/// `POST /ve-ban/xoa`.
pub async fn erase(
    State(state): State<AppState>,
    Extension(who): Extension<Participant>,
    f: Result<Form<EraseForm>, FormRejection>,
) -> Result<Response, AppError> {
    let f = crate::web::params::form(f)?;
    check_token(&who, f.token.as_deref())?;
    let id = who.0.clone();
    state.with_db(move |c| profile::erase(c, &id)).await?;
    Ok(Redirect::to("/ve-ban?da-xoa").into_response())
}
