//! The centre's own library folder (`DATA/library`), layered over the starter library: materials
//! saved from the browser or imported from packages, the previous versions of every file it
//! replaces (`DATA/history`), and the starter materials the centre chose to hide.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::content::path::is_safe_rel;
use crate::content::picture;
use crate::content::{Library, Source};
use crate::data_dir::DataDir;
use crate::fsutil;

/// Errors of the centre library.
#[derive(Debug, thiserror::Error)]
pub enum CentreError {
    /// Reading or writing failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The path would leave the library or names a hidden file.
    #[error("unusable library path {0:?}")]
    BadPath(String),
    /// No earlier version to go back to.
    #[error("no earlier version of {0}")]
    NoHistory(String),
    /// The settings file is damaged.
    #[error("library settings: {0}")]
    Settings(String),
}

/// What `DATA/library.toml` holds.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Settings {
    /// Starter materials not shown.
    #[serde(default)]
    hidden: BTreeSet<String>,
}

/// One earlier version of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    /// When it was replaced, ms since the epoch (its name in the history folder).
    pub replaced_at: i64,
    /// Where it is kept.
    pub path: PathBuf,
}

/// The centre's library folder and its history.
#[derive(Debug, Clone)]
pub struct CentreLibrary {
    root: PathBuf,
    history: PathBuf,
    settings: PathBuf,
    /// Names history entries; the system clock when not given.
    clock: Option<Arc<Clock>>,
}

impl CentreLibrary {
    /// Opens (creating if needed) the centre library under the data folder.
    pub fn open(data_dir: &Path) -> std::io::Result<CentreLibrary> {
        let data = DataDir::new(data_dir);
        let root = data.library();
        std::fs::create_dir_all(&root)?;
        Ok(CentreLibrary {
            root: root.canonicalize()?,
            history: data.history(),
            settings: data.library_settings(),
            clock: None,
        })
    }

    /// Names history entries by `clock` (the server's trusted clock).
    pub fn with_clock(mut self, clock: Arc<Clock>) -> CentreLibrary {
        self.clock = Some(clock);
        self
    }

