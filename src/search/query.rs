//! Turns what a villager typed into tantivy queries, without ever handing it to `QueryParser`.
//!
//! Two queries come out. *Any* finds every material sharing a syllable with the query and ranks
//! it: folded terms always count, exact terms count extra when the user typed marks, adjacent
//! syllables count extra through the pair fields. *Full* says which of those are about the
//! whole query: for a short query every syllable (as typed, marks included) standing together
//! in the text; for a long question its rarest syllable, half of its other telling ones and a
//! few of its pairs side by side (more for a six-to-eight-syllable topic). A syllable
//! the index has never seen is retried as Telex keystrokes, as a word typed joined, or as a
//! near spelling; abbreviations and loanwords also find their other spellings.

use std::collections::{BTreeMap, HashSet};
use std::sync::LazyLock;

use serde::Serialize;
use tantivy::Searcher;
use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, Occur, PhraseQuery, Query, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};

use super::analyzer::{self, Word};
use super::same_words;
use super::schema::Fields;
use crate::content::Category;

/// At most this many syllables of a query are used; the rest is ignored.
pub const MAX_WORDS: usize = 32;
/// At most this many unknown syllables are looked up for typos in one query.
const MAX_TYPO_LOOKUPS: usize = 4;
/// Near spellings kept for one unknown syllable.
const TYPO_CANDIDATES: usize = 3;
/// Queries of at most this many syllables are short: a full match holds all of them, near
/// each other. Longer ones are questions, which a full match answers with their rare syllables.
pub const MAX_SHORT: usize = 5;
/// Queries of at most this many syllables (not counting words that ask) are more often a topic
/// typed than a question pasted: a full match holds more of their pairs ([`PHRASE_PAIRS`]).
const MAX_PHRASE: usize = 8;
/// Adjacent pairs of a long query a full match holds (or half of them, if fewer): up to
/// [`MAX_PHRASE`] syllables, then for longer questions. On the retrieval sets 2 for every long
/// question kept the relevant passage a full match for 70–83% of questions and 3 for 64–77%;
/// on the starter library 2 let 7 of 68 materials be "about" a six-syllable topic.
const PHRASE_PAIRS: usize = 3;
const QUESTION_PAIRS: usize = 2;
/// In a long question, a syllable found in more than this share of the materials says little
/// about what is asked (là, có, của, trong…), so a full match need not hold it.
const COMMON_SHARE: f64 = 0.5;
/// A syllable found in more than this share of the materials is a near-stopword (và, của, có,
/// trong…): found near any other word by chance.
const STOP_SHARE: f64 = 0.8;
/// Marked syllables the library lacks that are explained on the page, at most.
const MAX_MISSING: usize = 3;
/// Library words shown for one missing marked syllable, at most.
const MAX_INSTEAD: usize = 4;

