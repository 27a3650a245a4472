//! Counting participation: events from real requests, reports from scripted visits, the
//! small-group rule, the optional profile, and a crash of the real binary.

use hoclieu::clock::parse_date;
use hoclieu::content::Category;
use hoclieu::usage::report::{Period, report};
use hoclieu::usage::store::Store;
use hoclieu::usage::{EventKind, UsageEvent};

use crate::util::TestApp;

fn count(conn: &rusqlite::Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

fn cookie_of(res: &crate::util::Res) -> String {
    let set = res.header("set-cookie");
    assert!(set.starts_with("hl_p="), "{set}");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    set.split(';').next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn page_views_searches_and_plays_are_recorded_per_device() {
    let mut app = TestApp::with_usage();
    let first = app.get("/m/agriculture/lua-vu-xuan").await;
    first.assert_status(200);
    let a = cookie_of(&first);
    let again = app.get_with("/m/health/oresol", &[("cookie", &a)]).await;
    assert_eq!(
        again.header("set-cookie"),
        "",
        "a known device gets no new cookie"
    );
    // One play of an audio file makes several range requests; it counts once.
    let mp3 = "/m/agriculture/lua-vu-xuan-bai-giang.mp3";
    app.get_with(mp3, &[("cookie", &a), ("range", "bytes=0-")])
        .await
        .assert_status(206);
    app.get_with(mp3, &[("cookie", &a), ("range", "bytes=100-200")])
        .await
        .assert_status(206);
    app.get_with("/search?q=oresol", &[("cookie", &a)])
        .await
        .assert_status(200);
    app.get_with("/search?q=zzqqxx", &[("cookie", &a)])
        .await
        .assert_status(200);
    app.get_with("/search?q=oresol&offset=20", &[("cookie", &a)])
        .await;
    // A second device; assets and the API are not counted and set no cookie.
    let b = cookie_of(&app.get("/c/law").await);
    assert_ne!(a, b);
    app.get_with("/m/law/khai-sinh", &[("cookie", &b)]).await;
    let css = app.get("/static/style.css").await;
    assert_eq!(css.header("set-cookie"), "");
    app.get("/api/search?q=lua").await;

    let conn = app.flush();
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM events WHERE kind = 'view'"),
        3
    );
    assert_eq!(
        count(
            &conn,
            "SELECT COUNT(*) FROM events WHERE kind = 'attachment'"
        ),
        1
    );
    assert_eq!(
        count(&conn, "SELECT COUNT(*) FROM events WHERE kind = 'search'"),
        2
    );
    assert_eq!(
        count(&conn, "SELECT COUNT(DISTINCT participant) FROM events"),
        2
    );
    assert_eq!(
        count(&conn, "SELECT results FROM events WHERE query = 'zzqqxx'"),
        0,
        "zero-result search recorded with its count"
    );
    assert!(count(&conn, "SELECT results FROM events WHERE query = 'oresol'") >= 1);
    let attachment_field: String = conn
        .query_row(
            "SELECT category FROM events WHERE kind = 'attachment'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(attachment_field, "agriculture");
    // Nothing resembling an address is stored.
    let cols: Vec<String> = conn
        .prepare("SELECT name FROM pragma_table_info('events')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        cols,
        [
            "id",
            "at",
            "day",
            "kind",
            "participant",
            "material",
            "category",
            "query",
            "results",
            "guess_offset",
            "guess_boot"
        ]
    );
}

#[tokio::test]
async fn a_forged_cookie_is_replaced() {
    let app = TestApp::with_usage();
    let res = app
        .get_with("/", &[("cookie", "hl_p=../../etc/passwd")])
        .await;
    res.assert_status(200);
    let set = cookie_of(&res);
    assert_ne!(set, "hl_p=../../etc/passwd");
}

/// Builds a UTC timestamp from a Vietnam local time.
fn vn(date: &str, hour: i64, minute: i64) -> i64 {
    let day = hoclieu::clock::day_number(parse_date(date).unwrap());
    ((day * 86_400) + hour * 3600 + minute * 60 - 7 * 3600) * 1000
}

fn ev(at_ms: i64, who: &str, kind: EventKind, material: Option<(&str, Category)>) -> UsageEvent {
    UsageEvent {
        at_ms,
        kind,
        participant: who.to_string(),
        material: material.map(|m| m.0.to_string()),
        category: material.map(|m| m.1),
        query: None,
        results: None,
        guess: None,
    }
}

/// Marks ids as kept (their cookie came back), as the participant layer does.
fn keep(store: &mut Store, ids: &[String]) {
    let at = vn("2026-01-01", 12, 0);
    let marks: Vec<UsageEvent> = ids
        .iter()
        .map(|id| ev(at, id, EventKind::Kept, None))
        .collect();
    store.insert(&marks).unwrap();
}

fn period(a: &str, b: &str) -> Period {
    Period::new(parse_date(a).unwrap(), parse_date(b).unwrap()).unwrap()
}

#[test]
fn reports_count_people_not_hits_across_period_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let rice = Some(("agriculture/lua", Category::Agriculture));
    let ors = Some(("health/ors", Category::Health));
    let land = Some(("law/so-do", Category::Law));
    let one = vec![
        // Device a: three views in one sitting, then again the next day.
        ev(vn("2026-09-30", 9, 0), "a", EventKind::View, rice),
        ev(vn("2026-09-30", 9, 5), "a", EventKind::View, rice),
        ev(vn("2026-09-30", 9, 20), "a", EventKind::View, ors),
        ev(vn("2026-10-01", 8, 0), "a", EventKind::View, rice),
        // Device b: 23:50 local on 30 September is still September (16:50 UTC)...
        ev(vn("2026-09-30", 23, 50), "b", EventKind::View, land),
        // ...and 00:10 local on 1 October is October, though still 30 September in UTC.
        ev(vn("2026-10-01", 0, 10), "b", EventKind::View, land),
        // Device c: only searches.
        ev(vn("2026-10-02", 20, 0), "c", EventKind::Search, None),
    ];
    // Five devices of each kind (fewer than five people show nothing), each one kept.
    let mut events = Vec::new();
    for i in 0..5 {
        for e in &one {
            let mut e = e.clone();
            e.participant = format!("{}{i}", e.participant);
            if e.kind == EventKind::Search {
                e.query = Some("  Sổ   ĐỎ ".into());
                e.results = Some(0);
            }
            events.push(e);
        }
    }
    let kept: Vec<String> = events.iter().map(|e| e.participant.clone()).collect();
    store.insert(&events).unwrap();
    keep(&mut store, &kept);
    let conn = store.conn();

    let sep = report(
        conn,
        period("2026-09-01", "2026-09-30"),
        &hoclieu::usage::profile::default_groups(),
    )
    .unwrap();
    assert_eq!(sep.participants, 10);
    assert_eq!(sep.views, 20);
    assert_eq!(sep.sessions, 10);
    assert_eq!(sep.by_category["agriculture"].participants, 5);
    assert_eq!(sep.by_category["agriculture"].views, 10);
    assert_eq!(sep.by_category["health"].participants, 5);
    assert_eq!(sep.by_category["law"].participants, 5);
    assert_eq!(sep.hours[9], 15);
    assert_eq!(sep.hours[23], 5);
    assert_eq!(sep.top_materials[0].id, "agriculture/lua");
    assert_eq!(sep.top_materials[0].views, 10);
    assert_eq!(sep.top_materials[0].participants, 5);

    let oct = report(
        conn,
        Period::named("2026-10").unwrap(),
        &hoclieu::usage::profile::default_groups(),
    )
    .unwrap();
    assert_eq!(oct.participants, 15, "a, b and the searcher c");
    assert_eq!(oct.views, 10);
    assert_eq!(oct.searches, 5);
    // b's 00:10 view is 20 minutes after the 23:50 one: same session, counted on the 30th.
    assert_eq!(oct.sessions, 10, "a on the 1st, c on the 2nd");
    assert_eq!(oct.by_category["law"].participants, 5);
    assert_eq!(oct.top_searches[0].query, "sổ đỏ");
    assert_eq!(oct.zero_result_searches[0].query, "sổ đỏ");
    assert_eq!(oct.busy_days.len(), 2);
    assert_eq!(oct.busy_days[0].date, "2026-10-01");
    assert_eq!(oct.busy_days[0].participants, 10);

    let quarter = report(
        conn,
        Period::named("2026-Q3").unwrap(),
        &hoclieu::usage::profile::default_groups(),
    )
    .unwrap();
    assert_eq!(
        quarter,
        report(
            conn,
            period("2026-07-01", "2026-09-30"),
            &hoclieu::usage::profile::default_groups()
        )
        .unwrap()
    );
    let both = report(
        conn,
        period("2026-09-30", "2026-10-02"),
        &hoclieu::usage::profile::default_groups(),
    )
    .unwrap();
    assert_eq!(
        both.participants, 15,
        "distinct across days, not the sum of days"
    );
    assert_eq!(both.views, 30);
}

#[test]
fn small_groups_are_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let at = vn("2026-11-10", 10, 0);
    let mut events = Vec::new();
    for i in 0..12 {
        let who = format!("p{i}");
        events.push(ev(
            at + i,
            &who,
            EventKind::View,
            Some(("x/y", Category::Law)),
        ));
        // Seven Mông women from Bản Hon, five Dao men from two other hamlets (3 and 2).
        let (eth, gender, village) = if i < 7 {
            ("mong", "nu", "Bản Hon")
        } else {
            ("dao", "nam", if i < 10 { "Nà Khum" } else { "Pá Bon" })
        };
        let p = hoclieu::usage::profile::Profile::from_form(
            None,
            Some(gender),
            Some(eth),
            Some(village),
            None,
        )
        .unwrap();
        hoclieu::usage::profile::save(store.conn(), &who, &p, at).unwrap();
    }
    store.insert(&events).unwrap();
    let ids: Vec<String> = (0..12).map(|i| format!("p{i}")).collect();
    keep(&mut store, &ids);
    let r = report(
        store.conn(),
        Period::named("2026-11").unwrap(),
        &hoclieu::usage::profile::default_groups(),
    )
    .unwrap();
    let group = |q: &str, g: &str| {
        r.by_group[q]
            .iter()
            .find(|x| x.group == g)
            .unwrap_or_else(|| panic!("{q}/{g} missing"))
            .participants
    };
    assert_eq!(group("ethnicity", "mong"), Some(7));
    assert_eq!(group("ethnicity", "dao"), Some(5));
    assert_eq!(
        group("ethnicity", "thai"),
        None,
        "0 people looks like a small group"
    );
    assert_eq!(group("gender", "nu"), Some(7));
    assert_eq!(group("gender", "nam"), Some(5));
    assert_eq!(group("village", "Bản Hon"), Some(7));
    assert_eq!(group("village", "*"), Some(5), "two hamlets pooled");
    assert!(
        !r.by_group["village"]
            .iter()
            .any(|g| g.group == "Nà Khum" || g.group == "Pá Bon"),
        "small hamlets are not named: {:?}",
        r.by_group["village"]
    );
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains("Nà Khum"));
}

