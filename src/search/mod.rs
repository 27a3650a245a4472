//! Full-text search over the library: building or reusing the on-disk index, and answering queries.
//!
//! The index lives in `DATA/index` and carries the schema version and the library fingerprint
//! in its commit payload. When they match, start-up reuses it; otherwise (missing, stale, corrupt
//! or from another version) it is rebuilt in a side folder and swapped in, so a crash mid-build
//! never leaves a half index in place.

pub mod analyzer;
pub mod query;
mod read_only;
mod same_words;
pub mod schema;
pub mod snippet;
mod split;
mod stored;
pub mod suggest;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use tantivy::postings::{Postings, SegmentPostings};
use tantivy::schema::IndexRecordOption;
use tantivy::{
    DocAddress, DocSet, Index, IndexReader, IndexWriter, ReloadPolicy, Score, Searcher,
    TantivyDocument, Term,
};

use crate::content::{Category, Library};
use crate::error::Result;
use crate::fsutil::sync_dir;
pub use schema::{Fields, SCHEMA_VERSION};

/// Longest snippet, in bytes (Vietnamese is ~1.4 bytes a character).
const SNIPPET_BYTES: usize = 260;
/// Best hits re-ranked by how many of the query's syllables they hold (`query::Built::cover`).
const RERANK: usize = 30;
/// Deepest page offset answered: the hits before it are kept in memory for each request.
const MAX_OFFSET: usize = 1000;
/// Largest number of hits one request may ask for.
pub const MAX_LIMIT: usize = 100;
/// Stored-text blocks kept decompressed (each at most ~16 KB).
const DOC_STORE_CACHE_BLOCKS: usize = 100;
/// Memory for the single indexing thread: enough to flush rarely, small enough for a 1 GB box.
const WRITER_MEMORY: usize = 50_000_000;

/// What the commit payload records about the indexed library.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
struct Stamp {
    schema: u32,
    fingerprint: String,
}

/// How the index came to be ready, for the start-up log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Opened {
    /// An up-to-date index was found and reused.
    Reused,
    /// The index was built; the reason says why.
    Built {
        /// Why a build was needed.
        reason: String,
    },
}

/// One search result.
#[derive(Debug, Clone, Serialize)]
pub struct Hit {
    /// Material id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Category slug.
    pub category: Category,
    /// HTML fragment: escaped text with matched words in `<b>`.
    pub snippet: String,
    /// Page URL, at the section the snippet comes from when the material has sections.
    pub url: String,
    /// Whether the material is about the whole query, or shares only part of it.
    #[serde(rename = "match")]
    pub matched: Match,
    /// The page of a material read from a PDF that the snippet comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<u32>,
    /// The original PDF, opened at that page (`#page=N`, which browsers' viewers follow).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub original: Option<String>,
}

/// How much of a query a hit covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Match {
    /// About the whole query (see [`query`]).
    Full,
    /// Shares only some of the query's words: shown after the full matches, as "may be related".
    Partial,
}

/// The answer to one query: hits of type `H` (materials' [`Hit`]s, or a collection's).
#[derive(Debug, Clone, Serialize)]
pub struct Results<H = Hit> {
    /// The query as received.
    pub query: String,
    /// Whether any material is about the whole query; a search that is not is a gap in the
    /// library, whatever partial matches it has.
    pub found: bool,
    /// Number of materials about the whole query.
    pub full: usize,
    /// Number of matching materials, full and partial.
    pub total: usize,
    /// Full matches first, then partial ones, best first; at most the requested limit.
    pub hits: Vec<H>,
    /// Syllables typed with marks that no material has, with the words shown instead.
    pub missing: Vec<query::Missing>,
    /// Whether full matches are listed before partial ones (short queries); a long question's
    /// hits stay in score order.
    #[serde(skip)]
    pub split: bool,
}

impl<H> Results<H> {
    /// No hits for `query`.
    pub fn empty(query: &str) -> Results<H> {
        Results {
            query: query.to_string(),
            found: false,
            full: 0,
            total: 0,
            hits: Vec::new(),
            missing: Vec::new(),
            split: false,
        }
    }
}

