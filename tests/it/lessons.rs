//! Lessons: a teacher builds one from the library, reorders and publishes it; visitors open it
//! at its short address, print its handout, scan its QR code, find it in search; the report
//! counts who joined it.

use crate::admin::{app, log_in_as, post};
use crate::util::{TestApp, urlencode};

const TEACHER_PASSWORD: &str = "giao-vien-123";

/// A teacher's session cookie and its form token.
pub async fn teacher(app: &TestApp) -> (String, String) {
    let conn = rusqlite::Connection::open(app.data.join("hoclieu.sqlite3")).unwrap();
    hoclieu::accounts::set_password(
        &conn,
        "co-lan",
        TEACHER_PASSWORD,
        hoclieu::accounts::Role::Teacher,
        0,
    )
    .unwrap();
    let cookie = log_in_as(app, "co-lan", TEACHER_PASSWORD, "/admin/lessons").await;
    let page = app.get_with("/admin/lessons", &[("cookie", &cookie)]).await;
    page.assert_status(200);
    let token = crate::admin::token_in(&page.text());
    (cookie, token)
}

/// Creates a lesson and returns its code.
async fn create(app: &TestApp, cookie: &str, token: &str, title: &str) -> String {
    let res = app
        .request(post(
            "/admin/lessons",
            cookie,
            &format!(
                "token={token}&title={}&category=agriculture",
                urlencode(title)
            ),
        ))
        .await;
    res.assert_status(303);
    let location = res.header("location").to_string();
    location
        .strip_prefix("/admin/lessons/")
        .unwrap()
        .to_string()
}

async fn act(app: &TestApp, cookie: &str, code: &str, body: &str) -> crate::util::Res {
    app.request(post(&format!("/admin/lessons/{code}"), cookie, body))
        .await
}

/// Publishes a lesson; returns where the editor goes next.
async fn publish(app: &TestApp, cookie: &str, token: &str, code: &str) -> String {
    let res = act(app, cookie, code, &format!("token={token}&action=publish")).await;
    res.assert_status(303);
    res.header("location").to_string()
}

