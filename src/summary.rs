//! A centre's period summary for the district: the exact tallies of one named period (no device
//! id, no village, no raw event), the centre's identity and how many days the box was on,
//! signed with the box's key ([`crate::box_key`]) so a district can trust a file off a USB stick.
//!
//! The file is JSON: the summary itself as a string (the exact bytes signed), the public key
//! and the signature beside it. Nothing needs re-encoding to check it.

use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

use crate::box_key::{self, BoxKey};
use crate::clock;
use crate::usage::counts::{self, Counts};
use crate::usage::export::Titles;
use crate::usage::report::Period;

/// What the file says it is.
pub const FORMAT: &str = "hoclieu-summary";
/// The layout of the summary this program writes and reads.
pub const SCHEMA: u32 = 1;
/// Largest file accepted (a year's summary of a busy centre is tens of kB).
pub const MAX_FILE_BYTES: usize = 4 << 20;
/// Signed bytes start with this, so no other message the key signs can pass for a summary.
const DOMAIN: &[u8] = b"hoclieu-summary/1\n";
/// Questions whose answers never leave the centre.
const CENTRE_ONLY_GROUPS: &[&str] = &["village"];

/// Who sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Centre {
    /// The centre's name.
    pub name: String,
    /// Commune (xã).
    pub commune: String,
    /// District (huyện).
    pub district: String,
    /// Province (tỉnh), for a province's or the nation's roll-up; empty when not set.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub province: String,
}

impl Centre {
    /// What identifies the centre at the district: its commune and name, compared without
    /// case or spacing differences (a district has one centre per commune, by the plan).
    pub fn identity(&self) -> String {
        format!(
            "{} / {} / {}",
            place_key(&self.district),
            place_key(&self.commune),
            tidy(&self.name)
        )
    }
}

/// A name compared without case, spacing, normalisation or invisible characters (a zero-width
/// space must not make a look-alike of a known centre).
fn tidy(s: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    s.nfc()
        .filter(|c| !matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{2060}'..='\u{2064}' | '\u{feff}'))
        .collect::<String>()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// A place's name as compared: [`tidy`], without a leading "xã", "huyện", "thị trấn"…
/// ("Xã Bản Bo" and "Bản Bo" are one commune).
pub fn place_key(s: &str) -> String {
    let t = tidy(s);
    let words: Vec<&str> = t.split(' ').collect();
    let skip = match words.as_slice() {
        ["thị", "trấn" | "xã", _, ..] | ["thành", "phố", _, ..] => 2,
        ["xã" | "huyện" | "quận" | "phường" | "tỉnh", _, ..] => 1,
        _ => 0,
    };
    words[skip..].join(" ")
}

/// Days of the period the box was on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoxDays {
    /// Days in the period (up to the day the summary was made, if it is not over).
    pub days: u64,
    /// Days the box was on.
    pub on: u64,
    /// Of those, days whose date was certain (the clock confirmed by phones or staff).
    pub trusted: u64,
}

/// One centre's summary of one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// [`SCHEMA`].
    pub schema: u32,
    /// Who.
    pub centre: Centre,
    /// The period's name (`2026-H2`, `2026-Q3`, `2026-11`, `2026`, `2026-LLW`).
    pub period: String,
    /// Its first day, `YYYY-MM-DD`.
    pub from: String,
    /// Its last day.
    pub to: String,
    /// False when the summary was made before the period ended (a later revision follows).
    pub complete: bool,
    /// 1 for the first summary of this period, one more for each made after it.
    pub revision: u64,
    /// When it was made (RFC 3339, by the box's clock).
    pub made_at: String,
    /// Whether the box's clock was confirmed then.
    pub clock_trusted: bool,
    /// Days the box was on.
    pub box_days: BoxDays,
    /// The tallies.
    pub counts: Counts,
}

