//! `/admin/accounts`: managers add teachers and other managers, change passwords and remove
//! accounts. Every route needs a manager's session; every change carries the session token.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::confirm::{self, Confirm, confirmed};
use super::session::{Manager, ManagerForm, StaffError, StaffNav, framed};
use crate::accounts::{self, Account, AccountError, Role};
use crate::web::error::AppError;
use crate::web::page::{Site, render};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "admin_accounts.html")]
struct AccountsPage {
    site: Site,
    nav: StaffNav,
    accounts: Vec<Account>,
    message: Option<String>,
}

async fn page(
    state: &AppState,
    s: &accounts::Session,
    status: StatusCode,
    message: Option<String>,
) -> Result<Response, AppError> {
    let accounts = state.records.db(accounts::list).await?;
    let page = AccountsPage {
        site: Site::new(),
        nav: StaffNav::of(s),
        accounts,
        message,
    };
    Ok((status, render(&page)?).into_response())
}

/// `GET /admin/accounts`.
pub async fn list(
    State(state): State<AppState>,
    Manager(s): Manager,
) -> Result<Response, StaffError> {
    framed(&s, async { page(&state, &s, StatusCode::OK, None).await }).await
}

/// The add-or-change form.
#[derive(Debug, Deserialize)]
pub struct SaveForm {
    user: Option<String>,
    role: Option<String>,
    password: Option<String>,
}

/// `POST /admin/accounts`: creates an account or sets its password and role.
pub async fn save(
    State(state): State<AppState>,
    ManagerForm(s, f): ManagerForm<SaveForm>,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let user = f.user.unwrap_or_default().trim().to_string();
        let role = match f.role.as_deref() {
            Some("manager") => Role::Manager,
            Some("teacher") => Role::Teacher,
            _ => return Err(AppError::BadRequest("Hãy chọn vai trò.".into())),
        };
        let password = f.password.unwrap_or_default();
        let done = match accounts::check_new(&user, &password) {
            Ok(()) => hash_and_save(&state, &user, password, role).await?,
            Err(e) => Err(e),
        };
        let (status, message) = match done {
            Ok(()) => {
                tracing::info!(by = ?s.user, user = ?user, role = role.as_str(), "account saved");
                (StatusCode::OK, format!("Đã lưu tài khoản {user}."))
            }
            Err(AccountError::Db(e)) if crate::fsutil::is_disk_full(&e) => {
                return Err(AppError::DiskFull(Box::new(e)));
            }
            Err(e) => (StatusCode::BAD_REQUEST, refusal(&e)),
        };
        page(&state, &s, status, Some(message)).await
    })
    .await
}

/// Hashes the password in its turn (refused as busy when logins fill the queue), away from
/// the database lock, then saves it.
async fn hash_and_save(
    state: &AppState,
    user: &str,
    password: String,
    role: Role,
) -> Result<Result<(), AccountError>, AppError> {
    let turn = state
        .staff
        .login_limiter
        .hash_turn()
        .await
        .map_err(|_| AppError::Busy(super::auth::BUSY.into()))?;
    let hash = crate::web::offload::blocking(move || {
        let _turn = turn;
        Ok::<_, AppError>(accounts::hash_password(&password))
    })
    .await?;
    let hash = match hash {
        Ok(h) => h,
        Err(e) => return Err(AppError::internal(e)),
    };
    let now = state.now_ms();
    let u = user.to_string();
    state
        .records
        .db(move |c| Ok(accounts::save_hash(c, &u, &hash, role, now)))
        .await
}

/// The remove button.
#[derive(Debug, Deserialize)]
pub struct RemoveForm {
    user: Option<String>,
    confirm: Option<String>,
}

/// `POST /admin/accounts/remove`.
pub async fn remove(
    State(state): State<AppState>,
    ManagerForm(s, f): ManagerForm<RemoveForm>,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let user = f.user.unwrap_or_default();
        if !confirmed(f.confirm.as_deref()) {
            return confirm::page(
                &s,
                Confirm {
                    heading: format!("Xóa tài khoản {user}?"),
                    detail:
                        "Người này sẽ không đăng nhập được nữa. Bài học và tài liệu họ đã soạn \
                         vẫn còn."
                            .into(),
                    action: "/admin/accounts/remove".into(),
                    fields: vec![("user", user)],
                    button: "Xóa tài khoản",
                    back: "/admin/accounts".into(),
                },
            );
        }
        let u = user.clone();
        let done = state
            .records
            .db(move |c| Ok(accounts::remove(c, &u)))
            .await?;
        let (status, message) = match done {
            Ok(()) => {
                tracing::info!(by = ?s.user, user = ?user, "account removed");
                (StatusCode::OK, format!("Đã xóa tài khoản {user}."))
            }
            Err(AccountError::Db(e)) if crate::fsutil::is_disk_full(&e) => {
                return Err(AppError::DiskFull(Box::new(e)));
            }
            Err(e) => (StatusCode::BAD_REQUEST, refusal(&e)),
        };
        page(&state, &s, status, Some(message)).await
    })
    .await
}

/// Why a change was refused, in words a manager can act on.
fn refusal(e: &AccountError) -> String {
    match e {
        AccountError::TooShort => format!(
            "Mật khẩu phải có ít nhất {} ký tự.",
            accounts::MIN_PASSWORD_CHARS
        ),
        AccountError::TooLong => {
            format!("Mật khẩu dài nhất {} ký tự.", accounts::MAX_PASSWORD_CHARS)
        }
        AccountError::BadName => {
            "Tên đăng nhập chỉ gồm chữ không dấu, số, - hoặc _ (tối đa 32 ký tự).".into()
        }
        AccountError::NoSuchUser(u) => format!("Không có tài khoản {u}."),
        AccountError::LastManager(u) => {
            format!("{u} là quản lý cuối cùng. Hãy tạo một quản lý khác trước.")
        }
        AccountError::Db(_) | AccountError::Hash(_) => "Không lưu được. Hãy thử lại.".into(),
    }
}