#[tokio::test]
async fn a_teacher_builds_reorders_and_publishes_a_lesson() {
    let mut app = app();
    let (cookie, token) = teacher(&app).await;
    let code = create(&app, &cookie, &token, "Chăm sóc lúa và trâu bò mùa đông").await;
    // Drafts are not shown to visitors.
    app.get(&format!("/l/{code}")).await.assert_status(404);
    // Find materials from the edit page, then add two.
    let res = act(
        &app,
        &cookie,
        &code,
        &format!("token={token}&action=find&find=lua"),
    )
    .await;
    res.assert_status(303);
    let found = app
        .get_with(res.header("location"), &[("cookie", &cookie)])
        .await;
    found.assert_status(200);
    assert!(
        found.text().contains("add:agriculture/lua-vu-xuan"),
        "{}",
        found.text()
    );
    for id in ["agriculture/lua-vu-xuan", "agriculture/trau-mua-ret"] {
        act(
            &app,
            &cookie,
            &code,
            &format!("token={token}&action=add:{}", urlencode(id)),
        )
        .await
        .assert_status(303);
    }
    // A material that does not exist is refused.
    act(
        &app,
        &cookie,
        &code,
        &format!("token={token}&action=add:khong/co"),
    )
    .await
    .assert_status(400);
    // Notes typed in the form are kept by a reorder.
    let body = format!(
        "token={token}&action=down:0&title={}&audience={}&date=2026-12-05&notes=&note_0={}&note_1={}",
        urlencode("Chăm sóc lúa và trâu bò mùa đông"),
        urlencode("Hội nông dân thôn Nà Phặc"),
        urlencode("Đọc phần bón phân"),
        urlencode("Chuẩn bị rơm khô"),
    );
    act(&app, &cookie, &code, &body).await.assert_status(303);
    publish(&app, &cookie, &token, &code).await;
    // Without the token nothing changes.
    act(&app, &cookie, &code, "token=sai&action=delete")
        .await
        .assert_status(400);

    let page = app.get(&format!("/l/{code}")).await;
    page.assert_status(200);
    let html = page.text();
    let trau = html.find("Giữ trâu bò qua mùa rét").unwrap();
    let lua = html.find("Kỹ thuật trồng lúa nước vụ xuân").unwrap();
    assert!(trau < lua, "the reorder moved trâu first");
    assert!(html.find("Chuẩn bị rơm khô").unwrap() < html.find("Đọc phần bón phân").unwrap());
    assert!(html.contains("Hội nông dân thôn Nà Phặc"));
    assert!(html.contains("05/12/2026"));

    // The QR code is an SVG of the lesson's address.
    let qr = app
        .get_with(
            &format!("/l/{code}/qr.svg"),
            &[("host", "192.168.1.10:8080")],
        )
        .await;
    qr.assert_status(200);
    assert_eq!(qr.header("content-type"), "image/svg+xml");
    assert!(qr.text().starts_with("<svg"), "{}", qr.text());
    // The handout holds the QR code, the address, the notes and the materials' opening text.
    // The address is the box's own (as on the poster), whatever Host the page was opened
    // with: printed from the box's browser (`localhost`) it must still work on a phone.
    for host in ["localhost:8080", "hoclieu.local", "evil.example"] {
        let print = app
            .get_with(&format!("/l/{code}/in"), &[("host", host)])
            .await;
        print.assert_status(200);
        let p = print.text();
        assert!(
            p.contains(&format!("http://127.0.0.1:8080/l/{code}")),
            "{host}"
        );
        assert!(!p.contains(host), "{host} was printed");
    }
    let print = app
        .get_with(&format!("/l/{code}/in"), &[("host", "192.168.1.10:8080")])
        .await;
    print.assert_status(200);
    let p = print.text();
    assert!(p.contains("<svg"));
    assert!(p.contains("Giáo viên dặn"));
    assert!(p.contains("class=\"handout\""));

    // Visitors find it by searching, with or without marks.
    for q in ["trâu bò mùa đông", "trau bo mua dong", "na phac"] {
        let res = app.get(&format!("/search?q={}", urlencode(q))).await;
        assert!(res.text().contains(&format!("/l/{code}")), "{q}");
    }

    // Five devices open it (one twice): five people joined in six visits. The first visit
    // above, by a device that never sent its cookie back, is not counted.
    let mut devices = Vec::new();
    for _ in 0..5 {
        devices.push(app.device().await);
    }
    devices.push(devices[0].clone());
    for cookie in &devices {
        app.get_with(&format!("/l/{code}"), &[("cookie", cookie)])
            .await
            .assert_status(200);
    }
    let conn = app.flush();
    // Any period around now: the events were just recorded.
    let r = hoclieu::usage::report::report(
        &conn,
        hoclieu::usage::report::Period::named("2026").unwrap(),
        &hoclieu::usage::profile::default_groups(),
    )
    .unwrap();
    let r = if r.lessons.is_empty() {
        let now = hoclieu::usage::report::Period::named("2027").unwrap();
        hoclieu::usage::report::report(&conn, now, &hoclieu::usage::profile::default_groups())
            .unwrap()
    } else {
        r
    };
    let lesson = r.lessons.iter().find(|l| l.id == code).unwrap();
    assert_eq!((lesson.participants, lesson.views), (5, 6));
    assert!(r.top_materials.iter().all(|m| !m.id.starts_with("lesson")));
    assert_eq!(r.by_category["agriculture"].participants, 5);
}

#[tokio::test]
async fn unknown_or_hostile_lesson_codes_are_404() {
    let app = app();
    for path in [
        "/l/zzzzz",
        "/l/..%2F..%2Fetc",
        "/l/ABCD",
        "/l/a/in",
        "/l/zzzzz/qr.svg",
    ] {
        app.get(path).await.assert_status(404);
    }
}

