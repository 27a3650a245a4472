//! A full disk in the staff area (issue 14, item 6): pages that only read keep working when
//! the disk refuses writes (a session's last-seen time is written once a minute at most, and a
//! failed write is logged), and a save that meets a full disk is told as such (507, in
//! Vietnamese), with nothing half-written.

use crate::admin::{app, log_in, post, token_in};
use crate::util::TestApp;

/// Runs SQL on the app's own database connection (where `max_page_count` and `query_only`,
/// which are per connection, take effect).
async fn on_app_db(app: &TestApp, sql: &'static str) {
    app.state
        .records
        .db(move |c| c.execute_batch(sql))
        .await
        .unwrap();
}

const READING_PAGES: [&str; 5] = [
    "/admin",
    "/admin/accounts",
    "/admin/materials",
    "/admin/lessons",
    "/admin/packages",
];

#[tokio::test]
async fn staff_pages_that_only_read_work_when_the_disk_refuses_writes() {
    let app = app();
    let session = log_in(&app).await;
    // The session was last seen two minutes ago, so this visit would save its time again.
    on_app_db(
        &app,
        "UPDATE sessions SET last_seen = last_seen - 120000; PRAGMA query_only = ON;",
    )
    .await;
    for path in READING_PAGES {
        let res = app.get_with(path, &[("cookie", &session)]).await;
        res.assert_status(200);
        assert!(!res.text().contains("Có lỗi trong máy chủ"), "{path}");
    }
    on_app_db(&app, "PRAGMA query_only = OFF;").await;
    // The time could not be saved, so the next visit saves it; after that, reading with a
    // fresh session writes nothing at all.
    app.get_with("/admin", &[("cookie", &session)])
        .await
        .assert_status(200);
    let writes_before: u64 = app
        .state
        .records
        .db(|c| Ok(c.total_changes()))
        .await
        .unwrap();
    for path in READING_PAGES {
        app.get_with(path, &[("cookie", &session)])
            .await
            .assert_status(200);
    }
    let writes_after: u64 = app
        .state
        .records
        .db(|c| Ok(c.total_changes()))
        .await
        .unwrap();
    assert_eq!(
        writes_before, writes_after,
        "reading pages wrote to the card"
    );
}

#[tokio::test]
async fn saving_an_account_on_a_full_disk_says_so_and_leaves_nothing_half_written() {
    let app = app();
    let session = log_in(&app).await;
    // The database may not grow, and its last page of accounts is filled to the brim.
    app.state
        .records
        .db(|c| {
            let pages: i64 = c.query_row("PRAGMA page_count", [], |r| r.get(0))?;
            c.pragma_update(None, "max_page_count", pages)?;
            let hash = "$argon2id$v=19$m=19456,t=2,p=1$".to_string() + &"x".repeat(66);
            for i in 0.. {
                let filled = c.execute(
                    "INSERT INTO accounts VALUES (?1, 'teacher', ?2, 0)",
                    rusqlite::params![format!("zz-{i:06}"), hash],
                );
                if let Err(e) = filled {
                    assert_eq!(
                        e.sqlite_error_code(),
                        Some(rusqlite::ErrorCode::DiskFull),
                        "{e}"
                    );
                    break;
                }
            }
            Ok(())
        })
        .await
        .unwrap();
    let page = app
        .get_with("/admin/accounts", &[("cookie", &session)])
        .await;
    page.assert_status(200);
    let token = token_in(&page.text());
    let res = app
        .request(post(
            "/admin/accounts",
            &session,
            &format!("token={token}&user=zzz-moi&role=teacher&password=mat-khau-moi-1"),
        ))
        .await;
    res.assert_status(507);
    let html = res.text();
    assert!(html.contains("Thẻ nhớ đã đầy"), "{html}");
    assert!(
        html.contains("Đăng xuất"),
        "shown in the staff frame: {html}"
    );
    let saved: i64 = app
        .state
        .records
        .db(|c| {
            c.query_row(
                "SELECT COUNT(*) FROM accounts WHERE username = 'zzz-moi'",
                [],
                |r| r.get(0),
            )
        })
        .await
        .unwrap();
    assert_eq!(saved, 0, "nothing half-written");
    // Room made: the same save works.
    on_app_db(&app, "PRAGMA max_page_count = 1073741823;").await;
    let res = app
        .request(post(
            "/admin/accounts",
            &session,
            &format!("token={token}&user=zzz-moi&role=teacher&password=mat-khau-moi-1"),
        ))
        .await;
    res.assert_status(200);
}
