//! Vietnamese text analysis: how raw text becomes index terms and query terms.
//!
//! Text is cut into syllables (letters, digits and combining marks, so NFD input stays whole),
//! and each syllable is normalised two ways: an *exact* form that keeps every mark but writes the
//! tone as a trailing digit (so "hoà" and "hòa" are one term), and a *folded* form without any
//! mark (what people type on a phone without a Vietnamese keyboard). Adjacent syllables also form
//! folded *pairs* ("trong_lua"), which give multi-syllable words their weight.

use std::sync::LazyLock;

use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use unicode_normalization::char::is_combining_mark;

/// Name under which the folded analyzer is registered with tantivy.
pub const FOLD: &str = "vi_fold";
/// Name under which the exact (marks kept, tone as digit) analyzer is registered.
pub const EXACT: &str = "vi_exact";
/// Name under which the folded syllable-pair analyzer is registered.
pub const PAIR: &str = "vi_pair";

/// Longest syllable kept; longer runs (hashes, garbage) are not useful terms and bloat the index.
const MAX_WORD_BYTES: usize = 64;

/// One syllable of the input, with its byte range in the original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Byte offset of the first character in the original text.
    pub start: usize,
    /// Byte offset one past the last character in the original text.
    pub end: usize,
    /// Lower-case NFC form with the tone moved to a trailing digit (1 sắc … 5 nặng).
    pub exact: String,
    /// Lower-case form without any diacritic; `đ` becomes `d`.
    pub folded: String,
    /// True when a pair may be formed with the previous word (only spaces or a hyphen between
    /// them).
    pub joined_to_previous: bool,
}

impl Word {
    /// True when the user typed marks on this word, so the exact form says more than the folded.
    pub fn has_marks(&self) -> bool {
        self.exact != self.folded
    }
}

/// Whether a character belongs to a syllable. ASCII and the Latin blocks Vietnamese uses are
/// answered without the slow general Unicode lookup (this runs for every character indexed
/// and for every character of every snippet).
fn is_word_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else if is_latin(c) {
        c != '×' && c != '÷'
    } else {
        c.is_alphanumeric()
    }
}

/// Latin letters with diacritics: the blocks Vietnamese (and most Latin-script languages) use.
fn is_latin(c: char) -> bool {
    ('\u{C0}'..='\u{24F}').contains(&c) || ('\u{1E00}'..='\u{1EFF}').contains(&c)
}

/// Whether `c` is a combining mark, answered without the table lookup for everything below
/// U+0300 and for the Latin letters of U+1E00–U+1EFF (no marks there): it ran for the end of
/// every word and every marked letter of every snippet.
fn is_mark(c: char) -> bool {
    c >= '\u{300}' && !('\u{1E00}'..='\u{1EFF}').contains(&c) && is_combining_mark(c)
}

/// The base letter of each [`is_latin`] letter, as canonical decomposition gives it, computed
/// once: decomposing was a table lookup per marked letter of every snippet.
static LATIN_BASE: LazyLock<Vec<char>> = LazyLock::new(|| {
    ('\u{C0}'..='\u{24F}')
        .chain('\u{1E00}'..='\u{1EFF}')
        .map(|c| {
            let mut base = c;
            unicode_normalization::char::decompose_canonical(c, |d| {
                if !is_combining_mark(d) {
                    base = d;
                }
            });
            base
        })
        .collect()
});

/// The base letter of an [`is_latin`] letter ("ế" → "e", "Ư" → "U").
fn latin_base(c: char) -> char {
    let i = match c as usize {
        n @ 0xC0..=0x24F => n - 0xC0,
        n @ 0x1E00..=0x1EFF => n - 0x1E00 + (0x250 - 0xC0),
        _ => return c,
    };
    LATIN_BASE.get(i).copied().unwrap_or(c)
}

/// Whether a gap made of this character still joins two syllables into a pair: spaces, and
/// the hyphens of loanwords written syllable by syllable ("ki-lô-gam", "ô-rê-dôn").
fn joins(c: char) -> bool {
    matches!(c, ' ' | '\t' | '-' | '\u{2010}')
}

