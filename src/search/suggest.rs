//! Title suggestions as you type: folded prefix matching over the catalogue's titles.
//!
//! Kept in memory rather than in tantivy because it must answer on every keystroke from the
//! last, unfinished syllable, which the index does not know as a term.

use serde::Serialize;

use super::analyzer::words;
use crate::content::Library;

/// Suggestions returned at most.
pub const MAX_SUGGESTIONS: usize = 8;

/// One suggested material.
#[derive(Debug, Clone, Serialize)]
pub struct Suggestion {
    /// Material id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Page URL.
    pub url: String,
    /// The ZIM collection it is an article of (its title); none for the library's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub collection: Option<String>,
}

/// Folded titles ready for prefix matching. It holds only the folded forms and each
/// title's place in the catalogue: at 50k materials, copies of ids, titles and URLs and a
/// string per syllable made it 37 MB, a third of the server's memory.
#[derive(Debug, Default)]
pub struct Suggester {
    entries: Vec<Entry>,
    /// Every folded title syllable, sorted: the first typed syllable finds its candidates by
    /// binary search instead of a scan of every title.
    syllables: Vec<Syllable>,
}

/// A syllable of an entry's folded title: where it starts and how long it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Syllable {
    entry: u32,
    start: u16,
    len: u16,
}

/// Candidates checked at most for one keystroke (a one-letter prefix matches most titles).
const MAX_CANDIDATES: usize = 5_000;

#[derive(Debug)]
struct Entry {
    /// The title's syllables folded, each after a space.
    folded: Box<str>,
    /// The same with their marks.
    exact: Box<str>,
    /// Its material's place in the library.
    material: u32,
}

impl Entry {
    fn syllable(&self, s: Syllable) -> &str {
        let start = usize::from(s.start);
        self.folded
            .get(start..start + usize::from(s.len))
            .unwrap_or_default()
    }
}

fn joined(ws: &[super::analyzer::Word], exact: bool) -> String {
    let mut s = String::new();
    for w in ws {
        s.push(' ');
        s.push_str(if exact { &w.exact } else { &w.folded });
    }
    s
}

impl Suggester {
    /// Indexes every title of the library.
    pub fn new(library: &Library) -> Suggester {
        let mut syllables = Vec::new();
        let entries: Vec<Entry> = library
            .materials()
            .iter()
            .enumerate()
            .map(|(i, m)| {
                let ws = words(&m.title);
                let folded = joined(&ws, false);
                let mut at = 0;
                for w in &ws {
                    // Each syllable follows a space in the joined title.
                    at += 1;
                    if let (Ok(start), Ok(len)) = (u16::try_from(at), u16::try_from(w.folded.len()))
                    {
                        syllables.push(Syllable {
                            entry: i as u32,
                            start,
                            len,
                        });
                    }
                    at += w.folded.len();
                }
                Entry {
                    exact: joined(&ws, true).into_boxed_str(),
                    folded: folded.into_boxed_str(),
                    material: i as u32,
                }
            })
            .collect();
        let word = |s: &Syllable| entries[s.entry as usize].syllable(*s);
        syllables.sort_unstable_by(|a, b| word(a).cmp(word(b)).then(a.entry.cmp(&b.entry)));
        // One place per title and syllable is enough ("lúa" twice in a title).
        syllables.dedup_by(|a, b| a.entry == b.entry && word(a) == word(b));
        syllables.shrink_to_fit();
        Suggester { entries, syllables }
    }

    fn syllable(&self, s: Syllable) -> &str {
        self.entries
            .get(s.entry as usize)
            .map_or("", |e| e.syllable(s))
    }

    /// Entries with a syllable equal to `first` (or starting with it, when it may be unfinished).
    fn candidates(&self, first: &str, unfinished: bool) -> Vec<u32> {
        let from = self
            .syllables
            .partition_point(|s| self.syllable(*s) < first);
        let mut ids: Vec<u32> = self.syllables[from..]
            .iter()
            .take_while(|s| {
                let w = self.syllable(**s);
                if unfinished {
                    w.starts_with(first)
                } else {
                    w == first
                }
            })
            .take(MAX_CANDIDATES)
            .map(|s| s.entry)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Titles of `library` (the one this was made from) containing the typed syllables in
    /// order, starting at a syllable boundary; the last syllable may be unfinished. Titles
    /// matching the typed marks come first.
    pub fn suggest(&self, library: &Library, typed: &str) -> Vec<Suggestion> {
        let Some(t) = Typed::new(typed) else {
            return Vec::new();
        };
        let materials = library.materials();
        let mut found: Vec<_> = self
            .candidates(&t.words[0].folded, t.words.len() == 1)
            .into_iter()
            .filter_map(|i| self.entries.get(i as usize))
            .filter_map(|e| Some((e, materials.get(e.material as usize)?)))
            .filter_map(|(e, m)| Some((t.standing_of(&e.folded, &e.exact, m.title.len())?, m)))
            .collect();
        found.sort_by_key(|f| f.0);
        found
            .into_iter()
            .take(MAX_SUGGESTIONS)
            .map(|(_, m)| Suggestion {
                id: m.id.clone(),
                title: m.title.clone(),
                url: m.url(),
                collection: None,
            })
            .collect()
    }
}

/// What was typed into the search box, ready to be matched against titles.
#[derive(Debug)]
pub struct Typed {
    /// Its syllables (at most a query's worth).
    pub words: Vec<super::analyzer::Word>,
    folded: String,
    exact: String,
}

impl Typed {
    /// `None` when nothing searchable was typed.
    pub fn new(typed: &str) -> Option<Typed> {
        let mut words = words(typed);
        words.truncate(super::query::MAX_WORDS);
        if words.is_empty() {
            return None;
        }
        Some(Typed {
            folded: joined(&words, false),
            exact: joined(&words, true),
            words,
        })
    }

    /// Where `title` stands as an answer, lower first: `None` when it does not hold the typed
    /// syllables in order from a syllable boundary (the last may be unfinished); otherwise
    /// (marks not as typed, where it starts, length).
    pub fn standing(&self, title: &str) -> Option<(bool, usize, usize)> {
        let ws = words(title);
        self.standing_of(&joined(&ws, false), &joined(&ws, true), title.len())
    }

    fn standing_of(&self, folded: &str, exact: &str, len: usize) -> Option<(bool, usize, usize)> {
        let pos = folded.find(&self.folded)?;
        Some((!exact.contains(&self.exact), pos, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::content::Source;

    #[test]
    fn finds_by_any_syllable_and_unfinished_last_one() {
        let lib = Library::load(Source::Embedded);
        let s = Suggester::new(&lib);
        let titles =
            |q: &str| -> Vec<String> { s.suggest(&lib, q).into_iter().map(|x| x.title).collect() };
        assert!(
            titles("trong lu")
                .iter()
                .any(|t| t.starts_with("Trồng lúa")),
            "{:?}",
            titles("trong lu")
        );
        assert!(titles("shan").iter().any(|t| t.contains("Shan tuyết")));
        // The same answers as checking every title.
        for q in ["lua", "benh", "so do", "tiem chung", "ran c", "x"] {
            let fast = titles(q);
            let ws = words(q);
            let folded = joined(&ws, false);
            let slow = s
                .entries
                .iter()
                .filter(|e| e.folded.contains(&folded))
                .count();
            assert_eq!(fast.len(), slow.min(MAX_SUGGESTIONS), "{q}");
        }
    }
}
