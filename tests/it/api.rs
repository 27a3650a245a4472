//! The JSON API contract.

use crate::util::TestApp;

#[tokio::test]
async fn materials_lists_everything_with_attachments() {
    let app = TestApp::new();
    let res = app.get("/api/materials").await;
    res.assert_status(200);
    assert!(res.header("content-type").starts_with("application/json"));
    let json = res.json();
    let all = json.as_array().unwrap();
    assert_eq!(all.len(), 9);
    let rice = all
        .iter()
        .find(|m| m["id"] == "agriculture/lua-vu-xuan")
        .unwrap();
    assert_eq!(rice["title"], "Kỹ thuật trồng lúa nước vụ xuân");
    assert_eq!(rice["category"], "agriculture");
    assert_eq!(rice["language"], "vi");
    assert_eq!(rice["tags"], serde_json::json!(["lúa", "vụ xuân"]));
    assert!(rice["summary"].as_str().unwrap().starts_with("Cách làm mạ"));
    assert_eq!(rice["url"], "/m/agriculture/lua-vu-xuan");
    assert_eq!(
        rice["attachments"],
        serde_json::json!([
            {"name": "lua-vu-xuan-bai-giang.mp3", "url": "/m/agriculture/lua-vu-xuan-bai-giang.mp3",
             "content_type": "audio/mpeg", "bytes": 4096},
            {"name": "lua-vu-xuan-lich.svg", "url": "/m/agriculture/lua-vu-xuan-lich.svg",
             "content_type": "image/svg+xml",
             "bytes": std::fs::metadata(crate::util::fixture_dir().join("agriculture/lua-vu-xuan-lich.svg")).unwrap().len()},
        ])
    );
}

#[tokio::test]
async fn search_shape_is_stable() {
    let app = TestApp::new();
    let json = app.get("/api/search?q=khai%20sinh").await.json();
    assert_eq!(json["query"], "khai sinh");
    assert!(json["total"].as_u64().unwrap() >= 1);
    assert_eq!(json["found"], true);
    assert!(json["full"].as_u64().unwrap() >= 1);
    assert!(json["missing"].as_array().unwrap().is_empty());
    let hit = &json["hits"][0];
    assert_eq!(hit["match"], "full");
    let mut keys: Vec<&str> = hit
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["category", "id", "match", "snippet", "title", "url"]);
}

#[tokio::test]
async fn healthz_reports_ready() {
    let app = TestApp::new();
    let json = app.get("/healthz").await.json();
    assert_eq!(json["status"], "ok");
    assert_eq!(json["materials"], 9);
    assert_eq!(json["indexed"], 9);
}

#[tokio::test]
async fn embedded_library_is_served_without_a_folder() {
    let app = TestApp::embedded();
    let json = app.get("/api/materials").await.json();
    let all = json.as_array().unwrap();
    for field in ["agriculture", "health", "law", "life-skills"] {
        let n = all.iter().filter(|m| m["category"] == field).count();
        assert!(n >= 3, "{field}: {n}");
    }
    let first = all[0]["url"].as_str().unwrap();
    app.get(first).await.assert_status(200);
    let ids = app.search_ids("tiem chung").await;
    assert!(!ids.is_empty());
}