/// Calls `f(start, end, gap_is_space)` for each run of syllable characters; `gap_is_space`
/// says whether only spaces separate it from the previous run. Stops when `f` returns false.
fn scan(text: &str, mut f: impl FnMut(usize, usize, bool) -> bool) {
    let mut start: Option<usize> = None;
    let mut gap_is_space = false;
    for (i, c) in text.char_indices() {
        let in_word = is_word_char(c) || (start.is_some() && (is_mark(c) || c == '\'' || c == '’'));
        match (in_word, start) {
            (true, None) => start = Some(i),
            (true, Some(_)) => {}
            (false, Some(s)) => {
                if !f(s, i, gap_is_space) {
                    return;
                }
                start = None;
                gap_is_space = joins(c);
            }
            (false, None) => gap_is_space &= joins(c),
        }
    }
    if let Some(s) = start {
        f(s, text.len(), gap_is_space);
    }
}

/// The usable part of a run: trailing apostrophes dropped, over-long runs rejected.
fn trim_run(text: &str, start: usize, end: usize) -> Option<(&str, usize)> {
    let raw = text[start..end].trim_end_matches(['\'', '’']);
    (!raw.is_empty() && raw.len() <= MAX_WORD_BYTES).then(|| (raw, start + raw.len()))
}

/// Cuts `text` into normalised syllables.
pub fn words(text: &str) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    scan(text, |start, end, gap_is_space| {
        let Some((raw, end)) = trim_run(text, start, end) else {
            return true;
        };
        let (exact, folded) = normalise(raw);
        if folded.is_empty() {
            return true;
        }
        let joined_to_previous = gap_is_space && !out.is_empty();
        out.push(Word {
            start,
            end,
            exact,
            folded,
            joined_to_previous,
        });
        true
    });
    out
}

/// Only the folded form of one syllable (cheaper than [`normalise`]).
fn fold(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    fold_into(raw, &mut out);
    out
}

/// Appends the folded form of one syllable to `out` (no allocation when `out` has room).
pub fn fold_into(raw: &str, out: &mut String) {
    let from = out.len();
    for c in raw.chars() {
        if c.is_ascii() {
            if c != '\'' {
                out.push(c.to_ascii_lowercase());
            }
        } else if c == 'đ' || c == 'Đ' {
            out.push('d');
        } else if is_latin(c) {
            let base = latin_base(c);
            if base.is_ascii() {
                out.push(base.to_ascii_lowercase());
            } else {
                out.extend(base.to_lowercase());
            }
        } else if !is_mark(c) {
            out.extend(c.to_lowercase());
        }
    }
    fold_i_y(out, from);
}

/// Calls `f(start, end, folded)` for every syllable of `text` whose folded first letter passes
/// `first`, reusing one buffer: the cheap path for scanning stored text (snippets), where most
/// syllables are rejected after one letter.
pub fn for_each_folded(
    text: &str,
    first: impl Fn(char) -> bool,
    mut f: impl FnMut(usize, usize, &str) -> bool,
) {
    let mut buf = String::with_capacity(32);
    scan(text, |start, end, _| {
        let Some((raw, end)) = trim_run(text, start, end) else {
            return true;
        };
        if !raw.chars().next().and_then(fold_char).is_some_and(&first) {
            return true;
        }
        buf.clear();
        fold_into(raw, &mut buf);
        buf.is_empty() || f(start, end, &buf)
    });
}

/// The folded form of one character, as `fold_into` would write it, when that is one character
/// (`None` for marks and apostrophes, which fold to nothing, and for letters that fold to several).
pub(crate) fn fold_char(c: char) -> Option<char> {
    if c.is_ascii() {
        return (c != '\'').then(|| c.to_ascii_lowercase());
    }
    if c == 'đ' || c == 'Đ' {
        return Some('d');
    }
    if c == '’' || is_mark(c) {
        return None;
    }
    let mut base = c;
    if is_latin(c) {
        base = latin_base(c);
        if base.is_ascii() {
            return Some(base.to_ascii_lowercase());
        }
    }
    let mut lower = base.to_lowercase();
    let first = lower.next()?;
    lower.next().is_none().then_some(first)
}

