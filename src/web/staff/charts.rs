//! The dashboard's pictures as numbers a template can draw: horizontal bars (a period beside
//! the previous one), columns (days, hours) and the quick choices of report period.

/// A horizontal bar with its value and the previous period's.
pub struct Bar {
    /// What the bar counts.
    pub label: String,
    /// This period.
    pub value: u64,
    /// This period as written ("dưới 5" where hidden).
    pub text: String,
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
            text: value.to_string(),
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
    /// Its count as written ("ẩn" where hidden).
    pub text: String,
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
            text: value.to_string(),
            height: value * 100 / max,
        })
        .collect()
}

/// Longest period drawn one column per day; longer ones get one column per week.
const DAILY_UP_TO: i64 = 100;

/// The busy-days chart: a column for every day of the period (or every week of a long one,
/// holding its busiest day), so that one active day is one thin column among many, not a bar
/// as tall as the page. `counts` holds the active days (`YYYY-MM-DD`, people).
pub fn day_columns(from: time::Date, to: time::Date, counts: &[(String, u64)]) -> Vec<Column> {
    let count = |d: time::Date| {
        let key = crate::clock::iso(d);
        counts.iter().find(|(k, _)| *k == key).map_or(0, |c| c.1)
    };
    let days = (to - from).whole_days().clamp(0, 3660) + 1;
    let step = if days <= DAILY_UP_TO { 1 } else { 7 };
    let mut items = Vec::new();
    let mut start = from;
    while start <= to {
        let end = (start + time::Duration::days(step - 1)).min(to);
        let mut busiest = 0;
        let mut d = start;
        while d <= end {
            busiest = busiest.max(count(d));
            d = d.next_day().unwrap_or(end + time::Duration::days(1));
        }
        items.push((
            format!("{:02}/{:02}", start.day(), u8::from(start.month())),
            busiest,
        ));
        start = end + time::Duration::days(1);
    }
    columns(items)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quarter_with_one_active_day_has_a_column_for_every_day() {
        let from = time::macros::date!(2026 - 10 - 01);
        let to = time::macros::date!(2026 - 12 - 31);
        let cols = day_columns(from, to, &[("2026-11-05".into(), 7)]);
        assert_eq!(cols.len(), 92);
        assert_eq!(cols.iter().filter(|c| c.value > 0).count(), 1);
        assert_eq!(cols[35].label, "05/11");
        assert_eq!(cols[35].height, 100);
        // A year is drawn by weeks, each holding its busiest day.
        let year = day_columns(
            time::macros::date!(2026 - 01 - 01),
            time::macros::date!(2026 - 12 - 31),
            &[("2026-11-05".into(), 7), ("2026-11-06".into(), 9)],
        );
        assert_eq!(year.len(), 53);
        assert_eq!(year.iter().map(|c| c.value).max(), Some(9));
    }
}
