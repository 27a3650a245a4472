//! The manager's quarter report, with a quarter's worth of visits recorded, prints on at most
//! three A4 pages: the commune wants it on paper. Printed with WebDriver's Print Page (A4,
//! portrait, 1 cm margins); the pages are counted in the PDF Chromium makes.

use fantoccini::wd::{PrintConfiguration, PrintSize};

use crate::browser::{Browser, View};
use crate::http::{Jar, Plain, input_values};
use crate::site::{BIG_MATERIAL, LESSON, MANAGER, PASSWORD, Site};

/// Most A4 pages the report may take.
const MAX_PAGES: usize = 3;

/// What visitors search for (the last ones find nothing).
const SEARCHES: [&str; 10] = [
    "lúa",
    "trâu bò mùa rét",
    "phân bón",
    "oresol",
    "khai sinh",
    "lừa đảo điện thoại",
    "dệt",
    "máy cày",
    "giống ngô lai",
    "vay vốn",
];

/// Materials visitors open.
const MATERIALS: [&str; 6] = [
    "agriculture/lua-vu-xuan",
    "agriculture/trau-mua-ret",
    "health/oresol",
    "law/khai-sinh",
    "life-skills/lua-dao-dien-thoai",
    BIG_MATERIAL,
];

/// Visitors (each its own cookie, so its own participant).
const VISITORS: usize = 14;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_quarter_report_prints_on_at_most_three_a4_pages() {
    let site = Site::start().await;
    record_visits(&site).await;
    let Some(b) = Browser::start(&site, View::DESKTOP).await else {
        return;
    };
    b.login(MANAGER, PASSWORD).await;
    let period = this_quarter();
    let path = format!("/admin?period={period}");
    // The visits are committed in batches at most 250 ms old: wait until the report shows them.
    let start = std::time::Instant::now();
    loop {
        b.goto(&path).await;
        if b.text().await.contains("Kỹ thuật trồng lúa nước vụ xuân") {
            break;
        }
        assert!(
            start.elapsed() < crate::browser::WAIT,
            "the report for {period} does not show the visited materials; it says:\n{}",
            b.text().await
        );
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    }
    let config = PrintConfiguration::builder()
        .size(PrintSize::A4)
        .build()
        .unwrap();
    let pdf = b.client().print(config).await.unwrap();
    b.close().await;
    let file =
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("report-{period}.pdf"));
    std::fs::write(&file, &pdf).unwrap();
    let pages = pdf_pages(&pdf).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    assert!(
        pages <= MAX_PAGES,
        "the report {path} prints on {pages} A4 pages (at most {MAX_PAGES}); the PDF is {}",
        file.display()
    );
}

/// The current quarter in Vietnam, as the dashboard names it (`2026-Q4`).
fn this_quarter() -> String {
    let vn = time::UtcOffset::from_hms(7, 0, 0).unwrap();
    let now = time::OffsetDateTime::now_utc().to_offset(vn);
    format!("{}-Q{}", now.year(), (u8::from(now.month()) - 1) / 3 + 1)
}

/// Each visitor opens the home page, a field, a few materials and the lesson, searches twice
/// and, every other one, fills in "Về bạn".
async fn record_visits(site: &Site) {
    let fields = ["agriculture", "health", "law", "life-skills"];
    for i in 0..VISITORS {
        // Each visitor is its own phone, on its own address.
        let plain = Plain::from_address(std::net::IpAddr::from([127, 0, 1, 10 + i as u8]));
        let mut jar = Jar::default();
        let mut paths = vec!["/".to_string(), format!("/c/{}", fields[i % fields.len()])];
        for k in 0..=(i % 3) {
            paths.push(format!("/m/{}", MATERIALS[(i + k) % MATERIALS.len()]));
        }
        for k in 0..2 {
            let q = SEARCHES[(i * 2 + k) % SEARCHES.len()];
            paths.push(format!(
                "/search?q={}",
                form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
            ));
        }
        if i.is_multiple_of(2) {
            paths.push(format!("/l/{LESSON}"));
        }
        for p in &paths {
            let r = plain.get(&site.url(p), jar.header().as_deref()).await;
            assert_eq!(r.status, 200, "visiting {p}: {}", r.text());
            jar.keep(&r);
        }
        if i % 2 == 1 {
            tell_about_me(&plain, site, &mut jar, i).await;
        }
    }
}

