//! `/admin/materials`: staff write and edit materials in the browser (form fields and a
//! Markdown body with preview), undo a save, hide starter materials, and download the centre's
//! package. Saves go to the centre library in the format of `content/`, with the replaced
//! version kept, and are searchable as soon as the page comes back.

use askama::Template;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::confirm::{self, Confirm, confirmed};
use super::session::{
    DRAFT_BACK, DRAFT_GONE, Draftable, EditorForm, Staff, StaffError, StaffForm, StaffNav, framed,
    login_cookie,
};
use crate::content::centre::CentreLibrary;
use crate::content::material::{self, Parsed};
use crate::content::{Category, Library};
use crate::web::error::AppError;
use crate::web::extract::{Params, category_field};
use crate::web::offload::blocking;
use crate::web::page::{Site, render};
use crate::web::state::AppState;

#[derive(Template)]
#[template(path = "admin_materials.html")]
struct ListPage {
    site: Site,
    nav: StaffNav,
    message: Option<String>,
    problems: Vec<String>,
    /// (id, title, field, the centre's own)
    materials: Vec<(String, String, &'static str, bool)>,
    hidden: Vec<String>,
    /// ZIM collections: (name, title, URL, articles, where its checking and indexing are).
    collections: Vec<(String, String, String, u32, String)>,
    /// ZIM files not served, with their reasons.
    zim_refused: Vec<String>,
    /// Where ZIM files go.
    zim_dir: String,
}

/// What just happened, shown on the next page.
#[derive(Debug, Default, Deserialize)]
pub struct Done {
    id: Option<String>,
    done: Option<String>,
    /// Show the form this browser posted after its session had expired.
    draft: Option<String>,
}

/// Where a collection's search index is, in words.
/// The editor's address, before its query.
const EDIT_PAGE: &str = "/admin/materials/edit?";

fn index_status(p: Option<crate::collections::index::Progress>) -> String {
    match p {
        Some(p) if p.done == u32::MAX => "không lập được chỉ mục tìm kiếm (xem nhật ký)".into(),
        Some(p) if p.complete() => "tìm kiếm được".into(),
        Some(p) => {
            let left = p
                .seconds_left()
                .map(|s| format!(", còn khoảng {} phút", s.div_ceil(60)))
                .unwrap_or_default();
            format!("đang lập chỉ mục: {} / {} bài{left}", p.done, p.total)
        }
        None => "chờ lập chỉ mục".into(),
    }
}

/// `GET /admin/materials`.
pub async fn list(
    State(state): State<AppState>,
    Staff(s): Staff,
    Params(q): Params<Done>,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let catalog = state.catalog()?;
        let lib = &catalog.library;
        let hidden = match state.centre_library() {
            Ok(c) => c.hidden()?.into_iter().collect(),
            Err(_) => Vec::new(),
        };
        let message = match q.done.as_deref() {
            Some("hidden") => Some("Đã ẩn tài liệu.".to_string()),
            Some("shown") => Some("Tài liệu đã hiện lại.".to_string()),
            Some("zim") => Some(
                "Đã thêm tệp ZIM. Máy kiểm tra cả tệp rồi làm chỉ mục tìm kiếm; trong lúc đó \
                 thư viện vẫn đọc được."
                    .to_string(),
            ),
            Some("zim-removed") => Some("Đã gỡ thư viện ZIM.".to_string()),
            _ => None,
        };
        Ok(render(&ListPage {
            site: Site::new(),
            nav: StaffNav::of(&s),
            message,
            problems: lib
                .problems()
                .iter()
                .map(ToString::to_string)
                .chain(state.staff.unread_documents.lock().map_or_else(
                    |_| Vec::new(),
                    |m| {
                        m.iter()
                            .map(|(rel, (_, why))| format!("{rel}: {why}"))
                            .collect()
                    },
                ))
                .collect(),
            materials: lib
                .materials()
                .iter()
                .map(|m| {
                    (
                        m.id.clone(),
                        m.title.clone(),
                        m.category.name_vi(),
                        !lib.is_starter(m),
                    )
                })
                .collect(),
            hidden,
            collections: {
                let unchecked = state.collections.unchecked();
                state
                    .collections
                    .list()
                    .iter()
                    .map(|c| {
                        let status = if unchecked.contains(&c.name) {
                            "đang kiểm tra tệp".to_string()
                        } else {
                            index_status(state.collections.progress(&c.name))
                        };
                        (c.name.clone(), c.title.clone(), c.url(), c.articles, status)
                    })
                    .collect()
            },
            zim_refused: state
                .collections
                .refused()
                .into_iter()
                .map(|r| format!("{}: {}", r.file, r.reason))
                .collect(),
            zim_dir: state.collections.dir().display().to_string(),
        })?
        .into_response())
    })
    .await
}

