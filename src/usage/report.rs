//! Participation reports from the daily aggregates: distinct people, not page hits.
//!
//! Periods are whole days in Vietnam time. Only participants whose id was kept (its cookie came
//! back) are counted. No number behind fewer than [`MIN_GROUP`] of them is shown: not a group,
//! material, lesson, search, field, day or hour, nor a period; and cells are hidden beside a
//! small one when it could be worked out from a total ([`suppress`]).

use std::collections::BTreeMap;

use rusqlite::{Connection, params};
use serde::Serialize;
use time::{Date, Duration, Month};

use super::counts::{COUNTED, Counts, FieldTally, GroupTally, SearchTally, UseTally, counts};
pub use super::counts::{LESSON_PREFIX, MIN_GROUP};
use crate::clock::{self, day_number};

/// Rows in top lists.
pub const TOP: usize = 20;

/// An inclusive range of days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    /// First day.
    #[serde(serialize_with = "ser_date")]
    pub from: Date,
    /// Last day (inclusive).
    #[serde(serialize_with = "ser_date")]
    pub to: Date,
}

fn ser_date<S: serde::Serializer>(d: &Date, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&clock::iso(*d))
}

/// `dd/mm/yyyy`, as Vietnamese reports write dates.
pub fn vi_date(d: Date) -> String {
    format!("{:02}/{:02}/{:04}", d.day(), u8::from(d.month()), d.year())
}

fn month_start(y: i32, m: u8) -> Option<Date> {
    Date::from_calendar_date(y, Month::try_from(m).ok()?, 1).ok()
}

fn months(y: i32, first: u8, count: u8) -> Option<Period> {
    let from = month_start(y, first)?;
    let last = first + count - 1;
    let to = if last == 12 {
        month_start(y + 1, 1)?
    } else {
        month_start(y, last + 1)?
    } - Duration::days(1);
    Some(Period { from, to })
}

/// First year a report may cover.
pub const FIRST_YEAR: i32 = 2000;
/// Last year a report may cover.
pub const LAST_YEAR: i32 = 2200;
/// Longest period a report may cover, in days (100 years: room for "everything so far").
pub const MAX_DAYS: i64 = 100 * 365 + 25;

/// What is wrong with the period asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeriodError {
    /// Not a period name.
    #[error("unknown period {0:?} (try 2026-11, 2026-Q4, 2026-H2, 2026)")]
    UnknownName(String),
    /// The first day is not a date `YYYY-MM-DD`.
    #[error("the first day {0:?} is not a date YYYY-MM-DD")]
    BadStart(String),
    /// The last day is not a date `YYYY-MM-DD`.
    #[error("the last day {0:?} is not a date YYYY-MM-DD")]
    BadEnd(String),
    /// The last day is before the first.
    #[error("the last day is before the first")]
    EndBeforeStart,
    /// Only one of the first and the last day was given.
    #[error("give both the first and the last day")]
    OnlyOneEnd,
    /// A day outside the years reports cover.
    #[error("reports cover the years {FIRST_YEAR} to {LAST_YEAR} only")]
    OutOfRange,
    /// Longer than [`MAX_DAYS`].
    #[error("a report covers at most 100 years")]
    TooLong,
}

impl Period {
    /// A range; `None` when [`Period::try_new`] refuses it.
    pub fn new(from: Date, to: Date) -> Option<Period> {
        Period::try_new(from, to).ok()
    }

    /// A range from `from` to `to` (inclusive), within the years [`FIRST_YEAR`] to
    /// [`LAST_YEAR`] and at most [`MAX_DAYS`] long (so the period before it exists too).
    pub fn try_new(from: Date, to: Date) -> Result<Period, PeriodError> {
        if to < from {
            return Err(PeriodError::EndBeforeStart);
        }
        let years = FIRST_YEAR..=LAST_YEAR;
        if !years.contains(&from.year()) || !years.contains(&to.year()) {
            return Err(PeriodError::OutOfRange);
        }
        let p = Period { from, to };
        if p.days() > MAX_DAYS {
            return Err(PeriodError::TooLong);
        }
        Ok(p)
    }

