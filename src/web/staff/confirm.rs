//! The second step before a change a tap should not make alone (deleting a lesson or an
//! account, hiding a material, removing a file): a page that says what will happen and posts
//! the same form again with `confirm=yes`, or goes back.

use askama::Template;
use axum::response::{IntoResponse, Response};

use super::session::StaffNav;
use crate::accounts::Session;
use crate::web::error::AppError;
use crate::web::page::{Site, render};

/// The value of `confirm` in a form posted from the confirmation page.
const CONFIRMED: &str = "yes";

/// Whether a posted form comes from the confirmation page.
pub fn confirmed(value: Option<&str>) -> bool {
    value == Some(CONFIRMED)
}

/// What the confirmation page asks.
pub struct Confirm {
    /// The question ("Xóa bài học …?").
    pub heading: String,
    /// What will happen, and what will not.
    pub detail: String,
    /// Where the form goes again.
    pub action: String,
    /// The form's fields (besides the token and `confirm`).
    pub fields: Vec<(&'static str, String)>,
    /// The dangerous button's words.
    pub button: &'static str,
    /// The page to go back to without changing anything.
    pub back: String,
}

#[derive(Template)]
#[template(path = "admin_confirm.html")]
struct ConfirmPage {
    site: Site,
    nav: StaffNav,
    c: Confirm,
    confirm: &'static str,
}

/// The confirmation page.
pub fn page(s: &Session, c: Confirm) -> Result<Response, AppError> {
    Ok(render(&ConfirmPage {
        site: Site::new(),
        nav: StaffNav::of(s),
        c,
        confirm: CONFIRMED,
    })?
    .into_response())
}