#[derive(Template)]
#[template(path = "admin_material.html")]
struct EditPage {
    site: Site,
    nav: StaffNav,
    id: String,
    p: Parsed,
    tags: String,
    updated: String,
    starter: bool,
    has_history: bool,
    preview: Option<String>,
    message: Option<String>,
    attachments: Vec<ShownFile>,
    /// The script that inserts a file's line at the cursor.
    editor_js: String,
}

/// An attached file as the editor shows it.
struct ShownFile {
    /// File name.
    name: String,
    /// Its library path (what the remove button names).
    rel: String,
    /// Its page.
    url: String,
    /// Whether it is a picture (shown in the text, not linked).
    image: bool,
    /// The link target as written in this material's text (a name beside the material).
    dest: String,
    /// The words of the link or the picture's description, until the teacher writes theirs.
    text: &'static str,
    /// The line to copy into the text.
    markdown: String,
    /// Whether the file is the centre's own (a starter library's file cannot be removed).
    removable: bool,
}

impl ShownFile {
    fn of(a: &crate::content::Attachment, centre: Option<&CentreLibrary>) -> ShownFile {
        let image = a.kind() == "image";
        // Link targets are relative to the material's folder, where uploads are put.
        let dest = if a
            .name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            a.name.clone()
        } else {
            format!("<{}>", a.name)
        };
        let text = if image {
            "Mô tả ảnh"
        } else {
            "Tải tệp"
        };
        ShownFile {
            markdown: format!("{}[{text}]({dest})", if image { "!" } else { "" }),
            name: a.name.clone(),
            rel: a.rel.clone(),
            url: a.url.clone(),
            image,
            dest,
            text,
            removable: centre.is_some_and(|c| own_file(c, &a.rel)),
        }
    }
}

/// Whether a library path is a file of the centre's own folder.
fn own_file(centre: &CentreLibrary, rel: &str) -> bool {
    centre.path_of(rel).is_ok_and(|p| p.is_file())
}

fn blank() -> Parsed {
    Parsed {
        title: String::new(),
        category: Category::Agriculture,
        language: "vi".into(),
        tags: Vec::new(),
        summary: String::new(),
        updated: None,
        featured: false,
        body: String::new(),
        converted_from: None,
        document: None,
    }
}

fn edit_page(
    state: &AppState,
    s: &crate::accounts::Session,
    lib: &Library,
    id: String,
    p: Parsed,
    preview: bool,
    message: Option<String>,
) -> Result<Response, AppError> {
    let starter = lib.get(&id).is_some_and(|m| lib.is_starter(m));
    let has_history = !id.is_empty()
        && state
            .centre_library()
            .ok()
            .and_then(|c| c.versions(&format!("{id}.md")).ok())
            .is_some_and(|v| !v.is_empty());
    let dir = id
        .rsplit_once('/')
        .map_or(p.category.slug(), |(d, _)| d)
        .to_string();
    let preview = preview
        .then(|| crate::content::markdown::to_html(&p.body, |dest| lib.resolve_link(&dir, dest)));
    let centre = state.centre_library().ok();
    let attachments = lib
        .get(&id)
        .map(|m| {
            m.attachments
                .iter()
                .map(|a| ShownFile::of(a, centre.as_ref()))
                .collect()
        })
        .unwrap_or_default();
    Ok(render(&EditPage {
        site: Site::new(),
        nav: StaffNav::of(s),
        tags: p.tags.join(", "),
        updated: p.updated.clone().unwrap_or_default(),
        id,
        p,
        starter,
        has_history,
        preview,
        message,
        attachments,
        editor_js: crate::web::assets::url("editor.js"),
    })?
    .into_response())
}

