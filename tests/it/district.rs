//! The district sees every centre (issue 16): a centre's signed period summary, checked and
//! imported at the district, read back as the centre's own report says; altered, foreign and
//! re-signed files; revisions; small groups at each level.

use std::path::Path;

use hoclieu::box_key::BoxKey;
use hoclieu::clock::parse_date;
use hoclieu::content::Category;
use hoclieu::district::{self, ImportError, Imported};
use hoclieu::summary::{self, Centre, Made, SummaryError};
use hoclieu::usage::export::Titles;
use hoclieu::usage::profile::{self, Profile};
use hoclieu::usage::report::{Period, Report, report, shown};
use hoclieu::usage::store::Store;
use hoclieu::usage::{EventKind, UsageEvent};

const DISTRICT: &str = "Tam Đường";

/// Milliseconds at a Vietnam time.
fn vn(date: &str, hour: i64) -> i64 {
    let day = hoclieu::clock::day_number(parse_date(date).unwrap());
    ((day * 86_400) + hour * 3600 - 7 * 3600) * 1000
}

/// One visitor: who, what they read and searched, what they said about themselves.
struct Visit<'a> {
    who: String,
    day: &'a str,
    material: (&'a str, Category),
    search: Option<(&'a str, u64)>,
    profile: Profile,
}

fn visit<'a>(who: &str, day: &'a str, material: (&'a str, Category)) -> Visit<'a> {
    Visit {
        who: format!("{who:0>32}"),
        day,
        material,
        search: None,
        profile: Profile::default(),
    }
}

/// Records the visits in the centre's store, as the server would (ids kept, profiles saved),
/// and marks the days the box was on.
fn record(store: &mut Store, visits: &[Visit<'_>]) {
    let mut events = Vec::new();
    for v in visits {
        let at = vn(v.day, 9);
        let e = |kind| UsageEvent {
            at_ms: at,
            kind,
            participant: v.who.clone(),
            material: None,
            category: None,
            query: None,
            results: None,
            guess: None,
        };
        events.push(e(EventKind::Kept));
        let mut view = e(EventKind::View);
        view.material = Some(v.material.0.to_string());
        view.category = Some(v.material.1);
        events.push(view);
        if let Some((q, results)) = v.search {
            let mut s = e(EventKind::Search);
            s.query = Some(q.to_string());
            s.results = Some(results);
            events.push(s);
        }
    }
    store.insert(&events).unwrap();
    for v in visits {
        profile::save(store.conn(), &v.who, &v.profile, vn(v.day, 9)).unwrap();
        let day = hoclieu::clock::day_number(parse_date(v.day).unwrap());
        store.mark_on(day, 1, vn(v.day, 9), None).unwrap();
    }
}

fn centre(name: &str, commune: &str) -> Centre {
    Centre {
        name: name.into(),
        commune: commune.into(),
        district: DISTRICT.into(),
        province: "Lai Châu".into(),
    }
}

/// Makes and signs the summary of `period` from a centre's store.
fn export(store: &Store, who: &Centre, period: &str) -> Vec<u8> {
    let conn = store.conn();
    let key = BoxKey::load_or_create(conn).unwrap();
    let titles = Titles::default();
    let groups = profile::default_groups();
    let made = Made {
        centre: who.clone(),
        ethnic_groups: &groups,
        titles: &titles,
        now_ms: vn("2027-01-05", 10),
        clock_trusted: true,
    };
    summary::seal(&summary::make(conn, period, &made).unwrap(), &key)
}

fn h2() -> Period {
    summary::named_period("2026-H2").unwrap().1
}

/// Twelve people at Bản Bo: seven women, five Mông and two Dao, three newly literate, one
/// from a hamlet named in her profile; searches by many and one by a single person.
fn ban_bo_visits() -> Vec<Visit<'static>> {
    let rice = ("agriculture/lua-vu-xuan", Category::Agriculture);
    let ors = ("health/oresol", Category::Health);
    let land = ("law/so-do", Category::Law);
    (0..12)
        .map(|i| {
            let material = [rice, rice, ors, land][i % 4];
            let day = ["2026-10-03", "2026-10-03", "2026-11-12"][i % 3];
            let mut v = visit(&format!("b{i}"), day, material);
            v.search = match i {
                0..=5 => Some(("trong lua", 4)),
                6..=10 => Some(("nuoi ong", 0)),
                _ => Some(("nguyen van a so dien thoai", 0)),
            };
            v.profile = Profile {
                gender: Some(if i < 7 { "nu" } else { "nam" }.into()),
                ethnicity: Some(
                    match i {
                        0..=4 => "mong",
                        5 | 6 => "dao",
                        _ => "kinh",
                    }
                    .into(),
                ),
                newly_literate: Some(i < 3),
                age_band: Some(if i < 6 { "26-60" } else { "15-25" }.into()),
                village: Some(if i == 0 { "Bản Hon" } else { "Nậm Đích" }.into()),
            };
            v
        })
        .collect()
}

fn district_store(dir: &Path) -> rusqlite::Connection {
    let conn = Store::open(dir).unwrap().into_conn();
    district::migrate(&conn).unwrap();
    conn
}

fn count(conn: &rusqlite::Connection, table: &str) -> i64 {
    conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
        .unwrap()
}

/// What a summary carries of a report: all of it but the centre-only parts (villages, hours,
/// what was not counted).
fn comparable(mut r: Report) -> Report {
    r.by_group.remove("village");
    r.hours = Vec::new();
    r.hidden_hours = Vec::new();
    r.uncounted = Default::default();
    r
}

#[test]
fn a_summary_read_at_the_district_says_what_the_centres_own_report_says() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    record(&mut store, &ban_bo_visits());
    let file = export(&store, &centre("TTHTCĐ Bản Bo", "Bản Bo"), "2026-h2");
    let own = report(store.conn(), h2(), &profile::default_groups()).unwrap();
    assert_eq!(own.participants, 12);

    // What never leaves the centre.
    let text = String::from_utf8(file.clone()).unwrap();
    for secret in [
        "Bản Hon",
        "Nậm Đích",
        "nguyen van a",
        "0000000000b1",
        "village",
    ] {
        assert!(!text.contains(secret), "{secret} is in the file:\n{text}");
    }

    let ddir = tempfile::tempdir().unwrap();
    let d = district_store(ddir.path());
    let done = district::import(&d, &file, "Huyện Tam Đường", 1).unwrap();
    assert!(
        matches!(&done, Imported::New { period, revision: 1, replaced: None, .. } if period == "2026-H2"),
        "{done:?}"
    );
    let held = district::summaries(&d, Some("2026-H2")).unwrap();
    assert_eq!(held.len(), 1);
    let s = &held[0].summary;
    assert_eq!(s.centre.name, "TTHTCĐ Bản Bo");
    assert!(s.complete);
    assert_eq!((s.box_days.days, s.box_days.on), (184, 2));
    let there = shown(h2(), &s.counts);
    assert_eq!(comparable(there), comparable(own.clone()));
    // And the report really says something (this is not two empty reports agreeing).
    assert_eq!(own.zero_result_searches[0].query, "nuoi ong");
    let women = own.by_group["gender"].iter().find(|g| g.group == "nu");
    assert_eq!(women.unwrap().participants, Some(7));
}

#[test]
fn altered_damaged_and_foreign_files_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    record(&mut store, &ban_bo_visits());
    let file = export(&store, &centre("TTHTCĐ Bản Bo", "Bản Bo"), "2026-H2");
    let ddir = tempfile::tempdir().unwrap();
    let d = district_store(ddir.path());

    // A number changed inside the summary, the file otherwise well formed.
    let mut env: serde_json::Value = serde_json::from_slice(&file).unwrap();
    let inner = env["summary"].as_str().unwrap().to_string();
    let changed = inner.replacen("\"participants\":12", "\"participants\":120", 1);
    assert_ne!(changed, inner);
    env["summary"] = changed.into();
    let altered = serde_json::to_vec(&env).unwrap();
    assert!(matches!(
        district::import(&d, &altered, DISTRICT, 1),
        Err(ImportError::File(SummaryError::BadSignature))
    ));
    // Any single byte of the summary or signature changed.
    let start = file
        .windows(11)
        .position(|w| w == b"\"signature\"")
        .unwrap();
    for at in (start..file.len() - 2).step_by(97) {
        let mut bad = file.clone();
        bad[at] ^= 0x01;
        if bad == file {
            continue;
        }
        assert!(
            district::import(&d, &bad, DISTRICT, 1).is_err(),
            "byte {at}"
        );
    }
    // Cut short, not JSON, another program's JSON, a picture, nothing.
    for (what, bytes) in [
        ("truncated", file[..file.len() / 2].to_vec()),
        ("text", b"hello".to_vec()),
        ("json", br#"{"format":"kolibri","rows":[]}"#.to_vec()),
        ("png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec()),
        ("empty", Vec::new()),
    ] {
        let e = district::import(&d, &bytes, DISTRICT, 1).unwrap_err();
        assert!(
            matches!(e, ImportError::File(SummaryError::Foreign(_))),
            "{what}: {e}"
        );
        assert!(e.to_string().contains("không phải tệp tổng hợp"), "{e}");
    }
    // A centre of another district.
    let far = export(
        &store,
        &Centre {
            district: "Phong Thổ".into(),
            ..centre("TTHTCĐ Bản Bo", "Bản Bo")
        },
        "2026-H2",
    );
    let e = district::import(&d, &far, DISTRICT, 1).unwrap_err();
    assert!(matches!(e, ImportError::OtherDistrict { .. }), "{e}");
    assert!(e.to_string().contains("Phong Thổ"), "{e}");
    for table in ["district_summaries", "district_keys", "district_held"] {
        assert_eq!(count(&d, table), 0, "{table}");
    }
    // The file itself still goes in.
    district::import(&d, &file, DISTRICT, 1).unwrap();
    assert_eq!(count(&d, "district_summaries"), 1);
}

#[test]
fn revisions_replace_older_ones_and_the_same_file_twice_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let visits = ban_bo_visits();
    record(&mut store, &visits[..6]);
    let who = centre("TTHTCĐ Bản Bo", "Bản Bo");
    let first = export(&store, &who, "2026-H2");
    record(&mut store, &visits[6..]);
    let second = export(&store, &who, "2026-H2");

    let ddir = tempfile::tempdir().unwrap();
    let d = district_store(ddir.path());
    let imported =
        |d: &rusqlite::Connection, f: &[u8]| district::import(d, f, DISTRICT, 5).unwrap();
    assert!(matches!(
        imported(&d, &first),
        Imported::New { revision: 1, .. }
    ));
    assert!(matches!(
        imported(&d, &first),
        Imported::Again { revision: 1, .. }
    ));
    let held = |d: &rusqlite::Connection| district::summaries(d, None).unwrap()[0].summary.clone();
    assert_eq!(held(&d).counts.participants, 6);
    assert!(matches!(
        imported(&d, &second),
        Imported::New {
            revision: 2,
            replaced: Some(1),
            ..
        }
    ));
    assert_eq!(held(&d).counts.participants, 12);
    // The older file again, after the newer: nothing changes.
    let older = imported(&d, &first);
    assert!(
        matches!(
            older,
            Imported::Older {
                revision: 1,
                held: 2,
                ..
            }
        ),
        "{older:?}"
    );
    assert!(older.to_string().contains("cũ hơn"), "{older}");
    assert_eq!(held(&d).counts.participants, 12);
    assert_eq!(count(&d, "district_summaries"), 1);
    // Another period of the same centre is kept beside it.
    let q4 = export(&store, &who, "2026-Q4");
    assert!(matches!(
        imported(&d, &q4),
        Imported::New { revision: 1, .. }
    ));
    assert_eq!(count(&d, "district_summaries"), 2);
}

#[test]
fn a_file_signed_by_another_key_waits_until_a_manager_accepts_the_key() {
    let who = centre("TTHTCĐ Bản Bo", "Bản Bo");
    let old_dir = tempfile::tempdir().unwrap();
    let mut old_box = Store::open(old_dir.path()).unwrap();
    record(&mut old_box, &ban_bo_visits()[..6]);
    let ddir = tempfile::tempdir().unwrap();
    let d = district_store(ddir.path());
    district::import(&d, &export(&old_box, &who, "2026-Q4"), DISTRICT, 1).unwrap();

    // The centre's card died: a new box, a new key, the same centre (spelled a little
    // differently), a revision that would replace the one held.
    let new_dir = tempfile::tempdir().unwrap();
    let mut new_box = Store::open(new_dir.path()).unwrap();
    record(&mut new_box, &ban_bo_visits());
    let respelled = Centre {
        name: "tthtcđ  bản bo".into(),
        ..who.clone()
    };
    // Exported three times there: revision 3.
    export(&new_box, &respelled, "2026-Q4");
    export(&new_box, &respelled, "2026-Q4");
    let file = export(&new_box, &respelled, "2026-Q4");
    let new_key = BoxKey::load(new_box.conn()).unwrap().unwrap();
    let done = district::import(&d, &file, DISTRICT, 2).unwrap();
    match &done {
        Imported::Held {
            fingerprint,
            pinned,
            ..
        } => {
            assert_eq!(fingerprint, &new_key.fingerprint());
            assert_ne!(pinned, fingerprint);
        }
        other => panic!("{other:?}"),
    }
    assert!(done.to_string().contains("chờ xác nhận"), "{done}");
    let held = district::summaries(&d, None).unwrap();
    assert_eq!(
        held[0].summary.counts.participants, 6,
        "nothing replaced yet"
    );
    // The same file twice is still one file waiting.
    district::import(&d, &file, DISTRICT, 3).unwrap();
    let keys = district::held_keys(&d).unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].files, 1);
    assert_eq!(keys[0].fingerprint, new_key.fingerprint());

    // A wrong fingerprint accepts nothing.
    assert!(
        district::accept_key(&d, &keys[0].centre, "0000-0000-0000-0000", 4)
            .unwrap()
            .is_none()
    );
    let done = district::accept_key(&d, &keys[0].centre, &keys[0].fingerprint, 4)
        .unwrap()
        .unwrap();
    assert!(
        matches!(
            done[..],
            [Ok(Imported::New {
                revision: 3,
                replaced: Some(1),
                ..
            })]
        ),
        "{done:?}"
    );
    assert_eq!(
        district::summaries(&d, None).unwrap()[0]
            .summary
            .counts
            .participants,
        12
    );
    assert!(district::held_keys(&d).unwrap().is_empty());
    // The old key is now the stranger.
    let late = export(&old_box, &who, "2026-Q4");
    assert!(matches!(
        district::import(&d, &late, DISTRICT, 5).unwrap(),
        Imported::Held { .. }
    ));
    let keys = district::held_keys(&d).unwrap();
    assert!(district::refuse_key(&d, &keys[0].centre, &keys[0].fingerprint).unwrap());
    assert!(district::held_keys(&d).unwrap().is_empty());
    assert_eq!(
        district::summaries(&d, None).unwrap()[0]
            .summary
            .counts
            .participants,
        12
    );
}

