//! A login flood (issue 14, item 1): password checks run in one reused argon2 buffer behind a
//! short queue, so a burst of wrong logins is refused early as busy or limited, never queued
//! without end, never a 500, and memory does not grow with it.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::ConnectInfo;
use futures_util::future::join_all;

use crate::admin::{PASSWORD, app, login_form, post};
use crate::util::{Res, TestApp};

/// A login posted from `peer`, as the accept loop would tag it.
async fn login_from(app: &TestApp, peer: SocketAddr, cookie: &str, body: String) -> Res {
    let mut req = post("/admin/login", cookie, &body);
    req.extensions_mut().insert(ConnectInfo(peer));
    app.request(req).await
}

fn count(results: &[Res], status: u16) -> usize {
    results.iter().filter(|r| r.status == status).count()
}

/// Posts `logins` as simultaneous logins while a hash already runs, which ends only once every
/// login has been answered or waits in the queue. Without it a fast hash could end before
/// join_all has polled the last logins (it yields every 32) and free a place early.
async fn flood_while_hashing(
    app: &TestApp,
    cookie: &str,
    logins: impl Iterator<Item = (SocketAddr, String)>,
) -> Vec<Res> {
    let running = app.state.staff.login_limiter.hash_turn().await.unwrap();
    let answered = AtomicUsize::new(0);
    let logins: Vec<_> = logins.collect();
    let n = logins.len();
    let flood = join_all(logins.into_iter().map(|(peer, body)| {
        let answered = &answered;
        async move {
            let res = login_from(app, peer, cookie, body).await;
            answered.fetch_add(1, Ordering::SeqCst);
            res
        }
    }));
    let (results, ()) = tokio::join!(flood, async {
        let may_wait = hoclieu::web::login_limit::HASH_QUEUE - 1;
        let since = std::time::Instant::now();
        while answered.load(Ordering::SeqCst) < n.saturating_sub(may_wait)
            && since.elapsed().as_secs() < 10
        {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
        drop(running);
    });
    results
}

#[track_caller]
fn assert_busy_pages_say_so(results: &[Res]) {
    for r in results.iter().filter(|r| r.status == 503) {
        assert_eq!(r.header("retry-after"), "5");
        assert!(r.text().contains("Máy chủ đang bận"), "{}", r.text());
    }
}

#[tokio::test]
async fn sixty_simultaneous_wrong_logins_from_one_address_are_refused_early() {
    let app = app();
    let (cookie, token) = login_form(&app).await;
    let peer: SocketAddr = "192.168.1.50:40000".parse().unwrap();
    let results = flood_while_hashing(
        &app,
        &cookie,
        (0..60).map(|i| {
            (
                peer,
                format!("token={token}&username=quanly&password=sai-{i}"),
            )
        }),
    )
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(count(&results, 500), 0, "{statuses:?}");
    assert!(
        statuses.iter().all(|s| [401, 429, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(
        count(&results, 503) >= 1,
        "some refused as busy: {statuses:?}"
    );
    assert!(
        count(&results, 401) <= hoclieu::web::login_limit::HASH_QUEUE,
        "{statuses:?}"
    );
    assert!(count(&results, 429) >= 55, "{statuses:?}");
    assert_busy_pages_say_so(&results);
    // The attempts refused as busy counted too: even the right password now waits.
    let res = login_from(
        &app,
        peer,
        &cookie,
        format!("token={token}&username=quanly&password={PASSWORD}"),
    )
    .await;
    res.assert_status(429);
    assert!(hoclieu::accounts::password::buffers_allocated() <= 1);
}

#[tokio::test]
async fn a_flood_from_many_addresses_is_answered_busy_and_memory_stays_one_buffer() {
    let app = app();
    let (cookie, token) = login_form(&app).await;
    let results = flood_while_hashing(
        &app,
        &cookie,
        (0..60u8).map(|i| {
            let peer = SocketAddr::from(([10, 0, 1, i], 50000));
            (
                peer,
                format!("token={token}&username=khach-{i}&password=doan-bua-{i}"),
            )
        }),
    )
    .await;
    let statuses: Vec<u16> = results.iter().map(|r| r.status.as_u16()).collect();
    assert_eq!(count(&results, 500), 0, "{statuses:?}");
    // The queue holds the running hash and HASH_QUEUE - 1 waiting; the rest were refused.
    assert_eq!(
        count(&results, 401),
        hoclieu::web::login_limit::HASH_QUEUE - 1,
        "checked after waiting: {statuses:?}"
    );
    assert_eq!(
        count(&results, 503),
        61 - hoclieu::web::login_limit::HASH_QUEUE,
        "refused at once, not queued: {statuses:?}"
    );
    assert_busy_pages_say_so(&results);
    // However many checks this test binary has run, in one argon2 buffer.
    assert!(hoclieu::accounts::password::buffers_allocated() <= 1);
    // The queue empties: a manager logs in again from her own address.
    let res = login_from(
        &app,
        "192.168.1.7:1".parse().unwrap(),
        &cookie,
        format!("token={token}&username=quanly&password={PASSWORD}"),
    )
    .await;
    res.assert_status(303);
}
