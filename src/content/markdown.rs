//! Markdown bodies: safe HTML for the material page, plain text for the index, and the
//! relative links a body makes (to find its attachments and report broken ones).
//!
//! Raw HTML in a body is shown as text, never passed through, and only ordinary URL schemes
//! survive in links, so a material file cannot inject script into the site.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// Where a link in a body goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Link {
    /// A URL to put in the page as it is.
    Url(String),
    /// A link that must not be followed (unsafe scheme, or leaving the library).
    Blocked,
}

/// True for link destinations that point into the library rather than elsewhere.
pub fn is_relative(dest: &str) -> bool {
    !(dest.is_empty() || dest.starts_with('#') || dest.starts_with('/') || has_scheme(dest))
}

fn has_scheme(dest: &str) -> bool {
    match dest.split_once(':') {
        Some((scheme, _)) => {
            !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        }
        None => false,
    }
}

/// Checks a non-relative destination: only web, mail and phone links and fragments pass.
pub fn check_absolute(dest: &str) -> Link {
    let lower = dest.trim().to_ascii_lowercase();
    let safe = ["http:", "https:", "mailto:", "tel:"]
        .iter()
        .any(|s| lower.starts_with(s))
        || (dest.starts_with('/') && !dest.starts_with("//"))
        || dest.starts_with('#');
    if safe {
        Link::Url(dest.to_string())
    } else {
        Link::Blocked
    }
}

/// Renders a body to HTML, letting `resolve` decide where each relative link goes.
pub fn to_html(body: &str, resolve: impl Fn(&str) -> Link) -> String {
    let rewrite = |dest: CowStr<'_>| -> CowStr<'static> {
        let link = if is_relative(&dest) {
            resolve(&dest)
        } else {
            check_absolute(&dest)
        };
        match link {
            Link::Url(u) => CowStr::from(u),
            Link::Blocked => CowStr::from("#"),
        }
    };
    let events = Parser::new_ext(body, options()).map(|ev| match ev {
        Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: rewrite(dest_url),
            title,
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: rewrite(dest_url),
            title,
            id,
        }),
        other => other,
    });
    let (events, headings) = with_heading_ids(events.collect());
    let mut html = String::with_capacity(body.len() * 3 / 2);
    if headings.len() >= TOC_MIN_SECTIONS {
        // A long material gets a table of contents, so a reader (or a search hit) can jump
        // to the part they need on a 5,000 px page.
        html.push_str("<nav class=\"toc\" aria-label=\"Trong bài này\"><p><strong>Trong bài này</strong></p><ol>");
        for (id, text) in &headings {
            html.push_str("<li><a href=\"#");
            html.push_str(id);
            html.push_str("\">");
            pulldown_cmark::html::push_html(
                &mut html,
                std::iter::once(Event::Text(text.as_str().into())),
            );
            html.push_str("</a></li>");
        }
        html.push_str("</ol></nav>");
    }
    pulldown_cmark::html::push_html(&mut html, events.into_iter());
    html
}

/// Sections a body needs before it gets a table of contents.
const TOC_MIN_SECTIONS: usize = 3;

/// Gives every heading an `id` (its words without marks: `#bon-phan-lot`, unique in the body)
/// and returns the level-2 headings as (id, text) for the table of contents.
fn with_heading_ids(mut events: Vec<Event<'_>>) -> (Vec<Event<'_>>, Vec<(String, String)>) {
    let mut used = std::collections::HashSet::new();
    let mut toc = Vec::new();
    let mut i = 0;
    while i < events.len() {
        if let Event::Start(Tag::Heading {
            level, id: None, ..
        }) = &events[i]
        {
            let level = *level;
            let mut text = String::new();
            for ev in &events[i + 1..] {
                match ev {
                    Event::End(TagEnd::Heading(_)) => break,
                    Event::Text(t) | Event::Code(t) => text.push_str(t),
                    _ => {}
                }
            }
            let base = anchor(&text);
            let mut id = base.clone();
            let mut n = 2;
            while !used.insert(id.clone()) {
                id = format!("{base}-{n}");
                n += 1;
            }
            if let Event::Start(Tag::Heading { id: slot, .. }) = &mut events[i] {
                *slot = Some(CowStr::from(id.clone()));
            }
            if level == pulldown_cmark::HeadingLevel::H2 {
                toc.push((id, text));
            }
        }
        i += 1;
    }
    (events, toc)
}

/// A fragment name from heading text: letters without marks (đ as d), digits, `-` between words.
pub fn anchor(text: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut out = String::new();
    let mut gap = false;
    for c in text.nfd().flat_map(char::to_lowercase) {
        let c = if c == 'đ' { 'd' } else { c };
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('-');
            }
            out.push(c);
            gap = false;
        } else if !unicode_normalization::char::is_combining_mark(c) {
            gap = true;
        }
    }
    if out.is_empty() {
        "muc".to_string()
    } else {
        out
    }
}

