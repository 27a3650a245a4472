//! Search quality on real Vietnamese retrieval sets (`../shared/bench/retrieval`, evaluation only,
//! never copied into the repository). Each corpus is written out as a library of Markdown
//! materials, indexed by hoclieu and queried through `SearchIndex::search`, exactly as the
//! server does. Beside it: a plain BM25 over tantivy's default tokenizer on the same documents,
//! the published baseline, and the same queries typed without diacritics.
//!
//! Run: `scripts/bench/retrieval.sh` (or `cargo bench --bench retrieval`). Writes
//! `scripts/bench/retrieval.md`.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use hoclieu::content::{Library, Source};
use hoclieu::search::SearchIndex;
use serde::Deserialize;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, STORED, STRING, Schema, TEXT, Value};
use tantivy::{Index, TantivyDocument, Term};
use unicode_normalization::UnicodeNormalization;

#[derive(Deserialize)]
struct Doc {
    id: String,
    #[serde(default)]
    title: String,
    text: String,
}

#[derive(Deserialize)]
struct QueryRow {
    query: String,
    relevant: Vec<String>,
}

/// Published BM25 (ViRE, EACL 2026 Findings): P@1, R@10, MRR@10. For ViNewsQA, the set here
/// differs from the paper's; the README's own measurement of that BM25 setting is used.
fn published(set: &str) -> Option<(f64, f64, f64)> {
    match set {
        "vire-vimedaqa" => Some((65.40, 84.50, 71.36)),
        "vire-alqac" => Some((89.25, 97.92, 92.20)),
        "vire-virhe4qa" => Some((65.80, 93.50, 76.05)),
        "vinewsqa-test" => Some((60.14, 82.39, 67.20)),
        _ => None,
    }
}

#[derive(Default, Clone, Copy)]
struct Scores {
    r1: f64,
    r5: f64,
    r10: f64,
    mrr: f64,
    ms: f64,
}

fn score(ranked: &[Vec<String>], queries: &[QueryRow], elapsed_ms: f64) -> Scores {
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
    }
}

fn read_jsonl<T: for<'de> Deserialize<'de>>(p: &Path) -> Vec<T> {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("valid JSON line"))
        .collect()
}

/// Writes the corpus as a hoclieu library: one material per document.
fn write_library(docs: &[Doc], dir: &Path) {
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

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).expect("string")
}

fn safe_name(id: &str) -> String {
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

fn strip_marks(q: &str) -> String {
    q.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .map(|c| match c {
            'đ' => 'd',
            'Đ' => 'D',
            c => c,
        })
        .collect()
}

fn run_hoclieu(docs: &[Doc], queries: &[QueryRow], strip: bool) -> (Scores, f64) {
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
    let ranked: Vec<Vec<String>> = queries
        .iter()
        .map(|q| {
            let text = if strip {
                strip_marks(&q.query)
            } else {
                q.query.clone()
            };
            index
                .search(&lib, &text, None, 10, 0)
                .expect("search")
                .hits
                .into_iter()
                .map(|h| by_file.get(&h.id).cloned().unwrap_or(h.id))
                .collect()
        })
        .collect();
    (
        score(&ranked, queries, t.elapsed().as_secs_f64() * 1000.0),
        build_s,
    )
}

/// BM25 with tantivy's default tokenizer (split on non-alphanumerics, lowercase), every query
/// token a SHOULD clause: what one gets from tantivy without any Vietnamese analysis.
fn run_plain(docs: &[Doc], queries: &[QueryRow]) -> Scores {
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING | STORED);
    let text = b.add_text_field("text", TEXT);
    let index = Index::create_in_ram(b.build());
    let mut w = index.writer(50_000_000).expect("writer");
    for d in docs {
        let mut doc = TantivyDocument::default();
        doc.add_text(id, &d.id);
        doc.add_text(text, format!("{}\n{}", d.title, d.text));
        w.add_document(doc).expect("add");
    }
    w.commit().expect("commit");
    let reader = index.reader().expect("reader");
    let searcher = reader.searcher();
    let mut tok = index.tokenizer_for_field(text).expect("tokenizer");
    let t = Instant::now();
    let ranked: Vec<Vec<String>> = queries
        .iter()
        .map(|q| {
            let mut terms = Vec::new();
            let mut stream = tok.token_stream(&q.query);
            while let Some(t) = stream.next() {
                terms.push(t.text.clone());
            }
            terms.sort();
            terms.dedup();
            let clauses: Vec<(Occur, Box<dyn Query>)> = terms
                .iter()
                .map(|t| {
                    let q: Box<dyn Query> = Box::new(TermQuery::new(
                        Term::from_field_text(text, t),
                        IndexRecordOption::WithFreqs,
                    ));
                    (Occur::Should, q)
                })
                .collect();
            let top = searcher
                .search(
                    &BooleanQuery::new(clauses),
                    &TopDocs::with_limit(10).order_by_score(),
                )
                .expect("search");
            top.into_iter()
                .filter_map(|(_, a)| {
                    let d: TantivyDocument = searcher.doc(a).ok()?;
                    d.get_first(id).and_then(|v| v.as_str()).map(str::to_string)
                })
                .collect()
        })
        .collect();
    score(&ranked, queries, t.elapsed().as_secs_f64() * 1000.0)
}

