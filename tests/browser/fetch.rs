//! A download as the page's own `fetch()` gets it (the browser asks for gzip/br): status,
//! Content-Encoding, bytes received before any network error, and their SHA-256 by
//! `crypto.subtle.digest`; optionally the bytes themselves.

use serde_json::json;

use crate::browser::Browser;

/// What the page received.
#[derive(Debug)]
pub struct Fetched {
    /// HTTP status (0 when the request itself failed).
    pub status: u64,
    /// The Content-Encoding the server chose.
    pub encoding: String,
    /// Bytes that arrived (after decoding).
    pub received: usize,
    /// SHA-256 of those bytes, hex.
    pub sha256: String,
    /// The error `fetch()` or reading the body raised, if any.
    pub error: Option<String>,
    /// The bytes, when asked for.
    pub bytes: Option<Vec<u8>>,
    /// What the browser's console said meanwhile (Chromium's net::ERR_... names).
    pub console: Vec<String>,
}

impl std::fmt::Display for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "status {}, Content-Encoding {:?}, {} bytes, sha256 {}",
            self.status, self.encoding, self.received, self.sha256
        )?;
        if let Some(e) = &self.error {
            write!(f, ", error {e:?}")?;
        }
        if !self.console.is_empty() {
            write!(f, ", console: {}", self.console.join(" | "))?;
        }
        Ok(())
    }
}

const FETCH_JS: &str = r#"
const [url, wantBytes, form, done] = arguments;
(async () => {
  const out = { status: 0, encoding: '', received: 0, sha256: '', error: null, hex: null };
  const chunks = [];
  try {
    const opts = { credentials: 'same-origin', cache: 'no-store' };
    if (form !== null) { opts.method = 'POST'; opts.body = new URLSearchParams(form); }
    const res = await fetch(url, opts);
    out.status = res.status;
    out.encoding = res.headers.get('content-encoding') || '';
    const reader = res.body.getReader();
    for (;;) {
      const { done: end, value } = await reader.read();
      if (end) break;
      chunks.push(value);
      out.received += value.length;
    }
  } catch (e) {
    out.error = String(e);
  }
  const all = new Uint8Array(out.received);
  let at = 0;
  for (const c of chunks) { all.set(c, at); at += c.length; }
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  out.sha256 = hex(new Uint8Array(await crypto.subtle.digest('SHA-256', all)));
  if (wantBytes) out.hex = hex(all);
  done(out);
})();
"#;

/// Fetches `path` from the page shown (same origin, with its cookies).
pub async fn fetch(b: &Browser, path: &str, want_bytes: bool) -> Fetched {
    fetch_with(b, path, want_bytes, None).await
}

/// Posts a form (`a=b&c=d`) to `path` from the page shown, as its own button would.
pub async fn fetch_post(b: &Browser, path: &str, want_bytes: bool, form: &str) -> Fetched {
    fetch_with(b, path, want_bytes, Some(form)).await
}

async fn fetch_with(b: &Browser, path: &str, want_bytes: bool, form: Option<&str>) -> Fetched {
    b.console().await;
    let v = b
        .js_async(FETCH_JS, vec![json!(path), json!(want_bytes), json!(form)])
        .await;
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    Fetched {
        status: v["status"].as_u64().unwrap_or(0),
        encoding: s("encoding"),
        received: v["received"].as_u64().unwrap_or(0) as usize,
        sha256: s("sha256"),
        error: v["error"].as_str().map(str::to_string),
        bytes: v["hex"].as_str().map(from_hex),
        console: b.console().await,
    }
}

fn from_hex(h: &str) -> Vec<u8> {
    (0..h.len() / 2)
        .map(|i| u8::from_str_radix(&h[2 * i..2 * i + 2], 16).expect("hex from the page"))
        .collect()
}

/// Whether what arrived is whole and equal to `len` bytes hashing to `sha256`; else why not.
pub fn whole(got: &Fetched, len: usize, sha256: &str) -> Result<(), String> {
    if got.status == 200 && got.error.is_none() && got.received == len && got.sha256 == sha256 {
        return Ok(());
    }
    Err(format!(
        "expected 200, {len} bytes, sha256 {sha256}; the browser got {got}"
    ))
}
