//! The district's report of one period: each centre's figures and the district's total, shown
//! under the same small-group rule as a centre's own report (applied to each level's sums, so
//! the total keeps the small groups no centre may show), beside the plan's targets where the
//! district has given the figures they are a share of.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Held;
use crate::summary::BoxDays;
use crate::usage::counts::Counts;
use crate::usage::report::{MIN_GROUP, Period, Report, shown};

/// The plan's targets and the district's denominators, as the district enters them
/// (`DATA/district-plan.toml`, or the CSV upload for the communes).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    /// The plan's name, e.g. "Kế hoạch 95/KH-UBND".
    #[serde(default)]
    pub name: String,
    /// Targets, in percent.
    #[serde(default)]
    pub targets: Targets,
    /// Each commune's figures.
    #[serde(default, rename = "commune")]
    pub communes: Vec<CommuneFigures>,
}

/// Targets, in percent; a missing one is not shown.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Rural workers taking part in learning.
    pub rural_workers_learning: Option<f64>,
    /// Newly literate people continuing to learn.
    pub newly_literate_continuing: Option<f64>,
    /// Pupils learning life skills.
    pub pupils_life_skills: Option<f64>,
    /// Literacy of ages 15–60 (not something a box can measure).
    pub literacy_15_60: Option<f64>,
    /// Literacy of ages 15–60 among ethnic minorities.
    pub literacy_15_60_minorities: Option<f64>,
}

/// What a commune's figures are (from the commune's statistics, not from the box).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommuneFigures {
    /// The commune's name, as the centres' settings give it.
    pub name: String,
    /// People aged 15–60.
    pub population_15_60: Option<u64>,
    /// Rural workers.
    pub rural_workers: Option<u64>,
    /// People who became literate recently.
    pub newly_literate: Option<u64>,
    /// Pupils.
    pub pupils: Option<u64>,
}

/// Why the plan could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// Not valid TOML or not the plan's keys.
    #[error("tệp kế hoạch không hợp lệ: {0}")]
    Toml(String),
    /// A CSV line is wrong.
    #[error("dòng {line} của tệp CSV: {message}")]
    Csv {
        /// 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

impl Plan {
    /// Reads a plan file.
    pub fn parse(text: &str) -> Result<Plan, PlanError> {
        let plan: Plan = toml::from_str(text).map_err(|e| PlanError::Toml(e.to_string()))?;
        for t in [
            plan.targets.rural_workers_learning,
            plan.targets.newly_literate_continuing,
            plan.targets.pupils_life_skills,
            plan.targets.literacy_15_60,
            plan.targets.literacy_15_60_minorities,
        ]
        .into_iter()
        .flatten()
        {
            if !(0.0..=100.0).contains(&t) {
                return Err(PlanError::Toml(format!(
                    "chỉ tiêu {t} phải từ 0 đến 100 (%)"
                )));
            }
        }
        Ok(plan)
    }

    /// The plan as a file.
    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }

    /// Replaces the communes' figures by those of a CSV (UTF-8, with or without BOM; header
    /// `Xã,Dân số 15-60,Lao động nông thôn,Người mới biết chữ,Học sinh`, blank cells unknown).
    pub fn with_csv(mut self, text: &str) -> Result<Plan, PlanError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut rd = csv::ReaderBuilder::new()
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut communes = Vec::new();
        for (i, rec) in rd.records().enumerate() {
            let line = i + 2;
            let rec = rec.map_err(|e| PlanError::Csv {
                line,
                message: e.to_string(),
            })?;
            let name = rec.get(0).unwrap_or("").to_string();
            if name.is_empty() {
                continue;
            }
            let num = |col: usize| -> Result<Option<u64>, PlanError> {
                match rec.get(col).map(|s| s.replace(['.', ' '], "")) {
                    None => Ok(None),
                    Some(s) if s.is_empty() => Ok(None),
                    Some(s) => s.parse().map(Some).map_err(|_| PlanError::Csv {
                        line,
                        message: format!("«{s}» không phải một số"),
                    }),
                }
            };
            communes.push(CommuneFigures {
                population_15_60: num(1)?,
                rural_workers: num(2)?,
                newly_literate: num(3)?,
                pupils: num(4)?,
                name,
            });
        }
        self.communes = communes;
        Ok(self)
    }

    fn commune(&self, name: &str) -> Option<&CommuneFigures> {
        self.communes
            .iter()
            .find(|c| super::same_place(&c.name, name))
    }
}

