//! Materials from the browser: a teacher writes one and finds it by search at once, edits and
//! undoes, overrides and hides a starter material; the files land in the centre library.

use crate::admin::{app, post};
use crate::lessons::teacher;
use crate::util::{TestApp, multipart, upload, urlencode};

fn form(token: &str, action: &str, id: &str, title: &str, body: &str) -> String {
    format!(
        "token={token}&action={action}&id={}&title={}&category=agriculture&summary={}&tags={}&updated=2026-11-29&body={}",
        urlencode(id),
        urlencode(title),
        urlencode("Đặt đõ, chăm đàn."),
        urlencode("ong, mật"),
        urlencode(body)
    )
}

#[tokio::test]
async fn a_new_material_is_saved_in_the_library_format_and_searchable_at_once() {
    let app = app();
    let (cookie, token) = teacher(&app).await;
    // Preview renders without saving.
    let res = app
        .request(post(
            "/admin/materials/save",
            &cookie,
            &form(
                &token,
                "preview",
                "",
                "Nuôi ong lấy mật",
                "## Đặt đõ\n\nNơi **khuất gió**.",
            ),
        ))
        .await;
    res.assert_status(200);
    assert!(res.text().contains("<strong>khuất gió</strong>"));
    let id = "agriculture/nuoi-ong-lay-mat";
    assert!(!app.search_ids("khuat gio").await.contains(&id.to_string()));
    let res = app
        .request(post(
            "/admin/materials/save",
            &cookie,
            &form(
                &token,
                "save",
                "",
                "Nuôi ong lấy mật",
                "## Đặt đõ\n\nNơi khuất gió.",
            ),
        ))
        .await;
    res.assert_status(303);
    assert!(
        res.header("location")
            .contains("agriculture%2Fnuoi-ong-lay-mat")
    );
    assert_eq!(app.search_ids("khuat gio").await.first().unwrap(), id);
    let file =
        std::fs::read_to_string(app.data.join("library/agriculture/nuoi-ong-lay-mat.md")).unwrap();
    assert!(
        file.starts_with("+++\ntitle = \"Nuôi ong lấy mật\"\ncategory = \"agriculture\""),
        "{file}"
    );
    assert!(file.contains("updated = 2026-11-29"));
    // Edit, then undo: the first text is back and searchable again.
    let res = app
        .request(post(
            "/admin/materials/save",
            &cookie,
            &form(
                &token,
                "save",
                "agriculture/nuoi-ong-lay-mat",
                "Nuôi ong lấy mật",
                "Mật ong Hoàng Su Phì.",
            ),
        ))
        .await;
    res.assert_status(303);
    assert_eq!(app.search_ids("hoang su phi").await.first().unwrap(), id);
    assert!(!app.search_ids("khuat gio").await.contains(&id.to_string()));
    let res = app
        .request(post(
            "/admin/materials/save",
            &cookie,
            &format!("token={token}&action=undo&id=agriculture%2Fnuoi-ong-lay-mat"),
        ))
        .await;
    res.assert_status(303);
    assert_eq!(app.search_ids("khuat gio").await.first().unwrap(), id);
    // A form without the session token changes nothing.
    let res = app
        .request(post(
            "/admin/materials/save",
            &cookie,
            &form("sai", "save", "", "Ke gian", "x"),
        ))
        .await;
    res.assert_status(400);
    assert!(
        !std::fs::read_dir(app.data.join("library/agriculture"))
            .unwrap()
            .any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with("ke-gian"))
    );
}

