//! Picks up library folders edited by hand or copied from a USB stick: changes are collected
//! for a moment (a copy touches many files) and then the catalogue is reloaded once.

use std::path::PathBuf;
use std::time::Duration;

use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};

use crate::web::AppState;

/// Quiet time after the last change before reloading.
pub const DEBOUNCE: Duration = Duration::from_millis(1500);

/// Watches `dirs` and reloads the library after they change. The returned guard stops the
/// watching when dropped; `None` when watching is impossible (reported, not fatal: the
/// library then changes only on restart or through the admin pages).
pub fn watch(
    dirs: Vec<PathBuf>,
    state: AppState,
) -> Option<notify_debouncer_mini::Debouncer<notify_debouncer_mini::notify::RecommendedWatcher>> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<()>(1);
    let mut debouncer = match new_debouncer(DEBOUNCE, move |res: DebounceEventResult| {
        match res {
            // A full channel means a reload is already due; that one will see this change.
            Ok(events) if !events.is_empty() => {
                let _ = tx.try_send(());
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "watching the library failed"),
        }
    }) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the library folders; changes need a restart");
            return None;
        }
    };
    for dir in &dirs {
        if let Err(e) = debouncer.watcher().watch(dir, RecursiveMode::Recursive) {
            tracing::warn!(error = %e, dir = %dir.display(), "cannot watch folder");
        }
    }
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            match state.reload_library().await {
                Ok(n) => tracing::info!(reindexed = n, "library folder changed; reloaded"),
                Err(e) => tracing::error!(error = %e, "reloading the library failed"),
            }
        }
    });
    Some(debouncer)
}
