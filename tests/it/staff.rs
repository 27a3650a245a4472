//! Staff accounts and roles: managers manage accounts and read reports, teachers only prepare
//! lessons and materials, and every admin route checks the role.

use crate::admin::{app, log_in, log_in_as, post, token_in};
use crate::util::TestApp;

const TEACHER_PASSWORD: &str = "giao-vien-123";

/// A manager's and a teacher's session cookies, the teacher created through the accounts page.
async fn manager_and_teacher(app: &TestApp) -> (String, String) {
    let manager = log_in(app).await;
    let page = app
        .get_with("/admin/accounts", &[("cookie", &manager)])
        .await;
    page.assert_status(200);
    let token = token_in(&page.text());
    let res = app
        .request(post(
            "/admin/accounts",
            &manager,
            &format!("token={token}&user=co-lan&role=teacher&password={TEACHER_PASSWORD}"),
        ))
        .await;
    res.assert_status(200);
    assert!(res.text().contains("co-lan"));
    let teacher = log_in_as(app, "co-lan", TEACHER_PASSWORD, "/admin/lessons").await;
    (manager, teacher)
}

#[tokio::test]
async fn teachers_cannot_reach_reports_or_accounts() {
    let app = app();
    let (_, teacher) = manager_and_teacher(&app).await;
    for path in [
        "/admin/accounts",
        "/admin/export/summary.csv",
        "/admin/export/fields.csv?period=2026-Q4",
    ] {
        let res = app.get_with(path, &[("cookie", &teacher)]).await;
        res.assert_status(403);
    }
    // The dashboard sends a teacher to the lessons instead of showing the report.
    let res = app.get_with("/admin", &[("cookie", &teacher)]).await;
    res.assert_status(303);
    assert_eq!(res.header("location"), "/admin/lessons");
    // Forms are refused too, token or not.
    let res = app
        .request(post(
            "/admin/accounts",
            &teacher,
            "token=x&user=ke-gian&role=manager&password=12345678910",
        ))
        .await;
    res.assert_status(403);
    let res = app
        .request(post(
            "/admin/accounts/remove",
            &teacher,
            "token=x&user=quanly",
        ))
        .await;
    res.assert_status(403);
}

#[tokio::test]
async fn managers_add_and_remove_accounts_with_the_form_token() {
    let app = app();
    let (manager, teacher) = manager_and_teacher(&app).await;
    // Without the session's token nothing changes.
    let res = app
        .request(post(
            "/admin/accounts/remove",
            &manager,
            "token=wrong&user=co-lan",
        ))
        .await;
    res.assert_status(400);
    let page = app
        .get_with("/admin/accounts", &[("cookie", &manager)])
        .await;
    let token = token_in(&page.text());
    // The last manager cannot remove itself.
    let res = app
        .request(post(
            "/admin/accounts/remove",
            &manager,
            &format!("token={token}&user=quanly&confirm=yes"),
        ))
        .await;
    res.assert_status(400);
    assert!(res.text().contains("quản lý cuối cùng"));
    // A short password is refused with a reason.
    let res = app
        .request(post(
            "/admin/accounts",
            &manager,
            &format!("token={token}&user=anh-ba&role=teacher&password=ngan"),
        ))
        .await;
    res.assert_status(400);
    assert!(res.text().contains("ít nhất 8"));
    // Removing asks first, on a page of its own with a red button; nothing changes yet.
    let res = app
        .request(post(
            "/admin/accounts/remove",
            &manager,
            &format!("token={token}&user=co-lan"),
        ))
        .await;
    res.assert_status(200);
    let ask = res.text();
    assert!(ask.contains("Xóa tài khoản co-lan?"), "{ask}");
    assert!(ask.contains("class=\"danger\""), "{ask}");
    assert!(ask.contains("name=\"confirm\" value=\"yes\""), "{ask}");
    app.get_with("/admin/lessons", &[("cookie", &teacher)])
        .await
        .assert_status(200);
    // Removing the teacher ends its session at once.
    let res = app
        .request(post(
            "/admin/accounts/remove",
            &manager,
            &format!("token={token}&user=co-lan&confirm=yes"),
        ))
        .await;
    res.assert_status(200);
    assert!(res.text().contains("Đã xóa tài khoản co-lan"));
    let res = app.get_with("/admin", &[("cookie", &teacher)]).await;
    res.assert_status(303);
    assert_eq!(res.header("location"), "/admin/login");
}

