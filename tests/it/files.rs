//! Attachments and assets: content types, HTTP ranges, conditional requests, and safe paths.

use crate::util::TestApp;

const MP3: &str = "/m/agriculture/lua-vu-xuan-bai-giang.mp3";

fn expected_mp3() -> Vec<u8> {
    (0..4096u32).map(|i| ((i * 7 + 3) % 256) as u8).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn serves_attachments_with_type_and_ranges() {
    let app = TestApp::new();
    let full = app.get(MP3).await;
    full.assert_status(200);
    assert_eq!(full.header("content-type"), "audio/mpeg");
    assert_eq!(full.header("accept-ranges"), "bytes");
    assert_eq!(full.body, expected_mp3());
    let etag = full.header("etag").to_string();
    assert!(etag.starts_with('"'), "strong etag: {etag}");

    let part = app.get_with(MP3, &[("range", "bytes=10-19")]).await;
    part.assert_status(206);
    assert_eq!(part.header("content-range"), "bytes 10-19/4096");
    assert_eq!(part.body, expected_mp3()[10..20]);

    let tail = app.get_with(MP3, &[("range", "bytes=-5")]).await;
    tail.assert_status(206);
    assert_eq!(tail.body, expected_mp3()[4091..]);

    let same = app
        .get_with(MP3, &[("range", "bytes=0-3"), ("if-range", &etag)])
        .await;
    same.assert_status(206);
    assert_eq!(same.body.len(), 4);
    let changed = app
        .get_with(MP3, &[("range", "bytes=0-3"), ("if-range", "\"stale\"")])
        .await;
    changed.assert_status(200);
    assert_eq!(changed.body.len(), 4096);

    let beyond = app.get_with(MP3, &[("range", "bytes=5000-6000")]).await;
    beyond.assert_status(416);
    assert_eq!(beyond.header("content-range"), "bytes */4096");

    let cached = app.get_with(MP3, &[("if-none-match", &etag)]).await;
    cached.assert_status(304);
}

#[tokio::test(flavor = "multi_thread")]
async fn embedded_attachments_support_ranges_too() {
    let app = TestApp::embedded();
    let res = app.get("/api/materials").await;
    let json = res.json();
    let att = json
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["attachments"].as_array().unwrap().clone())
        .next()
        .expect("the starter library has an attachment");
    let url = att["url"].as_str().unwrap();
    let bytes = att["bytes"].as_u64().unwrap();
    let full = app.get(url).await;
    full.assert_status(200);
    assert_eq!(full.body.len() as u64, bytes);
    assert_eq!(
        full.header("content-type"),
        att["content_type"].as_str().unwrap()
    );
    let part = app.get_with(url, &[("range", "bytes=1-4")]).await;
    part.assert_status(206);
    assert_eq!(part.body, full.body[1..5]);
    assert_eq!(part.header("content-range"), format!("bytes 1-4/{bytes}"));
}

#[tokio::test(flavor = "multi_thread")]
async fn svg_attachments_cannot_run_script() {
    let app = TestApp::new();
    let res = app.get("/m/agriculture/lua-vu-xuan-lich.svg").await;
    res.assert_status(200);
    assert_eq!(res.header("content-type"), "image/svg+xml");
    assert!(
        res.header("content-security-policy")
            .contains("default-src 'none'")
    );
    assert_eq!(res.header("x-content-type-options"), "nosniff");
}

