//! A read document as a material file: its text as Markdown (headings and paragraphs, a
//! section per PDF page, "Trang 7", so that a search hit points at its page), and front
//! matter that names the original beside it. The text is escaped, so nothing a document
//! says is ever read as Markdown or HTML.

use crate::content::{Category, DocumentInfo, Parsed};

use super::{Block, Document, Kind};

/// The heading of a PDF page's section; its anchor (`trang-7`) is how a hit names its page.
pub fn page_heading(n: u32) -> String {
    format!("Trang {n}")
}

/// The page a section anchor names, for a material read from a PDF (`trang-7` → 7).
pub fn page_of_anchor(anchor: &str) -> Option<u32> {
    anchor.strip_prefix("trang-")?.parse().ok()
}

/// The material made from `doc`, read from the file `file` (its name beside the material)
/// whose SHA-256 is `sha256`. `title` overrides what the document says.
pub fn parsed(
    doc: &Document,
    file: &str,
    sha256: &str,
    title: Option<&str>,
    category: Category,
) -> Parsed {
    let title = title
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .or_else(|| doc.best_title())
        .unwrap_or_else(|| title_of_file_name(file));
    Parsed {
        // No summary taken from the text: the index holds the summary before the sections,
        // so a hit in it would point at no page. Staff can write one.
        summary: String::new(),
        title,
        category,
        language: "vi".into(),
        tags: Vec::new(),
        updated: None,
        featured: false,
        body: body(doc, file),
        converted_from: None,
        document: Some(DocumentInfo {
            file: file.to_string(),
            sha256: sha256.to_string(),
            pages: doc.pages,
            picture_pages: doc.picture_pages.clone(),
            machine_read: doc.machine_read.clone(),
            converted_from: doc.converted_from.clone(),
            truncated_after: doc.truncated_after,
        }),
    }
}

/// The text as Markdown. A PDF's pages are sections ("## Trang N"), and what its type sizes
/// made headings are bold lines within them; a Word or LibreOffice document keeps its
/// headings (level 1 becomes 2: the title is the page's only level 1).
fn body(doc: &Document, file: &str) -> String {
    let names = picture_names(doc, file);
    let mut out = String::new();
    let pdf = doc.kind == Kind::Pdf;
    for b in &doc.blocks {
        match b {
            Block::Page(n) => {
                // A page without text (a picture) gets no section: an empty one says nothing.
                let has_text = doc
                    .blocks
                    .iter()
                    .skip_while(|x| *x != b)
                    .skip(1)
                    .take_while(|x| !matches!(x, Block::Page(_)))
                    .next()
                    .is_some();
                if has_text {
                    out.push_str(&format!("## {}\n\n", page_heading(*n)));
                }
            }
            Block::Heading(_, t) if pdf => {
                out.push_str(&format!("**{}**\n\n", escape(t)));
            }
            Block::Heading(level, t) => {
                let hashes = "#".repeat(usize::from((*level).clamp(1, 5) + 1));
                out.push_str(&format!("{hashes} {}\n\n", escape(t)));
            }
            Block::Paragraph(t) => {
                out.push_str(&escape(t));
                out.push_str("\n\n");
            }
            Block::Picture(i) => {
                // In angle brackets: a file name may hold spaces.
                if let Some(name) = names.get(*i).filter(|n| !n.contains(['<', '>', '\n'])) {
                    out.push_str(&format!("![Hình {}](<{name}>)\n\n", i + 1));
                }
            }
        }
    }
    out
}

/// The names the document's pictures are saved under, beside the original `file`: its name
/// and "-hinh-N", so that the material owns them ("so-tay.docx" → "so-tay-hinh-1.png").
pub fn picture_names(doc: &Document, file: &str) -> Vec<String> {
    let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
    doc.pictures
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{stem}-hinh-{}.{}", i + 1, p.ext))
        .collect()
}

/// Saves the document's pictures into the centre library beside the material `md_rel`
/// (before the material, so that it never shows without them); `file` is the original's name.
pub fn save_pictures(
    centre: &crate::content::centre::CentreLibrary,
    md_rel: &str,
    doc: &Document,
    file: &str,
) -> Result<(), crate::content::centre::CentreError> {
    let dir = md_rel.rsplit_once('/').map_or("", |(d, _)| d);
    for (name, picture) in picture_names(doc, file).iter().zip(&doc.pictures) {
        centre.save(&beside(dir, name), &picture.bytes)?;
    }
    Ok(())
}

/// The library path of `name` in the folder `dir` (`""` at the root).
pub fn beside(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

/// A title from a file name, for a document that gives none ("so-tay_soi.pdf" → "So tay soi").
pub fn title_of_file_name(name: &str) -> String {
    let stem = name.rsplit_once('.').map_or(name, |(s, _)| s);
    let words = stem.replace(['-', '_'], " ");
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut chars = words.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => "Tài liệu".to_string(),
    }
}

/// Text that Markdown shows exactly as it is: every character that could start or end
/// emphasis, a link, code, HTML or an entity is escaped, and so is whatever could make a
/// line a list, a quote, a heading or a rule. (CommonMark lets any ASCII punctuation be
/// escaped with a backslash.)
pub fn escape(t: &str) -> String {
    let mut out = String::with_capacity(t.len() + 8);
    for c in t.chars() {
        if matches!(
            c,
            '\\' | '`'
                | '*'
                | '_'
                | '['
                | ']'
                | '<'
                | '>'
                | '#'
                | '!'
                | '|'
                | '~'
                | '&'
                | '{'
                | '}'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    // What only matters at the start of a line: a list, a rule, a setext underline, a
    // numbered item ("1." or "1)").
    let first = out.chars().next();
    if matches!(first, Some('-' | '+' | '=')) {
        out.insert(0, '\\');
    } else if let Some(end) = out.find(|c: char| !c.is_ascii_digit())
        && end > 0
        && matches!(out[end..].chars().next(), Some('.' | ')'))
    {
        out.insert(end, '\\');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn what_a_document_says_is_never_markdown() {
        assert_eq!(escape("1. Bón phân"), "1\\. Bón phân");
        assert_eq!(escape("2) Tưới"), "2\\) Tưới");
        assert_eq!(escape("- gạch"), "\\- gạch");
        assert_eq!(escape("# tiêu đề"), "\\# tiêu đề");
        assert_eq!(
            escape("<script>*a*</script>"),
            "\\<script\\>\\*a\\*\\</script\\>"
        );
        assert_eq!(escape("Năm 2024. Tốt"), "Năm 2024. Tốt");
    }
}
