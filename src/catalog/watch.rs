//! Picks up library folders edited by hand or copied from a USB stick: changes are collected
//! until the folder has been quiet for a moment (a copy touches many files), then the
//! librarian reloads once, if the folders really differ from what it last read.
//!
//! Only changes to content count. Reading a file also raises events (open, access time), and
//! the reload reads every file: counting those would reload for ever.

use std::sync::Arc;
use std::time::Duration;

use notify::event::{EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use super::Librarian;
use crate::content::path::is_hidden;
use crate::lessons::LessonStore;

/// Quiet time after the last change before reloading.
pub const DEBOUNCE: Duration = Duration::from_millis(1500);
/// Longest a reload waits for a folder that keeps changing.
const MAX_WAIT: Duration = Duration::from_secs(30);

/// Whether an event means a file's content, name or existence changed.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(m) => !matches!(m, ModifyKind::Metadata(_)),
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    }
}

/// Watches the librarian's folders and the lessons folder, and reloads after they change. The
/// returned watcher stops when dropped; `None` when watching is impossible (reported, not
/// fatal: the library then changes only on restart or through the admin pages).
pub fn watch(librarian: Arc<Librarian>, lessons: LessonStore) -> Option<RecommendedWatcher> {
    let mut dirs = librarian.folders();
    dirs.push(lessons.dir().to_path_buf());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let handler = move |res: notify::Result<notify::Event>| match res {
        Ok(event) if changes_content(&event.kind) => {
            tracing::debug!(kind = ?event.kind, paths = ?event.paths, "library folder event");
            // Hidden files are never part of the library (editors' swap files, our temporaries).
            let visible = event.paths.iter().any(|p| {
                p.file_name()
                    .is_some_and(|n| !is_hidden(&n.to_string_lossy()))
            });
            if visible {
                let _ = tx.send(());
            }
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "watching the library failed"),
    };
    let mut watcher = match notify::recommended_watcher(handler) {
        Ok(w) => w,
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch the library folders; changes need a restart");
            return None;
        }
    };
    for dir in &dirs {
        if let Err(e) = watcher.watch(dir, RecursiveMode::Recursive) {
            tracing::warn!(error = %e, dir = %dir.display(), "cannot watch folder");
        }
    }
    tokio::spawn(async move {
        while rx.recv().await.is_some() {
            // Wait until no change has come for a while (or long enough).
            let deadline = tokio::time::Instant::now() + MAX_WAIT;
            while tokio::time::Instant::now() < deadline
                && let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await
            {}
            // Lessons copied or edited by hand are read again too.
            lessons.invalidate();
            let l = Arc::clone(&librarian);
            match tokio::task::spawn_blocking(move || l.reload_if_changed()).await {
                Ok(Ok(Some(n))) => {
                    tracing::info!(reindexed = n, "library folder changed; reloaded")
                }
                Ok(Ok(None)) => tracing::debug!("library folder events, nothing new"),
                Ok(Err(e)) => tracing::error!(error = %e, "reloading the library failed"),
                Err(e) => tracing::error!(error = %e, "reloading the library failed"),
            }
        }
    });
    Some(watcher)
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{AccessKind, CreateKind, DataChange, MetadataKind, RemoveKind};

    #[test]
    fn reading_files_is_not_a_change() {
        assert!(!changes_content(&EventKind::Access(AccessKind::Any)));
        assert!(!changes_content(&EventKind::Modify(ModifyKind::Metadata(
            MetadataKind::AccessTime
        ))));
        assert!(changes_content(&EventKind::Create(CreateKind::File)));
        assert!(changes_content(&EventKind::Remove(RemoveKind::File)));
        assert!(changes_content(&EventKind::Modify(ModifyKind::Data(
            DataChange::Content
        ))));
    }
}