/// The district's plan from its file; the example plan (and `true`) when there is none.
pub fn load_plan(path: &std::path::Path) -> Result<(Plan, bool), PlanError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((Plan::parse(&text)?, false)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Ok((Plan::parse(EXAMPLE_PLAN)?, true))
        }
        Err(e) => Err(PlanError::Toml(e.to_string())),
    }
}

/// The communes' figures as the CSV the upload takes.
pub fn communes_csv(plan: &Plan) -> Result<String, csv::Error> {
    let cell = |n: Option<u64>| n.map(|n| n.to_string()).unwrap_or_default();
    let rows: Vec<Vec<String>> = plan
        .communes
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                cell(c.population_15_60),
                cell(c.rural_workers),
                cell(c.newly_literate),
                cell(c.pupils),
            ]
        })
        .collect();
    crate::usage::export::csv_file(&crate::usage::export::Table {
        name: "communes",
        title: "Số liệu các xã",
        header: COMMUNE_HEADER.to_vec(),
        rows,
    })
}

/// The columns of the communes' CSV.
pub const COMMUNE_HEADER: &[&str] = &[
    "Xã",
    "Dân số 15-60",
    "Lao động nông thôn",
    "Người mới biết chữ",
    "Học sinh",
];

/// The example plan: the targets of Tam Đường's plan 95/KH-UBND, no denominators.
pub const EXAMPLE_PLAN: &str = include_str!("plan.example.toml");

/// A figure shown at one level: a number, or hidden (fewer than [`MIN_GROUP`] behind it, or
/// beside such a cell), or a lower bound when some of its parts are hidden.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Figure {
    /// Shown as it is.
    Exact(u64),
    /// At least this many (some parts hidden).
    AtLeast(u64),
    /// Not shown.
    Hidden,
}

impl Figure {
    /// As a report cell.
    pub fn text(self) -> String {
        match self {
            Figure::Exact(n) => n.to_string(),
            Figure::AtLeast(n) if n > 0 => format!("≥ {n}"),
            Figure::AtLeast(_) | Figure::Hidden => crate::usage::export::HIDDEN.to_string(),
        }
    }

    fn value(self) -> Option<u64> {
        match self {
            Figure::Exact(n) => Some(n),
            _ => None,
        }
    }
}

/// The groups the plan's targets are about, read off a shown report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Groups {
    /// Women.
    pub women: Figure,
    /// Ethnic minorities (every group but Kinh, among those who said).
    pub minorities: Figure,
    /// Newly literate.
    pub newly_literate: Figure,
    /// Aged 15–60 (who said).
    pub aged_15_60: Figure,
    /// Under 15.
    pub under_15: Figure,
}

/// The sum of some cells of a question as shown: exact when all are shown.
fn cells(r: &Report, question: &str, pick: impl Fn(&str) -> bool) -> Figure {
    if r.withheld {
        return Figure::Hidden;
    }
    let Some(gs) = r.by_group.get(question) else {
        return Figure::Hidden;
    };
    let picked: Vec<_> = gs.iter().filter(|g| pick(&g.group)).collect();
    let sum: u64 = picked.iter().filter_map(|g| g.participants).sum();
    if picked.iter().all(|g| g.participants.is_some()) {
        Figure::Exact(sum)
    } else if sum > 0 {
        Figure::AtLeast(sum)
    } else {
        Figure::Hidden
    }
}

impl Groups {
    fn hidden() -> Groups {
        Groups {
            women: Figure::Hidden,
            minorities: Figure::Hidden,
            newly_literate: Figure::Hidden,
            aged_15_60: Figure::Hidden,
            under_15: Figure::Hidden,
        }
    }

    fn of(r: &Report) -> Groups {
        Groups {
            women: cells(r, "gender", |g| g == "nu"),
            minorities: cells(r, "ethnicity", |g| g != "kinh" && !g.is_empty()),
            newly_literate: cells(r, "newly_literate", |g| g == "1"),
            aged_15_60: cells(r, "age_band", |g| g == "15-25" || g == "26-60"),
            under_15: cells(r, "age_band", |g| g == "duoi-15"),
        }
    }
}

/// One centre's line.
#[derive(Debug, Clone, Serialize)]
pub struct CentreLine {
    /// The centre's name.
    pub name: String,
    /// Its commune.
    pub commune: String,
    /// Which revision this is.
    pub revision: u64,
    /// Made before the period ended.
    pub complete: bool,
    /// Days the box was on.
    pub box_days: BoxDays,
    /// What may be shown.
    pub report: Report,
    /// The plan's groups.
    pub groups: Groups,
    /// The plan's targets for its commune.
    pub targets: Vec<TargetLine>,
}

