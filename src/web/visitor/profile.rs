//! The optional "about you" page: a villager says their age band, gender, ethnic group,
//! village and whether they are newly literate; they can see and erase it.

use askama::Template;
use axum::Extension;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::usage::profile::{self, AGE_BANDS, Choices, GENDERS, Profile};
use crate::web::error::AppError;
use crate::web::extract::{Token, VisitorForm};
use crate::web::page::{Site, render};
use crate::web::participant::Participant;
use crate::web::state::{AppState, Records};

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
    ethnicities: Vec<(&'static str, &'static str)>,
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
    let id = who.id.clone();
    let enabled = state.records.is_open();
    let stored = if enabled {
        state.records.db(move |c| profile::load(c, &id)).await?
    } else {
        None
    };
    Ok(render(&ProfilePage {
        site: Site::new(),
        token: who.form_token(),
        has_profile: stored.is_some(),
        profile: stored.unwrap_or_default(),
        enabled,
        saved: done.saved.is_some(),
        erased: done.erased.is_some(),
        age_bands: AGE_BANDS,
        genders: GENDERS,
        ethnicities: state.site.ethnic_groups.clone(),
    })?)
}

/// The profile form as posted.
#[derive(Debug, Deserialize)]
pub struct ProfileForm {
    age_band: Option<String>,
    gender: Option<String>,
    ethnicity: Option<String>,
    village: Option<String>,
    newly_literate: Option<String>,
}

/// `POST /ve-ban`.
pub async fn save(
    State(state): State<AppState>,
    VisitorForm(who, f): VisitorForm<ProfileForm>,
) -> Result<Response, AppError> {
    let p = Profile::from_form(
        f.age_band.as_deref(),
        f.gender.as_deref(),
        f.ethnicity.as_deref(),
        f.village.as_deref(),
        f.newly_literate.as_deref(),
    )
    .map_err(|e| AppError::BadRequest(format!("Lựa chọn không hợp lệ: {e}.")))?;
    let id = who.id.clone();
    let now = state.now_ms();
    state
        .records
        .db(move |c| profile::save(c, &id, &p, now))
        .await?;
    // Post/redirect/get: reloading the page does not send the form again.
    Ok(Redirect::to("/ve-ban?da-luu").into_response())
}

/// `POST /ve-ban/xoa`.
pub async fn erase(
    State(records): State<Records>,
    VisitorForm(who, Token { .. }): VisitorForm<Token>,
) -> Result<Response, AppError> {
    let id = who.id.clone();
    records.db(move |c| profile::erase(c, &id)).await?;
    Ok(Redirect::to("/ve-ban?da-xoa").into_response())
}
