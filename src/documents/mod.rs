//! Documents a centre receives — PDF, Word (.docx) and LibreOffice (.odt) — read as text:
//! headings, paragraphs and PDF pages, in Unicode NFC even when typed in TCVN3 or VNI. The
//! text becomes a material ([`material`]); reading runs in a bounded worker ([`worker`]).

pub mod material;
pub mod ocr;
mod office;
mod pdf;
pub mod worker;

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::content::old_encodings::{self, OldEncoding};

/// The kinds of document read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// PDF.
    Pdf,
    /// Word 2007 and later (Office Open XML).
    Docx,
    /// LibreOffice / OpenDocument text.
    Odt,
}

impl Kind {
    /// The file extension, without the dot.
    pub fn ext(self) -> &'static str {
        match self {
            Kind::Pdf => "pdf",
            Kind::Docx => "docx",
            Kind::Odt => "odt",
        }
    }

    /// What staff call it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Pdf => "PDF",
            Kind::Docx => "Word",
            Kind::Odt => "LibreOffice",
        }
    }

    /// The kind a file name says, if it names one.
    pub fn from_name(name: &str) -> Option<Kind> {
        let (_, ext) = name.rsplit_once('.')?;
        match ext.to_ascii_lowercase().as_str() {
            "pdf" => Some(Kind::Pdf),
            "docx" => Some(Kind::Docx),
            "odt" => Some(Kind::Odt),
            _ => None,
        }
    }

    /// The kind the bytes are, by their content (never by a name): a PDF header, or a zip
    /// holding Word's main part or OpenDocument's text type.
    pub fn sniff(bytes: &[u8]) -> Option<Kind> {
        // Readers accept a PDF header anywhere in the first kilobyte.
        if bytes[..bytes.len().min(1024)]
            .windows(5)
            .any(|w| w == b"%PDF-")
        {
            return Some(Kind::Pdf);
        }
        if bytes.starts_with(b"PK\x03\x04") {
            return office::sniff(bytes);
        }
        None
    }
}

/// One piece of a document's text, in reading order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Block {
    /// A PDF page begins (numbered from 1).
    Page(u32),
    /// A heading, level 1 (largest) to 6.
    Heading(u8, String),
    /// A paragraph.
    Paragraph(String),
    /// A picture: its index in [`Document::pictures`].
    Picture(usize),
}

/// A picture a Word or LibreOffice document holds, small enough to show on a phone as it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Picture {
    /// Its file extension, from its bytes: jpg, png, gif or webp.
    pub ext: String,
    /// The file.
    pub bytes: Vec<u8>,
}

/// A document's text and what is known about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// What it is.
    pub kind: Kind,
    /// The title its metadata gives, when that is a real title.
    pub title: Option<String>,
    /// Its text.
    pub blocks: Vec<Block>,
    /// Pages (PDF only; 0 otherwise).
    pub pages: u32,
    /// PDF pages that hold pictures and no text: scanned pages.
    pub picture_pages: Vec<u32>,
    /// Those of them whose text was read by Tesseract (machine-read: it may hold mistakes).
    #[serde(default)]
    pub machine_read: Vec<u32>,
    /// Pictures kept for the reading view (Word and LibreOffice only, the cheap ones).
    #[serde(default)]
    pub pictures: Vec<Picture>,
    /// The text was typed in an old encoding, converted to Unicode.
    pub converted_from: Option<String>,
    /// Reading stopped after this page (PDF) because the text reached [`MAX_TEXT_BYTES`].
    pub truncated_after: Option<u32>,
}

