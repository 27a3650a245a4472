//! The text of a ZIM article, as search indexes it: its title, its words without markup,
//! scripts or styles, and where each heading's section starts (with the heading's `id`, so a
//! hit can link into the passage). HTML is read by html5ever's tokenizer, which knows the
//! rules for entities and raw-text elements; nothing here parses HTML by hand.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

/// An article's text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ArticleText {
    /// The `<title>`, or the first `<h1>`.
    pub title: String,
    /// The words of the body, paragraphs on lines of their own.
    pub text: String,
    /// Where each heading with an id starts in `text`, and the id.
    pub sections: Vec<(usize, String)>,
    /// Whether the text was cut at the limit.
    pub truncated: bool,
}

/// Elements whose content is never text a reader sees.
const HIDDEN: &[&str] = &[
    "script", "style", "noscript", "template", "head", "svg", "math", "iframe", "object",
    "noembed", "noframes", "select",
];

/// Elements that end a line of text.
const BLOCKS: &[&str] = &[
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "tr",
    "td",
    "th",
    "table",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "blockquote",
    "pre",
    "figure",
    "figcaption",
    "hr",
    "header",
    "footer",
    "main",
    "nav",
    "aside",
    "caption",
    "details",
    "summary",
];

#[derive(Default)]
struct State {
    out: ArticleText,
    max: usize,
    /// Open hidden elements (their content is skipped).
    hidden: usize,
    in_title: bool,
    title: String,
    /// Inside a heading: where its text starts, and its id once known.
    heading: Option<(usize, Option<String>)>,
    h1: Option<String>,
    /// A space or a line break is owed before the next word.
    pending: Option<char>,
}

impl State {
    fn push_text(&mut self, s: &str) {
        if self.in_title {
            self.title.push_str(s);
            return;
        }
        if self.hidden > 0 {
            return;
        }
        // Whitespace, no-break spaces included, separates words: one space however much.
        for (i, word) in s.split(char::is_whitespace).enumerate() {
            if i > 0 {
                self.owe(' ');
            }
            if word.is_empty() {
                continue;
            }
            if self.out.text.len() + word.len() + 1 > self.max {
                self.out.truncated = true;
                return;
            }
            if let Some(sep) = self.pending.take()
                && !self.out.text.is_empty()
            {
                self.out.text.push(sep);
            }
            self.out.text.push_str(word);
        }
    }

    fn owe(&mut self, c: char) {
        // A line break wins over a space.
        if self.pending != Some('\n') {
            self.pending = Some(c);
        }
    }

    fn tag(&mut self, kind: TagKind, name: &str, id: Option<String>) {
        let start = kind == TagKind::StartTag;
        if name == "title" && self.hidden <= 1 {
            self.in_title = start;
            return;
        }
        if HIDDEN.contains(&name) {
            if start {
                self.hidden += 1;
            } else {
                self.hidden = self.hidden.saturating_sub(1);
            }
            return;
        }
        if BLOCKS.contains(&name) {
            self.owe('\n');
        }
        let heading =
            name.len() == 2 && name.starts_with('h') && name.as_bytes()[1].is_ascii_digit();
        if heading && start {
            // The heading starts after the line break it owes.
            let at = self.out.text.len() + usize::from(!self.out.text.is_empty());
            self.heading = Some((at, id));
        } else if heading {
            if let Some((at, id)) = self.heading.take() {
                if name == "h1" && self.h1.is_none() && at <= self.out.text.len() {
                    self.h1 = Some(
                        self.out.text[at.min(self.out.text.len())..]
                            .trim()
                            .to_string(),
                    );
                }
                if let Some(id) = id
                    && at <= self.out.text.len()
                {
                    self.out.sections.push((at, id));
                }
            }
        } else if start
            && let Some((_, h_id)) = self.heading.as_mut()
            && h_id.is_none()
        {
            // MediaWiki puts a heading's id on a span inside it.
            *h_id = id;
        }
    }
}

struct Sink(RefCell<State>);

