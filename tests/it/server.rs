//! The real binary on a real socket.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Sends a raw HTTP/1.1 request and returns the whole response.
fn raw(port: u16, request: &str) -> Option<Vec<u8>> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    s.write_all(request.as_bytes()).ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).ok()?;
    Some(out)
}

fn get(port: u16, path: &str, extra: &str) -> String {
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{extra}\r\n");
    String::from_utf8_lossy(&raw(port, &req).unwrap_or_default()).into_owned()
}

/// A browser's device over the socket: the cookie its first page sets, sent back with the
/// style sheet, as a `Cookie:` header line for [`get`].
fn device(port: u16) -> String {
    let res = get(port, "/", "");
    let cookie = res
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: hl_p="))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("no participant cookie: {res}"));
    let line = format!("Cookie: hl_p={cookie}\r\n");
    get(port, "/static/style.css", &line);
    line
}

pub(crate) fn start(args: &[&str], data: &std::path::Path) -> Server {
    let port = free_port();
    let child = Command::new(env!("CARGO_BIN_EXE_hoclieu"))
        .arg("serve")
        // Tests stay off the network's multicast.
        .arg("--no-mdns")
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--data")
        .arg(data)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if get(port, "/healthz", "").starts_with("HTTP/1.1 200") {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("server did not become ready");
}

#[test]
fn serves_embedded_library_over_http_and_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let mut server = start(&[], &tmp.path().join("data"));
    let port = server.port;
    assert!(
        tmp.path().join("data/index/meta.json").exists(),
        "index on disk"
    );

    let home = get(port, "/", "Accept-Encoding: gzip\r\n");
    assert!(home.starts_with("HTTP/1.1 200"), "{home}");
    assert!(home.to_ascii_lowercase().contains("content-encoding: gzip"));

    let mats = get(port, "/api/materials", "");
    let body = mats.split("\r\n\r\n").nth(1).unwrap();
    let json: serde_json::Value = serde_json::from_str(body).unwrap_or_else(|_| {
        // chunked encoding: take the JSON between the first '[' and the last ']'
        let s = body.find('[').unwrap();
        let e = body.rfind(']').unwrap();
        serde_json::from_str(&body[s..=e]).unwrap()
    });
    let url = json
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["attachments"].as_array().unwrap().clone())
        .next()
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_string();
    let part = get(port, &url, "Range: bytes=0-9\r\n");
    assert!(part.starts_with("HTTP/1.1 206"), "{part}");
    assert!(
        part.to_ascii_lowercase()
            .contains("content-range: bytes 0-9/")
    );

    // The stdout banner lists a URL to open.
    #[cfg(unix)]
    {
        let pid = server.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = server.child.try_wait().unwrap() {
                assert!(status.success(), "{status:?}");
                break;
            }
            assert!(
                Instant::now() < deadline,
                "did not stop within 10 s of SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut out = String::new();
        server
            .child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert!(out.contains(&format!("http://127.0.0.1:{port}/")), "{out}");
    }
}

