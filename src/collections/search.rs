//! Searching the collections: each collection's index is asked the same query as the
//! library's, with the same analysis and the same full/partial split, and its hits link into
//! the article at the section their snippet comes from.

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use super::{Collection, Shelf};
use crate::content::encode_path;
use crate::search::suggest::{Suggestion, Typed};
use crate::search::{Match, Results, SearchIndex};

/// One article found in a collection.
#[derive(Debug, Clone, Serialize)]
pub struct ShelfHit {
    /// The article's title.
    pub title: String,
    /// Its URL, at the section the snippet comes from.
    pub url: String,
    /// HTML fragment: escaped text with matched words in `<b>`.
    pub snippet: String,
    /// Whether it is about the whole query.
    #[serde(rename = "match")]
    pub matched: Match,
}

/// What one collection answered.
#[derive(Debug, Clone, Serialize)]
pub struct ShelfResults {
    /// The collection's name in URLs.
    pub name: String,
    /// The collection's title.
    pub title: String,
    /// Its hits.
    #[serde(flatten)]
    pub results: Results<ShelfHit>,
}

impl Shelf {
    /// The collections' answers to `text`, at most `limit` hits each, for collections whose
    /// index has at least one batch in; collections with no hit are left out.
    pub fn search(&self, text: &str, limit: usize) -> Vec<ShelfResults> {
        self.list()
            .iter()
            .filter_map(|c| self.search_one(c, text, limit, 0))
            .filter(|r| !r.results.hits.is_empty())
            .collect()
    }

    /// Collection `name`'s answer to `text`, `limit` hits from `offset` on; `None` when no
    /// such collection is served or its index has nothing in yet.
    pub fn search_in(
        &self,
        name: &str,
        text: &str,
        limit: usize,
        offset: usize,
    ) -> Option<ShelfResults> {
        self.search_one(&self.get(name)?, text, limit, offset)
    }

    fn search_one(
        &self,
        c: &Arc<Collection>,
        text: &str,
        limit: usize,
        offset: usize,
    ) -> Option<ShelfResults> {
        let index = self.searchable(c)?;
        let results = index.search_with(
            text,
            None,
            limit,
            offset,
            |id| Some(id.to_string()),
            |id, found, sections, matched| hit(c, &id, found, sections, matched),
        );
        match results {
            Ok(r) => Some(ShelfResults {
                name: c.name.clone(),
                title: c.title.clone(),
                results: r,
            }),
            Err(e) => {
                tracing::warn!(collection = %c.name, error = %e, "collection not searched");
                None
            }
        }
    }

    /// Articles whose titles hold what was typed (the last syllable may be unfinished), at
    /// most `limit`, ranked as the library's own suggestions are. Titles are read from the
    /// archives: a Wikipedia's are too many to keep in memory.
    pub fn suggest(&self, typed: &str, limit: usize) -> Vec<Suggestion> {
        let Some(t) = Typed::new(typed) else {
            return Vec::new();
        };
        let mut found = Vec::new();
        for c in self.list() {
            let Some(index) = self.searchable(&c) else {
                continue;
            };
            // Best scored first; a few times the asked number, to rank by how titles begin.
            let ids = match index.title_candidates(&t, limit * 4) {
                Ok(ids) => ids,
                Err(e) => {
                    tracing::warn!(collection = %c.name, error = %e, "collection titles not searched");
                    continue;
                }
            };
            for id in ids {
                let title = title_of(&c, &id);
                if let Some(standing) = t.standing(&title) {
                    found.push((standing, c.url_of(&id), title, Arc::clone(&c)));
                }
            }
        }
        found.sort_by_key(|f| f.0);
        found
            .into_iter()
            .take(limit)
            .map(|(_, url, title, c)| Suggestion {
                id: String::new(),
                title,
                url,
                collection: Some(c.title.clone()),
            })
            .collect()
    }

    /// The index of `c` when at least one batch of it is in (and it did not fail).
    fn searchable(&self, c: &Collection) -> Option<SearchIndex> {
        if self
            .progress(&c.name)
            .is_none_or(|p| p.done == 0 || p.done == u32::MAX)
        {
            return None;
        }
        self.searcher(c)
    }

    /// The open index of `c`, opened on first use.
    fn searcher(&self, c: &Collection) -> Option<SearchIndex> {
        let dir = self.index_dir(c);
        if let Some(s) = super::read(&self.searchers).get(&dir) {
            return Some(s.clone());
        }
        match SearchIndex::open_shelf(&dir) {
            Ok(s) => {
                super::write(&self.searchers).insert(dir, s.clone());
                Some(s)
            }
            Err(e) => {
                tracing::warn!(collection = %c.name, error = %e, "collection index cannot be opened");
                None
            }
        }
    }

    /// Forgets the open indexes other than those in `keep`.
    pub(super) fn close_searchers(&self, keep: &[PathBuf]) {
        super::write(&self.searchers).retain(|dir, _| keep.contains(dir));
    }
}

fn hit(
    c: &Arc<Collection>,
    id: &str,
    found: Option<(String, usize)>,
    sections: &[(usize, &str)],
    matched: Match,
) -> ShelfHit {
    let mut url = c.url_of(id);
    let snippet = match found {
        Some((html, at)) => {
            if let Some((_, anchor)) = sections.iter().rev().find(|s| s.0 <= at) {
                url.push('#');
                url.push_str(&encode_path(anchor));
            }
            html
        }
        None => String::new(),
    };
    let title = title_of(c, id);
    ShelfHit {
        title,
        url,
        snippet,
        matched,
    }
}

/// The title of the article at path `id`: the archive's, looked up by path (a binary search of
/// its directory); the path when it has none.
fn title_of(c: &Collection, id: &str) -> String {
    c.archive
        .lookup(id)
        .ok()
        .flatten()
        .and_then(|i| c.archive.dirent(i).ok())
        .map(|d| String::from_utf8_lossy(&d.title).into_owned())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| id.to_string())
}
