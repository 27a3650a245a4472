//! The HTML pages: content, language, weight and error pages.

use crate::util::TestApp;

#[tokio::test]
async fn home_shows_the_four_fields_with_counts() {
    let app = TestApp::new();
    let res = app.get("/").await;
    res.assert_status(200);
    assert!(res.header("content-type").starts_with("text/html"));
    let html = res.text();
    assert!(html.contains(r#"<html lang="vi">"#));
    for (name, href, count) in [
        ("Nông nghiệp", "/c/agriculture", 3),
        ("Sức khỏe", "/c/health", 2),
        ("Pháp luật", "/c/law", 2),
        ("Kỹ năng sống", "/c/life-skills", 2),
    ] {
        assert!(html.contains(name), "{name}");
        assert!(html.contains(href), "{href}");
        assert!(
            html.contains(&format!("{count} tài liệu")),
            "{name} {count}"
        );
    }
    assert!(html.contains(r#"action="/search""#));
    assert!(!html.contains("<script>"), "no inline script");
}

#[tokio::test]
async fn featured_and_recently_updated_are_easy_to_reach() {
    let app = TestApp::new();
    let html = app.get("/").await.text();
    let featured = html.find("Nên đọc").expect("featured section");
    let recent = html.find("Mới cập nhật").expect("recent section");
    let rice = html[featured..recent].find("/m/agriculture/lua-vu-xuan");
    assert!(rice.is_some(), "featured lists the rice material");
    let after = &html[recent..];
    let rice = after.find("/m/agriculture/lua-vu-xuan").unwrap();
    let ors = after.find("/m/health/oresol").unwrap();
    assert!(rice < ors, "newest first");
    assert!(after.contains("(01/11/2026)"));
    let field = app.get("/c/agriculture").await.text();
    assert!(field.contains("Nên đọc trước"));
    let page = app.get("/m/agriculture/lua-vu-xuan").await.text();
    assert!(page.contains("Cập nhật: 01/11/2026"));
    // A field with nothing featured has no empty section.
    assert!(!app.get("/c/law").await.text().contains("Nên đọc trước"));
}

#[tokio::test]
async fn home_with_everything_it_loads_is_light() {
    let app = TestApp::embedded();
    let home = app.get_with("/", &[("accept-encoding", "gzip")]).await;
    let mut total = home.body.len();
    let html = app.get("/").await.text();
    let assets: Vec<&str> = html
        .split('"')
        .filter(|s| s.starts_with("/static/"))
        .collect();
    assert!(assets.len() >= 5, "{assets:?}");
    let mut seen = std::collections::HashSet::new();
    for a in assets {
        if seen.insert(a) {
            let r = app.get_with(a, &[("accept-encoding", "gzip")]).await;
            r.assert_status(200);
            total += r.body.len();
        }
    }
    assert!(
        total < 60 * 1024,
        "home page and assets weigh {total} bytes"
    );
}

#[tokio::test]
async fn category_page_lists_materials_with_summaries() {
    let app = TestApp::new();
    let html = app.get("/c/agriculture").await.text();
    assert!(html.contains("Kỹ thuật trồng lúa nước vụ xuân"));
    assert!(html.contains("Làm chuồng kín gió"));
    assert!(html.contains(r#"href="/m/agriculture/lua-vu-xuan""#));
    assert!(!html.contains("Oresol"));
    app.get("/c/cooking").await.assert_status(404);
}

#[tokio::test]
async fn material_page_renders_markdown_links_and_players() {
    let app = TestApp::new();
    let res = app.get("/m/agriculture/lua-vu-xuan").await;
    res.assert_status(200);
    let html = res.text();
    assert!(html.contains("<h1>Kỹ thuật trồng lúa nước vụ xuân</h1>"));
    assert!(
        html.contains("<h2 id=\"bon-phan\">Bón phân</h2>"),
        "markdown headings, with anchors"
    );
    assert!(
        html.contains(r#"src="/m/agriculture/lua-vu-xuan-lich.svg""#),
        "image link resolved"
    );
    assert!(
        html.contains(r#"href="/m/agriculture/trau-mua-ret""#),
        "link to another material"
    );
    assert!(html.contains(
        r#"<audio controls preload="none" src="/m/agriculture/lua-vu-xuan-bai-giang.mp3">"#
    ));
    assert!(html.contains("Pháp luật") && html.contains(r#"href="/c/agriculture""#));
    let spaced = app
        .get("/m/law/quy%E1%BB%81n%20v%C3%A0%20ngh%C4%A9a%20v%E1%BB%A5")
        .await;
    spaced.assert_status(200);
    assert!(spaced.text().contains("Quyền và nghĩa vụ của công dân"));
}

#[tokio::test]
async fn raw_html_in_a_material_is_shown_as_text() {
    let app = TestApp::with(|lib| {
        std::fs::write(
            lib.join("law/xss.md"),
            "+++\ntitle = \"<script>alert(1)</script>\"\ncategory = \"law\"\n+++\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1))\n",
        )
        .unwrap();
    });
    let html = app.get("/m/law/xss").await.text();
    assert!(!html.contains("<script>alert"), "{html}");
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
}

#[tokio::test]
async fn search_page_shows_results_and_helps_when_empty() {
    let app = TestApp::new();
    let html = app.get("/search?q=trong+lua").await.text();
    assert!(html.contains("Tìm thấy"), "{html}");
    assert!(html.contains(r#"href="/m/agriculture/lua-vu-xuan"#));
    assert!(html.contains("<b>"), "highlighted snippet");
    let none = app.get("/search?q=xyzzyqwv").await;
    none.assert_status(200);
    let none = none.text();
    assert!(none.contains("Chưa có tài liệu về «xyzzyqwv»"), "{none}");
    assert!(
        none.contains(r#"href="/c/health""#),
        "suggests browsing fields"
    );
    let filtered = app.get("/search?q=lua&category=life-skills").await.text();
    assert!(filtered.contains(r#"<option value="life-skills" selected>"#));
    assert!(!filtered.contains("/m/agriculture/lua-vu-xuan\""));
    let bad = app.get("/search?q=lua&category=nau-an").await;
    bad.assert_status(400);
    assert!(bad.text().contains("Không có lĩnh vực"));
}

#[tokio::test]
async fn unknown_pages_get_a_helpful_404() {
    let app = TestApp::new();
    for path in ["/khong-co", "/m/agriculture/khong-co", "/c/"] {
        let res = app.get(path).await;
        res.assert_status(404);
        assert!(
            res.header("content-type").starts_with("text/html"),
            "{path}"
        );
        let html = res.text();
        assert!(html.contains("Không tìm thấy trang này"), "{path}");
        assert!(html.contains(r#"action="/search""#));
    }
}

#[tokio::test]
async fn pages_answer_503_until_the_library_is_ready() {
    let router = crate::util::TestApp::starting().router;
    use tower::ServiceExt;
    for path in ["/", "/healthz", "/api/search?q=lua", "/m/a/b"] {
        let res = router
            .clone()
            .oneshot(
                axum::http::Request::get(path)
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), 503, "{path}");
        assert_eq!(res.headers()["retry-after"], "5");
    }
}

#[tokio::test]
async fn the_home_page_has_one_search_box_and_other_pages_keep_the_header_one() {
    let app = crate::util::TestApp::new();
    let home = app.get("/").await.text();
    assert_eq!(home.matches("role=\"search\"").count(), 1, "{home}");
    // Where a page has two search boxes (the library's, the field's), each is named.
    for page in ["/", "/c/health", "/search?q=lua", "/khong-co"] {
        let html = app.get(page).await.text();
        let forms: Vec<&str> = html.split("role=\"search\"").skip(1).collect();
        assert!(!forms.is_empty(), "{page}");
        let mut names: Vec<&str> = forms
            .iter()
            .map(|f| {
                // Within the form's own tag.
                f.split('>')
                    .next()
                    .and_then(|tag| tag.split("aria-label=\"").nth(1))
                    .and_then(|l| l.split('"').next())
                    .unwrap_or_else(|| panic!("{page}: a search form without a name"))
            })
            .collect();
        names.sort();
        names.dedup();
        assert_eq!(
            names.len(),
            forms.len(),
            "{page}: two search forms share a name"
        );
    }
}

#[tokio::test]
async fn the_poster_says_which_network_and_how_to_stay_connected() {
    let mut app = crate::util::TestApp::new();
    app.restart_with(|s| {
        s.wifi = "ThuVien-BanBo".into();
        s.commune = "Xã Bản Bo".into();
    });
    let poster = app.get("/poster").await;
    poster.assert_status(200);
    let html = poster.text();
    assert!(html.contains("ThuVien-BanBo"), "the Wi-Fi name");
    assert!(html.contains("Vẫn kết nối"), "Android's no-internet prompt");
    assert!(html.contains("Zalo"), "scanning with Zalo");
    assert!(html.contains("<main>") && html.contains("rel=\"icon\""));
    // Pages without an icon link make browsers ask for /favicon.ico: it answers.
    let icon = app.get("/favicon.ico").await;
    icon.assert_status(200);
    assert_eq!(icon.header("content-type"), "image/svg+xml");
}

#[tokio::test]
async fn a_material_says_whom_to_ask_for_its_own_field() {
    let app = crate::util::TestApp::embedded();
    let catalog = app.state.catalog().unwrap();
    let pick = |c: hoclieu::content::Category| {
        catalog
            .library
            .materials()
            .iter()
            .find(|m| m.category == c && m.updated.is_some())
            .map(|m| m.url())
            .unwrap()
    };
    let caveat = |html: String| {
        html.split("<p class=\"meta\">Cập nhật:")
            .nth(1)
            .and_then(|s| s.split("</p>").next())
            .map(str::to_string)
            .expect("the date line")
    };
    let farm = caveat(
        app.get(&pick(hoclieu::content::Category::Agriculture))
            .await
            .text(),
    );
    assert!(
        farm.contains("khuyến nông"),
        "agriculture asks the extension officer: {farm}"
    );
    assert!(!farm.contains("trạm y tế"), "not the health post: {farm}");
    let health = caveat(
        app.get(&pick(hoclieu::content::Category::Health))
            .await
            .text(),
    );
    assert!(health.contains("trạm y tế"), "{health}");
}

#[test]
fn one_spelling_of_xoa_across_the_site() {
    // "Xóa" everywhere (the spelling of the current dictionary), never the old "Xoá" beside it.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for dir in ["web/templates", "src"] {
        for e in walkdir::WalkDir::new(root.join(dir)) {
            let e = e.unwrap();
            if e.file_type().is_file() {
                let text = std::fs::read_to_string(e.path()).unwrap_or_default();
                assert!(
                    !text.contains("Xoá") && !text.contains("xoá"),
                    "{} spells xoá",
                    e.path().display()
                );
            }
        }
    }
}

/// A mono 8 kHz 16-bit WAV of `secs` seconds of silence.
fn wav(secs: u32) -> Vec<u8> {
    let (rate, data) = (8000u32, 8000u32 * 2 * secs);
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&(36 + data).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    for (n, bytes) in [
        (16u32, 4),
        (1, 2),
        (1, 2),
        (rate, 4),
        (rate * 2, 4),
        (2, 2),
        (16, 2),
    ] {
        v.extend_from_slice(&n.to_le_bytes()[..bytes]);
    }
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data.to_le_bytes());
    v.resize(v.len() + data as usize, 0);
    v
}

#[tokio::test]
async fn recordings_say_how_long_they_play_before_anyone_spends_data_on_them() {
    let app = TestApp::with(|lib| {
        std::fs::write(lib.join("health/oresol-bai-hat.wav"), wav(200)).unwrap();
        let md = lib.join("health/oresol.md");
        let text = std::fs::read_to_string(&md).unwrap();
        std::fs::write(
            &md,
            format!("{text}\n\nNghe [bài hát Oresol](oresol-bai-hat.wav).\n"),
        )
        .unwrap();
    });
    let html = app.get("/m/health/oresol").await.text();
    assert!(html.contains("3 phút 20 giây"), "{html}");
    // A file whose headers say nothing shows no length (and the page still works).
    let lua = app.get("/m/agriculture/lua-vu-xuan").await;
    lua.assert_status(200);
}
