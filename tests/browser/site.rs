//! The box under test: the real `hoclieu` binary serving a temp copy of the fixture library (with
//! large attachments added), its own data folder, staff accounts and a published lesson, on a
//! free port of 127.0.0.1. Stopped (by its own pid) when dropped.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::http::Plain;

/// The manager's account.
pub const MANAGER: &str = "quanly";
/// The teacher's account.
pub const TEACHER: &str = "giaovien";
/// Both accounts' password.
pub const PASSWORD: &str = "mat-khau-thu-nghiem";

/// The published lesson written into the data folder.
pub const LESSON: &str = "k7mua";

/// The material whose attachments are larger than one compression buffer, in `--library`.
pub const BIG_MATERIAL: &str = "agriculture/so-tay-bon-phan";
/// Its attachments (library-relative) and their sizes.
pub const BIG_FILES: [(&str, usize); 2] = [
    ("agriculture/so-tay-bon-phan.pdf", 200 * 1024),
    ("agriculture/so-tay-bon-phan.mp3", 150 * 1024),
];
/// A material of the centre's own layer (`DATA/library`), so the backup holds a large file too.
pub const CENTRE_FILE: (&str, usize) = ("health/tiem-chung-lich.pdf", 120 * 1024);

/// Longest the server may take to answer `/healthz`.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// A running box.
pub struct Site {
    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub base: String,
    /// The `--library` folder.
    pub library: PathBuf,
    /// The `--data` folder.
    pub data: PathBuf,
    /// The server's standard error (its log).
    log: PathBuf,
    child: Child,
    /// Keeps the folders alive as long as the server.
    dir: tempfile::TempDir,
}

/// The binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_hoclieu")
}

/// A `hoclieu` command that sees none of this machine's settings (no `HOCLIEU_*`, an empty
/// settings file instead of `/etc/hoclieu/hoclieu.toml`).
pub fn hoclieu(config: &Path) -> Command {
    let mut cmd = Command::new(binary());
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("HOCLIEU_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOCLIEU_CONFIG", config);
    cmd
}

/// SHA-256 as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Deterministic filler: `n` bytes after `head`, half short repeated Vietnamese text and half
/// pseudo-random bytes, so gzip shrinks it some but not all.
fn filler(head: &[u8], n: usize, seed: u64) -> Vec<u8> {
    let mut out = head.to_vec();
    let mut x = seed;
    let text = "Bón phân đúng lúc, đúng liều. ".as_bytes();
    while out.len() < n {
        for &b in text {
            out.push(b);
        }
        for _ in 0..64 {
            // xorshift64: cheap, reproducible noise.
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push((x >> 24) as u8);
        }
    }
    out.truncate(n);
    out
}