#[tokio::test]
async fn starter_materials_can_be_overridden_and_hidden_but_stay_untouched() {
    let app = app();
    let (cookie, token) = teacher(&app).await;
    let id = "health/oresol";
    let original = app.get(&format!("/m/{id}")).await.text();
    let res = app
        .request(post(
            "/admin/materials/save",
            &cookie,
            &form(
                &token,
                "save",
                id,
                "Pha Oresol đúng cách",
                "Bản của trung tâm: pha với nước đun sôi để nguội.",
            ),
        ))
        .await;
    res.assert_status(303);
    let page = app.get(&format!("/m/{id}")).await;
    assert!(page.text().contains("Bản của trung tâm"));
    assert!(app.data.join("library/health/oresol.md").exists());
    assert_ne!(page.text(), original);
    // Hiding asks first: one tap only shows what it will do.
    let res = app
        .request(post(
            "/admin/materials/hide",
            &cookie,
            &format!("token={token}&hide=law%2Fkhai-sinh"),
        ))
        .await;
    res.assert_status(200);
    assert!(res.text().contains("Ẩn tài liệu «"), "{}", res.text());
    assert!(res.text().contains("name=\"confirm\" value=\"yes\""));
    app.get("/m/law/khai-sinh").await.assert_status(200);
    // Hidden: gone from pages and search, and back when shown again.
    let res = app
        .request(post(
            "/admin/materials/hide",
            &cookie,
            &format!("token={token}&hide=law%2Fkhai-sinh&confirm=yes"),
        ))
        .await;
    res.assert_status(303);
    app.get("/m/law/khai-sinh").await.assert_status(404);
    assert!(app.search_ids("khai sinh").await.is_empty());
    let list = app
        .get_with("/admin/materials", &[("cookie", &cookie)])
        .await;
    assert!(list.text().contains("Hiện lại"));
    app.request(post(
        "/admin/materials/hide",
        &cookie,
        &format!("token={token}&show=law%2Fkhai-sinh"),
    ))
    .await
    .assert_status(303);
    assert_eq!(
        app.search_ids("khai sinh")
            .await
            .first()
            .map(String::as_str),
        Some("law/khai-sinh")
    );
}

#[tokio::test]
async fn broken_files_in_the_centre_library_are_reported_in_admin() {
    let app = app();
    let (cookie, _) = teacher(&app).await;
    let dir = app.data.join("library/health");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("hong.md"),
        "+++\ntitle = \"x\"\ncategory = \"khong-co\"\n+++\n",
    )
    .unwrap();
    app.state.reload_library().await.unwrap();
    let list = app
        .get_with("/admin/materials", &[("cookie", &cookie)])
        .await;
    list.assert_status(200);
    assert!(list.text().contains("health/hong.md"), "{}", list.text());
    // The rest is still served.
    app.get("/m/health/oresol").await.assert_status(200);
}

/// The first bytes of a PNG, then filler: enough for a content check.
fn png(size: usize) -> Vec<u8> {
    let mut b =
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89".to_vec();
    b.resize(size, 0);
    b
}

