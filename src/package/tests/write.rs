//! Tests of writing: a package round-trips, the same content always gives the same bytes, and
//! export refuses what read would refuse.

use super::*;
use sha2::{Digest, Sha256};

// ---- round trip and determinism ----

#[test]
fn round_trip_keeps_manifest_and_bytes() {
    let (bytes, exported) = export_sample();
    let sb = Sandbox::new();
    let pkg = sb.read(&bytes, &small()).unwrap();
    assert_eq!(pkg.manifest, exported);
    assert_eq!(pkg.manifest.centre, "TTHTCĐ xã Tân Phú");
    assert_eq!(pkg.manifest.lessons[0].title, "Bài 1: \"Lúa\"");
    for f in sample_files() {
        let staged = pkg.staged_path(&f.path).unwrap();
        assert!(staged.starts_with(&sb.staging));
        assert_eq!(fs::read(&staged).unwrap(), f.bytes, "{}", f.path);
    }
    let mut expected: Vec<String> = sample_files().into_iter().map(|f| f.path).collect();
    expected.sort();
    assert_eq!(sb.staged(), expected);
    assert_eq!(pkg.files().count(), 5);
    sb.assert_contained();
}

#[test]
fn manifest_lists_sorted_files_with_sizes_and_checksums() {
    let (_, m) = export_sample();
    let paths: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    let mut sorted = paths.clone();
    sorted.sort();
    assert_eq!(paths, sorted);
    let svg = m.files.iter().find(|f| f.path.ends_with(".svg")).unwrap();
    assert_eq!(svg.size, 6);
    assert_eq!(
        svg.sha256,
        format!("{:x}", Sha256::digest(b"<svg/>")),
        "sha256 of the bytes, lowercase hex"
    );
    assert_eq!(m.materials[0].id, "agriculture/lua-vu-xuan", "sorted by id");
    assert_eq!(m.format, 1);
}

#[test]
fn exporting_twice_gives_identical_bytes_whatever_the_input_order() {
    let (first, _) = export_sample();
    let (second, _) = export_sample();
    assert_eq!(first, second);
    let mut files = sample_files();
    files.reverse();
    let mut materials = sample_materials();
    materials.reverse();
    let mut shuffled = Vec::new();
    export(
        &mut shuffled,
        "2026-11-29T22:00:00Z",
        "TTHTCĐ xã Tân Phú",
        materials,
        sample_lessons(),
        files,
    )
    .unwrap();
    assert_eq!(first, shuffled);
}

#[test]
fn exported_headers_are_plain_and_manifest_comes_first() {
    let (bytes, _) = export_sample();
    let mut archive = tar::Archive::new(bytes.as_slice());
    let mut paths = Vec::new();
    for e in archive.entries().unwrap() {
        let e = e.unwrap();
        let h = e.header();
        assert_eq!(h.entry_type(), EntryType::Regular);
        assert_eq!(h.mode().unwrap(), 0o644);
        assert_eq!(h.mtime().unwrap(), 0);
        assert_eq!(h.uid().unwrap(), 0);
        assert_eq!(h.gid().unwrap(), 0);
        assert_eq!(h.username_bytes(), Some(&b""[..]));
        assert_eq!(h.groupname_bytes(), Some(&b""[..]));
        assert!(h.as_ustar().is_some(), "plain POSIX ustar headers");
        paths.push(String::from_utf8(e.path_bytes().into_owned()).unwrap());
    }
    assert_eq!(paths[0], MANIFEST_PATH);
    let mut rest = paths[1..].to_vec();
    rest.sort();
    assert_eq!(paths[1..], rest);
}

#[test]
fn manifest_text_survives_quotes_backslashes_and_controls() {
    let awkward = "a \"quoted\" \\path\\ \n line\ttab \u{1} \u{7f} \u{85} Đắk Lắk 🌾";
    let mut out = Vec::new();
    let materials = vec![MaterialInfo {
        id: "x/y".into(),
        title: awkward.into(),
        updated: None,
    }];
    let m = export(&mut out, awkward, awkward, materials, vec![], vec![]).unwrap();
    let sb = Sandbox::new();
    let pkg = sb.read(&out, &small()).unwrap();
    assert_eq!(pkg.manifest, m);
    assert_eq!(pkg.manifest.centre, awkward);
    assert_eq!(pkg.manifest.materials[0].title, awkward);
}

#[test]
fn long_paths_use_the_ustar_prefix_and_round_trip() {
    let dir = "library/".to_string() + &"thu-muc-".repeat(15);
    let path = format!("{dir}/{}.md", "a".repeat(97));
    assert!(path.len() > 200);
    let mut out = Vec::new();
    export(&mut out, "t", "", vec![], vec![], vec![entry(&path, b"x")]).unwrap();
    let sb = Sandbox::new();
    let pkg = sb.read(&out, &small()).unwrap();
    assert_eq!(fs::read(pkg.staged_path(&path).unwrap()).unwrap(), b"x");
}

#[test]
fn export_refuses_what_read_would_refuse() {
    let cases: Vec<(Vec<Entry>, Expect)> = vec![
        (
            vec![entry("../x", b"")],
            |e| matches!(e, PackageError::ParentSegment { path } if path == "../x"),
        ),
        (
            vec![entry(A, b"1"), entry(A, b"2")],
            |e| matches!(e, PackageError::DuplicatePath { path } if path == A),
        ),
        (
            vec![entry("library/a", b""), entry("library/a/b.md", b"")],
            |e| matches!(e, PackageError::PathClash { path, other } if path == "library/a" && other == "library/a/b.md"),
        ),
        (vec![entry(MANIFEST_PATH, b"")], |e| {
            matches!(e, PackageError::OutsideFolders { .. })
        }),
        (
            vec![entry(&format!("library/{}.md", "n".repeat(98)), b"")],
            |e| matches!(e, PackageError::PathTooLong { .. }),
        ),
    ];
    for (files, expected) in cases {
        let mut out = Vec::new();
        let err = export(&mut out, "t", "", vec![], vec![], files).unwrap_err();
        assert!(expected(&err), "{err:?}");
        assert!(out.is_empty(), "nothing written on refusal");
    }
    let bad_date = vec![material("a", Some("29/11/2026"))];
    let err = export(Vec::new(), "t", "", bad_date, vec![], vec![]).unwrap_err();
    assert!(matches!(err, PackageError::BadManifest { .. }), "{err:?}");
}