    /// The period asked for by a name (`period`, see [`Period::named`]) or by its first and
    /// last days (`from`, `to`, `YYYY-MM-DD`); a name wins. `None` when nothing was given
    /// (empty strings count as not given).
    pub fn parse(
        period: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Option<Period>, PeriodError> {
        fn given(s: Option<&str>) -> Option<&str> {
            s.filter(|s| !s.trim().is_empty())
        }
        match (given(period), given(from), given(to)) {
            (Some(p), _, _) => {
                let named =
                    Period::name(p).ok_or_else(|| PeriodError::UnknownName(p.to_string()))?;
                Period::try_new(named.from, named.to).map(Some)
            }
            (None, Some(f), Some(t)) => {
                let from =
                    clock::parse_date(f).ok_or_else(|| PeriodError::BadStart(f.to_string()))?;
                let to = clock::parse_date(t).ok_or_else(|| PeriodError::BadEnd(t.to_string()))?;
                Period::try_new(from, to).map(Some)
            }
            (None, None, None) => Ok(None),
            (None, _, _) => Err(PeriodError::OnlyOneEnd),
        }
    }

    /// Parses a named period: `2026-11` (month), `2026-Q4`, `2026-H2`, `2026` (year),
    /// `2026-LLW` (Lifelong Learning Week, 1–7 October); `None` if it is not one, or is
    /// outside the years reports cover.
    pub fn named(s: &str) -> Option<Period> {
        Period::name(s).and_then(|p| Period::new(p.from, p.to))
    }

    /// [`Period::named`] without the range check.
    fn name(s: &str) -> Option<Period> {
        let s = s.trim().to_ascii_uppercase();
        let (y, rest) = s.split_once('-').unwrap_or((&s, ""));
        let y: i32 = y.parse().ok()?;
        if !(1970..=9999).contains(&y) {
            return None;
        }
        match rest {
            "" => months(y, 1, 12),
            "LLW" => Some(Period {
                from: Date::from_calendar_date(y, Month::October, 1).ok()?,
                to: Date::from_calendar_date(y, Month::October, 7).ok()?,
            }),
            r if r.starts_with('Q') => {
                let q: u8 = r[1..].parse().ok().filter(|q| (1..=4).contains(q))?;
                months(y, 3 * q - 2, 3)
            }
            r if r.starts_with('H') => {
                let h: u8 = r[1..].parse().ok().filter(|h| (1..=2).contains(h))?;
                months(y, 6 * h - 5, 6)
            }
            r => {
                let m: u8 = r.parse().ok().filter(|m| (1..=12).contains(m))?;
                months(y, m, 1)
            }
        }
    }

    /// Number of days.
    pub fn days(&self) -> i64 {
        day_number(self.to) - day_number(self.from) + 1
    }

    /// The period of the same length just before this one; for whole months, quarters,
    /// half-years and years, the previous one of those. At the very start of the calendar it
    /// is cut short there (never a panic, whatever the dates).
    pub fn previous(&self) -> Period {
        let starts_month = self.from.day() == 1;
        let ends_month = self.to.next_day().is_none_or(|d| d.day() == 1);
        if starts_month && ends_month {
            let n = (self.to.year() - self.from.year()) * 12 + i32::from(u8::from(self.to.month()))
                - i32::from(u8::from(self.from.month()))
                + 1;
            // Longer runs of months never fit in one year (`months` gives up on them anyway).
            if (1..=12).contains(&n) {
                let mut y = self.from.year();
                let mut m = i32::from(u8::from(self.from.month())) - n;
                if m < 1 {
                    m += 12;
                    y -= 1;
                }
                if let Some(p) = months(y, m as u8, n as u8) {
                    return p;
                }
            }
        }
        let Some(to) = self.from.previous_day() else {
            return Period {
                from: Date::MIN,
                to: Date::MIN,
            };
        };
        Period {
            from: to
                .checked_sub(Duration::days(self.days() - 1))
                .unwrap_or(Date::MIN),
            to,
        }
    }

    /// Its first and last day numbers ([`clock::day_number`]).
    pub fn range(&self) -> (i64, i64) {
        (day_number(self.from), day_number(self.to))
    }
}

/// Participants and views in one field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FieldCount {
    /// Distinct counted participants (0 when hidden).
    pub participants: u64,
    /// Views of materials and attachments (0 when hidden).
    pub views: u64,
    /// Not shown: fewer than [`MIN_GROUP`] people, or hidden so that no small field can be
    /// worked out from the total.
    pub hidden: bool,
}