/// Relative weights of the clauses, chosen on the retrieval sets in `scripts/bench/retrieval.sh`
/// (see `scripts/bench/retrieval.md`); the same for every set, never tuned per query.
pub(super) mod weight {
    pub const BODY_FOLD: f32 = 1.0;
    /// Exact marks count extra: "lụa" (silk) ranks above "lúa" (rice).
    pub const BODY_EXACT: f32 = 1.2;
    /// Adjacent syllables: word-level weight without a word segmenter.
    pub const BODY_PAIR: f32 = 1.5;
    /// Titles already weigh more through BM25 on a short field; boosting them further cost
    /// ~10 MRR on ViNewsQA, where questions rarely echo the title.
    pub const TITLE_FOLD: f32 = 1.0;
    pub const TITLE_EXACT: f32 = 1.0;
    pub const TITLE_PAIR: f32 = 1.0;
    /// Titles weigh less again in long questions: a short query names a topic, as a title does,
    /// but a pasted question describes content, and passages of one article share its title
    /// (ViNewsQA MRR@10 76.97 → 80.57 at 0.3; 0.1–0.5 within 0.7 of that; no other set moves).
    pub const TITLE_IN_QUESTION: f32 = 0.3;
    /// The words that make a question of a query ("như thế nào", "là gì", "bao nhiêu"): the
    /// passage that answers rarely repeats them (MRR@10 +1.0 ViNewsQA, +0.5 ViMedAQA, +0.3
    /// ViRHE4QA, −0.15 ALQAC; 0 to 0.4 all within 0.05 of this).
    pub const ASKING: f32 = 0.2;
    pub const TYPO: f32 = 0.6;
    /// A folded match for a syllable typed with marks is probably another word ("trong" for
    /// "trồng"); it still counts a little because marks are sometimes misplaced.
    pub const FOLD_WHEN_MARKED: f32 = 0.15;
    /// The folded match of a syllable typed without marks among marked ones, which the library
    /// also writes without marks: it counts more than [`FOLD_WHEN_MARKED`], as a forgotten
    /// mark is commoner than a wrong one (MRR@10 with marks +0.3 ViNewsQA, +0.6 ViMedAQA, +0.1
    /// ViRHE4QA, −0.1 ALQAC; 0.05–0.5 within 0.25 of that).
    pub const FOLD_WHEN_PLAIN: f32 = 0.3;
    /// Two syllables of a short query side by side in another order.
    pub const LOOSE_PAIR: f32 = 0.75;
    /// Each distinct query syllable a material holds, times its idf.
    pub const COVER: f32 = 1.0;
    /// Times the cover weight of the distinct query syllables a material holds within
    /// [`NEAR_SPAN`] positions of each other: a passage that answers the question holds its
    /// words together, a long text that only mentions them scatters them. Measured on the four
    /// retrieval sets, 4 with a span of 12 lifted every set (+0.1 to +1.7 MRR@10); 3 and 6 did
    /// less overall.
    pub const NEAR: f32 = 4.0;
    /// Width of that window, in syllable positions.
    pub const NEAR_SPAN: u32 = 12;
}

/// The syllables of a query, cut to [`MAX_WORDS`].
pub fn query_words(text: &str) -> Vec<Word> {
    let mut ws = analyzer::words(text);
    ws.truncate(MAX_WORDS);
    ws
}

/// A query ready to run, with the folded syllables to highlight in snippets.
pub struct Built {
    /// Every material sharing something with the query, scored (and in the category, if any).
    pub any: Box<dyn Query>,
    /// The materials about the whole query (and in the category, if any); a filter, its score
    /// is not used. Every one of them is also matched by `any`.
    pub full: Box<dyn Query>,
    /// For each distinct query syllable, its folded forms (own spelling first) and what a hit
    /// holding any of them gains, in title or body.
    pub cover: Vec<(Vec<String>, f32)>,
    /// Whether the query is short (at most [`MAX_SHORT`] syllables): its full matches are
    /// listed first. A long question keeps the order of its scores, which the full/partial
    /// split would spoil (it cost 15 MRR@10 on ViNewsQA).
    pub short: bool,
    /// Folded syllables (and their near spellings and other forms) to highlight.
    pub highlight: HashSet<String>,
    /// Syllables typed with marks that no material has ("lụa"), with the words shown instead.
    pub missing: Vec<Missing>,
}

/// A syllable typed with marks that no material has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Missing {
    /// The syllable as typed (NFC).
    pub word: String,
    /// The library's syllables written the same without marks, most common first ("lúa", "lừa").
    pub instead: Vec<String>,
}