/// Why a file is not accepted as a summary.
#[derive(Debug, thiserror::Error)]
pub enum SummaryError {
    /// Not one of these files at all.
    #[error("không phải tệp tổng hợp của hoclieu ({0})")]
    Foreign(String),
    /// Larger than [`MAX_FILE_BYTES`].
    #[error("tệp quá lớn ({0} byte) để là một bản tổng hợp")]
    TooLarge(usize),
    /// Made by a newer program.
    #[error("tệp theo mẫu số {0}, chương trình này chỉ đọc mẫu số {SCHEMA}: hãy cập nhật hoclieu")]
    NewerSchema(u32),
    /// The signature does not match: changed after signing, or damaged.
    #[error("chữ ký không khớp: tệp đã bị sửa hoặc hỏng sau khi trung tâm ký")]
    BadSignature,
    /// Signed, but what it says does not hold together.
    #[error("nội dung không hợp lệ: {0}")]
    Invalid(String),
}

/// Why a summary could not be made.
#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    /// Not a period's name.
    #[error("unknown period {0:?} (try 2026-11, 2026-Q4, 2026-H2, 2026, 2026-LLW)")]
    UnknownPeriod(String),
    /// The records could not be read.
    #[error("the records could not be read: {0}")]
    Db(#[from] rusqlite::Error),
    /// The box's key could not be read or made.
    #[error(transparent)]
    Key(#[from] crate::box_key::KeyError),
}

/// The file as written: the summary's JSON (signed as it is) and its signature.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    format: String,
    schema: u32,
    /// The box's public key, hex.
    key: String,
    /// Ed25519 signature of [`DOMAIN`] followed by `summary`, hex.
    signature: String,
    summary: String,
}

/// A summary whose signature holds, with the key that made it.
#[derive(Debug, Clone)]
pub struct Verified {
    /// What it says.
    pub summary: Summary,
    /// The public key that signed it.
    pub key: [u8; 32],
    /// SHA-256 of the whole file, hex: the same file imported twice is recognised.
    pub digest: String,
}

impl Verified {
    /// The signing key's short fingerprint.
    pub fn fingerprint(&self) -> String {
        box_key::fingerprint(&self.key)
    }
}

/// A period a summary may cover, by name: its canonical name and days. Only named periods
/// (month, quarter, half-year, year, Lifelong Learning Week), so centres' files line up.
pub fn named_period(name: &str) -> Option<(String, Period)> {
    let p = Period::named(name)?;
    let up = name.trim().to_ascii_uppercase();
    let (y, rest) = up.split_once('-').unwrap_or((&up, ""));
    let y: i32 = y.parse().ok()?;
    let canonical = match rest {
        "" => y.to_string(),
        "LLW" => format!("{y}-LLW"),
        r if r.starts_with('Q') || r.starts_with('H') => {
            format!("{y}-{}{}", &r[..1], r[1..].parse::<u8>().ok()?)
        }
        r => format!("{y}-{:02}", r.parse::<u8>().ok()?),
    };
    Some((canonical, p))
}

/// The next revision number of a period's summary (1 for the first), kept in the database.
pub fn next_revision(conn: &Connection, period: &str) -> rusqlite::Result<u64> {
    conn.execute(
        "INSERT INTO summary_revisions(period, revision) VALUES (?1, 1)
         ON CONFLICT(period) DO UPDATE SET revision = revision + 1",
        [period],
    )?;
    conn.query_row(
        "SELECT revision FROM summary_revisions WHERE period = ?1",
        [period],
        |r| r.get::<_, i64>(0).map(|n| n as u64),
    )
}

/// What a summary is made from besides the database.
#[derive(Debug, Clone)]
pub struct Made<'a> {
    /// Who.
    pub centre: Centre,
    /// The groups the centre offers.
    pub ethnic_groups: &'a [(&'a str, &'a str)],
    /// Titles of materials and lessons.
    pub titles: &'a Titles,
    /// Now, by the box's clock (ms since the epoch).
    pub now_ms: i64,
    /// Whether that clock is confirmed.
    pub clock_trusted: bool,
}

