//! The exact tallies behind a report, before anything is hidden: what a centre's summary
//! carries to the district, and what every level's report is shown from ([`super::report`]).
//! Tallies of different centres for the same period add up; tallies of different periods never
//! do (a person who came in two quarters is one person in the half-year).

use std::collections::BTreeMap;

use rusqlite::{Connection, params};
use serde::{Deserialize, Serialize};

use super::profile::{AGE_BANDS, Choices, GENDERS, OTHER_GROUP};
use crate::clock;

/// Fewest counted participants any number in a report may stand for (k of k-anonymity): one
/// constant for groups, materials, lessons, searches, fields, days, hours and periods.
pub const MIN_GROUP: u64 = 5;

/// How lesson pages are named in the usage log (`lesson:CODE`).
pub const LESSON_PREFIX: &str = "lesson:";

/// How a ZIM collection's articles are named in the usage log (`zim:NAME`): per collection,
/// not per article, as a centre reports which libraries are read, not who read what page.
pub const COLLECTION_PREFIX: &str = "zim:";

/// Only ids whose cookie came back are counted.
pub(crate) const COUNTED: &str = "participant IN (SELECT participant FROM kept)";

/// Answers to "newly literate?" as stored (SQLite integers read as text).
pub(crate) const NEWLY_LITERATE: Choices =
    &[("1", "Mới biết chữ"), ("0", "Không phải mới biết chữ")];

/// Most materials (and lessons) a summary lists, the most used first: reports show the first
/// `report::TOP` of them with enough people, which are always among these.
pub const MAX_LISTED: usize = 200;

/// People and views in one field.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldTally {
    /// Distinct counted participants.
    pub participants: u64,
    /// Views of its materials and attachments.
    pub views: u64,
}

/// People who gave one answer to one question; the cells of a question share out the
/// period's people, each person in exactly one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupTally {
    /// Stored value (`""` for "not given").
    pub group: String,
    /// Vietnamese label.
    pub label: String,
    /// Distinct counted participants.
    pub participants: u64,
}

/// One material's (or lesson's) use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseTally {
    /// Material id, or a lesson's code.
    pub id: String,
    /// Its title where known (filled in by whoever has the catalogue).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Views.
    pub views: u64,
    /// Distinct participants.
    pub participants: u64,
}

/// One search text's use.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchTally {
    /// Normalised query.
    pub query: String,
    /// How many times (for not-found searches: how many found nothing).
    pub searches: u64,
    /// Distinct participants who made it (found nothing with it).
    pub participants: u64,
}

/// People on one day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTally {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Distinct participants.
    pub participants: u64,
}

/// Everything a report says about counted participants, unhidden.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    /// Distinct counted participants.
    pub participants: u64,
    /// Sessions.
    pub sessions: u64,
    /// Views of materials, attachments and lessons.
    pub views: u64,
    /// Searches.
    pub searches: u64,
    /// Per field slug (every field listed, empty ones as zero).
    pub fields: BTreeMap<String, FieldTally>,
    /// Per question, its cells.
    pub groups: BTreeMap<String, Vec<GroupTally>>,
    /// Materials, most people first (at most [`MAX_LISTED`]).
    pub materials: Vec<UseTally>,
    /// Lessons joined, most people first (at most [`MAX_LISTED`]).
    pub lessons: Vec<UseTally>,
    /// ZIM collections read (by collection name), most people first (at most [`MAX_LISTED`]).
    /// Absent from summaries made before collections existed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub collections: Vec<UseTally>,
    /// Search texts made by at least [`MIN_GROUP`] people, most searches first: a text typed
    /// by fewer may name a person, and never leaves the box.
    pub top_searches: Vec<SearchTally>,
    /// Texts that found nothing for at least [`MIN_GROUP`] people.
    pub not_found: Vec<SearchTally>,
    /// Every day with someone, in order.
    pub days: Vec<DayTally>,
}

impl Counts {
    /// Adds another centre's tallies of the same period (people at two centres count at both).
    pub fn add(&mut self, other: &Counts) {
        // Saturating: a hostile file's huge numbers must not wrap (or panic) the district's sums.
        self.participants = self.participants.saturating_add(other.participants);
        self.sessions = self.sessions.saturating_add(other.sessions);
        self.views = self.views.saturating_add(other.views);
        self.searches = self.searches.saturating_add(other.searches);
        for (k, f) in &other.fields {
            let mine = self.fields.entry(k.clone()).or_default();
            mine.participants = mine.participants.saturating_add(f.participants);
            mine.views = mine.views.saturating_add(f.views);
        }
        for (q, cells) in &other.groups {
            let mine = self.groups.entry(q.clone()).or_default();
            for c in cells {
                match mine.iter_mut().find(|m| m.group == c.group) {
                    Some(m) => m.participants = m.participants.saturating_add(c.participants),
                    None => mine.push(c.clone()),
                }
            }
        }
        add_uses(&mut self.materials, &other.materials);
        add_uses(&mut self.lessons, &other.lessons);
        add_uses(&mut self.collections, &other.collections);
        add_searches(&mut self.top_searches, &other.top_searches);
        add_searches(&mut self.not_found, &other.not_found);
        let mut days: BTreeMap<String, u64> = self
            .days
            .iter()
            .map(|d| (d.date.clone(), d.participants))
            .collect();
        for d in &other.days {
            let n = days.entry(d.date.clone()).or_default();
            *n = n.saturating_add(d.participants);
        }
        self.days = days
            .into_iter()
            .map(|(date, participants)| DayTally { date, participants })
            .collect();
    }
}