/// The editor's address (and the start of its query).
const EDITOR: &str = "/admin/materials/edit?";

/// `GET /admin/materials/edit?id=`: the form, empty for a new material; with `draft=1`, the
/// form this browser posted after its session had expired.
pub async fn edit(
    State(state): State<AppState>,
    Staff(s): Staff,
    headers: HeaderMap,
    Params(q): Params<Done>,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let catalog = state.catalog()?;
        if q.draft.is_some() {
            let path = EDITOR.trim_end_matches('?');
            let kept = login_cookie(&headers)
                .and_then(|login| state.staff.drafts.take(&login, path, state.now_ms()));
            if let Some(form) = kept {
                let f: SaveForm = serde_urlencoded::from_bytes(&form)
                    .map_err(|_| AppError::bad("Bản nháp không đọc được."))?;
                let id = f.id.clone().unwrap_or_default();
                if !id.is_empty() && catalog.library.get(&id).is_none() {
                    return Err(AppError::NotFound);
                }
                let p = parsed(&catalog.library, &id, f)?;
                return edit_page(
                    &state,
                    &s,
                    &catalog.library,
                    id,
                    p,
                    false,
                    Some(DRAFT_BACK.into()),
                );
            }
        }
        let id = q.id.unwrap_or_default();
        let p = if id.is_empty() {
            blank()
        } else {
            let m = catalog.library.get(&id).ok_or(AppError::NotFound)?;
            catalog.library.read(m)?
        };
        let message = match q.done.as_deref() {
            Some("saved") => Some("Đã lưu. Tài liệu đã có trên trang và trong tìm kiếm.".to_string()),
            Some("undone") => Some("Đã trở lại bản trước.".to_string()),
            Some("uploaded") => Some(
                "Đã thêm tệp. Để tệp hiện trong bài, chép dòng bên cạnh tệp vào nội dung (hoặc bấm \
                 «Chèn vào bài»), rồi bấm Lưu."
                    .to_string(),
            ),
            _ if q.draft.is_some() => Some(DRAFT_GONE.to_string()),
            Some("file-removed") => Some(
                "Đã xóa tệp (máy vẫn giữ một bản trong lịch sử). Nếu nội dung còn nhắc tới tệp, \
                 hãy bỏ dòng đó rồi bấm Lưu."
                    .to_string(),
            ),
            _ => None,
        };
        edit_page(&state, &s, &catalog.library, id, p, false, message)
    })
    .await
}

/// The edit form.
#[derive(Debug, Deserialize)]
pub struct SaveForm {
    action: Option<String>,
    id: Option<String>,
    title: Option<String>,
    category: Option<String>,
    summary: Option<String>,
    tags: Option<String>,
    updated: Option<String>,
    body: Option<String>,
}

/// A file-name stem from a title: its words lower case, without their marks (đ becomes d),
/// joined by `-` ("Xử lý nước" gives "xu-ly-nuoc"). The letters stay as typed: the search's
/// folding of spelling variants (lý/lí) is for finding, not for naming.
pub fn slug(title: &str) -> String {
    let mut out = String::new();
    for word in crate::content::ascii::words(title) {
        if out.len() + word.len() <= 60 {
            if !out.is_empty() {
                out.push('-');
            }
            out.push_str(&word);
        }
    }
    if out.is_empty() {
        "tai-lieu".into()
    } else {
        out
    }
}

/// The material as the form says it, over what `id` holds now (its language, whether it is
/// recommended).
fn parsed(lib: &Library, id: &str, f: SaveForm) -> Result<Parsed, AppError> {
    let old = lib.get(id).and_then(|m| lib.read(m).ok());
    Ok(Parsed {
        title: f.title.unwrap_or_default().trim().to_string(),
        category: category_field(f.category.as_deref())?,
        language: old
            .as_ref()
            .map_or_else(|| "vi".into(), |o| o.language.clone()),
        tags: f
            .tags
            .unwrap_or_default()
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect(),
        summary: f.summary.unwrap_or_default(),
        updated: f.updated.filter(|d| !d.trim().is_empty()),
        featured: old.as_ref().is_some_and(|o| o.featured),
        body: f.body.unwrap_or_default(),
        // What the form sends is Unicode: the file is saved as UTF-8.
        converted_from: None,
        // Still made from its document: the original stays its source.
        document: old.as_ref().and_then(|o| o.document.clone()),
    })
}

