//! What loading learnt of each material file on disk (its digest, front matter and links),
//! kept in the data folder under the file's size, times and inode, so that an unchanged
//! library starts without reading and parsing every file again.
//!
//! It is a cache: a missing, damaged or older-version manifest is simply rebuilt, and a file
//! whose size, times or inode differ from the entry is read again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::markdown::BodyLink;
use super::material::Parsed;
use super::source::{Changed, SourceFile};

/// Bumped whenever what an entry holds changes. A manifest written by another release of the
/// program is not used either: how a file is parsed may have changed with it.
const VERSION: u32 = 1;

/// The release that wrote a manifest.
const PROGRAM: &str = env!("CARGO_PKG_VERSION");

/// A file changed this close to the load (nanoseconds) may change again within the same tick
/// of the clock without its times moving: it is read again next time rather than trusted.
const SETTLING_NS: i64 = 2_000_000_000;

/// What a material file gave when it was last read.
#[derive(Debug, Deserialize)]
pub(super) struct Entry {
    bytes: u64,
    changed: Changed,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
    /// Its front matter (without the body).
    pub parsed: Parsed,
    /// The body's relative links and pictures.
    pub links: Vec<BodyLink>,
    /// Headings of the body's empty sections.
    pub empty_sections: Vec<String>,
}

/// An [`Entry`] to be written, borrowing from the loaded library.
#[derive(Serialize)]
struct EntryRef<'a> {
    bytes: u64,
    changed: Changed,
    sha256: &'a str,
    parsed: &'a Parsed,
    links: &'a [BodyLink],
    empty_sections: &'a [String],
}

/// The manifest being written: its entries as a map by path, without copying them.
#[derive(Serialize)]
struct StoredRef<'b, 'a> {
    version: u32,
    program: &'static str,
    files: Files<'b, 'a>,
}

struct Files<'b, 'a>(&'b [(&'a Path, EntryRef<'a>)]);

impl Serialize for Files<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

#[derive(Deserialize)]
struct Stored {
    version: u32,
    program: String,
    files: HashMap<PathBuf, Entry>,
}

/// What one material file gave, to be saved: the file, its digest, front matter, links and
/// empty sections.
pub(super) type Known<'a> = (
    &'a SourceFile,
    &'a str,
    &'a Parsed,
    &'a [BodyLink],
    &'a [String],
);

/// The manifest of one load. Entries are moved out as files are found unchanged (what they
/// hold becomes the catalogue's own, not a copy: copies left the freed manifest scattered in
/// the heap, 13 MB more held at 50k materials), and the whole is written again from the
/// loaded materials when anything differs.
#[derive(Debug)]
pub struct Manifest {
    path: PathBuf,
    old: HashMap<PathBuf, Entry>,
    /// Whether a file was read anew (changed, added or not in the manifest).
    changed: bool,
    now_ns: i64,
}

