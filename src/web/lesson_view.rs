//! A lesson's materials as pages show them (the visitor's lesson page, the handout, the
//! teacher's editor): each looked up in the current catalogue, with the opening of its text
//! for the handout; and the full addresses a lesson is opened at, for the projector and the
//! teacher.

use crate::catalog::Catalog;
use crate::lessons::Lesson;
use crate::web::state::SiteInfo;

/// Characters of a material's text put on the handout.
const KEY_CONTENT_CHARS: usize = 700;

/// One material of a lesson as shown.
pub struct ShownItem {
    /// Material title (or a note that it is gone).
    pub title: String,
    /// Its page, if it still exists.
    pub url: Option<String>,
    /// The teacher's note.
    pub note: String,
    /// The material's summary.
    pub summary: String,
    /// The opening of its text (handout only).
    pub key_content: String,
}

/// The items of a lesson, looked up in the catalogue.
pub fn shown_items(lesson: &Lesson, catalog: &Catalog, with_content: bool) -> Vec<ShownItem> {
    lesson
        .items
        .iter()
        .map(|it| match catalog.library.get(&it.material) {
            Some(m) => ShownItem {
                title: m.title.clone(),
                url: Some(m.url()),
                note: it.note.clone(),
                summary: m.summary.clone(),
                key_content: if with_content {
                    key_content(catalog, m)
                } else {
                    String::new()
                },
            },
            None => ShownItem {
                title: format!("{} (tài liệu này không còn trong thư viện)", it.material),
                url: None,
                note: it.note.clone(),
                summary: String::new(),
                key_content: String::new(),
            },
        })
        .collect()
}

fn key_content(catalog: &Catalog, m: &crate::content::Material) -> String {
    let Ok(parsed) = catalog.library.read(m) else {
        return String::new();
    };
    let plain = crate::content::markdown::to_plain_text(&parsed.body);
    let text = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    match text.char_indices().nth(KEY_CONTENT_CHARS) {
        None => text,
        Some((cut, _)) => {
            let head = &text[..cut];
            let end = head.rfind(['.', '!', '?']).map_or(cut, |i| i + 1);
            format!("{} …", &text[..end])
        }
    }
}

/// The full addresses phones on the centre's network open a lesson at, its code in capitals:
/// the box's own addresses ([`crate::addresses::own`]: never the Host a page was asked with,
/// which may be a name phones cannot resolve); empty when none is known.
pub fn lesson_addresses(site: &SiteInfo, lesson: &Lesson) -> Vec<String> {
    crate::addresses::own(site.listen_addr, site.settings.mdns)
        .into_iter()
        .map(|b| format!("{b}l/{}", lesson.display_code()))
        .collect()
}
