//! PDF text, page by page, with `pdf-extract` (fonts, encodings and ToUnicode maps, on
//! `lopdf`). Characters arrive with their position and size; lines that follow each other
//! make a paragraph, a blank gap or a change of size starts a new one, and a short paragraph
//! set larger than the body is a heading.

use std::panic::{AssertUnwindSafe, catch_unwind};

use pdf_extract::{MediaBox, Object, OutputDev, OutputError, Transform};

use super::ocr::{Ocr, picture_file};
use super::{Block, DocError, Document, Kind, MAX_TEXT_BYTES};

/// Most pages read; a longer PDF is read up to here and said to be cut.
pub const MAX_PAGES: u32 = 2000;

/// One paragraph as it was set: its text and its largest font size.
#[derive(Debug, Default)]
struct Para {
    text: String,
    size: f64,
}

/// The characters of one page, gathered into paragraphs.
#[derive(Default)]
struct Page {
    paras: Vec<Para>,
    current: Para,
    last_end: f64,
    last_y: f64,
    last_size: f64,
    word_start: bool,
    chars: usize,
}

impl Page {
    fn break_paragraph(&mut self) {
        let p = std::mem::take(&mut self.current);
        if !p.text.trim().is_empty() {
            self.paras.push(p);
        }
    }
}

impl OutputDev for Page {
    fn begin_page(
        &mut self,
        _: u32,
        _: &MediaBox,
        _: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_page(&mut self) -> Result<(), OutputError> {
        self.break_paragraph();
        Ok(())
    }
    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        ch: &str,
    ) -> Result<(), OutputError> {
        // The size as set on the page: the font size through the text matrix.
        let (sx, sy) = (
            font_size * (trm.m11 + trm.m21),
            font_size * (trm.m12 + trm.m22),
        );
        let size = (sx * sy).abs().sqrt();
        let (x, y) = (trm.m31, trm.m32);
        if self.chars > 0 && self.word_start {
            let dy = (y - self.last_y).abs();
            let resized = (size - self.last_size).abs() > 0.15 * self.last_size.max(size);
            if dy > size * 1.5 || (dy > size * 0.5 && resized) {
                self.break_paragraph();
            } else if (x < self.last_end && dy > size * 0.5) || x > self.last_end + size * 0.1 {
                // A new line of the same paragraph, or a gap between words.
                self.current.text.push(' ');
            }
        }
        self.current.text.push_str(ch);
        if size > self.current.size {
            self.current.size = size;
        }
        self.word_start = false;
        self.chars += 1;
        self.last_y = y;
        self.last_size = size;
        self.last_end = x + width * size;
        Ok(())
    }
    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.word_start = true;
        Ok(())
    }
    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}

fn damaged(e: impl std::fmt::Display) -> DocError {
    DocError::Damaged(e.to_string())
}

/// Reads a PDF's text; scanned pages too when `ocr` is given. A page the parser cannot follow
/// is skipped (its text is lost, the rest is kept); a document none of whose pages can be read
/// is damaged.
pub fn read(bytes: &[u8], ocr: Option<&Ocr>) -> Result<Document, DocError> {
    let doc = pdf_extract::Document::load_mem(bytes).map_err(damaged)?;
    // Many PDFs are "encrypted" only to forbid copying, with an empty password: loading
    // decrypts those. The others need a password nobody here has.
    if doc.is_encrypted() && doc.encryption_state.is_none() {
        return Err(DocError::Encrypted);
    }
    let title = info_title(&doc);
    let page_ids = doc.get_pages();
    let mut pages: Vec<(u32, Vec<Para>)> = Vec::new();
    let (mut picture_pages, mut machine_read, mut failed) = (Vec::new(), Vec::new(), 0u32);
    let mut truncated_after = None;
    let mut bytes_read = 0usize;
    for (&n, &id) in &page_ids {
        if n > MAX_PAGES || bytes_read > MAX_TEXT_BYTES {
            truncated_after = Some(n - 1);
            break;
        }
        let mut page = Page::default();
        // pdf-extract unwraps on some malformed pages; one such page must not lose the rest.
        let ok = catch_unwind(AssertUnwindSafe(|| {
            pdf_extract::output_doc_page(&doc, &mut page, n)
        }));
        if !matches!(ok, Ok(Ok(()))) {
            failed += 1;
        }
        let letters: usize = page
            .paras
            .iter()
            .map(|p| p.text.chars().filter(|c| c.is_alphanumeric()).count())
            .sum();
        if letters < 3 && has_pictures(&doc, id) {
            picture_pages.push(n);
            page.paras.clear();
            if let Some(text) = ocr.and_then(|o| read_scanned(&doc, id, o)) {
                machine_read.push(n);
                page.paras = paragraphs_of(&text);
            }
        }
        bytes_read += page.paras.iter().map(|p| p.text.len()).sum::<usize>();
        pages.push((n, page.paras));
    }
    if failed > 0 && failed as usize == pages.len() {
        return Err(DocError::Damaged("không trang nào đọc được".into()));
    }
    let body_size = body_size(&pages);
    let mut blocks = Vec::new();
    for (n, paras) in pages {
        blocks.push(Block::Page(n));
        for p in paras {
            let short = p.text.chars().count() <= 150;
            blocks.push(if short && body_size > 0.0 && p.size >= body_size * 1.15 {
                Block::Heading(if p.size >= body_size * 1.6 { 1 } else { 2 }, p.text)
            } else {
                Block::Paragraph(p.text)
            });
        }
    }
    Ok(Document {
        kind: Kind::Pdf,
        title,
        blocks,
        pages: page_ids.len() as u32,
        picture_pages,
        machine_read,
        pictures: Vec::new(),
        converted_from: None,
        truncated_after,
    })
}