/// A target beside what was measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TargetLine {
    /// What the target is, in Vietnamese.
    pub label: &'static str,
    /// The plan's target, percent.
    pub target: f64,
    /// What was measured, in words (a percent with its numbers, or why there is none).
    pub measured: String,
    /// The measured percent, when there is one.
    pub percent: Option<f64>,
}

/// The report of a period.
#[derive(Debug, Clone, Serialize)]
pub struct DistrictReport {
    /// The period's name.
    pub period: String,
    /// First day.
    pub from: String,
    /// Last day.
    pub to: String,
    /// The centres that sent this period's summary, by commune.
    pub centres: Vec<CentreLine>,
    /// Centres known to the district (from earlier files or the plan's communes) that have not
    /// sent it: (name, commune).
    pub missing: Vec<(String, String)>,
    /// The district's total, shown by the same rule.
    pub total: Report,
    /// The plan's groups in the total.
    pub total_groups: Groups,
    /// The plan's targets for the district.
    pub targets: Vec<TargetLine>,
    /// Days the boxes were on, together.
    pub box_days: BoxDays,
    /// The district's most used materials: (title, people, views), at least [`MIN_GROUP`]
    /// people each.
    pub top_materials: Vec<(String, u64, u64)>,
    /// What people searched for and did not find, across the district: (query, searches).
    pub not_found: Vec<(String, u64)>,
}

/// Rows of the district's top lists.
const TOP_LISTED: usize = 10;

/// Rolls up the summaries held for one period. `known` are every centre the district has
/// heard from (name, commune); `plan` gives targets and denominators.
pub fn district_report(
    (name, period): (String, Period),
    held: &[Held],
    known: &[(String, String, String)],
    plan: &Plan,
) -> DistrictReport {
    let mut total = Counts::default();
    let mut box_days = BoxDays::default();
    let mut centres = Vec::new();
    // Denominators summed over the communes that reported, so the total compares like with like.
    let mut reported_communes: BTreeMap<String, &CommuneFigures> = BTreeMap::new();
    let mine: Vec<&Held> = held.iter().filter(|h| h.summary.period == name).collect();
    for h in &mine {
        let s = &h.summary;
        total.add(&s.counts);
        box_days.days += s.box_days.days;
        box_days.on += s.box_days.on;
        box_days.trusted += s.box_days.trusted;
        let report = shown(period, &s.counts);
        let groups = Groups::of(&report);
        if let Some(f) = plan.commune(&s.centre.commune) {
            reported_communes.insert(f.name.clone(), f);
        }
        centres.push(CentreLine {
            name: s.centre.name.clone(),
            commune: s.centre.commune.clone(),
            revision: s.revision,
            complete: s.complete,
            box_days: s.box_days.clone(),
            targets: Vec::new(),
            report,
            groups,
        });
    }
    let counts: Vec<&Counts> = mine.iter().map(|h| &h.summary.counts).collect();
    across_centres(&mut centres, &counts);
    for c in &mut centres {
        let figures = plan.commune(&c.commune).cloned();
        c.targets = targets(&plan.targets, &c.groups, figures.as_ref());
    }
    let sent: Vec<String> = held
        .iter()
        .filter(|h| h.summary.period == name)
        .map(|h| h.centre.clone())
        .collect();
    let mut missing: Vec<(String, String)> = known
        .iter()
        .filter(|(id, _, _)| !sent.contains(id))
        .map(|(_, n, c)| (n.clone(), c.clone()))
        .collect();
    // Communes of the plan with no centre heard from at all.
    for c in &plan.communes {
        let heard = known
            .iter()
            .any(|(_, _, commune)| super::same_place(commune, &c.name));
        if !heard {
            missing.push((String::new(), c.name.clone()));
        }
    }
    let total_report = shown(period, &total);
    // The shown report's lists already obey the small-group rule; titles come from the files.
    let title = |id: &str| {
        total
            .materials
            .iter()
            .find(|m| m.id == id && !m.title.is_empty())
            .map_or_else(|| id.to_string(), |m| m.title.clone())
    };
    let top_materials = total_report
        .top_materials
        .iter()
        .filter(|m| m.participants >= MIN_GROUP)
        .take(TOP_LISTED)
        .map(|m| (title(&m.id), m.participants, m.views))
        .collect();
    let not_found = total_report
        .zero_result_searches
        .iter()
        .take(TOP_LISTED)
        .map(|s| (s.query.clone(), s.searches))
        .collect();
    let total_groups = Groups::of(&total_report);
    let sum = |f: fn(&CommuneFigures) -> Option<u64>| -> Option<u64> {
        let all: Vec<Option<u64>> = reported_communes.values().map(|c| f(c)).collect();
        if all.is_empty() || all.iter().any(Option::is_none) {
            None
        } else {
            Some(all.into_iter().flatten().sum())
        }
    };
    let district_figures = CommuneFigures {
        name: String::new(),
        population_15_60: sum(|c| c.population_15_60),
        rural_workers: sum(|c| c.rural_workers),
        newly_literate: sum(|c| c.newly_literate),
        pupils: sum(|c| c.pupils),
    };
    // When not every reporting centre's commune has figures, the district has no denominator.
    let all_have_figures = centres.iter().all(|c| plan.commune(&c.commune).is_some());
    let figures = all_have_figures.then_some(&district_figures);
    DistrictReport {
        period: name,
        from: crate::clock::iso(period.from),
        to: crate::clock::iso(period.to),
        targets: targets(&plan.targets, &total_groups, figures),
        centres,
        missing,
        total: total_report,
        total_groups,
        box_days,
        top_materials,
        not_found,
    }
}

