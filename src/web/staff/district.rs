//! `/admin/district` on a district office's box: managers upload the centres' summary files
//! (several at once), accept or refuse a centre's new key, read the report of a period against
//! the plan's targets (printable, and as CSV), and upload the communes' figures.

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::session::{Manager, ManagerForm, StaffError, StaffNav, check_token, framed};
use crate::district::report::{self, DistrictReport, Plan};
use crate::district::{self, HeldKey};
use crate::settings::Role;
use crate::summary;
use crate::usage::report::vi_date;
use crate::web::error::AppError;
use crate::web::offload::blocking;
use crate::web::page::{Site, render};
use crate::web::state::AppState;

/// Most files one upload may carry.
const MAX_FILES: usize = 200;
/// Largest upload of summaries (many files of a few kB each).
pub const UPLOAD_LIMIT: usize = 64 << 20;

#[derive(Template)]
#[template(path = "admin_district.html")]
struct Page {
    site: Site,
    nav: StaffNav,
    messages: Vec<String>,
    held: Vec<HeldKey>,
    periods: Vec<(String, String)>,
    r: DistrictReport,
    period_label: String,
    from_vi: String,
    to_vi: String,
    /// "huyện Tam Đường", for the header.
    district: String,
    /// "Tam Đường", for the date line.
    place: String,
    signed_on: String,
    plan_name: String,
    plan_is_example: bool,
    communes: usize,
    plan_file: String,
}

impl Page {
    /// Whether some centre's commune has the figures a rate needs.
    fn any_centre_rate(&self) -> bool {
        self.r
            .centres
            .iter()
            .any(|c| c.targets.iter().any(|t| t.percent.is_some()))
    }

    fn n(&self, r: &crate::usage::report::Report, v: &u64) -> String {
        if r.withheld {
            crate::usage::export::HIDDEN.to_string()
        } else {
            v.to_string()
        }
    }
}

/// Which period.
#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    #[serde(default)]
    period: String,
}

/// A period's name in words.
pub fn period_label(name: &str) -> String {
    let (y, rest) = name.split_once('-').unwrap_or((name, ""));
    match rest {
        "" => format!("Năm {y}"),
        "LLW" => format!("Tuần lễ học tập suốt đời {y}"),
        "H1" => format!("6 tháng đầu năm {y}"),
        "H2" => format!("6 tháng cuối năm {y}"),
        r if r.starts_with('Q') => format!("Quý {}/{y}", &r[1..]),
        r => format!("Tháng {}/{y}", r.trim_start_matches('0')),
    }
}

/// The district as the official header names it: "Tam Đường" is "huyện Tam Đường"; a name
/// that already says what it is ("thị xã …", "thành phố …") is kept.
fn official_district(name: &str) -> String {
    let name = name.trim();
    if name.is_empty() || summary::place_key(name) != name.to_lowercase() {
        name.to_string()
    } else {
        format!("huyện {name}")
    }
}

