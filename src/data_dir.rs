//! The data folder's layout, named once: where the records, the index, the centre's own
//! materials, their history and the lessons live under `DATA`. Everything that reads or writes
//! the data folder asks this module for the path instead of spelling a file name.

use std::path::{Path, PathBuf};

/// The database file (usage records, profiles, staff accounts and sessions).
pub const DATABASE: &str = "hoclieu.sqlite3";
/// The centre's own materials, layered over the starter library.
pub const LIBRARY: &str = "library";
/// Every version of a library file that a save, an undo or an import replaced.
pub const HISTORY: &str = "history";
/// Lessons, one TOML file each.
pub const LESSONS: &str = "lessons";
/// The search index (rebuilt whenever it is missing or stale).
pub const INDEX: &str = "index";
/// ZIM files (Kiwix's offline libraries), each served as a collection.
pub const ZIM: &str = "zim";
/// The ZIM collections' search indexes, one folder each (beside the library's index, which
/// is rebuilt whole and must not take them with it).
pub const ZIM_INDEX: &str = "zim-index";
/// Which starter materials the centre hides.
pub const LIBRARY_SETTINGS: &str = "library.toml";
/// Where a restored backup puts the settings file it carried.
pub const SETTINGS_COPY: &str = "hoclieu.toml";
/// The date old usage events were last pruned by (see `clock::read_pruned`).
pub const PRUNED: &str = "pruned-by";
/// The district's targets and communes' figures (a district office's box).
pub const DISTRICT_PLAN: &str = "district-plan.toml";
/// The folders that hold the centre's own work (backed up, cleaned of crash leftovers).
pub const WORK_FOLDERS: [&str; 3] = [LIBRARY, LESSONS, HISTORY];

/// Whether the data folder takes writes, as found at start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Storage {
    /// Files can be created, written and synced.
    Writable,
    /// Nothing can be written (a memory card the kernel remounted read-only, a full disk, a
    /// folder that cannot be created): the box serves what it can read, and records nothing.
    ReadOnly {
        /// Why, in the system's words (for the log and `/healthz`, never for pages).
        cause: String,
    },
}

impl Storage {
    /// Whether the data folder cannot be written.
    pub fn is_read_only(&self) -> bool {
        matches!(self, Storage::ReadOnly { .. })
    }
}

/// A data folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// The data folder at `root` (nothing is created).
    pub fn new(root: impl Into<PathBuf>) -> DataDir {
        DataDir { root: root.into() }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates the folder if needed and writes, syncs and removes a small file in it: what
    /// the records, the index and every save need. Read-only (`EROFS`), forbidden (`EACCES`),
    /// full (`ENOSPC`) or not a folder (`ENOTDIR`) all show here.
    pub fn storage(&self) -> Storage {
        match self.write_check() {
            Ok(()) => Storage::Writable,
            Err(e) => Storage::ReadOnly {
                cause: e.to_string(),
            },
        }
    }

    fn write_check(&self) -> std::io::Result<()> {
        use std::io::Write;
        std::fs::create_dir_all(&self.root)?;
        // A name `fsutil::remove_leftovers` cleans, should a power cut leave it behind.
        let mut probe = tempfile::Builder::new()
            .prefix(".tmp-write-check")
            .tempfile_in(&self.root)?;
        probe.write_all(b"hoclieu")?;
        probe.as_file().sync_all()?;
        probe.close()
    }

    /// The database file.
    pub fn database(&self) -> PathBuf {
        self.root.join(DATABASE)
    }

    /// The centre's own library folder.
    pub fn library(&self) -> PathBuf {
        self.root.join(LIBRARY)
    }

    /// The history of replaced library files.
    pub fn history(&self) -> PathBuf {
        self.root.join(HISTORY)
    }

    /// The lessons folder.
    pub fn lessons(&self) -> PathBuf {
        self.root.join(LESSONS)
    }

    /// The search index folder.
    pub fn index(&self) -> PathBuf {
        self.root.join(INDEX)
    }

    /// The ZIM collections folder.
    pub fn zim(&self) -> PathBuf {
        self.root.join(ZIM)
    }

    /// The ZIM collections' indexes.
    pub fn zim_index(&self) -> PathBuf {
        self.root.join(ZIM_INDEX)
    }

    /// What the last load learnt of each library file (a cache, see `content::manifest`).
    pub fn library_manifest(&self) -> PathBuf {
        self.root.join("library-manifest.json")
    }

    /// The hidden-materials list.
    pub fn library_settings(&self) -> PathBuf {
        self.root.join(LIBRARY_SETTINGS)
    }

    /// The date old usage events were last pruned by.
    pub fn pruned(&self) -> PathBuf {
        self.root.join(PRUNED)
    }

    /// The district's plan: targets and communes' figures.
    pub fn district_plan(&self) -> PathBuf {
        self.root.join(DISTRICT_PLAN)
    }

    /// The settings file a restore brought back.
    pub fn settings_copy(&self) -> PathBuf {
        self.root.join(SETTINGS_COPY)
    }
}
