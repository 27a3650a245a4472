//! The manager's area at `/admin`: login, the participation dashboard and CSV exports.
//!
//! Every route here needs a session cookie (HttpOnly, SameSite=Strict, path `/admin`); pages
//! without one redirect to the login form. Every form carries a token (the session's, or for
//! the login form a cookie-bound one), no GET changes anything, and failed logins are limited
//! per client address, kept in memory only.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use cookie::{Cookie, SameSite};
use serde::Deserialize;

use crate::accounts::{self, Role};
use crate::usage::export::{self, Compared};
use crate::usage::report::{self, Period, iso, parse_date, vi_date};
use crate::web::error::AppError;
use crate::web::state::AppState;
use crate::web::visitor::pages::{Site, render};

/// Session cookie name.
const SESSION_COOKIE: &str = "hl_admin";
/// Cookie binding the login form to the browser that loaded it.
const LOGIN_COOKIE: &str = "hl_login";
/// Failed logins allowed per address within [`LIMIT_WINDOW`].
const MAX_FAILURES: u32 = 5;
/// How long failures are remembered.
const LIMIT_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Password checks running at once: argon2 takes 19 MiB and most of a core each.
const CONCURRENT_HASHES: usize = 2;

/// Failed login attempts per client address.
#[derive(Debug)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<IpAddr, (u32, Instant)>>,
    hashing: tokio::sync::Semaphore,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            failures: Mutex::default(),
            hashing: tokio::sync::Semaphore::new(CONCURRENT_HASHES),
        }
    }
}

impl LoginLimiter {
    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<IpAddr, (u32, Instant)>> {
        self.failures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether this address may try again now.
    pub fn allowed(&self, ip: IpAddr) -> bool {
        let mut m = self.map();
        m.retain(|_, (_, since)| since.elapsed() < LIMIT_WINDOW);
        m.get(&ip).is_none_or(|(n, _)| *n < MAX_FAILURES)
    }

    fn failed(&self, ip: IpAddr) {
        let mut m = self.map();
        let e = m.entry(ip).or_insert((0, Instant::now()));
        e.0 += 1;
    }

    fn succeeded(&self, ip: IpAddr) {
        self.map().remove(&ip);
    }
}

fn set_cookie(res: &mut Response, c: Cookie<'_>) {
    if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, v);
    }
}

fn admin_cookie(name: &'static str, value: String) -> Cookie<'static> {
    // Not `Secure`: the box serves plain HTTP on the centre's own Wi-Fi, where a Secure
    // cookie would never be sent back. SameSite=Strict and HttpOnly still apply.
    Cookie::build((name, value))
        .path("/admin")
        .http_only(true)
        .same_site(SameSite::Strict)
        .build()
}

/// Runs `f` on the database; the admin area cannot work without one.
async fn db<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T> + Send + 'static,
) -> Result<T, AppError> {
    state.with_db(f).await?.ok_or(AppError::Starting)
}

/// A logged-in staff member, extracted from the session cookie.
#[derive(Debug, Clone)]
pub struct Staff(pub accounts::Session);