/// Participants in one demographic group; `None` when fewer than [`MIN_GROUP`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupCount {
    /// Stored value (`""` for "not given").
    pub group: String,
    /// Vietnamese label.
    pub label: String,
    /// Distinct participants, or `None` if too few to show (or hidden beside such a group).
    pub participants: Option<u64>,
}

/// One material's use (listed only when at least [`MIN_GROUP`] people used it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MaterialCount {
    /// Material id.
    pub id: String,
    /// Views.
    pub views: u64,
    /// Distinct participants.
    pub participants: u64,
}

/// One search text's use (listed only when at least [`MIN_GROUP`] people searched it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SearchCount {
    /// Normalised query.
    pub query: String,
    /// How many times.
    pub searches: u64,
}

/// Participants on one day (listed only with at least [`MIN_GROUP`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayCount {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Distinct participants.
    pub participants: u64,
}

/// What was recorded but not counted: devices whose cookie never came back (scripts,
/// browsers that refuse cookies, a phone that opened one page and left), and requests that
/// got no id at all (too many new ids from one address).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Uncounted {
    /// Ids that never came back.
    pub devices: u64,
    /// Their views (and those of requests without an id).
    pub views: u64,
    /// Their searches (and those of requests without an id).
    pub searches: u64,
}

/// A report for one period. Everything in it may be shown: cells behind fewer than
/// [`MIN_GROUP`] counted participants are left out or marked hidden.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
    /// Fewer than [`MIN_GROUP`] counted participants in the whole period: every number
    /// about them is withheld (zero, empty or hidden below); choose a longer period.
    pub withheld: bool,
    /// Distinct counted participants (devices that kept their id).
    pub participants: u64,
    /// Sessions (visits separated by 30 minutes or more).
    pub sessions: u64,
    /// Views of materials, attachments and lessons.
    pub views: u64,
    /// Searches.
    pub searches: u64,
    /// Recorded but not counted (shown even when the rest is withheld: it is about no one).
    pub uncounted: Uncounted,
    /// Per field.
    pub by_category: BTreeMap<String, FieldCount>,
    /// Per demographic question, then group.
    pub by_group: BTreeMap<String, Vec<GroupCount>>,
    /// Most used materials.
    pub top_materials: Vec<MaterialCount>,
    /// Lessons joined: the id is the lesson's code.
    pub lessons: Vec<MaterialCount>,
    /// ZIM collections read, by name, with enough people.
    pub collections: Vec<MaterialCount>,
    /// Most frequent searches.
    pub top_searches: Vec<SearchCount>,
    /// Searches that found nothing: what the library is missing.
    pub zero_result_searches: Vec<SearchCount>,
    /// Participants per day, for days with at least [`MIN_GROUP`].
    pub busy_days: Vec<DayCount>,
    /// Days with some, but fewer than [`MIN_GROUP`], participants: not listed.
    pub quiet_days: u64,
    /// Views per hour of the day (0–23, Vietnam time); 0 where hidden.
    pub hours: Vec<u64>,
    /// Which hours are hidden (fewer than [`MIN_GROUP`] people, or hidden beside one).
    pub hidden_hours: Vec<bool>,
}

/// Which cells of one breakdown may be shown. `people[i]` is the number of counted
/// participants behind cell `i`; `behind(hidden)` the number behind a set of cells together.
///
/// Primary suppression hides every cell under [`MIN_GROUP`] (empty ones too, so an empty group
/// looks like a small one). Complementary suppression: the people behind the hidden cells can
/// be worked out from a shown total and the shown cells, so while they are between 1 and
/// `MIN_GROUP − 1`, the smallest shown cell is hidden as well. Whatever one can work out about
/// the hidden cells together is then nobody, or at least [`MIN_GROUP`] people.
pub fn suppress<E>(
    people: &[u64],
    mut behind: impl FnMut(&[usize]) -> Result<u64, E>,
) -> Result<Vec<bool>, E> {
    let mut shown: Vec<bool> = people.iter().map(|&n| n >= MIN_GROUP).collect();
    loop {
        let hidden: Vec<usize> = (0..people.len()).filter(|&i| !shown[i]).collect();
        if hidden.is_empty() {
            break;
        }
        let n = behind(&hidden)?;
        if n == 0 || n >= MIN_GROUP {
            break;
        }
        let Some(next) = (0..people.len())
            .filter(|&i| shown[i])
            .min_by_key(|&i| (people[i], std::cmp::Reverse(i)))
        else {
            break;
        };
        shown[next] = false;
    }
    Ok(shown)
}

