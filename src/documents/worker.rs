//! Reading a document in a worker process of its own: this program run again as
//! `hoclieu extract-worker`, given the file on standard input and bounded in memory and
//! processor time by the kernel (and in wall time here), so that a document that makes a
//! parser loop, recurse or allocate without end stops that worker and nothing else.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::{DocError, Document};

/// The bounds of one reading.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Wall time.
    pub time: Duration,
    /// Wall time when scanned pages are read by Tesseract too (seconds a page on a small box).
    pub scanned_time: Duration,
    /// Address space of the worker, bytes.
    pub memory: u64,
}

impl Default for Limits {
    fn default() -> Self {
        // A 500-page leaflet collection reads in a few seconds on a small box; a minute is
        // generous. 512 MB of address space keeps a runaway worker from pushing the server
        // into swap on a 1 GB box.
        Limits {
            time: Duration::from_secs(60),
            scanned_time: Duration::from_secs(20 * 60),
            memory: 512 << 20,
        }
    }
}

/// How the server starts workers: which program, and the bounds.
#[derive(Debug, Clone)]
pub struct Reader {
    program: PathBuf,
    limits: Limits,
}

/// The argument that makes the program a worker.
pub const WORKER_ARG: &str = "extract-worker";

/// Most bytes of answer a worker may write: the text of one material and its pictures (at
/// most 4 MB, a few characters a byte in JSON), as JSON.
const MAX_ANSWER_BYTES: u64 = 32 << 20;

impl Reader {
    /// Workers run `program` (the hoclieu binary).
    pub fn new(program: impl Into<PathBuf>, limits: Limits) -> Reader {
        Reader {
            program: program.into(),
            limits,
        }
    }

    /// Workers run this very program; `None` when it cannot be found.
    pub fn this_program() -> Option<Reader> {
        Some(Reader::new(
            std::env::current_exe().ok()?,
            Limits::default(),
        ))
    }

    /// Reads the document at `path` in a worker.
    pub async fn read(&self, path: &Path) -> Result<Document, DocError> {
        self.run(path, false).await
    }

    /// [`read`](Self::read), with scanned pages read by Tesseract (slow: minutes for a long
    /// scan on a small box, so the server does it in the background).
    pub async fn read_scanned(&self, path: &Path) -> Result<Document, DocError> {
        self.run(path, true).await
    }

    async fn run(&self, path: &Path, ocr: bool) -> Result<Document, DocError> {
        let time = if ocr {
            self.limits.scanned_time
        } else {
            self.limits.time
        };
        let input = std::fs::File::open(path).map_err(|e| DocError::Damaged(e.to_string()))?;
        let mut child = tokio::process::Command::new(&self.program)
            .arg(WORKER_ARG)
            .arg("--memory")
            .arg(self.limits.memory.to_string())
            .arg("--seconds")
            .arg(time.as_secs().max(1).to_string())
            .args(ocr.then_some("--ocr"))
            .stdin(input)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .env_remove("RUST_BACKTRACE")
            .env_remove("RUST_LIB_BACKTRACE")
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| DocError::Worker(format!("không chạy được: {e}")))?;
        let mut stdout = child
            .stdout
            .take()
            .ok_or_else(|| DocError::Worker("no output".into()))?;
        let work = async {
            let mut answer = Vec::new();
            (&mut stdout)
                .take(MAX_ANSWER_BYTES)
                .read_to_end(&mut answer)
                .await
                .map_err(|e| DocError::Worker(e.to_string()))?;
            let status = child
                .wait()
                .await
                .map_err(|e| DocError::Worker(e.to_string()))?;
            Ok::<_, DocError>((answer, status))
        };
        let (answer, status) = match tokio::time::timeout(time, work).await {
            Ok(r) => r?,
            // Dropping the future kills the worker (kill_on_drop).
            Err(_) => {
                return Err(DocError::Worker(format!("quá {} giây", time.as_secs())));
            }
        };
        match serde_json::from_slice::<Result<Document, DocError>>(&answer) {
            Ok(r) => r,
            Err(_) if !status.success() => Err(DocError::Worker(stopped(&status))),
            Err(e) => Err(DocError::Worker(format!("câu trả lời hỏng: {e}"))),
        }
    }
}

/// How a worker ended, in words.
fn stopped(status: &std::process::ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match status.signal() {
        Some(9) => "bị dừng (quá giờ)".into(),
        Some(24) => "quá thời gian xử lý".into(),
        Some(s) => format!("dừng giữa chừng (tín hiệu {s})"),
        None => "hết bộ nhớ hoặc lỗi khi đọc".into(),
    }
}

/// The worker's side: bounds itself, reads the document from standard input, and writes the
/// result as JSON on standard output.
pub fn serve(memory: u64, seconds: u64, ocr: bool) -> std::io::Result<()> {
    use rustix::process::{Resource, Rlimit, setrlimit};
    let limit = |r, v: u64| {
        setrlimit(
            r,
            Rlimit {
                current: Some(v),
                maximum: Some(v),
            },
        )
    };
    limit(Resource::As, memory)?;
    limit(Resource::Cpu, seconds)?;
    // A crash leaves no core file to fill the card.
    limit(Resource::Core, 0)?;
    // A parser's panic on one page is caught and that page skipped; its backtrace would read
    // the program's debug information, more memory than the worker is allowed.
    std::panic::set_hook(Box::new(|info| {
        let place = info.location().map(|l| l.to_string()).unwrap_or_default();
        eprintln!("hoclieu extract-worker: a parser stopped at {place}");
    }));
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)?;
    let ocr = if ocr { super::ocr::Ocr::find() } else { None };
    let result = super::read_with(&bytes, ocr.as_ref());
    drop(bytes);
    let out = serde_json::to_vec(&result).map_err(std::io::Error::other)?;
    std::io::Write::write_all(&mut std::io::stdout().lock(), &out)
}
