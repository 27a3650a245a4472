//! `/admin/lessons`: teachers and managers create lessons, fill them with materials and notes,
//! reorder them and publish them. One form holds the whole lesson, so a reorder or an added
//! material never loses notes typed but not yet saved.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::confirm::{self, Confirm, confirmed};
use super::session::{
    DRAFT_BACK, DRAFT_GONE, Draftable, EditorForm, Staff, StaffError, StaffForm, StaffNav, framed,
    login_cookie,
};
use crate::lessons::{Item, Lesson, LessonStore, MAX_ITEMS};
use crate::search::Hit;
use crate::web::error::AppError;
use crate::web::extract::Params;
use crate::web::lesson_view::{ShownItem, lesson_addresses, shown_items};
use crate::web::offload::blocking;
use crate::web::page::{Site, render};
use crate::web::state::AppState;

/// Materials offered per search when adding to a lesson.
const FOUND: usize = 10;

#[derive(Template)]
#[template(path = "admin_lessons.html")]
struct ListPage {
    site: Site,
    nav: StaffNav,
    lessons: Vec<Lesson>,
}

/// `GET /admin/lessons`.
pub async fn list(
    State(store): State<LessonStore>,
    Staff(s): Staff,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let lessons = blocking(move || store.list()).await?.to_vec();
        Ok(render(&ListPage {
            site: Site::new(),
            nav: StaffNav::of(&s),
            lessons,
        })?
        .into_response())
    })
    .await
}

/// The new-lesson form.
#[derive(Debug, Deserialize)]
pub struct NewForm {
    title: Option<String>,
    category: Option<String>,
}

/// `POST /admin/lessons`: creates a draft and opens it.
pub async fn create(
    State(store): State<LessonStore>,
    StaffForm(s, f): StaffForm<NewForm>,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let category = crate::web::extract::category_field(f.category.as_deref())?;
        let title = f.title.unwrap_or_default().trim().to_string();
        let author = s.user.clone();
        let code = blocking(move || {
            let lesson = Lesson {
                code: store.new_code()?,
                title,
                category,
                audience: String::new(),
                date: String::new(),
                notes: String::new(),
                published: false,
                author,
                items: Vec::new(),
            };
            store.save(&lesson)?;
            Ok::<_, crate::lessons::LessonError>(lesson.code)
        })
        .await?;
        tracing::info!(user = ?s.user, ?code, "lesson created");
        Ok(Redirect::to(&format!("/admin/lessons/{code}")).into_response())
    })
    .await
}

#[derive(Template)]
#[template(path = "admin_lesson.html")]
struct EditPage {
    site: Site,
    nav: StaffNav,
    l: Lesson,
    items: Vec<ShownItem>,
    find: String,
    found: Vec<Found>,
    message: Option<String>,
    /// The full address learners open, or its path when the box knows none.
    address: String,
}

/// A material found to add, with what a teacher needs to choose it.
struct Found {
    hit: Hit,
    summary: String,
    /// Already in the lesson.
    added: bool,
}

/// The edit page's query: a search for materials to add, and what just happened.
#[derive(Debug, Default, Deserialize)]
pub struct EditQuery {
    find: Option<String>,
    done: Option<String>,
    /// Show the form this browser posted after its session had expired.
    draft: Option<String>,
}

async fn lesson(state: &AppState, code: String) -> Result<Lesson, AppError> {
    let store = state.lessons.clone();
    blocking(move || store.get(&code))
        .await?
        .ok_or(AppError::NotFound)
}

/// `GET /admin/lessons/{code}`; with `draft=1`, as this browser posted it after its session
/// had expired.
pub async fn edit(
    State(state): State<AppState>,
    Staff(s): Staff,
    Path(code): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Params(q): Params<EditQuery>,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let catalog = state.catalog()?;
        let mut l = lesson(&state, code).await?;
        let mut from_draft = false;
        if q.draft.is_some() {
            let kept = login_cookie(&headers)
                .and_then(|login| state.staff.drafts.take(&login, uri.path(), state.now_ms()));
            if let Some(form) = kept {
                let f: Fields = serde_urlencoded::from_bytes(&form)
                    .map_err(|_| AppError::bad("Bản nháp không đọc được."))?;
                f.apply(&mut l)?;
                from_draft = true;
            }
        }
        let find = q.find.unwrap_or_default();
        let found = if find.trim().is_empty() {
            Vec::new()
        } else {
            state
                .search(find.chars().take(300).collect(), None, FOUND, 0)
                .await?
                .hits
        };
        let found = found
            .into_iter()
            .map(|hit| Found {
                summary: catalog
                    .library
                    .get(&hit.id)
                    .map(|m| m.summary.clone())
                    .unwrap_or_default(),
                added: l.items.iter().any(|i| i.material == hit.id),
                hit,
            })
            .collect();
        let address = lesson_addresses(&state.site, &l)
            .into_iter()
            .next()
            .unwrap_or_else(|| l.url());
        let message = match q.done.as_deref() {
            _ if from_draft => Some(DRAFT_BACK.to_string()),
            _ if q.draft.is_some() => Some(DRAFT_GONE.to_string()),
            Some("saved") => Some("Đã lưu.".to_string()),
            Some("added") => Some("Đã thêm vào bài. Có thể thêm tài liệu khác ở dưới.".to_string()),
            Some("published") => Some(format!("Đã đăng. Học viên mở {address} để xem.")),
            _ => None,
        };
        Ok(render(&EditPage {
            site: Site::new(),
            nav: StaffNav::of(&s),
            items: shown_items(&l, &catalog, false),
            l,
            find,
            found,
            message,
            address,
        })?
        .into_response())
    })
    .await
}

