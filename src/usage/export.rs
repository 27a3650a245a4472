//! A report as text a person reads in a terminal, or as CSV for the commune's spreadsheet:
//! Vietnamese headers, titles and labels instead of stored ids, and cells that cannot run as
//! formulas.

use std::collections::HashMap;

use serde::Serialize;

use super::report::{MIN_GROUP, Report, Uncounted};
use crate::content::{Category, Library};

/// A report with the one before it, for comparison.
#[derive(Debug, Serialize)]
pub struct Compared {
    /// The period asked for.
    #[serde(flatten)]
    pub current: Report,
    /// The period of the same kind just before.
    pub previous: Report,
}

impl Compared {
    /// The report of `period` and of the one before it; `ethnic_groups` as offered.
    pub fn of(
        conn: &rusqlite::Connection,
        period: super::report::Period,
        ethnic_groups: &[(&str, &str)],
    ) -> rusqlite::Result<Compared> {
        Ok(Compared {
            current: super::report::report(conn, period, ethnic_groups)?,
            previous: super::report::report(conn, period.previous(), ethnic_groups)?,
        })
    }
}

/// Labels of the demographic questions, in report order.
pub const QUESTIONS: &[(&str, &str)] = &[
    ("age_band", "Độ tuổi"),
    ("gender", "Giới tính"),
    ("ethnicity", "Dân tộc"),
    ("newly_literate", "Mới biết chữ"),
    ("village", "Thôn, bản"),
];

/// What a person reads instead of a stored id: material titles by id, lesson titles by code,
/// collection titles by name. An id without a title (a material since removed) is shown as it
/// is.
#[derive(Debug, Clone, Default)]
pub struct Titles {
    materials: HashMap<String, String>,
    lessons: HashMap<String, String>,
    collections: HashMap<String, String>,
}

impl Titles {
    /// The titles of a library's materials and of lessons given as (code, title).
    pub fn new(
        library: Option<&Library>,
        lessons: impl IntoIterator<Item = (String, String)>,
    ) -> Titles {
        Titles {
            materials: library
                .map(|l| {
                    l.materials()
                        .iter()
                        .map(|m| (m.id.clone(), m.title.clone()))
                        .collect()
                })
                .unwrap_or_default(),
            lessons: lessons.into_iter().collect(),
            collections: HashMap::new(),
        }
    }

    /// With the titles of the shelf's collections, given as (name, title).
    pub fn with_collections(mut self, c: impl IntoIterator<Item = (String, String)>) -> Titles {
        self.collections = c.into_iter().collect();
        self
    }

    /// A collection's title (its name when it is no longer on the shelf).
    pub fn collection(&self, name: &str) -> String {
        self.collections
            .get(name)
            .cloned()
            .unwrap_or_else(|| name.to_string())
    }

    /// A material's title (its id when it has none).
    pub fn material(&self, id: &str) -> String {
        self.materials
            .get(id)
            .cloned()
            .unwrap_or_else(|| id.to_string())
    }

    /// A lesson's title (its code when it has none).
    pub fn lesson(&self, code: &str) -> String {
        self.lessons
            .get(code)
            .cloned()
            .unwrap_or_else(|| code.to_ascii_uppercase())
    }
}

/// One table of a report.
#[derive(Debug, Clone)]
pub struct Table {
    /// Machine name, e.g. `top_materials` (the name of its download).
    pub name: &'static str,
    /// What it shows, in Vietnamese.
    pub title: &'static str,
    /// Column names, in Vietnamese.
    pub header: Vec<&'static str>,
    /// Cells, with titles and labels rather than stored ids.
    pub rows: Vec<Vec<String>>,
}

/// What a hidden cell says.
pub const HIDDEN: &str = "dưới 5";

/// Why a period shows no numbers (fewer than [`MIN_GROUP`] counted participants).
pub fn withheld_note() -> String {
    format!(
        "Kỳ này có dưới {MIN_GROUP} người tham gia được tính, nên báo cáo không ghi số liệu \
         (để không ai bị nhận ra). Hãy chọn kỳ dài hơn."
    )
}

/// What was not counted, and why, in one sentence; `None` when everything was counted.
pub fn uncounted_note(u: &Uncounted) -> Option<String> {
    (u.views + u.searches > 0).then(|| {
        format!(
            "{} lượt xem từ thiết bị không giữ mã, không tính ({} thiết bị, {} lượt tìm): \
             thiết bị không gửi lại mã khách (trình duyệt chặn cookie, chỉ mở một trang, \
             hoặc máy tự động) không được tính là người tham gia.",
            u.views, u.devices, u.searches
        )
    })
}