#[tokio::test]
async fn deleting_a_lesson_takes_a_second_step_with_a_dangerous_button() {
    let app = app();
    let (cookie, token) = teacher(&app).await;
    let code = create(&app, &cookie, &token, "Phòng bệnh cho gà").await;
    let editor = format!("/admin/lessons/{code}");
    let page = app.get_with(&editor, &[("cookie", &cookie)]).await.text();
    // "Xóa bài học" looks unlike "Lưu".
    assert!(
        page.contains("class=\"danger\" name=\"action\" value=\"delete\""),
        "{page}"
    );
    assert!(!page.contains("class=\"danger\" name=\"action\" value=\"save\""));
    // One tap only asks.
    let ask = act(
        &app,
        &cookie,
        &code,
        &format!("token={token}&action=delete"),
    )
    .await;
    ask.assert_status(200);
    assert!(ask.text().contains("Xóa bài học «Phòng bệnh cho gà»?"));
    assert!(
        ask.text().contains(&format!("href=\"{editor}\"")),
        "a way back"
    );
    app.get_with(&editor, &[("cookie", &cookie)])
        .await
        .assert_status(200);
    // The second step deletes.
    let res = act(
        &app,
        &cookie,
        &code,
        &format!("token={token}&action=delete&confirm=yes"),
    )
    .await;
    res.assert_status(303);
    assert_eq!(res.header("location"), "/admin/lessons");
    app.get_with(&editor, &[("cookie", &cookie)])
        .await
        .assert_status(404);
}

/// The value of the first submit button of the lesson form: what Enter in a box presses.
fn default_button(page: &str) -> String {
    let form = page
        .split("<form class=\"stack\" action=\"/admin/lessons/")
        .nth(1)
        .unwrap();
    let button = form.split("<button type=\"submit\"").nth(1).unwrap();
    crate::admin::value_after(button, "value=\"")
}

#[tokio::test]
async fn searching_for_materials_to_add_takes_one_search_for_several() {
    let app = app();
    let (cookie, token) = teacher(&app).await;
    let code = create(&app, &cookie, &token, "Mùa đông ở bản").await;
    let res = act(
        &app,
        &cookie,
        &code,
        &format!("token={token}&action=add:agriculture%2Flua-vu-xuan&find=lua"),
    )
    .await;
    res.assert_status(303);
    // The search is still there after adding, with what each material is about and a way to
    // open it; the one added is marked.
    let location = res.header("location").to_string();
    assert!(location.contains("find=lua"), "{location}");
    let page = app.get_with(&location, &[("cookie", &cookie)]).await;
    page.assert_status(200);
    let html = page.text();
    let found = html.split("class=\"found\"").nth(1).expect("results");
    assert!(
        found.contains("Cách làm mạ, cấy và chăm sóc lúa vụ xuân"),
        "{found}"
    );
    // At the section that matched, when the material has sections.
    assert!(found.contains("href=\"/m/agriculture/lua-vu-xuan"));
    assert!(found.contains("Đã có trong bài"));
    assert!(!found.contains("value=\"add:agriculture/lua-vu-xuan\""));
    // With a material in the lesson, Enter in the search box still searches: the form's
    // first button is the search, not "Lên".
    assert!(html.contains("value=\"up:0\""));
    assert_eq!(default_button(&html), "find");
}

#[tokio::test]
async fn lesson_codes_open_in_capitals_or_not_and_are_shown_in_capitals() {
    let app = app();
    let (cookie, token) = teacher(&app).await;
    // A code with a letter in it (one in about a thousand has only digits).
    let code = loop {
        let c = create(&app, &cookie, &token, "Nước sạch trong nhà").await;
        if c.bytes().any(|b| b.is_ascii_lowercase()) {
            break c;
        }
    };
    publish(&app, &cookie, &token, &code).await;
    let capitals = code.to_ascii_uppercase();
    for c in [&capitals, &code] {
        let page = app.get(&format!("/l/{c}")).await;
        page.assert_status(200);
        assert!(page.text().contains("Nước sạch trong nhà"));
        app.get(&format!("/l/{c}/qr.svg")).await.assert_status(200);
        app.get_with(&format!("/admin/lessons/{c}"), &[("cookie", &cookie)])
            .await
            .assert_status(200);
    }
    // Where a person reads the code, it is in capitals.
    let list = app.get_with("/admin/lessons", &[("cookie", &cookie)]).await;
    assert!(
        list.text().contains(&format!(">{capitals}<")),
        "{}",
        list.text()
    );
    let editor = app
        .get_with(&format!("/admin/lessons/{code}"), &[("cookie", &cookie)])
        .await;
    assert!(
        editor
            .text()
            .contains(&format!("<strong>{capitals}</strong>"))
    );
}