impl Manifest {
    /// Reads the manifest at `path`; one that is missing or unreadable starts empty.
    pub fn open(path: &Path) -> Manifest {
        let now_ns = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX));
        Manifest::open_as_of(path, now_ns)
    }

    /// [`Manifest::open`] as if it were `now_ns` (tests: files just written count as settled).
    fn open_as_of(path: &Path, now_ns: i64) -> Manifest {
        let old = match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice::<Stored>(&bytes) {
                Ok(s) if s.version == VERSION && s.program == PROGRAM => s.files,
                Ok(_) => HashMap::new(),
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "library manifest unreadable; every file is read again");
                    HashMap::new()
                }
            },
            Err(_) => HashMap::new(),
        };
        Manifest {
            path: path.to_path_buf(),
            old,
            changed: false,
            now_ns,
        }
    }

    /// What `file` gave when last read, if it has not changed since (taken out: asked once).
    pub(super) fn take(&mut self, file: &SourceFile) -> Option<Entry> {
        let (path, changed) = (file.disk_path.as_ref()?, file.changed?);
        let entry = self.old.remove(path)?;
        if entry.bytes != file.bytes || entry.changed != changed {
            return None;
        }
        Some(entry)
    }

    /// Notes that a file was read from disk: the manifest is written again.
    pub(super) fn read_anew(&mut self) {
        self.changed = true;
    }

    /// Whether the files differ from what the manifest says: some were read anew, or some it
    /// lists were not asked for (removed, hidden).
    pub(super) fn needs_saving(&self) -> bool {
        self.changed || !self.old.is_empty()
    }

    /// Writes the manifest from what each material file gave, leaving out files changed too
    /// recently to be trusted. A failure is logged: the next start reads the files again.
    pub(super) fn save<'a>(&self, known: impl Iterator<Item = Known<'a>>) {
        let now = self.now_ns;
        let files: Vec<(&Path, EntryRef<'a>)> = known
            .filter_map(|(file, sha256, parsed, links, empty_sections)| {
                let (path, changed) = (file.disk_path.as_deref()?, file.changed?);
                (changed.latest_ns() <= now - SETTLING_NS).then_some((
                    path,
                    EntryRef {
                        bytes: file.bytes,
                        changed,
                        sha256,
                        parsed,
                        links,
                        empty_sections,
                    },
                ))
            })
            .collect();
        let written = serde_json::to_vec(&StoredRef {
            version: VERSION,
            program: PROGRAM,
            files: Files(&files),
        })
        .map_err(std::io::Error::other)
        .and_then(|bytes| crate::fsutil::write_atomic(&self.path, &bytes));
        if let Err(e) = written {
            tracing::warn!(path = %self.path.display(), error = %e, "library manifest not saved");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::content::{Library, Source};

    const LATER: i64 = i64::MAX / 2;

    fn material(title: &str) -> String {
        format!(
            "+++\ntitle = \"{title}\"\ncategory = \"agriculture\"\n+++\n\n## Cách làm\n\nXem [lịch](lich.pdf).\n\n## Trống\n"
        )
    }

    /// A library folder holding `agriculture/lua.md` and `agriculture/ngo.md` with these
    /// titles, in that order (as many as given).
    fn folder(titles: &[&str]) -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap();
        let root = d.path().join("lib");
        std::fs::create_dir_all(root.join("agriculture")).unwrap();
        for (name, title) in ["lua", "ngo"].iter().zip(titles) {
            std::fs::write(root.join(format!("agriculture/{name}.md")), material(title)).unwrap();
        }
        (d, root)
    }

    fn load(root: &Path, manifest: &Path, now_ns: i64) -> Library {
        let mut m = Manifest::open_as_of(manifest, now_ns);
        Library::load_with(Source::dir(root).unwrap(), &BTreeSet::new(), Some(&mut m))
    }

    fn titles(lib: &Library) -> Vec<String> {
        lib.materials().iter().map(|m| m.title.clone()).collect()
    }

    #[test]
    fn an_unchanged_file_is_taken_from_the_manifest_and_a_changed_one_read_again() {
        let (d, root) = folder(&["Trồng lúa", "Trồng ngô"]);
        let manifest = d.path().join("manifest.json");
        let plain = Library::load(Source::dir(&root).unwrap());
        let first = load(&root, &manifest, LATER);
        assert_eq!(titles(&first), titles(&plain));
        assert_eq!(first.fingerprint(), plain.fingerprint());
        assert_eq!(first.problems().len(), plain.problems().len());

        // Proof that the entry is used, not the file: an entry altered by hand shows.
        let text = std::fs::read_to_string(&manifest).unwrap();
        assert_eq!(text.matches("Trồng lúa").count(), 1);
        std::fs::write(&manifest, text.replace("Trồng lúa", "Từ sổ ghi")).unwrap();
        let second = load(&root, &manifest, LATER);
        assert_eq!(titles(&second), ["Từ sổ ghi", "Trồng ngô"]);
        assert_eq!(second.fingerprint(), plain.fingerprint());
        // Links and empty sections come back from it too.
        assert_eq!(second.problems().len(), plain.problems().len());
        assert_eq!(
            second.materials()[1].attachments.len(),
            plain.materials()[1].attachments.len()
        );

        // One written by another release of the program is not used.
        let text = std::fs::read_to_string(&manifest).unwrap();
        let ours = format!("\"program\":\"{PROGRAM}\"");
        assert!(text.contains(&ours), "{text}");
        std::fs::write(&manifest, text.replace(&ours, "\"program\":\"0.0.1\"")).unwrap();
        assert_eq!(titles(&load(&root, &manifest, LATER)), titles(&plain));
        assert!(std::fs::read_to_string(&manifest).unwrap().contains(&ours));

        // A changed file (same size even) is read again; a removed one leaves the manifest.
        std::fs::write(root.join("agriculture/ngo.md"), material("Trồng mía")).unwrap();
        std::fs::remove_file(root.join("agriculture/lua.md")).unwrap();
        let third = load(&root, &manifest, LATER);
        assert_eq!(titles(&third), ["Trồng mía"]);
        let text = std::fs::read_to_string(&manifest).unwrap();
        assert!(
            !text.contains("lua.md") && text.contains("Trồng mía"),
            "{text}"
        );
    }

    #[test]
    fn a_file_changed_just_now_is_not_trusted_and_a_damaged_manifest_is_rebuilt() {
        let (d, root) = folder(&["Trồng lúa"]);
        let manifest = d.path().join("manifest.json");
        // Written a moment ago: it could change again within the clock's tick unseen.
        let lib = Library::load_cached(Source::dir(&root).unwrap(), &BTreeSet::new(), &manifest);
        assert_eq!(titles(&lib), ["Trồng lúa"]);
        assert!(
            !std::fs::read_to_string(&manifest)
                .unwrap_or_default()
                .contains("lua.md")
        );

        std::fs::write(&manifest, b"{\"version\": 1, \"files\": [tru").unwrap();
        let lib = load(&root, &manifest, LATER);
        assert_eq!(titles(&lib), ["Trồng lúa"]);
        assert!(
            std::fs::read_to_string(&manifest)
                .unwrap()
                .contains("lua.md")
        );
    }
}
