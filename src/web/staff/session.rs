//! Who is logged in: the session cookie (HttpOnly, SameSite=Strict, path `/admin`) read into
//! [`Staff`] or [`Manager`], and staff forms ([`StaffForm`], [`ManagerForm`], [`EditorForm`])
//! whose session and CSRF token are checked once, here, before a handler runs; failures after
//! that are shown in the staff frame ([`StaffError`]).

use askama::Template;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use cookie::{Cookie, SameSite};
use serde::de::DeserializeOwned;

use crate::accounts::{self, Role, Session};
use crate::web::error::AppError;
use crate::web::extract::{body_bytes, token_and_form};
use crate::web::page::Site;
use crate::web::participant::cookie_value;
use crate::web::state::AppState;

/// Session cookie name.
pub const SESSION_COOKIE: &str = "hl_admin";

/// Cookie binding the login form to the browser that loaded it (and a kept draft to it).
pub const LOGIN_COOKIE: &str = "hl_login";

/// The browser's login-form cookie, when it has a well-formed one.
pub fn login_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    cookie_value(headers, LOGIN_COOKIE).filter(|t| t.len() == 32)
}

/// Adds a `Set-Cookie` header.
pub fn set_cookie(res: &mut Response, c: Cookie<'_>) {
    if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

/// A cookie of the staff area.
pub fn admin_cookie(name: &'static str, value: String) -> Cookie<'static> {
    // Not `Secure`: the box serves plain HTTP on the centre's own Wi-Fi, where a Secure
    // cookie would never be sent back. SameSite=Strict and HttpOnly still apply.
    Cookie::build((name, value))
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .build()
}

/// A logged-in staff member, extracted from the session cookie.
#[derive(Debug, Clone)]
pub struct Staff(pub Session);

/// A staff member who may read reports and manage accounts.
#[derive(Debug, Clone)]
pub struct Manager(pub Session);

/// Why a request to the staff area was refused.
#[derive(Debug)]
pub enum Refused {
    /// Not logged in: go to the login form.
    Login,
    /// Not logged in any more, but what the form held is kept for after the login; the
    /// browser gets a login-form cookie first when it had none.
    KeptDraft(Option<String>),
    /// Logged in, but refused (the role may not do this, the form's token is wrong): said in
    /// the staff frame.
    Staff(Box<StaffError>),
    /// Something else went wrong.
    Error(AppError),
}

impl From<AppError> for Refused {
    fn from(e: AppError) -> Refused {
        Refused::Error(e)
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Login => Redirect::to("/admin/login").into_response(),
            Refused::KeptDraft(new_login) => {
                let mut res = Redirect::to("/admin/login").into_response();
                if let Some(token) = new_login {
                    set_cookie(&mut res, admin_cookie(LOGIN_COOKIE, token));
                }
                res
            }
            Refused::Staff(e) => e.into_response(),
            Refused::Error(e) => e.into_response(),
        }
    }
}

async fn session(parts: &Parts, state: &AppState) -> Result<Session, Refused> {
    let token = cookie_value(&parts.headers, SESSION_COOKIE).ok_or(Refused::Login)?;
    let now = state.now_ms();
    state
        .records
        .db(move |c| accounts::session(c, &token, now))
        .await?
        .ok_or(Refused::Login)
}

fn manager(s: Session) -> Result<Session, Refused> {
    if s.role == Role::Manager {
        Ok(s)
    } else {
        Err(refused(&s, AppError::Forbidden))
    }
}

/// A refusal to someone logged in, in the staff frame.
fn refused(s: &Session, e: AppError) -> Refused {
    Refused::Staff(Box::new(StaffError::new(s, e)))
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refused> {
        Ok(Staff(session(parts, state).await?))
    }
}

impl FromRequestParts<AppState> for Manager {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refused> {
        Ok(Manager(manager(session(parts, state).await?)?))
    }
}

/// Refuses a state-changing request whose form does not carry the session's token (CSRF).
pub fn check_token(s: &Session, token: Option<&str>) -> Result<(), AppError> {
    if token == Some(s.csrf.as_str()) {
        Ok(())
    } else {
        Err(AppError::bad(
            "Phiên làm việc không khớp. Hãy tải lại trang.",
        ))
    }
}

async fn staff_form<T: DeserializeOwned>(
    req: Request,
    state: &AppState,
    managers_only: bool,
) -> Result<(Session, T), Refused> {
    let (parts, body) = req.into_parts();
    let mut s = session(&parts, state).await?;
    if managers_only {
        s = manager(s)?;
    }
    let body = body_bytes(Request::from_parts(parts, body), state).await?;
    let checked = token_and_form(&body).and_then(|(token, form)| {
        check_token(&s, token.as_deref())?;
        Ok(form)
    });
    match checked {
        Ok(form) => Ok((s, form)),
        Err(e) => Err(refused(&s, e)),
    }
}

/// A form posted by a logged-in staff member, its token checked.
#[derive(Debug)]
pub struct StaffForm<T>(pub Session, pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for StaffForm<T> {
    type Rejection = Refused;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Refused> {
        let (s, f) = staff_form(req, state, false).await?;
        Ok(StaffForm(s, f))
    }
}

/// A form posted by a manager, its token checked.
#[derive(Debug)]
pub struct ManagerForm<T>(pub Session, pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ManagerForm<T> {
    type Rejection = Refused;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Refused> {
        let (s, f) = staff_form(req, state, true).await?;
        Ok(ManagerForm(s, f))
    }
}

/// A form whose text is worth keeping when its session has expired (30 idle minutes are soon
/// over while writing a material): it says where a kept copy is shown again.
pub trait Draftable: DeserializeOwned {
    /// The page (path and query) that shows a draft of this form posted to `path`; `None`
    /// when there is nothing typed to keep.
    fn draft_page(path: &str, form: &Self) -> Option<String>;
}

/// Said over a form given back after a login.
pub const DRAFT_BACK: &str = "Phiên làm việc đã hết trước khi bài được lưu. Đây là những gì bạn \
                              đã soạn: xem lại rồi bấm Lưu.";

/// Said when the form to give back is no longer kept.
pub const DRAFT_GONE: &str = "Không còn bản nháp để mở lại (bản nháp chỉ mở được một lần, và mất \
                              khi máy khởi động lại).";

/// A staff editor's form, its session and token checked like [`StaffForm`]'s. Posted after
/// the session has expired, it is kept as a draft for the browser (see `web::drafts`) and the
/// answer is the login form, after which the editor shows it again.
#[derive(Debug)]
pub struct EditorForm<T>(pub Session, pub T);

impl<T: Draftable> FromRequest<AppState> for EditorForm<T> {
    type Rejection = Refused;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Refused> {
        // Only a browser that had a session cookie: another site's page cannot send it
        // (SameSite=Strict), so it cannot leave a draft in someone's editor.
        let had_session = cookie_value(req.headers(), SESSION_COOKIE).is_some();
        let (parts, body) = req.into_parts();
        match session(&parts, state).await {
            Ok(s) => {
                let body = body_bytes(Request::from_parts(parts, body), state).await?;
                let checked = token_and_form(&body).and_then(|(token, form)| {
                    check_token(&s, token.as_deref())?;
                    Ok(form)
                });
                match checked {
                    Ok(form) => Ok(EditorForm(s, form)),
                    Err(e) => Err(refused(&s, e)),
                }
            }
            Err(Refused::Login) if had_session => {
                let path = parts.uri.path().to_string();
                let known = login_cookie(&parts.headers);
                let body = body_bytes(Request::from_parts(parts, body), state).await?;
                let Ok((_, form)) = token_and_form::<T>(&body) else {
                    return Err(Refused::Login);
                };
                let Some(page) = T::draft_page(&path, &form) else {
                    return Err(Refused::Login);
                };
                let login = known
                    .clone()
                    .unwrap_or_else(crate::usage::new_participant_id);
                state
                    .staff
                    .drafts
                    .keep(&login, page, body.to_vec(), state.now_ms());
                tracing::info!("form posted after its session expired: kept for after login");
                Err(Refused::KeptDraft(known.is_none().then_some(login)))
            }
            Err(e) => Err(e),
        }
    }
}

/// The staff menu at the top of every staff page.
#[derive(Debug, Clone)]
pub struct StaffNav {
    /// Who is logged in.
    pub user: String,
    /// Whether reports and accounts are shown.
    pub manager: bool,
    /// The session's form token (for the logout button).
    pub csrf: String,
}

impl StaffNav {
    /// The menu for a session.
    pub fn of(s: &Session) -> StaffNav {
        StaffNav {
            user: s.user.clone(),
            manager: s.role == Role::Manager,
            csrf: s.csrf.clone(),
        }
    }
}

/// The page a role lands on after login.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Manager => "/admin",
        Role::Teacher => "/admin/lessons",
    }
}

/// A failure of a staff page, said inside the staff frame with its menu (not on the villagers'
/// error page), with the status and words `web::error` gives it.
#[derive(Debug)]
pub struct StaffError {
    nav: StaffNav,
    error: AppError,
}

impl StaffError {
    /// `error`, shown to the staff member of `s`.
    pub fn new(s: &Session, error: impl Into<AppError>) -> StaffError {
        StaffError {
            nav: StaffNav::of(s),
            error: error.into(),
        }
    }
}

#[derive(Template)]
#[template(path = "admin_error.html")]
struct StaffErrorPage<'a> {
    site: Site,
    nav: &'a StaffNav,
    heading: &'a str,
    message: &'a str,
}

impl IntoResponse for StaffError {
    fn into_response(self) -> Response {
        let nav = self.nav;
        self.error.into_page(|heading, message| {
            StaffErrorPage {
                site: Site::new(),
                nav: &nav,
                heading,
                message,
            }
            .render()
            .unwrap_or_else(|_| crate::web::page::error_page(heading, message))
        })
    }
}

/// Runs a staff page, its failures shown in the staff frame of `s`.
pub async fn framed(
    s: &Session,
    page: impl Future<Output = Result<Response, AppError>>,
) -> Result<Response, StaffError> {
    page.await.map_err(|e| StaffError::new(s, e))
}