/// Sends the "Về bạn" form with the i-th choice of each group.
async fn tell_about_me(plain: &Plain, site: &Site, jar: &mut Jar, i: usize) {
    let page = plain
        .get(&site.url("/ve-ban"), jar.header().as_deref())
        .await;
    let html = page.text();
    let pick = |name: &str| {
        let all = input_values(&html, name);
        assert!(!all.is_empty(), "the profile form has no {name} choices");
        all[i % all.len()].clone()
    };
    let token = pick("token");
    let (age, gender, ethnicity) = (pick("age_band"), pick("gender"), pick("ethnicity"));
    let form = [
        ("token", token.as_str()),
        ("age_band", age.as_str()),
        ("gender", gender.as_str()),
        ("ethnicity", ethnicity.as_str()),
        (
            "village",
            if i % 4 == 1 {
                "Bản Hon"
            } else {
                "Nà Phặc"
            },
        ),
        (
            "newly_literate",
            if i.is_multiple_of(3) { "co" } else { "khong" },
        ),
    ];
    let r = plain
        .post_form(&site.url("/ve-ban"), jar.header().as_deref(), &form)
        .await;
    assert!(
        r.status < 400,
        "saving the profile answered {}: {}",
        r.status,
        r.text()
    );
}

/// Pages in a PDF: `/Type /Page` dictionaries outside streams (compressed page contents
/// cannot fake one). A PDF that keeps objects inside object streams cannot be counted so.
pub fn pdf_pages(pdf: &[u8]) -> Result<usize, String> {
    if !pdf.starts_with(b"%PDF-") {
        return Err("not a PDF".into());
    }
    let mut text = Vec::with_capacity(pdf.len());
    let mut at = 0;
    while at < pdf.len() {
        match find(pdf, b"stream", at) {
            Some(s) if !pdf[..s].ends_with(b"end") => {
                text.extend_from_slice(&pdf[at..s]);
                at = find(pdf, b"endstream", s).ok_or("a stream without its end")? + 9;
            }
            Some(s) => {
                text.extend_from_slice(&pdf[at..s + 6]);
                at = s + 6;
            }
            None => {
                text.extend_from_slice(&pdf[at..]);
                break;
            }
        }
    }
    if find(&text, b"/ObjStm", 0).is_some() {
        return Err("objects in object streams: pages cannot be counted by this harness".into());
    }
    let mut pages = 0;
    let mut from = 0;
    while let Some(t) = find(&text, b"/Type", from) {
        let rest = &text[t + 5..];
        let rest = &rest[rest.iter().take_while(|b| b.is_ascii_whitespace()).count()..];
        if rest.starts_with(b"/Page") && !rest.get(5).is_some_and(u8::is_ascii_alphanumeric) {
            pages += 1;
        }
        from = t + 5;
    }
    if pages == 0 {
        return Err("no page found".into());
    }
    Ok(pages)
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

#[test]
fn pdf_pages_counts_page_objects_and_ignores_stream_bytes() {
    let two = b"%PDF-1.4\n1 0 obj << /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >> endobj\n\
        2 0 obj << /Type /Page /Parent 1 0 R >> endobj\n\
        3 0 obj <</Type/Page/Parent 1 0 R>> endobj\n\
        4 0 obj << /Length 20 >> stream\n/Type /Page /Type /Page\nendstream endobj\n%%EOF";
    assert_eq!(pdf_pages(two), Ok(2));
    assert!(pdf_pages(b"%PDF-1.5\n1 0 obj << /Type /ObjStm >> stream\nx\nendstream").is_err());
    assert!(pdf_pages(b"not a pdf").is_err());
}
