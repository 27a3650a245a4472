//! Vietnam's ~11,000 community learning centres send a year of summaries to one instance
//! (a province's or the ministry's): each centre's box signs its quarters, half-years and year
//! with its own key; the instance checks and imports every file, then writes Parquet. Prints
//! one JSON line of measurements (scripts/bench/district_scale.sh runs it, then DuckDB).
//!
//! `cargo bench --bench district_scale -- OUT_DIR` (CENTRES=11000 by default).

use std::path::PathBuf;
use std::time::Instant;

use hoclieu::box_key::BoxKey;
use hoclieu::content::Category;
use hoclieu::summary::{self, BoxDays, Centre, Summary};
use hoclieu::usage::counts::{Counts, DayTally, FieldTally, GroupTally, SearchTally, UseTally};

/// Each centre's periods of the year.
const PERIODS: [&str; 7] = [
    "2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4", "2026-H1", "2026-H2", "2026",
];

/// Vietnam's provinces since the 2025 merger.
const PROVINCES: usize = 34;

/// A small reproducible random source (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A centre's tallies for a period: a plausible size (larger periods have more people, but
/// fewer than the sum of their parts) and the full shape of a real summary.
fn counts(rng: &mut Rng, base: u64, days_in: u64) -> Counts {
    let participants = base + rng.below(base / 2 + 1);
    let share = |rng: &mut Rng, n: u64, parts: usize| -> Vec<u64> {
        let mut left = n;
        let mut out = Vec::new();
        for k in 0..parts {
            let v = if k + 1 == parts {
                left
            } else {
                rng.below(left / 2 + 1)
            };
            left -= v;
            out.push(v);
        }
        out
    };
    let mut groups = std::collections::BTreeMap::new();
    for (q, answers) in [
        (
            "age_band",
            &["duoi-15", "15-25", "26-60", "tren-60", ""][..],
        ),
        ("gender", &["nu", "nam", "khac", ""][..]),
        (
            "ethnicity",
            &["kinh", "thai", "mong", "dao", "tay", "khac", ""][..],
        ),
        ("newly_literate", &["1", "0", ""][..]),
    ] {
        let cells = share(rng, participants, answers.len());
        groups.insert(
            q.to_string(),
            answers
                .iter()
                .zip(cells)
                .map(|(a, n)| GroupTally {
                    group: a.to_string(),
                    label: a.to_string(),
                    participants: n,
                })
                .collect(),
        );
    }
    let fields = Category::ALL
        .iter()
        .map(|c| {
            let p = rng.below(participants + 1);
            (
                c.slug().to_string(),
                FieldTally {
                    participants: p,
                    views: p * (1 + rng.below(4)),
                },
            )
        })
        .collect();
    let uses = |rng: &mut Rng, n: usize, prefix: &str| -> Vec<UseTally> {
        let mut v: Vec<UseTally> = (0..n)
            .map(|k| {
                let p = rng.below(participants / 3 + 2);
                UseTally {
                    id: format!("{prefix}/tai-lieu-{k:03}"),
                    title: format!("Tài liệu số {k} về kỹ thuật canh tác và chăm sóc"),
                    views: p * 2,
                    participants: p,
                }
            })
            .collect();
        hoclieu::usage::counts::sort_uses(&mut v);
        v
    };
    let searches = |rng: &mut Rng, n: usize| -> Vec<SearchTally> {
        let mut v: Vec<SearchTally> = (0..n)
            .map(|k| SearchTally {
                query: format!("tim kiem so {k}"),
                searches: 5 + rng.below(40),
                participants: 5 + rng.below(10),
            })
            .collect();
        hoclieu::usage::counts::sort_searches(&mut v);
        v
    };
    let active = (days_in * 2 / 3).max(1);
    Counts {
        participants,
        sessions: participants * 3,
        views: participants * 7,
        searches: participants * 2,
        fields,
        groups,
        materials: uses(rng, 40, "agriculture"),
        lessons: uses(rng, 5, "lesson"),
        collections: uses(rng, 2, "wikipedia"),
        top_searches: searches(rng, 15),
        not_found: searches(rng, 8),
        days: (0..active)
            .map(|d| DayTally {
                date: format!("2026-{:02}-{:02}", 1 + (d / 28) % 12, 1 + d % 28),
                participants: 1 + rng.below(participants / 5 + 1),
            })
            .collect(),
    }
}

