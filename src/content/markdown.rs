//! Markdown bodies: safe HTML for the material page, plain text for the index, and the
//! relative links a body makes (to find its attachments and report broken ones).
//!
//! Raw HTML in a body is shown as text, never passed through, and only ordinary URL schemes
//! survive in links, so a material file cannot inject script into the site.

use pulldown_cmark::{CowStr, Event, Options, Parser, Tag, TagEnd};

use super::PictureCopy;

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

/// Whether a destination reaches the staff area (`/admin…` on any host, however written): a
/// picture or link there would make a staff member's browser act with their session just by
/// opening the material.
fn into_staff_area(dest: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(dest.trim()).decode_utf8_lossy();
    let lower = decoded.to_ascii_lowercase().replace('\\', "/");
    let path = match lower.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => lower.as_str(),
    };
    // Dot segments are resolved as a browser resolves them: `/m/../admin` is `/admin`.
    let mut segments: Vec<&str> = Vec::new();
    for seg in path.split(['?', '#']).next().unwrap_or("").split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    segments
        .first()
        .is_some_and(|first| *first == "admin" || first.starts_with("admin;"))
}

/// Checks a non-relative destination: only web, mail and phone links and fragments pass.
pub fn check_absolute(dest: &str) -> Link {
    let lower = dest.trim().to_ascii_lowercase();
    let safe = ["http:", "https:", "mailto:", "tel:"]
        .iter()
        .any(|s| lower.starts_with(s))
        || (dest.starts_with('/') && !dest.starts_with("//"))
        || dest.starts_with('#');
    if safe && !into_staff_area(dest) {
        Link::Url(dest.to_string())
    } else {
        Link::Blocked
    }
}

/// Renders a body to HTML, letting `resolve` decide where each relative link goes.
pub fn to_html(body: &str, resolve: impl Fn(&str) -> Link) -> String {
    to_html_with_pictures(body, resolve, |_| None)
}

/// A picture of the library as a page shows it: light copies, and the original behind a link.
#[derive(Debug, Clone)]
pub struct Picture {
    /// The original's URL.
    pub url: String,
    /// The original's size in bytes.
    pub bytes: u64,
    /// Smaller copies, narrowest first (none for pictures that have none, such as SVG).
    pub copies: Vec<PictureCopy>,
}

/// Renders a body like [`to_html`]; each relative picture that `picture` knows is shown by its
/// smallest copy (with `srcset` for wider screens, its width and height against layout shift,
/// loaded lazily) inside a link to its largest copy, so a tap enlarges it without script, and
/// with the original behind a link that says how heavy it is.
pub fn to_html_with_pictures(
    body: &str,
    resolve: impl Fn(&str) -> Link,
    picture: impl Fn(&str) -> Option<Picture>,
) -> String {
    let rewrite = |dest: &str| -> CowStr<'static> {
        let link = if is_relative(dest) {
            resolve(dest)
        } else {
            check_absolute(dest)
        };
        match link {
            Link::Url(u) => CowStr::from(u),
            Link::Blocked => CowStr::from("#"),
        }
    };
    let mut events = Vec::new();
    let mut in_link = 0usize;
    let mut parser = Parser::new_ext(body, options());
    while let Some(ev) = parser.next() {
        let ev = match ev {
            Event::Html(h) | Event::InlineHtml(h) => Event::Text(h),
            Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }) => {
                in_link += 1;
                Event::Start(Tag::Link {
                    link_type,
                    dest_url: rewrite(&dest_url),
                    title,
                    id,
                })
            }
            Event::End(TagEnd::Link) => {
                in_link = in_link.saturating_sub(1);
                Event::End(TagEnd::Link)
            }
            Event::Start(Tag::Image {
                link_type,
                dest_url,
                title,
                id,
            }) => match is_relative(&dest_url).then(|| picture(&dest_url)).flatten() {
                Some(p) => {
                    let alt = inner_text(&mut parser);
                    Event::InlineHtml(picture_html(&p, &alt, &title, in_link == 0).into())
                }
                None => Event::Start(Tag::Image {
                    link_type,
                    dest_url: rewrite(&dest_url),
                    title,
                    id,
                }),
            },
            other => other,
        };
        events.push(ev);
    }
    let (events, headings) = with_heading_ids(events);
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
    let mut names = AnchorNames::default();
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
            let id = names.name(&text);
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

