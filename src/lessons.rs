//! Lessons: a teacher's ordered selection of materials with notes, for one session with a group.
//! Each lesson is one TOML file in `DATA/lessons/`, named by its short code, so lessons travel
//! in packages and backups as plain files.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::content::Category;
use crate::fsutil;

/// Materials a lesson may hold.
pub const MAX_ITEMS: usize = 40;
/// Largest lesson file read: well above what the longest lesson the form allows takes (its
/// limits below, every character escaped), so only a file made elsewhere reaches it.
pub const MAX_FILE_BYTES: u64 = 1 << 20;
/// Longest title, in characters.
const MAX_TITLE_CHARS: usize = 200;
/// Longest audience or notes, in characters.
const MAX_NOTES_CHARS: usize = 4000;
/// Longest note of one material, in characters.
const MAX_ITEM_NOTE_CHARS: usize = 2000;
/// Longest material id or author name, in characters (a form never makes them longer).
const MAX_NAME_CHARS: usize = 500;
/// Letters of a new code: no 0/o, 1/l/i, so it can be read off a wall and typed.
const CODE_ALPHABET: &[u8] = b"23456789abcdefghjkmnpqrstuvwxyz";
/// Length of a new code (31^5 ≈ 28 million).
const CODE_LEN: usize = 5;

/// Errors of lesson storage.
#[derive(Debug, thiserror::Error)]
pub enum LessonError {
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A lesson file is damaged.
    #[error("lesson {code}: {message}")]
    Damaged {
        /// The lesson's code.
        code: String,
        /// What is wrong.
        message: String,
    },
    /// The lesson cannot be saved as it is.
    #[error("{0}")]
    Invalid(String),
}

/// One material in a lesson, with what the teacher wants said about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    /// Material id.
    pub material: String,
    /// The teacher's note for this material.
    #[serde(default)]
    pub note: String,
}

/// A lesson.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lesson {
    /// Short code: its URL is `/l/{code}`.
    pub code: String,
    /// Title.
    pub title: String,
    /// Field.
    pub category: Category,
    /// Who it is for ("Hội phụ nữ thôn Nà Phặc").
    #[serde(default)]
    pub audience: String,
    /// Day it is given, `YYYY-MM-DD`, if set.
    #[serde(default)]
    pub date: String,
    /// Free notes shown above the materials.
    #[serde(default)]
    pub notes: String,
    /// Shown to visitors (drafts are not).
    #[serde(default)]
    pub published: bool,
    /// Account that created it.
    #[serde(default)]
    pub author: String,
    /// The materials, in teaching order.
    #[serde(default, rename = "item")]
    pub items: Vec<Item>,
}

impl Lesson {
    /// Checks what a form may get wrong: the same rules hold for every lesson read, whatever
    /// brought it (a package, a restored backup, a hand edit), so none can be larger than the
    /// form allows.
    pub fn validate(&self) -> Result<(), LessonError> {
        let bad = |m: &str| Err(LessonError::Invalid(m.to_string()));
        if !valid_code(&self.code) {
            return bad("mã bài học không hợp lệ");
        }
        if self.title.trim().is_empty() || self.title.chars().count() > MAX_TITLE_CHARS {
            return bad("tên bài học phải có từ 1 đến 200 ký tự");
        }
        if self.items.len() > MAX_ITEMS {
            return bad("một bài học có nhiều nhất 40 tài liệu");
        }
        if !self.date.is_empty() && crate::clock::parse_date(&self.date).is_none() {
            return bad("ngày phải có dạng năm-tháng-ngày");
        }
        let long = [&self.audience, &self.notes]
            .iter()
            .any(|t| t.chars().count() > MAX_NOTES_CHARS)
            || self
                .items
                .iter()
                .any(|i| i.note.chars().count() > MAX_ITEM_NOTE_CHARS);
        if long {
            return bad("ghi chú quá dài");
        }
        let long_name = self.author.chars().count() > MAX_NAME_CHARS
            || self
                .items
                .iter()
                .any(|i| i.material.chars().count() > MAX_NAME_CHARS);
        if long_name {
            return bad("tên tài liệu hoặc tên người soạn quá dài");
        }
        Ok(())
    }

    /// Its public page.
    pub fn url(&self) -> String {
        format!("/l/{}", self.code)
    }

    /// The code as people read and write it: in capitals (teachers write codes on the board
    /// that way), which opens the lesson too, since codes are read without regard to case.
    pub fn display_code(&self) -> String {
        self.code.to_ascii_uppercase()
    }
}

