//! `/admin/export/{table}`: one table of a period's report as a CSV file for the commune's
//! spreadsheet, with the titles of materials and lessons rather than their ids.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::dashboard::{PeriodQuery, compared, today};
use super::session::{Manager, StaffError, framed};
use crate::clock::iso;
use crate::usage::export;
use crate::web::error::AppError;
use crate::web::extract::Params;
use crate::web::state::AppState;

/// `GET /admin/export/{table}`: one table of the report as CSV.
pub async fn export_csv(
    State(state): State<AppState>,
    Manager(s): Manager,
    Path(table): Path<String>,
    Params(q): Params<PeriodQuery>,
) -> Result<Response, StaffError> {
    framed(&s, table_file(state, table, q)).await
}

async fn table_file(state: AppState, table: String, q: PeriodQuery) -> Result<Response, AppError> {
    let name = table.strip_suffix(".csv").unwrap_or(&table).to_string();
    let period = q.resolve(today(&state))?;
    let c = compared(&state, period).await?;
    let titles = state.report_titles().await;
    let t = export::tables(&c.current, &titles)
        .into_iter()
        .find(|t| t.name == name)
        .ok_or(AppError::NotFound)?;
    let body = export::csv_file(&t)?;
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