#[tokio::test]
async fn the_projector_page_shows_the_boxs_own_address_and_the_code_in_capitals() {
    let app = app();
    let (cookie, token) = teacher(&app).await;
    let code = create(&app, &cookie, &token, "Tiêm chủng cho trẻ").await;
    // Drafts are not projected.
    app.get(&format!("/l/{code}/chieu"))
        .await
        .assert_status(404);
    let published = publish(&app, &cookie, &token, &code).await;
    // Published: the teacher reads the full address, not a path.
    let capitals = code.to_ascii_uppercase();
    let address = format!("http://127.0.0.1:8080/l/{capitals}");
    let editor = app
        .get_with(&published, &[("cookie", &cookie)])
        .await
        .text();
    assert!(
        editor.contains(&format!("Đã đăng. Học viên mở {address} để xem.")),
        "{editor}"
    );
    assert!(editor.contains(&format!("href=\"/l/{code}/chieu\"")));
    // The page for the projector: the QR code, the code in large capitals, and the box's own
    // numeric address (from where it listens, not from the Host the page was asked with).
    let page = app
        .get_with(
            &format!("/l/{capitals}/chieu"),
            &[("host", "may-cua-co-lan.example")],
        )
        .await;
    page.assert_status(200);
    let html = page.text();
    assert!(html.contains("<body class=\"projector\">"));
    assert!(html.contains("<svg"));
    assert!(html.contains(&format!("<p class=\"projector-code\">{capitals}</p>")));
    assert!(html.contains(&format!(">{address}</p>")), "{html}");
    assert!(!html.contains("may-cua-co-lan"));
    // Projecting is not joining: no visitor cookie is handed out.
    assert!(page.header("set-cookie").is_empty());
}

#[tokio::test]
async fn a_lesson_posted_after_the_session_expired_comes_back_after_login() {
    let app = app();
    let (cookie, token) = teacher(&app).await;
    let code = create(&app, &cookie, &token, "Phòng rét cho trâu").await;
    crate::materials::expire_sessions(&app);
    // The browser already has a login-form cookie: the draft is kept under it.
    let (login, _) = crate::admin::login_form(&app).await;
    let notes = "Mang theo ủng và áo mưa; họp ở nhà văn hoá thôn.";
    let res = app
        .request(post(
            &format!("/admin/lessons/{code}"),
            &format!("{cookie}; {login}"),
            &format!(
                "token={token}&action=save&title={}&notes={}",
                urlencode("Phòng rét cho trâu bò"),
                urlencode(notes)
            ),
        ))
        .await;
    res.assert_status(303);
    assert_eq!(res.header("location"), "/admin/login");
    let (back, session) = crate::materials::log_in_again(&app, &login).await;
    assert_eq!(back, format!("/admin/lessons/{code}?draft=1"));
    let page = app
        .get_with(&back, &[("cookie", &format!("{session}; {login}"))])
        .await;
    page.assert_status(200);
    let html = page.text();
    assert!(html.contains(notes), "{html}");
    assert!(html.contains("value=\"Phòng rét cho trâu bò\""));
    // Not saved: the stored lesson still has its old title.
    let stored = app.state.lessons.get(&code).unwrap().unwrap();
    assert_eq!(stored.title, "Phòng rét cho trâu");
}
