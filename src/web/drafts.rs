//! Staff forms kept while their author logs in again: a material or a lesson posted after its
//! session had expired is held in memory (never on disk), under the login-form cookie of the
//! browser that posted it, until that browser has logged in and opened it again.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

/// Drafts kept at most (the oldest goes first): a material's form may be 2 MB.
const MAX_DRAFTS: usize = 16;

/// How long a draft waits for its author: as long as a session may last.
const KEEP_MS: i64 = crate::accounts::ABSOLUTE_TIMEOUT_MS;

#[derive(Debug)]
struct Draft {
    /// The login-form cookie of the browser that posted it.
    login: String,
    /// Where it is shown again (a path and query).
    page: String,
    /// The form as posted.
    form: Vec<u8>,
    /// When it was kept, by the trusted clock.
    at_ms: i64,
}

/// The drafts waiting for their authors.
#[derive(Debug, Default)]
pub struct Drafts(Mutex<VecDeque<Draft>>);

impl Drafts {
    fn with<T>(&self, now_ms: i64, f: impl FnOnce(&mut VecDeque<Draft>) -> T) -> T {
        let mut drafts = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        drafts.retain(|d| now_ms - d.at_ms <= KEEP_MS);
        f(&mut drafts)
    }

    /// Keeps a form to be shown again at `page`, in place of the browser's earlier draft.
    pub fn keep(&self, login: &str, page: String, form: Vec<u8>, now_ms: i64) {
        self.with(now_ms, |drafts| {
            drafts.retain(|d| d.login != login);
            if drafts.len() >= MAX_DRAFTS {
                drafts.pop_front();
            }
            drafts.push_back(Draft {
                login: login.to_string(),
                page,
                form,
                at_ms: now_ms,
            });
        });
    }

    /// Where the browser's draft is shown, if it has one.
    pub fn page(&self, login: &str, now_ms: i64) -> Option<String> {
        self.with(now_ms, |drafts| {
            drafts
                .iter()
                .find(|d| d.login == login)
                .map(|d| d.page.clone())
        })
    }

    /// The browser's draft for the page at `path`, given once.
    pub fn take(&self, login: &str, path: &str, now_ms: i64) -> Option<Vec<u8>> {
        self.with(now_ms, |drafts| {
            let i = drafts
                .iter()
                .position(|d| d.login == login && d.page.split('?').next() == Some(path))?;
            drafts.remove(i).map(|d| d.form)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_draft_goes_back_once_to_its_own_browser_and_not_for_ever() {
        let d = Drafts::default();
        d.keep(
            "a",
            "/admin/lessons/abcd?draft=1".into(),
            b"notes=x".to_vec(),
            0,
        );
        assert_eq!(d.page("b", 0), None);
        assert_eq!(d.take("b", "/admin/lessons/abcd", 0), None);
        assert_eq!(d.take("a", "/admin/lessons/other", 0), None);
        assert_eq!(
            d.page("a", 0).as_deref(),
            Some("/admin/lessons/abcd?draft=1")
        );
        assert_eq!(
            d.take("a", "/admin/lessons/abcd", 0).as_deref(),
            Some(&b"notes=x"[..])
        );
        assert_eq!(d.take("a", "/admin/lessons/abcd", 0), None);
        // A later post of the same browser replaces its draft; old drafts are dropped.
        d.keep("a", "/p?draft=1".into(), b"1".to_vec(), 0);
        d.keep("a", "/p?draft=1".into(), b"2".to_vec(), 0);
        assert_eq!(d.take("a", "/p", 1).as_deref(), Some(&b"2"[..]));
        d.keep("a", "/p?draft=1".into(), b"3".to_vec(), 0);
        assert_eq!(d.page("a", KEEP_MS + 1), None);
        // Memory is bounded: the oldest browser's draft goes first.
        for i in 0..=MAX_DRAFTS {
            d.keep(&i.to_string(), "/p".into(), Vec::new(), 0);
        }
        assert_eq!(d.page("0", 0), None);
        assert!(d.page(&MAX_DRAFTS.to_string(), 0).is_some());
    }
}