/// Builds the queries, or `None` when nothing searchable was typed.
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
    let folded: Vec<&str> = words.iter().map(|w| w.word.folded.as_str()).collect();
    let same = same_words::find(&folded);
    let mut highlight: HashSet<String> = words
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
    // Words that ask ("là gì", "như thế nào") weigh little and do not make a query long:
    // "cach trong lua nhu the nao" is the short query "cách trồng lúa".
    let asking = asking(&words);
    let said = asking.iter().filter(|a| !**a).count();
    let short = said <= MAX_SHORT;
    let title = if !short {
        weight::TITLE_IN_QUESTION
    } else {
        1.0
    };
    // …but "là" before "gì" keeps its weight: the answer to "an ninh mạng là gì" says "an
    // ninh mạng là …" (ALQAC lost a definition without it).
    let defines = |i: usize| {
        words[i].word.folded == "la"
            && words
                .get(i + 1)
                .is_some_and(|n| n.word.folded == "gi" && asking[i + 1])
    };
    let ask = |i: usize| {
        if asking[i] && !defines(i) {
            weight::ASKING
        } else {
            1.0
        }
    };
    // A syllable typed without marks in a query whose other syllables carry them was most
    // likely meant without them ("lá tre" is bamboo, not "trẻ"; "VA" is not "và"): it is
    // weighed like a marked one, exact first, unless the library never writes it that way
    // (then a mark was forgotten: "trồng lua").
    let marked_query = words.iter().any(|w| w.word.has_marks());
    let as_typed: Vec<bool> = words
        .iter()
        .map(|w| {
            marked_query
                && !w.word.has_marks()
                && doc_freq(searcher, f.all_exact, &w.word.exact) > 0
        })
        .collect();
    for (i, w) in words.iter().enumerate() {
        let a = ask(i);
        for folded in &w.alternatives {
            let k = a * if folded != &w.word.folded {
                weight::TYPO
            } else if w.word.has_marks() {
                weight::FOLD_WHEN_MARKED
            } else if as_typed[i] {
                weight::FOLD_WHEN_PLAIN
            } else {
                1.0
            };
            add(f.body_fold, folded, weight::BODY_FOLD * k);
            add(f.title_fold, folded, weight::TITLE_FOLD * title * k);
        }
        if w.word.has_marks() || as_typed[i] {
            add(f.body_exact, &w.word.exact, weight::BODY_EXACT * a);
            add(
                f.title_exact,
                &w.word.exact,
                weight::TITLE_EXACT * title * a,
            );
        }
    }
    for (i, pair) in words.windows(2).enumerate() {
        if pair[1].word.joined_to_previous {
            let a = ask(i).min(ask(i + 1));
            let p = analyzer::pair_term(&pair[0].word.folded, &pair[1].word.folded);
            add(f.body_pair, &p, weight::BODY_PAIR * a);
            add(f.title_pair, &p, weight::TITLE_PAIR * title * a);
        }
    }
    if short {
        // Two syllables of a short query side by side in the other order, or with a word
        // of the query between them, still say something: "vợ chồng" for "chồng đánh vợ".
        for (i, a) in words.iter().enumerate() {
            for (j, b) in words.iter().enumerate() {
                let adjacent = j == i + 1 && b.word.joined_to_previous;
                // Within two places of each other: farther apart they rarely make a word.
                if i != j
                    && i.abs_diff(j) <= 2
                    && !adjacent
                    && !asking[i]
                    && !asking[j]
                    && a.word.folded != b.word.folded
                {
                    let p = analyzer::pair_term(&a.word.folded, &b.word.folded);
                    add(f.body_pair, &p, weight::LOOSE_PAIR);
                }
            }
        }
    }
    for m in &same {
        for form in &m.others {
            highlight.extend(form.iter().map(|s| (*s).to_string()));
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(form_query(f, form), weight::BODY_FOLD)),
            ));
        }
    }
    // Each distinct syllable held counts once more, by its rarity in the library: a material
    // with all of "chồng đánh vợ" beats one that repeats "chống" (BM25 alone sums what each
    // term contributes, so many of one word can outweigh all of them once). Added to the best
    // hits after the search (see `Built::cover`): as query clauses it cost a third of the time.
    let docs = searcher.num_docs() as f32;
    let mut cover: Vec<(Vec<String>, f32)> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        if cover.iter().any(|c| c.0[0] == w.word.folded) {
            continue;
        }
        let n = doc_freq(searcher, f.body_fold, &w.word.folded) as f32;
        let idf = (1.0 + (docs - n + 0.5) / (n + 0.5)).ln();
        if idf > 0.0 {
            cover.push((w.alternatives.clone(), weight::COVER * ask(i) * idf));
        }
    }
    let any: Box<dyn Query> = Box::new(BooleanQuery::new(clauses));
    let in_category = |q: Box<dyn Query>| -> Box<dyn Query> {
        match category {
            None => q,
            Some(c) => Box::new(BooleanQuery::new(vec![
                (Occur::Must, q),
                (
                    Occur::Must,
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.category, c.slug()),
                        IndexRecordOption::Basic,
                    )),
                ),
            ])),
        }
    };
    let any = in_category(any);
    let covered: Vec<bool> = (0..words.len())
        .map(|i| asking[i] || same.iter().any(|m| (m.start..m.start + m.len).contains(&i)))
        .collect();
    let own: Vec<&QueryWord> = words
        .iter()
        .zip(&covered)
        .filter(|(_, c)| !**c)
        .map(|(w, _)| w)
        .collect();
    let missing = missing_marked(searcher, f, &own);
    let full = in_category(full_filter(
        searcher,
        f,
        &words,
        &asking,
        said,
        &same,
        !missing.is_empty(),
    ));
    Some(Built {
        any,
        full,
        cover,
        short,
        highlight,
        missing,
    })
}