/// Computes the report for a period; `ethnic_groups` are the groups the centre offers
/// ([`super::profile::offered_groups`]), listed in that order.
pub fn report(
    conn: &Connection,
    period: Period,
    ethnic_groups: &[(&str, &str)],
) -> rusqlite::Result<Report> {
    let (a, b) = period.range();
    let uncounted = conn.query_row(
        &format!(
            "SELECT COUNT(DISTINCT NULLIF(participant, '')), COALESCE(SUM(views), 0),
                    COALESCE(SUM(searches), 0)
             FROM active WHERE category = '' AND day BETWEEN ?1 AND ?2 AND NOT {COUNTED}"
        ),
        params![a, b],
        |r| {
            Ok(Uncounted {
                devices: r.get::<_, i64>(0)? as u64,
                views: r.get::<_, i64>(1)? as u64,
                searches: r.get::<_, i64>(2)? as u64,
            })
        },
    )?;
    let c = counts(conn, (a, b), ethnic_groups)?;
    let mut r = shown(period, &c);
    r.uncounted = uncounted;
    if !r.withheld {
        (r.hours, r.hidden_hours) = hours(conn, a, b)?;
    }
    Ok(r)
}

/// What may be shown of a period's tallies, at any level (a centre, a commune, the district):
/// no cell behind fewer than [`MIN_GROUP`] people, nor one that would let such a cell be worked
/// out from a total. Hours and what was not counted are the centre's own ([`report`]).
pub fn shown(period: Period, c: &Counts) -> Report {
    let mut r = Report {
        from: clock::iso(period.from),
        to: clock::iso(period.to),
        withheld: true,
        participants: 0,
        sessions: 0,
        views: 0,
        searches: 0,
        uncounted: Uncounted::default(),
        by_category: c
            .fields
            .keys()
            .map(|k| {
                let hidden = FieldCount {
                    hidden: true,
                    ..FieldCount::default()
                };
                (k.clone(), hidden)
            })
            .collect(),
        by_group: c
            .groups
            .iter()
            .map(|(q, cells)| {
                let hidden = cells
                    .iter()
                    .map(|g| GroupCount {
                        group: g.group.clone(),
                        label: g.label.clone(),
                        participants: None,
                    })
                    .collect();
                (q.clone(), hidden)
            })
            .collect(),
        top_materials: Vec::new(),
        lessons: Vec::new(),
        collections: Vec::new(),
        top_searches: Vec::new(),
        zero_result_searches: Vec::new(),
        busy_days: Vec::new(),
        quiet_days: 0,
        hours: vec![0; 24],
        hidden_hours: vec![true; 24],
    };
    if c.participants < MIN_GROUP {
        return r;
    }
    r.withheld = false;
    r.participants = c.participants;
    r.sessions = c.sessions;
    r.views = c.views;
    r.searches = c.searches;
    r.by_category = fields(&c.fields);
    r.by_group = c
        .groups
        .iter()
        .map(|(q, cells)| (q.clone(), groups(cells)))
        .collect();
    let listed = |uses: &[UseTally]| -> Vec<MaterialCount> {
        uses.iter()
            .filter(|u| u.participants >= MIN_GROUP)
            .take(TOP)
            .map(|u| MaterialCount {
                id: u.id.clone(),
                views: u.views,
                participants: u.participants,
            })
            .collect()
    };
    r.top_materials = listed(&c.materials);
    r.lessons = listed(&c.lessons);
    r.collections = listed(&c.collections);
    let searched = |s: &[SearchTally]| -> Vec<SearchCount> {
        s.iter()
            .filter(|s| s.participants >= MIN_GROUP && s.searches > 0)
            .take(TOP)
            .map(|s| SearchCount {
                query: s.query.clone(),
                searches: s.searches,
            })
            .collect()
    };
    r.top_searches = searched(&c.top_searches);
    r.zero_result_searches = searched(&c.not_found);
    // Days need no complementary suppression: people per day add up to no number shown
    // (the period's people are counted once however many days they came).
    for d in &c.days {
        if d.participants >= MIN_GROUP {
            r.busy_days.push(DayCount {
                date: d.date.clone(),
                participants: d.participants,
            });
        } else if d.participants > 0 {
            r.quiet_days += 1;
        }
    }
    r
}

