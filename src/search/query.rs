//! Turns what a villager typed into a tantivy query, without ever handing it to `QueryParser`.
//!
//! Every syllable may match (long questions rarely share all their words with the answer);
//! ranking does the rest: folded terms always count, exact terms count extra when the user
//! typed marks, adjacent syllables count extra through the pair fields, titles count extra.
//! A syllable the index has never seen is retried as Telex keystrokes or as a near spelling.

use std::collections::{BTreeMap, HashSet};

use tantivy::Searcher;
use tantivy::Term;
use tantivy::query::{BooleanQuery, BoostQuery, Occur, Query, TermQuery};
use tantivy::schema::{Field, IndexRecordOption};

use super::analyzer::{self, Word};
use super::schema::Fields;
use crate::content::Category;

/// At most this many syllables of a query are used; the rest is ignored.
pub const MAX_WORDS: usize = 32;
/// At most this many unknown syllables are looked up for typos in one query.
const MAX_TYPO_LOOKUPS: usize = 4;
/// Near spellings kept for one unknown syllable.
const TYPO_CANDIDATES: usize = 3;

/// Relative weights of the clauses, chosen on the retrieval sets in `scripts/bench/retrieval.sh`
/// (see `scripts/bench/retrieval.md`); the same for every set, never tuned per query.
mod weight {
    pub const BODY_FOLD: f32 = 1.0;
    /// Exact marks count extra: "lụa" (silk) ranks above "lúa" (rice).
    pub const BODY_EXACT: f32 = 1.5;
    /// Adjacent syllables: word-level weight without a word segmenter.
    pub const BODY_PAIR: f32 = 1.5;
    /// Titles already weigh more through BM25 on a short field; boosting them further cost
    /// ~10 MRR on ViNewsQA, where questions rarely echo the title.
    pub const TITLE_FOLD: f32 = 1.0;
    pub const TITLE_EXACT: f32 = 1.0;
    pub const TITLE_PAIR: f32 = 1.0;
    pub const TYPO: f32 = 0.6;
    /// A folded match for a syllable typed with marks is probably another word ("trong" for
    /// "trồng"); it still counts a little because marks are sometimes misplaced.
    pub const FOLD_WHEN_MARKED: f32 = 0.3;
}

/// The syllables of a query, cut to [`MAX_WORDS`].
pub fn query_words(text: &str) -> Vec<Word> {
    let mut ws = analyzer::words(text);
    ws.truncate(MAX_WORDS);
    ws
}

/// A query ready to run, with the folded syllables to highlight in snippets.
pub struct Built {
    /// The tantivy query.
    pub query: Box<dyn Query>,
    /// Folded syllables (and their near spellings) to highlight.
    pub highlight: HashSet<String>,
}

/// Builds the query, or `None` when nothing searchable was typed.
pub fn build(
    searcher: &Searcher,
    f: &Fields,
    text: &str,
    category: Option<Category>,
) -> Option<Built> {
    let words = repair_unknown(searcher, f, query_words(text));
    if words.is_empty() {
        return None;
    }
    let highlight = words
        .iter()
        .flat_map(|w| w.alternatives.iter().cloned())
        .collect();
    let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut seen = HashSet::new();
    let mut add = |field: Field, text: &str, boost: f32| {
        if seen.insert((field, text.to_string())) {
            clauses.push((Occur::Should, term(field, text, boost)));
        }
    };
    for w in &words {
        for folded in &w.alternatives {
            let k = if folded != &w.word.folded {
                weight::TYPO
            } else if w.word.has_marks() {
                weight::FOLD_WHEN_MARKED
            } else {
                1.0
            };
            add(f.body_fold, folded, weight::BODY_FOLD * k);
            add(f.title_fold, folded, weight::TITLE_FOLD * k);
        }
        if w.word.has_marks() {
            add(f.body_exact, &w.word.exact, weight::BODY_EXACT);
            add(f.title_exact, &w.word.exact, weight::TITLE_EXACT);
        }
    }
    for pair in words.windows(2) {
        if pair[1].word.joined_to_previous {
            let p = analyzer::pair_term(&pair[0].word.folded, &pair[1].word.folded);
            add(f.body_pair, &p, weight::BODY_PAIR);
            add(f.title_pair, &p, weight::TITLE_PAIR);
        }
    }
    let any: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
    let query = match category {
        None => any,
        Some(c) => Box::new(BooleanQuery::new(vec![
            (Occur::Must, any),
            (
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.category, c.slug()),
                    IndexRecordOption::Basic,
                )),
            ),
        ])),
    };
    Some(Built { query, highlight })
}

fn term(field: Field, text: &str, boost: f32) -> Box<dyn Query> {
    let q = TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::WithFreqs,
    );
    Box::new(BoostQuery::new(Box::new(q), boost))
}

