//! What a participant chose to say about themselves: age band, gender, ethnic group, village,
//! newly literate. No name, no phone number. They can read it back and erase it.

use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

/// Longest village name kept.
pub const MAX_VILLAGE_CHARS: usize = 60;

/// One choice list of the form: stored value and Vietnamese label.
pub type Choices = &'static [(&'static str, &'static str)];

/// Age bands the district plan reports on.
pub const AGE_BANDS: Choices = &[
    ("duoi-15", "Dưới 15 tuổi"),
    ("15-25", "15–25 tuổi"),
    ("26-60", "26–60 tuổi"),
    ("tren-60", "Trên 60 tuổi"),
];

/// Genders.
pub const GENDERS: Choices = &[("nu", "Nữ"), ("nam", "Nam"), ("khac", "Khác")];

/// The 54 ethnic groups of Vietnam (the official list), and "another group". A centre offers
/// the ones of its district (the settings' `ethnic_groups`); any of these is a valid answer, so
/// answers stay valid when the settings change.
pub const ETHNICITIES: Choices = &[
    ("kinh", "Kinh"),
    ("tay", "Tày"),
    ("thai", "Thái"),
    ("muong", "Mường"),
    ("khmer", "Khmer"),
    ("hoa", "Hoa"),
    ("nung", "Nùng"),
    ("mong", "Mông"),
    ("dao", "Dao"),
    ("gia-rai", "Gia Rai"),
    ("e-de", "Ê Đê"),
    ("ba-na", "Ba Na"),
    ("san-chay", "Sán Chay"),
    ("cham", "Chăm"),
    ("co-ho", "Cơ Ho"),
    ("xo-dang", "Xơ Đăng"),
    ("san-diu", "Sán Dìu"),
    ("hre", "Hrê"),
    ("ra-glai", "Ra Glai"),
    ("mnong", "Mnông"),
    ("tho", "Thổ"),
    ("xtieng", "Xtiêng"),
    ("kho-mu", "Khơ Mú"),
    ("bru-van-kieu", "Bru - Vân Kiều"),
    ("co-tu", "Cơ Tu"),
    ("giay", "Giáy"),
    ("ta-oi", "Tà Ôi"),
    ("ma", "Mạ"),
    ("gie-trieng", "Giẻ Triêng"),
    ("co", "Co"),
    ("cho-ro", "Chơ Ro"),
    ("xinh-mun", "Xinh Mun"),
    ("ha-nhi", "Hà Nhì"),
    ("chu-ru", "Chu Ru"),
    ("lao", "Lào"),
    ("la-chi", "La Chí"),
    ("khang", "Kháng"),
    ("phu-la", "Phù Lá"),
    ("la-hu", "La Hủ"),
    ("la-ha", "La Ha"),
    ("pa-then", "Pà Thẻn"),
    ("lu", "Lự"),
    ("ngai", "Ngái"),
    ("chut", "Chứt"),
    ("lo-lo", "Lô Lô"),
    ("mang", "Mảng"),
    ("co-lao", "Cờ Lao"),
    ("bo-y", "Bố Y"),
    ("cong", "Cống"),
    ("si-la", "Si La"),
    ("pu-peo", "Pu Péo"),
    ("ro-mam", "Rơ Măm"),
    ("brau", "Brâu"),
    ("o-du", "Ơ Đu"),
    (OTHER_GROUP, "Dân tộc khác"),
];

/// The answer for a group the form does not list.
pub const OTHER_GROUP: &str = "khac";

/// The groups offered by default ([`crate::settings::DEFAULT_ETHNIC_GROUPS`]).
pub fn default_groups() -> Vec<(&'static str, &'static str)> {
    let names: Vec<String> = crate::settings::DEFAULT_ETHNIC_GROUPS
        .iter()
        .map(|s| s.to_string())
        .collect();
    offered_groups(&names).0
}

/// The groups a centre offers, in the settings' order, each named by its code or its name
/// (any case, with or without marks), then "another group". Names that are no group are
/// returned apart, to be reported.
pub fn offered_groups(names: &[String]) -> (Vec<(&'static str, &'static str)>, Vec<String>) {
    let key = |s: &str| crate::content::markdown::anchor(s);
    let mut out: Vec<(&'static str, &'static str)> = Vec::new();
    let mut unknown = Vec::new();
    for name in names {
        let k = key(name);
        match ETHNICITIES
            .iter()
            .find(|(code, label)| *code == k || key(label) == k)
        {
            Some(&(code, _)) if code == OTHER_GROUP => {}
            Some(&c) if !out.contains(&c) => out.push(c),
            Some(_) => {}
            None => unknown.push(name.clone()),
        }
    }
    out.extend(ETHNICITIES.iter().filter(|(c, _)| *c == OTHER_GROUP));
    (out, unknown)
}

