//! Test harness: a fixture library in a temp folder, the router over it, and request helpers.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use hoclieu::content::Source;
use hoclieu::server::startup::{App, Options};
use hoclieu::web::AppState;
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

/// The real app (assembled as `serve` does) over a private copy of the fixture library, with
/// its own data folder, and the router over it.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    /// Keeps the temporary library and data folder alive as long as the app.
    _dir: tempfile::TempDir,
    /// Stopped (and its records committed) by [`TestApp::flush`].
    app: Option<App>,
    /// The data folder.
    pub data: PathBuf,
}

/// The settings of a test box: its data folder, no mDNS.
fn settings(data: &Path) -> hoclieu::settings::Settings {
    hoclieu::settings::Settings {
        data: data.to_path_buf(),
        mdns: false,
        ..Default::default()
    }
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
    /// Assembles the app over `source` without loading the catalogue.
    pub fn assemble(
        dir: tempfile::TempDir,
        source: Source,
        upload_limit: Option<usize>,
    ) -> TestApp {
        let data = dir.path().join("data");
        TestApp::assemble_at(dir, data, source, upload_limit)
    }

    /// [`TestApp::assemble`] with the data folder at `data`.
    pub fn assemble_at(
        dir: tempfile::TempDir,
        data: PathBuf,
        source: Source,
        upload_limit: Option<usize>,
    ) -> TestApp {
        let settings = settings(&data);
        let mut opts = Options::new(source, "127.0.0.1:8080".parse().unwrap());
        if let Some(limit) = upload_limit {
            opts.upload_limit = limit;
        }
        // The harness is not hoclieu: documents are read by the real program.
        opts.documents = Some(hoclieu::documents::worker::Reader::new(
            env!("CARGO_BIN_EXE_hoclieu"),
            hoclieu::documents::worker::Limits::default(),
        ));
        let app = App::assemble(settings, opts).unwrap();
        TestApp {
            router: app.router(),
            state: app.state.clone(),
            _dir: dir,
            app: Some(app),
            data,
        }
    }

    /// A fixture library changed by `prepare`, assembled and loaded.
    pub fn build(prepare: impl FnOnce(&Path), upload_limit: Option<usize>) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("library");
        copy_tree(&fixture_dir(), &lib);
        prepare(&lib);
        let source = Source::dir(&lib).unwrap();
        let app = TestApp::assemble(dir, source, upload_limit);
        app.load();
        app
    }

    /// The fixture library, optionally changed by `prepare` before loading.
    pub fn with(prepare: impl FnOnce(&Path)) -> TestApp {
        TestApp::build(prepare, None)
    }

    /// The fixture library (every app records usage, as a server does).
    pub fn with_usage() -> TestApp {
        TestApp::new()
    }

    /// The fixture library with a smaller upload limit.
    pub fn with_upload_limit(bytes: usize) -> TestApp {
        TestApp::build(|_| {}, Some(bytes))
    }

    /// The fixture library, not loaded yet (pages answer 503).
    pub fn starting() -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("library");
        copy_tree(&fixture_dir(), &lib);
        let source = Source::dir(&lib).unwrap();
        TestApp::assemble(dir, source, None)
    }

    /// Stops the app and assembles it again over the same library and data folder, as a
    /// restart of the box would, then loads it.
    pub fn restart(&mut self) {
        self.restart_with(|_| {});
    }

    /// [`TestApp::restart`] with settings changed by `tweak` (the settings file edited).
    pub fn restart_with(&mut self, tweak: impl FnOnce(&mut hoclieu::settings::Settings)) {
        let app = self.app.take().unwrap();
        let source = app.state.library.base().clone();
        let limit = app.state.site.upload_limit;
        app.stop();
        let mut settings = settings(&self.data);
        tweak(&mut settings);
        let mut opts = Options::new(source, "127.0.0.1:8080".parse().unwrap());
        opts.upload_limit = limit;
        let app = App::assemble(settings, opts).unwrap();
        app.load().unwrap();
        self.router = app.router();
        self.state = app.state.clone();
        self.app = Some(app);
    }

    /// Loads the catalogue (blocking).
    pub fn load(&self) {
        self.app.as_ref().unwrap().load().unwrap();
    }

    /// Starts the folder watcher (as `serve` does).
    pub fn watch(&mut self) {
        self.app.as_mut().unwrap().watch();
    }

    /// Commits every recorded event and returns a connection to read them.
    pub fn flush(&mut self) -> rusqlite::Connection {
        if let Some(app) = self.app.take() {
            app.stop();
        }
        rusqlite::Connection::open(self.data.join("hoclieu.sqlite3")).unwrap()
    }

    pub fn new() -> TestApp {
        TestApp::with(|_| {})
    }

    /// Stops the app (committing every event) and reads today's report, as the dashboard does.
    pub fn today_report(&mut self) -> hoclieu::usage::report::Report {
        let d = hoclieu::clock::date_of(hoclieu::clock::local_day(self.state.now_ms()));
        let period = hoclieu::usage::report::Period::new(d, d).unwrap();
        let conn = self.flush();
        hoclieu::usage::report::report(&conn, period, &hoclieu::usage::profile::default_groups())
            .unwrap()
    }

    /// The built-in starter library.
    pub fn embedded() -> TestApp {
        let app = TestApp::assemble(tempfile::tempdir().unwrap(), Source::Embedded, None);
        app.load();
        app
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

    /// A device as a browser is one: its first page sets the participant cookie and the style
    /// sheet that page loads sends it back, so its id is kept (counted). Returns `hl_p=…`.
    pub async fn device(&self) -> String {
        let res = self.get("/").await;
        let set = res.header("set-cookie").to_string();
        let cookie = set.split(';').next().unwrap().to_string();
        assert!(cookie.starts_with("hl_p="), "no participant cookie: {set}");
        self.get_with("/static/style.css", &[("cookie", &cookie)])
            .await;
        cookie
    }

    /// Serves this app on a real socket (a free port of 127.0.0.1) through the server's own
    /// accept loop, within `limits`; stopped when the returned value is dropped.
    pub async fn serve(&self, limits: hoclieu::server::accept::Limits) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(hoclieu::server::accept::serve_connections(
            listener,
            self.router.clone(),
            limits,
            async {
                let _ = stopped.await;
            },
        ));
        Served { addr, _stop: stop }
    }

    /// `/api/search`'s answer to a query, as JSON.
    pub async fn search_json(&self, q: &str) -> serde_json::Value {
        let res = self.get(&format!("/api/search?q={}", urlencode(q))).await;
        res.assert_status(200);
        res.json()
    }

    /// Ids of the hits for a query, best first.
    pub async fn search_ids(&self, q: &str) -> Vec<String> {
        self.search_json(q).await["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["id"].as_str().unwrap().to_string())
            .collect()
    }
}

/// An app served on a socket by [`TestApp::serve`].
pub struct Served {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// Dropping it stops the accept loop.
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A multipart form body: text fields, then one file called `file`.
pub fn multipart(fields: &[(&str, &str)], file_name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    multipart_files(fields, &[(file_name, bytes)])
}

/// A multipart form body: text fields, then each file as a field called `file`.
pub fn multipart_files(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
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
    for (file_name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
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