/// Every admin route: (method, path, only managers may use it).
const ADMIN_ROUTES: &[(&str, &str, bool)] = &[
    ("GET", "/admin/accounts", true),
    ("POST", "/admin/accounts", true),
    ("POST", "/admin/accounts/remove", true),
    ("GET", "/admin/export/summary.csv", true),
    ("POST", "/admin/backup", true),
    ("POST", "/admin/clock", true),
    ("GET", "/admin/lessons", false),
    ("POST", "/admin/lessons", false),
    ("GET", "/admin/lessons/abcd", false),
    ("POST", "/admin/lessons/abcd", false),
    ("GET", "/admin/materials", false),
    ("GET", "/admin/materials/edit", false),
    ("POST", "/admin/materials/save", false),
    ("POST", "/admin/materials/hide", false),
    ("POST", "/admin/materials/upload", false),
    ("GET", "/admin/packages", false),
    ("POST", "/admin/packages/export", false),
    ("POST", "/admin/packages/import", false),
    ("POST", "/admin/packages/apply", false),
];

fn request(method: &str, path: &str, cookie: &str) -> axum::http::Request<axum::body::Body> {
    let b = axum::http::Request::builder()
        .method(method)
        .uri(path)
        .header("cookie", cookie);
    let b = if method == "POST" {
        b.header("content-type", "application/x-www-form-urlencoded")
    } else {
        b
    };
    b.body(axum::body::Body::from("token=x")).unwrap()
}