#[test]
fn small_groups_are_hidden_where_shown_not_dropped_before_the_sum() {
    // Two centres, each with three Dao among eight people: neither may show them; the
    // district's total of six may.
    let ddir = tempfile::tempdir().unwrap();
    let d = district_store(ddir.path());
    let rice = ("agriculture/lua-vu-xuan", Category::Agriculture);
    let mut alone = Vec::new();
    for (c, commune) in [("TTHTCĐ Bản Bo", "Bản Bo"), ("TTHTCĐ Nà Tăm", "Nà Tăm")] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let visits: Vec<Visit<'_>> = (0..8)
            .map(|i| {
                let mut v = visit(
                    &format!("{commune}{i}").replace(' ', ""),
                    "2026-10-05",
                    rice,
                );
                v.profile.ethnicity = Some(if i < 3 { "dao" } else { "kinh" }.into());
                v
            })
            .collect();
        record(&mut store, &visits);
        let file = export(&store, &centre(c, commune), "2026-H2");
        district::import(&d, &file, DISTRICT, 1).unwrap();
        let own = report(store.conn(), h2(), &profile::default_groups()).unwrap();
        alone.push(own);
    }
    let dao = |r: &Report| {
        r.by_group["ethnicity"]
            .iter()
            .find(|g| g.group == "dao")
            .unwrap()
            .participants
    };
    let held = district::summaries(&d, Some("2026-H2")).unwrap();
    assert_eq!(held.len(), 2);
    let mut total = hoclieu::usage::counts::Counts::default();
    for (h, own) in held.iter().zip(&alone) {
        assert_eq!(dao(&shown(h2(), &h.summary.counts)), None);
        assert_eq!(dao(own), None);
        total.add(&h.summary.counts);
    }
    let t = shown(h2(), &total);
    assert_eq!(t.participants, 16);
    assert_eq!(dao(&t), Some(6));
}