/// People and views per field, small fields hidden. Every view has a field, so the fields'
/// views add up to the period's: complementary suppression applies. A person may use several
/// fields, so how many are behind the hidden ones together is not known from the tallies;
/// taken as small unless one of them alone has enough, which hides at least what an exact
/// count would, and the same way at every level.
fn fields(tallies: &BTreeMap<String, FieldTally>) -> BTreeMap<String, FieldCount> {
    let people: Vec<u64> = tallies.values().map(|f| f.participants).collect();
    let Ok(shown) = suppress(&people, |hidden| {
        let max = hidden.iter().map(|&i| people[i]).max().unwrap_or(0);
        let any = hidden.iter().any(|&i| people[i] > 0);
        Ok::<_, std::convert::Infallible>(if !any {
            0
        } else if max >= MIN_GROUP {
            max
        } else {
            1
        })
    });
    tallies
        .iter()
        .zip(shown)
        .map(|((k, f), shown)| {
            let count = if shown {
                FieldCount {
                    participants: f.participants,
                    views: f.views,
                    hidden: false,
                }
            } else {
                FieldCount {
                    hidden: true,
                    ..FieldCount::default()
                }
            };
            (k.clone(), count)
        })
        .collect()
}

/// Views per hour of the day, hours behind few people hidden; the hours add up to the
/// period's views, so complementary suppression applies.
fn hours(conn: &Connection, a: i64, b: i64) -> rusqlite::Result<(Vec<u64>, Vec<bool>)> {
    let mut views = vec![0u64; 24];
    let mut people = vec![0u64; 24];
    let mut st = conn.prepare_cached(&format!(
        "SELECT hour, SUM(views), COUNT(DISTINCT participant) FROM hour_person
         WHERE day BETWEEN ?1 AND ?2 AND {COUNTED} GROUP BY hour"
    ))?;
    for row in st.query_map(params![a, b], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })? {
        let (h, v, p) = row?;
        if let Ok(h) = usize::try_from(h)
            && h < 24
        {
            views[h] = v as u64;
            people[h] = p as u64;
        }
    }
    let shown = suppress(&people, |hidden| {
        let list: Vec<String> = hidden.iter().map(|h| h.to_string()).collect();
        conn.query_row(
            &format!(
                "SELECT COUNT(DISTINCT participant) FROM hour_person WHERE hour IN ({})
                 AND day BETWEEN ?1 AND ?2 AND {COUNTED}",
                list.join(",")
            ),
            params![a, b],
            |r| r.get::<_, i64>(0).map(|n| n as u64),
        )
    })?;
    for (v, &s) in views.iter_mut().zip(&shown) {
        if !s {
            *v = 0;
        }
    }
    Ok((views, shown.iter().map(|s| !s).collect()))
}