/// Tone marks as combining characters, with the digit that replaces them.
fn tone_digit(c: char) -> Option<char> {
    match c {
        '\u{0301}' => Some('1'), // sắc
        '\u{0300}' => Some('2'), // huyền
        '\u{0309}' => Some('3'), // hỏi
        '\u{0303}' => Some('4'), // ngã
        '\u{0323}' => Some('5'), // nặng
        _ => None,
    }
}

/// Returns the (exact, folded) forms of one syllable.
///
/// Works character by character with canonical decomposition instead of normalising whole
/// strings: this runs for every word of every snippet, so it must not allocate per character.
fn normalise(raw: &str) -> (String, String) {
    let mut tone = None;
    let mut exact = String::with_capacity(raw.len() + 1);
    let mut folded = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii() {
            if c != '\'' {
                exact.push(c.to_ascii_lowercase());
                folded.push(c.to_ascii_lowercase());
            }
            continue;
        }
        if c == '’' {
            continue;
        }
        if let Some(d) = tone_digit(c) {
            // A tone mark typed as its own character (NFD input).
            tone.get_or_insert(d);
            continue;
        }
        if is_combining_mark(c) {
            // A vowel mark typed as its own character: put it back on its letter.
            if let Some(last) = exact.pop() {
                exact.push(unicode_normalization::char::compose(last, c).unwrap_or(last));
            }
            continue;
        }
        if !is_latin(c) {
            // Other scripts are kept as they are (decomposing Hangul would split syllables).
            for l in c.to_lowercase() {
                exact.push(l);
                folded.push(l);
            }
            continue;
        }
        let mut base = None;
        let mut vowel_mark = None;
        unicode_normalization::char::decompose_canonical(c, |d| {
            if let Some(t) = tone_digit(d) {
                tone.get_or_insert(t);
            } else if is_combining_mark(d) {
                vowel_mark.get_or_insert(d);
            } else {
                base.get_or_insert(d);
            }
        });
        for b in base.unwrap_or(c).to_lowercase() {
            folded.push(if b == 'đ' { 'd' } else { b });
            let marked = vowel_mark.and_then(|m| unicode_normalization::char::compose(b, m));
            exact.push(marked.unwrap_or(b));
        }
    }
    fold_i_y(&mut exact, 0);
    fold_i_y(&mut folded, 0);
    if let Some(d) = tone {
        exact.push(d);
    }
    (exact, folded)
}

/// Spelling variants that mean the same syllable: kỹ/kĩ, lý/lí, mỹ/mĩ, quy/qui.
/// Only a lone final `y` after consonants is folded, so "yêu", "tuy", "thuỷ" keep theirs.
fn fold_i_y(s: &mut String, from: usize) {
    let Some(head) = s[from..].strip_suffix('y') else {
        return;
    };
    let consonants_only = !head.is_empty()
        && head
            .chars()
            .all(|c| c.is_alphabetic() && !"aăâeêioôơuưy".contains(c));
    if consonants_only || head == "qu" {
        s.pop();
        s.push('i');
    }
}

/// How the tokenizer turns words into terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One folded term per syllable.
    Fold,
    /// One exact (marks kept) term per syllable.
    Exact,
    /// One folded term per pair of adjacent syllables, `a_b`.
    Pair,
}

/// The tantivy tokenizer for every Vietnamese field; `mode` picks which terms it emits.
#[derive(Debug, Clone)]
pub struct VietnameseTokenizer {
    mode: Mode,
}

impl VietnameseTokenizer {
    /// A tokenizer emitting terms of the given kind.
    pub fn new(mode: Mode) -> Self {
        Self { mode }
    }
}

/// Builds the pair term for two adjacent folded syllables.
pub fn pair_term(a: &str, b: &str) -> String {
    format!("{a}_{b}")
}