/// A box of the test suite with the settings of a centre or of the district office.
async fn boxed(
    role: hoclieu::settings::Role,
    name: &str,
    commune: &str,
) -> (crate::util::TestApp, String) {
    let mut app = crate::admin::app();
    app.restart_with(place(role, name, commune));
    let session = crate::admin::log_in(&app).await;
    (app, session)
}

/// The settings of a box at `name` in `commune`.
fn place(
    role: hoclieu::settings::Role,
    name: &str,
    commune: &str,
) -> impl FnOnce(&mut hoclieu::settings::Settings) {
    let (name, commune) = (name.to_string(), commune.to_string());
    move |s| {
        s.role = role;
        s.centre = name;
        s.commune = commune;
        s.district = DISTRICT.into();
    }
}

/// The current month's name by the app's clock.
fn this_month(app: &crate::util::TestApp) -> String {
    let d = hoclieu::clock::date_of(hoclieu::clock::local_day(app.state.now_ms()));
    format!("{}-{:02}", d.year(), u8::from(d.month()))
}

/// A centre's manager downloads the month's summary from /admin.
async fn download(app: &crate::util::TestApp, session: &str) -> Vec<u8> {
    let page = app.get_with("/admin", &[("cookie", session)]).await.text();
    assert!(page.contains("action=\"/admin/summary\""), "{page}");
    let token = crate::admin::token_in(&page);
    let res = app
        .request(crate::admin::post(
            "/admin/summary",
            session,
            &format!("token={token}&period={}", this_month(app)),
        ))
        .await;
    res.assert_status(200);
    assert!(
        res.header("content-disposition")
            .contains(".hoclieu-summary.json")
    );
    res.body.to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn centres_download_signed_summaries_and_the_district_reads_them_in_admin() {
    use hoclieu::settings::Role;
    let (mut centre, session) = boxed(Role::Centre, "TTHTCĐ Bản Bo", "Bản Bo").await;
    for _ in 0..6 {
        let c = centre.device().await;
        centre.get_with("/m/health/oresol", &[("cookie", &c)]).await;
    }
    // Restarted, so that every visit is committed.
    centre.restart_with(place(Role::Centre, "TTHTCĐ Bản Bo", "Bản Bo"));
    let session2 = crate::admin::log_in(&centre).await;
    drop(session);
    let file = download(&centre, &session2).await;
    let v = summary::open(&file).unwrap();
    assert_eq!(v.summary.counts.participants, 6);
    assert_eq!(v.summary.centre.commune, "Bản Bo");
    assert!(
        v.summary.box_days.on >= 1,
        "the box marked today as on: {:?}",
        v.summary.box_days
    );
    let admin = centre
        .get_with("/admin", &[("cookie", &session2)])
        .await
        .text();
    assert!(
        admin.contains(&v.fingerprint()),
        "the fingerprint on /admin signs the file"
    );
    // A second download is the next revision.
    let again = summary::open(&download(&centre, &session2).await).unwrap();
    assert_eq!(again.summary.revision, v.summary.revision + 1);
    // A centre's box has no district pages.
    centre
        .get_with("/admin/district", &[("cookie", &session2)])
        .await
        .assert_status(404);

    let (district, ds) = boxed(Role::District, "Phòng GD&ĐT", "").await;
    let page = district
        .get_with("/admin/district", &[("cookie", &ds)])
        .await;
    page.assert_status(200);
    let token = crate::admin::token_in(&page.text());
    let mut tampered = file.clone();
    let at = tampered.len() - 40;
    tampered[at] ^= 0x02;
    let (ct, body) = crate::util::multipart_files(
        &[("token", &token)],
        &[
            ("ban-bo.json", &file),
            ("sua.json", &tampered),
            ("anh.jpg", b"\xff\xd8\xff\xe0 not a summary"),
        ],
    );
    let res = district
        .request(crate::util::upload_to(
            "/admin/district/import",
            &ds,
            &ct,
            body,
        ))
        .await;
    res.assert_status(422);
    let text = res.text();
    assert!(text.contains("ban-bo.json: đã nhận"), "{text}");
    assert!(text.contains("sua.json: bị từ chối"), "{text}");
    assert!(text.contains("anh.jpg: bị từ chối"), "{text}");
    // Without the session's token nothing is read.
    let (ct, body) = crate::util::multipart_files(&[("token", "x")], &[("a.json", &file)]);
    let res = district
        .request(crate::util::upload_to(
            "/admin/district/import",
            &ds,
            &ct,
            body,
        ))
        .await;
    res.assert_status(400);

    let month = this_month(&centre);
    let page = district
        .get_with(
            &format!("/admin/district?period={month}"),
            &[("cookie", &ds)],
        )
        .await
        .text();
    assert!(page.contains("TTHTCĐ Bản Bo"), "{page}");
    assert!(page.contains("Toàn huyện"), "{page}");
    assert!(page.contains("Trưởng phòng"), "{page}");
    assert!(page.contains("UBND HUYỆN TAM ĐƯỜNG"), "{page}");
    assert!(page.contains("Tam Đường, ngày"), "{page}");
    let csv = district
        .get_with(
            &format!("/admin/district/report.csv?period={month}"),
            &[("cookie", &ds)],
        )
        .await;
    csv.assert_status(200);
    let csv = csv.text();
    assert!(csv.starts_with("\u{feff}Xã,Trung tâm"), "{csv}");
    assert!(csv.contains("Bản Bo,TTHTCĐ Bản Bo,"), "{csv}");

    // A new box at the same centre: its file waits; the manager accepts the key on the page.
    let (other, os) = boxed(Role::Centre, "TTHTCĐ Bản Bo", "Bản Bo").await;
    let newer = download(&other, &os).await;
    let (ct, body) = crate::util::multipart_files(&[("token", &token)], &[("moi.json", &newer)]);
    let res = district
        .request(crate::util::upload_to(
            "/admin/district/import",
            &ds,
            &ct,
            body,
        ))
        .await;
    res.assert_status(200);
    let text = res.text();
    assert!(text.contains("chờ xác nhận"), "{text}");
    let fp = summary::open(&newer).unwrap().fingerprint();
    assert!(text.contains(&fp), "{text}");
    let centre_id = crate::admin::value_after(&text, "name=\"centre\" value=\"");
    let res = district
        .request(crate::admin::post(
            "/admin/district/key",
            &ds,
            &format!(
                "token={token}&centre={}&fingerprint={fp}&action=accept",
                crate::util::urlencode(&centre_id)
            ),
        ))
        .await;
    res.assert_status(200);
    assert!(res.text().contains("Đã xác nhận khóa"), "{}", res.text());
}

#[test]
fn the_district_report_sets_targets_beside_figures_and_names_who_has_not_sent() {
    use hoclieu::district::report::{EXAMPLE_PLAN, Plan, district_report, load_plan};
    let ddir = tempfile::tempdir().unwrap();
    let d = district_store(ddir.path());
    // Bản Bo sends its half-year; Sì Lở Lầu sent only a quarter, so it is missing here.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    record(&mut store, &ban_bo_visits());
    let file = export(&store, &centre("TTHTCĐ Bản Bo", "Xã Bản Bo"), "2026-H2");
    district::import(&d, &file, DISTRICT, 1).unwrap();
    let dir2 = tempfile::tempdir().unwrap();
    let mut store2 = Store::open(dir2.path()).unwrap();
    record(&mut store2, &ban_bo_visits()[..6]);
    let q3 = export(&store2, &centre("TTHTCĐ Sì Lở Lầu", "Sì Lở Lầu"), "2026-Q4");
    district::import(&d, &q3, DISTRICT, 2).unwrap();

    let csv = "\u{feff}Xã,Dân số 15-60,Lao động nông thôn,Người mới biết chữ,Học sinh\n\
               Bản Bo,400,100,,80\n\
               Nà Tăm,300,,,\n";
    let plan = Plan::parse(EXAMPLE_PLAN).unwrap().with_csv(csv).unwrap();
    assert_eq!(plan.communes.len(), 2);
    let held = district::summaries(&d, Some("2026-H2")).unwrap();
    let known = district::centres(&d).unwrap();
    let r = district_report(
        summary::named_period("2026-H2").unwrap(),
        &held,
        &known,
        &plan,
    );
    assert_eq!(r.centres.len(), 1);
    assert_eq!(
        r.missing,
        vec![
            ("TTHTCĐ Sì Lở Lầu".to_string(), "Sì Lở Lầu".to_string()),
            (String::new(), "Nà Tăm".to_string()),
        ]
    );
    let line = |label: &str| {
        r.targets
            .iter()
            .find(|t| t.label.starts_with(label))
            .unwrap_or_else(|| panic!("{label}: {:?}", r.targets))
            .clone()
    };
    // Twelve aged 15–60 on the commune's 100 rural workers ("Xã Bản Bo" is "Bản Bo").
    let rural = line("Lao động nông thôn");
    assert_eq!(rural.target, 70.0);
    assert_eq!(rural.percent, Some(12.0));
    assert!(rural.measured.contains("12 trên 100"), "{}", rural.measured);
    // The same rate on the centre's own line (its commune has the figure).
    let own = &r.centres[0].targets;
    assert_eq!(
        own.iter().find(|t| t.label == rural.label).unwrap().percent,
        Some(12.0)
    );
    // No figure for the newly literate: said so, no percent invented.
    let literate = line("Người mới biết chữ");
    assert_eq!(literate.percent, None);
    assert!(
        literate.measured.contains("Chưa có số"),
        "{}",
        literate.measured
    );
    // The district's lists: what was used, what people looked for and did not find.
    assert_eq!(r.not_found, vec![("nuoi ong".to_string(), 5)]);
    assert_eq!(r.top_materials.len(), 1, "{:?}", r.top_materials);
    assert_eq!(r.top_materials[0].1, 6);
    // Literacy is not something a box measures.
    assert!(
        line("Tỉ lệ biết chữ 15–60 tuổi")
            .measured
            .contains("không đo")
    );

    // A CSV with a word for a number is refused, and the plan file is as it was.
    let e = Plan::parse(EXAMPLE_PLAN)
        .unwrap()
        .with_csv("Xã,Dân số 15-60\nBản Bo,nhiều\n")
        .unwrap_err();
    assert!(e.to_string().contains("dòng 2"), "{e}");
    let (example, is_example) = load_plan(&ddir.path().join("none.toml")).unwrap();
    assert!(is_example);
    assert_eq!(example.targets.literacy_15_60, Some(94.0));
    assert!(Plan::parse("[targets]\nrural_workers_learning = 170\n").is_err());
}

/// Every row of a Parquet file, as the Parquet crate's own reader gives them.
fn parquet_rows(path: &Path) -> Vec<parquet::record::Row> {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| r.unwrap())
        .collect()
}