/// Hides, on the centres' lines, what the district's total would otherwise give away: the
/// lines add up to the total, so while the people behind the hidden lines of a column come to 1
/// to 4, the smallest shown line of that column is hidden too (complementary suppression
/// across the level, as within one report).
fn across_centres(lines: &mut [CentreLine], counts: &[&Counts]) {
    // The lines' totals (participants, sessions, views) stand or fall together.
    let people: Vec<u64> = counts.iter().map(|c| c.participants).collect();
    let mut shown: Vec<bool> = lines.iter().map(|l| !l.report.withheld).collect();
    complement(&people, &mut shown);
    for (l, s) in lines.iter_mut().zip(&shown) {
        if !s && !l.report.withheld {
            l.report.withheld = true;
            l.groups = Groups::hidden();
        }
    }
    type Pick = fn(&Groups) -> Figure;
    type Set = fn(&mut Groups);
    /// A figure of the plan's groups: read it, hide it, and the cells of the question it sums.
    type Column = (Pick, Set, &'static str, fn(&str) -> bool);
    let columns: [Column; 5] = [
        (
            |g| g.women,
            |g| g.women = Figure::Hidden,
            "gender",
            |a| a == "nu",
        ),
        (
            |g| g.minorities,
            |g| g.minorities = Figure::Hidden,
            "ethnicity",
            |a| a != "kinh" && !a.is_empty(),
        ),
        (
            |g| g.newly_literate,
            |g| g.newly_literate = Figure::Hidden,
            "newly_literate",
            |a| a == "1",
        ),
        (
            |g| g.aged_15_60,
            |g| g.aged_15_60 = Figure::Hidden,
            "age_band",
            |a| a == "15-25" || a == "26-60",
        ),
        (
            |g| g.under_15,
            |g| g.under_15 = Figure::Hidden,
            "age_band",
            |a| a == "duoi-15",
        ),
    ];
    for (get, hide, question, pick) in columns {
        let values: Vec<u64> = counts
            .iter()
            .map(|c| {
                c.groups
                    .get(question)
                    .map(|cells| {
                        cells
                            .iter()
                            .filter(|g| pick(&g.group))
                            .map(|g| g.participants)
                            .sum()
                    })
                    .unwrap_or(0)
            })
            .collect();
        let mut shown: Vec<bool> = lines
            .iter()
            .map(|l| matches!(get(&l.groups), Figure::Exact(_)))
            .collect();
        complement(&values, &mut shown);
        for (l, s) in lines.iter_mut().zip(&shown) {
            if !s {
                hide(&mut l.groups);
            }
        }
    }
}

/// While the values behind the cells not shown come to 1–4, hides the smallest shown cell too.
fn complement(values: &[u64], shown: &mut [bool]) {
    loop {
        let behind: u64 = values
            .iter()
            .zip(shown.iter())
            .filter(|(_, s)| !**s)
            .map(|(v, _)| *v)
            .sum();
        if behind == 0 || behind >= MIN_GROUP {
            return;
        }
        let Some(next) = (0..values.len())
            .filter(|&i| shown[i])
            .min_by_key(|&i| (values[i], std::cmp::Reverse(i)))
        else {
            return;
        };
        shown[next] = false;
    }
}

/// Each target beside what was measured against the given figures.
fn targets(t: &Targets, g: &Groups, figures: Option<&CommuneFigures>) -> Vec<TargetLine> {
    let mut out = Vec::new();
    let mut line = |label: &'static str,
                    target: Option<f64>,
                    num: Figure,
                    den: Option<u64>,
                    what: &str| {
        let Some(target) = target else { return };
        let (measured, percent) = match (num.value(), den) {
            (_, None) => (
                format!(
                    "Chưa có số {what} của xã/huyện nên chưa tính được tỉ lệ (đã tham gia: {}).",
                    num.text()
                ),
                None,
            ),
            (_, Some(0)) => (format!("Số {what} đã nhập là 0."), None),
            (None, Some(d)) => (
                format!(
                    "Số người tham gia quá ít để ghi ({} trên {d} {what}).",
                    num.text()
                ),
                None,
            ),
            (Some(n), Some(d)) => {
                let p = n as f64 * 100.0 / d as f64;
                (format!("{p:.1}% ({n} trên {d} {what})"), Some(p))
            }
        };
        out.push(TargetLine {
            label,
            target,
            measured,
            percent,
        });
    };
    line(
        "Lao động nông thôn tham gia học tập (người 15–60 tuổi tham gia, trên số lao động nông thôn)",
        t.rural_workers_learning,
        g.aged_15_60,
        figures.and_then(|f| f.rural_workers),
        "lao động nông thôn",
    );
    line(
        "Người mới biết chữ tiếp tục học",
        t.newly_literate_continuing,
        g.newly_literate,
        figures.and_then(|f| f.newly_literate),
        "người mới biết chữ",
    );
    line(
        "Học sinh học kỹ năng sống (người dưới 15 tuổi tham gia, trên số học sinh)",
        t.pupils_life_skills,
        g.under_15,
        figures.and_then(|f| f.pupils),
        "học sinh",
    );
    for (label, target) in [
        ("Tỉ lệ biết chữ 15–60 tuổi", t.literacy_15_60),
        (
            "Tỉ lệ biết chữ 15–60 tuổi, người dân tộc thiểu số",
            t.literacy_15_60_minorities,
        ),
    ] {
        if let Some(target) = target {
            out.push(TargetLine {
                label,
                target,
                measured: "Máy không đo được tỉ lệ biết chữ; lấy từ kết quả điều tra phổ cập."
                    .into(),
                percent: None,
            });
        }
    }
    out
}

/// The report's table, as CSV rows: one per centre, then the total.
pub fn table(r: &DistrictReport) -> crate::usage::export::Table {
    let mut rows = Vec::new();
    let fig = |f: Figure| f.text();
    let n = |rep: &Report, v: u64| {
        if rep.withheld {
            crate::usage::export::HIDDEN.to_string()
        } else {
            v.to_string()
        }
    };
    for c in &r.centres {
        rows.push(vec![
            c.commune.clone(),
            c.name.clone(),
            c.revision.to_string(),
            if c.complete {
                "đủ kỳ"
            } else {
                "chưa hết kỳ"
            }
            .to_string(),
            format!("{}/{}", c.box_days.on, c.box_days.days),
            c.box_days.trusted.to_string(),
            n(&c.report, c.report.participants),
            n(&c.report, c.report.sessions),
            n(&c.report, c.report.views),
            fig(c.groups.women),
            fig(c.groups.minorities),
            fig(c.groups.newly_literate),
            fig(c.groups.aged_15_60),
            fig(c.groups.under_15),
        ]);
    }
    for (name, commune) in &r.missing {
        let mut row = vec![
            commune.clone(),
            name.clone(),
            String::new(),
            "chưa gửi".into(),
        ];
        row.resize(14, String::new());
        rows.push(row);
    }
    rows.push(vec![
        "Toàn huyện".into(),
        format!("{} trung tâm đã gửi", r.centres.len()),
        String::new(),
        String::new(),
        format!("{}/{}", r.box_days.on, r.box_days.days),
        r.box_days.trusted.to_string(),
        n(&r.total, r.total.participants),
        n(&r.total, r.total.sessions),
        n(&r.total, r.total.views),
        fig(r.total_groups.women),
        fig(r.total_groups.minorities),
        fig(r.total_groups.newly_literate),
        fig(r.total_groups.aged_15_60),
        fig(r.total_groups.under_15),
    ]);
    crate::usage::export::Table {
        name: "district",
        title: "Tham gia học tập theo trung tâm",
        header: vec![
            "Xã",
            "Trung tâm",
            "Lần gửi",
            "Kỳ",
            "Ngày máy bật",
            "Ngày có giờ tin cậy",
            "Người tham gia",
            "Lượt truy cập",
            "Lượt xem",
            "Nữ",
            "Dân tộc thiểu số",
            "Mới biết chữ",
            "15–60 tuổi",
            "Dưới 15 tuổi",
        ],
        rows,
    }
}
