//! Issue 14, item 4: the limits of the editor's forms hold for everything that comes in, and
//! nothing a package or a form carries is held in memory whole: a package is exported as a
//! stream, imported or restored materials and lessons are held to the forms' limits, and a
//! multipart text field is cut at the form's limit as it arrives.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::Request;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::lessons::teacher;
use crate::util::{TestApp, multipart, upload_to, urlencode};

/// The video of the export tests: large, but sparse on disk.
const VIDEO_BYTES: u64 = 40 << 20;

const VIDEO_MATERIAL: &str = "+++\ntitle = \"Cách rửa tay\"\ncategory = \"health\"\n\
updated = 2026-11-20\n+++\nXem video: [rửa tay](rua-tay.mp4).\n";

/// The fixture library with a material that links a 40 MB video.
fn with_video(lib: &Path) {
    std::fs::write(lib.join("health/rua-tay.md"), VIDEO_MATERIAL).unwrap();
    let f = std::fs::File::create(lib.join("health/rua-tay.mp4")).unwrap();
    f.set_len(VIDEO_BYTES).unwrap();
}

/// The export form's POST, as its button sends it.
fn export(cookie: &str, token: &str) -> Request<Body> {
    crate::admin::post(
        "/admin/packages/export",
        cookie,
        &format!("token={token}&material=health/rua-tay"),
    )
}

