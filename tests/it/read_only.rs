//! A data folder that cannot be written (issue 14, item 5): a memory card the kernel
//! remounted read-only, or a path that cannot be created. The library is served anyway, never
//! a 503 on visitor pages; `/healthz` says the box is degraded; the staff area says why.

use std::path::{Path, PathBuf};
use std::process::Command;

use hoclieu::content::Source;

use crate::util::{TestApp, copy_tree, fixture_dir};

/// A library copy in a fresh temporary folder.
fn library_in(dir: &Path) -> Source {
    let lib = dir.join("library");
    copy_tree(&fixture_dir(), &lib);
    Source::dir(&lib).unwrap()
}

/// What every degraded box must still do: serve pages, files and search, say it is degraded
/// in `/healthz`, and close the staff area with a page that says why.
async fn serves_the_library_read_only(app: &TestApp) {
    for path in [
        "/",
        "/c/agriculture",
        "/m/agriculture/lua-vu-xuan",
        "/m/agriculture/lua-vu-xuan-bai-giang.mp3",
        "/search?q=lua",
        "/ve-ban",
        "/l/KHONGCO",
    ] {
        let res = app.get(path).await;
        assert_ne!(res.status.as_u16(), 503, "{path}: {}", res.text());
        assert!(res.status.as_u16() < 500, "{path}: {}", res.status);
    }
    assert!(!app.search_ids("lúa").await.is_empty());
    let health = app.get("/healthz").await;
    health.assert_status(200);
    let json = health.json();
    assert_eq!(json["status"], "degraded", "{json}");
    assert_eq!(json["storage"], "read-only", "{json}");
    assert_eq!(json["recording"], false, "{json}");
    for path in ["/admin", "/admin/login", "/admin/materials"] {
        let res = app.get(path).await;
        res.assert_status(503);
        assert!(
            res.text().contains("Thẻ nhớ đang ở chế độ chỉ đọc"),
            "{path}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_data_folder_that_cannot_be_created_still_serves_the_library() {
    let dir = tempfile::tempdir().unwrap();
    let source = library_in(dir.path());
    // A regular file where a folder should be: nothing under it can be created (ENOTDIR).
    std::fs::write(dir.path().join("card"), b"not a folder").unwrap();
    let data = dir.path().join("card/hoclieu-data");
    let app = TestApp::assemble_at(dir, data, source, None);
    app.load();
    serves_the_library_read_only(&app).await;
    let json = app.get("/healthz").await.json();
    let degraded = json["degraded"].to_string();
    assert!(degraded.contains("index kept in memory"), "{json}");
}

/// A read-only bind mount of `dir` over itself, undone when dropped.
struct ReadOnlyMount(PathBuf);

impl ReadOnlyMount {
    /// `None` (with a note) where mounting is not allowed, e.g. in a container without
    /// `CAP_SYS_ADMIN`.
    fn over(dir: &Path) -> Option<ReadOnlyMount> {
        let ok = |args: &[&str]| {
            Command::new("mount")
                .args(args)
                .arg(dir)
                .arg(dir)
                .output()
                .is_ok_and(|o| o.status.success())
        };
        if !ok(&["--bind"]) {
            eprintln!("note: cannot bind-mount here (not root?); read-only mount test skipped");
            return None;
        }
        let mount = ReadOnlyMount(dir.to_path_buf());
        let remounted = Command::new("mount")
            .args(["-o", "remount,bind,ro"])
            .arg(dir)
            .output()
            .is_ok_and(|o| o.status.success());
        if !remounted || std::fs::write(dir.join("probe"), b"x").is_ok() {
            eprintln!("note: cannot make a read-only mount here; test skipped");
            return None;
        }
        Some(mount)
    }
}

impl Drop for ReadOnlyMount {
    fn drop(&mut self) {
        // Lazily: the app dropped after this may still map the index's files.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_read_only_card_serves_the_library() {
    // Declared first, so removed after the mount is undone.
    let card = tempfile::tempdir().unwrap();
    let data = card.path().to_path_buf();
    let dir = tempfile::tempdir().unwrap();
    let source = library_in(dir.path());
    let Some(_mount) = ReadOnlyMount::over(&data) else {
        return;
    };
    let app = TestApp::assemble_at(dir, data, source, None);
    app.load();
    serves_the_library_read_only(&app).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_card_gone_read_only_keeps_serving_its_index_and_the_centres_materials() {
    let mut app = TestApp::new();
    let own = app.data.join("library/health");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(
        own.join("nuoc-sach.md"),
        "+++\ntitle = \"Nước sạch cho cả nhà\"\ncategory = \"health\"\n+++\nĐun sôi nước giếng trước khi uống.\n",
    )
    .unwrap();
    app.restart();
    assert_eq!(app.get("/m/health/nuoc-sach").await.status, 200);
    assert_eq!(app.get("/healthz").await.json()["status"], "ok");
    let Some(_mount) = ReadOnlyMount::over(&app.data.clone()) else {
        return;
    };
    // The running app stops (its records were written before), and the box starts again on
    // the card gone read-only.
    app.restart();
    serves_the_library_read_only(&app).await;
    // The centre's own material is still there, and found through the index on the card.
    app.get("/m/health/nuoc-sach").await.assert_status(200);
    assert!(
        app.search_ids("giếng")
            .await
            .contains(&"health/nuoc-sach".to_string())
    );
    let json = app.get("/healthz").await.json();
    assert!(
        !json["degraded"].to_string().contains("memory"),
        "the index on the card was not used: {json}"
    );
}
