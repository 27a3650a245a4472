//! Work that blocks (disk, SQLite, CPU-heavy search) run off the async workers, with its
//! errors turned into `AppError` in one place instead of in every handler.

use super::error::AppError;

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