#[test]
fn second_start_reuses_the_index() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let lib = crate::util::fixture_dir();
    let lib = lib.to_str().unwrap();
    drop(start(&["--library", lib], &data));
    let meta = std::fs::metadata(data.join("index/meta.json"))
        .unwrap()
        .modified()
        .unwrap();
    let s = start(&["--library", lib], &data);
    assert!(get(s.port, "/api/search?q=oresol", "").contains("health/oresol"));
    let again = std::fs::metadata(data.join("index/meta.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(meta, again, "index was rebuilt instead of reused");
}

#[test]
fn sigkill_while_recording_loses_nothing_older_than_a_second() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let lib = crate::util::fixture_dir();
    let lib = lib.to_str().unwrap();
    let mut server = start(&["--library", lib], &data);
    let cookie = &device(server.port);
    let mut acked = Vec::new();
    let begin = Instant::now();
    while begin.elapsed() < Duration::from_millis(1500) {
        let res = get(server.port, "/m/health/oresol", cookie);
        assert!(res.starts_with("HTTP/1.1 200"), "{res}");
        acked.push(Instant::now());
    }
    let killed_at = Instant::now();
    server.child.kill().unwrap(); // SIGKILL
    server.child.wait().unwrap();
    let old_enough = acked
        .iter()
        .filter(|t| killed_at.duration_since(**t) > Duration::from_secs(1))
        .count();
    assert!(
        old_enough > 10,
        "too few requests to mean anything: {old_enough}"
    );

    let conn = rusqlite::Connection::open(data.join("hoclieu.sqlite3")).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    let stored: i64 = conn
        .query_row("SELECT COUNT(*) FROM events WHERE kind = 'view'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(
        stored as usize >= old_enough,
        "{stored} stored, {old_enough} acknowledged more than a second before the kill"
    );
    drop(conn);

    // It starts cleanly afterwards and keeps counting.
    let again = start(&["--library", lib], &data);
    assert!(get(again.port, "/m/health/oresol", cookie).starts_with("HTTP/1.1 200"));
    drop(again);

    let today = {
        let now = hoclieu::clock::now_ms();
        hoclieu::clock::iso(hoclieu::clock::date_of(hoclieu::clock::local_day(now)))
    };
    let out = Command::new(env!("CARGO_BIN_EXE_hoclieu"))
        .args([
            "report", "--format", "json", "--from", &today, "--to", &today, "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // One device is fewer than five people: the report says so and shows nothing about it.
    assert_eq!(json["withheld"], true, "{json}");
    assert_eq!(json["participants"], 0, "{json}");
    assert!(json["top_materials"].as_array().unwrap().is_empty());
    assert!(json["previous"]["participants"].is_number());
    let csv = Command::new(env!("CARGO_BIN_EXE_hoclieu"))
        .args([
            "report",
            "--format",
            "csv",
            "--period",
            &today[..7],
            "--library",
            lib,
            "--data",
        ])
        .arg(&data)
        .output()
        .unwrap();
    let csv = String::from_utf8_lossy(&csv.stdout);
    assert!(
        csv.contains(
            "# Tài liệu được dùng nhiều nhất (top_materials)\nTài liệu,Số người xem,Lượt xem\n\n"
        ),
        "{csv}"
    );
    assert!(!csv.contains("Oresol"), "{csv}");
}

/// Waits until `check` holds for the body of GET `path`, up to `secs` seconds.
fn eventually(port: u16, path: &str, secs: u64, check: impl Fn(&str) -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if check(&get(port, path, "")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

#[test]
fn files_copied_into_the_library_folder_are_served_without_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let server = start(&[], &data);
    let port = server.port;
    let loads = |port| -> u64 {
        let h = get(port, "/healthz", "");
        let v: serde_json::Value =
            serde_json::from_str(h.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        v["loads"].as_u64().unwrap()
    };
    // Reading the library (pages, files) is not a change: no reload.
    let before = loads(port);
    for _ in 0..10 {
        assert!(get(port, "/m/agriculture/lua-ruong-bac-thang", "").starts_with("HTTP/1.1"));
        get(port, "/search?q=lua", "");
    }
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(loads(port), before, "reading files made the library reload");
    let dir = data.join("library/agriculture");
    std::fs::create_dir_all(&dir).unwrap();
    // As if copied from a USB stick: a good material and a broken one.
    std::fs::write(
        dir.join("nuoi-ong.md"),
        "+++\ntitle = \"Nuôi ong lấy mật\"\ncategory = \"agriculture\"\n+++\nĐõ ong đặt nơi khuất gió.\n",
    )
    .unwrap();
    std::fs::write(dir.join("hong.md"), "+++\ntitle = \n+++\n").unwrap();
    assert!(
        eventually(port, "/api/search?q=do%20ong", 15, |b| b
            .contains("agriculture/nuoi-ong")),
        "the new material was not picked up"
    );
    assert!(get(port, "/m/agriculture/nuoi-ong", "").starts_with("HTTP/1.1 200"));
    // Reading a watched file is not a change either (once the copy above has settled).
    let mut settled = loads(port);
    for round in 0.. {
        assert!(round < 5, "the library keeps reloading");
        std::thread::sleep(Duration::from_millis(2000));
        let now = loads(port);
        if now == settled {
            break;
        }
        settled = now;
    }
    for _ in 0..10 {
        assert!(get(port, "/m/agriculture/nuoi-ong", "").starts_with("HTTP/1.1 200"));
    }
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        loads(port),
        settled,
        "reading a watched file made the library reload"
    );
    // The starter library is still all there.
    assert!(get(port, "/api/search?q=lua", "").contains("\"total\""));
    // Edited by hand: the change is searchable; removed: gone.
    std::fs::write(
        dir.join("nuoi-ong.md"),
        "+++\ntitle = \"Nuôi ong lấy mật\"\ncategory = \"agriculture\"\n+++\nMật ong rừng Hoàng Su Phì.\n",
    )
    .unwrap();
    assert!(eventually(
        port,
        "/api/search?q=hoang%20su%20phi",
        15,
        |b| b.contains("agriculture/nuoi-ong")
    ));
    std::fs::remove_file(dir.join("nuoi-ong.md")).unwrap();
    assert!(eventually(port, "/m/agriculture/nuoi-ong", 15, |b| b
        .starts_with("HTTP/1.1 404")));
    assert!(eventually(
        port,
        "/api/search?q=hoang%20su%20phi",
        15,
        |b| !b.contains("agriculture/nuoi-ong")
    ));
    // A lesson copied in by hand is served too.
    std::fs::write(
        data.join("lessons/tay12.toml"),
        "code = \"tay12\"\ntitle = \"Tay chân miệng\"\ncategory = \"health\"\npublished = true\n",
    )
    .unwrap();
    assert!(eventually(port, "/l/tay12", 15, |b| b.starts_with("HTTP/1.1 200")));
    assert!(eventually(
        port,
        "/api/search?q=hoang%20su%20phi",
        15,
        |b| !b.contains("agriculture/nuoi-ong")
    ));
    // Once the last change is taken in, nothing more reloads (a reload loop never settles).
    let mut settled = loads(port);
    for round in 0.. {
        assert!(round < 5, "the library keeps reloading");
        std::thread::sleep(Duration::from_millis(2000));
        let now = loads(port);
        if now == settled {
            break;
        }
        settled = now;
    }
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(loads(port), settled);
}

#[test]
fn config_prints_the_effective_settings_file_then_environment_then_flags() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("hoclieu.toml");
    std::fs::write(
        &file,
        "centre = \"TTHTCĐ xã Nậm Dẩn\"\ndistrict = \"Xín Mần\"\nlisten = \"0.0.0.0:80\"\nretention_days = 800\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hoclieu"))
        .args(["config", "--config"])
        .arg(&file)
        .args(["--retention-days", "900"])
        .env("HOCLIEU_LISTEN", "0.0.0.0:8088")
        .env("HOCLIEU_DISTRICT", "Hoàng Su Phì")
        .env_remove("HOCLIEU_DATA")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("centre = \"TTHTCĐ xã Nậm Dẩn\"  # settings file"),
        "{text}"
    );
    assert!(
        text.contains("district = \"Hoàng Su Phì\"  # environment"),
        "{text}"
    );
    assert!(
        text.contains("listen = \"0.0.0.0:8088\"  # environment"),
        "{text}"
    );
    assert!(
        text.contains("retention_days = 900  # command line"),
        "{text}"
    );
    assert!(
        text.contains("data = \"hoclieu-data\"  # default"),
        "{text}"
    );
    // A typo in the file is an error that names it, not a silent default.
    std::fs::write(&file, "centr = \"x\"\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_hoclieu"))
        .args(["config", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("centr"));
}

