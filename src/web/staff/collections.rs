//! `/admin/collections`: a manager adds a ZIM file from the browser (a Wikipedia is gigabytes,
//! so it streams to disk beside the shelf and is opened before it is put there) or takes one
//! off the shelf. Copying the file into `DATA/zim` by hand does the same.

use axum::extract::{Multipart, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::confirm::{self, Confirm, confirmed};
use super::session::{Manager, ManagerForm, StaffError, check_token, framed};
use super::uploads::receive;
use crate::web::error::AppError;
use crate::web::offload::blocking;
use crate::web::state::AppState;

/// Largest ZIM accepted from the browser (the full Vietnamese Wikipedia with pictures is
/// ~10 GB; a bigger file comes on a USB stick).
pub const MAX_ZIM_BYTES: u64 = 16 << 30;

/// Space kept free on the card beyond the file, for the records and the collection's index.
const KEEP_FREE_BYTES: u64 = 512 << 20;

/// The body limit of the upload route, on this machine's word size.
pub fn body_limit() -> usize {
    usize::try_from(MAX_ZIM_BYTES).unwrap_or(usize::MAX)
}

/// `POST /admin/collections` (multipart: `token`, `file`): adds a `.zim` file to the shelf.
pub async fn upload(
    State(state): State<AppState>,
    Manager(s): Manager,
    multipart: Multipart,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let dir = state.collections.dir().to_path_buf();
        std::fs::create_dir_all(&dir)?;
        // What the card can take, less what must stay free: past it the upload stops (413).
        let free = free_bytes(&dir).saturating_sub(KEEP_FREE_BYTES);
        let limit = usize::try_from(free.min(MAX_ZIM_BYTES)).unwrap_or(usize::MAX);
        let up = match receive(multipart, &dir, &s.csrf, limit).await {
            Err(AppError::TooLarge) if free < MAX_ZIM_BYTES => {
                return Err(AppError::bad(format!(
                    "Thẻ nhớ không đủ chỗ: còn trống {} (cần giữ {} cho sổ ghi và chỉ mục). \
                     Hãy xóa bớt tệp cũ hoặc chép tệp bằng USB vào ổ lớn hơn.",
                    crate::content::human_size(free.saturating_add(KEEP_FREE_BYTES)),
                    crate::content::human_size(KEEP_FREE_BYTES)
                )));
            }
            other => other?,
        };
        check_token(&s, up.fields.get("token").map(String::as_str))?;
        let file = up
            .file()
            .ok_or_else(|| AppError::bad("Hãy chọn một tệp .zim."))?;
        let stem = zim_stem(&file.name).ok_or_else(|| {
            AppError::bad(
                "Chỉ nhận tệp .zim. Tệp ZIM chia nhỏ (.zimaa, .zimab…) hãy chép bằng USB vào thư mục ZIM.",
            )
        })?;
        let shelf = std::sync::Arc::clone(&state.collections);
        let added = blocking(move || {
            // Opened (header, directory, metadata) before it goes on the shelf: a file that
            // is not a ZIM, or is cut short, is refused here with its reason.
            let archive = crate::zim::Archive::open(&file.path)
                .map_err(|e| AppError::bad(format!("Tệp «{}» không dùng được: {e}", file.name)))?;
            drop(archive);
            let dest = shelf.dir().join(format!("{stem}.zim"));
            file.path.persist_noclobber(&dest).map_err(|e| {
                if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                    AppError::bad(format!(
                        "Đã có tệp «{stem}.zim». Hãy gỡ thư viện cũ trước, hoặc đổi tên tệp."
                    ))
                } else {
                    AppError::internal(e.error)
                }
            })?;
            crate::fsutil::sync_dir(shelf.dir())?;
            shelf.rescan();
            Ok::<_, AppError>(stem)
        })
        .await?;
        tracing::info!(file = %added, by = %s.user, "ZIM file added from the staff area");
        Ok(Redirect::to("/admin/materials?done=zim#zim").into_response())
    })
    .await
}

/// The remove button.
#[derive(Debug, serde::Deserialize)]
pub struct RemoveForm {
    name: Option<String>,
    confirm: Option<String>,
}

/// `POST /admin/collections/remove` (form: `token`, `name`, `confirm`): after the confirmation
/// page, takes a collection off the shelf and deletes its file (a split archive's parts too)
/// and its index.
pub async fn remove(
    State(state): State<AppState>,
    ManagerForm(s, f): ManagerForm<RemoveForm>,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let shelf = std::sync::Arc::clone(&state.collections);
        let name = f.name.unwrap_or_default();
        let c = shelf.get(&name).ok_or(AppError::NotFound)?;
        if !confirmed(f.confirm.as_deref()) {
            return confirm::page(
                &s,
                Confirm {
                    heading: format!("Gỡ thư viện «{}»?", c.title),
                    detail: format!(
                        "Tệp {} và chỉ mục tìm kiếm của nó sẽ bị xóa khỏi máy ({} bài). Số liệu \
                         người đọc đã ghi vẫn còn trong báo cáo.",
                        c.file.file_name().unwrap_or_default().to_string_lossy(),
                        c.articles
                    ),
                    action: "/admin/collections/remove".into(),
                    fields: vec![("name", name)],
                    button: "Gỡ thư viện",
                    back: "/admin/materials#zim".into(),
                },
            );
        }
        let who = s.user.clone();
        blocking(move || {
            for part in crate::zim::split_parts(&c.file) {
                match std::fs::remove_file(&part) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(AppError::internal(e)),
                }
            }
            crate::fsutil::sync_dir(shelf.dir())?;
            // The rescan drops it, closes its index and removes the index folder.
            shelf.rescan();
            tracing::info!(collection = %c.name, by = %who, "ZIM collection removed from the staff area");
            Ok::<_, AppError>(())
        })
        .await?;
        Ok(Redirect::to("/admin/materials?done=zim-removed#zim").into_response())
    })
    .await
}

/// The file name's stem when it names a whole `.zim` file, made safe to be a file name: what
/// the browser sends is never used as a path.
fn zim_stem(sent: &str) -> Option<String> {
    // Some browsers send a whole path; only its last part is the name.
    let base = sent.rsplit(['/', '\\']).next()?;
    let stem = base
        .strip_suffix(".zim")
        .or_else(|| base.strip_suffix(".ZIM"))?;
    let safe: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let safe = safe.trim_matches('_').to_string();
    Some(if safe.is_empty() {
        "thu-vien".to_string()
    } else {
        safe
    })
}

/// Bytes free for this program on the file system of `dir` (`u64::MAX` when it cannot be
/// told, and the upload is bounded by its own limit alone).
fn free_bytes(dir: &std::path::Path) -> u64 {
    rustix::fs::statvfs(dir).map_or(u64::MAX, |s| s.f_bavail.saturating_mul(s.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::zim_stem;

    #[test]
    fn sent_names_become_safe_stems() {
        assert_eq!(
            zim_stem("wikipedia_vi_all_mini_2024-05.zim").as_deref(),
            Some("wikipedia_vi_all_mini_2024-05")
        );
        assert_eq!(
            zim_stem("C:\\Users\\a\\Tài liệu.zim").as_deref(),
            Some("T_i_li_u")
        );
        assert_eq!(zim_stem("../../etc/passwd.zim").as_deref(), Some("passwd"));
        assert_eq!(zim_stem("...zim").as_deref(), Some("thu-vien"));
        assert_eq!(zim_stem("wiki.zimaa"), None);
        assert_eq!(zim_stem("anh.png"), None);
        assert_eq!(zim_stem(""), None);
    }
}