fn district_only(state: &AppState) -> Result<(), AppError> {
    if state.site.settings.role == Role::District {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// `GET /admin/district`.
pub async fn show(
    State(state): State<AppState>,
    Manager(s): Manager,
    axum::extract::Query(q): axum::extract::Query<PeriodQuery>,
) -> Result<Response, StaffError> {
    framed(
        &s,
        page(state, s.clone(), q.period, Vec::new(), StatusCode::OK),
    )
    .await
}

/// Everything the page shows, read off the database.
struct Read {
    held: Vec<HeldKey>,
    periods: Vec<String>,
    report: DistrictReport,
}

async fn read(
    state: &AppState,
    period: String,
) -> Result<(Read, Plan, bool, Option<String>), AppError> {
    district_only(state)?;
    let plan_path = crate::data_dir::DataDir::new(&state.site.settings.data).district_plan();
    // A plan file broken by hand must not take the page (and its imports) with it.
    let (plan, example, plan_error) = match blocking(move || report::load_plan(&plan_path)).await {
        Ok((plan, example)) => (plan, example, None),
        Err(e) => (
            report::Plan::parse(report::EXAMPLE_PLAN).unwrap_or_default(),
            true,
            Some(e.to_string()),
        ),
    };
    let today = super::dashboard::today(state);
    let this_half = format!(
        "{}-H{}",
        today.year(),
        if u8::from(today.month()) <= 6 { 1 } else { 2 }
    );
    let p = plan.clone();
    let read = state
        .records
        .db(move |conn| {
            Ok((|| -> Result<Read, district::ImportError> {
                let periods: Vec<String> = conn
                    .prepare(
                        "SELECT period FROM district_summaries GROUP BY period
                         ORDER BY MAX(imported_at) DESC",
                    )?
                    .query_map([], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                // The period asked for, else the one last imported, else this half-year.
                let chosen = summary::named_period(&period)
                    .or_else(|| periods.first().and_then(|p| summary::named_period(p)))
                    .or_else(|| summary::named_period(&this_half))
                    .unwrap_or_else(|| {
                        (
                            "2026-H2".into(),
                            crate::usage::report::Period {
                                from: today,
                                to: today,
                            },
                        )
                    });
                let held = district::summaries(conn, Some(&chosen.0))?;
                let known = district::centres(conn)?;
                Ok(Read {
                    held: district::held_keys(conn)?,
                    periods,
                    report: report::district_report(chosen, &held, &known, &p),
                })
            })())
        })
        .await??;
    Ok((read, plan, example, plan_error))
}

async fn page(
    state: AppState,
    s: crate::accounts::Session,
    period: String,
    messages: Vec<String>,
    status: StatusCode,
) -> Result<Response, AppError> {
    let (read, plan, example, plan_error) = read(&state, period).await?;
    let mut messages = messages;
    if let Some(e) = plan_error {
        messages.push(format!(
            "Tệp kế hoạch của huyện không đọc được ({e}); đang dùng chỉ tiêu mẫu. Hãy sửa tệp."
        ));
    }
    let today = super::dashboard::today(&state);
    let mut periods: Vec<(String, String)> = read
        .periods
        .iter()
        .map(|p| (p.clone(), period_label(p)))
        .collect();
    for p in super::charts::presets(today) {
        if !periods.iter().any(|(c, _)| *c == p.code)
            && let Some((name, _)) = summary::named_period(&p.code)
        {
            periods.push((name, p.label));
        }
    }
    if !periods.iter().any(|(c, _)| *c == read.report.period) {
        periods.insert(
            0,
            (
                read.report.period.clone(),
                period_label(&read.report.period),
            ),
        );
    }
    let r = read.report;
    let (from, to) = (
        crate::clock::parse_date(&r.from).unwrap_or(today),
        crate::clock::parse_date(&r.to).unwrap_or(today),
    );
    let page = Page {
        site: Site::new(),
        nav: StaffNav::of(&s),
        messages,
        held: read.held,
        periods,
        period_label: period_label(&r.period),
        from_vi: vi_date(from),
        to_vi: vi_date(to),
        r,
        district: official_district(&state.site.settings.district),
        place: state.site.settings.district.trim().to_string(),
        signed_on: format!(
            "ngày {} tháng {} năm {}",
            today.day(),
            u8::from(today.month()),
            today.year()
        ),
        plan_name: plan.name.clone(),
        plan_is_example: example,
        communes: plan.communes.len(),
        plan_file: crate::data_dir::DataDir::new(&state.site.settings.data)
            .district_plan()
            .display()
            .to_string(),
    };
    Ok((status, render(&page)?).into_response())
}

/// The files of a multipart upload, in memory (each at most `max` bytes), after its token.
async fn files(
    mut multipart: Multipart,
    s: &crate::accounts::Session,
    max: usize,
) -> Result<Vec<(String, Vec<u8>)>, AppError> {
    let mut token = None;
    let mut out = Vec::new();
    let broken = |_| AppError::bad("Tải tệp lên không trọn vẹn. Hãy thử lại.");
    while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
        match field.name() {
            Some("token") => {
                token = Some(field.text().await.map_err(broken)?);
            }
            Some("file") => {
                check_token(s, token.as_deref())?;
                if out.len() >= MAX_FILES {
                    return Err(AppError::bad(format!(
                        "Mỗi lần nhận nhiều nhất {MAX_FILES} tệp."
                    )));
                }
                let name = field.file_name().unwrap_or("tệp").to_string();
                let mut bytes = Vec::new();
                let mut too_large = false;
                while let Some(chunk) = field.chunk().await.map_err(broken)? {
                    if bytes.len() + chunk.len() > max {
                        too_large = true;
                    } else {
                        bytes.extend_from_slice(&chunk);
                    }
                }
                // A file too large is reported as such below, not by failing the others.
                if too_large {
                    bytes = vec![0; max + 1];
                }
                if !(name.is_empty() && bytes.is_empty()) {
                    out.push((name, bytes));
                }
            }
            _ => {}
        }
    }
    check_token(s, token.as_deref())?;
    Ok(out)
}

/// `POST /admin/district/import` (multipart: `token`, then `file` several times).
pub async fn import(
    State(state): State<AppState>,
    Manager(s): Manager,
    multipart: Multipart,
) -> Result<Response, StaffError> {
    let work = async {
        district_only(&state)?;
        let files = files(multipart, &s, summary::MAX_FILE_BYTES).await?;
        if files.is_empty() {
            return Err(AppError::bad("Hãy chọn ít nhất một tệp tổng hợp."));
        }
        let ours = state.site.settings.district.clone();
        let now = state.now_ms();
        let results = state
            .records
            .db(move |conn| {
                let done = district::import_many(
                    conn,
                    files.iter().map(|(_, b)| b.as_slice()),
                    &ours,
                    now,
                )?;
                Ok(files
                    .iter()
                    .zip(done)
                    .map(|((name, _), r)| match r {
                        Ok(i) => (true, format!("{name}: {i}")),
                        Err(e) => (false, format!("{name}: bị từ chối: {e}")),
                    })
                    .collect::<Vec<_>>())
            })
            .await?;
        let refused = results.iter().filter(|(ok, _)| !ok).count();
        tracing::info!(user = ?s.user, files = results.len(), refused, "summaries imported");
        let status = if refused == 0 {
            StatusCode::OK
        } else {
            StatusCode::UNPROCESSABLE_ENTITY
        };
        let messages = results.into_iter().map(|(_, m)| m).collect();
        page(state.clone(), s.clone(), String::new(), messages, status).await
    };
    framed(&s, work).await
}

/// A manager's answer about a new key.
#[derive(Debug, Deserialize)]
pub struct KeyForm {
    centre: String,
    fingerprint: String,
    action: String,
}

/// `POST /admin/district/key`: accept or refuse a centre's new key.
pub async fn key(
    State(state): State<AppState>,
    ManagerForm(s, f): ManagerForm<KeyForm>,
) -> Result<Response, StaffError> {
    let work = async {
        district_only(&state)?;
        let now = state.now_ms();
        let accept = match f.action.as_str() {
            "accept" => true,
            "refuse" => false,
            _ => return Err(AppError::bad("Hãy bấm «Xác nhận khóa» hoặc «Từ chối».")),
        };
        let (centre, fp) = (f.centre.clone(), f.fingerprint.clone());
        let messages = state
            .records
            .db(move |conn| {
                Ok((|| -> Result<Vec<String>, district::ImportError> {
                    let none = || vec!["Không có khóa mới này đang chờ.".to_string()];
                    Ok(if accept {
                        match district::accept_key(conn, &centre, &fp, now)? {
                            None => none(),
                            Some(done) => std::iter::once(format!("Đã xác nhận khóa {fp}."))
                                .chain(done.iter().map(district::outcome_text))
                                .collect(),
                        }
                    } else if district::refuse_key(conn, &centre, &fp)? {
                        vec![format!(
                            "Đã từ chối khóa {fp}; các tệp ký bằng khóa này đã bỏ."
                        )]
                    } else {
                        none()
                    })
                })())
            })
            .await??;
        tracing::info!(user = ?s.user, centre = %f.centre, fingerprint = %f.fingerprint, accept, "centre key decided");
        page(
            state.clone(),
            s.clone(),
            String::new(),
            messages,
            StatusCode::OK,
        )
        .await
    };
    framed(&s, work).await
}

fn csv_response(body: String, filename: &str) -> Response {
    let mut res = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `GET /admin/district/report.csv?period=…`: the report's table.
pub async fn report_csv(
    State(state): State<AppState>,
    Manager(s): Manager,
    axum::extract::Query(q): axum::extract::Query<PeriodQuery>,
) -> Result<Response, StaffError> {
    let work = async {
        let (read, _, _, _) = read(&state, q.period).await?;
        let body = crate::usage::export::csv_file(&report::table(&read.report))?;
        Ok(csv_response(
            body,
            &format!("hoclieu-huyen-{}.csv", read.report.period),
        ))
    };
    framed(&s, work).await
}

/// `GET /admin/district/communes.csv`: the communes' figures as entered.
pub async fn communes_csv(
    State(state): State<AppState>,
    Manager(s): Manager,
) -> Result<Response, StaffError> {
    let work = async {
        district_only(&state)?;
        let path = crate::data_dir::DataDir::new(&state.site.settings.data).district_plan();
        let (plan, _) = blocking(move || report::load_plan(&path)).await?;
        Ok(csv_response(
            report::communes_csv(&plan)?,
            "hoclieu-so-lieu-xa.csv",
        ))
    };
    framed(&s, work).await
}

/// `POST /admin/district/plan` (multipart: `token`, `file`): the communes' figures from a CSV.
pub async fn plan(
    State(state): State<AppState>,
    Manager(s): Manager,
    multipart: Multipart,
) -> Result<Response, StaffError> {
    let work = async {
        district_only(&state)?;
        let mut files = files(multipart, &s, 1 << 20).await?;
        let Some((_, bytes)) = files.pop() else {
            return Err(AppError::bad("Hãy chọn tệp CSV."));
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| AppError::bad("Tệp CSV phải là UTF-8 (Excel: «CSV UTF-8»)."))?;
        let path = crate::data_dir::DataDir::new(&state.site.settings.data).district_plan();
        let saved = blocking(move || {
            let read = report::load_plan(&path).and_then(|(plan, _)| plan.with_csv(&text));
            Ok::<_, std::io::Error>(match read {
                Ok(plan) => {
                    crate::fsutil::write_atomic(&path, plan.to_toml().as_bytes())?;
                    Ok(plan.communes.len())
                }
                Err(e) => Err(e),
            })
        })
        .await?;
        let (messages, status) = match saved {
            Ok(n) => (vec![format!("Đã nhận số liệu của {n} xã.")], StatusCode::OK),
            Err(e) => (
                vec![format!("Tệp CSV bị từ chối, không có gì thay đổi: {e}")],
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
        };
        page(state.clone(), s.clone(), String::new(), messages, status).await
    };
    framed(&s, work).await
}