#[test]
fn the_poster_shows_the_centre_address_and_a_qr_code() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(
        &["--centre", "TTHTCĐ xã Nậm Dẩn", "--commune", "Xã Nậm Dẩn"],
        &tmp.path().join("data"),
    );
    let page = get(server.port, "/poster", "");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("TTHTCĐ xã Nậm Dẩn"));
    assert!(page.contains("Xã Nậm Dẩn"));
    assert!(page.contains("<svg"));
    assert!(page.contains(&format!("http://127.0.0.1:{}/", server.port)));
    // mDNS is off in tests, so the poster does not promise hoclieu.local.
    assert!(!page.contains("hoclieu.local"));
}

#[test]
fn doctor_names_what_is_broken_and_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("library/health")).unwrap();
    std::fs::create_dir_all(data.join("index")).unwrap();
    std::fs::write(
        data.join("hoclieu.sqlite3"),
        b"not a database at all, just bytes",
    )
    .unwrap();
    std::fs::write(data.join("index/meta.json"), b"{broken").unwrap();
    std::fs::write(
        data.join("library/health/hong.md"),
        "+++\ntitle = \"x\"\n+++\n",
    )
    .unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let out = Command::new(env!("CARGO_BIN_EXE_hoclieu"))
        .args(["doctor", "--no-mdns", "--data"])
        .arg(&data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let line = |topic: &str| {
        text.lines()
            .find(|l| l.split_whitespace().nth(1) == Some(topic))
            .unwrap_or_else(|| panic!("no {topic} line in {text}"))
            .to_string()
    };
    assert!(line("database").starts_with("FAIL"), "{text}");
    assert!(line("database").contains("hoclieu restore"), "{text}");
    assert!(line("index").starts_with("WARN"), "{text}");
    assert!(line("index").contains("rebuilds"), "{text}");
    assert!(
        line("library").starts_with("WARN") && line("library").contains("health/hong.md"),
        "{text}"
    );
    assert!(
        line("port").starts_with("WARN") && line("port").contains("in use"),
        "{text}"
    );
    assert!(line("data").starts_with("OK"), "{text}");
    assert!(
        line("disk").starts_with("OK") || line("disk").starts_with("WARN"),
        "{text}"
    );
    drop(busy);
    // A healthy fresh folder: nothing fails, and the doctor created nothing.
    let fresh = tmp.path().join("fresh");
    let out = Command::new(env!("CARGO_BIN_EXE_hoclieu"))
        .args(["doctor", "--no-mdns", "--data"])
        .arg(&fresh)
        .args(["--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(!fresh.exists());
}

/// `hoclieu backup` of `data` to `file`, then `hoclieu restore` of it into `into`.
fn backup_and_restore(data: &std::path::Path, file: &std::path::Path, into: &std::path::Path) {
    let (data, file, into) = (
        data.to_str().unwrap(),
        file.to_str().unwrap(),
        into.to_str().unwrap(),
    );
    let backup: &[&str] = &["backup", "--data", data, "--to", file];
    let restore: &[&str] = &["restore", file, "--data", into];
    for args in [backup, restore] {
        let out = hoclieu_cli(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The box key's fingerprint as `hoclieu doctor` prints it, or its whole line if it has none.
fn doctor_key(data: &std::path::Path) -> String {
    let out = hoclieu_cli(&[
        "doctor",
        "--no-mdns",
        "--data",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let line = text
        .lines()
        .find(|l| l.contains("box key"))
        .unwrap_or_else(|| panic!("no box key line: {text}"))
        .to_string();
    match line.split("fingerprint ").nth(1) {
        Some(rest) => rest.split_whitespace().next().unwrap().to_string(),
        None => line,
    }
}

#[test]
fn the_box_makes_its_signing_key_once_and_a_backup_carries_it() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    assert!(
        doctor_key(&a).contains("not made yet"),
        "{}",
        doctor_key(&a)
    );
    let server = start(&[], &a);
    assert!(get(server.port, "/healthz", "").starts_with("HTTP/1.1 200"));
    drop(server);
    let first = doctor_key(&a);
    assert_eq!(first.len(), 19, "{first}");
    assert!(
        first.chars().all(|c| c == '-' || c.is_ascii_hexdigit()),
        "{first}"
    );
    // Kept across a restart.
    drop(start(&[], &a));
    assert_eq!(doctor_key(&a), first);
    // Another box has another key.
    let other = tmp.path().join("other");
    drop(start(&[], &other));
    assert_ne!(doctor_key(&other), first);
    // A backup restored on a new box signs as the old one did.
    let b = tmp.path().join("b");
    backup_and_restore(&a, &tmp.path().join("box.hoclieu-backup.tar"), &b);
    assert_eq!(doctor_key(&b), first);
}

fn hoclieu_cli(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hoclieu"))
        .args(args)
        .env_remove("HOCLIEU_DATA")
        .env_remove("HOCLIEU_CONFIG")
        .output()
        .unwrap()
}

#[test]
fn a_backup_taken_while_serving_restores_the_same_reports_and_library() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a");
    let lib = a.join("library/health");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(
        lib.join("phong-soi.md"),
        "+++\ntitle = \"Phòng bệnh sởi\"\ncategory = \"health\"\n+++\nTiêm vắc xin sởi.\n",
    )
    .unwrap();
    std::fs::write(lib.join("phong-soi-to-roi.pdf"), b"%PDF-1.4 tiny").unwrap();
    std::fs::create_dir_all(a.join("lessons")).unwrap();
    std::fs::write(
        a.join("lessons/soi12.toml"),
        "code = \"soi12\"\ntitle = \"Sởi\"\ncategory = \"health\"\npublished = true\n",
    )
    .unwrap();
    let server = start(&[], &a);
    // Visitors: five devices (as many as one address may get at once), views and searches.
    for _ in 0..5 {
        let cookie = device(server.port);
        assert!(get(server.port, "/m/health/phong-soi", &cookie).starts_with("HTTP/1.1 200"));
        get(server.port, "/search?q=soi", &cookie);
        get(server.port, "/l/soi12", &cookie);
    }
    std::thread::sleep(Duration::from_millis(800)); // the writer commits within 250 ms
    let f = tmp.path().join("box.hoclieu-backup.tar");
    let b = tmp.path().join("b");
    backup_and_restore(&a, &f, &b);
    // Still serving.
    assert!(get(server.port, "/healthz", "").starts_with("HTTP/1.1 200"));
    let report = |dir: &std::path::Path| {
        let out = hoclieu_cli(&[
            "report",
            "--data",
            dir.to_str().unwrap(),
            "--from",
            "2020-01-01",
            "--to",
            "2099-12-31",
            "--format",
            "json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        v.as_object_mut().unwrap().remove("generated");
        v
    };
    let (ra, rb) = (report(&a), report(&b));
    assert_eq!(ra, rb);
    assert_eq!(ra["participants"], 5, "{ra}");
    assert_eq!(ra["lessons"][0]["participants"], 5, "{ra}");
    for rel in [
        "library/health/phong-soi.md",
        "library/health/phong-soi-to-roi.pdf",
        "lessons/soi12.toml",
    ] {
        assert_eq!(
            std::fs::read(a.join(rel)).unwrap(),
            std::fs::read(b.join(rel)).unwrap(),
            "{rel}"
        );
    }
    // The restored box serves the same library.
    drop(server);
    let restored = start(&[], &b);
    assert!(get(restored.port, "/m/health/phong-soi", "").starts_with("HTTP/1.1 200"));
    assert!(get(restored.port, "/l/soi12", "").starts_with("HTTP/1.1 200"));
    // Restoring over data is refused, and a damaged backup changes nothing.
    let out = hoclieu_cli(&[
        "restore",
        f.to_str().unwrap(),
        "--data",
        b.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not empty"));
    let bytes = std::fs::read(&f).unwrap();
    let cut = tmp.path().join("cut.tar");
    std::fs::write(&cut, &bytes[..bytes.len() - 2048]).unwrap();
    let c = tmp.path().join("c");
    let out = hoclieu_cli(&[
        "restore",
        cut.to_str().unwrap(),
        "--data",
        c.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert_eq!(
        std::fs::read_dir(&c).unwrap().count(),
        0,
        "a refused restore leaves nothing"
    );
}

#[test]
fn install_script_installs_upgrades_keeping_settings_and_uninstalls_keeping_records() {
    let root = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/install.sh");
    let run = |args: &[&str]| {
        let out = Command::new("bash")
            .arg(script)
            .args(args)
            .env("ROOT", root.path())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let bin = env!("CARGO_BIN_EXE_hoclieu");
    let r = root.path();
    run(&[bin]);
    let conf = r.join("etc/hoclieu/hoclieu.toml");
    assert!(r.join("usr/local/bin/hoclieu").exists());
    let unit = std::fs::read_to_string(r.join("etc/systemd/system/hoclieu.service")).unwrap();
    for line in [
        "Restart=on-failure",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "ReadWritePaths=/var/lib/hoclieu",
        // systemd's default of 1024 descriptors let ~500 stalled readers lock everyone out.
        "LimitNOFILE=4096",
    ] {
        assert!(unit.contains(line), "{line}");
    }
    // The example settings are valid as installed.
    let out = hoclieu_cli(&["config", "--config", conf.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The centre edits its settings and has records; an upgrade keeps both.
    std::fs::write(&conf, "centre = \"TTHTCĐ xã Nậm Dẩn\"\n").unwrap();
    std::fs::write(r.join("var/lib/hoclieu/hoclieu.sqlite3"), b"records").unwrap();
    let out = run(&[bin]);
    assert!(out.contains("Settings kept"), "{out}");
    assert_eq!(
        std::fs::read_to_string(&conf).unwrap(),
        "centre = \"TTHTCĐ xã Nậm Dẩn\"\n"
    );
    run(&["--uninstall"]);
    assert!(!r.join("usr/local/bin/hoclieu").exists());
    assert!(!r.join("etc/systemd/system/hoclieu.service").exists());
    assert!(conf.exists() && r.join("var/lib/hoclieu/hoclieu.sqlite3").exists());
    run(&["--purge"]);
    assert!(!conf.exists() && !r.join("var/lib/hoclieu").exists());
}

/// Seconds until the server closes a connection that sends `opening` and then dribbles one
/// more header byte a second (or nothing, if `dribble` is false).
fn seconds_until_closed(port: u16, opening: &str, dribble: bool) -> f64 {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let started = Instant::now();
    s.write_all(opening.as_bytes()).unwrap();
    let mut buf = [0u8; 1024];
    while started.elapsed() < Duration::from_secs(30) {
        match s.read(&mut buf) {
            Ok(0) => return started.elapsed().as_secs_f64(),
            Ok(_) => return started.elapsed().as_secs_f64(), // an error response, then close
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return started.elapsed().as_secs_f64(),
        }
        if dribble && s.write_all(b"X").is_err() {
            return started.elapsed().as_secs_f64();
        }
        std::thread::sleep(Duration::from_millis(800));
    }
    f64::INFINITY
}

#[test]
fn slow_and_idle_clients_are_cut_off_while_others_are_served() {
    let tmp = tempfile::tempdir().unwrap();
    let server = start(&[], &tmp.path().join("data"));
    let port = server.port;
    let idle = std::thread::spawn(move || seconds_until_closed(port, "", false));
    let slow = std::thread::spawn(move || {
        seconds_until_closed(port, "GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ", true)
    });
    // A body dribbled a byte at a time gets 408 when the request's 30 s are up.
    let slow_body = std::thread::spawn(move || {
        let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        s.write_all(b"POST /admin/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 500\r\n\r\n").unwrap();
        let started = Instant::now();
        let mut got = Vec::new();
        while started.elapsed() < Duration::from_secs(45) {
            let _ = s.write_all(b"a");
            let mut buf = [0u8; 512];
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    got.extend_from_slice(&buf[..n]);
                    break;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(900)),
            }
        }
        (
            String::from_utf8_lossy(&got).into_owned(),
            started.elapsed().as_secs_f64(),
        )
    });
    // Meanwhile an ordinary visitor is served.
    std::thread::sleep(Duration::from_secs(1));
    assert!(get(port, "/", "").starts_with("HTTP/1.1 200"));
    let (idle, slow) = (idle.join().unwrap(), slow.join().unwrap());
    assert!(idle <= 10.0, "an idle connection stayed open {idle} s");
    assert!(
        slow <= 10.0,
        "a slow-header connection stayed open {slow} s"
    );
    let (answer, after) = slow_body.join().unwrap();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(after <= 35.0, "{after}");
    // Oversized headers: 431. Oversized bodies: 413, without reading them whole.
    let big = format!("X-Big: {}\r\n", "a".repeat(20 * 1024));
    let res = String::from_utf8_lossy(
        &raw(
            port,
            &format!("GET / HTTP/1.1\r\nHost: x\r\n{big}Connection: close\r\n\r\n"),
        )
        .unwrap_or_default(),
    )
    .into_owned();
    assert!(res.starts_with("HTTP/1.1 431"), "{res}");
    let res = String::from_utf8_lossy(
        &raw(
            port,
            "POST /admin/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000\r\nConnection: close\r\n\r\nusername=a",
        )
        .unwrap_or_default(),
    )
    .into_owned();
    assert!(res.starts_with("HTTP/1.1 413"), "{res}");
    // Uploads allow more, but not what they announce beyond their limit.
    let res = String::from_utf8_lossy(
        &raw(
            port,
            "POST /admin/materials/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 10000000000\r\nConnection: close\r\n\r\n--b",
        )
        .unwrap_or_default(),
    )
    .into_owned();
    assert!(res.starts_with("HTTP/1.1 413"), "{res}");
}

#[test]
fn a_damaged_database_is_moved_aside_and_the_server_carries_on() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("hoclieu.sqlite3"), b"garbage, not SQLite").unwrap();
    std::fs::write(data.join("hoclieu.sqlite3-wal"), b"more garbage").unwrap();
    // Half-written files of an interrupted upload and save.
    std::fs::create_dir_all(data.join("library/health")).unwrap();
    std::fs::write(data.join("library/.upload-x1"), b"half a video").unwrap();
    std::fs::write(data.join("library/health/.tmp-y2"), b"half a text").unwrap();
    let server = start(&[], &data);
    assert!(!data.join("library/.upload-x1").exists());
    assert!(!data.join("library/health/.tmp-y2").exists());
    let cookie = format!("Cookie: hl_p={}\r\n", "7".repeat(32));
    assert!(
        get(server.port, "/m/agriculture/trau-bo-mua-ret", &cookie).starts_with("HTTP/1.1 200")
    );
    let moved: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".broken-"))
        .collect();
    assert!(
        moved
            .iter()
            .any(|n| n.starts_with("hoclieu.sqlite3.broken-") && !n.ends_with("-wal")),
        "{moved:?}"
    );
    // Counting works again in the new database.
    std::thread::sleep(Duration::from_millis(600));
    let conn = rusqlite::Connection::open(data.join("hoclieu.sqlite3")).unwrap();
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert!(n >= 1);
}

#[test]
fn a_broken_settings_file_is_named_and_the_library_is_served_anyway() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("hoclieu.toml");
    std::fs::write(&conf, "listen = \"cổng tám mươi\"\n").unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hoclieu"))
        .args(["serve", "--no-mdns", "--config"])
        .arg(&conf)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !get(port, "/healthz", "").starts_with("HTTP/1.1 200") {
        assert!(Instant::now() < deadline, "not serving");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(get(port, "/search?q=lua", "").starts_with("HTTP/1.1 200"));
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("hoclieu.toml") && err.contains("listen"),
        "{err}"
    );
    assert!(err.contains("WITHOUT the settings file"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    // `hoclieu config` (and doctor) still refuse it, naming the problem.
    let out = Command::new(env!("CARGO_BIN_EXE_hoclieu"))
        .args(["config", "--config"])
        .arg(&conf)
        .output()
        .unwrap();
    assert!(!out.status.success());
}

#[test]
fn running_out_of_file_descriptors_is_survived() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let port = free_port();
    // The server gets only 64 descriptors (its own files, the index and sockets).
    let child = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "ulimit -n 64 && exec {} serve --no-mdns --listen 127.0.0.1:{port} --data {}",
            env!("CARGO_BIN_EXE_hoclieu"),
            data.display()
        ))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(60);
    while !get(port, "/healthz", "").starts_with("HTTP/1.1 200") {
        assert!(Instant::now() < deadline, "not ready");
        std::thread::sleep(Duration::from_millis(100));
    }
    // Far more idle connections than it has descriptors.
    let hogs: Vec<TcpStream> = (0..120)
        .filter_map(|_| TcpStream::connect(("127.0.0.1", server.port)).ok())
        .collect();
    assert!(hogs.len() > 64);
    // They are cut after the header timeout; then an ordinary visitor is served again.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if get(server.port, "/", "").starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "the server did not recover");
        std::thread::sleep(Duration::from_millis(250));
    }
    drop(hogs);
    assert!(get(server.port, "/healthz", "").starts_with("HTTP/1.1 200"));
}

#[test]
fn sigterm_under_load_stops_within_ten_seconds_with_the_records_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut server = start(&[], &data);
    let port = server.port;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load: Vec<_> = (0..8)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut i = 0u32;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let cookie = format!("Cookie: hl_p={:032x}\r\n", t * 1000 + i);
                    let _ = raw(
                        port,
                        &format!("GET /search?q=lua HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{cookie}\r\n"),
                    );
                    i += 1;
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let pid = server.child.id().to_string();
    let sent = Instant::now();
    Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    let status = loop {
        if let Some(s) = server.child.try_wait().unwrap() {
            break s;
        }
        assert!(
            sent.elapsed() < Duration::from_secs(10),
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    assert!(status.success(), "{status:?}");
    let conn = rusqlite::Connection::open(data.join("hoclieu.sqlite3")).unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let n: i64 = conn
        .query_row("SELECT COUNT(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert!(n > 0);
}