/// Whether a string can be a lesson code (and so a file name).
pub fn valid_code(code: &str) -> bool {
    (4..=16).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// The lessons folder, with the lessons kept in memory once read: the search page looks
/// through them on every search, sharing the one list rather than copying it.
#[derive(Debug, Clone)]
pub struct LessonStore {
    dir: PathBuf,
    cache: Arc<std::sync::RwLock<Option<Arc<[Lesson]>>>>,
}

impl LessonStore {
    /// Opens (creating if needed) `DATA/lessons`.
    pub fn open(data_dir: &Path) -> std::io::Result<LessonStore> {
        let store = LessonStore::at(crate::data_dir::DataDir::new(data_dir).lessons());
        std::fs::create_dir_all(&store.dir)?;
        Ok(store)
    }

    /// The lessons in `dir`, which need not exist yet (no lessons until it does; a read-only
    /// disk still shows the lessons it holds).
    pub fn at(dir: PathBuf) -> LessonStore {
        LessonStore {
            dir,
            cache: Default::default(),
        }
    }

    /// Forgets the lessons kept in memory (after files were changed behind the store's back,
    /// e.g. edited by hand in the folder).
    pub fn invalidate(&self) {
        *self
            .cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of lesson `code`; `None` when `code` cannot be a lesson code.
    pub fn path(&self, code: &str) -> Option<PathBuf> {
        valid_code(code).then(|| self.dir.join(format!("{code}.toml")))
    }

    /// A lesson by code, in capitals or not (`QY6JN` is `qy6jn`); `None` when there is none.
    pub fn get(&self, code: &str) -> Result<Option<Lesson>, LessonError> {
        let code = &code.to_ascii_lowercase();
        let Some(path) = self.path(code) else {
            return Ok(None);
        };
        let file = match std::fs::File::open(&path) {
            Ok(f) => f,
            Err(e) if absent(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        // Never more than the limit is read, whatever the file's size says or becomes.
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
        parse(code, &bytes).map(Some)
    }

    /// Every readable lesson, newest date first; damaged files are logged and skipped. The
    /// list is shared, not copied: searches read it on every request.
    pub fn list(&self) -> Result<Arc<[Lesson]>, LessonError> {
        if let Some(cached) = self
            .cache
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            return Ok(Arc::clone(cached));
        }
        let out: Arc<[Lesson]> = self.read_all()?.into();
        *self
            .cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::clone(&out));
        Ok(out)
    }

    fn read_all(&self) -> Result<Vec<Lesson>, LessonError> {
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if absent(&e) => return Ok(out),
            Err(e) => return Err(e.into()),
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(code) = name.to_str().and_then(|n| n.strip_suffix(".toml")) else {
                continue;
            };
            match self.get(code) {
                Ok(Some(l)) => out.push(l),
                Ok(None) => {}
                Err(e) => tracing::warn!(error = %e, "lesson skipped"),
            }
        }
        out.sort_by(|a, b| b.date.cmp(&a.date).then_with(|| a.title.cmp(&b.title)));
        Ok(out)
    }

    /// Saves a lesson (validated) atomically.
    pub fn save(&self, lesson: &Lesson) -> Result<(), LessonError> {
        lesson.validate()?;
        let Some(path) = self.path(&lesson.code) else {
            return Err(LessonError::Invalid("mã bài học không hợp lệ".into()));
        };
        let text = toml::to_string(lesson).map_err(|e| LessonError::Invalid(e.to_string()))?;
        fsutil::write_atomic(&path, text.as_bytes())?;
        self.invalidate();
        Ok(())
    }

    /// Moves a finished lesson file (written and synced elsewhere on the same disk, such as a
    /// package's staging folder) into place as lesson `code`.
    pub fn put_file(&self, code: &str, file: &Path) -> Result<(), LessonError> {
        let Some(path) = self.path(code) else {
            return Err(LessonError::Invalid("mã bài học không hợp lệ".into()));
        };
        fsutil::rename_durably(file, &path)?;
        self.invalidate();
        Ok(())
    }

    /// Deletes a lesson.
    pub fn delete(&self, code: &str) -> Result<(), LessonError> {
        if let Some(path) = self.path(code) {
            match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => fsutil::sync_dir(&self.dir)?,
            }
        }
        self.invalidate();
        Ok(())
    }

    /// A code no lesson has yet.
    pub fn new_code(&self) -> Result<String, LessonError> {
        loop {
            let mut bytes = [0u8; CODE_LEN];
            getrandom::fill(&mut bytes).map_err(|e| std::io::Error::other(e.to_string()))?;
            let code: String = bytes
                .iter()
                .map(|b| CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char)
                .collect();
            if self.path(&code).is_some_and(|p| !p.exists()) {
                return Ok(code);
            }
        }
    }
}

