//! Every page a visitor or a staff member opens, with the fixture site's own ids and codes: the
//! list the overflow, accessibility and screenshot checks walk.

use crate::site::{BIG_MATERIAL, LESSON};

/// A page to look at.
#[derive(Debug, Clone)]
pub struct Page {
    /// A short name for messages and screenshot files.
    pub name: &'static str,
    /// Its path and query.
    pub path: String,
}

fn page(name: &'static str, path: impl Into<String>) -> Page {
    Page {
        name,
        path: path.into(),
    }
}

/// The public pages, the login page among them (looked at before logging in).
pub fn public_pages() -> Vec<Page> {
    vec![
        page("home", "/"),
        page("field", "/c/agriculture"),
        page("material", "/m/agriculture/lua-vu-xuan"),
        page("material-attachments", format!("/m/{BIG_MATERIAL}")),
        page("search", "/search?q=l%C3%BAa"),
        page(
            "search-none",
            "/search?q=m%C3%A1y%20c%C3%A0y%20h%C6%B0%20h%E1%BB%8Fng",
        ),
        // Nothing about keeping bees: near matches under "Có thể liên quan".
        page("search-partial", "/search?q=nu%C3%B4i%20ong%20m%E1%BA%ADt"),
        page("lesson", format!("/l/{LESSON}")),
        page("handout", format!("/l/{LESSON}/in")),
        page("profile", "/ve-ban"),
        page("poster", "/poster"),
        page("login", "/admin/login"),
    ]
}

/// The staff pages (a manager sees them all).
pub fn staff_pages() -> Vec<Page> {
    vec![
        page("admin", "/admin"),
        page("admin-materials", "/admin/materials"),
        page("editor", "/admin/materials/edit?id=agriculture/lua-vu-xuan"),
        page("editor-new", "/admin/materials/edit"),
        page("admin-lessons", "/admin/lessons"),
        page("lesson-editor", format!("/admin/lessons/{LESSON}")),
        page(
            "lesson-editor-found",
            format!("/admin/lessons/{LESSON}?find=l%C3%BAa"),
        ),
        page("admin-accounts", "/admin/accounts"),
        page("admin-packages", "/admin/packages"),
    ]
}
