//! One material file: TOML front matter between `+++` lines, then a Markdown body.
//!
//! Parsing never panics; every way a file can be wrong becomes a [`MaterialError`] that says
//! which line and what, so an author can fix it.

use serde::Deserialize;

use super::Category;
use super::old_encodings::{self, OldEncoding};

/// Largest material file (front matter and text) the library reads: what the editor's form
/// can save (its whole body is at most this), so a file from a package, a backup or the folder
/// cannot be larger than one a teacher could write. Longer documents travel as PDF attachments.
pub const MAX_BYTES: u64 = 2 << 20;

/// What is wrong with a material file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaterialError {
    /// The bytes are not UTF-8.
    #[error("line {line}: text is not valid UTF-8 (save the file as UTF-8)")]
    InvalidUtf8 {
        /// Line of the first invalid byte.
        line: usize,
    },
    /// The file does not start with a `+++` line.
    #[error("line 1: the file must start with a line containing only +++")]
    NoFrontMatter,
    /// The front matter is never closed.
    #[error("line {line}: front matter opened here is never closed with a +++ line")]
    UnclosedFrontMatter {
        /// Line of the opening `+++`.
        line: usize,
    },
    /// The front matter is not valid TOML or lacks a required key.
    #[error("line {line}: {message}")]
    Toml {
        /// Line in the file.
        line: usize,
        /// The TOML parser's message, first line only.
        message: String,
    },
    /// The category is not one of the four fields.
    #[error(
        "line {line}: unknown category \"{value}\" (use agriculture, health, law or life-skills)"
    )]
    UnknownCategory {
        /// Line of the `category` key.
        line: usize,
        /// What was written.
        value: String,
    },
    /// A required value is empty.
    #[error("line {line}: {key} must not be empty")]
    Empty {
        /// Line of the key.
        line: usize,
        /// The key.
        key: &'static str,
    },
}

impl MaterialError {
    /// The line the problem is on.
    pub fn line(&self) -> usize {
        match self {
            MaterialError::NoFrontMatter => 1,
            MaterialError::InvalidUtf8 { line }
            | MaterialError::UnclosedFrontMatter { line }
            | MaterialError::Toml { line, .. }
            | MaterialError::UnknownCategory { line, .. }
            | MaterialError::Empty { line, .. } => *line,
        }
    }
}

/// The front matter as written.
/// Unknown keys are ignored so that files written for a newer version still load.
#[derive(Debug, Deserialize)]
struct FrontMatter {
    title: String,
    category: String,
    #[serde(default = "default_language")]
    language: String,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    updated: Option<toml::value::Datetime>,
    #[serde(default)]
    featured: bool,
    #[serde(default)]
    document: Option<DocumentInfo>,
}

/// A material made from a document (PDF, Word, LibreOffice): which file beside it its text
/// was read from, and what reading it found. Written by `documents::material`.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, Deserialize)]
pub struct DocumentInfo {
    /// The original's file name, in the material's folder.
    pub file: String,
    /// SHA-256 of the original as read, hex: when the file changes, it is read again.
    pub sha256: String,
    /// Its pages (PDF), 0 when unknown.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pages: u32,
    /// Pages that are pictures only (scanned), not read as text.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub picture_pages: Vec<u32>,
    /// Those of them read by Tesseract (machine-read, may hold mistakes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machine_read: Vec<u32>,
    /// The old encoding its text was typed in ("TCVN3", "VNI"), converted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converted_from: Option<String>,
    /// Reading stopped after this page: the rest is only in the original.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub truncated_after: Option<u32>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl DocumentInfo {
    /// Scanned pages whose text nobody has read yet (no Tesseract on the box, or it failed).
    pub fn unread_scans(&self) -> Vec<u32> {
        self.picture_pages
            .iter()
            .copied()
            .filter(|p| !self.machine_read.contains(p))
            .collect()
    }

    /// Whether page numbers mean anything (the original is a PDF).
    pub fn is_pdf(&self) -> bool {
        self.file.to_ascii_lowercase().ends_with(".pdf")
    }
}

fn default_language() -> String {
    "vi".to_string()
}

/// A parsed material file (metadata and Markdown body).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
pub struct Parsed {
    /// Title.
    pub title: String,
    /// Field.
    pub category: Category,
    /// BCP 47 language tag.
    pub language: String,
    /// Tags, trimmed, empty ones dropped.
    pub tags: Vec<String>,
    /// Summary, possibly empty.
    pub summary: String,
    /// Date the facts were last checked, `YYYY-MM-DD`.
    pub updated: Option<String>,
    /// Shown first on the home and field pages ("nên đọc").
    pub featured: bool,
    /// Markdown body (not kept in the library's manifest).
    #[serde(skip)]
    pub body: String,
    /// The file was typed in an old Vietnamese encoding, read as Unicode.
    pub converted_from: Option<OldEncoding>,
    /// The document the text was read from, for a material made from one.
    pub document: Option<DocumentInfo>,
}