/// Why a request to the admin area was refused.
#[derive(Debug)]
pub enum Refused {
    /// Not logged in: go to the login form.
    Login,
    /// Logged in, but the role may not do this.
    Forbidden,
    /// Something else went wrong.
    Error(AppError),
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Refused::Login => Redirect::to("/admin/login").into_response(),
            Refused::Forbidden => AppError::Forbidden.into_response(),
            Refused::Error(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refused> {
        let token = crate::web::participant::cookie_value(&parts.headers, SESSION_COOKIE)
            .ok_or(Refused::Login)?;
        let now = crate::usage::now_ms();
        let session = db(state, move |c| accounts::session(c, &token, now))
            .await
            .map_err(Refused::Error)?
            .ok_or(Refused::Login)?;
        Ok(Staff(session))
    }
}

/// A staff member who may read reports.
#[derive(Debug, Clone)]
pub struct Manager(pub accounts::Session);

impl FromRequestParts<AppState> for Manager {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Refused> {
        let Staff(s) = Staff::from_request_parts(parts, state).await?;
        if s.role == Role::Manager {
            Ok(Manager(s))
        } else {
            Err(Refused::Forbidden)
        }
    }
}

#[derive(Template)]
#[template(path = "admin_login.html")]
struct LoginPage {
    site: Site,
    token: String,
    message: Option<String>,
    no_accounts: bool,
}

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
    let existing =
        crate::web::participant::cookie_value(headers, LOGIN_COOKIE).filter(|t| t.len() == 32);
    let token = existing
        .clone()
        .unwrap_or_else(crate::usage::new_participant_id);
    let no_accounts = db(state, accounts::count).await? == 0;
    let mut res = (
        status,
        render(&LoginPage {
            site: Site::new(),
            token: token.clone(),
            message,
            no_accounts,
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
    f: Result<Form<LoginForm>, FormRejection>,
) -> Result<Response, AppError> {
    let f = crate::web::params::form(f)?;
    let bound = crate::web::participant::cookie_value(&headers, LOGIN_COOKIE);
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
    let limiter = Arc::clone(&state.login_limiter);
    if !limiter.allowed(ip) {
        tracing::warn!("login refused: too many failed attempts");
        return login_page(
            &state,
            &headers,
            StatusCode::TOO_MANY_REQUESTS,
            Some("Sai mật khẩu quá nhiều lần. Hãy đợi 15 phút rồi thử lại.".into()),
        )
        .await;
    }
    let user = f.username.unwrap_or_default().trim().to_string();
    let password = f.password.unwrap_or_default();
    let role = {
        let _permit = limiter
            .hashing
            .acquire()
            .await
            .map_err(|_| AppError::Starting)?;
        let u = user.clone();
        db(&state, move |c| accounts::check_login(c, &u, &password)).await?
    };
    if role.is_none() {
        limiter.failed(ip);
        tracing::info!(user = %user, "failed login");
        return login_page(
            &state,
            &headers,
            StatusCode::UNAUTHORIZED,
            Some("Sai tên đăng nhập hoặc mật khẩu.".into()),
        )
        .await;
    }
    limiter.succeeded(ip);
    let now = crate::usage::now_ms();
    let u = user.clone();
    let token = db(&state, move |c| accounts::start_session(c, &u, now)).await?;
    tracing::info!(user = %user, "logged in");
    let home = role.map_or("/admin", home_of);
    let mut res = Redirect::to(home).into_response();
    set_cookie(&mut res, admin_cookie(SESSION_COOKIE, token));
    Ok(res)
}

/// Refuses a state-changing request whose form does not carry the session's token (CSRF).
pub fn check_token(s: &accounts::Session, token: Option<&str>) -> Result<(), AppError> {
    if token == Some(s.csrf.as_str()) {
        Ok(())
    } else {
        Err(AppError::BadRequest(
            "Phiên làm việc không khớp. Hãy tải lại trang.".into(),
        ))
    }
}

/// The staff menu at the top of every admin page.
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
    pub fn of(s: &accounts::Session) -> StaffNav {
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

/// A form carrying only the session's token.
#[derive(Debug, Deserialize)]
pub struct TokenForm {
    token: Option<String>,
}

/// `POST /admin/logout`.
pub async fn logout(
    State(state): State<AppState>,
    Staff(s): Staff,
    headers: HeaderMap,
    f: Result<Form<TokenForm>, FormRejection>,
) -> Result<Response, AppError> {
    let f = crate::web::params::form(f)?;
    check_token(&s, f.token.as_deref())?;
    if let Some(token) = crate::web::participant::cookie_value(&headers, SESSION_COOKIE) {
        db(&state, move |c| accounts::end_session(c, &token)).await?;
    }
    let mut res = Redirect::to("/admin/login").into_response();
    let mut gone = admin_cookie(SESSION_COOKIE, String::new());
    gone.make_removal();
    set_cookie(&mut res, gone);
    Ok(res)
}

/// Which period a report is for.
#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    period: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl PeriodQuery {
    fn resolve(&self, today: time::Date) -> Result<Period, AppError> {
        let bad = |m: &str| AppError::BadRequest(m.to_string());
        match (
            self.period.as_deref(),
            self.from.as_deref(),
            self.to.as_deref(),
        ) {
            (Some(p), _, _) if !p.is_empty() => {
                Period::named(p).ok_or_else(|| bad("Kỳ báo cáo không hợp lệ."))
            }
            (_, Some(f), Some(t)) if !f.is_empty() && !t.is_empty() => {
                let from = parse_date(f).ok_or_else(|| bad("Ngày bắt đầu không hợp lệ."))?;
                let to = parse_date(t).ok_or_else(|| bad("Ngày kết thúc không hợp lệ."))?;
                Period::new(from, to).ok_or_else(|| bad("Ngày kết thúc phải sau ngày bắt đầu."))
            }
            _ => Ok(
                Period::named(&format!("{}-{:02}", today.year(), u8::from(today.month())))
                    .unwrap_or(Period {
                        from: today,
                        to: today,
                    }),
            ),
        }
    }
}

fn today() -> time::Date {
    report::date_of(crate::usage::local_day(crate::usage::now_ms()))
}

async fn compared(state: &AppState, period: Period) -> Result<Compared, AppError> {
    db(state, move |c| {
        Ok(Compared {
            current: report::report(c, period)?,
            previous: report::report(c, period.previous())?,
        })
    })
    .await
}

/// A horizontal bar with its value and the previous period's.
pub struct Bar {
    label: String,
    value: u64,
    previous: u64,
    /// Widths in percent of the widest bar.
    width: u64,
    previous_width: u64,
}

fn bars(items: Vec<(String, u64, u64)>) -> Vec<Bar> {
    let max = items.iter().map(|i| i.1.max(i.2)).max().unwrap_or(0).max(1);
    items
        .into_iter()
        .map(|(label, value, previous)| Bar {
            label,
            value,
            previous,
            width: value * 100 / max,
            previous_width: previous * 100 / max,
        })
        .collect()
}

/// A vertical column (days or hours).
pub struct Column {
    label: String,
    value: u64,
    /// Height in percent of the tallest column.
    height: u64,
}

fn columns(items: Vec<(String, u64)>) -> Vec<Column> {
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    items
        .into_iter()
        .map(|(label, value)| Column {
            label,
            value,
            height: value * 100 / max,
        })
        .collect()
}

/// A named period offered as a quick choice.
pub struct Preset {
    code: String,
    label: String,
}

fn presets(today: time::Date) -> Vec<Preset> {
    let y = today.year();
    let m = u8::from(today.month());
    let q = (m - 1) / 3 + 1;
    let h = if m <= 6 { 1 } else { 2 };
    let (pm_y, pm) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    let (pq_y, pq) = if q == 1 { (y - 1, 4) } else { (y, q - 1) };
    vec![
        Preset {
            code: format!("{y}-{m:02}"),
            label: format!("Tháng {m}/{y}"),
        },
        Preset {
            code: format!("{pm_y}-{pm:02}"),
            label: format!("Tháng {pm}/{pm_y}"),
        },
        Preset {
            code: format!("{y}-Q{q}"),
            label: format!("Quý {q}/{y}"),
        },
        Preset {
            code: format!("{pq_y}-Q{pq}"),
            label: format!("Quý {pq}/{pq_y}"),
        },
        Preset {
            code: format!("{y}-H{h}"),
            label: format!("6 tháng {} năm {y}", if h == 1 { "đầu" } else { "cuối" }),
        },
        Preset {
            code: format!("{y}"),
            label: format!("Năm {y}"),
        },
        Preset {
            code: format!("{}", y - 1),
            label: format!("Năm {}", y - 1),
        },
        Preset {
            code: format!("{y}-LLW"),
            label: format!("Tuần lễ học tập suốt đời {y} (1–7/10)"),
        },
    ]
}

/// Labels of the demographic questions, in report order.
const QUESTIONS: &[(&str, &str)] = &[
    ("age_band", "Độ tuổi"),
    ("gender", "Giới tính"),
    ("ethnicity", "Dân tộc"),
    ("newly_literate", "Mới biết chữ"),
    ("village", "Thôn, bản"),
];

#[derive(Template)]
#[template(path = "admin.html")]
struct Dashboard<'a> {
    site: Site,
    centre: &'a str,
    nav: StaffNav,
    c: Compared,
    from_vi: String,
    to_vi: String,
    prev_from_vi: String,
    prev_to_vi: String,
    query: String,
    presets: Vec<Preset>,
    selected: String,
    fields: Vec<Bar>,
    fields_table: Vec<(&'static str, u64, u64)>,
    groups: Vec<(&'static str, Vec<crate::usage::report::GroupCount>)>,
    materials: Vec<(String, String, u64, u64)>,
    lessons: Vec<(String, String, &'static str, u64, u64)>,
    days: Vec<Column>,
    hours: Vec<Column>,
}

/// `GET /admin`: the participation report for a period, with the previous one beside it.
pub async fn dashboard(
    State(state): State<AppState>,
    Staff(s): Staff,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    if s.role != Role::Manager {
        return Ok(Redirect::to(home_of(s.role)).into_response());
    }
    let today = today();
    let period = q.resolve(today)?;
    let c = compared(&state, period).await?;
    let catalog = state.catalog();
    let title_of = |id: &str| -> String {
        catalog
            .as_ref()
            .and_then(|cat| cat.library.get(id).map(|m| m.title.clone()))
            .unwrap_or_else(|| id.to_string())
    };
    let fields = bars(
        crate::content::Category::ALL
            .iter()
            .map(|cat| {
                let now = c
                    .current
                    .by_category
                    .get(cat.slug())
                    .map_or(0, |f| f.participants);
                let before = c
                    .previous
                    .by_category
                    .get(cat.slug())
                    .map_or(0, |f| f.participants);
                (cat.name_vi().to_string(), now, before)
            })
            .collect(),
    );
    let fields_table = crate::content::Category::ALL
        .iter()
        .map(|cat| {
            let f = c
                .current
                .by_category
                .get(cat.slug())
                .cloned()
                .unwrap_or_default();
            (cat.name_vi(), f.participants, f.views)
        })
        .collect();
    let groups = QUESTIONS
        .iter()
        .map(|(key, label)| {
            (
                *label,
                c.current.by_group.get(*key).cloned().unwrap_or_default(),
            )
        })
        .collect();
    let materials = c
        .current
        .top_materials
        .iter()
        .map(|m| (m.id.clone(), title_of(&m.id), m.participants, m.views))
        .collect();
    let known_lessons = match state.lessons() {
        Some(_) => state
            .with_lessons_store(|st| st.list())
            .await
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let lessons = c
        .current
        .lessons
        .iter()
        .map(|l| {
            let known = known_lessons.iter().find(|k| k.code == l.id);
            (
                l.id.clone(),
                known.map_or_else(|| l.id.clone(), |k| k.title.clone()),
                known.map_or("", |k| k.category.name_vi()),
                l.participants,
                l.views,
            )
        })
        .collect();
    let days = columns(
        c.current
            .busy_days
            .iter()
            .map(|d| (d.date[5..].replace('-', "/"), d.participants))
            .collect(),
    );
    let hours = columns(
        c.current
            .hours
            .iter()
            .enumerate()
            .map(|(h, v)| (format!("{h}"), *v))
            .collect(),
    );
    let query = match (&q.period, &q.from, &q.to) {
        (Some(p), _, _) if !p.is_empty() => format!("period={p}"),
        _ => format!("from={}&to={}", iso(period.from), iso(period.to)),
    };
    let page = Dashboard {
        site: Site::new(),
        centre: state.centre(),
        nav: StaffNav::of(&s),
        from_vi: vi_date(period.from),
        to_vi: vi_date(period.to),
        prev_from_vi: vi_date(period.previous().from),
        prev_to_vi: vi_date(period.previous().to),
        query,
        presets: presets(today),
        selected: q.period.clone().unwrap_or_default(),
        fields,
        fields_table,
        groups,
        materials,
        lessons,
        days,
        hours,
        c,
    };
    let mut res = render(&page)?.into_response();
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `GET /admin/export/{table}`: one table of the report as CSV.
pub async fn export_csv(
    State(state): State<AppState>,
    Manager(_): Manager,
    Path(table): Path<String>,
    Query(q): Query<PeriodQuery>,
) -> Result<Response, AppError> {
    let name = table.strip_suffix(".csv").unwrap_or(&table).to_string();
    let period = q.resolve(today())?;
    let c = compared(&state, period).await?;
    let t = export::tables(&c.current)
        .into_iter()
        .find(|t| t.name == name)
        .ok_or(AppError::NotFound)?;
    let body = export::csv_table(&t.header, &t.rows)
        .map_err(|e| AppError::Internal(crate::Error::Io(std::io::Error::other(e.to_string()))))?;
    let filename = format!(
        "hoclieu-{}-{}-{}.csv",
        name,
        iso(period.from),
        iso(period.to)
    );
    let mut res = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// Used by the template to print an optional count.
pub fn show_count(n: &Option<u64>) -> String {
    match n {
        Some(v) => v.to_string(),
        None => "dưới 5".to_string(),
    }
}

/// Change from the previous period, as text ("+3", "−2", "0").
pub fn delta(now: &u64, before: &u64) -> String {
    match now.cmp(before) {
        std::cmp::Ordering::Greater => format!("+{}", now - before),
        std::cmp::Ordering::Less => format!("−{}", before - now),
        std::cmp::Ordering::Equal => "0".to_string(),
    }
}