fn add_uses(mine: &mut Vec<UseTally>, other: &[UseTally]) {
    for u in other {
        match mine.iter_mut().find(|m| m.id == u.id) {
            Some(m) => {
                m.views = m.views.saturating_add(u.views);
                m.participants = m.participants.saturating_add(u.participants);
                if m.title.is_empty() {
                    m.title.clone_from(&u.title);
                }
            }
            None => mine.push(u.clone()),
        }
    }
    sort_uses(mine);
}

/// Most people first, then most views, then by id: the order reports list them in.
pub fn sort_uses(uses: &mut [UseTally]) {
    uses.sort_by(|a, b| {
        (b.participants, b.views)
            .cmp(&(a.participants, a.views))
            .then_with(|| a.id.cmp(&b.id))
    });
}

fn add_searches(mine: &mut Vec<SearchTally>, other: &[SearchTally]) {
    for s in other {
        match mine.iter_mut().find(|m| m.query == s.query) {
            Some(m) => {
                m.searches = m.searches.saturating_add(s.searches);
                m.participants = m.participants.saturating_add(s.participants);
            }
            None => mine.push(s.clone()),
        }
    }
    sort_searches(mine);
}

/// Most searches first, then by text.
pub fn sort_searches(s: &mut [SearchTally]) {
    s.sort_by(|a, b| {
        b.searches
            .cmp(&a.searches)
            .then_with(|| a.query.cmp(&b.query))
    });
}