/// Turns the words of a text into the tokens of one mode.
pub fn tokens(text: &str, mode: Mode) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::new();
    // For pairs: the previous syllable's folded form and start.
    let mut prev: Option<(String, usize)> = None;
    let mut position = 0;
    scan(text, |start, end, gap_is_space| {
        let Some((raw, end)) = trim_run(text, start, end) else {
            return true;
        };
        let term = match mode {
            Mode::Exact => normalise(raw).0,
            Mode::Fold | Mode::Pair => fold(raw),
        };
        if term.is_empty() {
            return true;
        }
        match mode {
            Mode::Fold | Mode::Exact => {
                // Punctuation between two syllables keeps them apart for the phrases of
                // `query::full_filter`: "con nuôi, con đẻ" holds no "nuôi … đẻ" run.
                if !gap_is_space && position > 0 {
                    position += 1;
                }
                out.push(Token {
                    offset_from: start,
                    offset_to: end,
                    position,
                    text: term,
                    position_length: 1,
                })
            }
            Mode::Pair => {
                if let (true, Some((p, p_start))) = (gap_is_space, &prev) {
                    out.push(Token {
                        offset_from: *p_start,
                        offset_to: end,
                        position,
                        text: pair_term(p, &term),
                        position_length: 1,
                    });
                }
                prev = Some((term, start));
            }
        }
        position += 1;
        true
    });
    out
}

impl Tokenizer for VietnameseTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream {
            tokens: tokens(text, self.mode),
            next: 0,
        }
    }
}