/// The label of a stored value, if it is one of the choices.
pub fn label(choices: Choices, value: &str) -> Option<&'static str> {
    choices.iter().find(|(v, _)| *v == value).map(|(_, l)| *l)
}

/// A participant's answers; every field is optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// One of [`AGE_BANDS`].
    pub age_band: Option<String>,
    /// One of [`GENDERS`].
    pub gender: Option<String>,
    /// One of [`ETHNICITIES`].
    pub ethnicity: Option<String>,
    /// Village name as typed (trimmed, bounded).
    pub village: Option<String>,
    /// Learned to read recently (a literacy class).
    pub newly_literate: Option<bool>,
}

/// A value that is not one of the choices.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: «{value}» is not one of the choices")]
pub struct InvalidChoice {
    /// Which question.
    pub field: &'static str,
    /// What was sent.
    pub value: String,
}

fn choice(
    field: &'static str,
    choices: Choices,
    v: Option<&str>,
) -> Result<Option<String>, InvalidChoice> {
    match v.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if label(choices, v).is_some() => Ok(Some(v.to_string())),
        Some(v) => Err(InvalidChoice {
            field,
            value: v.chars().take(40).collect(),
        }),
    }
}

impl Profile {
    /// Builds a profile from form values, rejecting anything not offered by the form.
    pub fn from_form(
        age_band: Option<&str>,
        gender: Option<&str>,
        ethnicity: Option<&str>,
        village: Option<&str>,
        newly_literate: Option<&str>,
    ) -> Result<Profile, InvalidChoice> {
        let village = village
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|v| !v.is_empty())
            .map(|v| v.chars().take(MAX_VILLAGE_CHARS).collect());
        let newly_literate = match newly_literate.map(str::trim) {
            None | Some("") => None,
            Some("co") => Some(true),
            Some("khong") => Some(false),
            Some(v) => {
                return Err(InvalidChoice {
                    field: "newly_literate",
                    value: v.chars().take(40).collect(),
                });
            }
        };
        Ok(Profile {
            age_band: choice("age_band", AGE_BANDS, age_band)?,
            gender: choice("gender", GENDERS, gender)?,
            ethnicity: choice("ethnicity", ETHNICITIES, ethnicity)?,
            village,
            newly_literate,
        })
    }

    /// True when nothing was given.
    pub fn is_empty(&self) -> bool {
        *self == Profile::default()
    }
}

/// Saves (replaces) a participant's profile; an empty one erases it.
pub fn save(
    conn: &Connection,
    participant: &str,
    p: &Profile,
    now_ms: i64,
) -> rusqlite::Result<()> {
    if p.is_empty() {
        return erase(conn, participant);
    }
    conn.execute(
        "INSERT INTO profiles(participant, age_band, gender, ethnicity, village, newly_literate, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT(participant) DO UPDATE SET age_band = ?2, gender = ?3, ethnicity = ?4,
           village = ?5, newly_literate = ?6, updated_at = ?7",
        params![participant, p.age_band, p.gender, p.ethnicity, p.village, p.newly_literate, now_ms],
    )?;
    Ok(())
}

/// A participant's profile, if they gave one.
pub fn load(conn: &Connection, participant: &str) -> rusqlite::Result<Option<Profile>> {
    conn.query_row(
        "SELECT age_band, gender, ethnicity, village, newly_literate FROM profiles WHERE participant = ?1",
        [participant],
        |r| {
            Ok(Profile {
                age_band: r.get(0)?,
                gender: r.get(1)?,
                ethnicity: r.get(2)?,
                village: r.get(3)?,
                newly_literate: r.get(4)?,
            })
        },
    )
    .optional()
}

/// Erases what a participant gave.
pub fn erase(conn: &Connection, participant: &str) -> rusqlite::Result<()> {
    conn.execute("DELETE FROM profiles WHERE participant = ?1", [participant])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_checked() {
        let p = Profile::from_form(
            Some("15-25"),
            Some("nu"),
            Some("mong"),
            Some("  Bản   Hon "),
            Some("co"),
        )
        .unwrap();
        assert_eq!(p.village.as_deref(), Some("Bản Hon"));
        assert_eq!(p.newly_literate, Some(true));
        assert!(Profile::from_form(Some("99"), None, None, None, None).is_err());
        assert!(Profile::from_form(None, None, Some("<script>"), None, None).is_err());
        assert!(
            Profile::from_form(None, None, None, None, None)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn save_load_erase() {
        let dir = tempfile::tempdir().unwrap();
        let store = super::super::store::Store::open(dir.path()).unwrap();
        let c = store.conn();
        let p = Profile::from_form(Some("26-60"), None, Some("dao"), None, None).unwrap();
        save(c, "abc", &p, 1).unwrap();
        assert_eq!(load(c, "abc").unwrap(), Some(p));
        erase(c, "abc").unwrap();
        assert_eq!(load(c, "abc").unwrap(), None);
    }
}