/// The lesson form as posted: every field by name (the buttons name what to do).
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Puts what the form says into the lesson (not saved yet).
    fn apply(&self, l: &mut Lesson) -> Result<(), AppError> {
        if let Some(t) = self.get("title") {
            l.title = t.trim().to_string();
        }
        if self.get("category").is_some() {
            l.category = crate::web::extract::category_field(self.get("category"))?;
        }
        for (name, field) in [
            ("audience", &mut l.audience),
            ("date", &mut l.date),
            ("notes", &mut l.notes),
        ] {
            if let Some(v) = self.get(name) {
                *field = v.trim().to_string();
            }
        }
        for (i, item) in l.items.iter_mut().enumerate() {
            if let Some(n) = self.get(&format!("note_{i}")) {
                item.note = n.trim().to_string();
            }
        }
        Ok(())
    }
}

impl Draftable for Fields {
    fn draft_page(path: &str, f: &Fields) -> Option<String> {
        (f.get("action") != Some("delete")).then(|| format!("{path}?draft=1"))
    }
}

/// `POST /admin/lessons/{code}`: saves the form, then does what the pressed button says
/// (`save`, `publish`, `unpublish`, `find`, `add:ID`, `up:N`, `down:N`, `remove:N`, `delete`).
pub async fn update(
    State(state): State<AppState>,
    Path(code): Path<String>,
    EditorForm(s, fields): EditorForm<Fields>,
) -> Result<Response, StaffError> {
    framed(&s, async {
        let get = |name: &str| fields.get(name);
        let catalog = state.catalog()?;
        let mut l = lesson(&state, code).await?;
        let action = get("action").unwrap_or("save").to_string();
        if action == "delete" {
            if !confirmed(get("confirm")) {
                let here = format!("/admin/lessons/{}", l.code);
                return confirm::page(
                    &s,
                    Confirm {
                        heading: format!("Xóa bài học «{}»?", l.title),
                        detail:
                            "Bài học, thứ tự tài liệu và lời dặn sẽ mất hẳn, và học viên mở mã \
                             của bài sẽ không thấy gì nữa. Các tài liệu vẫn còn trong thư viện."
                                .into(),
                        action: here.clone(),
                        fields: vec![("action", "delete".into())],
                        button: "Xóa hẳn bài học",
                        back: here,
                    },
                );
            }
            let (c, store) = (l.code.clone(), state.lessons.clone());
            blocking(move || store.delete(&c)).await?;
            tracing::info!(user = ?s.user, code = ?l.code, "lesson deleted");
            return Ok(Redirect::to("/admin/lessons").into_response());
        }
        fields.apply(&mut l)?;
        let mut query = "?done=saved".to_string();
        let (verb, arg) = action.split_once(':').unwrap_or((action.as_str(), ""));
        let index = arg.parse::<usize>().ok().filter(|&i| i < l.items.len());
        match (verb, index) {
            ("save", _) => {}
            ("publish", _) => {
                l.published = true;
                query = "?done=published".into();
            }
            ("unpublish", _) => l.published = false,
            ("find", _) => query = with_find("found", get("find")),
            ("add", _) => {
                // The results stay, so that adding three materials takes one search.
                query = with_find("added", get("find"));
                if catalog.library.get(arg).is_none() {
                    return Err(AppError::BadRequest("Không có tài liệu này.".into()));
                }
                if l.items.len() >= MAX_ITEMS {
                    return Err(AppError::BadRequest(
                        "Một bài học có nhiều nhất 40 tài liệu.".into(),
                    ));
                }
                l.items.push(Item {
                    material: arg.to_string(),
                    note: String::new(),
                });
            }
            ("up", Some(i)) if i > 0 => l.items.swap(i, i - 1),
            ("down", Some(i)) if i + 1 < l.items.len() => l.items.swap(i, i + 1),
            ("up" | "down", Some(_)) => {}
            ("remove", Some(i)) => {
                l.items.remove(i);
            }
            _ => return Err(AppError::BadRequest("Không rõ việc cần làm.".into())),
        }
        let (code, store) = (l.code.clone(), state.lessons.clone());
        blocking(move || store.save(&l)).await?;
        Ok(Redirect::to(&format!("/admin/lessons/{code}{query}")).into_response())
    })
    .await
}

/// The editor's query after an action: what was done, and the search to show again.
fn with_find(done: &str, find: Option<&str>) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::from("?"));
    ser.append_pair("done", done);
    if let Some(f) = find.filter(|f| !f.trim().is_empty()) {
        ser.append_pair("find", f);
    }
    ser.finish()
}
