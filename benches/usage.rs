//! Usage-log costs: what recording adds to a page view, how fast the writer commits, and how
//! long a one-year report over a million events takes. Run with `cargo bench --bench usage`.
//! Prints a Markdown table; `scripts/bench/RESULTS.md` keeps the numbers for the current code.

use std::time::Instant;

use hoclieu::content::Category;
use hoclieu::usage::report::{Period, report};
use hoclieu::usage::store::Store;
use hoclieu::usage::{self, EventKind, UsageEvent};

const EVENTS: usize = 1_000_000;
const PARTICIPANTS: usize = 3_000;

fn event(i: usize, year_start_ms: i64) -> UsageEvent {
    let cats = Category::ALL;
    // Spread over a year, most between 07:00 and 21:00.
    let day = (i * 7919) % 365;
    let minute = 7 * 60 + (i * 104_729) % (14 * 60);
    let who = (i * 2_654_435_761) % PARTICIPANTS;
    let c = cats[i % 4];
    let search = i.is_multiple_of(5);
    UsageEvent {
        at_ms: year_start_ms + (day as i64 * 86_400 + minute as i64 * 60) * 1000,
        kind: if search {
            EventKind::Search
        } else {
            EventKind::View
        },
        participant: format!("{who:032x}"),
        material: (!search).then(|| format!("{}/tai-lieu-{}", c.slug(), i % 300)),
        category: Some(c),
        query: search.then(|| format!("tu khoa {}", i % 500)),
        results: search.then_some((i % 7) as u64),
        guess: None,
    }
}

fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let year_start_ms = 1_767_200_400_000; // 2026-01-01 00:00 in Vietnam

    // 1. What a handler pays: build the event and queue it (the writer runs meanwhile).
    let store = Store::open(dir.path()).expect("store");
    let (rec, writer) = usage::start(store);
    // Fewer than the queue holds, so every event is really queued (none dropped).
    let n = 8_000;
    let t = Instant::now();
    for i in 0..n {
        rec.record(event(i, year_start_ms));
    }
    let per_view = t.elapsed().as_nanos() as f64 / n as f64;
    let t = Instant::now();
    writer.finish();
    let drain = t.elapsed();
    let s = rec.stats();
    let queued = s.queued.load(std::sync::atomic::Ordering::Relaxed);
    let dropped = s.dropped.load(std::sync::atomic::Ordering::Relaxed);

    // 2. Writer throughput and 3. a one-year report over a million events.
    let dir2 = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(dir2.path()).expect("store");
    let t = Instant::now();
    let all: Vec<UsageEvent> = (0..EVENTS).map(|i| event(i, year_start_ms)).collect();
    for chunk in all.chunks(2000) {
        store.insert(chunk).expect("insert");
    }
    let write = t.elapsed();
    let year = Period::named("2026").expect("period");
    let groups = hoclieu::usage::profile::default_groups();
    let t = Instant::now();
    let r = report(store.conn(), year, &groups).expect("report");
    let _prev = report(store.conn(), year.previous(), &groups).expect("report");
    let one_year = t.elapsed();
    let q = Period::named("2026-Q3").expect("period");
    let t = Instant::now();
    report(store.conn(), q, &groups).expect("report");
    let quarter = t.elapsed();
    let size = std::fs::metadata(hoclieu::data_dir::DataDir::new(dir2.path()).database())
        .map(|m| m.len())
        .unwrap_or(0);

    println!("| measure | value | target |");
    println!("| --- | --- | --- |");
    println!(
        "| record one page view (build + queue), mean | {:.2} µs | < 50 µs |",
        per_view / 1000.0
    );
    println!("| events queued / dropped (queue full) | {queued} / {dropped} | |");
    println!(
        "| writer drain after the burst | {:.2} s | |",
        drain.as_secs_f64()
    );
    println!(
        "| commit {EVENTS} events in batches of 2000 | {:.1} s ({:.0} events/s) | |",
        write.as_secs_f64(),
        EVENTS as f64 / write.as_secs_f64()
    );
    println!(
        "| one-year report + previous year, {EVENTS} events, {PARTICIPANTS} devices | {:.0} ms | < 1000 ms |",
        one_year.as_secs_f64() * 1000.0
    );
    println!(
        "| one-quarter report | {:.0} ms | |",
        quarter.as_secs_f64() * 1000.0
    );
    println!("| database size | {:.1} MB | |", size as f64 / 1e6);
    println!(
        "| report check: participants {} views {} | | |",
        r.participants, r.views
    );
}
