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

/// 416 with the length `len`, as for any range outside the file.
fn unsatisfiable(len: u64) -> Response {
    Response::builder()
        .status(axum::http::StatusCode::RANGE_NOT_SATISFIABLE)
        .header(header::CONTENT_RANGE, format!("bytes */{len}"))
        .body(Body::empty())
        .unwrap_or_default()
}

/// Serves an opened blob for `req` (GET or HEAD), with `content_type`.
pub fn serve<B>(blob: Blob, content_type: &str, req: &Request<B>) -> std::io::Result<Response> {
    if asks_only_empty_suffixes(req.headers()) {
        let len = match &blob {
            Blob::Memory { data, .. } => data.len() as u64,
            Blob::File(f) => f.metadata()?.len(),
        };
        return Ok(unsatisfiable(len));
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
    Ok(fused(response))
}

/// The response with its body fused: http-serve's streams (and `unfold`) panic if polled again
/// after their end, and the compression layer does poll once more (a download cut short, a
/// worker panic).
fn fused<B>(response: http::Response<B>) -> Response
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    response.map(|body| {
        let length = http_body::Body::size_hint(&body).exact();
        let stream = futures_util::StreamExt::fuse(Body::new(body).into_data_stream());
        match length {
            // An empty body (HEAD, 304) stays empty, with the headers http-serve set.
            Some(0) => Body::empty(),
            _ => Body::from_stream(stream),
        }
    })
}

/// An item of a ZIM collection: a small one held in memory, a big one (stored uncompressed)
/// read from the archive a chunk at a time on the blocking pool.
pub struct ZimEntity {
    archive: std::sync::Arc<crate::zim::Archive>,
    blob: crate::zim::Blob,
    etag: HeaderValue,
    headers: HeaderMap,
}

/// Bytes read from a ZIM file per chunk of a big item.
const ZIM_CHUNK: u64 = 64 * 1024;

impl ZimEntity {
    /// The item `blob` of `archive`, entry `entry`, of type `content_type`, with `headers`
    /// added to the response.
    pub fn new(
        archive: std::sync::Arc<crate::zim::Archive>,
        blob: crate::zim::Blob,
        entry: u32,
        content_type: &str,
        mut headers: HeaderMap,
    ) -> ZimEntity {
        if let Ok(v) = HeaderValue::from_str(content_type) {
            headers.insert(header::CONTENT_TYPE, v);
        }
        // The archive's uuid changes with each edition: with the entry, it names the bytes.
        let tag = format!("\"{}-{entry}\"", crate::content::hex(&archive.uuid()[..8]));
        ZimEntity {
            archive,
            blob,
            etag: HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"0\"")),
            headers,
        }
    }
}

impl http_serve::Entity for ZimEntity {
    type Error = BoxError;
    type Data = Bytes;

    fn len(&self) -> u64 {
        self.blob.len()
    }

    fn get_range(
        &self,
        range: Range<u64>,
    ) -> Pin<Box<dyn Stream<Item = Result<Bytes, BoxError>> + Send + Sync>> {
        let (archive, blob) = (std::sync::Arc::clone(&self.archive), self.blob.clone());
        Box::pin(futures_util::stream::unfold(range.start, move |at| {
            let (archive, blob) = (std::sync::Arc::clone(&archive), blob.clone());
            let end = range.end;
            async move {
                if at >= end {
                    return None;
                }
                let n = (end - at).min(ZIM_CHUNK) as usize;
                let read = tokio::task::spawn_blocking(move || {
                    let mut buf = vec![0u8; n];
                    archive
                        .read_blob_at(&blob, at, &mut buf)
                        .map(|got| Bytes::from(buf).slice(..got))
                })
                .await;
                let chunk: Result<Bytes, BoxError> = match read {
                    Ok(Ok(b)) if !b.is_empty() => Ok(b),
                    Ok(Ok(_)) => Err("ZIM item ended early".into()),
                    Ok(Err(e)) => Err(Box::new(e)),
                    Err(e) => Err(Box::new(e)),
                };
                // After an error the stream ends: the next state is past the end.
                let next = match &chunk {
                    Ok(b) => at + b.len() as u64,
                    Err(_) => end,
                };
                Some((chunk, next))
            }
        }))
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

/// Serves a ZIM item for `req` (GET or HEAD), with Range and conditional requests.
pub fn serve_zim<B>(entity: ZimEntity, req: &Request<B>) -> Response {
    if asks_only_empty_suffixes(req.headers()) {
        return unsatisfiable(entity.blob.len());
    }
    fused(http_serve::serve(entity, req))
}