// Files on disk are served with blocking reads, which need the multi-threaded runtime.
#[tokio::test(flavor = "multi_thread")]
async fn uploads_are_checked_by_content_and_attached_to_their_material() {
    let app = app();
    let (cookie, token) = teacher(&app).await;
    let id = "health/oresol";
    // A picture larger than an ordinary form (64 KB), with a hostile name: it is renamed after
    // the material and typed by its bytes.
    let (ct, body) = multipart(
        &[("token", &token), ("id", id)],
        "../../etc/passwd.exe",
        &png(200 * 1024),
    );
    let res = app.request(upload(&cookie, &ct, body)).await;
    res.assert_status(303);
    let saved = app.data.join("library/health/oresol-etc-passwd.png");
    assert_eq!(std::fs::metadata(&saved).unwrap().len(), 200 * 1024);
    let page = app.get(&format!("/m/{id}")).await;
    assert!(
        page.text().contains("oresol-etc-passwd.png"),
        "attached to the material"
    );
    let file = app.get("/m/health/oresol-etc-passwd.png").await;
    file.assert_status(200);
    assert_eq!(file.header("content-type"), "image/png");

    // A program or a web page named .pdf is refused, and nothing is left behind.
    for (name, bytes) in [
        (
            "thuoc.pdf",
            b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff\0\0".to_vec(),
        ),
        (
            "trang.pdf",
            b"<html><script>alert(1)</script></html>".to_vec(),
        ),
        ("rong.pdf", Vec::new()),
    ] {
        let (ct, body) = multipart(&[("token", &token), ("id", id)], name, &bytes);
        let res = app.request(upload(&cookie, &ct, body)).await;
        res.assert_status(400);
    }
    let left: Vec<_> = std::fs::read_dir(app.data.join("library/health"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        left,
        ["oresol-etc-passwd.png"],
        "only the good upload stays"
    );
    let left_top: Vec<_> = std::fs::read_dir(app.data.join("library"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".upload"))
        .collect();
    assert!(left_top.is_empty(), "temporary files removed: {left_top:?}");

    // Without the session token, or to an unknown material, nothing is written.
    let (ct, body) = multipart(&[("token", "sai"), ("id", id)], "a.png", &png(1000));
    app.request(upload(&cookie, &ct, body))
        .await
        .assert_status(400);
    let (ct, body) = multipart(
        &[("token", &token), ("id", "khong/co")],
        "a.png",
        &png(1000),
    );
    app.request(upload(&cookie, &ct, body))
        .await
        .assert_status(400);
    // Not logged in: sent to the login page.
    let (ct, body) = multipart(&[("token", &token), ("id", id)], "a.png", &png(1000));
    let res = app.request(upload("", &ct, body)).await;
    res.assert_status(303);
}

#[tokio::test]
async fn uploads_over_the_limit_are_refused_with_413_and_leave_nothing() {
    let app = TestApp::with_upload_limit(100 * 1024);
    let (cookie, token) = teacher(&app).await;
    let (ct, body) = multipart(
        &[("token", &token), ("id", "health/oresol")],
        "to.png",
        &png(300 * 1024),
    );
    let res = app.request(upload(&cookie, &ct, body)).await;
    res.assert_status(413);
    let dir = app.data.join("library");
    let left: Vec<_> = walkdir::WalkDir::new(&dir)
        .into_iter()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().is_file())
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[tokio::test]
async fn a_long_material_can_be_saved_from_the_browser() {
    let app = app();
    let (cookie, token) = teacher(&app).await;
    // About 200 KB of text: far more than an ordinary form, as a long legal text can be.
    let body = "Điều khoản về quyền sử dụng đất rừng phòng hộ. ".repeat(4000);
    let res = app
        .request(post(
            "/admin/materials/save",
            &cookie,
            &form(&token, "save", "", "Luật đất đai bản đầy đủ", &body),
        ))
        .await;
    res.assert_status(303);
    assert_eq!(
        app.search_ids("rung phong ho")
            .await
            .first()
            .map(String::as_str),
        Some("agriculture/luat-dat-dai-ban-day-du")
    );
}

#[tokio::test]
async fn the_watcher_does_not_reload_what_the_server_saved_itself_but_sees_hand_edits() {
    let mut app = app();
    app.watch();
    let (cookie, token) = teacher(&app).await;
    let loads = || app.state.library.loads();
    let before = loads();
    let res = app
        .request(post(
            "/admin/materials/save",
            &cookie,
            &form(&token, "save", "", "Nuôi dê", "Chuồng cao, khô ráo."),
        ))
        .await;
    res.assert_status(303);
    assert_eq!(loads(), before + 1, "the save installs a catalogue once");
    // Longer than the watcher's quiet time: its events for that write have been handled.
    tokio::time::sleep(hoclieu::catalog::watch::DEBOUNCE * 3).await;
    assert_eq!(
        loads(),
        before + 1,
        "the watcher loaded the library again after the server's own save"
    );
    // A file copied in by hand is still picked up.
    let dir = app.data.join("library/health");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("tay-tay.md"),
        "+++\ntitle = \"Tẩy giun\"\ncategory = \"health\"\n+++\n\nUống thuốc tẩy giun.\n",
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while !app
        .search_ids("tay giun")
        .await
        .contains(&"health/tay-tay".to_string())
    {
        assert!(
            std::time::Instant::now() < deadline,
            "hand edit never picked up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(loads(), before + 2);
}

#[tokio::test]
async fn without_a_centre_folder_every_change_answers_503_and_the_library_is_still_served() {
    let mut app = app();
    let (cookie, token) = teacher(&app).await;
    // DATA/library cannot be opened (here: a file stands where the folder should be).
    let folder = app.data.join("library");
    std::fs::remove_dir_all(&folder).unwrap();
    std::fs::write(&folder, b"not a folder").unwrap();
    app.restart();
    app.get("/").await.assert_status(200);
    let save = app
        .request(post(
            "/admin/materials/save",
            &cookie,
            &form(&token, "save", "", "Nuôi dê", "Chuồng cao."),
        ))
        .await;
    save.assert_status(503);
    assert!(
        save.text().contains("thư mục tài liệu riêng"),
        "{}",
        save.text()
    );
    let hide = app
        .request(post(
            "/admin/materials/hide",
            &cookie,
            &format!("token={token}&hide=health/oresol"),
        ))
        .await;
    hide.assert_status(503);
    let (ct, body) = multipart(&[("token", &token), ("id", "health/oresol")], "a.png", b"x");
    app.request(upload(&cookie, &ct, body))
        .await
        .assert_status(503);
}

#[tokio::test]
async fn a_new_material_says_to_save_before_adding_files_and_gets_todays_date() {
    let app = app();
    let (cookie, token) = teacher(&app).await;
    let page = app
        .get_with("/admin/materials/edit", &[("cookie", &cookie)])
        .await;
    page.assert_status(200);
    assert!(page.text().contains("Lưu bài trước, rồi thêm tệp"));
    // Saved without a date, it gets today's (by the trusted clock) and shows on the home
    // page among the recently updated materials.
    let body = form(&token, "save", "", "Nuôi gà thả vườn", "Chuồng thoáng.")
        .replace("updated=2026-11-29", "updated=");
    let res = app
        .request(post("/admin/materials/save", &cookie, &body))
        .await;
    res.assert_status(303);
    let today = hoclieu::clock::iso(hoclieu::clock::date_of(hoclieu::clock::local_day(
        app.state.now_ms(),
    )));
    let file =
        std::fs::read_to_string(app.data.join("library/agriculture/nuoi-ga-tha-vuon.md")).unwrap();
    assert!(file.contains(&format!("updated = {today}")), "{file}");
    let home = app.get("/").await.text();
    let recent = home.split("Mới cập nhật").nth(1).expect("a recent list");
    assert!(recent.contains("Nuôi gà thả vườn"), "{recent}");
}

// Files on disk are served with blocking reads, which need the multi-threaded runtime.
#[tokio::test(flavor = "multi_thread")]
async fn an_upload_offers_its_line_for_the_text_and_a_wrong_one_can_be_removed() {
    let app = app();
    let (cookie, token) = teacher(&app).await;
    let id = "health/oresol";
    let (ct, body) = multipart(&[("token", &token), ("id", id)], "cách pha.png", &png(2000));
    app.request(upload(&cookie, &ct, body))
        .await
        .assert_status(303);
    let (ct, body) = multipart(
        &[("token", &token), ("id", id)],
        "huong dan.pdf",
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
    );
    app.request(upload(&cookie, &ct, body))
        .await
        .assert_status(303);
    let editor = format!("/admin/materials/edit?id={}&done=uploaded", urlencode(id));
    let page = app.get_with(&editor, &[("cookie", &cookie)]).await;
    page.assert_status(200);
    let html = page.text();
    // Without a script: a line to copy, a picture shown, another file linked; relative to
    // the material, as the library resolves links.
    assert!(
        html.contains("<code class=\"md-line\">![Mô tả ảnh](oresol-cach-pha.png)</code>"),
        "{html}"
    );
    assert!(html.contains("<code class=\"md-line\">[Tải tệp](oresol-huong-dan.pdf)</code>"));
    assert!(html.contains("Chèn vào bài"), "the message says how");
    // With it: our own script (the policy allows no other) inserts at the cursor.
    let src = html
        .split("<script src=\"")
        .map(|s| s.split('"').next().unwrap())
        .find(|s| s.starts_with("/static/editor.js"))
        .expect("the editor's script");
    let js = app.get(src).await;
    js.assert_status(200);
    assert!(js.header("content-type").contains("javascript"));
    assert!(js.text().contains("Chèn vào bài") && js.text().contains("selectionStart"));
    // The line really shows the picture once in the text.
    let text = "Pha gói Oresol.\n\n![Cách pha](oresol-cach-pha.png)\n";
    app.request(post(
        "/admin/materials/save",
        &cookie,
        &form(&token, "save", id, "Pha Oresol", text),
    ))
    .await
    .assert_status(303);
    let shown = app.get(&format!("/m/{id}")).await.text();
    assert!(
        shown.contains("src=\"/m/health/oresol-cach-pha.png\""),
        "{shown}"
    );

    // A wrong upload is removed after a confirmation, and kept in the history.
    let remove = |confirm: &str| {
        format!(
            "token={token}&id={}&file={}{confirm}",
            urlencode(id),
            urlencode("health/oresol-huong-dan.pdf")
        )
    };
    let ask = app
        .request(post("/admin/materials/remove-file", &cookie, &remove("")))
        .await;
    ask.assert_status(200);
    assert!(ask.text().contains("Xóa tệp «oresol-huong-dan.pdf»?"));
    let file = app.data.join("library/health/oresol-huong-dan.pdf");
    assert!(file.exists(), "nothing removed before the confirmation");
    let res = app
        .request(post(
            "/admin/materials/remove-file",
            &cookie,
            &remove("&confirm=yes"),
        ))
        .await;
    res.assert_status(303);
    assert!(!file.exists());
    let kept = app.data.join("history/health/oresol-huong-dan.pdf");
    assert_eq!(std::fs::read_dir(&kept).unwrap().count(), 1);
    app.get("/m/health/oresol-huong-dan.pdf")
        .await
        .assert_status(404);
    // Without the token nothing is removed; a starter library's file cannot be.
    let res = app
        .request(post(
            "/admin/materials/remove-file",
            &cookie,
            &format!(
                "token=sai&id={}&file={}&confirm=yes",
                urlencode(id),
                urlencode("health/oresol-cach-pha.png")
            ),
        ))
        .await;
    res.assert_status(400);
    assert!(app.data.join("library/health/oresol-cach-pha.png").exists());
    let lua = app
        .get_with(
            "/admin/materials/edit?id=agriculture%2Flua-vu-xuan",
            &[("cookie", &cookie)],
        )
        .await
        .text();
    assert!(lua.contains("lua-vu-xuan-lich.svg") && !lua.contains("Xóa tệp"));
    let res = app
        .request(post(
            "/admin/materials/remove-file",
            &cookie,
            &format!(
                "token={token}&id=agriculture%2Flua-vu-xuan&file={}&confirm=yes",
                urlencode("agriculture/lua-vu-xuan-lich.svg")
            ),
        ))
        .await;
    res.assert_status(400);
    assert!(res.text().contains("thư viện mẫu"));
}

/// Ends a session as 31 idle minutes would.
pub fn expire_sessions(app: &TestApp) {
    let conn = rusqlite::Connection::open(app.data.join("hoclieu.sqlite3")).unwrap();
    conn.execute(
        "UPDATE sessions SET last_seen = last_seen - 31 * 60 * 1000",
        [],
    )
    .unwrap();
}

/// Logs in again from the browser whose login-form cookie is `login`; returns where the login
/// leads and the new session cookie.
pub async fn log_in_again(app: &TestApp, login: &str) -> (String, String) {
    let page = app.get_with("/admin/login", &[("cookie", login)]).await;
    page.assert_status(200);
    assert!(page.text().contains("vẫn được giữ"), "{}", page.text());
    let token = crate::admin::token_in(&page.text());
    let res = app
        .request(post(
            "/admin/login",
            login,
            &format!("token={token}&username=co-lan&password=giao-vien-123"),
        ))
        .await;
    res.assert_status(303);
    let session = crate::admin::set_cookies(&res)
        .into_iter()
        .find(|c| c.starts_with("hl_admin="))
        .unwrap();
    let session = session.split(';').next().unwrap().to_string();
    (res.header("location").to_string(), session)
}

#[tokio::test]
async fn a_material_posted_after_the_session_expired_comes_back_after_login() {
    let app = app();
    let (cookie, token) = teacher(&app).await;
    expire_sessions(&app);
    let text = "Trộn rơm với phân, ủ kín ba mươi ngày.";
    let body = form(&token, "save", "", "Ủ phân chuồng", text);
    let res = app
        .request(post("/admin/materials/save", &cookie, &body))
        .await;
    res.assert_status(303);
    assert_eq!(res.header("location"), "/admin/login");
    assert!(
        !app.data
            .join("library/agriculture/u-phan-chuong.md")
            .exists()
    );
    // The browser is given a login-form cookie, under which the form is kept.
    let login = crate::admin::set_cookies(&res)
        .into_iter()
        .find(|c| c.starts_with("hl_login="))
        .expect("a login cookie");
    let login = login.split(';').next().unwrap().to_string();
    let (back, session) = log_in_again(&app, &login).await;
    assert!(back.starts_with("/admin/materials/edit?"), "{back}");
    let cookies = format!("{session}; {login}");
    let page = app.get_with(&back, &[("cookie", &cookies)]).await;
    page.assert_status(200);
    let html = page.text();
    assert!(html.contains("value=\"Ủ phân chuồng\""), "{html}");
    assert!(html.contains(text));
    assert!(html.contains("Phiên làm việc đã hết trước khi bài được lưu"));
    // Given back once; nothing was saved until the teacher presses Lưu again.
    let again = app.get_with(&back, &[("cookie", &cookies)]).await.text();
    assert!(!again.contains(text) && again.contains("Không còn bản nháp"));
    assert!(
        !app.data
            .join("library/agriculture/u-phan-chuong.md")
            .exists()
    );
    // A post without the browser's own (expired) session cookie keeps nothing: another
    // site's page cannot send that cookie.
    let res = app
        .request(post("/admin/materials/save", &login, &body))
        .await;
    res.assert_status(303);
    let page = app.get_with("/admin/login", &[("cookie", &login)]).await;
    assert!(!page.text().contains("vẫn được giữ"));
}
