//! Word (.docx) and OpenDocument (.odt) files: a zip of XML parts. Only the parts that hold
//! the text and the title are read, each within a size bound checked as it is inflated, so a
//! zip bomb is refused after a few megabytes, not after filling the memory.

use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use super::{Block, DocError, Document, Kind, Picture};

/// Largest inflated XML part read (a 500-page document's text is a few MB of XML).
const MAX_PART_BYTES: u64 = 64 << 20;

/// Most paragraphs read from one document.
const MAX_PARAGRAPHS: usize = 200_000;

/// A picture heavier than this is left in the original ("pictures kept where cheap").
const MAX_PICTURE_BYTES: u64 = 300 * 1024;

/// Most pictures kept from one document, and their bytes together (the worker's answer
/// carries them).
const MAX_PICTURES: usize = 30;
const MAX_PICTURES_BYTES: usize = 4 << 20;

type Zip<'a> = zip::ZipArchive<Cursor<&'a [u8]>>;

fn open(bytes: &[u8]) -> Result<Zip<'_>, DocError> {
    zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| DocError::Damaged(e.to_string()))
}

/// A DOCX or an ODT, by the parts the zip holds.
pub fn sniff(bytes: &[u8]) -> Option<Kind> {
    let mut zip = open(bytes).ok()?;
    if zip.index_for_name("word/document.xml").is_some() {
        return Some(Kind::Docx);
    }
    let mimetype = part(&mut zip, "mimetype").ok()??;
    (mimetype.trim_ascii() == b"application/vnd.oasis.opendocument.text").then_some(Kind::Odt)
}

/// One part, inflated within [`MAX_PART_BYTES`]; `None` when the zip lacks it.
fn part(zip: &mut Zip<'_>, name: &str) -> Result<Option<Vec<u8>>, DocError> {
    let mut file = match zip.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(zip::result::ZipError::UnsupportedArchive(m)) if m.contains("ncrypt") => {
            return Err(DocError::Encrypted);
        }
        Err(e) => return Err(DocError::Damaged(e.to_string())),
    };
    if file.encrypted() {
        return Err(DocError::Encrypted);
    }
    let too_large = || DocError::TooLarge(format!("{name} lớn hơn {} MB", MAX_PART_BYTES >> 20));
    // The declared size may lie; the bound holds for what is actually inflated.
    if file.size() > MAX_PART_BYTES {
        return Err(too_large());
    }
    let mut out = Vec::new();
    (&mut file)
        .take(MAX_PART_BYTES + 1)
        .read_to_end(&mut out)
        .map_err(|e| DocError::Damaged(format!("{name}: {e}")))?;
    if out.len() as u64 > MAX_PART_BYTES {
        return Err(too_large());
    }
    Ok(Some(out))
}

fn required(zip: &mut Zip<'_>, name: &str) -> Result<Vec<u8>, DocError> {
    part(zip, name)?.ok_or_else(|| DocError::Damaged(format!("thiếu phần {name}")))
}

fn xml_error(part: &str, e: impl std::fmt::Display) -> DocError {
    DocError::Damaged(format!("{part}: {e}"))
}

/// The local name of an element (`w:p` → `p`).
fn local(e: &BytesStart<'_>) -> Vec<u8> {
    e.local_name().as_ref().to_vec()
}

/// An attribute by its local name, unescaped.
fn attr(e: &BytesStart<'_>, name: &[u8]) -> Option<String> {
    e.attributes().flatten().find_map(|a| {
        (a.key.local_name().as_ref() == name)
            .then(|| a.unescape_value().ok().map(|v| v.into_owned()))
            .flatten()
    })
}