/// A query syllable with the folded terms to search for it.
struct QueryWord {
    word: Word,
    /// The syllable's own folded form first, then near spellings if it is unknown.
    alternatives: Vec<String>,
}

/// Known syllables stay as typed; unknown ones are decoded as Telex, cut into the syllables
/// of a word typed joined ("vacxin" for "vắc xin"), or widened to near spellings from the
/// index's own vocabulary.
fn repair_unknown(searcher: &Searcher, f: &Fields, words: Vec<Word>) -> Vec<QueryWord> {
    let mut lookups = 0;
    let mut out = Vec::with_capacity(words.len());
    for word in words {
        let mut alternatives = vec![word.folded.clone()];
        if lookups < MAX_TYPO_LOOKUPS && !is_known(searcher, f, &word.folded) {
            lookups += 1;
            if let Some(decoded) = telex::decode(&word.folded) {
                let w = analyzer::words(&decoded);
                if let [d] = w.as_slice()
                    && is_known(searcher, f, &d.folded)
                {
                    let mut d = d.clone();
                    d.joined_to_previous = word.joined_to_previous;
                    out.push(QueryWord {
                        alternatives: vec![d.folded.clone()],
                        word: d,
                    });
                    continue;
                }
            }
            if let Some(parts) = split_joined(searcher, f, &word.folded) {
                for (i, part) in parts.into_iter().enumerate() {
                    let mut w = word.clone();
                    w.exact.clone_from(&part);
                    w.folded.clone_from(&part);
                    w.joined_to_previous = i > 0 || word.joined_to_previous;
                    out.push(QueryWord {
                        alternatives: vec![part],
                        word: w,
                    });
                }
                continue;
            }
            alternatives.extend(near_spellings(searcher, f.body_fold, &word.folded));
        }
        out.push(QueryWord { word, alternatives });
    }
    out
}

/// Longest joined word looked at, in letters (ki-lô-gam-mét typed as one is 11).
const MAX_JOINED_LETTERS: usize = 16;
/// Most syllables one joined word is cut into.
const MAX_JOINED_PARTS: usize = 4;

/// The syllables of a word typed without its spaces or hyphens ("vacxin", "kilogam"), when
/// the library has them side by side: each part is a syllable of the index, and each two
/// neighbours are a pair of the index, so a cut must be a real word of the library, not any
/// string of syllables. The cut with the fewest parts wins; `None` when there is none.
fn split_joined(searcher: &Searcher, f: &Fields, folded: &str) -> Option<Vec<String>> {
    let letters: Vec<char> = folded.chars().collect();
    if letters.len() < 4 || letters.len() > MAX_JOINED_LETTERS || !folded.is_ascii() {
        return None;
    }
    let paired = |a: &str, b: &str| {
        let t = Term::from_field_text(f.body_pair, &analyzer::pair_term(a, b));
        searcher.doc_freq(&t).is_ok_and(|n| n > 0)
    };
    // Breadth first over cut points: the first whole cover found has the fewest parts.
    let mut frontier: Vec<Vec<String>> = vec![Vec::new()];
    for _ in 0..MAX_JOINED_PARTS {
        let mut next = Vec::new();
        for parts in &frontier {
            let used: usize = parts.iter().map(String::len).sum();
            for end in used + 2..=letters.len() {
                let part = &folded[used..end];
                if !is_known(searcher, f, part) {
                    continue;
                }
                if let Some(prev) = parts.last()
                    && !paired(prev, part)
                {
                    continue;
                }
                let mut longer = parts.clone();
                longer.push(part.to_string());
                if end == letters.len() {
                    if longer.len() > 1 {
                        return Some(longer);
                    }
                    continue;
                }
                next.push(longer);
            }
        }
        if next.is_empty() {
            return None;
        }
        frontier = next;
    }
    None
}

fn is_known(searcher: &Searcher, f: &Fields, folded: &str) -> bool {
    [f.body_fold, f.title_fold].iter().any(|&field| {
        searcher
            .doc_freq(&Term::from_field_text(field, folded))
            .is_ok_and(|n| n > 0)
    })
}

/// The most frequent index terms within a small edit distance of an unknown syllable.
/// Short syllables are left alone: at distance 1 `lua` is next to `la`, `mua`, `cua`, `qua`…
pub fn near_spellings(searcher: &Searcher, field: Field, word: &str) -> Vec<String> {
    let len = word.chars().count();
    let max_distance = match len {
        0..=3 => return Vec::new(),
        4..=6 => 1,
        _ => 2,
    };
    let mut found: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for seg in searcher.segment_readers() {
        let Ok(inverted) = seg.inverted_index(field) else {
            continue;
        };
        let Ok(mut stream) = inverted.terms().stream() else {
            continue;
        };
        while stream.advance() {
            let Ok(candidate) = std::str::from_utf8(stream.key()) else {
                continue;
            };
            if candidate.len().abs_diff(word.len()) > max_distance {
                continue;
            }
            let d = strsim::damerau_levenshtein(word, candidate);
            if d == 0 || d > max_distance {
                continue;
            }
            let e = found.entry(candidate.to_string()).or_insert((d, 0));
            e.1 += u64::from(stream.value().doc_freq);
        }
    }
    let mut v: Vec<(String, (usize, u64))> = found.into_iter().collect();
    v.sort_by(|a, b| a.1.0.cmp(&b.1.0).then(b.1.1.cmp(&a.1.1)));
    v.into_iter()
        .take(TYPO_CANDIDATES)
        .map(|(s, _)| s)
        .collect()
}