impl Results {
    /// Whether hit `i` of this page is the first partial match (where "may be related" begins).
    pub fn starts_partial(&self, i: usize) -> bool {
        self.split && self.hits.iter().position(|h| h.matched == Match::Partial) == Some(i)
    }
}

/// A ready-to-query index. Clones share it.
#[derive(Clone)]
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    /// The folder, for on-disk indexes (synced after each commit).
    dir: Option<PathBuf>,
    /// Readers of the stored texts, kept across searches with their caches.
    stores: stored::Stores,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens the index in `data_dir/index` if it matches `library`, or builds it.
    pub fn open_or_build(data_dir: &Path, library: &Library) -> Result<(SearchIndex, Opened)> {
        let dir = crate::data_dir::DataDir::new(data_dir).index();
        let want = Stamp {
            schema: SCHEMA_VERSION,
            fingerprint: library.fingerprint().to_string(),
        };
        let reason = match Self::open_existing(&dir, &want) {
            Ok(idx) => return Ok((idx, Opened::Reused)),
            Err(reason) => reason,
        };
        tracing::info!(%reason, dir = %dir.display(), "building search index");
        build_into(&dir, library, &want)?;
        let idx = Self::open_existing(&dir, &want).map_err(|reason| {
            crate::Error::Io(std::io::Error::other(format!(
                "index just built cannot be opened: {reason}"
            )))
        })?;
        Ok((idx, Opened::Built { reason }))
    }

    /// Whether `data_dir/index` is usable for `library` as it is (nothing is built or changed);
    /// the reason when it is not.
    pub fn diagnose(data_dir: &Path, library: &Library) -> std::result::Result<u64, String> {
        let want = Stamp {
            schema: SCHEMA_VERSION,
            fingerprint: library.fingerprint().to_string(),
        };
        Self::open_existing(&crate::data_dir::DataDir::new(data_dir).index(), &want)
            .map(|idx| idx.num_docs())
    }

    /// Opens `data_dir/index` for reading only, when it matches `library`: for a data folder
    /// that takes no writes (tantivy would otherwise take a lock file). Searches work; updates
    /// fail.
    pub fn open_read_only(
        data_dir: &Path,
        library: &Library,
    ) -> std::result::Result<SearchIndex, String> {
        let want = Stamp {
            schema: SCHEMA_VERSION,
            fingerprint: library.fingerprint().to_string(),
        };
        Self::open_in(
            &crate::data_dir::DataDir::new(data_dir).index(),
            &want,
            true,
        )
    }

    /// Builds an index in memory (tests, and libraries too small to bother the disk).
    pub fn in_memory(library: &Library) -> Result<SearchIndex> {
        let (schema, fields) = schema::build();
        let index = Index::builder()
            .schema(schema)
            .settings(settings())
            .create_in_ram()?;
        analyzer::register(&index);
        let mut writer = writer(&index)?;
        add_all(&mut writer, &fields, library)?;
        writer.commit()?;
        Self::with_index(index, fields)
    }

    /// Opens `dir` when it holds a readable index stamped `want`; otherwise says why not.
    fn open_existing(dir: &Path, want: &Stamp) -> std::result::Result<SearchIndex, String> {
        Self::open_in(dir, want, false)
    }

    fn open_in(
        dir: &Path,
        want: &Stamp,
        read_only: bool,
    ) -> std::result::Result<SearchIndex, String> {
        if !dir.join("meta.json").exists() {
            return Err("no index yet".to_string());
        }
        let index = if read_only {
            tantivy::directory::MmapDirectory::open(dir)
                .map_err(tantivy::TantivyError::from)
                .and_then(|d| Index::open(read_only::ReadOnlyDir(d)))
        } else {
            Index::open_in_dir(dir)
        }
        .map_err(|e| format!("unreadable index ({e})"))?;
        let metas = index
            .load_metas()
            .map_err(|e| format!("unreadable index ({e})"))?;
        let stamp: Option<Stamp> = metas
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_str(p).ok());
        match stamp {
            Some(s) if s.schema != want.schema => {
                return Err(format!("index format {} is not {}", s.schema, want.schema));
            }
            Some(s) if s == *want => {}
            _ => return Err("library changed".to_string()),
        }
        let (schema, fields) = schema::build();
        if index.schema() != schema {
            return Err("index schema differs".to_string());
        }
        analyzer::register(&index);
        let mut idx =
            Self::with_index(index, fields).map_err(|e| format!("damaged index ({e})"))?;
        idx.dir = Some(dir.to_path_buf());
        // A missing or truncated segment only shows when its data is touched.
        idx.check_readable()
            .map_err(|e| format!("damaged index ({e})"))?;
        Ok(idx)
    }

    /// Opens another shelf's index (see [`shelf_index`]) for searching; the batches its
    /// indexer commits are seen as they come.
    pub fn open_shelf(dir: &Path) -> Result<SearchIndex> {
        let index = Index::open_in_dir(dir)?;
        let (schema, fields) = schema::build();
        if index.schema() != schema {
            return Err(tantivy::TantivyError::SchemaError("index schema differs".into()).into());
        }
        analyzer::register(&index);
        let mut idx = Self::with_reader(index, fields, ReloadPolicy::OnCommitWithDelay)?;
        idx.dir = Some(dir.to_path_buf());
        Ok(idx)
    }

    fn with_index(index: Index, fields: Fields) -> Result<SearchIndex> {
        Self::with_reader(index, fields, ReloadPolicy::Manual)
    }

    fn with_reader(index: Index, fields: Fields, policy: ReloadPolicy) -> Result<SearchIndex> {
        let reader = index
            .reader_builder()
            .reload_policy(policy)
            // Decompressed blocks of stored text kept for reuse: popular results are fetched
            // again and again for snippets (~100 × 16 KB at most).
            .doc_store_cache_num_blocks(DOC_STORE_CACHE_BLOCKS)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            fields,
            dir: None,
            stores: stored::Stores::default(),
        })
    }

    /// Brings the index from the library `old` to `new`, re-indexing only the materials whose
    /// file changed and dropping those gone, in one commit stamped with the new fingerprint.
    /// Returns how many materials were re-indexed or dropped. Searches see the change at once.
    pub fn update(&self, old: &Library, new: &Library) -> Result<usize> {
        let mut w = writer(&self.index)?;
        let mut touched = 0;
        for m in old.materials() {
            if new.get(&m.id).is_none_or(|n| n.sha256 != m.sha256) {
                w.delete_term(Term::from_field_text(self.fields.id, &m.id));
                touched += 1;
            }
        }
        for m in new.materials() {
            match old.get(&m.id) {
                Some(o) if o.sha256 == m.sha256 => {}
                Some(_) => add_one(&mut w, &self.fields, new, m)?,
                None => {
                    add_one(&mut w, &self.fields, new, m)?;
                    touched += 1;
                }
            }
        }
        let stamp = Stamp {
            schema: SCHEMA_VERSION,
            fingerprint: new.fingerprint().to_string(),
        };
        let mut commit = w.prepare_commit()?;
        commit.set_payload(&serde_json::to_string(&stamp).unwrap_or_default());
        commit.commit()?;
        w.wait_merging_threads()?;
        if let Some(dir) = &self.dir {
            sync_dir(dir)?;
        }
        self.reader.reload()?;
        Ok(touched)
    }

    /// Touches every segment's stored documents and term dictionaries.
    fn check_readable(&self) -> Result<()> {
        let searcher = self.reader.searcher();
        for seg in searcher.segment_readers() {
            for field in [self.fields.body_fold, self.fields.title_fold] {
                seg.inverted_index(field)?.terms().stream()?;
            }
            if seg.num_docs() > 0 {
                let store = seg.get_store_reader(1)?;
                store.get::<TantivyDocument>(0)?;
            }
        }
        Ok(())
    }

    /// Number of indexed materials.
    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Runs a query typed by a user; never fails on odd input, only on a broken index.
    pub fn search(
        &self,
        library: &Library,
        text: &str,
        category: Option<Category>,
        limit: usize,
        offset: usize,
    ) -> Result<Results> {
        self.search_with(
            text,
            category,
            limit,
            offset,
            // The catalogue is the truth; an indexed id it no longer has is skipped.
            |id| library.get(id),
            |m, found, sections, matched| {
                let mut url = m.url();
                let mut page = None;
                let snippet = match found {
                    Some((html, at)) => {
                        if let Some((_, anchor)) = sections.iter().rev().find(|s| s.0 <= at) {
                            url.push('#');
                            url.push_str(anchor);
                            page =
                                m.document.as_ref().filter(|d| d.is_pdf()).and_then(|_| {
                                    crate::documents::material::page_of_anchor(anchor)
                                });
                        }
                        html
                    }
                    None => {
                        let mut s = String::new();
                        snippet::escape_into(&truncate_chars(&m.summary, 180), &mut s);
                        s
                    }
                };
                Hit {
                    id: m.id.clone(),
                    title: m.title.clone(),
                    category: m.category,
                    snippet,
                    url,
                    matched,
                    original: page.and_then(|n| {
                        let d = m.document.as_ref()?;
                        let rel = match m.dir() {
                            "" => d.file.clone(),
                            dir => format!("{dir}/{}", d.file),
                        };
                        Some(format!("{}#page={n}", crate::content::library_url(&rel)))
                    }),
                    page,
                }
            },
        )
    }

    /// The search behind [`SearchIndex::search`], for any index of this schema: `resolve`
    /// names what a stored id is (`None`: no longer there, skipped and not counted), `hit`
    /// makes the result of it from its snippet (HTML and where in the text it starts, if the
    /// text holds a query word), the text's sections (offset, anchor) and how it matched.
    pub fn search_with<R, H>(
        &self,
        text: &str,
        category: Option<Category>,
        limit: usize,
        offset: usize,
        mut resolve: impl FnMut(&str) -> Option<R>,
        mut hit: impl FnMut(R, Option<(String, usize)>, &[(usize, &str)], Match) -> H,
    ) -> Result<Results<H>> {
        let searcher = self.reader.searcher();
        let mut results = Results::empty(text);
        let Some(built) = query::build(&searcher, &self.fields, text, category) else {
            return Ok(results);
        };
        let limit = limit.clamp(1, MAX_LIMIT);
        if offset > MAX_OFFSET {
            return Ok(results);
        }
        let full = built
            .full
            .weight(tantivy::query::EnableScoring::disabled_from_searcher(
                &searcher,
            ))?;
        let full = split::FullMatches::read(&searcher, full.as_ref())?;
        let n_full = full.count();
        let page_end = offset + limit;
        let n = page_end.max(RERANK);
        let keep = if built.short {
            // Partial matches are listed after every full one: needed only when the full
            // ones end before the page does.
            split::Keep::Each {
                n,
                partial: n_full < page_end,
            }
        } else {
            split::Keep::Mixed(n)
        };
        let count = built
            .any
            .weight(tantivy::query::EnableScoring::disabled_from_searcher(
                &searcher,
            ))?;
        let kept = searcher.search(built.any.as_ref(), &split::Split::new(full, keep, count))?;
        let n_partial = kept.n_any.saturating_sub(n_full);
        let mut full: Vec<(Match, (Score, DocAddress))> =
            kept.full.into_iter().map(|h| (Match::Full, h)).collect();
        let mut partial: Vec<(Match, (Score, DocAddress))> = kept
            .partial
            .into_iter()
            .map(|h| (Match::Partial, h))
            .collect();
        let listed = if built.short {
            // Full matches first, then partial ones.
            self.add_cover(&searcher, &mut full, &built.cover)?;
            self.add_cover(&searcher, &mut partial, &built.cover)?;
            full.extend(partial);
            full
        } else {
            // A long question's hits stay in score order, each marked.
            full.extend(partial);
            full.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
            self.add_cover(&searcher, &mut full, &built.cover)?;
            full
        };
        let top: Vec<(Match, (Score, DocAddress))> =
            listed.into_iter().skip(offset).take(limit).collect();
        results.full = n_full;
        results.found = n_full > 0;
        results.total = n_full + n_partial;
        results.missing = built.missing;
        results.split = built.short;
        let addrs: Vec<(Score, DocAddress)> = top.iter().map(|t| t.1).collect();
        let highlight: Vec<&str> = built.highlight.iter().map(String::as_str).collect();
        let present = self.terms_present(&searcher, &addrs, &highlight)?;
        let stores = self.stores.of(&searcher, DOC_STORE_CACHE_BLOCKS)?;
        for ((matched, (_score, addr)), present) in top.into_iter().zip(present) {
            let raw = stored::bytes(&stores, addr)?;
            let doc = stored::Stored::parse(&raw)?;
            let Some(id) = doc.id else {
                continue;
            };
            let Some(named) = resolve(id) else {
                results.total = results.total.saturating_sub(1);
                if matched == Match::Full {
                    results.full = results.full.saturating_sub(1);
                    results.found = results.full > 0;
                }
                continue;
            };
            let (length, sections) = sections(doc.sections);
            let breaks: Vec<usize> = sections.iter().map(|s| s.0).collect();
            let mut found = snippet::snippet_at(doc.head, &present, SNIPPET_BYTES, &breaks);
            // The head lacks some of the words the text holds: look at the rest too.
            if length > doc.head.len() && found.as_ref().is_none_or(|f| f.2 < present.len()) {
                let text = [doc.head, doc.rest].concat();
                found = snippet::snippet_at(&text, &present, SNIPPET_BYTES, &breaks);
            }
            let found = found.map(|(html, at, _)| (html, at));
            results.hits.push(hit(named, found, &sections, matched));
        }
        Ok(results)
    }

    /// Stored ids of at most `limit` documents whose title holds every typed syllable, the last
    /// as a prefix (when it has two letters or more), best scored first: candidates for title
    /// suggestions from an index whose titles are too many to keep in memory.
    pub fn title_candidates(&self, typed: &suggest::Typed, limit: usize) -> Result<Vec<String>> {
        use tantivy::query::{BooleanQuery, FuzzyTermQuery, Occur, TermQuery};
        let searcher = self.reader.searcher();
        let field = self.fields.title_fold;
        let last = typed.words.len() - 1;
        let parts: Vec<(Occur, Box<dyn tantivy::query::Query>)> = typed
            .words
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let term = Term::from_field_text(field, &w.folded);
                let q: Box<dyn tantivy::query::Query> = if i == last && w.folded.len() >= 2 {
                    Box::new(FuzzyTermQuery::new_prefix(term, 0, false))
                } else {
                    Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs))
                };
                (Occur::Must, q)
            })
            .collect();
        let top = searcher.search(
            &BooleanQuery::new(parts),
            &tantivy::collector::TopDocs::with_limit(limit.clamp(1, MAX_LIMIT)).order_by_score(),
        )?;
        let stores = self.stores.of(&searcher, DOC_STORE_CACHE_BLOCKS)?;
        let mut ids = Vec::with_capacity(top.len());
        for (_, addr) in top {
            let raw = stored::bytes(&stores, addr)?;
            ids.extend(stored::Stored::parse(&raw)?.id.map(str::to_string));
        }
        Ok(ids)
    }

    /// Within the first [`RERANK`] hits, adds to each hit's score what `cover` gives for the
    /// query syllables it holds, and more for those it holds close together, and sorts them
    /// again.
    fn add_cover(
        &self,
        searcher: &Searcher,
        hits: &mut [(Match, (Score, DocAddress))],
        cover: &[(Vec<String>, f32)],
    ) -> Result<()> {
        let n = hits.len().min(RERANK);
        let window = &mut hits[..n];
        let addrs: Vec<(Score, DocAddress)> = window.iter().map(|h| h.1).collect();
        let held = self.cover_held(searcher, &addrs, cover, query::weight::NEAR_SPAN)?;
        // One syllable is always "near" itself: proximity only means something from two.
        let near = if cover.len() >= 2 {
            query::weight::NEAR
        } else {
            0.0
        };
        let gain = held.into_iter().map(|(all, window)| all + near * window);
        for (h, g) in window.iter_mut().zip(gain) {
            h.1.0 += g;
        }
        window.sort_by(|a, b| b.1.0.total_cmp(&a.1.0).then(a.1.1.cmp(&b.1.1)));
        Ok(())
    }

    /// For each hit, the `cover` weight of the distinct query syllables its folded text holds,
    /// and the most of that weight found within `span` positions of each other. Read from the
    /// positions of the re-ranked hits only: a phrase-style query would score every candidate.
    fn cover_held(
        &self,
        searcher: &Searcher,
        hits: &[(Score, DocAddress)],
        cover: &[(Vec<String>, f32)],
        span: u32,
    ) -> Result<Vec<(f32, f32)>> {
        let mut at: Vec<Vec<(u32, u16)>> = vec![Vec::new(); hits.len()];
        let mut buf = Vec::new();
        for (k, (forms, _)) in cover.iter().enumerate() {
            for form in forms {
                Self::each_holding(
                    searcher,
                    self.fields.all_fold,
                    hits,
                    form,
                    IndexRecordOption::WithFreqsAndPositions,
                    |i, p| {
                        buf.clear();
                        p.positions(&mut buf);
                        at[i].extend(buf.iter().map(|&x| (x, k as u16)));
                    },
                )?;
            }
        }
        let mut best = vec![(0.0f32, 0.0f32); hits.len()];
        let mut count = vec![0u32; cover.len()];
        for (i, list) in at.iter_mut().enumerate() {
            list.sort_unstable();
            count.fill(0);
            for &(_, k) in list.iter() {
                if count[k as usize] == 0 {
                    best[i].0 += cover[k as usize].1;
                    count[k as usize] = 1;
                }
            }
            count.fill(0);
            let mut sum = 0.0f32;
            let mut lo = 0;
            for hi in 0..list.len() {
                let (p, k) = list[hi];
                if count[k as usize] == 0 {
                    sum += cover[k as usize].1;
                }
                count[k as usize] += 1;
                while list[lo].0 + span < p {
                    let kk = list[lo].1 as usize;
                    count[kk] -= 1;
                    if count[kk] == 0 {
                        sum -= cover[kk].1;
                    }
                    lo += 1;
                }
                best[i].1 = best[i].1.max(sum);
            }
        }
        Ok(best)
    }

    /// For each hit, the highlight syllables its body holds, read from the postings. The
    /// snippet scan then looks only for those and stops once it has them all, instead of reading
    /// every text to its end for a syllable that only the title (or another result) has.
    fn terms_present<'t>(
        &self,
        searcher: &Searcher,
        hits: &[(Score, DocAddress)],
        terms: &[&'t str],
    ) -> Result<Vec<Vec<&'t str>>> {
        self.terms_present_in(searcher, self.fields.body_fold, hits, terms)
    }

    /// For each hit, which of `terms` the field holds.
    fn terms_present_in<'t>(
        &self,
        searcher: &Searcher,
        field: tantivy::schema::Field,
        hits: &[(Score, DocAddress)],
        terms: &[&'t str],
    ) -> Result<Vec<Vec<&'t str>>> {
        let mut present = vec![Vec::new(); hits.len()];
        for term in terms {
            Self::each_holding(
                searcher,
                field,
                hits,
                term,
                IndexRecordOption::Basic,
                |i, _| present[i].push(*term),
            )?;
        }
        Ok(present)
    }

    /// Calls `found` with each hit (by its index in `hits`) whose `field` holds `term`, and the
    /// term's postings positioned on it.
    fn each_holding(
        searcher: &Searcher,
        field: tantivy::schema::Field,
        hits: &[(Score, DocAddress)],
        term: &str,
        option: IndexRecordOption,
        mut found: impl FnMut(usize, &mut SegmentPostings),
    ) -> Result<()> {
        // Postings only move forward: visit the hits in index order.
        let mut order: Vec<usize> = (0..hits.len()).collect();
        order.sort_by_key(|&i| hits[i].1);
        let term_key = Term::from_field_text(field, term);
        let mut postings: Option<(u32, Option<SegmentPostings>)> = None;
        for i in order {
            let DocAddress {
                segment_ord,
                doc_id,
            } = hits[i].1;
            if postings.as_ref().map(|p| p.0) != Some(segment_ord) {
                let inverted = searcher.segment_reader(segment_ord).inverted_index(field)?;
                postings = Some((segment_ord, inverted.read_postings(&term_key, option)?));
            }
            if let Some((_, Some(p))) = postings.as_mut()
                && p.doc() <= doc_id
                && p.seek(doc_id) == doc_id
            {
                found(i, p);
            }
        }
        Ok(())
    }

    /// Whether a material id is in the index (used by tests and `check`).
    pub fn contains(&self, id: &str) -> bool {
        self.reader
            .searcher()
            .doc_freq(&Term::from_field_text(self.fields.id, id))
            .is_ok_and(|n| n > 0)
    }
}