#[tokio::test(flavor = "multi_thread")]
async fn nothing_outside_the_library_is_served() {
    let app = TestApp::with(|lib| {
        let outside = lib.parent().unwrap().join("secret.txt");
        std::fs::write(&outside, "secret").unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&outside, lib.join("agriculture/link.txt")).unwrap();
            std::os::unix::fs::symlink("/etc", lib.join("agriculture/etc")).unwrap();
        }
    });
    for path in [
        "/m/../Cargo.toml",
        "/m/%2e%2e/%2e%2e/Cargo.toml",
        "/m/agriculture/%2e%2e/%2e%2e/secret.txt",
        "/m/agriculture/..%2f..%2fsecret.txt",
        "/m//etc/passwd",
        "/m/%2Fetc%2Fpasswd",
        "/m/agriculture/link.txt",
        "/m/agriculture/etc/passwd",
        "/m/agriculture/lua-vu-xuan.md",
        "/static/../Cargo.toml",
        "/static/%2e%2e/Cargo.toml",
        "/static/..%5c..%5cCargo.toml",
        "/secret.txt",
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status, 404, "{path} -> {}", res.status);
        assert!(!res.text().contains("secret"), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn assets_are_cached_and_compressed() {
    let app = TestApp::new();
    let home = app.get("/").await.text();
    let css = home
        .split('"')
        .find(|s| s.starts_with("/static/style.css?v="))
        .expect("home links the stylesheet with a version")
        .to_string();
    let res = app.get_with(&css, &[("accept-encoding", "gzip")]).await;
    res.assert_status(200);
    assert!(res.header("cache-control").contains("immutable"));
    assert_eq!(res.header("content-encoding"), "gzip");
    assert!(res.header("etag").starts_with('"'));
    let res = app.get("/static/nope.css").await;
    res.assert_status(404);
}

/// Reads a gzip body back.
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_from_disk_arrive_whole_when_the_browser_accepts_compression() {
    // 200,009 bytes of a PDF-like file and an MP3-like one, as a teacher would upload.
    let pdf: Vec<u8> = b"%PDF-1.4\n"
        .iter()
        .copied()
        .chain((0..200_000u32).map(|i| (i * 7 % 251) as u8))
        .collect();
    let mp3: Vec<u8> = (0..150_000u32).map(|i| (i * 13 % 256) as u8).collect();
    // A large SVG drawing from disk: text, so it is compressed, and must still arrive whole.
    let svg: Vec<u8> = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\">{}</svg>",
        (0..20_000)
            .map(|i| format!("<circle r=\"{i}\"/>"))
            .collect::<String>()
    )
    .into_bytes();
    let app = TestApp::with(|lib| {
        std::fs::write(lib.join("health/to-roi.pdf"), &pdf).unwrap();
        std::fs::write(lib.join("health/bai-hat.mp3"), &mp3).unwrap();
        std::fs::write(lib.join("health/so-do.svg"), &svg).unwrap();
    });
    for (path, want) in [
        ("/m/health/to-roi.pdf", &pdf),
        ("/m/health/bai-hat.mp3", &mp3),
    ] {
        for enc in ["gzip", "br", "gzip, deflate, br, zstd"] {
            let res = app.get_with(path, &[("accept-encoding", enc)]).await;
            res.assert_status(200);
            // Compressed already: sent as it is, with its length.
            assert_eq!(res.header("content-encoding"), "", "{path} with {enc}");
            assert_eq!(res.header("content-length"), want.len().to_string());
            assert_eq!(res.body.len(), want.len(), "{path} with {enc}");
            assert!(res.body == *want, "{path} with {enc}: bytes differ");
        }
    }
    let res = app
        .get_with("/m/health/so-do.svg", &[("accept-encoding", "gzip")])
        .await;
    res.assert_status(200);
    assert_eq!(res.header("content-encoding"), "gzip");
    assert!(
        gunzip(&res.body) == svg,
        "the compressed drawing arrived cut or changed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_suffix_range_is_unsatisfiable_not_a_broken_206() {
    let app = TestApp::new();
    let len = expected_mp3().len();
    for range in ["bytes=-0", "bytes=-0, -0"] {
        let res = app
            .get_with(
                "/m/agriculture/lua-vu-xuan-bai-giang.mp3",
                &[("range", range)],
            )
            .await;
        res.assert_status(416);
        assert_eq!(res.header("content-range"), format!("bytes */{len}"));
    }
    // An ordinary suffix still works.
    let res = app
        .get_with(
            "/m/agriculture/lua-vu-xuan-bai-giang.mp3",
            &[("range", "bytes=-10")],
        )
        .await;
    res.assert_status(206);
    assert_eq!(res.body.len(), 10);
}

#[tokio::test]
async fn passwords_are_one_whatever_the_keyboard_and_long_ones_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = hoclieu::usage::store::Store::open(dir.path()).unwrap();
    let c = store.conn();
    use hoclieu::accounts::{self, AccountError, Role};
    // Set as composed text, typed later with combining marks (NFD): the same password.
    accounts::set_password(c, "quanly", "mật khẩu dài", Role::Manager, 0).unwrap();
    let nfd: String = unicode_normalization::UnicodeNormalization::nfd("mật khẩu dài").collect();
    assert_eq!(
        accounts::check_login(c, "quanly", &nfd).unwrap(),
        Some(Role::Manager)
    );
    let long = "a".repeat(accounts::MAX_PASSWORD_CHARS + 1);
    assert!(matches!(
        accounts::set_password(c, "quanly", &long, Role::Manager, 0),
        Err(AccountError::TooLong)
    ));
    assert_eq!(accounts::check_login(c, "quanly", &long).unwrap(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_a_browser_could_render_as_a_page_run_nothing() {
    let script = b"<?xml version=\"1.0\"?><rss><script xmlns=\"http://www.w3.org/1999/xhtml\">alert(document.cookie)</script></rss>";
    let app = TestApp::with(|lib| {
        for name in [
            "tin.rss",
            "tin.atom",
            "tin.rdf",
            "giao-dien.xul",
            "ghi-chu.txt",
        ] {
            std::fs::write(lib.join("health").join(name), script).unwrap();
        }
        std::fs::write(lib.join("health/to.pdf"), b"%PDF-1.4\n").unwrap();
    });
    for name in [
        "tin.rss",
        "tin.atom",
        "tin.rdf",
        "giao-dien.xul",
        "ghi-chu.txt",
    ] {
        let res = app.get(&format!("/m/health/{name}")).await;
        res.assert_status(200);
        let csp = res.header("content-security-policy");
        assert!(
            csp.contains("sandbox") && csp.contains("default-src 'none'"),
            "{name}: {csp}"
        );
    }
    // A PDF opens in the browser's viewer under the ordinary policy.
    let pdf = app.get("/m/health/to.pdf").await;
    pdf.assert_status(200);
    assert!(!pdf.header("content-security-policy").contains("sandbox"));
}