/// Heading anchors, unique in one body: the page and the search index name them alike, so a
/// search hit can link to the section its snippet comes from.
#[derive(Default)]
struct AnchorNames {
    used: std::collections::HashSet<String>,
}

impl AnchorNames {
    fn name(&mut self, text: &str) -> String {
        let base = anchor(text);
        let mut id = base.clone();
        let mut n = 2;
        while !self.used.insert(id.clone()) {
            id = format!("{base}-{n}");
            n += 1;
        }
        id
    }
}

/// A fragment name from heading text: its plain words (see [`super::ascii`]) joined by `-`.
pub fn anchor(text: &str) -> String {
    let words = super::ascii::words(text);
    if words.is_empty() {
        "muc".to_string()
    } else {
        words.join("-")
    }
}

/// The text up to the end of the image just started (its alt text), consuming it.
fn inner_text(parser: &mut Parser<'_>) -> String {
    let mut text = String::new();
    let mut depth = 1usize;
    for ev in parser.by_ref() {
        match ev {
            Event::Start(_) => depth += 1,
            Event::End(_) => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            Event::Text(t) | Event::Code(t) => text.push_str(&t),
            Event::SoftBreak | Event::HardBreak => text.push(' '),
            _ => {}
        }
    }
    text
}

/// The markup of one picture; `tappable` when it is not already inside a link (links do not
/// nest).
fn picture_html(p: &Picture, alt: &str, title: &str, tappable: bool) -> String {
    use std::fmt::Write;
    let (Some(small), Some(large)) = (p.copies.first(), p.copies.last()) else {
        let img = format!(
            r#"<img src="{}" alt="{}"{} loading="lazy">"#,
            attr(&p.url),
            attr(alt),
            title_attr(title)
        );
        return if tappable {
            format!(r#"<a class="pic" href="{}">{img}</a>"#, attr(&p.url))
        } else {
            img
        };
    };
    let mut srcset = String::new();
    for c in &p.copies {
        let sep = if srcset.is_empty() { "" } else { ", " };
        let _ = write!(srcset, "{sep}{} {}w", attr(&c.url), c.width);
    }
    // The column is 46rem at most, less 1rem of padding each side on a phone.
    let img = format!(
        r#"<img src="{}" srcset="{srcset}" sizes="(min-width: 48rem) 44rem, calc(100vw - 2rem)" width="{}" height="{}" alt="{}"{} loading="lazy">"#,
        attr(&small.url),
        large.width,
        large.height,
        attr(alt),
        title_attr(title),
    );
    if !tappable {
        return img;
    }
    format!(
        r#"<a class="pic" href="{}">{img}</a><a class="pic-original" href="{}" download>Tải ảnh gốc ({})</a>"#,
        attr(&large.url),
        attr(&p.url),
        super::human_size(p.bytes)
    )
}

fn title_attr(title: &str) -> String {
    if title.is_empty() {
        String::new()
    } else {
        format!(r#" title="{}""#, attr(title))
    }
}

/// Text made safe inside a double-quoted HTML attribute (askama's escaper, as the templates
/// use).
fn attr(s: &str) -> String {
    match askama::filters::escape(s, askama::filters::Html) {
        Ok(escaped) => escaped.to_string(),
        Err(never) => match never {},
    }
}

/// The text a reader sees, one block per line, for indexing and snippets.
pub fn to_plain_text(body: &str) -> String {
    to_plain_text_with_sections(body).0
}

/// A section of a body's plain text: where its heading begins in the text, and the heading's
/// anchor on the material's page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// Byte offset of the heading in the plain text.
    pub offset: usize,
    /// The heading's `id` on the page.
    pub anchor: String,
}

/// [`to_plain_text`], with where each heading's section begins.
pub fn to_plain_text_with_sections(body: &str) -> (String, Vec<Section>) {
    let mut out = String::with_capacity(body.len());
    let mut sections = Vec::new();
    let mut names = AnchorNames::default();
    // The heading being read: its offset and its text so far.
    let mut heading: Option<(usize, String)> = None;
    for ev in Parser::new_ext(body, options()) {
        if let Some((_, text)) = heading.as_mut()
            && let Event::Text(t) | Event::Code(t) = &ev
        {
            text.push_str(t);
        }
        match ev {
            Event::Start(Tag::Heading { .. }) => heading = Some((out.len(), String::new())),
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            // A heading or a list item ends where a sentence would: when its text is joined
            // into one line (snippets, handouts) it must not run into the next sentence.
            Event::End(end @ (TagEnd::Heading(_) | TagEnd::Item)) => {
                if let (TagEnd::Heading(_), Some((offset, text))) = (end, heading.take()) {
                    sections.push(Section {
                        offset,
                        anchor: names.name(&text),
                    });
                }
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
    (out, sections)
}

/// A relative link or picture of a body, with the words a reader sees for it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BodyLink {
    /// Destination, without `#fragment` or `?query`.
    pub dest: String,
    /// The link's text, or the picture's alt text.
    pub text: String,
    /// A picture shown in the body (`![alt](dest)`), not a link to it.
    pub picture: bool,
}

/// Every relative link and picture in a body, in order.
pub fn relative_links(body: &str) -> Vec<BodyLink> {
    let mut out: Vec<BodyLink> = Vec::new();
    // Links and pictures still open, as indexes into `out` (None: not relative); a picture
    // inside a link gives its alt text to the link too.
    let mut open: Vec<Option<usize>> = Vec::new();
    for ev in Parser::new_ext(body, options()) {
        match ev {
            Event::Start(
                ref tag @ (Tag::Link { ref dest_url, .. } | Tag::Image { ref dest_url, .. }),
            ) if is_relative(dest_url) => {
                let picture = matches!(tag, Tag::Image { .. });
                let dest = dest_url.split(['#', '?']).next().unwrap_or("").to_string();
                if dest.is_empty() {
                    open.push(None);
                } else {
                    open.push(Some(out.len()));
                    out.push(BodyLink {
                        dest,
                        text: String::new(),
                        picture,
                    });
                }
            }
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => open.push(None),
            Event::End(TagEnd::Link | TagEnd::Image) => {
                open.pop();
            }
            Event::Text(t) | Event::Code(t) => {
                for &i in open.iter().flatten() {
                    out[i].text.push_str(&t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                for &i in open.iter().flatten() {
                    out[i].text.push(' ');
                }
            }
            _ => {}
        }
    }
    for l in &mut out {
        l.text = l.text.split_whitespace().collect::<Vec<_>>().join(" ");
    }
    out
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
        let dests: Vec<String> = relative_links("![a](a.svg) [b](b.pdf#x) [c](https://c) [d](#d)")
            .into_iter()
            .map(|l| l.dest)
            .collect();
        assert_eq!(dests, ["a.svg", "b.pdf"]);
    }

    #[test]
    fn links_keep_the_words_a_reader_sees() {
        let link = |dest: &str, text: &str, picture| BodyLink {
            dest: dest.into(),
            text: text.into(),
            picture,
        };
        assert_eq!(
            relative_links("[![Ảnh](a.jpg)](a.pdf) ![Sơ đồ *to*\nrõ](b.png) [x](https://x)"),
            [
                link("a.pdf", "Ảnh", false),
                link("a.jpg", "Ảnh", true),
                link("b.png", "Sơ đồ to rõ", true),
            ]
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
    fn pictures_show_their_small_copy_and_never_nest_links() {
        let copy = |w: u32, h: u32| PictureCopy {
            rel: format!("x/a.jpg.{w}x{h}.jpg"),
            url: format!("/m/x/a.jpg.{w}x{h}.jpg"),
            width: w,
            height: h,
            bytes: 1000,
        };
        let known = |dest: &str| {
            (dest == "a.jpg").then(|| Picture {
                url: "/m/x/a.jpg".into(),
                bytes: 3 * 1024 * 1024,
                copies: vec![copy(480, 360), copy(1280, 960)],
            })
        };
        let html = to_html_with_pictures(r#"![Ảnh "to"](a.jpg)"#, same, known);
        assert!(
            html.contains(r#"<a class="pic" href="/m/x/a.jpg.1280x960.jpg"><img src="/m/x/a.jpg.480x360.jpg" srcset="/m/x/a.jpg.480x360.jpg 480w, /m/x/a.jpg.1280x960.jpg 1280w""#),
            "{html}"
        );
        assert!(
            html.contains(r#"width="1280" height="960" alt="Ảnh &#34;to&#34;""#),
            "{html}"
        );
        assert!(html.contains("Tải ảnh gốc (3,0 MB)</a>"), "{html}");
        // Inside a link the picture is not made a second link.
        let html = to_html_with_pictures("[![Ảnh](a.jpg)](b.pdf)", same, known);
        assert_eq!(html.matches("<a ").count(), 1, "{html}");
        assert!(
            html.contains(r#"<a href="/m/x/b.pdf"><img src="/m/x/a.jpg.480x360.jpg""#),
            "{html}"
        );
        // A picture the library does not know is left as Markdown renders it.
        let html = to_html_with_pictures("![b](b.png)", same, known);
        assert_eq!(html, "<p><img src=\"/m/x/b.png\" alt=\"b\" /></p>\n");
    }

    #[test]
    fn nothing_in_a_body_points_into_the_staff_area() {
        for dest in [
            "/admin/backup",
            "/ADMIN/backup",
            "/%61dmin/backup",
            "/./admin/backup",
            "//admin/x",
            "http://192.168.1.10:8080/admin/backup",
            "https://hoclieu.local/admin",
            "/admin?x=1",
            "/m/../admin/backup",
            "/m/x/%2e%2e/../admin/backup",
            "/../admin",
            "https://hoclieu.local/m/../admin/backup",
        ] {
            assert_eq!(check_absolute(dest), Link::Blocked, "{dest}");
            let html = to_html(&format!("![x]({dest}) [y]({dest})"), |d| {
                Link::Url(d.into())
            });
            assert!(
                !html.to_ascii_lowercase().contains("admin"),
                "{dest}: {html}"
            );
        }
        assert_eq!(
            check_absolute("/search?q=admin"),
            Link::Url("/search?q=admin".into())
        );
        assert_eq!(
            check_absolute("/m/../search?q=lua"),
            Link::Url("/m/../search?q=lua".into())
        );
        assert_eq!(
            check_absolute("https://example.org/administration"),
            Link::Url("https://example.org/administration".into())
        );
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
    fn sections_carry_the_page_anchors() {
        let body = "Mở đầu.\n\n## Bón lót\nphân chuồng\n\n### Chú ý\nít\n\n## Bón lót\nlần hai\n\n## `Mã` số\nx";
        let (text, sections) = to_plain_text_with_sections(body);
        let html = to_html(body, |d| Link::Url(d.to_string()));
        let anchors: Vec<&str> = sections.iter().map(|s| s.anchor.as_str()).collect();
        assert_eq!(anchors, ["bon-lot", "chu-y", "bon-lot-2", "ma-so"]);
        for s in &sections {
            assert!(
                html.contains(&format!("id=\"{}\"", s.anchor)),
                "{} not in page",
                s.anchor
            );
        }
        assert!(text[sections[2].offset..].starts_with("Bón lót.\nlần hai"));
        assert!(text[..sections[0].offset].ends_with("Mở đầu.\n"));
    }

    #[test]
    fn finds_empty_sections() {
        assert_eq!(
            empty_sections("# A\ntext\n## B\n## C\n- x\n## D\n# E\n## F\nf"),
            ["B", "D"]
        );
    }
}