/// Makes the summary of the period named `name`, taking the next revision number.
pub fn make(conn: &Connection, name: &str, made: &Made<'_>) -> Result<Summary, MakeError> {
    let named = named_period(name).ok_or_else(|| MakeError::UnknownPeriod(name.to_string()))?;
    Ok(make_named(conn, named, made)?)
}

/// [`make`] for a period already named by [`named_period`].
pub fn make_named(
    conn: &Connection,
    (period_name, period): (String, Period),
    made: &Made<'_>,
) -> rusqlite::Result<Summary> {
    let mut counts = counts::counts(conn, period.range(), made.ethnic_groups)?;
    for q in CENTRE_ONLY_GROUPS {
        counts.groups.remove(*q);
    }
    for m in &mut counts.materials {
        m.title = made.titles.material(&m.id);
    }
    for l in &mut counts.lessons {
        l.title = made.titles.lesson(&l.id);
    }
    for c in &mut counts.collections {
        c.title = made.titles.collection(&c.id);
    }
    let today = clock::local_day(made.now_ms);
    let last = clock::day_number(period.to).min(today);
    let days = (last - clock::day_number(period.from) + 1).max(0) as u64;
    let (on, trusted) = crate::usage::store::days_on(conn, (clock::day_number(period.from), last))?;
    let revision = next_revision(conn, &period_name)?;
    Ok(Summary {
        schema: SCHEMA,
        centre: made.centre.clone(),
        period: period_name,
        from: clock::iso(period.from),
        to: clock::iso(period.to),
        complete: today > clock::day_number(period.to),
        revision,
        made_at: rfc3339(made.now_ms),
        clock_trusted: made.clock_trusted,
        box_days: BoxDays { days, on, trusted },
        counts,
    })
}

/// The file name a summary is offered under: centre, period, revision.
pub fn file_name(s: &Summary) -> String {
    let slug: String = s
        .centre
        .name
        .to_lowercase()
        .chars()
        .filter_map(crate::search::analyzer::fold_char)
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    format!(
        "{}-{}-lan{}{SUFFIX}",
        if slug.is_empty() { "trung-tam" } else { &slug },
        s.period,
        s.revision
    )
}

/// How summary files end.
pub const SUFFIX: &str = ".hoclieu-summary.json";

fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.to_offset(time::macros::offset!(+7))
                .format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// The signed file of a summary.
pub fn seal(summary: &Summary, key: &BoxKey) -> Vec<u8> {
    let body = serde_json::to_string(summary).unwrap_or_default();
    let mut message = DOMAIN.to_vec();
    message.extend_from_slice(body.as_bytes());
    let env = Envelope {
        format: FORMAT.to_string(),
        schema: SCHEMA,
        key: crate::content::hex(&key.public()),
        signature: crate::content::hex(&key.sign(&message)),
        summary: body,
    };
    let mut out = serde_json::to_vec_pretty(&env).unwrap_or_default();
    out.push(b'\n');
    out
}

/// Checks a file and reads the summary in it: the signature must hold for the key it names
/// (whether that key is the centre's is the district's question), and what it says must hold
/// together.
pub fn open(bytes: &[u8]) -> Result<Verified, SummaryError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(SummaryError::TooLarge(bytes.len()));
    }
    let env: Envelope = serde_json::from_slice(bytes).map_err(|e| {
        SummaryError::Foreign(if e.is_data() {
            "thiếu hoặc thừa mục".to_string()
        } else {
            "không đọc được JSON".to_string()
        })
    })?;
    if env.format != FORMAT {
        return Err(SummaryError::Foreign(format!("format {:?}", env.format)));
    }
    if env.schema > SCHEMA {
        return Err(SummaryError::NewerSchema(env.schema));
    }
    let key: [u8; 32] = crate::content::unhex(&env.key)
        .and_then(|k| k.try_into().ok())
        .ok_or(SummaryError::BadSignature)?;
    let signature: [u8; 64] = crate::content::unhex(&env.signature)
        .and_then(|s| s.try_into().ok())
        .ok_or(SummaryError::BadSignature)?;
    let mut message = DOMAIN.to_vec();
    message.extend_from_slice(env.summary.as_bytes());
    if !box_key::verify(&key, &message, &signature) {
        return Err(SummaryError::BadSignature);
    }
    let summary: Summary = serde_json::from_str(&env.summary)
        .map_err(|e| SummaryError::Invalid(format!("không đọc được bản tổng hợp: {e}")))?;
    check(&summary)?;
    use sha2::Digest;
    Ok(Verified {
        summary,
        key,
        digest: crate::content::hex(&sha2::Sha256::digest(bytes)),
    })
}