fn main() {
    let centres: usize = std::env::var("CENTRES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(11_000);
    let out = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/district-scale"));
    let _ = std::fs::remove_dir_all(&out);
    let files_dir = out.join("files");
    std::fs::create_dir_all(&files_dir).expect("district_scale: a step of the simulation failed");

    // 1. Every centre signs its year.
    let mut sign_s = 0.0;
    let mut bytes_total = 0u64;
    let mut paths = Vec::new();
    let made = Instant::now();
    for i in 0..centres {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (i as u64 + 1));
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(i as u64).to_le_bytes());
        seed[8] = 0xd1;
        let key = BoxKey::from_seed(seed);
        let base = 20 + rng.below(200);
        for (k, period) in PERIODS.iter().enumerate() {
            let (name, p) = summary::named_period(period)
                .expect("district_scale: a step of the simulation failed");
            let scale = match k {
                0..=3 => 1.0,
                4 | 5 => 1.4,
                _ => 1.8,
            };
            let days = p.days() as u64;
            let s = Summary {
                schema: summary::SCHEMA,
                centre: Centre {
                    name: format!("TTHTCĐ xã Số {i}"),
                    commune: format!("Xã Số {i}"),
                    district: format!("Huyện Số {}", i / 20),
                    province: format!("Tỉnh Số {}", i % PROVINCES),
                },
                period: name,
                from: hoclieu::clock::iso(p.from),
                to: hoclieu::clock::iso(p.to),
                complete: true,
                revision: 1,
                made_at: "2027-01-05T09:00:00+07:00".into(),
                clock_trusted: true,
                box_days: BoxDays {
                    days,
                    on: days * 4 / 5,
                    trusted: days * 3 / 4,
                },
                counts: counts(&mut rng, (base as f64 * scale) as u64, days),
            };
            let t = Instant::now();
            let file = summary::seal(&s, &key);
            sign_s += t.elapsed().as_secs_f64();
            bytes_total += file.len() as u64;
            let path = files_dir.join(format!("{i:05}-{period}.hoclieu-summary.json"));
            std::fs::write(&path, &file).expect("district_scale: a step of the simulation failed");
            paths.push(path);
        }
    }
    let make_s = made.elapsed().as_secs_f64();
    let files = paths.len();

    // 2. Signature checks alone (read, parse, verify), on every file.
    let t = Instant::now();
    for p in &paths {
        let bytes = std::fs::read(p).expect("district_scale: a step of the simulation failed");
        summary::open(&bytes).expect("district_scale: a step of the simulation failed");
    }
    let verify_s = t.elapsed().as_secs_f64();

    // 3. The instance imports every file, as `hoclieu district import` does.
    let db_dir = out.join("instance");
    std::fs::create_dir_all(&db_dir).expect("district_scale: a step of the simulation failed");
    let conn = hoclieu::usage::store::Store::open(&db_dir)
        .expect("district_scale: a step of the simulation failed")
        .into_conn();
    hoclieu::district::migrate(&conn).expect("district_scale: a step of the simulation failed");
    let t = Instant::now();
    let mut refused = 0;
    for chunk in paths.chunks(hoclieu::district::BATCH) {
        let read: Vec<Vec<u8>> = chunk
            .iter()
            .map(|p| std::fs::read(p).expect("district_scale: a step of the simulation failed"))
            .collect();
        let done = hoclieu::district::import_many(
            &conn,
            read.iter().map(Vec::as_slice),
            "",
            hoclieu::clock::now_ms(),
        )
        .expect("district_scale: a step of the simulation failed");
        refused += done.iter().filter(|d| d.is_err()).count();
    }
    let import_s = t.elapsed().as_secs_f64();
    drop(conn);
    let db_bytes = std::fs::metadata(hoclieu::data_dir::DataDir::new(&db_dir).database())
        .map(|m| m.len())
        .unwrap_or(0);

    // 4. Parquet for the national engine.
    let conn = hoclieu::usage::store::Store::open(&db_dir)
        .expect("district_scale: a step of the simulation failed")
        .into_conn();
    let t = Instant::now();
    let tables = hoclieu::district::parquet::export(&conn, &out.join("parquet"))
        .expect("district_scale: a step of the simulation failed");
    let export_s = t.elapsed().as_secs_f64();
    let parquet_bytes: u64 = tables
        .iter()
        .map(|(p, _)| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0))
        .sum();
    let rows: serde_json::Map<String, serde_json::Value> = tables
        .iter()
        .map(|(p, n)| {
            (
                p.file_stem()
                    .expect("district_scale: a step of the simulation failed")
                    .to_string_lossy()
                    .into_owned(),
                serde_json::json!(n),
            )
        })
        .collect();

    println!(
        "{}",
        serde_json::json!({
            "centres": centres,
            "files": files,
            "refused": refused,
            "file_bytes_total": bytes_total,
            "file_bytes_mean": bytes_total / files.max(1) as u64,
            "make_and_write_s": make_s,
            "sign_s": sign_s,
            "signatures_per_s": files as f64 / sign_s,
            "verify_s": verify_s,
            "checks_per_s": files as f64 / verify_s,
            "import_s": import_s,
            "imports_per_s": files as f64 / import_s,
            "instance_db_bytes": db_bytes,
            "parquet_export_s": export_s,
            "parquet_bytes": parquet_bytes,
            "parquet_rows": rows,
        })
    );
}