/// The text Tesseract reads from a scanned page's largest picture, if any.
fn read_scanned(
    doc: &pdf_extract::Document,
    page: pdf_extract::ObjectId,
    ocr: &Ocr,
) -> Option<String> {
    let images = doc.get_page_images(page).ok()?;
    let largest = images
        .iter()
        .max_by_key(|i| i.width.saturating_mul(i.height))?;
    let stream = doc
        .get_object(largest.id)
        .ok()
        .and_then(|o| o.as_stream().ok());
    let (file, ext) = picture_file(largest, stream)?;
    let text = ocr.read(&file, ext)?;
    (text.chars().filter(|c| c.is_alphabetic()).count() >= 3).then_some(text)
}

/// Tesseract's text as paragraphs: blank lines part them, lines within one are joined.
fn paragraphs_of(text: &str) -> Vec<Para> {
    text.split("\n\n")
        .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|p| !p.is_empty())
        .map(|text| Para { text, size: 0.0 })
        .collect()
}

/// The font size most of the text is set in (by characters), rounded to a half point.
fn body_size(pages: &[(u32, Vec<Para>)]) -> f64 {
    let mut by_size: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for p in pages.iter().flat_map(|(_, ps)| ps) {
        *by_size.entry((p.size * 2.0).round() as i64).or_default() += p.text.chars().count();
    }
    by_size
        .into_iter()
        .max_by_key(|&(s, n)| (n, -s))
        .map_or(0.0, |(s, _)| s as f64 / 2.0)
}

/// Whether a page draws any picture (an image XObject in its resources).
fn has_pictures(doc: &pdf_extract::Document, page: pdf_extract::ObjectId) -> bool {
    doc.get_page_images(page).is_ok_and(|v| !v.is_empty())
        || doc.get_page_resources(page).is_ok_and(|(res, ids)| {
            let dicts = res
                .into_iter()
                .chain(ids.iter().filter_map(|id| doc.get_dictionary(*id).ok()));
            dicts.into_iter().any(|d| {
                let Ok(xobjects) = d.get(b"XObject").and_then(|o| deref_dict(doc, o)) else {
                    return false;
                };
                xobjects.iter().any(|(_, o)| {
                    let stream = match o {
                        Object::Reference(id) => doc.get_object(*id).ok(),
                        o => Some(o),
                    };
                    stream.and_then(|s| s.as_stream().ok()).is_some_and(|s| {
                        s.dict
                            .get(b"Subtype")
                            .and_then(|t| t.as_name())
                            .is_ok_and(|n| n == b"Image")
                    })
                })
            })
        })
}

fn deref_dict<'a>(
    doc: &'a pdf_extract::Document,
    o: &'a Object,
) -> Result<&'a pdf_extract::Dictionary, pdf_extract::Error> {
    match o {
        Object::Reference(id) => doc.get_dictionary(*id),
        o => o.as_dict(),
    }
}

/// The Info dictionary's Title, decoded (UTF-16 with its mark, else PDFDocEncoding, which
/// for letters is Latin-1).
fn info_title(doc: &pdf_extract::Document) -> Option<String> {
    let info = doc.trailer.get(b"Info").ok()?;
    let info = deref_dict(doc, info).ok()?;
    let raw = match info.get(b"Title").ok()? {
        Object::String(s, _) => s.clone(),
        Object::Reference(id) => match doc.get_object(*id).ok()? {
            Object::String(s, _) => s.clone(),
            _ => return None,
        },
        _ => return None,
    };
    let text = if let Some(be) = raw.strip_prefix(&[0xfe, 0xff]) {
        let units: Vec<u16> = be
            .chunks_exact(2)
            .map(|c| u16::from_be_bytes([c[0], c[1]]))
            .collect();
        String::from_utf16_lossy(&units)
    } else if let Ok(s) = std::str::from_utf8(&raw) {
        s.to_string()
    } else {
        raw.iter().map(|&b| char::from(b)).collect()
    };
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}