/// Parses a material file's bytes. A file typed in TCVN3 or VNI (bytes that are not UTF-8, or
/// UTF-8 that spells those encodings' codes) is read as the Unicode it means.
pub fn parse(bytes: &[u8]) -> Result<Parsed, MaterialError> {
    let converted;
    let (text, converted_from) = match std::str::from_utf8(bytes) {
        // Judged on the body: the front matter is keys and a title, too few words to tell.
        Ok(t) => match old_encodings::detect_in_unicode(split(t).map_or(t, |(_, body, _)| body)) {
            // VIQR is left alone in UTF-8: Markdown is full of ASCII punctuation after letters.
            Some(e @ (OldEncoding::Tcvn3 | OldEncoding::Vni)) => {
                converted = old_encodings::convert(t, e);
                (converted.as_str(), Some(e))
            }
            _ => (t, None),
        },
        Err(e) => match old_encodings::decode(bytes) {
            (t, Some(from)) => {
                converted = t;
                (converted.as_str(), Some(from))
            }
            (_, None) => {
                return Err(MaterialError::InvalidUtf8 {
                    line: line_of(bytes, e.valid_up_to()),
                });
            }
        },
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let (front, body, front_start) = split(text)?;
    let fm: FrontMatter = toml::from_str(front).map_err(|e| MaterialError::Toml {
        line: front_start
            + e.span()
                .map(|s| line_of(front.as_bytes(), s.start) - 1)
                .unwrap_or(0),
        message: e.message().lines().next().unwrap_or("invalid TOML").into(),
    })?;
    let key_line = |key: &str| {
        front
            .lines()
            .position(|l| l.trim_start().starts_with(key))
            .map_or(front_start, |i| front_start + i)
    };
    let category = fm
        .category
        .parse::<Category>()
        .map_err(|_| MaterialError::UnknownCategory {
            line: key_line("category"),
            value: fm.category.clone(),
        })?;
    let title = fm.title.trim().to_string();
    if title.is_empty() {
        return Err(MaterialError::Empty {
            line: key_line("title"),
            key: "title",
        });
    }
    let updated = match fm.updated {
        None => None,
        Some(d) => match (d.date, d.time) {
            (Some(date), None) => Some(date.to_string()),
            _ => {
                return Err(MaterialError::Toml {
                    line: key_line("updated"),
                    message: "updated must be a date like 2026-11-29".into(),
                });
            }
        },
    };
    let language = match fm.language.trim() {
        "" => default_language(),
        l => l.to_string(),
    };
    Ok(Parsed {
        title,
        category,
        language,
        tags: fm
            .tags
            .into_iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        summary: fm.summary.trim().to_string(),
        updated,
        featured: fm.featured,
        body: body.to_string(),
        converted_from,
        document: fm.document,
    })
}

/// Splits into (front matter, body, line number of the first front-matter line).
fn split(text: &str) -> Result<(&str, &str, usize), MaterialError> {
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    if first.trim_end() != "+++" {
        return Err(MaterialError::NoFrontMatter);
    }
    let front_from = first.len();
    let mut pos = front_from;
    for line in lines {
        if line.trim_end() == "+++" {
            return Ok((&text[front_from..pos], &text[pos + line.len()..], 2));
        }
        pos += line.len();
    }
    Err(MaterialError::UnclosedFrontMatter { line: 1 })
}

/// Writes a material file: TOML front matter and the Markdown body, the format of `content/`.
/// The result is parsed back before it is returned, so nothing unreadable is ever saved.
pub fn write(p: &Parsed) -> Result<String, MaterialError> {
    /// The keys in the order the starter library writes them.
    #[derive(serde::Serialize)]
    struct Out<'a> {
        title: &'a str,
        category: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        language: Option<&'a str>,
        #[serde(skip_serializing_if = "<[String]>::is_empty")]
        tags: &'a [String],
        #[serde(skip_serializing_if = "str::is_empty")]
        summary: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        updated: Option<toml::value::Datetime>,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        featured: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        document: Option<&'a DocumentInfo>,
    }
    let updated = match &p.updated {
        Some(d) => Some(d.parse().map_err(|_| MaterialError::Toml {
            line: 1,
            message: "updated must be a date like 2026-11-29".into(),
        })?),
        None => None,
    };
    let language = p.language.clone();
    let t = Out {
        title: p.title.trim(),
        category: p.category.slug(),
        language: (language != default_language()).then_some(p.language.as_str()),
        tags: &p.tags,
        summary: p.summary.trim(),
        updated,
        featured: p.featured,
        document: p.document.as_ref(),
    };
    let front = toml::to_string(&t).map_err(|e| MaterialError::Toml {
        line: 1,
        message: e.to_string(),
    })?;
    let body = p.body.replace("\r\n", "\n");
    let text = format!("+++\n{front}+++\n{}\n", body.trim_end());
    parse(text.as_bytes())?;
    Ok(text)
}

