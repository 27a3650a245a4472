//! Search in every way villagers type: without marks, with marks, NFD, old tone placement,
//! typos, Telex, phrases; and hostile input.

use unicode_normalization::UnicodeNormalization;

use crate::util::{TestApp, urlencode};

const RICE: &str = "agriculture/lua-vu-xuan";
const SILK: &str = "life-skills/det-lua";

#[tokio::test]
async fn finds_without_diacritics() {
    let app = TestApp::new();
    let ids = app.search_ids("trong lua").await;
    assert_eq!(ids.first().map(String::as_str), Some(RICE), "{ids:?}");
    let ids = app.search_ids("DANG KY KHAI SINH").await;
    assert_eq!(ids.first().map(String::as_str), Some("law/khai-sinh"));
    // đ folds to d
    let ids = app.search_ids("dien thoai").await;
    assert_eq!(
        ids.first().map(String::as_str),
        Some("life-skills/lua-dao-dien-thoai")
    );
}

#[tokio::test]
async fn exact_marks_rank_first() {
    let app = TestApp::new();
    let silk = app.search_ids("lụa").await;
    assert_eq!(silk.first().map(String::as_str), Some(SILK), "{silk:?}");
    assert!(
        silk.contains(&RICE.to_string()),
        "folded match still found: {silk:?}"
    );
    let rice = app.search_ids("lúa").await;
    assert_eq!(rice.first().map(String::as_str), Some(RICE), "{rice:?}");
}

#[tokio::test]
async fn nfd_query_matches_like_nfc() {
    let app = TestApp::new();
    let nfd: String = "lụa tơ tằm".nfd().collect();
    assert_ne!(nfd, "lụa tơ tằm");
    assert_eq!(
        app.search_ids(&nfd).await,
        app.search_ids("lụa tơ tằm").await
    );
    assert_eq!(
        app.search_ids(&nfd).await.first().map(String::as_str),
        Some(SILK)
    );
}

#[tokio::test]
async fn old_and_new_tone_placement_match() {
    let app = TestApp::new();
    // The material writes "hòa thuận" and "Thúy"; these queries use the old placement.
    for q in ["hoà thuận", "chị Thuý"] {
        let ids = app.search_ids(q).await;
        assert_eq!(
            ids.first().map(String::as_str),
            Some("health/song-hoa-thuan"),
            "{q}: {ids:?}"
        );
    }
}

#[tokio::test]
async fn small_typos_still_find() {
    let app = TestApp::new();
    // "nghiêng" typed with two letters swapped, and with a letter doubled.
    for q in ["ngheing", "nghienng"] {
        let ids = app.search_ids(q).await;
        assert_eq!(ids, ["agriculture/trau-mua-ret"], "{q}");
    }
    // Short syllables are not widened: "lux" must not match "lua", "luc"…
    assert!(app.search_ids("lux").await.is_empty());
}

#[tokio::test]
async fn telex_keystrokes_are_understood() {
    let app = TestApp::new();
    let ids = app.search_ids("ddieenj thoaij").await;
    assert_eq!(
        ids.first().map(String::as_str),
        Some("life-skills/lua-dao-dien-thoai")
    );
}

#[tokio::test]
async fn syllables_together_beat_syllables_apart() {
    let app = TestApp::new();
    let ids = app.search_ids("phân bón").await;
    let together = ids.iter().position(|i| i == RICE).unwrap();
    let apart = ids
        .iter()
        .position(|i| i == "agriculture/phan-bon-xa-nhau")
        .unwrap();
    assert!(together < apart, "{ids:?}");
}

#[tokio::test]
async fn snippets_highlight_matches() {
    let app = TestApp::new();
    let res = app.get("/api/search?q=oresol").await;
    let hit = &res.json()["hits"][0];
    assert_eq!(hit["id"], "health/oresol");
    assert_eq!(hit["category"], "health");
    assert_eq!(hit["url"], "/m/health/oresol");
    assert!(hit["title"].as_str().unwrap().contains("Oresol"));
    let snippet = hit["snippet"].as_str().unwrap();
    assert!(snippet.contains("<b>Oresol</b>"), "{snippet}");
}