#[test]
fn the_parquet_export_reads_back_with_the_parquet_reader() {
    use parquet::record::RowAccessor;
    let ddir = tempfile::tempdir().unwrap();
    let d = district_store(ddir.path());
    let rice = ("agriculture/lua-vu-xuan", Category::Agriculture);
    for (c, commune, n) in [
        ("TTHTCĐ Bản Bo", "Bản Bo", 12),
        ("TTHTCĐ Nà Tăm", "Nà Tăm", 7),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let visits: Vec<Visit<'_>> = (0..n)
            .map(|i| {
                let mut v = visit(
                    &format!("{commune}{i}").replace(' ', ""),
                    "2026-10-05",
                    rice,
                );
                v.profile.ethnicity = Some(if i < 3 { "dao" } else { "kinh" }.into());
                v.search = Some(("nuoi ong", 0));
                v
            })
            .collect();
        record(&mut store, &visits);
        for period in ["2026-Q4", "2026-H2"] {
            district::import(
                &d,
                &export(&store, &centre(c, commune), period),
                DISTRICT,
                1,
            )
            .unwrap();
        }
    }
    let out = tempfile::tempdir().unwrap();
    let files = district::parquet::export(&d, out.path()).unwrap();
    let names: Vec<String> = files
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for t in [
        "summaries",
        "fields",
        "groups",
        "materials",
        "lessons",
        "collections",
        "searches",
        "days",
    ] {
        assert!(names.contains(&format!("{t}.parquet")), "{names:?}");
    }
    let summaries = parquet_rows(&out.path().join("summaries.parquet"));
    assert_eq!(summaries.len(), 4);
    let h2: Vec<_> = summaries
        .iter()
        .filter(|r| r.get_string(1).unwrap() == "2026-H2")
        .collect();
    let people: i64 = h2.iter().map(|r| r.get_long(17).unwrap()).sum();
    assert_eq!(people, 19);
    assert!(
        h2.iter()
            .any(|r| r.get_string(2).unwrap() == "TTHTCĐ Nà Tăm")
    );
    // Small groups are kept in the data (the rule applies where they are shown).
    let dao: i64 = parquet_rows(&out.path().join("groups.parquet"))
        .iter()
        .filter(|r| {
            r.get_string(1).unwrap() == "2026-H2"
                && r.get_string(2).unwrap() == "ethnicity"
                && r.get_string(3).unwrap() == "dao"
        })
        .map(|r| r.get_long(5).unwrap())
        .sum();
    assert_eq!(dao, 6);
    let searched = parquet_rows(&out.path().join("searches.parquet"));
    assert!(
        searched
            .iter()
            .any(|r| r.get_string(2).unwrap() == "not_found"
                && r.get_string(3).unwrap() == "nuoi ong"
                && r.get_long(4).unwrap() == 12)
    );
    let rows = |t: &str| {
        files
            .iter()
            .find(|(p, _)| p.ends_with(format!("{t}.parquet")))
            .unwrap()
            .1
    };
    assert_eq!(
        rows("days"),
        parquet_rows(&out.path().join("days.parquet")).len() as u64
    );
}