/// Telex: typing Vietnamese marks as extra letters when the phone's Vietnamese keyboard is off
/// ("ddieenj" for "điện").
pub mod telex {
    /// Decodes one Telex-typed syllable, or `None` if it has no Telex keys in it.
    pub fn decode(s: &str) -> Option<String> {
        if !s.is_ascii() || s.len() < 2 {
            return None;
        }
        let (body, tone) = match s.as_bytes()[s.len() - 1] {
            b's' => (&s[..s.len() - 1], Some('\u{0301}')),
            b'f' => (&s[..s.len() - 1], Some('\u{0300}')),
            b'r' => (&s[..s.len() - 1], Some('\u{0309}')),
            b'x' => (&s[..s.len() - 1], Some('\u{0303}')),
            b'j' => (&s[..s.len() - 1], Some('\u{0323}')),
            _ => (s, None),
        };
        let mut out = String::with_capacity(s.len() + 4);
        let b = body.as_bytes();
        let mut i = 0;
        let mut changed = tone.is_some();
        while i < b.len() {
            let two = b.get(i..i + 2);
            let rep = match two {
                Some(b"dd") => Some('đ'),
                Some(b"aa") => Some('â'),
                Some(b"aw") => Some('ă'),
                Some(b"ee") => Some('ê'),
                Some(b"oo") => Some('ô'),
                Some(b"ow") => Some('ơ'),
                Some(b"uw") => Some('ư'),
                _ => None,
            };
            if let Some(c) = rep {
                out.push(c);
                i += 2;
                changed = true;
            } else if b[i] == b'w' {
                out.push('ư');
                i += 1;
                changed = true;
            } else {
                out.push(char::from(b[i]));
                i += 1;
            }
        }
        if !changed {
            return None;
        }
        if let Some(t) = tone {
            place_tone(&mut out, t);
        }
        Some(out)
    }

    /// Puts the tone on the main vowel: a marked vowel (ơ, ê, â…) wins, else the last vowel
    /// before a final consonant, else the second-to-last of a trailing vowel pair.
    fn place_tone(s: &mut String, tone: char) {
        const VOWELS: &str = "aăâeêioôơuưy";
        let chars: Vec<char> = s.chars().collect();
        let vowel_idx: Vec<usize> = (0..chars.len())
            .filter(|&i| VOWELS.contains(chars[i]))
            .filter(|&i| {
                // "qu" and "gi" start syllables; their u/i is not the main vowel.
                !(i > 0
                    && ((chars[i] == 'u' && chars[i - 1] == 'q')
                        || (chars[i] == 'i'
                            && chars[i - 1] == 'g'
                            && i + 1 < chars.len()
                            && VOWELS.contains(chars[i + 1]))))
            })
            .collect();
        let Some(&last) = vowel_idx.last() else {
            return;
        };
        let pick = vowel_idx
            .iter()
            .rev()
            .find(|&&i| "ăâêôơư".contains(chars[i]))
            .copied()
            .unwrap_or_else(|| {
                let ends_in_vowel = last == chars.len() - 1;
                if ends_in_vowel && vowel_idx.len() >= 2 {
                    vowel_idx[vowel_idx.len() - 2]
                } else {
                    last
                }
            });
        let mut out = String::with_capacity(s.len() + 2);
        for (i, c) in chars.iter().enumerate() {
            out.push(*c);
            if i == pick {
                out.push(tone);
            }
        }
        *s = unicode_normalization::UnicodeNormalization::nfc(out.as_str()).collect();
    }

    #[cfg(test)]
    mod tests {
        use super::decode;

        #[test]
        fn decodes_common_words() {
            assert_eq!(decode("ddieenj").as_deref(), Some("điện"));
            assert_eq!(decode("thoaij").as_deref(), Some("thoại"));
            assert_eq!(decode("luaf").as_deref(), Some("lùa"));
            assert_eq!(decode("nuwowcs").as_deref(), Some("nước"));
            assert_eq!(decode("quyeenf").as_deref(), Some("quyền"));
            assert_eq!(decode("trongf").as_deref(), Some("tròng"));
            assert_eq!(decode("lua"), None);
            assert_eq!(decode("lụa"), None);
        }
    }
}
