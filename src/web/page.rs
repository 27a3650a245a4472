//! The page frame every HTML page shares: the site's header and footer values ([`Site`]),
//! rendering an askama template, and the error page.

use askama::Template;
use axum::response::Html;

use super::assets;
use crate::content::Category;

/// What every page needs for its header and footer.
pub struct Site {
    /// Centre or site name.
    pub name: &'static str,
    /// Stylesheet URL.
    pub css: String,
    /// Script URL.
    pub js: String,
    /// Icon URL.
    pub favicon: String,
    /// The four fields.
    pub fields: [Category; 4],
}

impl Default for Site {
    fn default() -> Self {
        Site::new()
    }
}

impl Site {
    /// The site-wide values.
    pub fn new() -> Site {
        Site {
            name: "Học liệu",
            css: assets::url("style.css"),
            js: assets::url("suggest.js"),
            favicon: assets::url("icons/logo.svg"),
            fields: Category::ALL,
        }
    }
}

/// A field's icon.
pub fn icon(c: Category) -> String {
    assets::url(&format!("icons/{}.svg", c.slug()))
}

/// Renders a template (a failure becomes a 500 through `AppError`'s `From`).
pub fn render(t: &impl Template) -> Result<Html<String>, askama::Error> {
    t.render().map(Html)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    site: Site,
    heading: &'a str,
    message: &'a str,
}

/// The error page's HTML; falls back to plain text if rendering fails.
pub fn error_page(heading: &str, message: &str) -> String {
    ErrorPage {
        site: Site::new(),
        heading,
        message,
    }
    .render()
    .unwrap_or_else(|_| format!("{heading}. {message}"))
}
