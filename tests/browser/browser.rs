//! Debian's Chromium, headless, through Debian's chromedriver (WebDriver, with fantoccini), one
//! fresh profile per browser. Viewport and screenshots use Chromium's DevTools commands through
//! chromedriver's `goog/cdp/execute`; the larger text is Chromium's own default-font-size
//! setting. A missing browser skips the test loudly, or fails it under `CI=true`.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::key::Key;
use fantoccini::wd::{Capabilities, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

use crate::http::Plain;
use crate::site::{Site, watch_stdout};

/// Flags Chromium needs in this sandbox-less, GPU-less, offline box.
const CHROMIUM_FLAGS: [&str; 8] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
];

/// Chromium's default font size (16 px) times 1.5: what "large text" means in these tests.
const LARGE_FONT_PX: u32 = 24;

/// Longest a wait for the page may take.
pub const WAIT: Duration = Duration::from_secs(20);

/// How the page is seen.
#[derive(Debug, Clone, Copy)]
pub struct View {
    /// Viewport width in CSS pixels.
    pub width: u32,
    /// Viewport height in CSS pixels.
    pub height: u32,
    /// Text at 150 % (Chromium's default font size 24 px instead of 16 px).
    pub large_text: bool,
}

impl View {
    /// A 360 px phone, normal text.
    pub const PHONE: View = View {
        width: 360,
        height: 740,
        large_text: false,
    };
    /// A desktop screen, normal text.
    pub const DESKTOP: View = View {
        width: 1280,
        height: 900,
        large_text: false,
    };
}

/// Whether this run must not skip (CI sets `CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// What installs the browser.
const INSTALL: &str = "apt-get install -y chromium chromium-driver (.ci/run does it)";

/// Says loudly, past the test harness's output capture (which only takes `print!`), that a
/// test did not run because of `what`, and how to `fix` it; under CI the same is a failure.
pub fn skip(what: &str, fix: &str) {
    assert!(
        !in_ci(),
        "CI=true and {what}: the browser tests must run in CI ({fix})"
    );
    let _ = writeln!(
        std::io::stderr(),
        "\n!!!!!!!! BROWSER TEST SKIPPED: {what}.\n!!!!!!!! Fix: {fix}. With CI=true this fails.\n"
    );
}

/// `$VAR` if it names a file, else the first of `names` found on PATH.
fn find_tool(var: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// A headless Chromium with its chromedriver.
pub struct Browser {
    /// The WebDriver session (none only while it is being opened).
    client: Option<Client>,
    /// Where pages are served.
    pub base: String,
    driver: Option<Child>,
    /// The fresh `--user-data-dir` (and the driver's log).
    profile: tempfile::TempDir,
}

/// A chromedriver command inside the session: `POST /session/{id}/{path}` with a JSON body.
#[derive(Debug)]
struct SessionPost {
    path: &'static str,
    body: Value,
}

impl WebDriverCompatibleCommand for SessionPost {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/{}",
            session_id.unwrap_or_default(),
            self.path
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(self.body.to_string()))
    }
}