/// Every table of a report, in words a commune's officer reads.
pub fn tables(r: &Report, titles: &Titles) -> Vec<Table> {
    let n = |v: u64| v.to_string();
    // A whole period behind too few people shows no totals either.
    let total = |v: u64| if r.withheld { HIDDEN.to_string() } else { n(v) };
    let mut out = vec![Table {
        name: "summary",
        title: "Tổng hợp",
        header: vec![
            "Từ ngày",
            "Đến ngày",
            "Số người tham gia",
            "Số lượt truy cập",
            "Số lượt xem tài liệu",
            "Số lượt tìm kiếm",
            "Lượt xem không tính (thiết bị không giữ mã)",
            "Thiết bị không giữ mã",
        ],
        rows: vec![vec![
            r.from.clone(),
            r.to.clone(),
            total(r.participants),
            total(r.sessions),
            total(r.views),
            total(r.searches),
            n(r.uncounted.views),
            n(r.uncounted.devices),
        ]],
    }];
    out.push(Table {
        name: "by_category",
        title: "Theo lĩnh vực",
        header: vec!["Lĩnh vực", "Số người tham gia", "Lượt xem"],
        rows: r
            .by_category
            .iter()
            .map(|(c, f)| {
                let field = c
                    .parse::<Category>()
                    .map_or_else(|_| c.clone(), |c| c.name_vi().to_string());
                if f.hidden {
                    vec![field, HIDDEN.to_string(), HIDDEN.to_string()]
                } else {
                    vec![field, n(f.participants), n(f.views)]
                }
            })
            .collect(),
    });
    out.push(Table {
        name: "by_group",
        title: "Theo nhóm người học (nhóm dưới 5 người không ghi số)",
        header: vec!["Câu hỏi", "Nhóm", "Số người tham gia"],
        rows: QUESTIONS
            .iter()
            .filter_map(|(q, label)| Some((*label, r.by_group.get(*q)?)))
            .flat_map(|(label, gs)| {
                gs.iter().map(move |g| {
                    vec![
                        label.to_string(),
                        g.label.clone(),
                        g.participants.map_or(HIDDEN.to_string(), |v| v.to_string()),
                    ]
                })
            })
            .collect(),
    });
    out.push(Table {
        name: "top_materials",
        title: "Tài liệu được dùng nhiều nhất",
        header: vec!["Tài liệu", "Số người xem", "Lượt xem"],
        rows: r
            .top_materials
            .iter()
            .map(|m| vec![titles.material(&m.id), n(m.participants), n(m.views)])
            .collect(),
    });
    out.push(Table {
        name: "lessons",
        title: "Bài học có người tham gia",
        header: vec!["Bài học", "Số người tham gia", "Lượt mở"],
        rows: r
            .lessons
            .iter()
            .map(|m| vec![titles.lesson(&m.id), n(m.participants), n(m.views)])
            .collect(),
    });
    out.push(Table {
        name: "collections",
        title: "Thư viện khác (ZIM) có người đọc",
        header: vec!["Thư viện", "Số người đọc", "Lượt đọc bài"],
        rows: r
            .collections
            .iter()
            .map(|m| vec![titles.collection(&m.id), n(m.participants), n(m.views)])
            .collect(),
    });
    out.push(Table {
        name: "top_searches",
        title: "Tìm nhiều nhất",
        header: vec!["Từ tìm", "Số lượt tìm"],
        rows: r
            .top_searches
            .iter()
            .map(|s| vec![s.query.clone(), n(s.searches)])
            .collect(),
    });
    out.push(Table {
        name: "zero_result_searches",
        title: "Tìm mà không thấy (thư viện còn thiếu)",
        header: vec!["Từ tìm", "Số lượt tìm"],
        rows: r
            .zero_result_searches
            .iter()
            .map(|s| vec![s.query.clone(), n(s.searches)])
            .collect(),
    });
    out.push(Table {
        name: "busy_days",
        title: "Số người mỗi ngày",
        header: vec!["Ngày", "Số người tham gia"],
        rows: r
            .busy_days
            .iter()
            .map(|d| vec![d.date.clone(), n(d.participants)])
            .chain((r.quiet_days > 0).then(|| {
                vec![
                    format!("{} ngày khác", r.quiet_days),
                    format!("{HIDDEN} mỗi ngày"),
                ]
            }))
            .collect(),
    });
    out.push(Table {
        name: "hours",
        title: "Lượt xem theo giờ trong ngày",
        header: vec!["Giờ", "Lượt xem"],
        rows: r
            .hours
            .iter()
            .enumerate()
            .map(|(h, v)| {
                let hidden = r.hidden_hours.get(h).copied().unwrap_or(false);
                let cell = if hidden {
                    format!("ẩn ({HIDDEN} người)")
                } else {
                    n(*v)
                };
                vec![format!("{h:02}:00"), cell]
            })
            .collect(),
    });
    out
}