/// Most text read from one document: what one material may hold, less room for its front
/// matter and headings.
pub const MAX_TEXT_BYTES: usize = (crate::content::material::MAX_BYTES as usize) - 64 * 1024;

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum DocError {
    /// Not a PDF, DOCX or ODT.
    #[error("không phải tệp PDF, Word (.docx) hay LibreOffice (.odt)")]
    NotADocument,
    /// Locked with a password.
    #[error("tệp có mật khẩu: hãy lưu lại bản không khóa rồi gửi lại")]
    Encrypted,
    /// Damaged or not what it claims to be.
    #[error("tệp hỏng, không đọc được ({0})")]
    Damaged(String),
    /// A part of it is larger than any real document's (a zip bomb, a huge stream).
    #[error("tệp quá lớn để đọc ({0})")]
    TooLarge(String),
    /// No text and no pictures: nothing to show.
    #[error("tệp không có chữ nào")]
    NoText,
    /// The worker reading it ran out of time or memory, or stopped.
    #[error("đọc tệp quá lâu hoặc quá tốn bộ nhớ, đã dừng ({0})")]
    Worker(String),
}

/// Reads a document's text. Runs the parsers in this process: the server calls it through
/// [`worker`], which bounds its time and memory.
pub fn read(bytes: &[u8]) -> Result<Document, DocError> {
    read_with(bytes, None)
}

/// [`read`], with scanned PDF pages read by `ocr`.
pub fn read_with(bytes: &[u8], ocr: Option<&ocr::Ocr>) -> Result<Document, DocError> {
    let kind = match Kind::sniff(bytes) {
        Some(k) => k,
        // A zip that does not open, or holds neither kind's parts: a damaged office file.
        None if bytes.starts_with(b"PK\x03\x04") => {
            return Err(DocError::Damaged(
                "không mở được như tệp Word hay LibreOffice".into(),
            ));
        }
        None => return Err(DocError::NotADocument),
    };
    let mut doc = match kind {
        Kind::Pdf => pdf::read(bytes, ocr)?,
        Kind::Docx => office::read_docx(bytes)?,
        Kind::Odt => office::read_odt(bytes)?,
    };
    tidy(&mut doc);
    let has_text = doc
        .blocks
        .iter()
        .any(|b| matches!(b, Block::Heading(..) | Block::Paragraph(_)));
    if !has_text && doc.picture_pages.is_empty() {
        return Err(DocError::NoText);
    }
    Ok(doc)
}

/// Converts text typed in an old encoding, puts everything in NFC with single spaces, and
/// drops empty blocks. Fonts mix within a document (headings in Unicode, the body in
/// .VnTime), so the encoding is found over the whole text and applied block by block.
fn tidy(doc: &mut Document) {
    let (mut tcvn, mut vni) = (0usize, 0usize);
    for b in &doc.blocks {
        if let Block::Heading(_, t) | Block::Paragraph(t) = b {
            match old_encodings::detect(t) {
                Some(OldEncoding::Tcvn3) => tcvn += 1,
                Some(OldEncoding::Vni) => vni += 1,
                _ => {}
            }
        }
    }
    // The encoding more blocks are in (VNI on a tie).
    let enc = match (tcvn, vni) {
        (0, 0) => None,
        (t, v) if t > v => Some(OldEncoding::Tcvn3),
        _ => Some(OldEncoding::Vni),
    };
    let fix = |t: &mut String| {
        if let Some(e) = enc
            && old_encodings::has_signs_of(t, e)
        {
            if e == OldEncoding::Tcvn3 {
                *t = old_encodings::tcvn3_soft_hyphens(t);
            }
            *t = old_encodings::convert(t, e);
        }
        *t = clean(t);
    };
    for b in &mut doc.blocks {
        if let Block::Heading(_, t) | Block::Paragraph(t) = b {
            fix(t);
        }
    }
    if let Some(t) = &mut doc.title {
        fix(t);
    }
    doc.title = doc.title.take().filter(|t| is_real_title(t));
    doc.blocks.retain(|b| match b {
        Block::Heading(_, t) | Block::Paragraph(t) => !t.is_empty(),
        Block::Page(_) | Block::Picture(_) => true,
    });
    doc.converted_from = enc.map(|e| e.name().to_string());
}

/// SHA-256 of a file, hex, read in pieces (an upload may be hundreds of MB): the version of
/// the original a material was read from.
pub fn sha256_of(path: &std::path::Path) -> std::io::Result<String> {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    std::io::copy(&mut std::fs::File::open(path)?, &mut hasher)?;
    Ok(crate::content::hex(&hasher.finalize()))
}