#[tokio::test]
async fn a_package_export_is_streamed_in_small_chunks_and_runs_one_at_a_time() {
    let app = TestApp::with(with_video);
    let (cookie, token) = teacher(&app).await;
    let res = app
        .router
        .clone()
        .oneshot(export(&cookie, &token))
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let announced: usize = res.headers()["content-length"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let mut body = res.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();

    // While the first is being sent, a second export is told to wait, not started.
    let second = app.request(export(&cookie, &token)).await;
    second.assert_status(503);
    assert!(
        second.text().contains("đang xuất gói khác"),
        "{}",
        second.text()
    );

    let (mut bytes, mut frames, mut largest) = (first.to_vec(), 1usize, first.len());
    while let Some(frame) = body.frame().await {
        let data = frame.unwrap().into_data().unwrap();
        frames += 1;
        largest = largest.max(data.len());
        bytes.extend_from_slice(&data);
    }
    assert_eq!(
        bytes.len(),
        announced,
        "the announced size is the package's"
    );
    // Built whole in memory, the package was one 40 MB chunk.
    assert!(largest <= 1 << 20, "a chunk of {largest} bytes");
    assert!(frames > 40, "{frames} chunks");

    // The streamed package is a sound one, with the video whole.
    let staging = tempfile::tempdir().unwrap();
    let pkg = hoclieu::package::read(
        bytes.as_slice(),
        &hoclieu::package::Limits::default(),
        staging.path(),
    )
    .unwrap();
    let video = pkg.staged_path("library/health/rua-tay.mp4").unwrap();
    assert_eq!(std::fs::metadata(video).unwrap().len(), VIDEO_BYTES);

    // Once it is sent, the next export runs.
    app.request(export(&cookie, &token))
        .await
        .assert_status(200);
}

#[test]
fn a_prepared_export_announces_its_exact_size_and_writes_in_small_pieces() {
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("library/health");
    std::fs::create_dir_all(&lib).unwrap();
    with_video(dir.path().join("library").as_path());
    let library = hoclieu::content::Library::load(
        hoclieu::content::Source::dir(&dir.path().join("library")).unwrap(),
    );
    let lessons = hoclieu::lessons::LessonStore::open(&dir.path().join("data")).unwrap();
    let selection = hoclieu::package::local::Selection {
        materials: Some(vec!["health/rua-tay".into()]),
        lessons: Some(vec![]),
    };
    let prepared =
        hoclieu::package::local::prepare_export(&library, &lessons, &selection, "", "t").unwrap();
    let size = prepared.len();
    let mut out = Largest::default();
    prepared.write(&mut out).unwrap();
    assert_eq!(out.total as u64, size);
    assert!(out.largest <= 1 << 20, "a write of {} bytes", out.largest);
}

/// Counts what is written, and the largest single write.
#[derive(Default)]
struct Largest {
    total: usize,
    largest: usize,
}

impl std::io::Write for Largest {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.total += buf.len();
        self.largest = self.largest.max(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A lesson file whose notes are `notes` characters long.
fn lesson_toml(code: &str, notes: usize) -> String {
    format!(
        "code = \"{code}\"\ntitle = \"Rửa tay sạch\"\ncategory = \"health\"\npublished = true\n\
         notes = \"{}\"\n",
        "a ".repeat(notes / 2)
    )
}

/// A package of `files` (path, bytes).
fn package_of(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let entries = files
        .iter()
        .map(|(path, bytes)| hoclieu::package::Entry {
            path: path.to_string(),
            bytes: bytes.clone(),
        })
        .collect();
    let mut out = Vec::new();
    hoclieu::package::export(&mut out, "t", "", vec![], vec![], entries).unwrap();
    out
}

async fn import(app: &TestApp, cookie: &str, token: &str, package: &[u8]) -> crate::util::Res {
    let (ct, body) = multipart(&[("token", token)], "goi.hoclieu.tar", package);
    app.request(upload_to("/admin/packages/import", cookie, &ct, body))
        .await
}

#[tokio::test]
async fn a_package_with_a_lesson_or_material_beyond_the_forms_limits_is_refused() {
    let app = TestApp::new();
    let (cookie, token) = teacher(&app).await;
    let big_material = format!(
        "+++\ntitle = \"Dài\"\ncategory = \"health\"\n+++\n{}",
        "chữ ".repeat(600_000)
    );
    for (path, bytes) in [
        // Notes longer than the lesson form takes (4,000 characters).
        (
            "lessons/ruatay.toml",
            lesson_toml("ruatay", 5_000).into_bytes(),
        ),
        // A lesson file of 20 MB.
        (
            "lessons/ruatay.toml",
            lesson_toml("ruatay", 20 << 20).into_bytes(),
        ),
        // A material longer than the editor saves (2 MB).
        ("library/health/dai.md", big_material.clone().into_bytes()),
    ] {
        let res = import(&app, &cookie, &token, &package_of(&[(path, bytes)])).await;
        res.assert_status(400);
        assert!(res.text().contains("Gói bị từ chối"), "{}", res.text());
        assert!(res.text().contains(path), "{}", res.text());
    }
    // Within the limits, the same package is taken.
    let res = import(
        &app,
        &cookie,
        &token,
        &package_of(&[(
            "lessons/ruatay.toml",
            lesson_toml("ruatay", 3_000).into_bytes(),
        )]),
    )
    .await;
    res.assert_status(200);
    assert!(res.text().contains("lessons/ruatay.toml"), "{}", res.text());
}

#[tokio::test]
async fn a_lesson_beyond_the_forms_limits_in_the_lessons_folder_is_skipped() {
    let app = TestApp::new();
    let lessons = app.data.join("lessons");
    std::fs::create_dir_all(&lessons).unwrap();
    std::fs::write(lessons.join("ruatay.toml"), lesson_toml("ruatay", 20 << 20)).unwrap();
    std::fs::write(lessons.join("tayxa.toml"), lesson_toml("tayxa", 5_000)).unwrap();
    std::fs::write(lessons.join("taysach.toml"), lesson_toml("taysach", 100)).unwrap();
    app.state.lessons.invalidate();
    let codes: Vec<String> = app
        .state
        .lessons
        .list()
        .unwrap()
        .iter()
        .map(|l| l.code.clone())
        .collect();
    assert_eq!(codes, ["taysach"]);
    let page = app
        .get(&format!("/search?q={}", urlencode("rửa tay")))
        .await;
    page.assert_status(200);
    assert!(page.text().contains("/l/taysach"), "{}", page.text());
    assert!(!page.text().contains("/l/ruatay"));
    assert!(app.get("/l/ruatay").await.status != 200);
}

#[tokio::test]
async fn a_material_larger_than_the_editor_saves_in_the_centre_folder_is_reported_and_skipped() {
    let mut app = TestApp::new();
    let dir = app.data.join("library/health");
    std::fs::create_dir_all(&dir).unwrap();
    let big = format!(
        "+++\ntitle = \"Tài liệu rất dài\"\ncategory = \"health\"\n+++\n{}",
        "chữ ".repeat(600_000)
    );
    std::fs::write(dir.join("rat-dai.md"), big).unwrap();
    std::fs::write(
        dir.join("vua-du.md"),
        "+++\ntitle = \"Vừa đủ\"\ncategory = \"health\"\n+++\nNgắn thôi.\n",
    )
    .unwrap();
    app.restart();
    assert_eq!(app.get("/m/health/rat-dai").await.status, 404);
    app.get("/m/health/vua-du").await.assert_status(200);
    let catalog = app.state.catalog().unwrap();
    let problem = catalog
        .library
        .problems()
        .iter()
        .find(|p| p.path == "health/rat-dai.md")
        .expect("reported as a problem");
    assert!(problem.message.contains("too large"), "{}", problem.message);
}

#[test]
fn a_restored_backup_leaves_out_lessons_and_materials_beyond_the_forms_limits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("lessons")).unwrap();
    std::fs::create_dir_all(data.join("library/health")).unwrap();
    std::fs::write(
        data.join("lessons/ruatay.toml"),
        lesson_toml("ruatay", 5_000),
    )
    .unwrap();
    std::fs::write(
        data.join("lessons/taysach.toml"),
        lesson_toml("taysach", 10),
    )
    .unwrap();
    let big = format!(
        "+++\ntitle = \"x\"\ncategory = \"health\"\n+++\n{}",
        "a".repeat(3 << 20)
    );
    std::fs::write(data.join("library/health/dai.md"), big).unwrap();
    let file = dir.path().join("b.hoclieu-backup.tar");
    hoclieu::package::backup::backup(&data, None, std::fs::File::create(&file).unwrap(), "t", "")
        .unwrap();
    let restored = dir.path().join("restored");
    let done = hoclieu::package::backup::restore(&file, &restored).unwrap();
    let refused: Vec<&str> = done.refused.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(refused, ["lessons/ruatay.toml", "library/health/dai.md"]);
    assert!(restored.join("lessons/taysach.toml").is_file());
    assert!(!restored.join("lessons/ruatay.toml").exists());
    assert!(!restored.join("library/health/dai.md").exists());
}

/// A multipart body that sends `token`, then a text field `name` that never ends, counting
/// the bytes the server has taken.
fn endless_field(token: &str, name: &str, taken: Arc<AtomicUsize>) -> (String, Body) {
    let boundary = "----hoclieu-test-boundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n{token}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n"
    );
    let chunk = bytes::Bytes::from(vec![b'a'; 64 * 1024]);
    let stream =
        futures_util::stream::once(
            async move { Ok::<_, std::io::Error>(bytes::Bytes::from(head)) },
        )
        // Each chunk comes a little later, as over a network (an always-ready stream would be
        // drained whole into the parser's buffer before it looks at it).
        .chain(futures_util::stream::unfold((), move |()| {
            let (chunk, taken) = (chunk.clone(), Arc::clone(&taken));
            async move {
                tokio::task::yield_now().await;
                taken.fetch_add(chunk.len(), Ordering::SeqCst);
                Some((Ok(chunk), ()))
            }
        }));
    (
        format!("multipart/form-data; boundary={boundary}"),
        Body::from_stream(stream),
    )
}

