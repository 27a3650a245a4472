//! Files sent by staff (`/admin/materials/upload`, and the package import): streamed to a
//! temporary file beside their destination (so installing one is a rename), counted against a
//! limit as they arrive, never held in memory, and typed by their bytes, not their names. The
//! form's token must come before the file, so nothing is written for a forged form. A picture
//! gets smaller copies for the pages (`content::picture`), made off the async workers.

use std::collections::HashMap;

use axum::extract::{Multipart, State};
use axum::response::Response;
use tokio::io::AsyncWriteExt;

use super::materials::{redirect_to_edit, slug};
use super::session::{Staff, check_token};
use crate::content::picture::{self, PictureError};
use crate::web::error::AppError;
use crate::web::offload::blocking;
use crate::web::state::AppState;

/// Bytes kept from the start of a file for checking its type.
const HEAD_BYTES: usize = 8192;

/// Most bytes of all the text fields of one form together (a token, an id, a title): like every
/// small form's whole body, and counted as they arrive, so a huge field is refused (413)
/// without ever being held in memory.
pub const MAX_FIELDS_BYTES: usize = 64 * 1024;

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

/// The text fields and the files of a multipart form.
#[derive(Debug)]
pub struct Upload {
    /// Text fields by name.
    pub fields: HashMap<String, String>,
    /// The fields called `file`, in the order sent.
    pub files: Vec<Received>,
}

/// Most files one form may send (a teacher's folder of leaflets).
pub const MAX_FILES: usize = 50;

impl Upload {
    /// The first file, for forms that send one.
    pub fn file(self) -> Option<Received> {
        self.files.into_iter().next()
    }
}

/// Reads a multipart form whose files go into `dir`. `csrf` is the session token the form
/// must carry (before the files); `limit` bounds the files' sizes together (413 beyond it).
pub async fn receive(
    mut multipart: Multipart,
    dir: &std::path::Path,
    csrf: &str,
    limit: usize,
) -> Result<Upload, AppError> {
    let mut out = Upload {
        fields: HashMap::new(),
        files: Vec::new(),
    };
    let mut text_budget = MAX_FIELDS_BYTES;
    let mut total = 0usize;
    while let Some(mut field) = multipart.next_field().await.map_err(|e| broken(&e))? {
        let name = field.name().unwrap_or_default().to_string();
        if name != "file" {
            let text = read_text(&mut field, &mut text_budget).await?;
            out.fields.insert(name, text);
            continue;
        }
        if out.fields.get("token").map(String::as_str) != Some(csrf) {
            return Err(AppError::BadRequest(
                "Phiên làm việc không khớp. Hãy tải lại trang.".into(),
            ));
        }
        if out.files.len() >= MAX_FILES {
            return Err(AppError::bad(format!(
                "Mỗi lần gửi được nhiều nhất {MAX_FILES} tệp."
            )));
        }
        let file_name = field.file_name().unwrap_or("tep").to_string();
        let tmp = tempfile::Builder::new()
            .prefix(".upload-")
            .tempfile_in(dir)?;
        let (std_file, path) = tmp.into_parts();
        let mut file = tokio::fs::File::from_std(std_file);
        let (mut size, mut head) = (0usize, Vec::new());
        while let Some(chunk) = field.chunk().await.map_err(|e| broken(&e))? {
            size += chunk.len();
            total += chunk.len();
            if total > limit {
                return Err(AppError::TooLarge);
            }
            if head.len() < HEAD_BYTES {
                head.extend_from_slice(&chunk[..chunk.len().min(HEAD_BYTES - head.len())]);
            }
            file.write_all(&chunk).await?;
        }
        file.sync_all().await?;
        // A file input left empty still sends a part, with no name and no bytes.
        if size == 0 && file_name.is_empty() {
            continue;
        }
        out.files.push(Received {
            name: file_name,
            path,
            head,
            size,
        });
    }
    Ok(out)
}