/// 1-based line number of a byte offset.
fn line_of(bytes: &[u8], offset: usize) -> usize {
    1 + bytes[..offset.min(bytes.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "+++\ntitle = \"Trồng lúa\"\ncategory = \"agriculture\"\ntags = [\"lúa\", \" \"]\n+++\nThân bài.\n";

    #[test]
    fn written_files_read_back_the_same() {
        let p = Parsed {
            title: "Nuôi ong \"lấy\" mật".into(),
            category: crate::content::Category::Agriculture,
            language: default_language(),
            tags: vec!["ong".into(), "mật".into()],
            summary: "Đặt đõ ong.".into(),
            updated: Some("2026-11-29".into()),
            featured: true,
            body: "## Đặt đõ\r\n\r\n+++ không phải front matter\r\n".into(),
            converted_from: None,
            document: Some(DocumentInfo {
                file: "nuoi-ong.pdf".into(),
                sha256: "ab".repeat(32),
                pages: 20,
                picture_pages: vec![3, 4],
                machine_read: vec![4],
                converted_from: Some("TCVN3".into()),
                truncated_after: None,
            }),
        };
        let text = write(&p).unwrap();
        let back = parse(text.as_bytes()).unwrap();
        assert_eq!(back.title, p.title);
        assert_eq!(back.tags, p.tags);
        assert_eq!(back.updated.as_deref(), Some("2026-11-29"));
        assert!(back.featured);
        assert!(back.body.contains("+++ không phải front matter"));
        assert!(!text.contains('\r'));
        let bad = Parsed {
            updated: Some("hôm qua".into()),
            ..p
        };
        assert!(write(&bad).is_err());
    }

    #[test]
    fn parses_a_good_file() {
        let p = parse(GOOD.as_bytes()).unwrap();
        assert_eq!(p.title, "Trồng lúa");
        assert_eq!(p.category, Category::Agriculture);
        assert_eq!(p.language, "vi");
        assert_eq!(p.tags, ["lúa"]);
        assert_eq!(p.body, "Thân bài.\n");
        assert_eq!(p.updated, None);
        assert!(!p.featured);
    }

    #[test]
    fn optional_date_and_featured() {
        let t =
            "+++\ntitle = \"a\"\ncategory = \"law\"\nupdated = 2026-11-29\nfeatured = true\n+++\n";
        let p = parse(t.as_bytes()).unwrap();
        assert_eq!(p.updated.as_deref(), Some("2026-11-29"));
        assert!(p.featured);
        let bad = "+++\ntitle = \"a\"\ncategory = \"law\"\nupdated = \"hôm qua\"\n+++\n";
        assert!(matches!(
            parse(bad.as_bytes()),
            Err(MaterialError::Toml { line: 4, .. })
        ));
        let time = "+++\ntitle = \"a\"\ncategory = \"law\"\nupdated = 2026-11-29T10:00:00\n+++\n";
        assert!(matches!(
            parse(time.as_bytes()),
            Err(MaterialError::Toml { line: 4, .. })
        ));
    }

    #[test]
    fn crlf_and_bom_are_accepted() {
        let text = format!("\u{feff}{}", GOOD.replace('\n', "\r\n"));
        assert_eq!(parse(text.as_bytes()).unwrap().title, "Trồng lúa");
    }

    #[test]
    fn reports_lines() {
        let bad = "+++\ntitle = \"x\"\ncategory = \"cooking\"\n+++\n";
        assert_eq!(
            parse(bad.as_bytes()),
            Err(MaterialError::UnknownCategory {
                line: 3,
                value: "cooking".into()
            })
        );
        let broken = "+++\ntitle = \"x\"\ncategory = \"law\n+++\n";
        let e = parse(broken.as_bytes()).unwrap_err();
        assert!(matches!(e, MaterialError::Toml { line: 3, .. }), "{e:?}");
        let missing = "+++\ncategory = \"law\"\n+++\n";
        let e = parse(missing.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("title"), "{e}");
        assert_eq!(parse(b"no front matter"), Err(MaterialError::NoFrontMatter));
        assert_eq!(
            parse(b"+++\ntitle = 1\n"),
            Err(MaterialError::UnclosedFrontMatter { line: 1 })
        );
        assert_eq!(
            parse(b"+++\ntitle = \"a\"\n\xff\n+++\n"),
            Err(MaterialError::InvalidUtf8 { line: 3 })
        );
    }
}