/// Small stored-text blocks: a result page reads 25 documents for snippets, and each read
/// decompresses a whole block (16 KB by default, most of it other documents).
fn settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_blocksize: 4096,
        ..Default::default()
    }
}

/// A collection's stored texts: a Wikipedia's are gigabytes, so they are kept in zstd blocks
/// of 16 KB, at the price of a few more microseconds a snippet (measured at 200k articles:
/// 241 MB where lz4 in 4 KB blocks took 391, the whole index 709 MB where it was 859).
fn shelf_settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_blocksize: 16384,
        docstore_compression: tantivy::store::Compressor::Zstd(
            tantivy::store::ZstdCompressor::default(),
        ),
        ..Default::default()
    }
}

fn writer(index: &Index) -> Result<IndexWriter> {
    // One indexing and one merge thread: the box has few cores and little memory.
    let options = tantivy::indexer::IndexWriterOptions::builder()
        .memory_budget_per_thread(WRITER_MEMORY)
        .num_worker_threads(1)
        .num_merge_threads(1)
        .build();
    Ok(index.writer_with_options(options)?)
}

/// An empty in-memory index of the library's schema, settings and analysis, with its writer,
/// for unit tests that index documents of their own.
#[cfg(test)]
pub(crate) fn test_index() -> (Index, Fields, IndexWriter) {
    let (schema, fields) = schema::build();
    let index = Index::builder()
        .schema(schema)
        .settings(settings())
        .create_in_ram()
        .expect("index in memory");
    analyzer::register(&index);
    let w = writer(&index).expect("writer");
    (index, fields, w)
}