/// Phrases that ask rather than say ("how", "what is", "how many"), as people write them.
const ASKING: &[&str] = &[
    "làm gì",
    "làm thế nào để",
    "làm sao để",
    "làm sao",
    "làm thế nào",
    "như thế nào",
    "thế nào",
    "ra sao",
    "là gì",
    "gì",
    "tại sao",
    "vì sao",
    "bao nhiêu",
    "bao lâu",
    "khi nào",
    "lúc nào",
    "hay không",
    "có phải",
    "ở đâu",
    "nào",
    "đâu",
];

/// Which words of a query belong to a phrase that asks. A syllable typed with marks is
/// compared with its marks ("nào" is not "não", brain); without marks only phrases of two or
/// more syllables count ("the nao", "bao nhieu"), since one folded syllable is often another
/// word.
fn asking(words: &[QueryWord]) -> Vec<bool> {
    static KHONG: LazyLock<Word> = LazyLock::new(|| analyzer::words("không").remove(0));
    static CO: LazyLock<Word> = LazyLock::new(|| analyzer::words("có").remove(0));
    static MODALS: LazyLock<Vec<Word>> = LazyLock::new(|| analyzer::words("phải nên cần thì"));
    static PHRASES: LazyLock<Vec<Vec<Word>>> =
        LazyLock::new(|| ASKING.iter().map(|p| analyzer::words(p)).collect());
    let mut out = vec![false; words.len()];
    for i in 0..words.len() {
        for phrase in PHRASES.iter() {
            let Some(here) = words.get(i..i + phrase.len()) else {
                continue;
            };
            let same = here.iter().zip(phrase).enumerate().all(|(k, (w, p))| {
                (k == 0 || w.word.joined_to_previous)
                    && says(w, p)
                    && (w.word.has_marks() || phrase.len() >= 2)
            });
            if same {
                out[i..i + phrase.len()].fill(true);
            }
        }
    }
    // "phải", "nên", "cần", "thì" just before a phrase that asks belong to it: "lúa bị đạo ôn
    // phải làm sao" is about "lúa bị đạo ôn".
    for i in (1..words.len()).rev() {
        let w = &words[i - 1];
        if out[i]
            && !out[i - 1]
            && words[i].word.joined_to_previous
            && MODALS.iter().any(|m| says(w, m))
        {
            out[i - 1] = true;
        }
    }
    // "có … không?" asks yes or no: "bệnh lao có lây không" is about "bệnh lao lây". Only in
    // a short question: in a long one "không" often carries the answer ("không được").
    let last = words.len().saturating_sub(1);
    if words.len() <= MAX_SHORT + 2
        && words.len() >= 3
        && says(&words[last], &KHONG)
        && let Some(co) = (0..last).rev().find(|&k| words[k].word.folded == CO.folded)
        && says(&words[co], &CO)
    {
        out[last] = true;
        out[co] = true;
    }
    if out.iter().all(|a| *a) {
        // Nothing but asking ("là gì?"): then those are the words searched for.
        out.fill(false);
    }
    out
}

/// Whether `w` may be the word `p`: the same without marks, and the same with them if typed
/// with marks.
fn says(w: &QueryWord, p: &Word) -> bool {
    w.word.folded == p.folded && (!w.word.has_marks() || w.word.exact == p.exact)
}

