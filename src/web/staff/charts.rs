//! The dashboard's pictures as numbers a template can draw: horizontal bars (a period beside
//! the previous one), columns (days, hours) and the quick choices of report period.

/// A horizontal bar with its value and the previous period's.
pub struct Bar {
    /// What the bar counts.
    pub label: String,
    /// This period.
    pub value: u64,
    /// The previous period.
    pub previous: u64,
    /// Widths in percent of the widest bar.
    pub width: u64,
    /// Width of the previous period's bar.
    pub previous_width: u64,
}

/// Bars scaled to the largest value of either period.
pub fn bars(items: Vec<(String, u64, u64)>) -> Vec<Bar> {
    let max = items.iter().map(|i| i.1.max(i.2)).max().unwrap_or(0).max(1);
    items
        .into_iter()
        .map(|(label, value, previous)| Bar {
            label,
            value,
            previous,
            width: value * 100 / max,
            previous_width: previous * 100 / max,
        })
        .collect()
}

/// A vertical column (days or hours).
pub struct Column {
    /// The day or hour.
    pub label: String,
    /// Its count.
    pub value: u64,
    /// Height in percent of the tallest column.
    pub height: u64,
}

/// Columns scaled to the tallest.
pub fn columns(items: Vec<(String, u64)>) -> Vec<Column> {
    let max = items.iter().map(|i| i.1).max().unwrap_or(0).max(1);
    items
        .into_iter()
        .map(|(label, value)| Column {
            label,
            value,
            height: value * 100 / max,
        })
        .collect()
}

/// A named period offered as a quick choice.
pub struct Preset {
    /// Its code in the address (`2026-Q4`).
    pub code: String,
    /// Its name on the button.
    pub label: String,
}

/// The periods a manager usually reports on, around today.
pub fn presets(today: time::Date) -> Vec<Preset> {
    let y = today.year();
    let m = u8::from(today.month());
    let q = (m - 1) / 3 + 1;
    let h = if m <= 6 { 1 } else { 2 };
    let (pm_y, pm) = if m == 1 { (y - 1, 12) } else { (y, m - 1) };
    let (pq_y, pq) = if q == 1 { (y - 1, 4) } else { (y, q - 1) };
    vec![
        Preset {
            code: format!("{y}-{m:02}"),
            label: format!("Tháng {m}/{y}"),
        },
        Preset {
            code: format!("{pm_y}-{pm:02}"),
            label: format!("Tháng {pm}/{pm_y}"),
        },
        Preset {
            code: format!("{y}-Q{q}"),
            label: format!("Quý {q}/{y}"),
        },
        Preset {
            code: format!("{pq_y}-Q{pq}"),
            label: format!("Quý {pq}/{pq_y}"),
        },
        Preset {
            code: format!("{y}-H{h}"),
            label: format!("6 tháng {} năm {y}", if h == 1 { "đầu" } else { "cuối" }),
        },
        Preset {
            code: format!("{y}"),
            label: format!("Năm {y}"),
        },
        Preset {
            code: format!("{}", y - 1),
            label: format!("Năm {}", y - 1),
        },
        Preset {
            code: format!("{y}-LLW"),
            label: format!("Tuần lễ học tập suốt đời {y} (1–7/10)"),
        },
    ]
}