#[tokio::test]
async fn category_filter_and_limit() {
    let app = TestApp::new();
    let res = app.get("/api/search?q=lua&category=life-skills").await;
    let json = res.json();
    let hits = json["hits"].as_array().unwrap();
    assert!(!hits.is_empty());
    assert!(
        hits.iter().all(|h| h["category"] == "life-skills"),
        "{json}"
    );
    let res = app.get("/api/search?q=lua&limit=1").await;
    let json = res.json();
    assert_eq!(json["hits"].as_array().unwrap().len(), 1);
    assert!(json["total"].as_u64().unwrap() > 1);
    app.get("/api/search?q=lua&category=cooking")
        .await
        .assert_status(400);
    app.get("/api/search?q=lua&limit=many")
        .await
        .assert_status(400);
}

#[tokio::test]
async fn hostile_queries_get_ordinary_answers() {
    let app = TestApp::new();
    let long = "lúa ".repeat(2000);
    let odd = [
        "",
        "   ",
        "\"",
        "\"trồng lúa",
        "bệnh: sốt",
        "-sốt",
        "NOT lúa",
        "*",
        "lúa AND OR NOT",
        "title:lúa",
        "(((",
        "[1 TO 5]",
        "~^+!{}",
        "\u{0301}\u{0300}",
        "\u{200b}\u{feff}",
        "%",
        "🌾🌾",
        long.as_str(),
    ];
    for q in odd {
        for path in ["/api/search?q=", "/search?q="] {
            let res = app.get(&format!("{path}{}", urlencode(q))).await;
            assert_eq!(res.status, 200, "{path}{q:?}: {}", res.text());
        }
    }
    // Operators are not operators: "-sốt" does not return everything without "sốt".
    let all = app.search_ids("*").await;
    assert!(all.is_empty(), "{all:?}");
    // Bytes that are not UTF-8 are decoded leniently into an ordinary empty answer.
    let res = app.get("/api/search?q=%FF%FE").await;
    res.assert_status(200);
    assert_eq!(res.json()["total"], 0);
    app.get("/search?q=%FF").await.assert_status(200);
    // A query string that is not a form at all is a clear 400.
    app.get("/api/search?q=a&q=b").await.assert_status(400);
}

#[tokio::test]
async fn suggestions_complete_titles() {
    let app = TestApp::new();
    let res = app.get("/api/suggest?q=trong%20lu").await;
    let json = res.json();
    let titles: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Kỹ thuật trồng lúa nước vụ xuân"]);
    let res = app.get("/api/suggest?q=").await;
    assert_eq!(res.json(), serde_json::json!([]));
    let res = app.get("/api/suggest?q=nghe%20det").await;
    assert_eq!(res.json()[0]["url"], "/m/life-skills/det-lua");
}

/// A small library for joined words: each material names its word with spaces, as written.
fn joined_words_library(lib: &std::path::Path) {
    let write = |path: &str, title: &str, body: &str| {
        let p = lib.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            p,
            format!("+++\ntitle = \"{title}\"\ncategory = \"health\"\n+++\n{body}\n"),
        )
        .unwrap();
    };
    write(
        "health/tiem-ngua.md",
        "Tiêm ngừa cho trẻ",
        "Đưa trẻ đi tiêm vắc xin đúng lịch ở trạm y tế xã.",
    );
    write(
        "health/can-nang.md",
        "Cân nặng của trẻ",
        "Trẻ một tuổi nặng khoảng chín ki lô gam. Cân trẻ mỗi tháng.",
    );
    write(
        "health/xin-giay.md",
        "Xin giấy chứng sinh",
        "Cha mẹ xin giấy chứng sinh ở trạm y tế. Vắc cũng là một chữ.",
    );
}

#[tokio::test]
async fn words_typed_joined_find_their_syllables() {
    let app = TestApp::with(joined_words_library);
    let ids = app.search_ids("vacxin").await;
    assert_eq!(
        ids.first().map(String::as_str),
        Some("health/tiem-ngua"),
        "{ids:?}"
    );
    let ids = app.search_ids("kilogam tre").await;
    assert_eq!(
        ids.first().map(String::as_str),
        Some("health/can-nang"),
        "{ids:?}"
    );
    // In capitals, as some type on a phone.
    let ids = app.search_ids("VACXIN").await;
    assert_eq!(ids.first().map(String::as_str), Some("health/tiem-ngua"));
    // A joined string whose syllables never stand side by side in the library is not cut
    // into them: "xinvac" finds nothing rather than every page with "xin" or "vắc".
    assert!(app.search_ids("xinvac").await.is_empty());
}
