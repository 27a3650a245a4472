//! Bounds on what an archive may hold, and which top-level folders it may use: a package and a
//! backup share the format but not the sizes or the areas.

/// Bounds on what [`read`](super::read()) accepts, so a hostile or broken package cannot fill
/// the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single file, in bytes.
    pub max_file_bytes: u64,
    /// Largest sum of all files, in bytes.
    pub max_total_bytes: u64,
    /// Most files.
    pub max_files: usize,
    /// Which top-level folders files may be in.
    pub areas: Areas,
}

impl Default for Limits {
    /// 200 MiB per file (a long video), 2 GiB in all, 10,000 files.
    fn default() -> Self {
        Limits {
            max_file_bytes: 200 << 20,
            max_total_bytes: 2 << 30,
            max_files: 10_000,
            areas: Areas::Package,
        }
    }
}

/// The top-level folders an archive's files may be in: what it is for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Areas {
    /// A content package: `library/` and `lessons/` only.
    #[default]
    Package,
    /// A backup of a whole box: also `history/` (replaced versions), `records/` (the
    /// database) and `settings/`.
    Backup,
}

impl Limits {
    /// Bounds for a backup: the database and all media of a box (8 GiB per file, 64 GiB in all,
    /// a million files).
    pub fn backup() -> Limits {
        Limits {
            max_file_bytes: 8 << 30,
            max_total_bytes: 64 << 30,
            max_files: 1_000_000,
            areas: Areas::Backup,
        }
    }
}