fn main() {
    let root: PathBuf = std::env::var_os("HOCLIEU_RETRIEVAL_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/retrieval"));
    if !root.is_dir() {
        println!(
            "retrieval sets not found at {} (set HOCLIEU_RETRIEVAL_DIR); nothing to measure",
            root.display()
        );
        return;
    }
    let mut sets: Vec<String> = std::fs::read_dir(&root)
        .expect("read dir")
        .filter_map(Result::ok)
        .filter(|e| e.path().join("corpus.jsonl").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    sets.sort();
    let mut out = String::new();
    out.push_str("| set | system | R@1 | R@5 | R@10 | MRR@10 | ms/query |\n");
    out.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    let mut summary = Vec::new();
    for set in &sets {
        let docs: Vec<Doc> = read_jsonl(&root.join(set).join("corpus.jsonl"));
        let queries: Vec<QueryRow> = read_jsonl(&root.join(set).join("queries.jsonl"));
        let (h, build_s) = run_hoclieu(&docs, &queries, false);
        let (stripped, _) = run_hoclieu(&docs, &queries, true);
        let plain = run_plain(&docs, &queries);
        let row = |name: &str, s: Scores| {
            format!(
                "| {set} | {name} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
                s.r1, s.r5, s.r10, s.mrr, s.ms
            )
        };
        if let Some((p1, r10, mrr)) = published(set) {
            out.push_str(&format!(
                "| {set} | published BM25 (word-segmented) | {p1:.2} | – | {r10:.2} | {mrr:.2} | – |\n"
            ));
        }
        out.push_str(&row("plain BM25 (tantivy default tokenizer)", plain));
        out.push_str(&row("**hoclieu**", h));
        out.push_str(&row("hoclieu, queries typed without marks", stripped));
        summary.push(format!(
            "- {set}: {} docs, {} queries, index built in {build_s:.2} s; hoclieu MRR@10 {:.2} vs published {:.2} ({:+.2}); without marks {:+.2}",
            docs.len(),
            queries.len(),
            h.mrr,
            published(set).map_or(f64::NAN, |p| p.2),
            h.mrr - published(set).map_or(f64::NAN, |p| p.2),
            stripped.mrr - h.mrr,
        ));
    }
    println!("{out}");
    for s in &summary {
        println!("{s}");
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench/retrieval.md");
    let mut f = std::fs::File::create(&path).expect("write results");
    writeln!(
        f,
        "# Search quality on Vietnamese retrieval sets\n\nGenerated by `scripts/bench/retrieval.sh`. \
         R@k: share of queries with a relevant document in the first k results (equals P@1 for k = 1 \
         with one relevant document per query). MRR@10: mean reciprocal rank of the first relevant \
         document within 10.\n\n{out}\n{}\n",
        summary.join("\n")
    )
    .expect("write");
    println!("\nwritten to {}", path.display());
}