/// NFC, control characters dropped, runs of white space as one space.
pub(crate) fn clean(t: &str) -> String {
    let mut out = String::with_capacity(t.len());
    for c in t.nfc() {
        let c = if c.is_whitespace() { ' ' } else { c };
        // Soft hyphens, zero-width and private-use characters (symbol fonts) say nothing.
        if c.is_control()
            || matches!(c, '\u{ad}' | '\u{200b}'..='\u{200f}' | '\u{feff}' | '\u{e000}'..='\u{f8ff}')
        {
            continue;
        }
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out
}

/// A metadata title worth showing: not empty, not a file name or a program's placeholder.
fn is_real_title(t: &str) -> bool {
    let lower = t.to_lowercase();
    let placeholder = [
        "untitled",
        "microsoft word",
        "document",
        "tài liệu1",
        "doc1",
        "slide 1",
    ];
    t.chars().filter(|c| c.is_alphabetic()).count() >= 3
        && !placeholder.iter().any(|p| lower.starts_with(p))
        && Kind::from_name(&lower).is_none()
        && !lower.ends_with(".doc")
}

impl Document {
    /// The title staff see first: the metadata's, else the first heading, else the first
    /// words of the text; `None` when there is no text at all.
    pub fn best_title(&self) -> Option<String> {
        if let Some(t) = &self.title {
            return Some(t.clone());
        }
        let first_heading = self.blocks.iter().find_map(|b| match b {
            Block::Heading(_, t) if t.chars().count() <= 200 => Some(t.clone()),
            _ => None,
        });
        first_heading.or_else(|| {
            self.blocks.iter().find_map(|b| match b {
                Block::Paragraph(t) => Some(first_words(t, 12)),
                _ => None,
            })
        })
    }

    /// What staff should know about it: its old encoding, scanned pages, where reading stopped.
    pub fn notes(&self) -> Vec<String> {
        let doc = self;
        let mut out = Vec::new();
        if let Some(e) = &doc.converted_from {
            out.push(format!("chuyển từ mã {e}"));
        }
        if !doc.machine_read.is_empty() {
            out.push(format!(
                "{} trang ảnh quét do máy đọc (có thể có chữ sai): {}",
                doc.machine_read.len(),
                pages_list(&doc.machine_read)
            ));
        }
        let unread: Vec<u32> = doc
            .picture_pages
            .iter()
            .copied()
            .filter(|p| !doc.machine_read.contains(p))
            .collect();
        if !unread.is_empty() {
            out.push(format!(
                "{} trang là ảnh quét, chưa đọc được chữ ({})",
                unread.len(),
                pages_list(&unread)
            ));
        }
        if let Some(n) = doc.truncated_after {
            out.push(format!(
                "chỉ đọc đến trang {n}: phần sau chỉ có trong tệp gốc"
            ));
        }
        out
    }

    /// The whole text, blocks joined by blank lines (for checks and measurements).
    pub fn plain_text(&self) -> String {
        let mut out = String::new();
        for b in &self.blocks {
            if let Block::Heading(_, t) | Block::Paragraph(t) = b {
                if !out.is_empty() {
                    out.push_str("\n\n");
                }
                out.push_str(t);
            }
        }
        out
    }
}

/// The first `n` words of a text, with "…" when there were more.
fn first_words(t: &str, n: usize) -> String {
    let words: Vec<&str> = t.split_whitespace().collect();
    if words.len() <= n {
        return t.trim_end_matches(['.', ':', ';', ',']).to_string();
    }
    format!("{}…", words[..n].join(" "))
}

/// "trang 3, 4, 7" (the first ten).
fn pages_list(pages: &[u32]) -> String {
    let shown: Vec<String> = pages.iter().take(10).map(u32::to_string).collect();
    let more = if pages.len() > 10 { ", …" } else { "" };
    format!("trang {}{more}", shown.join(", "))
}
