//! Test harness: a fixture library in a temp folder, the router over it, and request helpers.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use hoclieu::content::Source;
use hoclieu::web::{AppState, Catalog, router};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The committed fixture library.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/library")
}

/// Copies a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let rel = entry.path().strip_prefix(from).unwrap();
        let dest = to.join(rel);
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}

/// A router over a private copy of the fixture library.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    /// Keeps the temporary library alive as long as the app.
    _dir: tempfile::TempDir,
    /// The usage writer, when the app records usage.
    pub writer: Option<hoclieu::usage::Writer>,
    /// Where the usage database is.
    pub data: PathBuf,
}

/// A response, read whole.
pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Res {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap())
            .unwrap_or("")
    }
    #[track_caller]
    pub fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.text());
        self
    }
}

impl TestApp {
    /// The fixture library, optionally changed by `prepare` before loading.
    pub fn with(prepare: impl FnOnce(&Path)) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("library");
        copy_tree(&fixture_dir(), &lib);
        prepare(&lib);
        let catalog = Catalog::in_memory(Source::dir(&lib).unwrap()).unwrap();
        let state = AppState::ready(catalog);
        TestApp {
            router: router(state.clone()),
            state,
            data: dir.path().join("data"),
            _dir: dir,
            writer: None,
        }
    }

    /// The fixture library with a usage log in a temporary data folder.
    pub fn with_usage() -> TestApp {
        let mut app = TestApp::new();
        std::fs::create_dir_all(&app.data).unwrap();
        let store = hoclieu::usage::store::Store::open(&app.data).unwrap();
        // The server's clock, as in `serve`: phones may correct it.
        let clock = std::sync::Arc::new(hoclieu::clock::Clock::system(0));
        let (recorder, writer) = hoclieu::usage::start_with_clock(
            store,
            Some(hoclieu::usage::ClockLink {
                clock: clock.clone(),
                retention_days: 730,
            }),
        );
        let db = rusqlite::Connection::open(app.data.join("hoclieu.sqlite3")).unwrap();
        let usage = hoclieu::web::state::Usage {
            recorder,
            clock,
            db: std::sync::Arc::new(std::sync::Mutex::new(db)),
        };
        // The centre's own library over the fixture one, and a lessons folder, as a server has.
        let centre = hoclieu::content::centre::CentreLibrary::open(&app.data).unwrap();
        let base = Source::dir(&app._dir.path().join("library")).unwrap();
        let librarian = hoclieu::web::state::Librarian::new(base, Some(centre), None);
        let lessons = hoclieu::lessons::LessonStore::open(&app.data).unwrap();
        app.state = app
            .state
            .clone()
            .with_usage(usage)
            .with_librarian(librarian)
            .with_lessons(lessons)
            .with_settings(
                hoclieu::settings::Settings {
                    data: app.data.clone(),
                    mdns: false,
                    ..Default::default()
                },
                "127.0.0.1:8080".parse().unwrap(),
            );
        app.state.librarian().unwrap().load(&app.state).unwrap();
        app.router = router(app.state.clone());
        app.writer = Some(writer);
        app
    }

    /// Commits every recorded event and returns a connection to read them.
    pub fn flush(&mut self) -> rusqlite::Connection {
        if let Some(w) = self.writer.take() {
            w.finish();
        }
        rusqlite::Connection::open(self.data.join("hoclieu.sqlite3")).unwrap()
    }

    pub fn new() -> TestApp {
        TestApp::with(|_| {})
    }

    /// The built-in starter library.
    pub fn embedded() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let catalog = Catalog::in_memory(Source::Embedded).unwrap();
        let state = AppState::ready(catalog);
        TestApp {
            router: router(state.clone()),
            state,
            data: dir.path().join("data"),
            _dir: dir,
            writer: None,
        }
    }

    pub async fn request(&self, req: Request<Body>) -> Res {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        Res {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> Res {
        self.request(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    pub async fn get_with(&self, uri: &str, headers: &[(&str, &str)]) -> Res {
        let mut b = Request::get(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        self.request(b.body(Body::empty()).unwrap()).await
    }

    /// Ids of the hits for a query, best first.
    pub async fn search_ids(&self, q: &str) -> Vec<String> {
        let url = format!("/api/search?q={}", urlencode(q));
        let res = self.get(&url).await;
        res.assert_status(200);
        res.json()["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_string())
            .collect()
    }
}

pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A multipart form body: text fields, then one file called `file`.
pub fn multipart(fields: &[(&str, &str)], file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "----hoclieu-test-boundary";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A POST of a multipart body to `/admin/materials/upload`.
pub fn upload(
    cookie: &str,
    content_type: &str,
    body: Vec<u8>,
) -> axum::http::Request<axum::body::Body> {
    upload_to("/admin/materials/upload", cookie, content_type, body)
}

/// A POST of a multipart body.
pub fn upload_to(
    uri: &str,
    cookie: &str,
    content_type: &str,
    body: Vec<u8>,
) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::post(uri)
        .header("cookie", cookie)
        .header("content-type", content_type)
        .body(axum::body::Body::from(body))
        .unwrap()
}