/// A centre's manager presses "send to the district" on /admin.
async fn send_online(app: &crate::util::TestApp, session: &str) -> crate::util::Res {
    let page = app.get_with("/admin", &[("cookie", session)]).await.text();
    assert!(page.contains("Gửi lên huyện qua mạng"), "{page}");
    let token = crate::admin::token_in(&page);
    app.request(crate::admin::post(
        "/admin/summary/send",
        session,
        &format!("token={token}&period={}", this_month(app)),
    ))
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_centre_sends_its_summary_over_the_network_and_is_told_what_the_district_did() {
    use hoclieu::settings::Role;
    let (district, ds) = boxed(Role::District, "Phòng GD&ĐT", "").await;
    let served = district.serve(Default::default()).await;
    let url = format!("http://{}", served.addr);

    let (mut centre, _) = boxed(Role::Centre, "TTHTCĐ Bản Bo", "Bản Bo").await;
    for _ in 0..5 {
        let c = centre.device().await;
        centre.get_with("/m/health/oresol", &[("cookie", &c)]).await;
    }
    let online = |url: String| {
        let set = place(Role::Centre, "TTHTCĐ Bản Bo", "Bản Bo");
        move |s: &mut hoclieu::settings::Settings| {
            set(s);
            s.district_url = url;
        }
    };
    centre.restart_with(online(url.clone()));
    let cs = crate::admin::log_in(&centre).await;
    // A centre the district has never heard from, over the network: held for a manager.
    let res = send_online(&centre, &cs).await;
    res.assert_status(202);
    assert!(res.text().contains("chờ xác nhận"), "{}", res.text());
    let keys = district
        .state
        .records
        .db(|c| Ok(district::held_keys(c).unwrap()))
        .await
        .unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(
        keys[0].pinned, "",
        "no key was pinned by a file off the network"
    );
    let page = district
        .get_with("/admin/district", &[("cookie", &ds)])
        .await
        .text();
    let token = crate::admin::token_in(&page);
    district
        .request(crate::admin::post(
            "/admin/district/key",
            &ds,
            &format!(
                "token={token}&centre={}&fingerprint={}&action=accept",
                crate::util::urlencode(&keys[0].centre),
                keys[0].fingerprint
            ),
        ))
        .await
        .assert_status(200);
    // Now the key is the centre's: the next revision goes straight in.
    let res = send_online(&centre, &cs).await;
    res.assert_status(200);
    assert!(
        res.text().contains("Huyện trả lời: đã nhận"),
        "{}",
        res.text()
    );
    assert!(res.text().contains("thay lần 1"), "{}", res.text());

    // What the inbox answers a stranger: JSON, never a 500.
    let raw = |body: &'static [u8]| {
        axum::http::Request::post("/api/district/summaries")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(body))
            .unwrap()
    };
    let res = district.request(raw(b"{\"format\":\"x\"}")).await;
    res.assert_status(422);
    assert_eq!(res.json()["outcome"], "refused");
    assert_eq!(res.json()["accepted"], false);
    centre.request(raw(b"{}")).await.assert_status(404);

    // Nothing listening at the address: said so, with what to do instead.
    drop(served);
    centre.restart_with(online("http://127.0.0.1:9".into()));
    let cs = crate::admin::log_in(&centre).await;
    let res = send_online(&centre, &cs).await;
    res.assert_status(502);
    assert!(res.text().contains("gửi bằng USB"), "{}", res.text());
}

