//! Bending the numbers (issue 14, items 12 and 13): fake participants, and the small-group
//! rule attacked three ways. Visits go through the real router; reports are read as the
//! dashboard reads them.

use hoclieu::usage::report::{Period, Report, report};

use crate::util::{TestApp, urlencode};

/// Today's one-day period, by the app's clock.
fn today(app: &TestApp) -> Period {
    let d = hoclieu::clock::date_of(hoclieu::clock::local_day(app.state.now_ms()));
    Period::new(d, d).unwrap()
}

fn read(conn: &rusqlite::Connection, p: Period) -> Report {
    report(conn, p, &hoclieu::usage::profile::default_groups()).unwrap()
}

/// Gives a device's profile through the form, as a phone does.
async fn give_profile(app: &TestApp, cookie: &str, form: &str) -> u16 {
    let page = app.get_with("/ve-ban", &[("cookie", cookie)]).await;
    let token = crate::admin::token_in(&page.text());
    app.request(crate::admin::post(
        "/ve-ban",
        cookie,
        &format!("token={token}&{form}"),
    ))
    .await
    .status
    .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn cookie_less_requests_make_no_participants_and_the_report_says_so() {
    let mut app = crate::admin::app();
    for _ in 0..13 {
        let c = app.device().await;
        app.get_with("/m/health/oresol", &[("cookie", &c)])
            .await
            .assert_status(200);
    }
    // A script: 500 requests, none sending back the cookie it was given.
    for _ in 0..500 {
        app.get("/m/health/oresol").await.assert_status(200);
    }
    // And ids made up by the client, never issued by this box.
    for i in 0..20 {
        app.get_with(
            "/m/health/oresol",
            &[("cookie", &format!("hl_p={:032x}", 1000 + i))],
        )
        .await
        .assert_status(200);
    }
    let p = today(&app);
    // Stopping commits every event; the report is read after a restart.
    app.restart();
    let session = crate::admin::log_in(&app).await;
    let q = format!(
        "from={}&to={}",
        hoclieu::clock::iso(p.from),
        hoclieu::clock::iso(p.to)
    );
    let page = app
        .get_with(&format!("/admin?{q}"), &[("cookie", &session)])
        .await
        .text();
    let csv = app
        .get_with(
            &format!("/admin/export/summary.csv?{q}"),
            &[("cookie", &session)],
        )
        .await
        .text();
    let conn = app.flush();
    let r = read(&conn, p);
    assert_eq!(r.participants, 13, "only devices that kept their id");
    assert_eq!(r.top_materials[0].participants, 13);
    assert_eq!(r.views, 13);
    assert!(
        page.contains("520 lượt xem từ thiết bị không giữ mã, không tính"),
        "{page}"
    );
    assert!(
        page.contains("<td>Số người tham gia (thiết bị khác nhau)</td><td>13</td>"),
        "{page}"
    );
    assert!(
        csv.lines().nth(1).unwrap().ends_with(",13,13,13,0,520,520"),
        "{csv}"
    );
}

#[tokio::test]
async fn one_address_gets_only_a_few_new_ids() {
    let app = TestApp::new();
    let from = |ip: [u8; 4]| {
        let mut req = axum::http::Request::get("/m/health/oresol")
            .body(axum::body::Body::empty())
            .unwrap();
        req.extensions_mut()
            .insert(axum::extract::ConnectInfo(std::net::SocketAddr::from((
                ip, 40000,
            ))));
        req
    };
    let mut issued = 0;
    for _ in 0..50 {
        let res = app.request(from([192, 168, 1, 50])).await;
        res.assert_status(200);
        if res.header("set-cookie").starts_with("hl_p=") {
            issued += 1;
        }
    }
    assert_eq!(issued, 5, "a burst from one address gets five ids, no more");
    // Another phone on the Wi-Fi is not held back; the page is served either way.
    let other = app.request(from([192, 168, 1, 51])).await;
    assert!(other.header("set-cookie").starts_with("hl_p="));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_one_day_report_shows_no_single_persons_material_or_search() {
    let mut app = crate::admin::app();
    // The only visitor of the day reads one material and makes a telling search.
    let her = app.device().await;
    app.get_with("/m/health/oresol", &[("cookie", &her)]).await;
    let hiv = format!("/search?q={}", urlencode("xét nghiệm hiv ở đâu"));
    app.get_with(&hiv, &[("cookie", &her)]).await;
    let p = today(&app);
    app.restart();
    let session = crate::admin::log_in(&app).await;
    let q = format!(
        "from={}&to={}",
        hoclieu::clock::iso(p.from),
        hoclieu::clock::iso(p.to)
    );
    let page = app
        .get_with(&format!("/admin?{q}"), &[("cookie", &session)])
        .await
        .text();
    assert!(!page.contains("xét nghiệm hiv"), "{page}");
    assert!(!page.contains("Tiêu chảy ở trẻ em"), "{page}");
    assert!(page.contains("dưới 5 người tham gia được tính"), "{page}");

    // Six more people come and read something else: her material and search stay hidden.
    for _ in 0..6 {
        let c = app.device().await;
        app.get_with("/m/agriculture/lua-vu-xuan", &[("cookie", &c)])
            .await;
    }
    let conn = app.flush();
    let r = read(&conn, p);
    assert_eq!(r.participants, 7);
    assert_eq!(r.top_materials.len(), 1, "{:?}", r.top_materials);
    assert_eq!(r.top_materials[0].id, "agriculture/lua-vu-xuan");
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("hiv"), "{json}");
    assert!(!json.contains("health/oresol"), "{json}");
    // Her field, and her hour if she was alone in it, are not shown either.
    assert_eq!(r.by_category["health"].participants, 0);
}

/// People behind the hidden cells of each question, as a reader works them out from the
/// period's total and the cells shown.
fn worked_out(r: &Report) -> Vec<(String, u64)> {
    r.by_group
        .iter()
        .map(|(q, gs)| {
            let shown: u64 = gs.iter().filter_map(|g| g.participants).sum();
            (q.clone(), r.participants - shown)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn hidden_groups_cannot_be_worked_out_from_the_total() {
    let mut app = TestApp::new();
    // Five Mông and two Dao.
    for i in 0..7 {
        let c = app.device().await;
        app.get_with("/m/health/oresol", &[("cookie", &c)]).await;
        let eth = if i < 5 { "mong" } else { "dao" };
        assert_eq!(
            give_profile(&app, &c, &format!("ethnicity={eth}")).await,
            303
        );
    }
    let p = today(&app);
    let conn = app.flush();
    let r = read(&conn, p);
    assert_eq!(r.participants, 7);
    for (q, rest) in worked_out(&r) {
        assert!(
            rest == 0 || rest >= 5,
            "{q}: {rest} people can be worked out behind the hidden cells: {:?}",
            r.by_group[&q]
        );
    }
    // Hours and fields add up to the views: the same holds for them.
    let hidden_views: u64 = r.views - r.hours.iter().sum::<u64>();
    assert!(hidden_views == 0 || r.hidden_hours.iter().any(|h| *h));
}

#[tokio::test(flavor = "multi_thread")]
async fn fake_visitors_cannot_lift_a_group_to_five_and_confirm_a_person() {
    let mut app = TestApp::new();
    // Ten ordinary visitors who say nothing about themselves.
    for _ in 0..10 {
        let c = app.device().await;
        app.get_with("/m/agriculture/lua-vu-xuan", &[("cookie", &c)])
            .await;
    }
    // The one person the attacker wants to know about: a Dao woman over 60.
    let her = app.device().await;
    app.get_with("/m/health/oresol", &[("cookie", &her)]).await;
    let guess = "age_band=tren-60&gender=nu&ethnicity=dao";
    assert_eq!(give_profile(&app, &her, guess).await, 303);
    // Four fake visitors with the guessed profile, never keeping a cookie the box gave them.
    for i in 0..4 {
        let fake = format!("hl_p={:032x}", 0xfa4e + i);
        app.get_with("/m/health/oresol", &[("cookie", &fake)]).await;
        give_profile(&app, &fake, guess).await;
    }
    let p = today(&app);
    let conn = app.flush();
    let r = read(&conn, p);
    assert_eq!(r.participants, 11, "the fakes are not counted");
    for (q, g) in [
        ("ethnicity", "dao"),
        ("gender", "nu"),
        ("age_band", "tren-60"),
    ] {
        let shown = r.by_group[q].iter().find(|x| x.group == g).unwrap();
        assert_eq!(
            shown.participants, None,
            "{q}/{g} confirmed: {:?}",
            r.by_group[q]
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ordinary_reports_still_show_fields_groups_materials_searches_days_and_hours() {
    let mut app = TestApp::new();
    for i in 0..12 {
        let c = app.device().await;
        app.get_with("/m/health/oresol", &[("cookie", &c)]).await;
        app.get_with("/search?q=oresol", &[("cookie", &c)]).await;
        app.get_with("/search?q=zzqqxx", &[("cookie", &c)]).await;
        let eth = if i < 7 { "mong" } else { "dao" };
        give_profile(&app, &c, &format!("ethnicity={eth}&gender=nu")).await;
    }
    let p = today(&app);
    let conn = app.flush();
    let r = read(&conn, p);
    assert!(!r.withheld);
    assert_eq!(r.participants, 12);
    assert_eq!(r.by_category["health"].participants, 12);
    assert_eq!(r.top_materials[0].participants, 12);
    assert_eq!(r.top_searches.len(), 2, "{:?}", r.top_searches);
    assert_eq!(r.zero_result_searches[0].query, "zzqqxx");
    assert_eq!(r.zero_result_searches[0].searches, 12);
    assert_eq!(r.busy_days[0].participants, 12);
    assert_eq!(
        r.hours.iter().sum::<u64>(),
        12,
        "every view in a shown hour"
    );
    let eth = &r.by_group["ethnicity"];
    let n = |g: &str| eth.iter().find(|x| x.group == g).unwrap().participants;
    assert_eq!((n("mong"), n("dao")), (Some(7), Some(5)));
    assert_eq!(r.uncounted.views, 0);
}

#[test]
fn records_made_before_ids_were_checked_count_ids_seen_more_than_once() {
    use hoclieu::usage::store::Store;
    use hoclieu::usage::{EventKind, UsageEvent};
    let dir = tempfile::tempdir().unwrap();
    let at = hoclieu::clock::now_ms();
    {
        let mut store = Store::open(dir.path()).unwrap();
        let mut events = Vec::new();
        for i in 0..9 {
            let mut e = UsageEvent::now(EventKind::View, &format!("{i:032x}"));
            e.at_ms = at + i64::from(i);
            e.material = Some("health/oresol".into());
            e.category = Some(hoclieu::content::Category::Health);
            events.push(e.clone());
            // Six came back, three were seen once.
            if i < 6 {
                e.at_ms += 60_000;
                events.push(e);
            }
        }
        store.insert(&events).unwrap();
        // Back to a database of before this change.
        store
            .conn()
            .execute_batch(
                "DROP TABLE kept; DROP TABLE search_person; DROP TABLE hour_person;
                 DROP TABLE secrets; PRAGMA user_version = 2;",
            )
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let d = hoclieu::clock::date_of(hoclieu::clock::local_day(at));
    let r = read(store.conn(), Period::new(d, d).unwrap());
    assert_eq!(r.participants, 6);
    assert_eq!(r.uncounted.devices, 3);
    assert_eq!(r.uncounted.views, 3);
    assert_eq!(r.views, 12);
    assert_eq!(
        r.hours.iter().sum::<u64>(),
        12,
        "hours rebuilt from raw events"
    );
}
