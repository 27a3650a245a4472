//! The library catalogue: which materials and attachments exist, and what is wrong with the rest.
//!
//! Loading reads every file once, parses front matter, works out each material's attachments
//! and collects problems instead of failing, so one broken file never hides the others. The
//! catalogue keeps metadata only; bodies are read again when a page is shown.

pub mod ascii;
mod category;
pub mod centre;
mod library;
pub mod manifest;
pub mod markdown;
pub mod material;
pub mod media;
pub mod old_encodings;
pub mod path;
pub mod picture;
mod sort;
pub mod source;

use std::fmt;

use serde::Serialize;

pub use category::{Category, UnknownCategory};
pub use library::{Library, encode_path, library_url};
pub use markdown::Link;
pub use material::{DocumentInfo, MaterialError, Parsed};
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
    /// What a reader calls it: the link text or alt text the material gives it, else its file
    /// name tidied.
    #[serde(skip)]
    pub label: String,
    /// Shown as a picture in the material's body, so its list does not repeat it.
    #[serde(skip)]
    pub in_body: bool,
    /// Smaller copies of a picture, narrowest first.
    #[serde(skip)]
    pub copies: Vec<PictureCopy>,
}

/// The heaviest picture without copies that a list still shows as a thumbnail.
const THUMB_MAX_BYTES: u64 = 100 * 1024;

/// A smaller copy of a picture attachment (see [`picture`]), as served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PictureCopy {
    /// Path relative to the library root.
    pub rel: String,
    /// URL where it is served.
    pub url: String,
    /// Width in pixels, upright.
    pub width: u32,
    /// Height in pixels, upright.
    pub height: u32,
    /// Size in bytes.
    pub bytes: u64,
}

impl Attachment {
    /// What opening it does, in the words of the list: "Nghe", "Xem video", "Xem ảnh",
    /// "Tải PDF về máy", else "Tải về máy".
    pub fn verb(&self) -> &'static str {
        match self.kind() {
            "audio" => "Nghe",
            "video" => "Xem video",
            "image" => "Xem ảnh",
            _ if self.content_type == "application/pdf" => "Tải PDF về máy",
            _ => "Tải về máy",
        }
    }

    /// What a page links to for looking at it: a picture's largest copy, else the file.
    pub fn view_url(&self) -> &str {
        self.copies.last().map_or(&self.url, |c| &c.url)
    }

    /// The picture a list shows small: its narrowest copy, or a light original (an SVG, a
    /// small picture) as it is; never a heavy original.
    pub fn thumb_url(&self) -> Option<&str> {
        match self.copies.first() {
            Some(c) => Some(&c.url),
            None if self.kind() == "image" && self.bytes <= THUMB_MAX_BYTES => Some(&self.url),
            None => None,
        }
    }

    /// The size of what [`view_url`](Self::view_url) sends.
    pub fn view_bytes(&self) -> u64 {
        self.copies.last().map_or(self.bytes, |c| c.bytes)
    }

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
    /// The document its text was read from, for a material made from one.
    pub document: Option<Box<material::DocumentInfo>>,
    /// Attachments, sorted by name.
    pub attachments: Vec<Attachment>,
    /// The `.md` file.
    pub file: SourceFile,
    /// SHA-256 of the `.md` file, hex: its version.
    pub sha256: String,
}

impl Material {
    /// The attachments its page lists: all but the pictures the body already shows.
    pub fn listed_attachments(&self) -> impl Iterator<Item = &Attachment> {
        self.attachments
            .iter()
            .filter(|a| !(a.in_body && a.kind() == "image"))
    }

    /// The file its text was read from, for a material made from a document.
    pub fn original(&self) -> Option<&Attachment> {
        let d = self.document.as_ref()?;
        self.attachments.iter().find(|a| a.name == d.file)
    }

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

/// Sizes as a reader says them: "2,4 MB", "36 KB", "512 byte".
pub fn human_size(bytes: u64) -> String {
    let b = bytes as f64;
    let s = if b < 1024.0 {
        format!("{bytes} byte")
    } else if b < 1024.0 * 1024.0 {
        format!("{:.0} KB", b / 1024.0)
    } else {
        format!("{:.1} MB", b / 1024.0 / 1024.0)
    };
    s.replace('.', ",")
}

/// Bytes as lower-case hex (digests in manifests and fingerprints).
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes that hex digits stand for; `None` for an odd length or anything but hex digits.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::library::{join, tidy_name};
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
    fn file_names_are_tidied_for_readers() {
        let title = "Trồng lúa vụ xuân";
        assert_eq!(tidy_name("lua-bai_giang.mp3", "lua", title), "Bai giang");
        assert_eq!(tidy_name("lua.pdf", "lua", title), title);
        assert_eq!(tidy_name("so-tay.pdf", "lua", title), "So tay");
        assert_eq!(tidy_name("đất-tốt.pdf", "lua", title), "Đất tốt");
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(512), "512 byte");
        assert_eq!(human_size(36 * 1024), "36 KB");
        assert_eq!(human_size(3_984_588), "3,8 MB");
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
