//! The home page (fields, featured and recently updated materials) and a field's page.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Html;

use crate::content::{Category, Material};
use crate::web::error::AppError;
use crate::web::page::{Site, icon, render};
use crate::web::state::AppState;

/// A field card on the home page.
pub struct FieldCard {
    category: Category,
    icon: String,
    count: usize,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage<'a> {
    site: Site,
    centre: &'a str,
    fields: Vec<FieldCard>,
    featured: Vec<&'a Material>,
    recent: Vec<&'a Material>,
    collections: Vec<std::sync::Arc<crate::collections::Collection>>,
}

/// `GET /`.
pub async fn home(State(state): State<AppState>) -> Result<Html<String>, AppError> {
    let catalog = state.catalog()?;
    let counts = catalog.library.counts();
    let fields = Category::ALL
        .iter()
        .map(|&c| FieldCard {
            category: c,
            icon: icon(c),
            count: counts.get(&c).copied().unwrap_or(0),
        })
        .collect();
    Ok(render(&HomePage {
        site: Site::new(),
        centre: state.site.centre(),
        fields,
        featured: catalog.library.featured(),
        recent: catalog.library.recently_updated(5),
        collections: state.collections.list(),
    })?)
}

#[derive(Template)]
#[template(path = "category.html")]
struct CategoryPage<'a> {
    site: Site,
    category: Category,
    icon: String,
    featured: Vec<&'a Material>,
    items: Vec<&'a Material>,
}

/// `GET /c/{category}`.
pub async fn category(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> Result<Html<String>, AppError> {
    let category: Category = slug.parse().map_err(|_| AppError::NotFound)?;
    let catalog = state.catalog()?;
    Ok(render(&CategoryPage {
        site: Site::new(),
        category,
        icon: icon(category),
        featured: catalog
            .library
            .featured()
            .into_iter()
            .filter(|m| m.category == category)
            .collect(),
        items: catalog.library.in_category(category),
    })?)
}
