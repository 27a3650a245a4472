//! `POST /admin/summary`: a manager downloads the centre's signed summary of one period for
//! the district (a month, quarter, half-year, year or Lifelong Learning Week). A POST with the
//! session's token: each download takes the period's next revision number.

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::session::ManagerForm;
use crate::summary::{self, Centre, Made};
use crate::web::error::AppError;
use crate::web::state::AppState;

/// The period asked for.
#[derive(Debug, Deserialize)]
pub struct SummaryForm {
    /// Its name, e.g. `2026-H2`.
    #[serde(default)]
    period: String,
}

/// Makes, signs and sends the summary.
pub async fn download(
    State(state): State<AppState>,
    ManagerForm(s, f): ManagerForm<SummaryForm>,
) -> Result<Response, AppError> {
    let named = summary::named_period(&f.period).ok_or_else(|| {
        AppError::bad("Hãy chọn một kỳ: tháng, quý, sáu tháng, năm hoặc Tuần lễ học tập suốt đời.")
    })?;
    let file = signed(&state, named).await?;
    tracing::info!(user = ?s.user, file = %file.0, "summary downloaded");
    let mut res = (
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        file.1,
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", file.0)) {
        res.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(res)
}

/// `POST /admin/summary/send`: the same file, sent to the district's box over the network;
/// the page says what the district answered.
pub async fn send(
    State(state): State<AppState>,
    ManagerForm(s, f): ManagerForm<SummaryForm>,
) -> Result<Response, AppError> {
    let url = state.site.settings.district_url.trim().to_string();
    if url.is_empty() {
        return Err(AppError::bad(
            "Chưa có địa chỉ máy của huyện (district_url trong tệp cài đặt). Hãy tải tệp và gửi bằng USB.",
        ));
    }
    let named = summary::named_period(&f.period).ok_or_else(|| {
        AppError::bad("Hãy chọn một kỳ: tháng, quý, sáu tháng, năm hoặc Tuần lễ học tập suốt đời.")
    })?;
    let (name, bytes) = signed(&state, named).await?;
    let (status, message) = match crate::summary_transport::send(&url, bytes).await {
        Ok(a) => {
            tracing::info!(user = ?s.user, file = %name, outcome = %a.outcome, "summary sent to the district");
            let status = if a.accepted {
                axum::http::StatusCode::OK
            } else {
                axum::http::StatusCode::ACCEPTED
            };
            (status, format!("Huyện trả lời: {}", a.message))
        }
        Err(e) => {
            tracing::warn!(user = ?s.user, error = %e, "summary not sent to the district");
            (
                axum::http::StatusCode::BAD_GATEWAY,
                format!("Chưa gửi được: {e}. Hãy tải tệp và gửi bằng USB."),
            )
        }
    };
    Ok((status, sent_page(&s, &message)?).into_response())
}

fn sent_page(
    s: &crate::accounts::Session,
    message: &str,
) -> Result<axum::response::Html<String>, AppError> {
    #[derive(askama::Template)]
    #[template(
        source = "{% extends \"base.html\" %}{% block title %}Gửi báo cáo lên huyện{% endblock %}{% block topsearch %}{% endblock %}{% block content %}{% include \"admin_nav.html\" %}<h1>Gửi báo cáo lên huyện</h1><p class=\"notice\" role=\"status\">{{ message }}</p><p><a href=\"/admin\">Về trang báo cáo</a></p>{% endblock %}",
        ext = "html"
    )]
    struct Sent<'a> {
        site: crate::web::page::Site,
        nav: super::session::StaffNav,
        message: &'a str,
    }
    Ok(crate::web::page::render(&Sent {
        site: crate::web::page::Site::new(),
        nav: super::session::StaffNav::of(s),
        message,
    })?)
}

/// The signed file of a period, with the name to save it under.
pub async fn signed(
    state: &AppState,
    named: (String, crate::usage::report::Period),
) -> Result<(String, Vec<u8>), AppError> {
    let titles = state.report_titles().await;
    let settings = &state.site.settings;
    let centre = Centre {
        name: settings.centre.clone(),
        commune: settings.commune.clone(),
        district: settings.district.clone(),
        province: settings.province.clone(),
    };
    let groups = state.site.ethnic_groups.clone();
    let now_ms = state.now_ms();
    let clock_trusted = !state.clock.is_guess();
    let made = state
        .records
        .db(move |conn| {
            let made = Made {
                centre,
                ethnic_groups: &groups,
                titles: &titles,
                now_ms,
                clock_trusted,
            };
            summary::make_named(conn, named, &made)
        })
        .await?;
    let key = state.records.box_key().ok_or(AppError::NoRecords)?;
    Ok((summary::file_name(&made), summary::seal(&made, key)))
}