impl Browser {
    /// Starts chromedriver and a browser for `site` seen as `view`; `None` when there is no
    /// browser on this machine outside CI (after saying so loudly).
    pub async fn start(site: &Site, view: View) -> Option<Browser> {
        let Some(chromium) = find_tool("HOCLIEU_CHROMIUM", &["chromium", "chromium-browser"])
        else {
            skip(
                "no Chromium (chromium on PATH or $HOCLIEU_CHROMIUM)",
                INSTALL,
            );
            return None;
        };
        let Some(chromedriver) = find_tool("HOCLIEU_CHROMEDRIVER", &["chromedriver"]) else {
            skip(
                "no chromedriver (on PATH or $HOCLIEU_CHROMEDRIVER)",
                INSTALL,
            );
            return None;
        };
        let profile = tempfile::tempdir().unwrap();
        let log = profile.path().join("chromedriver.log");
        let mut cmd = Command::new(&chromedriver);
        // Port 0: it picks a free port and says which.
        cmd.arg("--port=0")
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        // Its own process group: the browsers it starts are stopped with it, even after a panic.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let driver = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", chromedriver.display()));
        let mut browser = Browser {
            client: None,
            base: site.base.clone(),
            driver: Some(driver),
            profile,
        };
        let port = |line: &str| {
            let rest = line.split("started successfully on port ").nth(1)?;
            Some(rest.trim_end_matches('.').trim().to_string())
        };
        let port = browser
            .driver
            .as_mut()
            .and_then(|d| watch_stdout(d, WAIT, port))
            .unwrap_or_else(|| {
                panic!(
                    "chromedriver said no port within {WAIT:?}; its log:\n{}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                )
            });
        browser.client = Some(connect(&port, &chromium, &browser.profile, view, &log).await);
        browser.set_view(view).await;
        Some(browser)
    }

    /// The WebDriver session.
    pub fn client(&self) -> &Client {
        self.client.as_ref().expect("a session")
    }

    /// Runs a Chromium DevTools command in the page's target.
    pub async fn cdp(&self, cmd: &str, params: Value) -> Value {
        self.client()
            .issue_cmd(SessionPost {
                path: "goog/cdp/execute",
                body: json!({ "cmd": cmd, "params": params }),
            })
            .await
            .unwrap_or_else(|e| panic!("DevTools {cmd} failed: {e}"))
    }

    /// Sets the viewport (kept across navigations), without scrollbars so that the layout
    /// width is the whole viewport as on a phone.
    pub async fn set_view(&self, view: View) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": view.width, "height": view.height, "deviceScaleFactor": 1,
                    "mobile": false }),
        )
        .await;
        self.cdp("Emulation.setScrollbarsHidden", json!({ "hidden": true }))
            .await;
    }

    /// What the browser's console said since the last call (network errors among them).
    pub async fn console(&self) -> Vec<String> {
        let v = self
            .client()
            .issue_cmd(SessionPost {
                path: "se/log",
                body: json!({ "type": "browser" }),
            })
            .await
            .unwrap_or(Value::Null);
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e["message"].as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Opens `path` of the site and waits for it to load.
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.client()
            .goto(&url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    /// The path (and query) of the page shown.
    pub async fn path(&self) -> String {
        let url = self.client().current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Runs `script` (a function body; `arguments` are `args`) and returns its value.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.client()
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Runs `script`, which ends by calling `arguments[arguments.length - 1](value)`.
    pub async fn js_async(&self, script: &str, args: Vec<Value>) -> Value {
        self.client()
            .execute_async(script, args)
            .await
            .unwrap_or_else(|e| panic!("async script failed: {e}\n{script}"))
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        self.js(
            "return document.body ? document.body.innerText : '';",
            vec![],
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// The HTTP status the shown page was answered with (Navigation Timing).
    pub async fn status(&self) -> u64 {
        self.js(
            "const n = performance.getEntriesByType('navigation')[0]; \
             return n ? n.responseStatus : 0;",
            vec![],
        )
        .await
        .as_u64()
        .unwrap_or(0)
    }

    /// Waits until `script` returns true; panics with `what` after [`WAIT`].
    pub async fn wait_until(&self, script: &str, what: &str) {
        let start = Instant::now();
        loop {
            if let Ok(Value::Bool(true)) = self.client().execute(script, vec![]).await {
                return;
            }
            if start.elapsed() > WAIT {
                panic!(
                    "waited {WAIT:?} for {what}; the page is {} and says:\n{}",
                    self.path().await,
                    self.text().await
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Marks the page shown, so that [`Browser::wait_new_page`] can tell when another (or
    /// the same URL again) has replaced it.
    pub async fn mark(&self) {
        self.js("window.__hoclieuOld = true;", vec![]).await;
    }

    /// Waits until the marked page has been replaced by a loaded one (a form was answered).
    pub async fn wait_new_page(&self) {
        self.wait_until(
            "return window.__hoclieuOld === undefined && document.readyState === 'complete';",
            "the next page",
        )
        .await;
    }

    /// Logs in on `/admin/login` by typing the name and password and pressing Enter.
    pub async fn login(&self, user: &str, password: &str) {
        self.goto("/admin/login").await;
        let name = self.client().find(Locator::Id("u")).await.unwrap();
        name.send_keys(user).await.unwrap();
        let pass = self.client().find(Locator::Id("p")).await.unwrap();
        self.mark().await;
        pass.send_keys(&format!("{password}{}", char::from(Key::Enter)))
            .await
            .unwrap();
        self.wait_new_page().await;
        let cookies = self.client().get_all_cookies().await.unwrap();
        assert!(
            cookies.iter().any(|c| c.name() == "hl_admin"),
            "logging in as {user} gave no session cookie; the page says:\n{}",
            self.text().await
        );
    }

    /// The Cookie header this browser sends to the site (HttpOnly cookies included).
    pub async fn cookie_header(&self) -> String {
        self.client()
            .get_all_cookies()
            .await
            .unwrap()
            .iter()
            .map(|c| format!("{}={}", c.name(), c.value()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// A PNG of the whole page (the viewport is made as tall as the page for the shot).
    pub async fn full_screenshot(&self, view: View) -> Vec<u8> {
        let height = self
            .js("return document.documentElement.scrollHeight;", vec![])
            .await
            .as_u64()
            .unwrap_or(u64::from(view.height))
            .clamp(1, 8000);
        self.set_view(View {
            height: height as u32,
            ..view
        })
        .await;
        let png = self.client().screenshot().await.unwrap();
        self.set_view(view).await;
        png
    }

    /// Ends the session (the browser quits) and stops chromedriver.
    pub async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = client.close().await;
        }
        self.stop_driver();
    }

    fn stop_driver(&mut self) {
        if let Some(mut driver) = self.driver.take() {
            // The group holds chromedriver and every browser process it started.
            let _ = rustix::process::kill_process_group(
                rustix::process::Pid::from_child(&driver),
                rustix::process::Signal::KILL,
            );
            let _ = driver.wait();
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.stop_driver();
    }
}

/// Opens a WebDriver session once chromedriver listens.
async fn connect(
    port: &str,
    chromium: &std::path::Path,
    profile: &tempfile::TempDir,
    view: View,
    log: &std::path::Path,
) -> Client {
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| s.to_string()).collect();
    args.push(format!(
        "--user-data-dir={}",
        profile.path().join("profile").display()
    ));
    args.push(format!("--window-size={},{}", view.width, view.height));
    let mut prefs = json!({});
    if view.large_text {
        prefs = json!({ "webkit": { "webprefs": {
            "default_font_size": LARGE_FONT_PX, "default_fixed_font_size": LARGE_FONT_PX * 13 / 16
        } } });
    }
    let mut caps = Capabilities::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({ "binary": chromium, "args": args, "prefs": prefs }),
    );
    caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
    let url = format!("http://127.0.0.1:{port}");
    let plain = Plain::new();
    let start = Instant::now();
    while !plain
        .try_get(&format!("{url}/status"), None)
        .await
        .is_ok_and(|r| r.status == 200)
    {
        assert!(
            start.elapsed() < WAIT,
            "chromedriver did not answer on port {port} within {WAIT:?}; its log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&url)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "chromedriver opened no session: {e}\nits log:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        });
    let mut t = fantoccini::wd::TimeoutConfiguration::default();
    t.set_script(Some(Duration::from_secs(90)));
    t.set_page_load(Some(Duration::from_secs(60)));
    client.update_timeouts(t).await.unwrap();
    client
}
