//! Search time in process, without HTTP: the speed benchmark's query mix against a generated
//! library (indexed in memory) or an existing collection index, so that a change to the search
//! itself can be timed without the noise of wrk and the web stack.
//!
//! Run: `cargo bench --bench search_speed -- LIBRARY_DIR QUERIES_FILE` (a library made by
//! `scripts/bench/gen_library.py`, its `paths/hoclieu-search.txt`), or with `--shelf INDEX_DIR`
//! instead of `LIBRARY_DIR` for a ZIM collection's index (`DATA/zim-index/NAME`). Prints the
//! time per query (median and fastest of the rounds: the fastest is the steadier on a busy
//! machine) and the means over the mix.

use std::path::Path;
use std::time::{Duration, Instant};

use hoclieu::content::{Library, Source};
use hoclieu::search::SearchIndex;

const ROUNDS: usize = 30;

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (shelf, target, queries) = match args.as_slice() {
        [flag, dir, q] if flag == "--shelf" => (true, dir, q),
        [dir, q] => (false, dir, q),
        _ => {
            eprintln!("usage: search_speed [--shelf] DIR QUERIES_FILE");
            return;
        }
    };
    let queries = read_queries(Path::new(queries));
    let t = Instant::now();
    let (index, library) = if shelf {
        (
            SearchIndex::open_shelf(Path::new(target)).expect("shelf"),
            None,
        )
    } else {
        let lib = Library::load(Source::dir(Path::new(target)).expect("dir"));
        (SearchIndex::in_memory(&lib).expect("index"), Some(lib))
    };
    println!(
        "{} documents, opened or indexed in {:.1} s",
        index.num_docs(),
        t.elapsed().as_secs_f64()
    );
    let run = |q: &str| match &library {
        Some(lib) => index.search(lib, q, None, 25, 0).map(|r| r.hits.len()),
        None => index
            .search_with(q, None, 25, 0, |id| Some(id.to_string()), |id, _, _, _| id)
            .map(|r| r.hits.len()),
    };
    let mut total = Duration::ZERO;
    let mut fastest = Duration::ZERO;
    for q in &queries {
        let mut times: Vec<Duration> = (0..ROUNDS)
            .map(|_| {
                let t = Instant::now();
                run(q).expect("search");
                t.elapsed()
            })
            .collect();
        times.sort();
        let median = times[ROUNDS / 2];
        total += median;
        fastest += times[0];
        println!(
            "{:>8.0} µs (fastest {:>5.0})  {q}",
            median.as_secs_f64() * 1e6,
            times[0].as_secs_f64() * 1e6
        );
    }
    let n = queries.len() as f64;
    println!(
        "mean {:.0} µs a search over {} queries (of the fastest rounds: {:.0} µs)",
        total.as_secs_f64() * 1e6 / n,
        queries.len(),
        fastest.as_secs_f64() * 1e6 / n
    );
}

/// The `q` of each `/search?q=…` line.
fn read_queries(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("queries file")
        .lines()
        .filter_map(|l| {
            let query = l.split_once('?')?.1;
            form_urlencoded::parse(query.as_bytes())
                .find(|(k, _)| k == "q")
                .map(|(_, v)| v.into_owned())
        })
        .collect()
}