/// A PDF's page headings ("Trang 7.") are where a hit's page comes from, not words of the
/// text: blanked with as many spaces, so the sections' offsets hold, they neither match
/// "trang" nor show in snippets.
fn blank_page_headings(plain: &mut String, sections: &[crate::content::markdown::Section]) {
    for s in sections {
        let Some(n) = crate::documents::material::page_of_anchor(&s.anchor) else {
            continue;
        };
        let heading = format!("{}.", crate::documents::material::page_heading(n));
        if plain[s.offset..].starts_with(&heading) {
            plain.replace_range(
                s.offset..s.offset + heading.len(),
                &" ".repeat(heading.len()),
            );
        }
    }
}

fn add_all(writer: &mut IndexWriter, f: &Fields, library: &Library) -> Result<()> {
    for m in library.materials() {
        add_one(writer, f, library, m)?;
    }
    Ok(())
}

fn add_one(
    writer: &mut IndexWriter,
    f: &Fields,
    library: &Library,
    m: &crate::content::Material,
) -> Result<()> {
    let parsed = match library.read(m) {
        Ok(p) => p,
        Err(e) => {
            // Changed or vanished since the catalogue was made: leave it out of the index.
            tracing::warn!(id = %m.id, error = %e, "material not indexed");
            return Ok(());
        }
    };
    let (mut plain, sections) = crate::content::markdown::to_plain_text_with_sections(&parsed.body);
    if m.document.as_ref().is_some_and(|d| d.is_pdf()) {
        blank_page_headings(&mut plain, &sections);
    }
    // Tags are keywords chosen by the author: they weigh like the title, and stay out of
    // the stored text so snippets read as prose.
    let heading = format!("{}\n{}", m.title, m.tags.join("\n"));
    let body = format!("{}\n{}", m.summary, plain);
    // Offsets are in `body`, which starts with the summary and a line break.
    let shift = m.summary.len() + 1;
    let sections: Vec<(usize, &str)> = sections
        .iter()
        .map(|s| (s.offset + shift, s.anchor.as_str()))
        .collect();
    writer.add_document(document(
        f,
        &m.id,
        m.category.slug(),
        &heading,
        &body,
        &sections,
    ))?;
    Ok(())
}