/// A lesson from its file's bytes, held to the same rules as a lesson saved from the form.
pub fn parse(code: &str, bytes: &[u8]) -> Result<Lesson, LessonError> {
    let damaged = |message: String| LessonError::Damaged {
        code: code.to_string(),
        message,
    };
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(damaged(format!(
            "the file is larger than {} KiB",
            MAX_FILE_BYTES >> 10
        )));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| damaged("not UTF-8 text".into()))?;
    let lesson: Lesson = toml::from_str(text).map_err(|e| damaged(e.to_string()))?;
    if lesson.code != code {
        return Err(damaged(format!(
            "the file says its code is {}",
            lesson.code
        )));
    }
    match lesson.validate() {
        Err(LessonError::Invalid(why)) => Err(damaged(why)),
        other => other.map(|()| lesson),
    }
}

/// Whether every syllable of the query occurs (folded) in the lesson's title, audience or
/// notes: lessons are few, so a direct check is enough.
pub fn matches(lesson: &Lesson, query: &str) -> bool {
    use crate::search::analyzer::words;
    let wanted: Vec<String> = words(query).into_iter().map(|w| w.folded).collect();
    if wanted.is_empty() {
        return false;
    }
    let text = format!("{} {} {}", lesson.title, lesson.audience, lesson.notes);
    let have: std::collections::HashSet<String> =
        words(&text).into_iter().map(|w| w.folded).collect();
    wanted.iter().all(|w| have.contains(w))
}

/// Whether a read failed only because there is nothing there: no such file, or a data folder
/// that could not be created (a path under a regular file).
fn absent(e: &std::io::Error) -> bool {
    matches!(
        e.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lesson(code: &str) -> Lesson {
        Lesson {
            code: code.into(),
            title: "Chăm sóc lúa vụ xuân".into(),
            category: Category::Agriculture,
            audience: "Hội nông dân thôn Nà Phặc".into(),
            date: "2026-12-05".into(),
            notes: "Mang theo sổ ghi chép.".into(),
            published: true,
            author: "co-lan".into(),
            items: vec![
                Item {
                    material: "agriculture/lua".into(),
                    note: "Đọc phần bón phân".into(),
                },
                Item {
                    material: "agriculture/chuot".into(),
                    note: String::new(),
                },
            ],
        }
    }

    #[test]
    fn round_trips_through_its_file() {
        let d = tempfile::tempdir().unwrap();
        let store = LessonStore::open(d.path()).unwrap();
        let code = store.new_code().unwrap();
        assert_eq!(code.len(), CODE_LEN);
        let l = lesson(&code);
        store.save(&l).unwrap();
        assert_eq!(store.get(&code).unwrap(), Some(l.clone()));
        // Codes are read without regard to case.
        assert_eq!(l.display_code(), code.to_ascii_uppercase());
        assert_eq!(store.get(&l.display_code()).unwrap(), Some(l.clone()));
        assert_eq!(*store.list().unwrap(), [l]);
        store.delete(&code).unwrap();
        assert_eq!(store.get(&code).unwrap(), None);
    }

    #[test]
    fn refuses_bad_lessons_and_skips_damaged_files() {
        let d = tempfile::tempdir().unwrap();
        let store = LessonStore::open(d.path()).unwrap();
        let mut l = lesson("abcd");
        l.title = "  ".into();
        assert!(matches!(store.save(&l), Err(LessonError::Invalid(_))));
        let mut l = lesson("abcd");
        l.date = "5/12/2026".into();
        assert!(store.save(&l).is_err());
        assert!(store.save(&lesson("../x")).is_err());
        assert_eq!(store.get("../../etc/passwd").unwrap(), None);
        std::fs::write(store.dir().join("hong.toml"), "title = [").unwrap();
        store.save(&lesson("tot1")).unwrap();
        let codes: Vec<_> = store
            .list()
            .unwrap()
            .iter()
            .map(|l| l.code.clone())
            .collect();
        assert_eq!(codes, ["tot1"]);
    }

    #[test]
    fn matches_queries_with_or_without_marks() {
        let l = lesson("abcd");
        assert!(matches(&l, "lúa vụ xuân"));
        assert!(matches(&l, "lua vu xuan"));
        assert!(matches(&l, "na phac"));
        assert!(!matches(&l, "lúa nương"));
        assert!(!matches(&l, "  "));
    }
}
