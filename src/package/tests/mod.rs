//! Tests of the package format, with the helpers they share: a sandbox that checks nothing
//! escapes the staging folder, sample packages, and raw tar headers the tar crate would refuse
//! to write.

mod paths;
mod plan;
mod read;
mod write;

use super::*;
use std::ffi::OsString;
use std::fs;
use std::path::PathBuf;
use tar::EntryType;
use tempfile::TempDir;

use super::manifest::manifest_toml;
use super::write::file_info;

// ---- helpers ----

fn small() -> Limits {
    Limits {
        max_file_bytes: 1000,
        max_total_bytes: 3000,
        max_files: 5,
        areas: Areas::Package,
    }
}

fn unlimited() -> Limits {
    Limits {
        max_file_bytes: u64::MAX,
        max_total_bytes: u64::MAX,
        max_files: usize::MAX,
        areas: Areas::Package,
    }
}

/// A parent folder holding only an empty `staging` folder, so a test can check that
/// nothing appeared next to it.
struct Sandbox {
    parent: TempDir,
    staging: PathBuf,
}

impl Sandbox {
    fn new() -> Self {
        let parent = TempDir::new().unwrap();
        let staging = parent.path().join("staging");
        fs::create_dir(&staging).unwrap();
        Sandbox { parent, staging }
    }

    fn read(&self, bytes: &[u8], limits: &Limits) -> Result<Package, PackageError> {
        read(bytes, limits, &self.staging)
    }

    /// Reads, expects an error, and checks nothing escaped the staging folder.
    fn refuse(&self, bytes: &[u8], limits: &Limits) -> PackageError {
        let err = self.read(bytes, limits).unwrap_err();
        self.assert_contained();
        err
    }

    /// Only `staging` is in the parent, and staging holds only plain files and folders.
    fn assert_contained(&self) {
        let names: Vec<OsString> = fs::read_dir(self.parent.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![OsString::from("staging")]);
        for e in walkdir::WalkDir::new(&self.staging) {
            let e = e.unwrap();
            assert!(
                e.file_type().is_file() || e.file_type().is_dir(),
                "{:?} is neither file nor folder",
                e.path()
            );
        }
    }

    /// Package paths of the files in staging, sorted.
    fn staged(&self) -> Vec<String> {
        let mut out: Vec<String> = walkdir::WalkDir::new(&self.staging)
            .into_iter()
            .map(|e| e.unwrap())
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                let rel = e.path().strip_prefix(&self.staging).unwrap();
                rel.to_str().unwrap().to_string()
            })
            .collect();
        out.sort();
        out
    }
}

fn entry(path: &str, bytes: &[u8]) -> Entry {
    Entry {
        path: path.into(),
        bytes: bytes.to_vec(),
    }
}

fn material(id: &str, updated: Option<&str>) -> MaterialInfo {
    MaterialInfo {
        id: id.into(),
        title: format!("Tài liệu {id}"),
        updated: updated.map(String::from),
    }
}

fn sample_files() -> Vec<Entry> {
    vec![
        entry(
            "library/agriculture/lua-vu-xuan.md",
            "+++\ntitle = \"Lúa vụ xuân\"\n+++\nGieo mạ.\n".as_bytes(),
        ),
        entry("library/agriculture/lua-vu-xuan.svg", b"<svg/>"),
        entry("library/health/nuoc-sach.md", b"+++\n+++\nboil\n"),
        entry("lessons/k7m2p.toml", b"title = \"Bai 1\"\n"),
        entry("library/empty.pdf", b""),
    ]
}

fn sample_materials() -> Vec<MaterialInfo> {
    vec![
        material("health/nuoc-sach", None),
        material("agriculture/lua-vu-xuan", Some("2026-11-29")),
    ]
}

fn sample_lessons() -> Vec<LessonInfo> {
    vec![LessonInfo {
        code: "k7m2p".into(),
        title: "Bài 1: \"Lúa\"".into(),
    }]
}

fn export_sample() -> (Vec<u8>, Manifest) {
    let mut out = Vec::new();
    let m = export(
        &mut out,
        "2026-11-29T22:00:00Z",
        "TTHTCĐ xã Tân Phú",
        sample_materials(),
        sample_lessons(),
        sample_files(),
    )
    .unwrap();
    (out, m)
}

/// A UStar header whose path bytes are written raw, bypassing the tar crate's checks.
fn header(path: &[u8], kind: EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.as_old_mut().name[..path.len()].copy_from_slice(path);
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    h
}

fn file(path: &str, data: &[u8]) -> (tar::Header, Vec<u8>) {
    (
        header(path.as_bytes(), EntryType::Regular, data.len() as u64),
        data.to_vec(),
    )
}

fn info(path: &str, data: &[u8]) -> FileInfo {
    file_info(&entry(path, data))
}

fn manifest_of(files: Vec<FileInfo>) -> (tar::Header, Vec<u8>) {
    let m = Manifest {
        format: FORMAT,
        created: "now".into(),
        centre: String::new(),
        materials: vec![],
        lessons: vec![],
        files,
    };
    file(MANIFEST_PATH, manifest_toml(&m).as_bytes())
}

fn tar_of(entries: Vec<(tar::Header, Vec<u8>)>) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (h, d) in entries {
        b.append(&h, d.as_slice()).unwrap();
    }
    b.into_inner().unwrap()
}

/// A package with a correct manifest for `listed`, whose tar holds `entries`.
fn package(listed: &[(&str, &[u8])], entries: Vec<(tar::Header, Vec<u8>)>) -> Vec<u8> {
    let infos = listed.iter().map(|(p, d)| info(p, d)).collect();
    let mut all = vec![manifest_of(infos)];
    all.extend(entries);
    tar_of(all)
}

const A: &str = "library/a.md";

/// Whether an error is the expected one.
type Expect = fn(&PackageError) -> bool;
/// Whether an error is the expected one for a given path.
type ExpectFor = fn(&PackageError, &str) -> bool;