/// Writes the large attachments, their material, the centre's own material and the lesson.
fn prepare(library: &Path, data: &Path) {
    let agri = library.join("agriculture");
    std::fs::write(
        agri.join("so-tay-bon-phan.md"),
        "+++\n\
         title = \"Sổ tay bón phân cho lúa và ngô\"\n\
         category = \"agriculture\"\n\
         tags = [\"phân bón\", \"lúa\", \"ngô\"]\n\
         summary = \"Sổ tay in được và bài nghe về bón phân.\"\n\
         updated = 2026-11-20\n\
         +++\n\
         # Sổ tay bón phân\n\n\
         Tải [sổ tay (PDF)](so-tay-bon-phan.pdf) và nghe [bài giảng](so-tay-bon-phan.mp3).\n",
    )
    .unwrap();
    let (pdf, pdf_len) = BIG_FILES[0];
    let (mp3, mp3_len) = BIG_FILES[1];
    std::fs::write(
        library.join(pdf),
        filler(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n", pdf_len, 7),
    )
    .unwrap();
    // An ID3v2 tag header, then MPEG-1 layer III frame syncs.
    let mp3_head = b"ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb\x90\x64";
    std::fs::write(library.join(mp3), filler(mp3_head, mp3_len, 11)).unwrap();

    let centre = data.join("library/health");
    std::fs::create_dir_all(&centre).unwrap();
    std::fs::write(
        centre.join("tiem-chung.md"),
        "+++\n\
         title = \"Lịch tiêm chủng cho trẻ\"\n\
         category = \"health\"\n\
         tags = [\"tiêm chủng\", \"trẻ em\"]\n\
         summary = \"Lịch tiêm chủng mở rộng, in ra dán ở nhà.\"\n\
         updated = 2026-11-25\n\
         +++\n\
         # Lịch tiêm chủng\n\n\
         Tải [lịch (PDF)](tiem-chung-lich.pdf).\n",
    )
    .unwrap();
    let (name, len) = CENTRE_FILE;
    std::fs::write(
        data.join("library").join(name),
        filler(b"%PDF-1.4\n", len, 13),
    )
    .unwrap();

    let lessons = data.join("lessons");
    std::fs::create_dir_all(&lessons).unwrap();
    std::fs::write(
        lessons.join(format!("{LESSON}.toml")),
        format!(
            "code = \"{LESSON}\"\n\
             title = \"Chăm lúa vụ xuân khi trời rét\"\n\
             category = \"agriculture\"\n\
             audience = \"Hội phụ nữ thôn Nà Phặc\"\n\
             date = \"2026-12-05\"\n\
             notes = \"Mang theo sổ và bút.\"\n\
             published = true\n\
             author = \"{MANAGER}\"\n\n\
             [[item]]\nmaterial = \"agriculture/lua-vu-xuan\"\nnote = \"Đọc phần bón phân.\"\n\n\
             [[item]]\nmaterial = \"agriculture/trau-mua-ret\"\nnote = \"\"\n\n\
             [[item]]\nmaterial = \"{BIG_MATERIAL}\"\nnote = \"In sổ tay cho mỗi nhà.\"\n"
        ),
    )
    .unwrap();
}

impl Site {
    /// Prepares the folders and accounts, starts `hoclieu serve` and waits until it answers.
    pub async fn start() -> Site {
        Site::start_with("").await
    }

    /// [`Site::start`] with `settings` as the settings file (e.g. a district office's box).
    pub async fn start_with(settings: &str) -> Site {
        let dir = tempfile::tempdir().unwrap();
        let library = dir.path().join("library");
        let data = dir.path().join("data");
        copy_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/library"),
            &library,
        );
        std::fs::create_dir_all(&data).unwrap();
        prepare(&library, &data);
        let config = dir.path().join("hoclieu.toml");
        std::fs::write(&config, settings).unwrap();
        for (user, role) in [(MANAGER, "manager"), (TEACHER, "teacher")] {
            set_password(&config, &data, user, role);
        }
        let log = dir.path().join("server.log");
        let mut child = hoclieu(&config)
            .args(["serve", "--listen", "127.0.0.1:0", "--no-mdns"])
            .arg("--library")
            .arg(&library)
            .arg("--data")
            .arg(&data)
            .args(["--centre", "Trung tâm học tập cộng đồng xã Nà Phặc"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("starting hoclieu serve");
        let base = read_address(&mut child, &log);
        let site = Site {
            base,
            library,
            data,
            log,
            child,
            dir,
        };
        site.wait_ready().await;
        site
    }

    /// The full URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A scratch folder that lives as long as the site.
    pub fn scratch(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(&p).unwrap();
        p
    }

    /// The settings file every command of this site uses.
    pub fn config(&self) -> PathBuf {
        self.dir.path().join("hoclieu.toml")
    }

    /// The last lines of the server's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(15)..].join("\n")
    }

    async fn wait_ready(&self) {
        let plain = Plain::new();
        let start = Instant::now();
        loop {
            if let Ok(r) = plain.try_get(&self.url("/healthz"), None).await
                && r.status == 200
            {
                return;
            }
            assert!(
                start.elapsed() < START_TIMEOUT,
                "hoclieu did not answer /healthz with 200 within {START_TIMEOUT:?}; its log:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads `serve`'s first lines until the `http://127.0.0.1:PORT/` it listens on.
fn read_address(child: &mut Child, log: &Path) -> String {
    let url = |line: &str| {
        let at = line.find("http://127.0.0.1:")?;
        Some(line[at..].trim().trim_end_matches('/').to_string())
    };
    watch_stdout(child, START_TIMEOUT, url).unwrap_or_else(|| {
        panic!(
            "hoclieu serve printed no http://127.0.0.1:PORT/ address; its log:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        )
    })
}

/// Reads a child's standard output until `pick` finds what it wants in a line (and keeps
/// draining it after, so the child never blocks on a full pipe); `None` after `timeout`.
pub fn watch_stdout(
    child: &mut Child,
    timeout: Duration,
    pick: fn(&str) -> Option<String>,
) -> Option<String> {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if !sent && let Some(found) = pick(&line) {
                sent = tx.send(found).is_ok();
            }
        }
    });
    rx.recv_timeout(timeout).ok()
}

/// `hoclieu admin set-password`, the password piped on standard input.
fn set_password(config: &Path, data: &Path, user: &str, role: &str) {
    let mut child = hoclieu(config)
        .args(["admin", "set-password", "--user", user, "--role", role])
        .arg("--data")
        .arg(data)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting hoclieu admin set-password");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(format!("{PASSWORD}\n").as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "hoclieu admin set-password --user {user} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Copies a folder tree.
fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let dest = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
        } else {
            std::fs::copy(entry.path(), &dest).unwrap();
        }
    }
}