/// A text field, read chunk by chunk within what is left of `budget` (413 beyond it).
async fn read_text(
    field: &mut axum::extract::multipart::Field<'_>,
    budget: &mut usize,
) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(|e| broken(&e))? {
        if chunk.len() > *budget {
            return Err(AppError::FieldTooLong);
        }
        *budget -= chunk.len();
        bytes.extend_from_slice(&chunk);
    }
    String::from_utf8(bytes).map_err(|_| AppError::bad("Biểu mẫu gửi lên không đọc được."))
}

/// A multipart read error: too large, or a broken upload.
fn broken(e: &axum::extract::multipart::MultipartError) -> AppError {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge
    } else {
        AppError::BadRequest("Tải tệp lên không trọn vẹn. Hãy thử lại.".into())
    }
}

/// The extension a file gets from what its bytes are, if it is a kind the library serves:
/// PDF, audio, video and pictures. The name the browser sent is never trusted for this.
pub fn kind_by_content(head: &[u8]) -> Option<&'static str> {
    let t = infer::get(head)?;
    Some(match t.mime_type() {
        "application/pdf" => "pdf",
        "audio/mpeg" => "mp3",
        "audio/m4a" | "audio/x-m4a" => "m4a",
        "audio/ogg" | "audio/opus" => "ogg",
        "audio/x-wav" | "audio/wav" => "wav",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => return None,
    })
}

/// `POST /admin/materials/upload` (multipart: `token`, `id`, `file`): attaches a file to a
/// material. It is streamed to disk, checked by content, named after the material so that it
/// belongs to it, and put in place whole.
pub async fn upload(
    State(state): State<AppState>,
    Staff(s): Staff,
    multipart: axum::extract::Multipart,
) -> Result<Response, AppError> {
    let bad = |m: &str| AppError::bad(m);
    let catalog = state.catalog()?;
    let centre = state.centre_library()?;
    let up = receive(multipart, centre.root(), &s.csrf, state.site.upload_limit).await?;
    // Also refuses a form without a file (the token is checked before any file is written).
    check_token(&s, up.fields.get("token").map(String::as_str))?;
    let id = up.fields.get("id").cloned().unwrap_or_default();
    let m = catalog
        .library
        .get(&id)
        .ok_or_else(|| bad("Không có tài liệu này."))?;
    let file = up.file().ok_or_else(|| bad("Hãy chọn một tệp."))?;
    if file.size == 0 {
        return Err(bad("Tệp rỗng."));
    }
    let ext = kind_by_content(&file.head).ok_or_else(|| {
        bad("Chỉ nhận tệp PDF, âm thanh (mp3, m4a, ogg, wav), video (mp4, webm) hoặc ảnh (jpg, png, gif, webp).")
    })?;
    let stem = file
        .name
        .rsplit_once('.')
        .map_or(file.name.as_str(), |(s, _)| s);
    let own_stem = m.id.rsplit('/').next().unwrap_or(&m.id);
    let rel = match m.id.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/{own_stem}-{}.{ext}", slug(stem)),
        None => format!("{own_stem}-{}.{ext}", slug(stem)),
    };
    let target = rel.clone();
    let size = file.size;
    blocking(move || -> Result<(), AppError> {
        // The copies go in first, so a new picture never reaches a page without them. A crash
        // in between leaves copies whose original is missing (the catalogue ignores them) or,
        // when the name was uploaded before, the old original with the new copies until the
        // picture is uploaded again.
        if picture::is_resizable(&target) {
            let copies = match picture::make_copies(&file.path) {
                Ok(c) => c,
                // Kept and served as it is; browsers may still show what the decoder cannot.
                Err(PictureError::Unreadable(e)) => {
                    tracing::warn!(rel = %target, error = %e, "picture not understood; no smaller copies");
                    Vec::new()
                }
                Err(e) => return Err(e.into()),
            };
            centre.put_copies(&target, &copies)?;
        }
        centre.put_file(&target, &file.path)?;
        Ok(())
    })
    .await?;
    state.reload_library().await?;
    tracing::info!(user = ?s.user, ?rel, bytes = size, "attachment uploaded");
    Ok(redirect_to_edit(&id, "uploaded"))
}
