//! The manager's area: nothing without a login, login limits, the report and its exports.

use axum::body::Body;
use axum::http::Request;

use crate::util::{Res, TestApp};

pub const PASSWORD: &str = "mat-khau-du-dai";

pub fn app() -> TestApp {
    let app = TestApp::with_usage();
    let conn = rusqlite::Connection::open(app.data.join("hoclieu.sqlite3")).unwrap();
    hoclieu::accounts::set_password(
        &conn,
        "quanly",
        PASSWORD,
        hoclieu::accounts::Role::Manager,
        0,
    )
    .unwrap();
    app
}

pub fn set_cookies(res: &Res) -> Vec<String> {
    res.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

pub fn token_in(html: &str) -> String {
    value_after(html, "name=\"token\" value=\"")
}

/// The text between the first `prefix` and the quote after it.
pub fn value_after(html: &str, prefix: &str) -> String {
    html.split(prefix)
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string()
}

pub fn post(uri: &str, cookie: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header("cookie", cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Loads the login form and returns (login cookie, form token).
pub async fn login_form(app: &TestApp) -> (String, String) {
    let page = app.get("/admin/login").await;
    page.assert_status(200);
    let cookie = set_cookies(&page)
        .into_iter()
        .find(|c| c.starts_with("hl_login="))
        .unwrap();
    let cookie = cookie.split(';').next().unwrap().to_string();
    (cookie, token_in(&page.text()))
}

pub async fn log_in(app: &TestApp) -> String {
    log_in_as(app, "quanly", PASSWORD, "/admin").await
}

/// Logs in and checks where the account lands; returns the session cookie.
pub async fn log_in_as(app: &TestApp, user: &str, password: &str, lands_on: &str) -> String {
    let (cookie, token) = login_form(app).await;
    let res = app
        .request(post(
            "/admin/login",
            &cookie,
            &format!("token={token}&username={user}&password={password}"),
        ))
        .await;
    res.assert_status(303);
    assert_eq!(res.header("location"), lands_on);
    let session = set_cookies(&res)
        .into_iter()
        .find(|c| c.starts_with("hl_admin="))
        .expect("session cookie");
    assert!(session.contains("HttpOnly"), "{session}");
    assert!(session.contains("SameSite=Strict"), "{session}");
    assert!(session.contains("Path=/admin"), "{session}");
    session.split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn admin_pages_refuse_unauthenticated_requests() {
    let app = app();
    for path in [
        "/admin",
        "/admin/export/summary.csv",
        "/admin?period=2026-Q4",
    ] {
        let res = app.get(path).await;
        res.assert_status(303);
        assert_eq!(res.header("location"), "/admin/login", "{path}");
        assert!(!res.text().contains("participants"));
    }
    let forged = app
        .get_with("/admin", &[("cookie", "hl_admin=0123456789abcdef")])
        .await;
    forged.assert_status(303);
    let res = app.request(post("/admin/logout", "", "token=x")).await;
    res.assert_status(303);
    assert_eq!(res.header("location"), "/admin/login");
}

#[tokio::test]
async fn login_is_checked_limited_and_rotates_sessions() {
    let app = app();
    let (cookie, token) = login_form(&app).await;
    // A form from elsewhere (no bound cookie or wrong token) is refused.
    let res = app
        .request(post(
            "/admin/login",
            "",
            &format!("token={token}&username=quanly&password={PASSWORD}"),
        ))
        .await;
    res.assert_status(400);
    for _ in 0..5 {
        let res = app
            .request(post(
                "/admin/login",
                &cookie,
                &format!("token={token}&username=quanly&password=sai"),
            ))
            .await;
        res.assert_status(401);
        assert!(res.text().contains("Sai tên đăng nhập hoặc mật khẩu"));
    }
    // Too many failures: even the right password waits.
    let res = app
        .request(post(
            "/admin/login",
            &cookie,
            &format!("token={token}&username=quanly&password={PASSWORD}"),
        ))
        .await;
    res.assert_status(429);

    let app = self::app();
    let a = log_in(&app).await;
    let b = log_in(&app).await;
    assert_ne!(a, b, "each login gets a new session id");
}

#[tokio::test(flavor = "multi_thread")]
async fn dashboard_reports_and_exports_then_logout_ends_the_session() {
    let mut app = app();
    // Six devices read a health material and look for something the library lacks.
    for _ in 0..6 {
        let c = app.device().await;
        app.get_with("/m/health/oresol", &[("cookie", &c)])
            .await
            .assert_status(200);
        app.get_with("/search?q=xyzzyq", &[("cookie", &c)]).await;
    }
    app.flush();
    let session = log_in(&app).await;
    let res = app.get_with("/admin", &[("cookie", &session)]).await;
    res.assert_status(200);
    assert_eq!(res.header("cache-control"), "no-store");
    let html = res.text();
    assert!(html.contains("Báo cáo tình hình tham gia học tập suốt đời"));
    assert!(html.contains("Trung tâm học tập cộng đồng"));
    // The fingerprint of the key this box signs its summaries with.
    let fingerprint = app.state.records.box_key().unwrap().fingerprint();
    assert!(
        html.contains(&format!(
            "Khóa ký của máy: <code class=\"fingerprint\">{fingerprint}</code>"
        )),
        "{html}"
    );
    assert!(
        html.contains("<td>Số người tham gia (thiết bị khác nhau)</td><td>6</td>"),
        "{html}"
    );
    assert!(
        html.contains("Tiêu chảy ở trẻ em"),
        "top material shown by title"
    );
    assert!(html.contains("xyzzyq"), "search that found nothing");
    assert!(html.contains("<svg class=\"chart\""));
    let csv = app
        .get_with("/admin/export/by_category.csv", &[("cookie", &session)])
        .await;
    csv.assert_status(200);
    assert!(csv.header("content-type").starts_with("text/csv"));
    assert!(csv.header("content-disposition").contains("attachment"));
    assert!(
        csv.text()
            .starts_with("\u{feff}Lĩnh vực,Số người tham gia,Lượt xem\n"),
        "{}",
        csv.text()
    );
    assert!(csv.text().contains("Sức khỏe,6,6"));
    app.get_with("/admin/export/nope.csv", &[("cookie", &session)])
        .await
        .assert_status(404);
    app.get_with("/admin?period=2026-Q9", &[("cookie", &session)])
        .await
        .assert_status(400);

    // Logging out needs the session's form token, then the cookie is dead.
    let csrf = token_in(&html);
    app.request(post("/admin/logout", &session, "token=wrong"))
        .await
        .assert_status(400);
    app.request(post("/admin/logout", &session, &format!("token={csrf}")))
        .await
        .assert_status(303);
    app.get_with("/admin", &[("cookie", &session)])
        .await
        .assert_status(303);
}

#[tokio::test]
async fn the_dashboard_opens_on_the_month_of_the_trusted_clock_not_the_system_clock() {
    let mut app = app();
    // The box has records from March 2031, but its system clock says otherwise (a board
    // without a clock battery after a power cut reads 1970, or simply an older date).
    {
        let mut store = hoclieu::usage::store::Store::open(&app.data).unwrap();
        let mut e = hoclieu::usage::UsageEvent::now(hoclieu::usage::EventKind::View, "p");
        e.at_ms = 1_931_342_400_000; // 2031-03-15 12:00 UTC
        store.insert(&[e]).unwrap();
    }
    app.restart();
    let cookie = log_in(&app).await;
    let page = app.get_with("/admin", &[("cookie", &cookie)]).await;
    page.assert_status(200);
    let text = page.text();
    assert!(
        text.contains("01/03/2031") && text.contains("31/03/2031"),
        "the default period must be March 2031: {text}"
    );
}

#[tokio::test]
async fn the_printed_report_carries_the_official_header_date_and_signature_lines() {
    let app = app();
    let session = log_in(&app).await;
    let html = app
        .get_with("/admin?period=2026-Q4", &[("cookie", &session)])
        .await
        .text();
    for words in [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập – Tự do – Hạnh phúc",
        "TRUNG TÂM HỌC TẬP CỘNG ĐỒNG",
        "Người lập biểu",
        "Giám đốc trung tâm",
    ] {
        assert!(html.contains(words), "{words} missing");
    }
    assert!(
        html.contains(" tháng ") && html.contains(" năm "),
        "no report date"
    );
    // The busy-days chart has a column for each of the quarter's 92 days, so one active day
    // cannot make one bar as tall as many printed pages.
    let days = html
        .split("aria-label=\"Số người học mỗi ngày\"")
        .nth(1)
        .and_then(|s| s.split("</svg>").next())
        .expect("the busy-days chart");
    assert_eq!(days.matches("<rect").count(), 92);
}

#[tokio::test(flavor = "multi_thread")]
async fn csv_exports_open_in_excel_in_vietnamese_with_titles_and_no_formulas() {
    let mut app = app();
    let lesson = hoclieu::lessons::Lesson {
        code: "qy6jn".into(),
        title: "Chăm sóc trẻ bị tiêu chảy".into(),
        category: hoclieu::content::Category::Health,
        audience: String::new(),
        date: String::new(),
        notes: String::new(),
        published: true,
        author: "quanly".into(),
        items: Vec::new(),
    };
    app.state.lessons.save(&lesson).unwrap();
    for _ in 0..5 {
        let visitor = [("cookie", app.device().await)];
        let visitor = [(visitor[0].0, visitor[0].1.as_str())];
        for path in ["/m/health/oresol", "/l/qy6jn", "/search?q=%3D1%2B2"] {
            app.get_with(path, &visitor).await.assert_status(200);
        }
    }
    app.flush();
    let session = log_in(&app).await;
    let csv = |table: &str| {
        let app = &app;
        let session = session.clone();
        let table = table.to_string();
        async move {
            let res = app
                .get_with(
                    &format!("/admin/export/{table}.csv"),
                    &[("cookie", &session)],
                )
                .await;
            res.assert_status(200);
            // The byte order mark: Excel then reads the file as UTF-8.
            assert!(res.body.starts_with(b"\xef\xbb\xbf"), "{table}");
            res.text()
        }
    };
    let summary = csv("summary").await;
    assert!(
        summary.starts_with("\u{feff}Từ ngày,Đến ngày,Số người tham gia,"),
        "{summary}"
    );
    // Titles and labels, not the ids the records keep.
    let materials = csv("top_materials").await;
    assert!(
        materials.contains("Tiêu chảy ở trẻ em: pha và cho uống Oresol,5,5"),
        "{materials}"
    );
    assert!(!materials.contains("health/oresol"));
    let lessons = csv("lessons").await;
    assert!(
        lessons.contains("Chăm sóc trẻ bị tiêu chảy,5,5"),
        "{lessons}"
    );
    assert!(!lessons.contains("qy6jn"));
    let groups = csv("by_group").await;
    assert!(groups.contains("Độ tuổi,Dưới 15 tuổi,dưới 5"), "{groups}");
    assert!(!groups.contains("duoi-15") && !groups.contains("age_band"));
    // A search typed as a formula stays text in the spreadsheet.
    let searches = csv("top_searches").await;
    assert!(searches.contains("'=1+2,5"), "{searches}");

    // The command line writes the same CSV.
    let period = &summary.lines().nth(1).unwrap()[..7];
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hoclieu"))
        .args(["report", "--format", "csv", "--period", period, "--data"])
        .arg(&app.data)
        .arg("--library")
        .arg(app.data.parent().unwrap().join("library"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("\u{feff}# Tổng hợp (summary)\n"), "{text}");
    for part in [&materials, &lessons, &searches] {
        assert!(text.contains(part.trim_start_matches('\u{feff}')), "{text}");
    }
}