/// The indexed document of one text: `heading` (title and keywords) weighs as a title,
/// `body` is searched and stored for snippets, `sections` say where each section of `body`
/// begins and its anchor. Materials and ZIM articles are both made into documents here.
pub fn document(
    f: &Fields,
    id: &str,
    category: &str,
    heading: &str,
    body: &str,
    sections: &[(usize, &str)],
) -> TantivyDocument {
    let mut doc = TantivyDocument::default();
    doc.add_text(f.id, id);
    doc.add_text(f.category, category);
    for field in [f.title_fold, f.title_exact, f.title_pair] {
        doc.add_text(field, heading);
    }
    doc.add_text(f.body_fold, body);
    doc.add_text(f.body_exact, body);
    doc.add_text(f.body_pair, body);
    let all = format!("{heading}\n{body}");
    for field in [f.all_fold, f.all_exact, f.all_pair] {
        doc.add_text(field, &all);
    }
    // Stored in the order a result page reads them, so it can stop before the rest of the
    // text: its length and sections, its head, the rest.
    let mut index = format!("{}\n", body.len());
    for (offset, anchor) in sections {
        index.push_str(&format!("{offset} {anchor}\n"));
    }
    doc.add_bytes(f.sections, index.as_bytes());
    let mut cut = body.len().min(schema::HEAD_BYTES);
    while !body.is_char_boundary(cut) {
        cut -= 1;
    }
    doc.add_bytes(f.snippet_head, &body.as_bytes()[..cut]);
    doc.add_bytes(f.snippet_text, &body.as_bytes()[cut..]);
    doc
}