/// A material holding one form of a same-word group: one syllable as a term, several as a
/// phrase.
fn form_query(f: &Fields, form: &[&str]) -> Box<dyn Query> {
    let basic = |field: Field, text: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, text),
            IndexRecordOption::Basic,
        ))
    };
    match form {
        [one] => basic(f.all_fold, one),
        // Each two neighbours side by side: as good as a phrase for a word of a few syllables,
        // and without reading positions (a phrase of common syllables cost a millisecond).
        _ => Box::new(BooleanQuery::new(
            form.windows(2)
                .map(|p| {
                    (
                        Occur::Must,
                        basic(f.all_pair, &analyzer::pair_term(p[0], p[1])),
                    )
                })
                .collect(),
        )),
    }
}

/// Which materials are about the whole query (see the module doc); `said` counts the query's
/// syllables that do not ask.
fn full_filter(
    searcher: &Searcher,
    f: &Fields,
    words: &[QueryWord],
    asking: &[bool],
    said: usize,
    same: &[same_words::Match],
    missing_marked: bool,
) -> Box<dyn Query> {
    let short = said <= MAX_SHORT;
    if short && missing_marked {
        // "lụa" typed, and no material has "lụa": the rice materials are not about it.
        return Box::new(EmptyQuery);
    }
    let docs = searcher.num_docs().max(1) as f64;
    let df = |w: &QueryWord| doc_freq(searcher, f.all_fold, &w.word.folded);
    let rarest = if short {
        None
    } else {
        words
            .iter()
            .enumerate()
            .filter(|(i, _)| !asking[*i])
            .min_by_key(|(_, w)| df(w))
            .map(|(i, _)| i)
    };
    let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    // How common a syllable is, as typed: "bò" (cow) is rare even where "bo" folds
    // together with bỏ, bộ, bó… in nearly every material.
    let common = |w: &QueryWord| {
        let n = if w.word.has_marks() {
            doc_freq(searcher, f.all_exact, &w.word.exact)
        } else {
            doc_freq(searcher, f.all_fold, &w.word.folded)
        };
        n as f64 / docs
    };
    // Syllables typed together (spaces only, no typo, no other form), which must stand near
    // each other in a short query's full match.
    let mut run: Vec<&QueryWord> = Vec::new();
    let flush = |run: &mut Vec<&QueryWord>, must: &mut Vec<(Occur, Box<dyn Query>)>| {
        if run.len() >= 2 {
            // Every syllable side by side with a neighbour somewhere: "cơn ho", "ho lâu", "lâu
            // ngày"; from four syllables on, the run may fall into pieces of two or more ("trẻ
            // em" in one place, "bị tiêu chảy" in another), but no syllable stands alone.
            let pairs: Vec<Box<dyn Query>> = run
                .windows(2)
                .map(|p| pair(f.all_pair, &p[0].word.folded, &p[1].word.folded))
                .collect();
            let each_held: Vec<(Occur, Box<dyn Query>)> = (0..run.len())
                .map(|i| {
                    let either: Vec<(Occur, Box<dyn Query>)> = [i.checked_sub(1), Some(i)]
                        .into_iter()
                        .flatten()
                        .filter_map(|k| pairs.get(k))
                        .map(|q| (Occur::Should, q.box_clone()))
                        .collect();
                    let q: Box<dyn Query> = Box::new(BooleanQuery::new(either));
                    (Occur::Must, q)
                })
                .collect();
            let each_held: Box<dyn Query> = Box::new(BooleanQuery::new(each_held));
            let mut together: Vec<(Occur, Box<dyn Query>)> =
                vec![(Occur::Should, each_held.box_clone())];
            if run.len() >= 3 {
                // …or all of them in order with a few words between: "trẻ dưới 2 tháng tuổi
                // bị sốt" is about "trẻ bị sốt". Two syllables must stand side by side: "con
                // nuôi, con đẻ" is not about "nuôi dê". A near-stopword is found near anything
                // by chance, so it must still touch its neighbour: "trong 1 thìa cà phê" is
                // not about "trồng cà phê".
                let slop = 2 * (run.len() as u32 - 1);
                let terms = run
                    .iter()
                    .enumerate()
                    .map(|(i, w)| (i, Term::from_field_text(f.all_fold, &w.word.folded)))
                    .collect();
                // Some two of them side by side, too: it says little more, but it is what the
                // phrase is checked on, instead of every material holding common syllables.
                let some_pair: Vec<(Occur, Box<dyn Query>)> = run
                    .windows(2)
                    .map(|p| {
                        (
                            Occur::Should,
                            pair(f.all_pair, &p[0].word.folded, &p[1].word.folded),
                        )
                    })
                    .collect();
                let mut ordered: Vec<(Occur, Box<dyn Query>)> =
                    vec![(Occur::Must, Box::new(BooleanQuery::new(some_pair)))];
                for (i, w) in run.iter().enumerate() {
                    if common(w) <= STOP_SHARE {
                        continue;
                    }
                    // Side by side with the syllable before it or the one after it.
                    let touching: Vec<(Occur, Box<dyn Query>)> = [
                        i.checked_sub(1).map(|j| (run[j], *w)),
                        run.get(i + 1).map(|n| (*w, *n)),
                    ]
                    .into_iter()
                    .flatten()
                    .map(|(a, b)| {
                        (
                            Occur::Should,
                            pair(f.all_pair, &a.word.folded, &b.word.folded),
                        )
                    })
                    .collect();
                    ordered.push((Occur::Must, Box::new(BooleanQuery::new(touching))));
                }
                // The phrase reads positions, the dearest check of all: asked only of what the
                // pairs alone do not match (the same set; at 200k articles "sốt xuất huyết"
                // went from 8.8 to 5.6 ms a search).
                ordered.push((Occur::MustNot, each_held.box_clone()));
                let phrase = PhraseQuery::new_with_offset_and_slop(terms, slop);
                together.push((
                    Occur::Should,
                    Box::new(BooleanQuery::new(vec![
                        (Occur::Must, Box::new(BooleanQuery::new(ordered))),
                        (Occur::Must, Box::new(phrase)),
                    ])),
                ));
            }
            must.push((Occur::Must, Box::new(BooleanQuery::new(together))));
        }
        run.clear();
    };
    // Which syllables stand in a run of two or more: `together` below holds them, so an
    // unmarked one needs no clause of its own (each clause is one more long list to intersect).
    let in_same = |i: usize| same.iter().any(|m| (m.start..m.start + m.len).contains(&i));
    let runs = |i: usize| short && !asking[i] && words[i].alternatives.len() == 1 && !in_same(i);
    let in_run: Vec<bool> = (0..words.len())
        .map(|i| {
            runs(i)
                && ((i > 0 && runs(i - 1) && words[i].word.joined_to_previous)
                    || (i + 1 < words.len() && runs(i + 1) && words[i + 1].word.joined_to_previous))
        })
        .collect();
    let mut content: Vec<(Occur, Box<dyn Query>)> = Vec::new();
    let mut seen_content = HashSet::new();
    let mut i = 0;
    while i < words.len() {
        if let Some(m) = same.iter().find(|m| m.start == i) {
            flush(&mut run, &mut must);
            let typed: Vec<&str> = words[i..i + m.len]
                .iter()
                .map(|w| w.word.folded.as_str())
                .collect();
            let forms: Vec<(Occur, Box<dyn Query>)> = std::iter::once(typed.as_slice())
                .chain(m.others.iter().map(Vec::as_slice))
                .map(|form| (Occur::Should, form_query(f, form)))
                .collect();
            must.push((Occur::Must, Box::new(BooleanQuery::new(forms))));
            i += m.len;
            continue;
        }
        if asking[i] {
            flush(&mut run, &mut must);
            i += 1;
            continue;
        }
        let w = &words[i];
        let needed = if short {
            !in_run[i] || w.word.has_marks()
        } else {
            Some(i) == rarest || (df(w) as f64) <= COMMON_SHARE * docs
        };
        if needed {
            if short || Some(i) == rarest {
                must.push((Occur::Must, presence(f, w, short)));
            } else if seen_content.insert(w.word.folded.clone()) {
                content.push((Occur::Should, presence(f, w, short)));
            }
        }
        if short {
            if !w.word.joined_to_previous || w.alternatives.len() > 1 {
                flush(&mut run, &mut must);
            }
            if w.alternatives.len() == 1 {
                run.push(w);
            }
        }
        i += 1;
    }
    flush(&mut run, &mut must);
    if !short {
        // Half of the question's telling syllables: a passage that answers rarely repeats
        // every one of them (a drug's name, a law's title), and asking for all of them
        // recorded most answered questions as gaps.
        if !content.is_empty() {
            let need = content.len().div_ceil(2);
            must.push((
                Occur::Must,
                Box::new(BooleanQuery::with_minimum_required_clauses(content, need)),
            ));
        }
        // …and some of its syllables side by side as typed, or any material holding a few
        // common words would be "about" a six-word topic ("phòng chống bạo lực gia đình").
        let mut seen_pair = HashSet::new();
        let pairs: Vec<(Occur, Box<dyn Query>)> = words
            .windows(2)
            .enumerate()
            .filter(|(k, p)| p[1].word.joined_to_previous && !asking[*k] && !asking[*k + 1])
            .map(|(_, p)| (p[0].word.folded.as_str(), p[1].word.folded.as_str()))
            .filter(|ab| seen_pair.insert(*ab))
            .map(|(a, b)| (Occur::Should, pair(f.all_pair, a, b)))
            .collect();
        let most = if said <= MAX_PHRASE {
            PHRASE_PAIRS
        } else {
            QUESTION_PAIRS
        };
        let need = most.min(pairs.len().div_ceil(2));
        if need > 0 {
            must.push((
                Occur::Must,
                Box::new(BooleanQuery::with_minimum_required_clauses(pairs, need)),
            ));
        }
    }
    if must.is_empty() {
        return Box::new(AllQuery);
    }
    Box::new(BooleanQuery::new(must))
}

