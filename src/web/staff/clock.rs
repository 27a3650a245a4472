//! `/admin/clock`: where the box's date comes from, shown on the report page, and the manager's
//! form to set or confirm it. A date staff confirm is trusted for pruning old records; a date
//! phones alone moved is not (see `clock::Clock::prune_ms`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::confirm::{self, Confirm, confirmed};
use super::session::{ManagerForm, StaffError, framed};
use crate::clock::{
    Source, Status, VN_OFFSET_SECS, date_of, day_number, iso, local_day, parse_date,
    release_floor_ms,
};
use crate::usage::report::{LAST_YEAR, vi_date};
use crate::web::error::AppError;
use crate::web::state::AppState;

/// What the report page says about the clock.
#[derive(Debug)]
pub struct ClockView {
    /// "14:05 ngày 05/01/2027".
    pub now: String,
    /// Where the time comes from, in words.
    pub source: &'static str,
    /// Whether staff should look (a guess, a time held back, or a move by phones).
    pub attention: bool,
    /// What phones say while the clock does not follow them.
    pub held: Option<String>,
    /// The last move phones caused: from, to, how many phones.
    pub jump: Option<(String, String, usize)>,
    /// The day old records are pruned by, when phones keep it behind today.
    pub pruned_by: Option<String>,
    /// The form's date: today.
    pub date: String,
    /// The form's time: now.
    pub time: String,
}

impl ClockView {
    /// The clock's state for the report page.
    pub fn of(st: Status) -> ClockView {
        let today = local_day(st.now_ms);
        let jump = st
            .jump
            .filter(|_| st.source == Source::Phones)
            .map(|j| (moment(j.from_ms), moment(j.to_ms), j.phones));
        let pruned_by = st
            .prune_day
            .filter(|d| st.source == Source::Phones && *d < today)
            .map(|d| vi_date(date_of(d)));
        ClockView {
            now: moment(st.now_ms),
            source: match st.source {
                Source::Guess => {
                    "chưa được xác nhận (máy không có đồng hồ riêng, đang chờ điện thoại báo giờ)"
                }
                Source::Phones => "theo giờ các điện thoại báo",
                Source::Staff => "do cán bộ đặt",
            },
            attention: st.source == Source::Guess || st.held_ms.is_some() || jump.is_some(),
            held: st.held_ms.map(moment),
            jump,
            pruned_by,
            date: iso(date_of(today)),
            time: hh_mm(st.now_ms),
        }
    }
}

/// "14:05 ngày 05/01/2027", in Vietnam time.
fn moment(ms: i64) -> String {
    format!("{} ngày {}", hh_mm(ms), vi_date(date_of(local_day(ms))))
}

fn hh_mm(ms: i64) -> String {
    let secs = (ms.div_euclid(1000) + VN_OFFSET_SECS).rem_euclid(86_400);
    format!("{:02}:{:02}", secs / 3600, secs % 3600 / 60)
}

/// The clock form.
#[derive(Debug, Deserialize)]
pub struct ClockForm {
    date: Option<String>,
    time: Option<String>,
    /// Set to take the time phones agree on but the clock holds back.
    phones: Option<String>,
    confirm: Option<String>,
}

/// `POST /admin/clock`: staff set the date and time, or confirm what phones say. When the new
/// date would prune raw records, a confirmation page says how many first.
pub async fn set(
    State(state): State<AppState>,
    ManagerForm(s, f): ManagerForm<ClockForm>,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let at = match f.phones.as_deref() {
            Some(_) => state.clock.status().held_ms.ok_or_else(|| {
                AppError::bad("Không còn giờ nào các điện thoại báo đang chờ xác nhận.")
            })?,
            None => entered(f.date.as_deref(), f.time.as_deref())?,
        };
        let keep = state.site.settings.retention_days;
        let today = local_day(at);
        let doomed = match state
            .records
            .db(move |c| crate::usage::store::prunable(c, today, keep))
            .await
        {
            Ok(n) => n,
            Err(AppError::NoRecords) => 0,
            Err(e) => return Err(e),
        };
        if doomed > 0 && !confirmed(f.confirm.as_deref()) {
            let mut fields = vec![
                ("date", f.date.clone().unwrap_or_default()),
                ("time", f.time.clone().unwrap_or_default()),
            ];
            if let Some(p) = &f.phones {
                fields.push(("phones", p.clone()));
            }
            return confirm::page(
                &s,
                Confirm {
                    heading: format!("Đặt giờ của máy là {}?", moment(at)),
                    detail: format!(
                        "Theo ngày này, {doomed} lượt ghi chi tiết trước ngày {} đã quá {keep} ngày \
                         lưu giữ và sẽ bị xóa (số liệu tổng hợp theo ngày vẫn giữ). Nếu ngày sai, \
                         không lấy lại được.",
                        vi_date(date_of(today - keep))
                    ),
                    action: "/admin/clock".into(),
                    fields,
                    button: "Đặt giờ",
                    back: "/admin".into(),
                },
            );
        }
        tracing::warn!(by = ?s.user, at_ms = at, "the clock is set from the staff area");
        state.clock.set_by_staff(at);
        Ok((StatusCode::SEE_OTHER, Redirect::to("/admin")).into_response())
    })
    .await
}

/// The moment a manager typed (Vietnam time), within the years the box can mean.
fn entered(date: Option<&str>, time: Option<&str>) -> Result<i64, AppError> {
    let d = date
        .and_then(parse_date)
        .ok_or_else(|| AppError::bad("Ngày không hợp lệ."))?;
    let secs = match time.map(str::trim).filter(|t| !t.is_empty()) {
        None => 12 * 3600,
        Some(t) => {
            let (h, m) = t
                .split_once(':')
                .and_then(|(h, m)| Some((h.parse::<i64>().ok()?, m.get(..2)?.parse::<i64>().ok()?)))
                .filter(|(h, m)| (0..24).contains(h) && (0..60).contains(m))
                .ok_or_else(|| AppError::bad("Giờ không hợp lệ (ví dụ 14:05)."))?;
            h * 3600 + m * 60
        }
    };
    let at = (day_number(d) * 86_400 + secs - VN_OFFSET_SECS) * 1000;
    if at < release_floor_ms() || d.year() > LAST_YEAR {
        return Err(AppError::bad(format!(
            "Ngày phải từ {} đến năm {LAST_YEAR}.",
            vi_date(date_of(local_day(release_floor_ms())))
        )));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_moment_is_vietnam_time() {
        let at = entered(Some("2027-01-05"), Some("14:05")).unwrap();
        assert_eq!(moment(at), "14:05 ngày 05/01/2027");
        assert!(entered(Some("2027-01-05"), Some("25:00")).is_err());
        assert!(entered(Some("2001-01-05"), None).is_err());
        assert!(entered(Some("hôm nay"), None).is_err());
    }
}