/// An index of the same schema and analysis as the library's, in `dir` (made if missing),
/// for another shelf's texts (a ZIM collection's articles), with a writer of the box's size.
pub fn shelf_index(dir: &Path) -> Result<(Index, Fields, IndexWriter)> {
    std::fs::create_dir_all(dir)?;
    let (schema, fields) = schema::build();
    let directory = tantivy::directory::MmapDirectory::open(dir)?;
    let index = Index::builder()
        .schema(schema)
        .settings(shelf_settings())
        .open_or_create(directory)?;
    analyzer::register(&index);
    let w = writer(&index)?;
    Ok((index, fields, w))
}

/// Builds a fresh index beside `dir`, then swaps it in.
fn build_into(dir: &Path, library: &Library, stamp: &Stamp) -> Result<()> {
    let parent = dir.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let tmp = sibling(dir, "new");
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    {
        let (schema, fields) = schema::build();
        let index = Index::builder()
            .schema(schema)
            .settings(settings())
            .create_in_dir(&tmp)?;
        analyzer::register(&index);
        let mut w = writer(&index)?;
        add_all(&mut w, &fields, library)?;
        let mut commit = w.prepare_commit()?;
        commit.set_payload(&serde_json::to_string(stamp).unwrap_or_default());
        commit.commit()?;
        w.wait_merging_threads()?;
    }
    // tantivy renames meta.json into place but does not sync the folder; a power cut could
    // otherwise undo the commit.
    sync_dir(&tmp)?;
    if dir.exists() {
        let old = sibling(dir, "old");
        if old.exists() {
            std::fs::remove_dir_all(&old)?;
        }
        std::fs::rename(dir, &old)?;
        std::fs::rename(&tmp, dir)?;
        sync_dir(parent)?;
        if let Err(e) = std::fs::remove_dir_all(&old) {
            tracing::warn!(error = %e, dir = %old.display(), "could not remove old index");
        }
    } else {
        std::fs::rename(&tmp, dir)?;
    }
    sync_dir(parent)?;
    Ok(())
}

fn sibling(dir: &Path, suffix: &str) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{suffix}"));
    dir.with_file_name(name)
}

fn truncate_chars(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// The stored text's length, and where each of its sections begins with its anchor.
fn sections(stored: &[u8]) -> (usize, Vec<(usize, &str)>) {
    let text = std::str::from_utf8(stored).unwrap_or_default();
    let mut lines = text.lines();
    let length = lines.next().and_then(|l| l.parse().ok()).unwrap_or(0);
    let sections = lines
        .filter_map(|line| {
            let (offset, anchor) = line.split_once(' ')?;
            Some((offset.parse().ok()?, anchor))
        })
        .collect();
    (length, sections)
}