/// What a signed summary must satisfy before anything is kept of it.
fn check(s: &Summary) -> Result<(), SummaryError> {
    let bad = |m: String| Err(SummaryError::Invalid(m));
    if s.schema != SCHEMA {
        return bad(format!("schema {} inside a schema {SCHEMA} file", s.schema));
    }
    let Some((name, period)) = named_period(&s.period) else {
        return bad(format!(
            "kỳ {:?} không phải tháng, quý, nửa năm hay năm",
            s.period
        ));
    };
    if name != s.period || s.from != clock::iso(period.from) || s.to != clock::iso(period.to) {
        return bad(format!(
            "kỳ {:?} không khớp ngày {}–{}",
            s.period, s.from, s.to
        ));
    }
    if s.centre.name.trim().is_empty() {
        return bad("thiếu tên trung tâm".to_string());
    }
    if s.revision == 0 {
        return bad("số lần gửi phải từ 1".to_string());
    }
    let c = &s.counts;
    if let Some(q) = CENTRE_ONLY_GROUPS
        .iter()
        .find(|q| c.groups.contains_key(**q))
    {
        return bad(format!("có mục «{q}», mục này không được rời trung tâm"));
    }
    let listed = c
        .materials
        .len()
        .max(c.lessons.len())
        .max(c.collections.len());
    let searched = c.top_searches.len().max(c.not_found.len());
    if listed > counts::MAX_LISTED || searched > counts::MAX_LISTED || c.days.len() > 400 {
        return bad("danh sách dài quá mức".to_string());
    }
    if s.box_days.on > s.box_days.days || s.box_days.trusted > s.box_days.on {
        return bad("số ngày bật máy không hợp lệ".to_string());
    }
    Ok(())
}

/// Reads the box's signing key (made at the server's first start).
pub fn box_key(conn: &Connection) -> Result<BoxKey, MakeError> {
    Ok(BoxKey::load_or_create(conn)?)
}

/// The last revision made of a period, if any.
pub fn last_revision(conn: &Connection, period: &str) -> rusqlite::Result<Option<u64>> {
    conn.query_row(
        "SELECT revision FROM summary_revisions WHERE period = ?1",
        [period],
        |r| r.get::<_, i64>(0).map(|n| n as u64),
    )
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_have_one_name_each() {
        for (given, canonical) in [
            ("2026-h2", "2026-H2"),
            ("2026-Q3", "2026-Q3"),
            ("2026-3", "2026-03"),
            ("2026-11", "2026-11"),
            (" 2026 ", "2026"),
            ("2026-llw", "2026-LLW"),
        ] {
            assert_eq!(named_period(given).unwrap().0, canonical, "{given}");
        }
        for bad in ["2026-Q5", "2026-13", "x", "", "2026-01-01"] {
            assert!(named_period(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn centres_are_the_same_whatever_the_spacing_and_case() {
        let a = Centre {
            name: "TTHTCĐ  Bản Bo".into(),
            commune: "Xã Bản Bo".into(),
            district: "Tam Đường".into(),
            province: String::new(),
        };
        let b = Centre {
            name: "tthtcđ bản bo".into(),
            commune: "xã  bản bo ".into(),
            district: "Tam Đường".into(),
            province: String::new(),
        };
        assert_eq!(a.identity(), b.identity());
    }
}