    fn now_ms(&self) -> i64 {
        match &self.clock {
            Some(c) => c.now_ms(),
            None => crate::clock::now_ms(),
        }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `base` with this folder layered over it.
    pub fn over(&self, base: Source) -> Source {
        Source::Layered(vec![base, Source::Dir(self.root.clone())])
    }

    /// The library as the server shows it: `base` with this folder layered over it, minus the
    /// hidden materials. An unreadable hidden list is logged and hides nothing, so a damaged
    /// `library.toml` never takes the library away. With a `manifest`, files unchanged since
    /// it was saved are not read again.
    pub fn library(&self, base: Source, manifest: Option<&Path>) -> Library {
        let hidden = self.hidden().unwrap_or_else(|e| {
            tracing::warn!(error = %e, "library settings unreadable; nothing hidden");
            Default::default()
        });
        match manifest {
            Some(m) => Library::load_cached(self.over(base), &hidden, m),
            None => Library::load_hiding(self.over(base), &hidden),
        }
    }

    /// Ids of the materials to leave out.
    pub fn hidden(&self) -> Result<BTreeSet<String>, CentreError> {
        Ok(self.read_settings()?.hidden)
    }

    /// Hides or shows a material.
    pub fn set_hidden(&self, id: &str, hide: bool) -> Result<(), CentreError> {
        let mut s = self.read_settings()?;
        if hide {
            s.hidden.insert(id.to_string());
        } else {
            s.hidden.remove(id);
        }
        let text = toml::to_string(&s).map_err(|e| CentreError::Settings(e.to_string()))?;
        fsutil::write_atomic(&self.settings, text.as_bytes())?;
        Ok(())
    }

    fn read_settings(&self) -> Result<Settings, CentreError> {
        match std::fs::read_to_string(&self.settings) {
            Ok(t) => toml::from_str(&t).map_err(|e| CentreError::Settings(e.to_string())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Settings::default()),
            Err(e) => Err(e.into()),
        }
    }

    /// The file on disk for a library path, if the path is acceptable.
    pub fn path_of(&self, rel: &str) -> Result<PathBuf, CentreError> {
        if !valid_rel(rel) {
            return Err(CentreError::BadPath(rel.to_string()));
        }
        Ok(self.root.join(rel))
    }

    /// Writes a file, keeping the version it replaces in the history.
    pub fn save(&self, rel: &str, bytes: &[u8]) -> Result<(), CentreError> {
        let path = self.path_of(rel)?;
        self.keep_previous(rel, &path)?;
        fsutil::write_atomic(&path, bytes)?;
        Ok(())
    }

    /// Moves a finished file (already written and synced elsewhere on the same disk) into
    /// place, keeping the version it replaces.
    pub fn put_file(&self, rel: &str, file: &Path) -> Result<(), CentreError> {
        let path = self.path_of(rel)?;
        self.keep_previous(rel, &path)?;
        match fsutil::rename_durably(file, &path) {
            Ok(()) => Ok(()),
            // Another file system (a staging folder elsewhere): copy, then swap in atomically.
            Err(e) if e.kind() == std::io::ErrorKind::CrossesDevices => {
                fsutil::write_atomic(&path, &std::fs::read(file)?)?;
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Puts the smaller copies of the picture `rel` beside it, replacing any earlier ones (of a
    /// picture uploaded under the same name before); with none, only removes the earlier ones.
    /// Copies are made again whenever the original changes, so no history is kept of them.
    pub fn put_copies(&self, rel: &str, copies: &[picture::SizedCopy]) -> Result<(), CentreError> {
        let path = self.path_of(rel)?;
        let name = rel.rsplit('/').next().unwrap_or(rel);
        // Every name is checked before anything is written.
        let targets = copies
            .iter()
            .map(|c| self.path_of(&picture::copy_name(rel, c.size)))
            .collect::<Result<Vec<_>, _>>()?;
        let Some(dir) = path.parent() else {
            return Err(CentreError::BadPath(rel.to_string()));
        };
        std::fs::create_dir_all(dir)?;
        for (c, target) in copies.iter().zip(&targets) {
            fsutil::write_atomic(target, &c.jpeg)?;
        }
        for entry in std::fs::read_dir(dir)?.flatten() {
            let stale = entry.file_name().to_str().is_some_and(|other| {
                picture::parse_copy_name(other).is_some_and(|(o, _)| o == name)
            }) && !targets.contains(&entry.path());
            if stale {
                std::fs::remove_file(entry.path())?;
            }
        }
        fsutil::sync_dir(dir)?;
        Ok(())
    }

    /// Removes a file from the library, keeping it in the history.
    pub fn remove(&self, rel: &str) -> Result<(), CentreError> {
        let path = self.path_of(rel)?;
        self.keep_previous(rel, &path)?;
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        if let Some(dir) = path.parent() {
            fsutil::sync_dir(dir)?;
        }
        Ok(())
    }

    /// Earlier versions of a file, newest first.
    pub fn versions(&self, rel: &str) -> Result<Vec<Version>, CentreError> {
        if !valid_rel(rel) {
            return Err(CentreError::BadPath(rel.to_string()));
        }
        let dir = self.history.join(rel);
        let mut out = Vec::new();
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
            Err(e) => return Err(e.into()),
        };
        for e in entries.flatten() {
            if let Some(ms) = e.file_name().to_str().and_then(|n| n.parse::<i64>().ok()) {
                out.push(Version {
                    replaced_at: ms,
                    path: e.path(),
                });
            }
        }
        out.sort_by_key(|v| std::cmp::Reverse(v.replaced_at));
        Ok(out)
    }

    /// Puts back the most recent earlier version (the current one goes to the history, so an
    /// undo can itself be undone).
    pub fn undo(&self, rel: &str) -> Result<(), CentreError> {
        let latest = self
            .versions(rel)?
            .into_iter()
            .next()
            .ok_or_else(|| CentreError::NoHistory(rel.to_string()))?;
        let bytes = std::fs::read(&latest.path)?;
        self.save(rel, &bytes)?;
        std::fs::remove_file(&latest.path)?;
        Ok(())
    }

    fn keep_previous(&self, rel: &str, path: &Path) -> Result<(), CentreError> {
        let old = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e.into()),
        };
        let dir = self.history.join(rel);
        // Names must grow with every save, whatever the clock does: undo takes the highest.
        // A clock set back (or two saves in one millisecond) must not put a newer version
        // below an older one.
        let newest = self
            .versions(rel)?
            .first()
            .map_or(i64::MIN, |v| v.replaced_at);
        let ms = self.now_ms().max(newest.saturating_add(1));
        fsutil::write_atomic(&dir.join(ms.to_string()), &old)?;
        Ok(())
    }
}

/// A library path the centre may write: one that follows the shared rule
/// ([`check_rel`](crate::content::path::check_rel)) and is at most 255 bytes in all, with no
/// `:` (not allowed in names on FAT and NTFS file systems).
pub fn valid_rel(rel: &str) -> bool {
    is_safe_rel(rel) && rel.len() <= 255 && !rel.contains(':')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_keep_history_and_undo_goes_back() {
        let d = tempfile::tempdir().unwrap();
        let lib = CentreLibrary::open(d.path()).unwrap();
        lib.save("health/a.md", b"v1").unwrap();
        lib.save("health/a.md", b"v2").unwrap();
        assert_eq!(
            std::fs::read(lib.root().join("health/a.md")).unwrap(),
            b"v2"
        );
        assert_eq!(lib.versions("health/a.md").unwrap().len(), 1);
        lib.undo("health/a.md").unwrap();
        assert_eq!(
            std::fs::read(lib.root().join("health/a.md")).unwrap(),
            b"v1"
        );
        // The undone version is kept, so the undo can be undone.
        lib.undo("health/a.md").unwrap();
        assert_eq!(
            std::fs::read(lib.root().join("health/a.md")).unwrap(),
            b"v2"
        );
        lib.remove("health/a.md").unwrap();
        assert!(!lib.root().join("health/a.md").exists());
        lib.undo("health/a.md").unwrap();
        assert_eq!(
            std::fs::read(lib.root().join("health/a.md")).unwrap(),
            b"v2"
        );
    }

    #[test]
    fn undo_after_the_clock_went_back_restores_the_latest_version() {
        let d = tempfile::tempdir().unwrap();
        let now = Arc::new(std::sync::atomic::AtomicI64::new(2_000_000_000_000));
        let reading = Arc::clone(&now);
        let clock = Arc::new(Clock::with_source(
            0,
            Box::new(move || reading.load(std::sync::atomic::Ordering::SeqCst)),
        ));
        let lib = CentreLibrary::open(d.path()).unwrap().with_clock(clock);
        lib.save("health/a.md", b"v1").unwrap();
        lib.save("health/a.md", b"v2").unwrap();
        // The box's clock is reset a day back (a power cut without a clock battery).
        now.fetch_sub(86_400_000, std::sync::atomic::Ordering::SeqCst);
        lib.save("health/a.md", b"v3").unwrap();
        lib.undo("health/a.md").unwrap();
        assert_eq!(
            std::fs::read(lib.root().join("health/a.md")).unwrap(),
            b"v2",
            "undo must go back to the version just replaced"
        );
        // And undoing the undo brings back the newest text.
        lib.undo("health/a.md").unwrap();
        assert_eq!(
            std::fs::read(lib.root().join("health/a.md")).unwrap(),
            b"v3"
        );
    }

    #[test]
    fn undo_goes_back_to_the_latest_version_even_after_the_clock_went_back() {
        let d = tempfile::tempdir().unwrap();
        let lib = CentreLibrary::open(d.path()).unwrap();
        lib.save("health/a.md", b"v0").unwrap();
        lib.save("health/a.md", b"v1").unwrap();
        // v0 was replaced while the clock was a day ahead.
        let kept = &lib.versions("health/a.md").unwrap()[0];
        let ahead = crate::clock::now_ms() + 24 * 60 * 60 * 1000;
        std::fs::rename(&kept.path, kept.path.with_file_name(ahead.to_string())).unwrap();
        lib.save("health/a.md", b"v2").unwrap();
        lib.undo("health/a.md").unwrap();
        assert_eq!(
            std::fs::read(lib.root().join("health/a.md")).unwrap(),
            b"v1"
        );
    }

    #[test]
    fn new_copies_of_a_picture_replace_its_old_ones_and_no_others() {
        let d = tempfile::tempdir().unwrap();
        let lib = CentreLibrary::open(d.path()).unwrap();
        let copy = |width, height| picture::SizedCopy {
            size: picture::Dimensions { width, height },
            jpeg: vec![0xff, 0xd8],
        };
        let names = || {
            let mut v: Vec<String> = std::fs::read_dir(lib.root().join("health"))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        lib.save("health/a.jpg", b"landscape").unwrap();
        lib.save("health/b.jpg", b"other").unwrap();
        lib.put_copies("health/a.jpg", &[copy(480, 360)]).unwrap();
        lib.put_copies("health/b.jpg", &[copy(480, 360)]).unwrap();
        // The same name uploaded again, now a portrait photo.
        lib.put_copies("health/a.jpg", &[copy(480, 640), copy(1280, 1707)])
            .unwrap();
        assert_eq!(
            names(),
            [
                "a.jpg",
                "a.jpg.1280x1707.jpg",
                "a.jpg.480x640.jpg",
                "b.jpg",
                "b.jpg.480x360.jpg"
            ]
        );
        lib.put_copies("health/a.jpg", &[]).unwrap();
        assert_eq!(names(), ["a.jpg", "b.jpg", "b.jpg.480x360.jpg"]);
    }

    #[test]
    fn refuses_paths_leaving_the_folder() {
        let d = tempfile::tempdir().unwrap();
        let lib = CentreLibrary::open(d.path()).unwrap();
        for bad in [
            "../x.md",
            "/etc/passwd",
            "a//b.md",
            ".hidden.md",
            "a\\b.md",
            "a/./b",
            "",
        ] {
            assert!(
                matches!(lib.save(bad, b"x"), Err(CentreError::BadPath(_))),
                "{bad}"
            );
        }
        assert!(!d.path().join("x.md").exists());
    }

    #[test]
    fn centre_paths_are_also_short_and_colon_free() {
        assert!(valid_rel("nông-nghiệp/lúa vụ xuân.md"));
        assert!(valid_rel(&"a".repeat(255)));
        assert!(!valid_rel(&"a".repeat(256)));
        assert!(!valid_rel("a:b.md"));
        assert!(!valid_rel("c:/x.md"));
    }

    #[test]
    fn the_library_layers_the_folder_over_the_base_and_leaves_hidden_materials_out() {
        let material = |title: &str| {
            format!("+++\ntitle = \"{title}\"\ncategory = \"health\"\n+++\nNội dung.\n")
        };
        let base = tempfile::tempdir().unwrap();
        std::fs::create_dir(base.path().join("health")).unwrap();
        for id in ["a", "b"] {
            std::fs::write(base.path().join(format!("health/{id}.md")), material(id)).unwrap();
        }
        let d = tempfile::tempdir().unwrap();
        let lib = CentreLibrary::open(d.path()).unwrap();
        lib.save("health/b.md", material("b, the centre's copy").as_bytes())
            .unwrap();
        lib.save("health/c.md", material("c").as_bytes()).unwrap();
        lib.set_hidden("health/a", true).unwrap();
        let source = || Source::dir(base.path()).unwrap();
        let ids = |l: &Library| {
            l.materials()
                .iter()
                .map(|m| m.id.clone())
                .collect::<Vec<_>>()
        };

        let library = lib.library(source(), None);
        assert_eq!(ids(&library), ["health/b", "health/c"]);
        assert_eq!(
            library.get("health/b").unwrap().title,
            "b, the centre's copy"
        );

        // A damaged hidden list hides nothing rather than failing.
        std::fs::write(d.path().join("library.toml"), "hidden = [").unwrap();
        assert_eq!(
            ids(&lib.library(source(), None)),
            ["health/a", "health/b", "health/c"]
        );
    }

    #[test]
    fn hidden_materials_persist() {
        let d = tempfile::tempdir().unwrap();
        let lib = CentreLibrary::open(d.path()).unwrap();
        lib.set_hidden("law/a", true).unwrap();
        lib.set_hidden("law/b", true).unwrap();
        lib.set_hidden("law/a", false).unwrap();
        let again = CentreLibrary::open(d.path()).unwrap();
        assert_eq!(
            again.hidden().unwrap().into_iter().collect::<Vec<_>>(),
            ["law/b"]
        );
    }
}
