//! Serving bytes: attachments and static assets, with Range, If-Range, conditional GET and HEAD
//! handled by `http-serve` for both embedded bytes and files on disk.

use std::ops::Range;
use std::pin::Pin;
use std::time::SystemTime;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, header};
use axum::response::Response;
use bytes::Bytes;
use futures_util::Stream;

use crate::content::source::{Blob, FileData};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Bytes held in memory (embedded in the binary).
pub struct MemoryEntity {
    data: Bytes,
    etag: HeaderValue,
    headers: HeaderMap,
}

impl MemoryEntity {
    /// Wraps bytes with their digest and content type.
    pub fn new(data: FileData, sha256: &[u8; 32], content_type: &str) -> MemoryEntity {
        let data = match data {
            std::borrow::Cow::Borrowed(b) => Bytes::from_static(b),
            std::borrow::Cow::Owned(v) => Bytes::from(v),
        };
        let tag = crate::content::hex(&sha256[..12]);
        let mut headers = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(content_type) {
            headers.insert(header::CONTENT_TYPE, v);
        }
        MemoryEntity {
            data,
            etag: HeaderValue::from_str(&format!("\"{tag}\""))
                .unwrap_or(HeaderValue::from_static("\"0\"")),
            headers,
        }
    }
}

impl http_serve::Entity for MemoryEntity {
    type Error = BoxError;
    type Data = Bytes;

    fn len(&self) -> u64 {
        self.data.len() as u64
    }

    fn get_range(
        &self,
        range: Range<u64>,
    ) -> Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send + Sync>> {
        let chunk = self.data.slice(range.start as usize..range.end as usize);
        Box::pin(futures_util::stream::once(async move { Ok(chunk) }))
    }

    fn add_headers(&self, h: &mut HeaderMap) {
        h.extend(self.headers.clone());
    }

    fn etag(&self) -> Option<HeaderValue> {
        Some(self.etag.clone())
    }

    fn last_modified(&self) -> Option<SystemTime> {
        None
    }
}

/// `Range: bytes=-0` asks for the last zero bytes: nothing can satisfy it (RFC 9110 §14.1.2),
/// yet http-serve answers 206 with an invalid `Content-Range`.
fn asks_only_empty_suffixes(h: &HeaderMap) -> bool {
    let Some(spec) = h
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return false;
    };
    spec.split(',').all(|r| {
        r.trim()
            .strip_prefix('-')
            .is_some_and(|n| n.trim().parse() == Ok(0u64))
    })
}

/// 416 with the length, as for any range outside the file.
fn unsatisfiable(blob: &Blob) -> std::io::Result<Response> {
    let len = match blob {
        Blob::Memory { data, .. } => data.len() as u64,
        Blob::File(f) => f.metadata()?.len(),
    };
    Response::builder()
        .status(axum::http::StatusCode::RANGE_NOT_SATISFIABLE)
        .header(header::CONTENT_RANGE, format!("bytes */{len}"))
        .body(Body::empty())
        .map_err(std::io::Error::other)
}

/// Serves an opened blob for `req` (GET or HEAD), with `content_type`.
pub fn serve<B>(blob: Blob, content_type: &str, req: &Request<B>) -> std::io::Result<Response> {
    if asks_only_empty_suffixes(req.headers()) {
        return unsatisfiable(&blob);
    }
    let response = match blob {
        Blob::Memory { data, sha256 } => {
            http_serve::serve(MemoryEntity::new(data, &sha256, content_type), req)
        }
        Blob::File(file) => {
            let mut headers = HeaderMap::new();
            if let Ok(v) = HeaderValue::from_str(content_type) {
                headers.insert(header::CONTENT_TYPE, v);
            }
            let entity = http_serve::ChunkedReadFile::<Bytes, BoxError>::new(file, headers)?;
            http_serve::serve(entity, req)
        }
    };
    // Fused: http-serve's file stream panics if polled again after its end, and the
    // compression layer does poll once more (a download cut short, a worker panic).
    Ok(response.map(|body| {
        let length = http_body::Body::size_hint(&body).exact();
        let stream = futures_util::StreamExt::fuse(Body::new(body).into_data_stream());
        match length {
            // An empty body (HEAD, 304) stays empty, with the headers http-serve set.
            Some(0) => Body::empty(),
            _ => Body::from_stream(stream),
        }
    }))
}