#[tokio::test]
async fn profile_can_be_given_seen_and_erased() {
    let mut app = TestApp::with_usage();
    let page = app.get("/ve-ban").await;
    page.assert_status(200);
    let cookie = cookie_of(&page);
    let html = page.text();
    assert!(html.contains("Không cần tên"));
    let token = html
        .split("name=\"token\" value=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();
    let post = |body: String| {
        axum::http::Request::post("/ve-ban")
            .header("cookie", &cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    // Without the page's token (another site posting in the visitor's name): refused.
    let forged = app.request(post("token=x&age_band=15-25".into())).await;
    forged.assert_status(400);
    let bad = app
        .request(post(format!("token={token}&ethnicity=martian")))
        .await;
    bad.assert_status(400);
    let ok = app
        .request(post(format!(
            "token={token}&age_band=15-25&gender=nu&ethnicity=mong&village=B%E1%BA%A3n+Hon&newly_literate=co"
        )))
        .await;
    ok.assert_status(303);
    let shown = app.get_with("/ve-ban", &[("cookie", &cookie)]).await.text();
    assert!(shown.contains(r#"value="15-25" checked"#), "{shown}");
    assert!(shown.contains("Bản Hon"));
    assert!(shown.contains("Xóa thông tin của tôi"));
    // One answer can be taken back ("Không muốn cho biết") and the others stay.
    let ok = app
        .request(post(format!(
            "token={token}&age_band=15-25&gender=&ethnicity=mong&village=B%E1%BA%A3n+Hon&newly_literate=co"
        )))
        .await;
    ok.assert_status(303);
    let shown = app.get_with("/ve-ban", &[("cookie", &cookie)]).await.text();
    assert!(
        shown.contains(r#"name="gender" value="" checked"#),
        "{shown}"
    );
    assert!(shown.contains(r#"value="15-25" checked"#), "{shown}");
    assert!(shown.contains(r#"value="mong" checked"#), "{shown}");
    let erase = axum::http::Request::post("/ve-ban/xoa")
        .header("cookie", &cookie)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(axum::body::Body::from(format!("token={token}")))
        .unwrap();
    app.request(erase).await.assert_status(303);
    let conn = app.flush();
    assert_eq!(count(&conn, "SELECT COUNT(*) FROM profiles"), 0);
}

#[test]
fn pruning_raw_events_keeps_past_reports() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut events = Vec::new();
    for i in 0..5 {
        events.push(ev(
            vn("2023-05-10", 9, i),
            &format!("a{i}"),
            EventKind::View,
            Some(("law/x", Category::Law)),
        ));
    }
    events.push(ev(
        vn("2026-05-10", 9, 0),
        "b",
        EventKind::View,
        Some(("law/x", Category::Law)),
    ));
    store.insert(&events).unwrap();
    let ids: Vec<String> = events.iter().map(|e| e.participant.clone()).collect();
    keep(&mut store, &ids);
    let before = report(
        store.conn(),
        Period::named("2023").unwrap(),
        &hoclieu::usage::profile::default_groups(),
    )
    .unwrap();
    let today = hoclieu::clock::day_number(parse_date("2026-06-01").unwrap());
    assert_eq!(
        store.prune(today, 730).unwrap(),
        5,
        "only the 2023 raw events go"
    );
    let after = report(
        store.conn(),
        Period::named("2023").unwrap(),
        &hoclieu::usage::profile::default_groups(),
    )
    .unwrap();
    assert_eq!(before, after);
    assert_eq!(after.participants, 5);
    assert_eq!(after.by_category["law"].views, 5);
    assert_eq!(count(store.conn(), "SELECT COUNT(*) FROM events"), 1);
}

#[test]
fn the_report_command_refuses_bad_periods_in_plain_words() {
    let data = tempfile::tempdir().unwrap();
    drop(Store::open(data.path()).unwrap());
    let report = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_hoclieu"))
            .arg("report")
            .args(args)
            .arg("--data")
            .arg(data.path())
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    for (args, says) in [
        // The whole calendar once made the previous period overflow (a panic, exit 101).
        (
            &["--from", "0000-01-01", "--to", "9999-12-31"][..],
            "years 2000",
        ),
        (&["--from", "2001-01-01", "--to", "2130-12-31"], "100 years"),
        (
            &["--from", "2026-13-01", "--to", "2026-12-31"],
            "--from \"2026-13-01\" is not a date",
        ),
        (
            &["--from", "2026-12-01", "--to", "2026-11-31"],
            "--to \"2026-11-31\" is not a date",
        ),
        (
            &["--from", "2026-12-01", "--to", "2026-11-30"],
            "--to is before --from",
        ),
        (&["--period", "2026-Q5"], "unknown period \"2026-Q5\""),
        (&["--period", "2500"], "years 2000"),
        (&[], "give --from and --to, or --period"),
    ] {
        let (code, stderr) = report(args);
        assert_eq!(code, Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains(says), "{args:?}: {stderr}");
    }
    let (code, stderr) = report(&["--from", "2026-01-01", "--to", "2026-12-31"]);
    assert_eq!(code, Some(0), "{stderr}");
}

#[tokio::test]
async fn the_profile_offers_the_ethnic_groups_of_the_settings_and_reports_count_them() {
    let mut app = TestApp::with_usage();
    app.restart_with(|s| {
        s.ethnic_groups = ["Hà Nhì", "la hu", "MÔNG", "người sao Hỏa"]
            .map(String::from)
            .to_vec();
    });
    let page = app.get("/ve-ban").await;
    let cookie = cookie_of(&page);
    let html = page.text();
    let shown: Vec<&str> = html
        .split("name=\"ethnicity\" value=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .collect();
    // In the settings' order, "another group" last, unknown names left out.
    assert_eq!(shown, ["", "ha-nhi", "la-hu", "mong", "khac"], "{html}");
    assert!(html.contains("La Hủ"));
    let token = html
        .split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_string();
    let res = app
        .request(
            axum::http::Request::post("/ve-ban")
                .header("cookie", &cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(axum::body::Body::from(format!(
                    "token={token}&ethnicity=ha-nhi"
                )))
                .unwrap(),
        )
        .await;
    res.assert_status(303);
    let conn = app.flush();
    let r = hoclieu::usage::report::report(
        &conn,
        hoclieu::usage::report::Period::named("2026").unwrap(),
        &hoclieu::usage::profile::offered_groups(&["Hà Nhì".to_string(), "Mông".to_string()]).0,
    )
    .unwrap();
    let labels: Vec<&str> = r.by_group["ethnicity"]
        .iter()
        .map(|g| g.label.as_str())
        .collect();
    assert_eq!(labels, ["Hà Nhì", "Mông", "Dân tộc khác", "Không cho biết"]);
}
