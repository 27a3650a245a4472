//! Receiving a file from a multipart form: streamed to a temporary file beside its destination
//! (so installing it is a rename), counted against a limit as it arrives, never held in memory.
//! The form's token must come before the file, so nothing is written for a forged form.

use std::collections::HashMap;

use axum::extract::Multipart;
use tokio::io::AsyncWriteExt;

use crate::web::error::AppError;

/// Bytes kept from the start of a file for checking its type.
const HEAD_BYTES: usize = 8192;

/// A file received to disk.
#[derive(Debug)]
pub struct Received {
    /// The name the browser sent (never used as a path).
    pub name: String,
    /// Where it is; removed when dropped unless moved away first.
    pub path: tempfile::TempPath,
    /// Its first bytes.
    pub head: Vec<u8>,
    /// Its size.
    pub size: usize,
}

/// The text fields and the one file of a multipart form.
#[derive(Debug)]
pub struct Upload {
    /// Text fields by name.
    pub fields: HashMap<String, String>,
    /// The field called `file`, if sent.
    pub file: Option<Received>,
}

/// Reads a multipart form whose file goes into `dir`. `csrf` is the session token the form
/// must carry (before the file); `limit` bounds the file's size (413 beyond it).
pub async fn receive(
    mut multipart: Multipart,
    dir: &std::path::Path,
    csrf: &str,
    limit: usize,
) -> Result<Upload, AppError> {
    let mut out = Upload {
        fields: HashMap::new(),
        file: None,
    };
    while let Some(mut field) = multipart.next_field().await.map_err(|e| broken(&e))? {
        let name = field.name().unwrap_or_default().to_string();
        if name != "file" {
            let text = field.text().await.map_err(|e| broken(&e))?;
            out.fields.insert(name, text);
            continue;
        }
        if out.fields.get("token").map(String::as_str) != Some(csrf) {
            return Err(AppError::BadRequest(
                "Phiên làm việc không khớp. Hãy tải lại trang.".into(),
            ));
        }
        let file_name = field.file_name().unwrap_or("tep").to_string();
        let tmp = tempfile::Builder::new()
            .prefix(".upload-")
            .tempfile_in(dir)
            .map_err(internal)?;
        let (std_file, path) = tmp.into_parts();
        let mut file = tokio::fs::File::from_std(std_file);
        let (mut size, mut head) = (0usize, Vec::new());
        while let Some(chunk) = field.chunk().await.map_err(|e| broken(&e))? {
            size += chunk.len();
            if size > limit {
                return Err(AppError::TooLarge);
            }
            if head.len() < HEAD_BYTES {
                head.extend_from_slice(&chunk[..chunk.len().min(HEAD_BYTES - head.len())]);
            }
            file.write_all(&chunk).await.map_err(internal)?;
        }
        file.sync_all().await.map_err(internal)?;
        out.file = Some(Received {
            name: file_name,
            path,
            head,
            size,
        });
    }
    Ok(out)
}

fn internal(e: std::io::Error) -> AppError {
    AppError::Internal(crate::Error::Io(e))
}

/// A multipart read error: too large, or a broken upload.
fn broken(e: &axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge
    } else {
        AppError::BadRequest("Tải tệp lên không trọn vẹn. Hãy thử lại.".into())
    }
}
