//! A report as text a person reads in a terminal, or as CSV for a spreadsheet.

use serde::Serialize;

use super::report::Report;

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

/// One table of a report.
#[derive(Debug, Clone)]
pub struct Table {
    /// Machine name, e.g. `top_materials`.
    pub name: &'static str,
    /// Column names.
    pub header: Vec<&'static str>,
    /// Cells.
    pub rows: Vec<Vec<String>>,
}

/// Every table of a report.
pub fn tables(r: &Report) -> Vec<Table> {
    let n = |v: u64| v.to_string();
    let mut out = vec![Table {
        name: "summary",
        header: vec![
            "from",
            "to",
            "participants",
            "sessions",
            "views",
            "searches",
        ],
        rows: vec![vec![
            r.from.clone(),
            r.to.clone(),
            n(r.participants),
            n(r.sessions),
            n(r.views),
            n(r.searches),
        ]],
    }];
    out.push(Table {
        name: "by_category",
        header: vec!["category", "participants", "views"],
        rows: r
            .by_category
            .iter()
            .map(|(c, f)| vec![c.clone(), n(f.participants), n(f.views)])
            .collect(),
    });
    out.push(Table {
        name: "by_group",
        header: vec!["question", "group", "label", "participants"],
        rows: r
            .by_group
            .iter()
            .flat_map(|(q, gs)| {
                gs.iter().map(move |g| {
                    vec![
                        q.clone(),
                        g.group.clone(),
                        g.label.clone(),
                        g.participants.map_or("<5".to_string(), |v| v.to_string()),
                    ]
                })
            })
            .collect(),
    });
    out.push(Table {
        name: "top_materials",
        header: vec!["material", "participants", "views"],
        rows: r
            .top_materials
            .iter()
            .map(|m| vec![m.id.clone(), n(m.participants), n(m.views)])
            .collect(),
    });
    out.push(Table {
        name: "lessons",
        header: vec!["lesson", "participants", "views"],
        rows: r
            .lessons
            .iter()
            .map(|m| vec![m.id.clone(), n(m.participants), n(m.views)])
            .collect(),
    });
    out.push(Table {
        name: "top_searches",
        header: vec!["query", "searches"],
        rows: r
            .top_searches
            .iter()
            .map(|s| vec![s.query.clone(), n(s.searches)])
            .collect(),
    });
    out.push(Table {
        name: "zero_result_searches",
        header: vec!["query", "searches"],
        rows: r
            .zero_result_searches
            .iter()
            .map(|s| vec![s.query.clone(), n(s.searches)])
            .collect(),
    });
    out.push(Table {
        name: "busy_days",
        header: vec!["date", "participants"],
        rows: r
            .busy_days
            .iter()
            .map(|d| vec![d.date.clone(), n(d.participants)])
            .collect(),
    });
    out.push(Table {
        name: "hours",
        header: vec!["hour", "views"],
        rows: r
            .hours
            .iter()
            .enumerate()
            .map(|(h, v)| vec![format!("{h:02}"), n(*v)])
            .collect(),
    });
    out
}

/// One table as CSV.
pub fn csv_table(header: &[&str], rows: &[Vec<String>]) -> Result<String, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(header)?;
    for r in rows {
        w.write_record(r)?;
    }
    let bytes = w.into_inner().map_err(|e| e.into_error())?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Every table as CSV, each preceded by a `# name` line and followed by a blank line.
pub fn csv_all(r: &Report) -> Result<String, csv::Error> {
    let mut out = String::new();
    for t in tables(r) {
        out.push_str(&format!("# {}\n", t.name));
        out.push_str(&csv_table(&t.header, &t.rows)?);
        out.push('\n');
    }
    Ok(out)
}

/// Aligned plain-text tables, with the previous period's totals beside the current ones.
pub fn text(c: &Compared) -> String {
    let mut out = String::new();
    let r = &c.current;
    let p = &c.previous;
    out.push_str(&format!(
        "Report {} to {} (previous: {} to {})\n\n",
        r.from, r.to, p.from, p.to
    ));
    for (label, a, b) in [
        ("participants", r.participants, p.participants),
        ("sessions", r.sessions, p.sessions),
        ("views", r.views, p.views),
        ("searches", r.searches, p.searches),
    ] {
        out.push_str(&format!("{label:<14}{a:>10}{b:>12}\n"));
    }
    for Table { name, header, rows } in tables(r).into_iter().skip(1) {
        out.push_str(&format!("\n{name}\n"));
        let widths: Vec<usize> = (0..header.len())
            .map(|i| {
                rows.iter()
                    .map(|row| row[i].chars().count())
                    .chain([header[i].len()])
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
