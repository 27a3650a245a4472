//! Logging in and out of the staff area. The login form is bound to the browser that loaded it
//! by a cookie, failed logins are limited per client address (in memory only), and a success
//! starts a session whose cookie every other staff route reads (see `session`).

use std::net::{IpAddr, SocketAddr};

use askama::Template;
use axum::Extension;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::session::{
    LOGIN_COOKIE, SESSION_COOKIE, StaffForm, admin_cookie, home_of, login_cookie, set_cookie,
};
use crate::accounts;
use crate::web::error::AppError;
use crate::web::extract::{Form, Token};
use crate::web::page::{Site, render};
use crate::web::participant::cookie_value;
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "admin_login.html")]
struct LoginPage {
    site: Site,
    token: String,
    message: Option<String>,
    no_accounts: bool,
    /// A form posted after the session expired is kept for after this login.
    draft_waiting: bool,
}

/// Said when the password-checking queue is full.
pub const BUSY: &str =
    "Máy chủ đang bận kiểm tra các lần đăng nhập khác. Xin đợi một lát rồi thử lại.";
/// Seconds a refused login is told to wait.
pub const RETRY_AFTER: &str = "5";

/// `GET /admin/login`.
pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    login_page(&state, &headers, StatusCode::OK, None).await
}

async fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    message: Option<String>,
) -> Result<Response, AppError> {
    let existing = login_cookie(headers);
    let token = existing
        .clone()
        .unwrap_or_else(crate::usage::new_participant_id);
    let no_accounts = state.records.db(accounts::count).await? == 0;
    let draft_waiting = state.staff.drafts.page(&token, state.now_ms()).is_some();
    let mut res = (
        status,
        render(&LoginPage {
            site: Site::new(),
            token: token.clone(),
            message,
            no_accounts,
            draft_waiting,
        })?,
    )
        .into_response();
    if existing.is_none() {
        set_cookie(&mut res, admin_cookie(LOGIN_COOKIE, token));
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// The login form as posted.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    token: Option<String>,
    username: Option<String>,
    password: Option<String>,
}

/// `POST /admin/login`.
pub async fn login(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, AppError> {
    let bound = cookie_value(&headers, LOGIN_COOKIE);
    if bound.is_none() || bound != f.token {
        return login_page(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            Some("Trang đăng nhập đã cũ. Hãy thử lại.".into()),
        )
        .await;
    }
    // The real peer address, never a forwarded header: anyone on the Wi-Fi could forge that.
    let ip = peer.map_or(IpAddr::from([0, 0, 0, 0]), |Extension(ConnectInfo(a))| {
        a.ip()
    });
    let limiter = &state.staff.login_limiter;
    let user = f.username.unwrap_or_default().trim().to_string();
    let password = f.password.unwrap_or_default();
    // Counted before the check, so simultaneous guesses cannot all slip under the limit.
    let Some(attempt) = limiter.begin(ip, &user) else {
        tracing::warn!("login refused: too many attempts from this address or at this account");
        return login_page(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            Some("Sai mật khẩu quá nhiều lần. Hãy đợi 15 phút rồi thử lại.".into()),
        )
        .await;
    };
    // Refused at once when the short queue is full: the attempt still counts.
    let Ok(turn) = limiter.hash_turn().await else {
        tracing::warn!("login refused: too many password checks waiting");
        let mut res = login_page(
            &state,
            &headers,
            StatusCode::SERVICE_UNAVAILABLE,
            Some(BUSY.into()),
        )
        .await?;
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER));
        return Ok(res);
    };
    let u = user.clone();
    let stored = state
        .records
        .db(move |c| accounts::stored_login(c, &u))
        .await?;
    // Hashed away from the database lock, with the turn kept until the hash ends.
    let role = crate::web::offload::blocking(move || {
        let _turn = turn;
        Ok::<_, AppError>(accounts::check_against(stored, &password))
    })
    .await?;
    let Some(role) = role else {
        // Not the name typed: it may be a password typed into the wrong box, or a forged
        // log line.
        tracing::info!("failed login");
        return login_page(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            Some("Sai tên đăng nhập hoặc mật khẩu.".into()),
        )
        .await;
    };
    limiter.succeeded(attempt);
    let now = state.now_ms();
    let u = user.clone();
    let token = state
        .records
        .db(move |c| accounts::start_session(c, &u, now))
        .await?;
    tracing::info!(user = ?user, "logged in");
    // Back to the editor whose form was posted after the session had expired, if any.
    let page = bound
        .and_then(|b| state.staff.drafts.page(&b, now))
        .unwrap_or_else(|| home_of(role).to_string());
    let mut res = Redirect::to(&page).into_response();
    set_cookie(&mut res, admin_cookie(SESSION_COOKIE, token));
    Ok(res)
}

/// `POST /admin/logout`.
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    StaffForm(_, Token { .. }): StaffForm<Token>,
) -> Result<Response, AppError> {
    if let Some(token) = cookie_value(&headers, SESSION_COOKIE) {
        state
            .records
            .db(move |c| accounts::end_session(c, &token))
            .await?;
    }
    let mut res = Redirect::to("/admin/login").into_response();
    let mut gone = admin_cookie(SESSION_COOKIE, String::new());
    gone.make_removal();
    set_cookie(&mut res, gone);
    Ok(res)
}