#[tokio::test]
async fn every_admin_route_checks_the_session_and_the_role() {
    let app = app();
    let (_, teacher) = manager_and_teacher(&app).await;
    for &(method, path, manager_only) in ADMIN_ROUTES {
        let res = app.request(request(method, path, "")).await;
        assert_eq!(
            res.status.as_u16(),
            303,
            "{method} {path} without a session"
        );
        assert_eq!(res.header("location"), "/admin/login", "{method} {path}");
        let res = app
            .request(request(method, path, "hl_admin=forged0123456789"))
            .await;
        assert_eq!(
            res.status.as_u16(),
            303,
            "{method} {path} with a forged session"
        );
        let res = app.request(request(method, path, &teacher)).await;
        assert_eq!(res.header("cache-control"), "no-store", "{method} {path}");
        assert_eq!(
            res.header("x-content-type-options"),
            "nosniff",
            "{method} {path}"
        );
        assert!(
            res.header("content-security-policy")
                .contains("frame-ancestors 'none'"),
            "{method} {path}"
        );
        if manager_only {
            assert_eq!(res.status.as_u16(), 403, "{method} {path} as a teacher");
        } else {
            assert_ne!(res.status.as_u16(), 403, "{method} {path} as a teacher");
            assert!(res.status.as_u16() < 500, "{method} {path}: {}", res.status);
            // A form without the session's token never passes.
            if method == "POST" {
                assert!(
                    [400, 415].contains(&res.status.as_u16()),
                    "{method} {path} with a wrong token: {}",
                    res.status
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_manager_downloads_a_backup_that_restores() {
    let app = app();
    let manager = crate::admin::log_in(&app).await;
    // A GET (a picture pointing here, a prefetch) makes nothing.
    let res = app.get_with("/admin/backup", &[("cookie", &manager)]).await;
    res.assert_status(405);
    let page = app.get_with("/admin", &[("cookie", &manager)]).await.text();
    let csrf = crate::admin::token_in(&page);
    let forged = app
        .request(crate::admin::post("/admin/backup", &manager, "token=x"))
        .await;
    forged.assert_status(400);
    let res = app
        .request(crate::admin::post(
            "/admin/backup",
            &manager,
            &format!("token={csrf}"),
        ))
        .await;
    res.assert_status(200);
    assert!(
        res.header("content-disposition")
            .contains(".hoclieu-backup.tar")
    );
    assert_eq!(res.header("cache-control"), "no-store");
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.tar");
    std::fs::write(&file, &res.body).unwrap();
    let restored = dir.path().join("restored");
    let done = hoclieu::package::backup::restore(&file, &restored).unwrap();
    assert!(done.files >= 1);
    // The accounts came back with the records: the manager's login works on the copy.
    let conn = rusqlite::Connection::open(restored.join("hoclieu.sqlite3")).unwrap();
    let names: Vec<String> = hoclieu::accounts::list(&conn)
        .unwrap()
        .into_iter()
        .map(|a| a.username)
        .collect();
    assert_eq!(names, ["quanly"]);
    // Nothing was left in the data folder by the download.
    let leftovers: Vec<_> = std::fs::read_dir(&app.data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Whether a page is drawn in the staff frame (its menu, with the logout button), not as the
/// villagers' error page (with its search box).
fn in_staff_frame(html: &str) -> bool {
    html.contains("aria-label=\"Khu vực cán bộ\"")
        && html.contains("Đăng xuất")
        && !html.contains("id=\"q-err\"")
}

#[tokio::test]
async fn staff_errors_are_shown_in_the_staff_frame() {
    let app = app();
    let (manager, teacher) = manager_and_teacher(&app).await;
    // A report whose end is before its start.
    let res = app
        .get_with(
            "/admin?from=2026-12-10&to=2026-12-01",
            &[("cookie", &manager)],
        )
        .await;
    res.assert_status(400);
    assert!(res.text().contains("Ngày kết thúc phải sau ngày bắt đầu"));
    assert!(in_staff_frame(&res.text()), "{}", res.text());
    let res = app
        .get_with(
            "/admin/export/summary.csv?from=2026-12-10&to=2026-12-01",
            &[("cookie", &manager)],
        )
        .await;
    res.assert_status(400);
    assert!(in_staff_frame(&res.text()));
    // A page the role may not open, a lesson that does not exist, a stale form token.
    let res = app
        .get_with("/admin/accounts", &[("cookie", &teacher)])
        .await;
    res.assert_status(403);
    assert!(in_staff_frame(&res.text()), "{}", res.text());
    let res = app
        .get_with("/admin/lessons/khong-co", &[("cookie", &teacher)])
        .await;
    res.assert_status(404);
    assert!(in_staff_frame(&res.text()));
    let res = app
        .request(post("/admin/lessons", &teacher, "token=cu&title=x"))
        .await;
    res.assert_status(400);
    assert!(res.text().contains("Phiên làm việc không khớp"));
    assert!(in_staff_frame(&res.text()));
    // Not logged in, the villagers' pages still answer as before.
    let res = app.get("/khong-co").await;
    res.assert_status(404);
    assert!(!in_staff_frame(&res.text()));
}

#[tokio::test]
async fn the_login_page_is_for_teachers_too_and_styles_both_boxes_alike() {
    let app = app();
    let page = app.get("/admin/login").await;
    page.assert_status(200);
    let html = page.text();
    assert!(html.contains("<title>Đăng nhập cho cán bộ"));
    assert!(html.contains("<h1>Đăng nhập cho cán bộ</h1>"));
    assert!(!html.contains("Đăng nhập quản lý"));
    // Both boxes sit in a form whose one rule styles every input the same way.
    let form = html
        .split("<form class=\"stack\" action=\"/admin/login\"")
        .nth(1)
        .expect("the login form styled like the other staff forms");
    let form = form.split("</form>").next().unwrap();
    assert!(form.contains("type=\"text\"") && form.contains("type=\"password\""));
    let css = app.get("/static/style.css").await.text();
    assert!(css.contains(".stack input,"));
}
