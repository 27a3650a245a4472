//! A box with a wrong clock: phones report their time through `/api/clock`, the server follows
//! the time most phones agree on, and events recorded before it knew are moved to the right day.

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;

use crate::util::TestApp;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

fn now_ms() -> i64 {
    hoclieu::clock::now_ms()
}

/// A clock report from a phone at `ip`.
fn report(ip: [u8; 4], phone_ms: i64) -> Request<Body> {
    let mut req = Request::post("/api/clock")
        .header("content-type", "text/plain")
        .body(Body::from(format!("t={phone_ms}")))
        .unwrap();
    // What `into_make_service_with_connect_info` puts on every request.
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40000))));
    req
}

fn visit(who: char) -> Request<Body> {
    Request::get("/m/health/oresol")
        .header("cookie", format!("hl_p={}", who.to_string().repeat(32)))
        .body(Body::empty())
        .unwrap()
}

#[tokio::test]
async fn phones_correct_a_wrong_clock_and_earlier_events_move_to_the_true_day() {
    // The box's clock is fine here; the phones say it is three days later, so for this test
    // the box is "three days behind".
    let mut app = TestApp::with_usage();
    let truth = now_ms() + 3 * DAY_MS;
    app.request(visit('a')).await.assert_status(200);
    // Nonsense and single phones change nothing.
    app.request(report([10, 0, 0, 9], 12))
        .await
        .assert_status(400);
    let mut garbage = report([10, 0, 0, 9], 0);
    *garbage.body_mut() = Body::from("t=abc");
    app.request(garbage).await.assert_status(400);
    for _ in 0..5 {
        app.request(report([10, 0, 0, 2], truth))
            .await
            .assert_status(204);
    }
    app.request(visit('b')).await.assert_status(200);
    // A liar, then two more honest phones: three of four agree.
    app.request(report([10, 0, 0, 66], truth - 900 * DAY_MS))
        .await
        .assert_status(204);
    app.request(report([10, 0, 0, 3], truth + 20_000))
        .await
        .assert_status(204);
    app.request(report([10, 0, 0, 4], truth - 15_000))
        .await
        .assert_status(204);
    app.request(visit('c')).await.assert_status(200);
    let conn = app.flush();
    let rows: Vec<(String, i64, i64, Option<i64>)> = conn
        .prepare("SELECT participant, at, day, guess_boot FROM events ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 3);
    for (who, at, day, guess) in &rows {
        assert!(
            (at - truth).abs() < 60_000,
            "{who}: {} s off",
            (at - truth) / 1000
        );
        assert_eq!(*day, hoclieu::clock::local_day(*at), "{who}");
        assert_eq!(*guess, None, "{who} is settled");
    }
    // The daily totals follow: everyone was active on the true day, nobody three days before.
    let on = |day: i64| -> i64 {
        conn.query_row(
            "SELECT COUNT(DISTINCT participant) FROM active WHERE category = '' AND day = ?1",
            [day],
            |r| r.get(0),
        )
        .unwrap()
    };
    let true_day = hoclieu::clock::local_day(truth);
    assert_eq!(on(true_day) + on(true_day - 1) + on(true_day + 1), 3);
    assert_eq!(on(hoclieu::clock::local_day(truth - 3 * DAY_MS)), 0);
}

#[test]
fn guesses_from_an_earlier_run_are_kept_and_newer_ones_fixed() {
    use hoclieu::usage::{EventKind, Guess, UsageEvent};
    let dir = tempfile::tempdir().unwrap();
    let mut store = hoclieu::usage::store::Store::open(dir.path()).unwrap();
    let base = 1_796_083_200_000; // 2026-12-01 00:00 UTC
    let mut old = UsageEvent::now(EventKind::View, &"a".repeat(32));
    old.at_ms = base;
    old.guess = Some(Guess {
        offset_ms: 0,
        boot: 1,
    });
    let mut new = UsageEvent::now(EventKind::View, &"b".repeat(32));
    new.at_ms = base;
    new.guess = Some(Guess {
        offset_ms: 0,
        boot: 2,
    });
    store.insert(&[old, new]).unwrap();
    assert_eq!(store.settle_clock(2, 10 * DAY_MS).unwrap(), 1);
    let at = |who: char| -> (i64, Option<i64>) {
        store
            .conn()
            .query_row(
                "SELECT at, guess_boot FROM events WHERE participant = ?1",
                [who.to_string().repeat(32)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    assert_eq!(at('a'), (base, None));
    assert_eq!(at('b'), (base + 10 * DAY_MS, None));
    let days: Vec<i64> = store
        .conn()
        .prepare("SELECT DISTINCT day FROM active ORDER BY day")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        days,
        [
            hoclieu::clock::local_day(base),
            hoclieu::clock::local_day(base + 10 * DAY_MS)
        ]
    );
}

/// Raw events in the store.
fn raw_events(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn three_addresses_saying_three_years_later_after_a_restart_delete_no_raw_event() {
    // Issue 14: after a restart, three loopback addresses posting now + 3 years moved the
    // clock, and the first confirmation pruned every raw event.
    let mut app = TestApp::with_usage();
    for who in ['a', 'b', 'c', 'd'] {
        app.request(visit(who)).await.assert_status(200);
    }
    app.restart();
    let later = now_ms() + 3 * 365 * DAY_MS;
    for round in 0..3 {
        for ip in [[127, 0, 0, 1], [127, 0, 0, 2], [127, 0, 0, 3]] {
            app.request(report(ip, later + round * 1000))
                .await
                .assert_status(204);
        }
    }
    // An event after the reports: the writer looks at the clock again before committing it.
    app.request(visit('e')).await.assert_status(200);
    let held = app.state.clock.status();
    assert!(
        (held.now_ms - now_ms()).abs() < 60_000,
        "the clock did not follow them"
    );
    assert!(
        held.held_ms.is_some(),
        "what they say is kept for staff to see"
    );
    let conn = app.flush();
    assert_eq!(raw_events(&conn), 5, "every raw event is still there");
}

#[tokio::test]
async fn staff_see_a_time_phones_say_but_the_clock_holds_back_and_a_move_phones_made() {
    let app = crate::admin::app();
    let manager = crate::admin::log_in(&app).await;
    for ip in [[10, 0, 0, 1], [10, 0, 0, 2], [10, 0, 0, 3]] {
        app.request(report(ip, now_ms() + 400 * DAY_MS))
            .await
            .assert_status(204);
    }
    let page = app.get_with("/admin", &[("cookie", &manager)]).await;
    page.assert_status(200);
    let text = page.text();
    assert!(text.contains("Máy chưa theo giờ này"), "{text}");
    assert!(text.contains("name=\"phones\""));
    // A week ahead at most is followed at once, and shown.
    for ip in [[10, 0, 0, 4], [10, 0, 0, 5], [10, 0, 0, 6], [10, 0, 0, 7]] {
        app.request(report(ip, now_ms() + 3 * DAY_MS))
            .await
            .assert_status(204);
    }
    assert!((app.state.clock.now_ms() - (now_ms() + 3 * DAY_MS)).abs() < 60_000);
    // Three days later the session has expired.
    let manager = crate::admin::log_in(&app).await;
    let text = app.get_with("/admin", &[("cookie", &manager)]).await.text();
    assert!(text.contains("4 điện thoại đã chỉnh giờ của máy"), "{text}");
}

#[tokio::test]
async fn a_date_staff_confirm_prunes_old_raw_events_after_saying_how_many() {
    use crate::admin::{log_in, post, token_in};
    let mut app = crate::admin::app();
    for who in ['a', 'b'] {
        app.request(visit(who)).await.assert_status(200);
    }
    // Committed (a restart waits for the writer).
    app.restart();
    let manager = log_in(&app).await;
    let page = app.get_with("/admin", &[("cookie", &manager)]).await;
    let token = token_in(&page.text());
    let later = hoclieu::clock::date_of(hoclieu::clock::local_day(now_ms() + 3 * 365 * DAY_MS));
    let date = hoclieu::clock::iso(later);
    let form = format!("token={token}&date={date}&time=08:30");
    let ask = app.request(post("/admin/clock", &manager, &form)).await;
    ask.assert_status(200);
    assert!(ask.text().contains("2 lượt ghi chi tiết"), "{}", ask.text());
    assert!(
        (app.state.clock.now_ms() - now_ms()).abs() < 60_000,
        "nothing changes before the confirmation"
    );
    let done = app
        .request(post(
            "/admin/clock",
            &manager,
            &format!("{form}&confirm=yes"),
        ))
        .await;
    done.assert_status(303);
    assert_eq!(done.header("location"), "/admin");
    let status = app.state.clock.status();
    assert_eq!(status.source, hoclieu::clock::Source::Staff);
    assert_eq!(
        hoclieu::clock::iso(hoclieu::clock::date_of(status.prune_day.unwrap())),
        date
    );
    let conn = app.flush();
    assert_eq!(raw_events(&conn), 0, "pruned by the date staff confirmed");
    // The date is kept for the next run to prune on from.
    let kept = hoclieu::clock::read_pruned(&app.data.join("pruned-by")).unwrap();
    assert_eq!(
        hoclieu::clock::iso(hoclieu::clock::date_of(hoclieu::clock::local_day(kept))),
        date
    );
    // The daily totals stay.
    let active: i64 = conn
        .query_row("SELECT COUNT(*) FROM active", [], |r| r.get(0))
        .unwrap();
    assert!(active > 0);
}
