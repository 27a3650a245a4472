//! The library catalogue: which materials and attachments exist, and what is wrong with the rest.
//!
//! Loading reads every file once, parses front matter, works out each material's attachments
//! and collects problems instead of failing, so one broken file never hides the others. The
//! catalogue keeps metadata only; bodies are read again when a page is shown.

mod category;
pub mod centre;
mod library;
pub mod markdown;
pub mod material;
pub mod path;
mod sort;
pub mod source;

use std::fmt;

use serde::Serialize;

pub use category::{Category, UnknownCategory};
pub use library::{Library, library_url};
pub use markdown::Link;
pub use material::{MaterialError, Parsed};
pub use sort::sort_key;
pub use source::{FileData, Source, SourceFile};

/// A file that belongs to a material: a recording, a leaflet, a picture.
#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    /// File name.
    pub name: String,
    /// Path relative to the library root.
    #[serde(skip)]
    pub rel: String,
    /// URL where it is served.
    pub url: String,
    /// MIME type.
    pub content_type: String,
    /// Size in bytes.
    pub bytes: u64,
}

impl Attachment {
    /// The broad kind of media, which decides how the page shows it.
    pub fn kind(&self) -> &'static str {
        match self.content_type.split('/').next() {
            Some("audio") => "audio",
            Some("video") => "video",
            Some("image") => "image",
            _ => "file",
        }
    }
}

/// A material in the catalogue (metadata only).
#[derive(Debug, Clone)]
pub struct Material {
    /// Path without `.md`, `/`-separated.
    pub id: String,
    /// Title.
    pub title: String,
    /// Field.
    pub category: Category,
    /// BCP 47 language tag.
    pub language: String,
    /// Tags.
    pub tags: Vec<String>,
    /// Summary, possibly empty.
    pub summary: String,
    /// Date the facts were last checked, `YYYY-MM-DD`.
    pub updated: Option<String>,
    /// Recommended reading, listed first.
    pub featured: bool,
    /// Attachments, sorted by name.
    pub attachments: Vec<Attachment>,
    /// The `.md` file.
    pub file: SourceFile,
    /// SHA-256 of the `.md` file, hex: its version.
    pub sha256: String,
}

impl Material {
    /// The page URL, `/m/{id}` with each segment percent-encoded.
    pub fn url(&self) -> String {
        library_url(&self.id)
    }

    /// The update date as Vietnamese readers write it (29/11/2026), if known.
    pub fn updated_vi(&self) -> Option<String> {
        let d = self.updated.as_deref()?;
        let mut parts = d.split('-');
        let (y, m, day) = (parts.next()?, parts.next()?, parts.next()?);
        Some(format!("{day}/{m}/{y}"))
    }

    /// The folder part of the id (`agriculture` for `agriculture/lua`), empty at the root.
    pub fn dir(&self) -> &str {
        self.id.rsplit_once('/').map_or("", |(d, _)| d)
    }
}

/// How bad a problem is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The file was skipped.
    Error,
    /// The file is served, but something in it should be fixed.
    Warning,
}

/// Something wrong with one file, reported to the author.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// Path relative to the library root.
    pub path: String,
    /// Line, when known.
    pub line: Option<usize>,
    /// Whether the file was skipped.
    pub severity: Severity,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error (skipped)",
            Severity::Warning => "warning",
        };
        match self.line {
            Some(l) => write!(f, "{}:{}: {sev}: {}", self.path, l, self.message),
            None => write!(f, "{}: {sev}: {}", self.path, self.message),
        }
    }
}

/// MIME type from the file name, as served.
pub fn content_type(name: &str) -> String {
    mime_guess::from_path(name)
        .first_or_octet_stream()
        .essence_str()
        .to_string()
}

/// Bytes as lower-case hex (digests in manifests and fingerprints).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::library::join;
    use super::*;

    #[test]
    fn categories_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.slug().parse::<Category>(), Ok(c));
        }
        assert!("cooking".parse::<Category>().is_err());
    }

    #[test]
    fn join_stays_inside() {
        assert_eq!(join("a/b", "c.svg").as_deref(), Some("a/b/c.svg"));
        assert_eq!(join("a/b", "../c.md").as_deref(), Some("a/c.md"));
        assert_eq!(join("a", "l%E1%BB%8Bch.svg").as_deref(), Some("a/lịch.svg"));
        assert_eq!(join("a", "../../etc/passwd"), None);
    }

    #[test]
    fn urls_are_encoded_per_segment() {
        assert_eq!(
            library_url("health/sốt rét"),
            "/m/health/s%E1%BB%91t%20r%C3%A9t"
        );
    }

    #[test]
    fn sort_key_orders_like_a_dictionary() {
        let mut v = vec![
            "Đất", "Bò", "Dê", "Ăn", "Ấm", "An", "Ơn", "Ông", "Ốm", "Bà", "Ba", "Bá",
        ];
        v.sort_by_key(|s| sort_key(s));
        assert_eq!(
            v,
            [
                "An", "Ăn", "Ấm", "Ba", "Bà", "Bá", "Bò", "Dê", "Đất", "Ốm", "Ông", "Ơn"
            ]
        );
    }
}