/// Runs `hoclieu` with only these settings in its environment; returns (success, stdout).
fn hoclieu_cmd(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hoclieu"));
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("HOCLIEU_") {
            cmd.env_remove(k);
        }
    }
    // An empty settings file: nothing from /etc/hoclieu on the machine running the tests.
    let config = tempfile::NamedTempFile::new().unwrap();
    cmd.env("HOCLIEU_CONFIG", config.path());
    let out = cmd.args(args).envs(env.iter().copied()).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn the_command_line_exports_imports_and_writes_parquet() {
    let centre_dir = tempfile::tempdir().unwrap();
    {
        let mut store = Store::open(centre_dir.path()).unwrap();
        record(&mut store, &ban_bo_visits());
    }
    let files = tempfile::tempdir().unwrap();
    let file = files.path().join("ban-bo.hoclieu-summary.json");
    let centre_env = [
        ("HOCLIEU_CENTRE", "TTHTCĐ Bản Bo"),
        ("HOCLIEU_COMMUNE", "Bản Bo"),
        ("HOCLIEU_DISTRICT", DISTRICT),
    ];
    let c = centre_dir.path().to_str().unwrap();
    let f = file.to_str().unwrap();
    let (ok, said) = hoclieu_cmd(
        &[
            "summary", "export", "--data", c, "--period", "2026-H2", "--to", f,
        ],
        &centre_env,
    );
    assert!(ok, "{said}");
    assert!(said.contains("revision 1, 12 participants"), "{said}");
    let (ok, said) = hoclieu_cmd(
        &[
            "summary", "export", "--data", c, "--period", "2026-H9", "--to", f,
        ],
        &centre_env,
    );
    assert!(!ok && said.contains("unknown period"), "{said}");

    let district_dir = tempfile::tempdir().unwrap();
    let d = district_dir.path().to_str().unwrap();
    let district_env = [("HOCLIEU_ROLE", "district"), ("HOCLIEU_DISTRICT", DISTRICT)];
    // A centre's box does not import.
    let (ok, said) = hoclieu_cmd(&["district", "import", "--data", d, f], &[]);
    assert!(!ok && said.contains("role = \"district\""), "{said}");
    let (ok, said) = hoclieu_cmd(&["district", "import", "--data", d, f], &district_env);
    assert!(ok && said.contains("đã nhận"), "{said}");
    let (ok, said) = hoclieu_cmd(&["district", "import", "--data", d, f], &district_env);
    assert!(ok && said.contains("đã có từ trước"), "{said}");
    let mut bad = std::fs::read(&file).unwrap();
    let at = bad.len() / 2;
    bad[at] ^= 0x04;
    let bad_file = files.path().join("sua.json");
    std::fs::write(&bad_file, bad).unwrap();
    let missing = files.path().join("khong-co.json");
    let (ok, said) = hoclieu_cmd(
        &[
            "district",
            "import",
            "--data",
            d,
            bad_file.to_str().unwrap(),
            missing.to_str().unwrap(),
            f,
        ],
        &district_env,
    );
    assert!(!ok, "a refused file makes the command fail: {said}");
    assert_eq!(said.matches("bị từ chối").count(), 2, "{said}");
    assert!(said.contains("không đọc được tệp"), "{said}");
    let out = files.path().join("parquet");
    let (ok, said) = hoclieu_cmd(
        &[
            "district",
            "export",
            "--data",
            d,
            "--parquet",
            out.to_str().unwrap(),
        ],
        &district_env,
    );
    assert!(ok, "{said}");
    assert_eq!(
        parquet_rows(&out.join("summaries.parquet")).len(),
        1,
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_district_enters_its_communes_figures_as_csv_and_a_bad_csv_changes_nothing() {
    use hoclieu::settings::Role;
    let (district, ds) = boxed(Role::District, "Phòng GD&ĐT", "").await;
    let page = district
        .get_with("/admin/district", &[("cookie", &ds)])
        .await
        .text();
    assert!(page.contains("Đang dùng chỉ tiêu mẫu"), "{page}");
    let token = crate::admin::token_in(&page);
    let upload = |csv: &'static str| {
        let (ct, body) =
            crate::util::multipart_files(&[("token", &token)], &[("xa.csv", csv.as_bytes())]);
        crate::util::upload_to("/admin/district/plan", &ds, &ct, body)
    };
    let res = district
        .request(upload(
            "Xã,Dân số 15-60,Lao động nông thôn\nBản Bo,400,nhiều\n",
        ))
        .await;
    res.assert_status(422);
    let text = res.text();
    assert!(text.contains("dòng 2"), "{text}");
    assert!(!text.contains("bad request"), "{text}");
    let plan = district.data.join("district-plan.toml");
    assert!(!plan.exists(), "a refused CSV wrote nothing");
    let res = district
        .request(upload(
            "\u{feff}Xã,Dân số 15-60,Lao động nông thôn,Người mới biết chữ,Học sinh\nBản Bo,400,100,,80\nNà Tăm,300,90,12,60\n",
        ))
        .await;
    res.assert_status(200);
    assert!(
        res.text().contains("Đã nhận số liệu của 2 xã"),
        "{}",
        res.text()
    );
    let saved = hoclieu::district::report::load_plan(&plan).unwrap().0;
    assert_eq!(saved.communes[1].newly_literate, Some(12));
    assert_eq!(
        saved.targets.rural_workers_learning,
        Some(70.0),
        "the targets are kept"
    );
    let csv = district
        .get_with("/admin/district/communes.csv", &[("cookie", &ds)])
        .await
        .text();
    assert!(csv.contains("Nà Tăm,300,90,12,60"), "{csv}");
    // Nà Tăm's centre has not sent anything: the report says so.
    let page = district
        .get_with("/admin/district", &[("cookie", &ds)])
        .await
        .text();
    assert!(page.contains("Chưa gửi báo cáo kỳ này"), "{page}");
}

#[test]
fn a_hidden_centre_cannot_be_worked_out_from_the_district_total() {
    use hoclieu::district::report::{Figure, Plan, district_report};
    let ddir = tempfile::tempdir().unwrap();
    let d = district_store(ddir.path());
    let rice = ("agriculture/lua-vu-xuan", Category::Agriculture);
    // Three people at one centre (withheld there), twenty and thirty at two others; two women
    // at the small one.
    for (c, commune, n) in [("A", "Xã A", 3), ("B", "Xã B", 20), ("C", "Xã C", 30)] {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path()).unwrap();
        let visits: Vec<Visit<'_>> = (0..n)
            .map(|i| {
                let mut v = visit(&format!("{c}{i}"), "2026-10-05", rice);
                v.profile.gender = Some(if !(2..14).contains(&i) { "nu" } else { "nam" }.into());
                v
            })
            .collect();
        record(&mut store, &visits);
        let file = export(&store, &centre(&format!("TTHTCĐ {c}"), commune), "2026-H2");
        district::import(&d, &file, DISTRICT, 1).unwrap();
    }
    let held = district::summaries(&d, Some("2026-H2")).unwrap();
    let r = district_report(
        summary::named_period("2026-H2").unwrap(),
        &held,
        &district::centres(&d).unwrap(),
        &Plan::default(),
    );
    assert_eq!(r.total.participants, 53);
    // Whatever the lines show, the total minus them is nobody or at least five people.
    let shown_people: u64 = r
        .centres
        .iter()
        .filter(|c| !c.report.withheld)
        .map(|c| c.report.participants)
        .sum();
    let rest = r.total.participants - shown_people;
    assert!(rest == 0 || rest >= 5, "{rest} people can be worked out");
    assert!(
        r.centres.iter().any(|c| !c.report.withheld),
        "not everything is hidden"
    );
    let Figure::Exact(women) = r.total_groups.women else {
        panic!("the district's women: {:?}", r.total_groups.women);
    };
    let shown_women: u64 = r
        .centres
        .iter()
        .filter_map(|c| match c.groups.women {
            Figure::Exact(n) => Some(n),
            _ => None,
        })
        .sum();
    let rest = women - shown_women;
    assert!(rest == 0 || rest >= 5, "{rest} women can be worked out");
}

