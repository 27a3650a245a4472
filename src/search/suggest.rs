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
}

/// Folded titles ready for prefix matching.
#[derive(Debug, Default)]
pub struct Suggester {
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    folded: String,
    exact: String,
    id: String,
    title: String,
    url: String,
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
        let entries = library
            .materials()
            .iter()
            .map(|m| {
                let ws = words(&m.title);
                Entry {
                    folded: joined(&ws, false),
                    exact: joined(&ws, true),
                    id: m.id.clone(),
                    title: m.title.clone(),
                    url: m.url(),
                }
            })
            .collect();
        Suggester { entries }
    }

    /// Titles containing the typed syllables in order, starting at a syllable boundary; the
    /// last syllable may be unfinished. Titles matching the typed marks come first.
    pub fn suggest(&self, typed: &str) -> Vec<Suggestion> {
        let mut ws = words(typed);
        ws.truncate(super::query::MAX_WORDS);
        if ws.is_empty() {
            return Vec::new();
        }
        let folded = joined(&ws, false);
        let exact = joined(&ws, true);
        let mut found: Vec<(bool, usize, usize, &Entry)> = self
            .entries
            .iter()
            .filter_map(|e| {
                let pos = e.folded.find(&folded)?;
                let exact_match = e.exact.contains(&exact);
                Some((!exact_match, pos, e.title.len(), e))
            })
            .collect();
        found.sort_by_key(|f| (f.0, f.1, f.2));
        found
            .into_iter()
            .take(MAX_SUGGESTIONS)
            .map(|(_, _, _, e)| Suggestion {
                id: e.id.clone(),
                title: e.title.clone(),
                url: e.url.clone(),
            })
            .collect()
    }
}