#[tokio::test]
async fn a_huge_multipart_text_field_gets_413_without_being_read_whole() {
    let app = TestApp::with_upload_limit(30 << 20);
    let (cookie, token) = teacher(&app).await;
    for uri in ["/admin/materials/upload", "/admin/packages/import"] {
        let taken = Arc::new(AtomicUsize::new(0));
        let (ct, body) = endless_field(&token, "id", Arc::clone(&taken));
        let req = Request::post(uri)
            .header("cookie", &cookie)
            .header("content-type", ct)
            .body(body)
            .unwrap();
        let res = app.request(req).await;
        res.assert_status(413);
        assert!(
            res.text().contains("quá dài"),
            "{uri} after {} bytes: {}",
            taken.load(Ordering::SeqCst),
            res.text().len()
        );
        // Read up to the fields' limit, not to the upload limit.
        let taken = taken.load(Ordering::SeqCst);
        assert!(taken < 1 << 20, "{uri}: {taken} bytes read");
    }
    // An ordinary form still goes through.
    let (ct, body) = multipart(
        &[("token", &token), ("id", "khong/co")],
        "a.pdf",
        b"%PDF-1.4",
    );
    app.request(upload_to("/admin/materials/upload", &cookie, &ct, body))
        .await
        .assert_status(400);
}