#[test]
fn a_new_box_counting_its_revisions_from_one_replaces_the_old_boxs_numbers() {
    let who = centre("TTHTCĐ Bản Bo", "Bản Bo");
    let ddir = tempfile::tempdir().unwrap();
    let d = district_store(ddir.path());
    let old_dir = tempfile::tempdir().unwrap();
    let mut old_box = Store::open(old_dir.path()).unwrap();
    record(&mut old_box, &ban_bo_visits()[..6]);
    export(&old_box, &who, "2026-H2");
    export(&old_box, &who, "2026-H2");
    district::import(&d, &export(&old_box, &who, "2026-H2"), DISTRICT, 1).unwrap();
    // The card died; the new box starts again at revision 1.
    let new_dir = tempfile::tempdir().unwrap();
    let mut new_box = Store::open(new_dir.path()).unwrap();
    record(&mut new_box, &ban_bo_visits());
    let first = export(&new_box, &who, "2026-H2");
    assert!(matches!(
        district::import(&d, &first, DISTRICT, 2).unwrap(),
        Imported::Held { .. }
    ));
    let k = &district::held_keys(&d).unwrap()[0];
    let done = district::accept_key(&d, &k.centre, &k.fingerprint, 3)
        .unwrap()
        .unwrap();
    assert!(
        matches!(
            done[..],
            [Ok(Imported::New {
                revision: 1,
                replaced: Some(3),
                ..
            })]
        ),
        "{done:?}"
    );
    let held = district::summaries(&d, None).unwrap();
    assert_eq!(held[0].summary.counts.participants, 12);
    // From now on the new key's own revisions count.
    let again = export(&new_box, &who, "2026-H2");
    assert!(matches!(
        district::import(&d, &again, DISTRICT, 4).unwrap(),
        Imported::New {
            revision: 2,
            replaced: Some(1),
            ..
        }
    ));
    assert!(matches!(
        district::import(&d, &first, DISTRICT, 5).unwrap(),
        Imported::Older { .. }
    ));
}