/// A material holding syllables `a` and `b` side by side (in a pair field).
fn pair(field: Field, a: &str, b: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, &analyzer::pair_term(a, b)),
        IndexRecordOption::Basic,
    ))
}

/// A material holding one query syllable: as typed with its marks in a short query, else
/// folded (or any near spelling of an unknown one).
fn presence(f: &Fields, w: &QueryWord, exact: bool) -> Box<dyn Query> {
    let basic = |field: Field, text: &str| -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, text),
            IndexRecordOption::Basic,
        ))
    };
    if exact && w.word.has_marks() {
        return basic(f.all_exact, &w.word.exact);
    }
    if let [one] = w.alternatives.as_slice() {
        return basic(f.all_fold, one);
    }
    Box::new(BooleanQuery::new(
        w.alternatives
            .iter()
            .map(|a| (Occur::Should, basic(f.all_fold, a)))
            .collect(),
    ))
}

fn doc_freq(searcher: &Searcher, field: Field, text: &str) -> u64 {
    searcher
        .doc_freq(&Term::from_field_text(field, text))
        .unwrap_or(0)
}

/// Marked syllables that no material has, each with the library's syllables that fold the
/// same (what the results show instead).
fn missing_marked(searcher: &Searcher, f: &Fields, words: &[&QueryWord]) -> Vec<Missing> {
    let mut wanted: Vec<&Word> = Vec::new();
    for w in words.iter().map(|w| &w.word) {
        if w.has_marks()
            && doc_freq(searcher, f.all_exact, &w.exact) == 0
            && !wanted.iter().any(|o| o.exact == w.exact)
        {
            wanted.push(w);
            if wanted.len() == MAX_MISSING {
                break;
            }
        }
    }
    if wanted.is_empty() {
        return Vec::new();
    }
    // One pass over the exact vocabulary for all of them (it is only needed on this path).
    let mut found: Vec<BTreeMap<String, u64>> = vec![BTreeMap::new(); wanted.len()];
    let mut folded = String::new();
    // Only the exact terms that can fold like them: those starting with a form of their first
    // letter ("l…"; "a…", "ă…", "â…"), not the whole vocabulary for every such query.
    let mut firsts: Vec<char> = wanted
        .iter()
        .filter_map(|w| w.folded.chars().next())
        .flat_map(marked_forms)
        .collect();
    firsts.sort_unstable();
    firsts.dedup();
    for_each_term_starting(searcher, f.all_exact, &firsts, |term, df| {
        folded.clear();
        analyzer::fold_into(strip_tone(term), &mut folded);
        for (k, w) in wanted.iter().enumerate() {
            if folded == w.folded {
                *found[k].entry(term.to_string()).or_insert(0) += u64::from(df);
            }
        }
    });
    wanted
        .iter()
        .zip(found)
        .map(|(w, forms)| {
            let mut forms: Vec<(String, u64)> = forms.into_iter().collect();
            forms.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            Missing {
                word: display_exact(&w.exact),
                instead: forms
                    .into_iter()
                    .take(MAX_INSTEAD)
                    .map(|(t, _)| display_exact(&t))
                    .collect(),
            }
        })
        .collect()
}