impl Draftable for SaveForm {
    fn draft_page(_: &str, f: &SaveForm) -> Option<String> {
        if f.action.as_deref() == Some("undo") {
            return None;
        }
        let mut ser = form_urlencoded::Serializer::new(String::from(EDITOR));
        ser.append_pair("id", f.id.as_deref().unwrap_or(""));
        ser.append_pair("draft", "1");
        Some(ser.finish())
    }
}

/// `POST /admin/materials/save`: preview, save or undo.
pub async fn save(
    State(state): State<AppState>,
    EditorForm(s, f): EditorForm<SaveForm>,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let catalog = state.catalog()?;
        let lib = &catalog.library;
        let mut id = f.id.clone().unwrap_or_default();
        if !id.is_empty() && lib.get(&id).is_none() {
            return Err(AppError::NotFound);
        }
        let centre = state.centre_library()?;
        if f.action.as_deref() == Some("undo") {
            let rel = format!("{id}.md");
            blocking(move || centre.undo(&rel)).await?;
            state.reload_library().await?;
            return Ok(redirect_to_edit(&id, "undone"));
        }
        let action = f.action.clone();
        let mut p = parsed(lib, &id, f)?;
        if p.title.is_empty() {
            return edit_page(
                &state,
                &s,
                lib,
                id,
                p,
                false,
                Some("Hãy đặt tên cho tài liệu.".into()),
            );
        }
        if action.as_deref() == Some("preview") {
            return edit_page(&state, &s, lib, id, p, true, None);
        }
        // A material saved without a date still counts as new: the home page lists materials
        // under "Mới cập nhật" by their date, and an undated one would never be shown there.
        if p.updated.is_none() {
            p.updated = Some(crate::clock::iso(super::dashboard::today(&state)));
        }
        let text = match material::write(&p) {
            Ok(t) => t,
            Err(e) => {
                let msg = format!("Chưa lưu được: {e}");
                return edit_page(&state, &s, lib, id, p, false, Some(msg));
            }
        };
        if id.is_empty() {
            // A new material: a free name in its field's folder.
            id = free_id(lib, p.category, &p.title, &[]);
        }
        let rel = format!("{id}.md");
        blocking(move || centre.save(&rel, text.as_bytes())).await?;
        state.reload_library().await?;
        tracing::info!(user = ?s.user, ?id, "material saved");
        Ok(redirect_to_edit(&id, "saved"))
    })
    .await
}

/// A new material's id: its field's folder and its title's slug, with "-2", "-3"… when that
/// is taken in `lib` or by `taken` (ids given out but not loaded yet).
pub fn free_id(lib: &Library, category: Category, title: &str, taken: &[String]) -> String {
    let stem = format!("{}/{}", category.slug(), slug(title));
    let mut id = stem.clone();
    let mut n = 2;
    while lib.get(&id).is_some() || lib.file(&format!("{id}.md")).is_some() || taken.contains(&id) {
        id = format!("{stem}-{n}");
        n += 1;
    }
    id
}

/// Back to the editor of `id`, saying what was done.
pub fn redirect_to_edit(id: &str, done: &str) -> Response {
    let mut ser = form_urlencoded::Serializer::for_suffix(EDIT_PAGE.to_string(), EDIT_PAGE.len());
    ser.append_pair("id", id);
    ser.append_pair("done", done);
    Redirect::to(&ser.finish()).into_response()
}

/// The hide and show buttons.
#[derive(Debug, Deserialize)]
pub struct HideForm {
    hide: Option<String>,
    show: Option<String>,
    confirm: Option<String>,
}

