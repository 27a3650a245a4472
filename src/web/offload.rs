//! Work that blocks (disk, SQLite, CPU-heavy search) run off the async workers, with its
//! errors turned into `AppError` in one place instead of in every handler.

use crate::content::Category;
use crate::search::Results;
use crate::web::error::AppError;
use crate::web::state::AppState;

/// Runs `f` on the blocking pool; its error (and a panic) become an [`AppError`].
pub async fn blocking<T, E>(
    f: impl FnOnce() -> Result<T, E> + Send + 'static,
) -> Result<T, AppError>
where
    T: Send + 'static,
    E: Into<AppError> + Send + 'static,
{
    tokio::task::spawn_blocking(f).await?.map_err(Into::into)
}

/// Runs a search, waiting in line for a core (one search per core at a time, in order).
pub async fn search(
    state: &AppState,
    q: String,
    category: Option<Category>,
    limit: usize,
    offset: usize,
) -> Result<Results, AppError> {
    let catalog = state.catalog()?;
    let _permit = state
        .search_permits
        .0
        .acquire()
        .await
        .map_err(|_| AppError::Starting)?;
    blocking(move || {
        catalog
            .index
            .search(&catalog.library, &q, category, limit, offset)
    })
    .await
}