/// An exact term without its tone digit.
fn strip_tone(exact: &str) -> &str {
    match exact.as_bytes().last() {
        Some(b'1'..=b'5') if exact.chars().any(char::is_alphabetic) => &exact[..exact.len() - 1],
        _ => exact,
    }
}

/// An exact term as people write it: the tone digit put back as a mark on the main vowel.
pub fn display_exact(exact: &str) -> String {
    let bare = strip_tone(exact);
    let tone = match &exact[bare.len()..] {
        "1" => '\u{0301}',
        "2" => '\u{0300}',
        "3" => '\u{0309}',
        "4" => '\u{0303}',
        "5" => '\u{0323}',
        _ => return exact.to_string(),
    };
    let mut s = bare.to_string();
    telex::place_tone(&mut s, tone);
    s
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
    doc_freq(searcher, f.all_fold, folded) > 0
}

/// Calls `f(term, doc_freq)` for every term of `field` in every segment (a term in several
/// segments is seen once for each).
fn for_each_term(searcher: &Searcher, field: Field, f: impl FnMut(&str, u32)) {
    for_each_in(searcher, field, None, f);
}

/// [`for_each_term`] for the terms starting with one of `firsts`.
fn for_each_term_starting(
    searcher: &Searcher,
    field: Field,
    firsts: &[char],
    mut f: impl FnMut(&str, u32),
) {
    for &c in firsts {
        let Some(next) = char::from_u32(c as u32 + 1) else {
            continue;
        };
        for_each_in(searcher, field, Some((c, next)), &mut f);
    }
}