/// A token stream over tokens computed up front.
#[derive(Debug)]
pub struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// Registers the three analyzers on an index; tantivy does not store them (tantivy #2078).
pub fn register(index: &tantivy::Index) {
    let m = index.tokenizers();
    m.register(FOLD, VietnameseTokenizer::new(Mode::Fold));
    m.register(EXACT, VietnameseTokenizer::new(Mode::Exact));
    m.register(PAIR, VietnameseTokenizer::new(Mode::Pair));
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    /// Folding as it was written before the shortcuts of [`is_mark`] and [`latin_base`]: the
    /// index's terms must not change with them.
    fn fold_by_lookups(c: char, out: &mut String) {
        if c.is_ascii() {
            if c != '\'' {
                out.push(c.to_ascii_lowercase());
            }
        } else if c == 'đ' || c == 'Đ' {
            out.push('d');
        } else if !is_latin(c) && !is_combining_mark(c) {
            out.extend(c.to_lowercase());
        } else if c != '’' && !is_combining_mark(c) {
            let mut base = c;
            unicode_normalization::char::decompose_canonical(c, |d| {
                if !is_combining_mark(d) {
                    base = d;
                }
            });
            out.extend(base.to_lowercase());
        }
    }

    #[test]
    fn the_shortcuts_fold_every_character_as_the_unicode_tables_do() {
        for c in ('\u{0}'..='\u{2FFFF}').filter(|c| !c.is_ascii()) {
            let (mut new, mut old) = (String::new(), String::new());
            fold_into(c.encode_utf8(&mut [0; 4]), &mut new);
            fold_by_lookups(c, &mut old);
            fold_i_y(&mut old, 0);
            assert_eq!(new, old, "{c:?}");
            assert_eq!(is_mark(c), is_combining_mark(c), "{c:?}");
        }
    }

    #[test]
    fn fold_char_agrees_with_fold_into() {
        let ranges = [
            '\u{0}'..='\u{2FF}',
            '\u{1E00}'..='\u{1EFF}',
            'Α'..='ω',
            'А'..='я',
        ];
        for c in ranges.into_iter().flatten() {
            let mut s = String::new();
            fold_into(c.encode_utf8(&mut [0; 4]), &mut s);
            let mut chars = s.chars();
            let one = chars.next().filter(|_| chars.next().is_none());
            assert_eq!(fold_char(c), one, "{c:?} folds to {s:?}");
        }
    }

    fn folded(s: &str) -> Vec<String> {
        words(s).into_iter().map(|w| w.folded).collect()
    }
    fn exact(s: &str) -> Vec<String> {
        words(s).into_iter().map(|w| w.exact).collect()
    }

    #[test]
    fn folds_every_mark_and_d() {
        assert_eq!(folded("Trồng LÚA nước"), ["trong", "lua", "nuoc"]);
        assert_eq!(folded("Đồng ĐĂK điện"), ["dong", "dak", "dien"]);
        assert_eq!(folded("ưu ơn ắt ẫm ỵ"), ["uu", "on", "at", "am", "y"]);
    }

    #[test]
    fn nfd_input_stays_one_word() {
        let nfd: String = "trồng lúa".nfd().collect();
        assert_eq!(folded(&nfd), ["trong", "lua"]);
        assert_eq!(exact(&nfd), exact("trồng lúa"));
        let w = words(&nfd);
        assert_eq!(
            &nfd[w[0].start..w[0].end],
            "trồng".nfd().collect::<String>()
        );
    }

    #[test]
    fn old_and_new_tone_placement_meet() {
        assert_eq!(exact("hoà"), exact("hòa"));
        assert_eq!(exact("thuý"), exact("thúy"));
        assert_eq!(exact("hoà"), ["hoa2"]);
        assert_ne!(exact("lúa"), exact("lụa"));
        assert_eq!(exact("lụa"), ["lua5"]);
    }

    #[test]
    fn i_and_y_spellings_meet() {
        assert_eq!(exact("kỹ"), exact("kĩ"));
        assert_eq!(exact("lý"), exact("lí"));
        assert_eq!(folded("quy"), folded("qui"));
        assert_eq!(folded("yêu tuy thuỷ"), ["yeu", "tuy", "thuy"]);
    }

    #[test]
    fn every_vietnamese_letter_folds_and_keeps_its_marks() {
        // All 134 accented letters, upper and lower case, NFC and NFD, against a reference
        // made with whole-string normalisation.
        let letters = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ";
        for c in letters.chars().chain(letters.to_uppercase().chars()) {
            for form in [c.to_string(), c.to_string().nfd().collect::<String>()] {
                let w = format!("t{form}n");
                let (exact, folded) = normalise(&w);
                let reference: String = w
                    .nfd()
                    .filter(|c| !is_combining_mark(*c))
                    .flat_map(char::to_lowercase)
                    .map(|c| if c == 'đ' { 'd' } else { c })
                    .collect();
                assert_eq!(folded, reference, "{w}");
                assert_eq!(fold(&w), folded, "index and query fold alike: {w}");
                let no_tone: String = w
                    .to_lowercase()
                    .nfd()
                    .filter(|c| tone_digit(*c).is_none())
                    .collect::<String>()
                    .nfc()
                    .collect();
                assert!(exact.starts_with(&no_tone), "{w}: {exact} vs {no_tone}");
            }
        }
    }

    #[test]
    fn other_scripts_stay_whole() {
        for w in ["한국어", "Ελληνικά", "ภาษาไทย", "Русский"] {
            let (exact, folded) = normalise(w);
            assert_eq!(folded, w.to_lowercase(), "{w}");
            assert_eq!(exact, folded);
            assert_eq!(fold(w), folded);
        }
    }

    #[test]
    fn marks_are_detected() {
        let w = words("lua lụa đi di");
        let marks: Vec<bool> = w.iter().map(Word::has_marks).collect();
        assert_eq!(marks, [false, true, true, false]);
    }

    #[test]
    fn apostrophe_joins_names() {
        assert_eq!(folded("người H'Mông"), ["nguoi", "hmong"]);
        assert_eq!(folded("H’Mông’"), ["hmong"]);
    }

    #[test]
    fn pairs_break_at_punctuation() {
        let t: Vec<String> = tokens("phân bón, lúa nước. Trồng", Mode::Pair)
            .into_iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(t, ["phan_bon", "lua_nuoc"]);
    }

    #[test]
    fn hostile_text_is_harmless() {
        assert!(words("").is_empty());
        assert!(words("\"*:()-+~^ \u{0301}\u{0301}").is_empty());
        let long = "a".repeat(10_000);
        assert!(words(&long).is_empty());
        assert_eq!(folded("x\u{0301}\u{0300}\u{0303}b"), ["xb"]);
    }
}