/// The tallies of the days `a..=b` (day numbers, [`clock::day_number`]); `ethnic_groups` are
/// the groups the centre offers, in order.
pub fn counts(
    conn: &Connection,
    (a, b): (i64, i64),
    ethnic_groups: &[(&str, &str)],
) -> rusqlite::Result<Counts> {
    let (participants, views, searches, sessions) = conn.query_row(
        &format!(
            "SELECT COUNT(DISTINCT participant), COALESCE(SUM(views), 0),
                    COALESCE(SUM(searches), 0), COALESCE(SUM(sessions), 0)
             FROM active WHERE category = '' AND day BETWEEN ?1 AND ?2 AND {COUNTED}"
        ),
        params![a, b],
        |r| {
            Ok((
                r.get::<_, i64>(0)? as u64,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)? as u64,
                r.get::<_, i64>(3)? as u64,
            ))
        },
    )?;
    let mut groups = BTreeMap::new();
    for (question, choices) in [
        ("age_band", Some(AGE_BANDS)),
        ("gender", Some(GENDERS)),
        ("ethnicity", Some(ethnic_groups)),
        ("newly_literate", Some(NEWLY_LITERATE)),
        ("village", None),
    ] {
        groups.insert(
            question.to_string(),
            group_cells(conn, a, b, question, choices)?,
        );
    }
    // Materials are the ids with neither prefix.
    let used = |prefix: Option<&str>| -> rusqlite::Result<Vec<UseTally>> {
        let which = match prefix {
            Some(p) => format!("material LIKE '{p}%'"),
            None => format!(
                "material NOT LIKE '{LESSON_PREFIX}%' AND material NOT LIKE '{COLLECTION_PREFIX}%'"
            ),
        };
        conn.prepare_cached(&format!(
            "SELECT material, SUM(views), COUNT(DISTINCT participant) AS people FROM material_day
             WHERE day BETWEEN ?1 AND ?2 AND {which} AND {COUNTED}
             GROUP BY material ORDER BY 3 DESC, 2 DESC, material LIMIT ?3"
        ))?
        .query_map(params![a, b, MAX_LISTED as i64], |r| {
            let id: String = r.get(0)?;
            Ok(UseTally {
                id: prefix
                    .and_then(|p| id.strip_prefix(p))
                    .unwrap_or(&id)
                    .to_string(),
                title: String::new(),
                views: r.get::<_, i64>(1)? as u64,
                participants: r.get::<_, i64>(2)? as u64,
            })
        })?
        .collect()
    };
    let searches_by = |column: &str| -> rusqlite::Result<Vec<SearchTally>> {
        conn.prepare_cached(&format!(
            "SELECT query, SUM({column}) AS n,
                    COUNT(DISTINCT CASE WHEN {column} > 0 THEN participant END) AS people
             FROM search_person WHERE day BETWEEN ?1 AND ?2 AND {COUNTED}
             GROUP BY query HAVING n > 0 AND people >= ?4 ORDER BY n DESC, query LIMIT ?3"
        ))?
        .query_map(params![a, b, MAX_LISTED as i64, MIN_GROUP as i64], |r| {
            Ok(SearchTally {
                query: r.get(0)?,
                searches: r.get::<_, i64>(1)? as u64,
                participants: r.get::<_, i64>(2)? as u64,
            })
        })?
        .collect()
    };
    let days = conn
        .prepare_cached(&format!(
            "SELECT day, COUNT(DISTINCT participant) FROM active
             WHERE category = '' AND day BETWEEN ?1 AND ?2 AND {COUNTED} GROUP BY day ORDER BY day"
        ))?
        .query_map(params![a, b], |r| {
            Ok(DayTally {
                date: clock::iso(clock::date_of(r.get::<_, i64>(0)?)),
                participants: r.get::<_, i64>(1)? as u64,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Counts {
        participants,
        sessions,
        views,
        searches,
        fields: field_tallies(conn, a, b)?,
        groups,
        materials: used(None)?,
        lessons: used(Some(LESSON_PREFIX))?,
        collections: used(Some(COLLECTION_PREFIX))?,
        top_searches: searches_by("searches")?,
        not_found: searches_by("zero")?,
        days,
    })
}

fn field_tallies(
    conn: &Connection,
    a: i64,
    b: i64,
) -> rusqlite::Result<BTreeMap<String, FieldTally>> {
    let mut out: BTreeMap<String, FieldTally> = crate::content::Category::ALL
        .iter()
        .map(|c| (c.slug().to_string(), FieldTally::default()))
        .collect();
    let mut st = conn.prepare_cached(&format!(
        "SELECT category, COUNT(DISTINCT participant), SUM(views) FROM active
         WHERE category <> '' AND day BETWEEN ?1 AND ?2 AND {COUNTED} GROUP BY category"
    ))?;
    for row in st.query_map(params![a, b], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })? {
        let (c, p, v) = row?;
        if let Some(f) = out.get_mut(&c) {
            *f = FieldTally {
                participants: p as u64,
                views: v as u64,
            };
        }
    }
    Ok(out)
}

/// The cells of one question (its column in `profiles` has the question's name).
fn group_cells(
    conn: &Connection,
    a: i64,
    b: i64,
    column: &str,
    choices: Option<&[(&str, &str)]>,
) -> rusqlite::Result<Vec<GroupTally>> {
    let sql = format!(
        "SELECT COALESCE(CAST(p.{column} AS TEXT), ''), COUNT(*) FROM
           (SELECT DISTINCT participant FROM active
            WHERE category = '' AND day BETWEEN ?1 AND ?2 AND {COUNTED}) x
         LEFT JOIN profiles p ON p.participant = x.participant
         GROUP BY 1"
    );
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for row in conn.prepare(&sql)?.query_map(params![a, b], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })? {
        let (g, n) = row?;
        counts.insert(g, n as u64);
    }
    let cell = |group: &str, label: &str, participants| GroupTally {
        group: group.to_string(),
        label: label.to_string(),
        participants,
    };
    let mut cells = Vec::new();
    match choices {
        // Every offered choice is listed, so an absent group looks the same as a small one.
        Some(c) => {
            // Answers the list no longer offers (the settings changed) count as "another".
            let unlisted: u64 = counts
                .iter()
                .filter(|(g, _)| !g.is_empty() && !c.iter().any(|(v, _)| v == g))
                .map(|(_, n)| n)
                .sum();
            for (v, l) in c {
                let extra = if *v == OTHER_GROUP { unlisted } else { 0 };
                cells.push(cell(v, l, counts.get(*v).copied().unwrap_or(0) + extra));
            }
        }
        // Free text (villages): a name is kept only with enough people; the rest are pooled,
        // so a report never reveals that one person from a small hamlet took part.
        None => {
            let mut pooled = 0;
            for (g, &n) in counts.iter().filter(|(g, _)| !g.is_empty()) {
                if n >= MIN_GROUP {
                    cells.push(cell(g, g, n));
                } else {
                    pooled += n;
                }
            }
            cells.push(cell("*", POOLED_VILLAGES, pooled));
        }
    }
    cells.push(cell("", NOT_GIVEN, counts.get("").copied().unwrap_or(0)));
    Ok(cells)
}

/// The cell of villages each with too few people to name.
pub const POOLED_VILLAGES: &str = "Nơi khác (mỗi nơi dưới 5 người)";
/// The cell of people who did not answer.
pub const NOT_GIVEN: &str = "Không cho biết";