fn for_each_in(
    searcher: &Searcher,
    field: Field,
    range: Option<(char, char)>,
    mut f: impl FnMut(&str, u32),
) {
    let mut buf = [[0u8; 4]; 2];
    for seg in searcher.segment_readers() {
        let Ok(inverted) = seg.inverted_index(field) else {
            continue;
        };
        let terms = inverted.terms();
        let stream = match range {
            None => terms.stream(),
            Some((from, to)) => {
                let [a, b] = &mut buf;
                terms
                    .range()
                    .ge(from.encode_utf8(a).as_bytes())
                    .lt(to.encode_utf8(b).as_bytes())
                    .into_stream()
            }
        };
        let Ok(mut stream) = stream else {
            continue;
        };
        while stream.advance() {
            if let Ok(term) = std::str::from_utf8(stream.key()) {
                f(term, stream.value().doc_freq);
            }
        }
    }
}

/// The letters an exact (marked) term may start with when its folded form starts with `c`: every
/// lower-case Latin letter that folds to it (`a` → a, ă, â, á…; `d` → d, đ).
fn marked_forms(c: char) -> Vec<char> {
    static FORMS: LazyLock<BTreeMap<char, Vec<char>>> = LazyLock::new(|| {
        let mut forms: BTreeMap<char, Vec<char>> = BTreeMap::new();
        let latin = ('a'..='z')
            .chain('\u{00C0}'..='\u{024F}')
            .chain('\u{1E00}'..='\u{1EFF}');
        for l in latin.filter(|l| l.is_lowercase()) {
            if let Some(base) = analyzer::fold_char(l) {
                forms.entry(base).or_default().push(l);
            }
        }
        forms
    });
    FORMS.get(&c).cloned().unwrap_or_else(|| vec![c])
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
    for_each_term(searcher, field, |candidate, df| {
        if candidate.len().abs_diff(word.len()) > max_distance {
            return;
        }
        let d = strsim::damerau_levenshtein(word, candidate);
        if d == 0 || d > max_distance {
            return;
        }
        let e = found.entry(candidate.to_string()).or_insert((d, 0));
        e.1 += u64::from(df);
    });
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
    pub(super) fn place_tone(s: &mut String, tone: char) {
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