#[test]
fn files_off_the_network_wait_and_a_flood_of_made_up_keys_is_bounded() {
    use hoclieu::district::{Arrival, MAX_HELD_PER_CENTRE, import_from};
    let who = centre("TTHTCĐ Bản Bo", "Bản Bo");
    let ddir = tempfile::tempdir().unwrap();
    let d = district_store(ddir.path());
    let dir = tempfile::tempdir().unwrap();
    let mut real = Store::open(dir.path()).unwrap();
    record(&mut real, &ban_bo_visits()[..6]);
    // The real box's first file by hand pins its key.
    district::import(&d, &export(&real, &who, "2026-Q4"), DISTRICT, 1).unwrap();
    // Someone on the network signs files for the same centre with keys of their own.
    let made = |i: u8| {
        let mut seed = [7u8; 32];
        seed[0] = i;
        let key = BoxKey::from_seed(seed);
        let held = district::summaries(&d, None).unwrap();
        let mut s = held[0].summary.clone();
        s.counts.participants = 999;
        summary::seal(&s, &key)
    };
    for i in 0..MAX_HELD_PER_CENTRE as u8 {
        let done = import_from(&d, &made(i), DISTRICT, 2, Arrival::Network).unwrap();
        assert!(matches!(done, Imported::Held { .. }), "{done:?}");
    }
    let e = import_from(&d, &made(200), DISTRICT, 3, Arrival::Network).unwrap_err();
    assert!(matches!(e, ImportError::TooManyWaiting), "{e}");
    // Nothing of theirs reached the numbers; the real box's next file still goes in.
    assert_eq!(
        district::summaries(&d, None).unwrap()[0]
            .summary
            .counts
            .participants,
        6
    );
    let next = export(&real, &who, "2026-Q4");
    assert!(matches!(
        import_from(&d, &next, DISTRICT, 4, Arrival::Network).unwrap(),
        Imported::New { revision: 2, .. }
    ));
    // A centre never seen, over the network: waits, pins nothing.
    let stranger = export(&real, &centre("TTHTCĐ Lạ", "Xã Lạ"), "2026-Q4");
    assert!(matches!(
        import_from(&d, &stranger, DISTRICT, 5, Arrival::Network).unwrap(),
        Imported::Held { ref pinned, .. } if pinned.is_empty()
    ));
    let keys = district::held_keys(&d).unwrap();
    assert_eq!(keys.len(), MAX_HELD_PER_CENTRE as usize + 1);
    assert!(
        keys.iter().any(|k| k.name == "TTHTCĐ Lạ"),
        "names are listed without reading files"
    );
}
