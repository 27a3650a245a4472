//! The district's half-year report for fifteen centres prints on at most three A4 pages, with
//! its official header and signature lines. The centres' summaries are made by fifteen boxes'
//! own code (in this process), imported with `hoclieu district import`, and the page printed
//! with WebDriver's Print Page (A4).

use fantoccini::wd::{PrintConfiguration, PrintSize};

use hoclieu::box_key::BoxKey;
use hoclieu::content::Category;
use hoclieu::summary::{self, Centre, Made};
use hoclieu::usage::store::Store;
use hoclieu::usage::{EventKind, UsageEvent};

use crate::browser::{Browser, View};
use crate::report_print::pdf_pages;
use crate::site::{MANAGER, PASSWORD, Site, hoclieu};

/// Communes of a district (names only; the numbers are made up here).
const COMMUNES: [&str; 15] = [
    "Bản Bo",
    "Bình Lư",
    "Khun Há",
    "Nà Tăm",
    "Nùng Nàng",
    "Sơn Bình",
    "Sùng Phài",
    "Tả Lèng",
    "Hồ Thầu",
    "Giang Ma",
    "Bản Giang",
    "Bản Hon",
    "Thèn Sin",
    "Tả Phìn",
    "Phong Thổ Mới",
];

/// A centre's box: visitors over the half-year, then its signed summary.
fn centre_file(i: usize, commune: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let day0 = hoclieu::clock::day_number(hoclieu::clock::parse_date("2026-07-01").unwrap());
    let mut events = Vec::new();
    for p in 0..(8 + i * 3) {
        let who = format!("{i:02}{p:030}");
        let at = (day0 + (p as i64 * 7) % 180) * 86_400_000 + 3 * 3_600_000;
        let e = |kind: EventKind| UsageEvent {
            at_ms: at,
            kind,
            participant: who.clone(),
            material: Some("agriculture/lua-vu-xuan".into()),
            category: Some(Category::Agriculture),
            query: None,
            results: None,
            guess: None,
        };
        events.push(e(EventKind::Kept));
        events.push(e(EventKind::View));
    }
    store.insert(&events).unwrap();
    let conn = store.conn();
    let key = BoxKey::load_or_create(conn).unwrap();
    let titles = hoclieu::usage::export::Titles::default();
    let groups = hoclieu::usage::profile::default_groups();
    let made = Made {
        centre: Centre {
            name: format!("TTHTCĐ xã {commune}"),
            commune: commune.into(),
            district: "Tam Đường".into(),
            province: "Lai Châu".into(),
        },
        ethnic_groups: &groups,
        titles: &titles,
        now_ms: day0 * 86_400_000 + 200 * 86_400_000,
        clock_trusted: true,
    };
    summary::seal(&summary::make(conn, "2026-H2", &made).unwrap(), &key)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_district_report_of_fifteen_centres_prints_on_at_most_three_a4_pages() {
    let site = Site::start_with("role = \"district\"\ndistrict = \"Tam Đường\"\n").await;
    let files = site.scratch("summaries");
    let mut paths = Vec::new();
    for (i, c) in COMMUNES.iter().enumerate() {
        let p = files.join(format!("{i}.hoclieu-summary.json"));
        std::fs::write(&p, centre_file(i, c)).unwrap();
        paths.push(p);
    }
    let out = hoclieu(&site.config())
        .args(["district", "import", "--data"])
        .arg(&site.data)
        .args(&paths)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(said.matches("đã nhận").count(), 15, "{said}");

    let Some(b) = Browser::start(&site, View::DESKTOP).await else {
        return;
    };
    b.login(MANAGER, PASSWORD).await;
    b.goto("/admin/district?period=2026-H2").await;
    let text = b.text().await;
    assert!(text.contains("TTHTCĐ xã Phong Thổ Mới"), "{text}");
    assert!(text.contains("Trưởng phòng"), "{text}");
    let config = PrintConfiguration::builder()
        .size(PrintSize::A4)
        .build()
        .unwrap();
    let pdf = b.client().print(config).await.unwrap();
    // On a manager's phone the page fits its width (wide tables scroll inside themselves).
    b.set_view(View::PHONE).await;
    b.goto("/admin/district?period=2026-H2").await;
    let fits = b
        .js(
            "return document.documentElement.scrollWidth <= window.innerWidth;",
            vec![],
        )
        .await;
    assert_eq!(
        fits,
        serde_json::json!(true),
        "the district page is wider than a 360 px phone"
    );
    b.close().await;
    let file = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("district-2026-H2.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let pages = pdf_pages(&pdf).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(
        pages <= 3,
        "the district report prints on {pages} A4 pages (at most 3); the PDF is {}",
        file.display()
    );
}