/// `POST /admin/materials/hide`.
pub async fn hide(
    State(state): State<AppState>,
    StaffForm(s, f): StaffForm<HideForm>,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let centre = state.centre_library()?;
        let (id, hide) = match (f.hide, f.show) {
            (Some(id), _) => (id, true),
            (None, Some(id)) => (id, false),
            _ => return Err(AppError::BadRequest("Không rõ tài liệu nào.".into())),
        };
        if hide && !confirmed(f.confirm.as_deref()) {
            let catalog = state.catalog()?;
            let title = catalog.library.get(&id).map_or(id.as_str(), |m| &m.title);
            return confirm::page(
                &s,
                Confirm {
                    heading: format!("Ẩn tài liệu «{title}»?"),
                    detail:
                        "Học viên sẽ không thấy tài liệu này trên trang và trong tìm kiếm nữa. \
                         Có thể hiện lại ở trang Tài liệu."
                            .into(),
                    action: "/admin/materials/hide".into(),
                    fields: vec![("hide", id)],
                    button: "Ẩn tài liệu",
                    back: "/admin/materials".into(),
                },
            );
        }
        let i = id.clone();
        blocking(move || centre.set_hidden(&i, hide)).await?;
        state.reload_library().await?;
        tracing::info!(user = ?s.user, ?id, hide, "material visibility changed");
        let done = if hide { "hidden" } else { "shown" };
        Ok(Redirect::to(&format!("/admin/materials?done={done}")).into_response())
    })
    .await
}

/// The remove button of an attached file.
#[derive(Debug, Deserialize)]
pub struct RemoveFileForm {
    id: Option<String>,
    file: Option<String>,
    confirm: Option<String>,
}

/// `POST /admin/materials/remove-file`: takes a wrong upload out of the library (after a
/// confirmation), keeping it in the history like every file the centre replaces.
pub async fn remove_file(
    State(state): State<AppState>,
    StaffForm(s, f): StaffForm<RemoveFileForm>,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let catalog = state.catalog()?;
        let centre = state.centre_library()?;
        let id = f.id.unwrap_or_default();
        let rel = f.file.unwrap_or_default();
        let m = catalog.library.get(&id).ok_or(AppError::NotFound)?;
        let file = m
            .attachments
            .iter()
            .find(|a| a.rel == rel)
            .ok_or_else(|| AppError::bad("Tài liệu này không có tệp đó."))?;
        if !own_file(&centre, &rel) {
            return Err(AppError::bad(
                "Tệp này thuộc thư viện mẫu, không xóa được. Có thể bỏ dòng nhắc tới nó trong nội dung.",
            ));
        }
        if !confirmed(f.confirm.as_deref()) {
            let mut back = form_urlencoded::Serializer::for_suffix(EDIT_PAGE.to_string(), EDIT_PAGE.len());
            back.append_pair("id", &id);
            return confirm::page(
                &s,
                Confirm {
                    heading: format!("Xóa tệp «{}»?", file.name),
                    detail: "Tệp sẽ không còn trong tài liệu và trên trang. Máy vẫn giữ một bản \
                             trong lịch sử."
                        .into(),
                    action: "/admin/materials/remove-file".into(),
                    fields: vec![("id", id.clone()), ("file", rel)],
                    button: "Xóa tệp",
                    back: back.finish(),
                },
            );
        }
        let r = rel.clone();
        blocking(move || centre.remove(&r)).await?;
        state.reload_library().await?;
        tracing::info!(user = ?s.user, ?rel, "attachment removed");
        Ok(redirect_to_edit(&id, "file-removed"))
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::slug;

    #[test]
    fn ids_keep_the_letters_typed_without_their_marks() {
        assert_eq!(slug("Xử lý nước thải"), "xu-ly-nuoc-thai");
        assert_eq!(slug("Kỹ thuật nuôi ong"), "ky-thuat-nuoi-ong");
        assert_eq!(slug("Quy định đất đai"), "quy-dinh-dat-dai");
        assert_eq!(slug("Đồng bào H'Mông"), "dong-bao-hmong");
        // Decomposed input (marks as separate characters) gives the same id.
        assert_eq!(slug("Xu\u{31b} ly\u{301}"), "xu-ly");
        assert_eq!(slug("  !!  "), "tai-lieu");
    }
}