/// Starts a CSV file: without it, Excel reads UTF-8 as the PC's old code page and Vietnamese
/// turns to noise.
pub const BOM: &str = "\u{feff}";

/// A cell a spreadsheet would take for a formula (`=`, `+`, `-`, `@`, a tab or a return first:
/// searches are typed by anyone) is kept as text by a leading `'`.
fn as_text(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
    }
}

/// One table as CSV (without the [`BOM`]).
pub fn csv_table(header: &[&str], rows: &[Vec<String>]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header.iter().map(|h| as_text(h)))?;
    for r in rows {
        w.write_record(r.iter().map(|c| as_text(c)))?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// One table as a CSV file for a spreadsheet: the [`BOM`], then the table.
pub fn csv_file(t: &Table) -> Result<String, csv::Error> {
    Ok(format!("{BOM}{}", csv_table(&t.header, &t.rows)?))
}

/// Every table in one CSV file: the [`BOM`], then each table preceded by a `# title (name)`
/// line and followed by a blank line.
pub fn csv_all(r: &Report, titles: &Titles) -> Result<String, csv::Error> {
    let mut out = BOM.to_string();
    for t in tables(r, titles) {
        out.push_str(&format!("# {} ({})\n", t.title, t.name));
        out.push_str(&csv_table(&t.header, &t.rows)?);
        out.push('\n');
    }
    Ok(out)
}

/// Aligned plain-text tables, with the previous period's totals beside the current ones.
pub fn text(c: &Compared, titles: &Titles) -> String {
    let mut out = String::new();
    let r = &c.current;
    let p = &c.previous;
    out.push_str(&format!(
        "Báo cáo từ {} đến {} (kỳ trước: {} đến {})\n\n",
        r.from, r.to, p.from, p.to
    ));
    let mut all = tables(r, titles).into_iter();
    let summary = all.next().map(|t| t.header).unwrap_or_default();
    let shown = |rep: &Report, v: u64| {
        if rep.withheld {
            HIDDEN.to_string()
        } else {
            v.to_string()
        }
    };
    let totals = [
        (r.participants, p.participants),
        (r.sessions, p.sessions),
        (r.views, p.views),
        (r.searches, p.searches),
    ]
    .map(|(a, b)| (shown(r, a), shown(p, b)));
    let width = summary.iter().map(|h| h.chars().count()).max().unwrap_or(0) + 2;
    out.push_str(&format!(
        "{:w$}{:>10}{:>12}\n",
        "",
        "Kỳ này",
        "Kỳ trước",
        w = width
    ));
    for (label, (a, b)) in summary.iter().skip(2).zip(totals) {
        let pad = width.saturating_sub(label.chars().count());
        out.push_str(&format!("{label}{:pad$}{a:>10}{b:>12}\n", ""));
    }
    if r.withheld {
        out.push_str(&format!("\n{}\n", withheld_note()));
    }
    if let Some(note) = uncounted_note(&r.uncounted) {
        out.push_str(&format!("\n{note}\n"));
    }
    for Table {
        title,
        header,
        rows,
        ..
    } in all
    {
        out.push_str(&format!("\n{title}\n"));
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                rows.iter()
                    .map(|row| row[i].chars().count())
                    .chain([header[i].chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<String>| {
            let mut s = String::new();
            for (cell, w) in cells.iter().zip(&widths) {
                let pad = w.saturating_sub(cell.chars().count());
                s.push_str(cell);
                s.push_str(&" ".repeat(pad + 2));
            }
            s.trim_end().to_string() + "\n"
        };
        out.push_str(&line(header.iter().map(|h| h.to_string()).collect()));
        for row in rows {
            out.push_str(&line(row));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_a_spreadsheet_would_run_are_kept_as_text() {
        let rows = vec![
            vec!["=HYPERLINK(\"http://x\")".to_string(), "3".into()],
            vec!["+1".into(), "-2".into()],
            vec!["@SUM(A1)".into(), "\tx".into()],
            vec!["\rx".into(), "trồng lúa - vụ xuân".into()],
        ];
        let csv = csv_table(&["Từ tìm", "Số lượt tìm"], &rows).unwrap();
        assert_eq!(
            csv,
            "Từ tìm,Số lượt tìm\n\
             \"'=HYPERLINK(\"\"http://x\"\")\",3\n\
             '+1,'-2\n\
             '@SUM(A1),'\tx\n\
             \"'\rx\",trồng lúa - vụ xuân\n"
        );
    }
}