impl TokenSink for Sink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut s = self.0.borrow_mut();
        match token {
            Token::CharacterTokens(t) => s.push_text(&t),
            Token::TagToken(tag) => {
                let name: &str = &tag.name;
                let id = tag
                    .attrs
                    .iter()
                    .find(|a| &*a.name.local == "id")
                    .map(|a| a.value.to_string())
                    .filter(|v| !v.is_empty());
                s.tag(tag.kind, name, id);
                if tag.kind == TagKind::StartTag && !tag.self_closing {
                    // The tokenizer needs the tree builder's word on these elements.
                    return match name {
                        "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                        "style" | "xmp" | "iframe" | "noembed" | "noframes" | "noscript" => {
                            TokenSinkResult::RawData(RawKind::Rawtext)
                        }
                        "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
                        "plaintext" => TokenSinkResult::Plaintext,
                        _ => TokenSinkResult::Continue,
                    };
                }
            }
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

/// The text of `html`, at most `max_bytes` of it.
pub fn extract(html: &[u8], max_bytes: usize) -> ArticleText {
    let sink = Sink(RefCell::new(State {
        max: max_bytes,
        ..State::default()
    }));
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let queue = BufferQueue::default();
    queue.push_back(StrTendril::from(String::from_utf8_lossy(html).as_ref()));
    // Scripts never run here: a pause for one just goes on.
    while let html5ever::TokenizerResult::Script(()) = tokenizer.feed(&queue) {}
    tokenizer.end();
    let state = tokenizer.sink.0.into_inner();
    let mut out = state.out;
    let title = collapse(&state.title);
    out.title = match title {
        t if t.is_empty() => state.h1.map(|h| collapse(&h)).unwrap_or_default(),
        t => t,
    };
    out
}

fn collapse(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_without_markup_scripts_or_styles() {
        let html = r#"<!DOCTYPE html><html><head><title> Trồng  lúa &amp; mạ </title>
            <style>p { color: red } /* </p> */</style>
            <script>var s = "<p>không phải chữ</p>"; if (a < b) {}</script></head>
            <body><h1>Trồng lúa</h1><p>Gieo m&#7841; <b>đúng</b> lúc.</p><p>Bón&nbsp;phân.</p>
            <noscript>Bật JavaScript</noscript><ul><li>Một</li><li>Hai</li></ul></body></html>"#;
        let a = extract(html.as_bytes(), 10_000);
        assert_eq!(a.title, "Trồng lúa & mạ");
        assert_eq!(a.text, "Trồng lúa\nGieo mạ đúng lúc.\nBón phân.\nMột\nHai");
        assert!(!a.truncated);
    }

    #[test]
    fn headings_with_ids_mark_their_sections() {
        let html = r#"<body><p>Mở đầu.</p><h2 id="cach-gieo">Cách gieo</h2><p>Ngâm thóc.</p>
            <h3><span class="mw-headline" id="Bón_phân">Bón phân</span></h3><p>Phân chuồng.</p>
            <h2>Không có id</h2><p>Cuối.</p></body>"#;
        let a = extract(html.as_bytes(), 10_000);
        let names: Vec<(&str, &str)> = a
            .sections
            .iter()
            .map(|(at, id)| (&a.text[*at..], id.as_str()))
            .collect();
        assert_eq!(names.len(), 2, "{a:?}");
        assert!(names[0].0.starts_with("Cách gieo\nNgâm thóc."), "{names:?}");
        assert_eq!(names[0].1, "cach-gieo");
        assert!(
            names[1].0.starts_with("Bón phân\nPhân chuồng."),
            "{names:?}"
        );
        assert_eq!(names[1].1, "Bón_phân");
        // No <title>: the first <h1> names it.
        let b = extract("<h1>Bệnh <i>sởi</i></h1><p>x</p>".as_bytes(), 100);
        assert_eq!(b.title, "Bệnh sởi");
    }

    #[test]
    fn long_and_broken_html_stays_bounded() {
        let long = "<p>lúa ".repeat(10_000);
        let a = extract(long.as_bytes(), 1000);
        assert!(a.truncated && a.text.len() <= 1000, "{}", a.text.len());
        for broken in [
            "<p><b>không đóng",
            "<script>",
            "<h2 id=x>",
            "</h1></h2><title>",
            "&#xffffffff; &#0; &bogus; <a href='",
            "\u{0}\u{feff}<<<>>>",
        ] {
            let _ = extract(broken.as_bytes(), 100);
        }
        let bytes: Vec<u8> = (0..=255).collect();
        let _ = extract(&bytes, 100);
    }
}