/// One question's cells, small groups hidden, and beside them whatever would let a small group
/// be worked out from the total.
fn groups(cells: &[GroupTally]) -> Vec<GroupCount> {
    let people: Vec<u64> = cells.iter().map(|c| c.participants).collect();
    // The cells share out the period's people: those behind hidden cells are their sum.
    let Ok(shown) = suppress(&people, |hidden| {
        Ok::<_, std::convert::Infallible>(hidden.iter().map(|&i| people[i]).sum())
    });
    cells
        .iter()
        .zip(shown)
        .map(|(c, shown)| GroupCount {
            group: c.group.clone(),
            label: c.label.clone(),
            participants: shown.then_some(c.participants),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{iso, parse_date};

    fn d(s: &str) -> Date {
        parse_date(s).unwrap()
    }

    #[test]
    fn named_periods() {
        let p = Period::named("2026-Q4").unwrap();
        assert_eq!(
            (iso(p.from), iso(p.to)),
            ("2026-10-01".into(), "2026-12-31".into())
        );
        let p = Period::named("2026-h1").unwrap();
        assert_eq!(iso(p.to), "2026-06-30");
        let p = Period::named("2024-02").unwrap();
        assert_eq!(iso(p.to), "2024-02-29");
        let p = Period::named("2026").unwrap();
        assert_eq!(p.days(), 365);
        let p = Period::named("2026-LLW").unwrap();
        assert_eq!(p.days(), 7);
        for bad in ["2026-Q5", "2026-13", "x", "2026-H3", ""] {
            assert!(Period::named(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn previous_periods() {
        let q1 = Period::named("2026-Q1").unwrap();
        assert_eq!(q1.previous(), Period::named("2025-Q4").unwrap());
        let m = Period::named("2026-03").unwrap();
        assert_eq!(m.previous(), Period::named("2026-02").unwrap());
        let y = Period::named("2026").unwrap();
        assert_eq!(y.previous(), Period::named("2025").unwrap());
        let w = Period::new(d("2026-10-01"), d("2026-10-07")).unwrap();
        assert_eq!(
            w.previous(),
            Period::new(d("2026-09-24"), d("2026-09-30")).unwrap()
        );
    }

    #[test]
    fn periods_are_parsed_from_a_name_or_two_days() {
        let parse = |p, f, t| Period::parse(p, f, t);
        assert_eq!(parse(None, None, None), Ok(None));
        assert_eq!(parse(Some(""), Some(""), Some(" ")), Ok(None));
        assert_eq!(
            parse(Some("2026-Q4"), None, None),
            Ok(Period::named("2026-Q4"))
        );
        assert_eq!(
            parse(None, Some("2026-10-01"), Some("2026-10-07")),
            Ok(Period::named("2026-LLW"))
        );
        // A name wins; an empty name does not count.
        assert_eq!(
            parse(Some("2026-11"), Some("x"), None),
            Ok(Period::named("2026-11"))
        );
        assert_eq!(
            parse(Some(""), Some("2026-11-01"), Some("2026-11-30")),
            Ok(Period::named("2026-11"))
        );
        use PeriodError as E;
        for (p, f, t, err) in [
            (
                Some("2026-Q5"),
                None,
                None,
                E::UnknownName("2026-Q5".into()),
            ),
            (Some("x"), None, None, E::UnknownName("x".into())),
            (
                None,
                Some("2026-02-30"),
                Some("2026-03-01"),
                E::BadStart("2026-02-30".into()),
            ),
            (
                None,
                Some("2026-03-01"),
                Some("1.4.2026"),
                E::BadEnd("1.4.2026".into()),
            ),
            (
                None,
                Some("2026-03-02"),
                Some("2026-03-01"),
                E::EndBeforeStart,
            ),
            (None, Some("2026-03-02"), None, E::OnlyOneEnd),
            (None, Some(""), Some("2026-03-01"), E::OnlyOneEnd),
            (Some("1999"), None, None, E::OutOfRange),
            (Some("2201-Q1"), None, None, E::OutOfRange),
            (None, Some("1999-12-31"), Some("2000-01-31"), E::OutOfRange),
            (None, Some("2000-01-01"), Some("2100-01-01"), E::TooLong),
        ] {
            assert_eq!(parse(p, f, t), Err(err), "{p:?} {f:?} {t:?}");
        }
        // Exactly 100 years is allowed, and so is the last day of the last year.
        assert!(parse(None, Some("2000-01-01"), Some("2099-12-31")).is_ok());
        assert!(parse(None, Some("2200-12-31"), Some("2200-12-31")).is_ok());
    }

    #[test]
    fn extreme_dates_are_refused_and_never_panic() {
        // `hoclieu report --from 0000-01-01 --to 9999-12-31` once panicked working out the
        // period before.
        let whole = (d("0000-01-01"), d("9999-12-31"));
        assert_eq!(Period::new(whole.0, whole.1), None);
        assert_eq!(
            Period::try_new(whole.0, whole.1),
            Err(PeriodError::OutOfRange)
        );
        // Periods made by hand at the edges of the calendar still have a previous one.
        for (from, to) in [
            whole,
            (Date::MIN, Date::MAX),
            (Date::MIN, Date::MIN),
            (Date::MIN, d("2026-01-31")),
            (d("2026-01-01"), Date::MAX),
        ] {
            let p = Period { from, to }.previous();
            assert!(p.from <= p.to && p.to <= from, "{from} {to}: {p:?}");
        }
        // Whole months beyond a year go back by days (the count of months no longer wraps).
        let long = Period::new(d("2000-01-01"), d("2021-07-31")).unwrap();
        assert_eq!(long.previous().days(), long.days());
        assert_eq!(long.previous().to, d("1999-12-31"));
    }
}
