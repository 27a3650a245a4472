//! `/admin`: the manager's participation report for a period, with the previous period beside
//! it, by field, group, material, lesson, day and hour.

use askama::Template;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::charts::{Bar, Column, Preset, bars, columns, day_columns, presets};
use super::session::{Staff, StaffError, StaffNav, framed, home_of};
use crate::accounts::Role;
use crate::accounts::Session;
use crate::clock::{date_of, iso, local_day};
use crate::usage::export::{Compared, HIDDEN, QUESTIONS, uncounted_note, withheld_note};
use crate::usage::report::{FIRST_YEAR, LAST_YEAR, Period, PeriodError, vi_date};
use crate::web::error::AppError;
use crate::web::extract::Params;
use crate::web::offload::blocking;
use crate::web::page::{Site, render};
use crate::web::state::AppState;

/// Which period a report is for.
#[derive(Debug, Default, Deserialize)]
pub struct PeriodQuery {
    period: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

impl PeriodQuery {
    /// The period asked for; this month when nothing (or only one end) is.
    pub fn resolve(&self, today: time::Date) -> Result<Period, AppError> {
        let parsed = Period::parse(
            self.period.as_deref(),
            self.from.as_deref(),
            self.to.as_deref(),
        );
        let this_month = || {
            Period::named(&format!("{}-{:02}", today.year(), u8::from(today.month()))).unwrap_or(
                Period {
                    from: today,
                    to: today,
                },
            )
        };
        match parsed {
            Ok(Some(p)) => Ok(p),
            Ok(None) | Err(PeriodError::OnlyOneEnd) => Ok(this_month()),
            Err(e) => Err(AppError::bad(match e {
                PeriodError::UnknownName(_) => "Kỳ báo cáo không hợp lệ.".to_string(),
                PeriodError::BadStart(_) => "Ngày bắt đầu không hợp lệ.".into(),
                PeriodError::BadEnd(_) => "Ngày kết thúc không hợp lệ.".into(),
                PeriodError::EndBeforeStart => "Ngày kết thúc phải sau ngày bắt đầu.".into(),
                PeriodError::OutOfRange => {
                    format!("Báo cáo chỉ tính các năm từ {FIRST_YEAR} đến {LAST_YEAR}.")
                }
                PeriodError::TooLong | PeriodError::OnlyOneEnd => {
                    "Kỳ báo cáo dài quá (nhiều nhất 100 năm).".into()
                }
            })),
        }
    }
}

/// Today by the trusted clock (a box whose system clock went back still reports the present).
pub fn today(state: &AppState) -> time::Date {
    date_of(local_day(state.now_ms()))
}

/// A period's report with the previous period's beside it.
pub async fn compared(state: &AppState, period: Period) -> Result<Compared, AppError> {
    let groups = state.site.ethnic_groups.clone();
    state
        .records
        .db(move |c| Compared::of(c, period, &groups))
        .await
}

#[derive(Template)]
#[template(path = "admin.html")]
struct Dashboard<'a> {
    site: Site,
    centre: &'a str,
    /// The commune, for the official header ("UBND xã …") and the place of the date line.
    commune: &'a str,
    /// "ngày 5 tháng 1 năm 2027": the day the report is printed.
    signed_on: String,
    nav: StaffNav,
    clock: super::clock::ClockView,
    c: Compared,
    from_vi: String,
    to_vi: String,
    prev_from_vi: String,
    prev_to_vi: String,
    query: String,
    presets: Vec<Preset>,
    selected: String,
    fields: Vec<Bar>,
    fields_table: Vec<(&'static str, String, String)>,
    /// Why this period shows no numbers, if it does not.
    withheld: Option<String>,
    /// What was recorded and not counted, if anything.
    uncounted: Option<String>,
    groups: Vec<(&'static str, Vec<crate::usage::report::GroupCount>)>,
    materials: Vec<(String, String, u64, u64)>,
    lessons: Vec<(String, String, &'static str, u64, u64)>,
    /// ZIM collections read: (URL if still on the shelf, title, people, views).
    collections: Vec<(String, String, u64, u64)>,
    /// Whether the box has collections (the section shows even when none was read).
    shelf: bool,
    days: Vec<Column>,
    hours: Vec<Column>,
    /// The fingerprint of the key this box signs its summaries with.
    box_key: Option<String>,
    /// A district office's box (it imports summaries rather than sending them).
    district_role: bool,
    /// The district's box can be reached on a network (its address is set).
    district_online: bool,
}

/// `GET /admin`: the participation report for a period, with the previous one beside it.
pub async fn dashboard(
    State(state): State<AppState>,
    Staff(s): Staff,
    Params(q): Params<PeriodQuery>,
) -> Result<Response, StaffError> {
    framed(&s, report_page(state, &s, q)).await
}

async fn report_page(state: AppState, s: &Session, q: PeriodQuery) -> Result<Response, AppError> {
    if s.role != Role::Manager {
        return Ok(Redirect::to(home_of(s.role)).into_response());
    }
    let today = today(&state);
    let period = q.resolve(today)?;
    let c = compared(&state, period).await?;
    let catalog = state.catalog().ok();
    let title_of = |id: &str| -> String {
        catalog
            .as_ref()
            .and_then(|cat| cat.library.get(id).map(|m| m.title.clone()))
            .unwrap_or_else(|| id.to_string())
    };
    let mut fields = bars(
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
    for (bar, cat) in fields.iter_mut().zip(crate::content::Category::ALL) {
        if c.current
            .by_category
            .get(cat.slug())
            .is_none_or(|f| f.hidden)
        {
            bar.text = HIDDEN.to_string();
        }
    }
    let fields_table = crate::content::Category::ALL
        .iter()
        .map(|cat| {
            let f = c
                .current
                .by_category
                .get(cat.slug())
                .cloned()
                .unwrap_or_default();
            if f.hidden {
                (cat.name_vi(), HIDDEN.to_string(), HIDDEN.to_string())
            } else {
                (
                    cat.name_vi(),
                    f.participants.to_string(),
                    f.views.to_string(),
                )
            }
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
    let store = state.lessons.clone();
    let known_lessons = blocking(move || store.list()).await.unwrap_or_default();
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
    let on_shelf = state.collections.list();
    let collections = c
        .current
        .collections
        .iter()
        .map(|u| {
            let known = on_shelf.iter().find(|k| k.name == u.id);
            (
                known.map_or_else(String::new, |k| k.url()),
                known.map_or_else(|| u.id.clone(), |k| k.title.clone()),
                u.participants,
                u.views,
            )
        })
        .collect();
    let active: Vec<(String, u64)> = c
        .current
        .busy_days
        .iter()
        .map(|d| (d.date.clone(), d.participants))
        .collect();
    let days = day_columns(period.from, period.to, &active);
    let mut hours = columns(
        c.current
            .hours
            .iter()
            .enumerate()
            .map(|(h, v)| (format!("{h}"), *v))
            .collect(),
    );
    for (col, hidden) in hours.iter_mut().zip(&c.current.hidden_hours) {
        if *hidden {
            col.text = format!("ẩn ({HIDDEN} người)");
        }
    }
    let query = match (&q.period, &q.from, &q.to) {
        (Some(p), _, _) if !p.is_empty() => format!("period={p}"),
        _ => format!("from={}&to={}", iso(period.from), iso(period.to)),
    };
    let page = Dashboard {
        box_key: state.records.box_key().map(|k| k.fingerprint()),
        district_role: state.site.settings.role == crate::settings::Role::District,
        district_online: !state.site.settings.district_url.trim().is_empty(),
        site: Site::new(),
        centre: state.site.centre(),
        commune: &state.site.settings.commune,
        signed_on: format!(
            "ngày {} tháng {} năm {}",
            today.day(),
            u8::from(today.month()),
            today.year()
        ),
        nav: StaffNav::of(s),
        clock: super::clock::ClockView::of(state.clock.status()),
        from_vi: vi_date(period.from),
        to_vi: vi_date(period.to),
        prev_from_vi: vi_date(period.previous().from),
        prev_to_vi: vi_date(period.previous().to),
        query,
        presets: presets(today),
        selected: q.period.clone().unwrap_or_default(),
        fields,
        fields_table,
        withheld: c.current.withheld.then(withheld_note),
        uncounted: uncounted_note(&c.current.uncounted),
        groups,
        materials,
        lessons,
        shelf: !on_shelf.is_empty(),
        collections,
        days,
        hours,
        c,
    };
    let mut res = render(&page)?.into_response();
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

impl Dashboard<'_> {
    /// A total of this period, or "dưới 5" when the period is withheld.
    fn now(&self, v: &u64) -> String {
        if self.c.current.withheld {
            HIDDEN.to_string()
        } else {
            v.to_string()
        }
    }

    /// A total of the previous period, or "dưới 5" when it is withheld.
    fn before(&self, v: &u64) -> String {
        if self.c.previous.withheld {
            HIDDEN.to_string()
        } else {
            v.to_string()
        }
    }

    /// The change between two totals; none when either period is withheld.
    fn change(&self, now: &u64, before: &u64) -> String {
        if self.c.current.withheld || self.c.previous.withheld {
            "–".to_string()
        } else {
            delta(now, before)
        }
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
