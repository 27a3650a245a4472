//! What the benchmarks over the Vietnamese retrieval sets share: reading a set, writing its
//! passages as a library of Markdown materials, and scoring ranked answers.

#![allow(dead_code)] // each benchmark uses its own part

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use hoclieu::content::{Library, Source};
use hoclieu::search::{Match, SearchIndex};
use serde::Deserialize;
use unicode_normalization::UnicodeNormalization;

#[derive(Deserialize)]
pub struct Doc {
    pub id: String,
    #[serde(default)]
    pub title: String,
    pub text: String,
}

#[derive(Deserialize)]
pub struct QueryRow {
    pub query: String,
    pub relevant: Vec<String>,
}

#[derive(Default, Clone, Copy)]
pub struct Scores {
    pub r1: f64,
    pub r5: f64,
    pub r10: f64,
    pub mrr: f64,
    pub ms: f64,
    /// Share of queries answered "found" (some hit covers the whole query).
    pub found: f64,
    /// Of the queries whose relevant document is in the first 10, the share where it is
    /// marked a full match: the rest would be reported to the manager as a gap.
    pub rel_full: f64,
    /// Median number of full matches, as a share of the corpus: how honest "Tìm thấy N" is.
    pub full_share: f64,
}

/// What one query returned: ids best first, whether each is a full match, the full count.
pub struct Answer {
    pub ids: Vec<String>,
    pub full: Vec<bool>,
    pub found: bool,
    pub n_full: usize,
}

/// Ranking scores plus, from `answers` (when the system labels its hits), how honest the labels
/// are against the relevance judgments.
pub fn score_answers(
    answers: &[Answer],
    queries: &[QueryRow],
    docs: usize,
    elapsed_ms: f64,
) -> Scores {
    let ranked: Vec<Vec<String>> = answers.iter().map(|a| a.ids.clone()).collect();
    let mut s = score(&ranked, queries, elapsed_ms);
    let n = answers.len().max(1) as f64;
    s.found = 100.0 * answers.iter().filter(|a| a.found).count() as f64 / n;
    let (mut seen, mut full) = (0usize, 0usize);
    for (a, q) in answers.iter().zip(queries) {
        if let Some(p) = a.ids.iter().take(10).position(|h| q.relevant.contains(h)) {
            seen += 1;
            full += usize::from(a.full[p]);
        }
    }
    s.rel_full = 100.0 * full as f64 / seen.max(1) as f64;
    let mut counts: Vec<usize> = answers.iter().map(|a| a.n_full).collect();
    counts.sort_unstable();
    s.full_share =
        100.0 * counts.get(counts.len() / 2).copied().unwrap_or(0) as f64 / docs.max(1) as f64;
    s
}

pub fn score(ranked: &[Vec<String>], queries: &[QueryRow], elapsed_ms: f64) -> Scores {
    let mut s = Scores::default();
    for (hits, q) in ranked.iter().zip(queries) {
        let rel: HashSet<&str> = q.relevant.iter().map(String::as_str).collect();
        let first = hits.iter().take(10).position(|h| rel.contains(h.as_str()));
        if let Some(p) = first {
            s.mrr += 1.0 / (p as f64 + 1.0);
            s.r10 += 1.0;
            if p < 5 {
                s.r5 += 1.0;
            }
            if p < 1 {
                s.r1 += 1.0;
            }
        }
    }
    let n = queries.len().max(1) as f64;
    Scores {
        r1: 100.0 * s.r1 / n,
        r5: 100.0 * s.r5 / n,
        r10: 100.0 * s.r10 / n,
        mrr: 100.0 * s.mrr / n,
        ms: elapsed_ms / n,
        ..Scores::default()
    }
}

pub fn read_jsonl<T: for<'de> Deserialize<'de>>(p: &Path) -> Vec<T> {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}

/// Writes the corpus as a hoclieu library: one material per document.
pub fn write_library(docs: &[Doc], dir: &Path) {
    let folder = dir.join("health");
    std::fs::create_dir_all(&folder).expect("mkdir");
    for d in docs {
        // The id stands in for a title when there is none: it is never a query word.
        let title = if d.title.trim().is_empty() {
            d.id.as_str()
        } else {
            d.title.as_str()
        };
        let body = d.text.replace("\n+++", "\n +++");
        let md = format!(
            "+++\ntitle = {}\ncategory = \"health\"\n+++\n{}\n",
            toml_string(title),
            body
        );
        std::fs::write(folder.join(format!("{}.md", safe_name(&d.id))), md).expect("write");
    }
}

pub fn toml_string(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

pub fn safe_name(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub fn strip_marks(q: &str) -> String {
    q.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c => c,
        })
        .collect()
}

/// Where the sets are: `$HOCLIEU_RETRIEVAL_DIR`, else `../shared/bench/retrieval`; `None`
/// when absent (a user's clone has no `shared/`).
pub fn root() -> Option<PathBuf> {
    let root: PathBuf = std::env::var_os("HOCLIEU_RETRIEVAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/retrieval"));
    root.is_dir().then_some(root)
}

/// The sets under `root`, by name.
pub fn names(root: &Path) -> Vec<String> {
    let mut sets: Vec<String> = std::fs::read_dir(root)
        .expect("read dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("corpus.jsonl").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    sets.sort();
    sets
}

/// Indexes `docs` as a library and runs `queries` (without their marks if `strip`): the
/// scores, and the seconds loading and indexing took.
pub fn run_hoclieu(docs: &[Doc], queries: &[QueryRow], strip: bool) -> (Scores, f64) {
    let dir = tempfile::tempdir().expect("tmp");
    write_library(docs, dir.path());
    let t = Instant::now();
    let lib = Library::load(Source::dir(dir.path()).expect("dir"));
    assert!(
        lib.problems().is_empty(),
        "corpus did not load cleanly: {:?}",
        &lib.problems()[..lib.problems().len().min(3)]
    );
    let index = SearchIndex::in_memory(&lib).expect("index");
    let build_s = t.elapsed().as_secs_f64();
    let by_file: HashMap<String, String> = docs
        .iter()
        .map(|d| (format!("health/{}", safe_name(&d.id)), d.id.clone()))
        .collect();
    let t = Instant::now();
    let answers: Vec<Answer> = queries
        .iter()
        .map(|q| {
            let text = if strip {
                strip_marks(&q.query)
            } else {
                q.query.clone()
            };
            let r = index.search(&lib, &text, None, 10, 0).expect("search");
            Answer {
                full: r.hits.iter().map(|h| h.matched == Match::Full).collect(),
                ids: r
                    .hits
                    .into_iter()
                    .map(|h| by_file.get(&h.id).cloned().unwrap_or(h.id))
                    .collect(),
                found: r.found,
                n_full: r.full,
            }
        })
        .collect();
    (
        score_answers(
            &answers,
            queries,
            docs.len(),
            t.elapsed().as_secs_f64() * 1000.0,
        ),
        build_s,
    )
}