/// The text of the first `dc:title` in a metadata part (Word's core properties, ODT's meta).
fn dc_title(xml: &[u8]) -> Option<String> {
    let mut r = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut inside = false;
    let mut out = String::new();
    loop {
        match r.read_event_into(&mut buf).ok()? {
            Event::Start(e) if local(&e) == b"title" => inside = true,
            Event::End(e) if inside && e.local_name().as_ref() == b"title" => break,
            Event::Text(t) if inside => out.push_str(&t.decode().ok()?),
            Event::GeneralRef(r) if inside => out.push_str(&entity(&r)?),
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    let out = out.trim().to_string();
    (!out.is_empty()).then_some(out)
}

/// A character or predefined entity reference (`&amp;`, `&#7841;`) as text; XML parts of
/// office files declare no other entities, and none is ever expanded from a DTD.
fn entity(r: &quick_xml::events::BytesRef<'_>) -> Option<String> {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        return Some(c.to_string());
    }
    let name = r.decode().ok()?;
    quick_xml::escape::resolve_predefined_entity(&name).map(str::to_string)
}

/// Collects paragraphs as the XML walks through them.
#[derive(Default)]
struct Paragraphs {
    blocks: Vec<Block>,
    text: String,
    heading: Option<u8>,
    pictures: Vec<Picture>,
}

impl Paragraphs {
    /// Keeps the picture at `name` in the zip, where the text has reached, if it is light and
    /// of a kind every phone shows.
    fn picture(&mut self, zip: &mut Zip<'_>, name: &str) {
        let held: usize = self.pictures.iter().map(|p| p.bytes.len()).sum();
        if self.pictures.len() >= MAX_PICTURES || held >= MAX_PICTURES_BYTES {
            return;
        }
        let Ok(mut file) = zip.by_name(name) else {
            return;
        };
        if file.size() > MAX_PICTURE_BYTES {
            return;
        }
        let mut bytes = Vec::new();
        if (&mut file)
            .take(MAX_PICTURE_BYTES + 1)
            .read_to_end(&mut bytes)
            .is_err()
            || bytes.len() as u64 > MAX_PICTURE_BYTES
        {
            return;
        }
        let ext = match infer::get(&bytes).map(|t| t.mime_type()) {
            Some("image/jpeg") => "jpg",
            Some("image/png") => "png",
            Some("image/gif") => "gif",
            Some("image/webp") => "webp",
            _ => return,
        };
        // A picture inside a paragraph ends the text before it.
        let _ = self.end();
        self.blocks.push(Block::Picture(self.pictures.len()));
        self.pictures.push(Picture {
            ext: ext.to_string(),
            bytes,
        });
    }

    /// The document these paragraphs make (the last one ended first).
    fn into_document(mut self, kind: Kind, title: Option<String>) -> Result<Document, DocError> {
        self.end()?;
        Ok(Document {
            kind,
            title,
            blocks: self.blocks,
            pages: 0,
            picture_pages: Vec::new(),
            machine_read: Vec::new(),
            pictures: self.pictures,
            converted_from: None,
            truncated_after: None,
        })
    }

    fn end(&mut self) -> Result<(), DocError> {
        let text = super::clean(&std::mem::take(&mut self.text));
        if !text.is_empty() {
            if self.blocks.len() >= MAX_PARAGRAPHS {
                return Err(DocError::TooLarge(format!("hơn {MAX_PARAGRAPHS} đoạn văn")));
            }
            self.blocks.push(match self.heading.take() {
                Some(level) => Block::Heading(level.clamp(1, 6), text),
                None => Block::Paragraph(text),
            });
        }
        self.heading = None;
        Ok(())
    }
}

/// Word's relationships: id → target (the pictures' files, relative to `word/`).
fn relationships(xml: Option<&[u8]>) -> std::collections::HashMap<String, String> {
    let mut out = std::collections::HashMap::new();
    let Some(xml) = xml else { return out };
    let mut r = Reader::from_reader(xml);
    let mut buf = Vec::new();
    while let Ok(ev) = r.read_event_into(&mut buf) {
        match ev {
            Event::Start(e) | Event::Empty(e) if local(&e) == b"Relationship" => {
                let external = attr(&e, b"TargetMode").is_some_and(|m| m == "External");
                if let (Some(id), Some(target), false) =
                    (attr(&e, b"Id"), attr(&e, b"Target"), external)
                {
                    out.insert(id, target);
                }
            }
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

/// Word heading levels by style id, from `word/styles.xml`: a style named "heading N" or
/// "Title", or one with an outline level (what Word's navigation pane shows).
fn heading_styles(xml: Option<&[u8]>) -> std::collections::HashMap<String, u8> {
    let mut out = std::collections::HashMap::new();
    let Some(xml) = xml else { return out };
    let mut r = Reader::from_reader(xml);
    let mut buf = Vec::new();
    let mut current: Option<String> = None;
    while let Ok(ev) = r.read_event_into(&mut buf) {
        match ev {
            Event::Start(e) | Event::Empty(e) => match local(&e).as_slice() {
                b"style" => current = attr(&e, b"styleId"),
                b"name" => {
                    if let (Some(id), Some(name)) = (&current, attr(&e, b"val")) {
                        let name = name.to_ascii_lowercase();
                        let level = if name == "title" {
                            Some(1)
                        } else {
                            name.strip_prefix("heading ")
                                .and_then(|n| n.trim().parse().ok())
                        };
                        if let Some(l) = level {
                            out.insert(id.clone(), l);
                        }
                    }
                }
                b"outlineLvl" => {
                    if let (Some(id), Some(l)) = (
                        &current,
                        attr(&e, b"val").and_then(|v| v.parse::<u8>().ok()),
                    ) && l < 9
                    {
                        out.entry(id.clone()).or_insert(l + 1);
                    }
                }
                _ => {}
            },
            Event::End(e) if e.local_name().as_ref() == b"style" => current = None,
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    out
}

/// A Word document: `word/document.xml` paragraph by paragraph, headings by their style.
pub fn read_docx(bytes: &[u8]) -> Result<Document, DocError> {
    let mut zip = open(bytes)?;
    let body = required(&mut zip, "word/document.xml")?;
    let styles = heading_styles(part(&mut zip, "word/styles.xml")?.as_deref());
    let title = part(&mut zip, "docProps/core.xml")?.and_then(|x| dc_title(&x));
    let rels = relationships(part(&mut zip, "word/_rels/document.xml.rels")?.as_deref());
    let name = "word/document.xml";
    let mut r = Reader::from_reader(body.as_slice());
    let mut buf = Vec::new();
    let mut p = Paragraphs::default();
    // Inside w:t (text runs); deleted text (w:delText) and field codes (w:instrText) are not.
    let mut in_text = false;
    loop {
        match r
            .read_event_into(&mut buf)
            .map_err(|e| xml_error(name, e))?
        {
            Event::Start(e) => match local(&e).as_slice() {
                b"t" => in_text = true,
                b"pStyle" => p.heading = attr(&e, b"val").and_then(|v| styles.get(&v).copied()),
                _ => {}
            },
            Event::Empty(e) => match local(&e).as_slice() {
                // A picture: DrawingML's blip, or VML's imagedata in older files.
                b"blip" | b"imagedata" => {
                    let id = attr(&e, b"embed").or_else(|| attr(&e, b"id"));
                    if let Some(target) = id.and_then(|id| rels.get(&id)) {
                        p.picture(
                            &mut zip,
                            &format!("word/{}", target.trim_start_matches('/')),
                        );
                    }
                }
                b"pStyle" => p.heading = attr(&e, b"val").and_then(|v| styles.get(&v).copied()),
                b"outlineLvl" => {
                    if let Some(l) = attr(&e, b"val").and_then(|v| v.parse::<u8>().ok())
                        && l < 9
                    {
                        p.heading = Some(l + 1);
                    }
                }
                b"tab" | b"br" | b"cr" => p.text.push(' '),
                _ => {}
            },
            Event::Text(t) if in_text => p
                .text
                .push_str(&t.decode().map_err(|e| xml_error(name, e))?),
            Event::GeneralRef(g) if in_text => p.text.push_str(&entity(&g).unwrap_or_default()),
            Event::End(e) => match e.local_name().as_ref() {
                b"t" => in_text = false,
                b"p" => p.end()?,
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    p.into_document(Kind::Docx, title)
}

/// The heading level a built-in OpenDocument style name means ("Heading_20_2" → 2, "Title").
fn odt_heading_level(style: &str) -> Option<u8> {
    if style == "Title" {
        return Some(1);
    }
    style
        .strip_prefix("Heading_20_")
        .or_else(|| style.strip_prefix("Heading "))
        .and_then(|n| n.parse().ok())
}

/// An OpenDocument text: `content.xml`'s `text:h` and `text:p`, spaces and tabs as written.
pub fn read_odt(bytes: &[u8]) -> Result<Document, DocError> {
    let mut zip = open(bytes)?;
    let body = required(&mut zip, "content.xml")?;
    let title = part(&mut zip, "meta.xml")?.and_then(|x| dc_title(&x));
    let name = "content.xml";
    let mut r = Reader::from_reader(body.as_slice());
    let mut buf = Vec::new();
    let mut p = Paragraphs::default();
    // Depth inside text:h / text:p (a paragraph may hold a frame with its own paragraphs),
    // and inside parts whose text is not the document's (notes' citations, annotations).
    let (mut depth, mut skip) = (0usize, 0usize);
    let mut styles: std::collections::HashMap<String, u8> = std::collections::HashMap::new();
    loop {
        match r
            .read_event_into(&mut buf)
            .map_err(|e| xml_error(name, e))?
        {
            // Paragraph styles come first (automatic ones, in this part): a paragraph whose
            // style is a heading's or the title's is one.
            Event::Start(e) | Event::Empty(e) if local(&e) == b"style" => {
                if let Some(name) = attr(&e, b"name") {
                    let level = attr(&e, b"default-outline-level")
                        .and_then(|v| v.parse().ok())
                        .or_else(|| odt_heading_level(&name))
                        .or_else(|| {
                            attr(&e, b"parent-style-name").and_then(|p| {
                                odt_heading_level(&p).or_else(|| styles.get(&p).copied())
                            })
                        });
                    if let Some(l) = level {
                        styles.insert(name, l);
                    }
                }
            }
            Event::Start(e) => match local(&e).as_slice() {
                b"h" | b"p" => {
                    if depth > 0 {
                        p.end()?;
                    }
                    depth += 1;
                    p.heading = if local(&e) == b"h" {
                        Some(
                            attr(&e, b"outline-level")
                                .and_then(|v| v.parse().ok())
                                .unwrap_or(1),
                        )
                    } else {
                        attr(&e, b"style-name")
                            .and_then(|n| styles.get(&n).copied().or_else(|| odt_heading_level(&n)))
                    };
                }
                b"note-citation" | b"annotation" | b"tracked-changes" => skip += 1,
                _ => {}
            },
            Event::Empty(e) if local(&e) == b"image" => {
                if let Some(href) = attr(&e, b"href").filter(|h| !h.contains("://")) {
                    p.picture(&mut zip, &href);
                }
            }
            Event::Empty(e) => match local(&e).as_slice() {
                b"s" => {
                    let n: usize = attr(&e, b"c").and_then(|c| c.parse().ok()).unwrap_or(1);
                    p.text.push_str(&" ".repeat(n.min(8)));
                }
                b"tab" | b"line-break" => p.text.push(' '),
                _ => {}
            },
            Event::Text(t) if depth > 0 && skip == 0 => p
                .text
                .push_str(&t.decode().map_err(|e| xml_error(name, e))?),
            Event::GeneralRef(g) if depth > 0 && skip == 0 => {
                p.text.push_str(&entity(&g).unwrap_or_default())
            }
            Event::End(e) => match e.local_name().as_ref() {
                b"h" | b"p" => {
                    p.end()?;
                    depth = depth.saturating_sub(1);
                }
                b"note-citation" | b"annotation" | b"tracked-changes" => {
                    skip = skip.saturating_sub(1)
                }
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        buf.clear();
    }
    p.into_document(Kind::Odt, title)
}