/// The text a reader sees, one block per line, for indexing and snippets.
pub fn to_plain_text(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    for ev in Parser::new_ext(body, options()) {
        match ev {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            // A heading or a list item ends where a sentence would: when its text is joined
            // into one line (snippets, handouts) it must not run into the next sentence.
            Event::End(TagEnd::Heading(_) | TagEnd::Item) => {
                let trimmed = out.trim_end();
                if !trimmed.is_empty() && !trimmed.ends_with(['.', '!', '?', ':', ';', '…']) {
                    out.truncate(trimmed.len());
                    out.push('.');
                }
                out.push('\n');
            }
            Event::End(
                TagEnd::Paragraph
                | TagEnd::TableCell
                | TagEnd::TableRow
                | TagEnd::CodeBlock
                | TagEnd::BlockQuote(_),
            ) => out.push('\n'),
            _ => {}
        }
    }
    out
}

/// Every relative link and image destination in a body, without `#fragment` or `?query`.
pub fn relative_links(body: &str) -> Vec<String> {
    Parser::new_ext(body, options())
        .filter_map(|ev| match ev {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(dest_url)
            }
            _ => None,
        })
        .filter(|d| is_relative(d))
        .map(|d| d.split(['#', '?']).next().unwrap_or("").to_string())
        .filter(|d| !d.is_empty())
        .collect()
}

/// Headings whose section holds nothing before the next heading of the same or higher level
/// (or the end); authors are told about them.
pub fn empty_sections(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    // The heading whose section has seen no content yet, with its level.
    let mut open: Option<(pulldown_cmark::HeadingLevel, String)> = None;
    let mut in_heading = false;
    for ev in Parser::new_ext(body, options()) {
        match ev {
            Event::Start(Tag::Heading { level, .. }) => {
                // A subsection counts as content of its parent.
                if let Some((_, h)) = open.take().filter(|(l, _)| level <= *l) {
                    out.push(h);
                }
                in_heading = true;
                open = Some((level, String::new()));
            }
            Event::End(TagEnd::Heading(_)) => in_heading = false,
            Event::Text(t) | Event::Code(t) if in_heading => {
                if let Some((_, h)) = open.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::Start(_) | Event::Text(_) | Event::Code(_) | Event::Rule if !in_heading => {
                open = None;
            }
            _ => {}
        }
    }
    out.extend(open.map(|(_, h)| h));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(d: &str) -> Link {
        Link::Url(format!("/m/x/{d}"))
    }

    #[test]
    fn raw_html_and_bad_schemes_are_neutralised() {
        let html = to_html(
            "<script>alert(1)</script>\n\n[a](javascript:alert(1)) [b](https://x.vn)",
            same,
        );
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains(r##"href="#""##));
        assert!(html.contains(r#"href="https://x.vn""#));
    }

    #[test]
    fn relative_links_are_resolved() {
        let html = to_html("![Lịch](lich.svg) [tờ rơi](to-roi.pdf#p2)", same);
        assert!(html.contains(r#"src="/m/x/lich.svg""#), "{html}");
        assert!(html.contains(r#"href="/m/x/to-roi.pdf#p2""#), "{html}");
        assert_eq!(
            relative_links("![a](a.svg) [b](b.pdf#x) [c](https://c) [d](#d)"),
            ["a.svg", "b.pdf"]
        );
    }

    #[test]
    fn headings_get_anchors_and_long_bodies_a_table_of_contents() {
        let body = "## Chuẩn bị đất\n\na\n\n## Bón phân lót\n\nb\n\n## Bón phân lót\n\nc\n\n### Chi tiết\n\nd";
        let html = to_html(body, |d| Link::Url(d.to_string()));
        assert!(
            html.contains("<h2 id=\"chuan-bi-dat\">Chuẩn bị đất</h2>"),
            "{html}"
        );
        assert!(
            html.contains("<h2 id=\"bon-phan-lot-2\">"),
            "ids are unique: {html}"
        );
        assert!(html.contains("<h3 id=\"chi-tiet\">"), "{html}");
        assert!(html.starts_with("<nav class=\"toc\""), "{html}");
        assert!(
            html.contains("<a href=\"#bon-phan-lot\">Bón phân lót</a>"),
            "{html}"
        );
        // A short body has anchors but no table of contents.
        let short = to_html("## Một\n\nx\n\n## Hai\n\ny", |d| Link::Url(d.to_string()));
        assert!(!short.contains("toc"), "{short}");
        assert_eq!(anchor("Đường dây nóng 111!"), "duong-day-nong-111");
    }

    #[test]
    fn plain_text_keeps_words_apart() {
        let t = to_plain_text("# Tiêu đề\nđoạn *một*\n\n- ý một\n- ý hai");
        assert_eq!(t, "Tiêu đề.\nđoạn một\ný một.\ný hai.\n");
        // A heading followed by its first sentence reads as two sentences when joined.
        let joined = to_plain_text("## Thăm đồng mỗi tuần\n\nMỗi tuần nên ra đồng.")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert_eq!(joined, "Thăm đồng mỗi tuần. Mỗi tuần nên ra đồng.");
    }

    #[test]
    fn finds_empty_sections() {
        assert_eq!(
            empty_sections("# A\ntext\n## B\n## C\n- x\n## D\n# E\n## F\nf"),
            ["B", "D"]
        );
    }
}
