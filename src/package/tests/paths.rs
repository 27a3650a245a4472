//! Tests of the path rules: what a package path may look like, how long it may be, and that
//! hostile paths in a tar or its manifest are refused before anything is written.

use super::*;
use crate::package::paths::{check_path, fits_ustar};

// ---- path rules ----

#[test]
fn path_rules() {
    use PackageError as E;
    let ok = [
        "library/a.md",
        "library/agriculture/lúa-vụ-xuân.md",
        "library/x/y/z.mp4",
        "lessons/k7m2p.toml",
        "lessons/abcd.toml",
        "lessons/0123456789abcdef.toml",
        "lessons/a-b-c.toml",
    ];
    for p in ok {
        assert!(check_path(p, Areas::Package).is_ok(), "{p}");
    }
    let refused: [(&str, Expect); 22] = [
        ("", |e| matches!(e, E::EmptyPath)),
        ("/etc/passwd", |e| matches!(e, E::AbsolutePath { .. })),
        ("../x", |e| matches!(e, E::ParentSegment { .. })),
        ("library/../../x", |e| matches!(e, E::ParentSegment { .. })),
        ("library/./a.md", |e| matches!(e, E::DotSegment { .. })),
        ("library//a.md", |e| matches!(e, E::EmptySegment { .. })),
        ("library/a/", |e| matches!(e, E::EmptySegment { .. })),
        ("library\\a.md", |e| matches!(e, E::Backslash { .. })),
        ("library/a\0.md", |e| matches!(e, E::ControlChar { .. })),
        ("library/a\n.md", |e| matches!(e, E::ControlChar { .. })),
        ("library/a\u{85}.md", |e| matches!(e, E::ControlChar { .. })),
        ("library/.git/config", |e| matches!(e, E::HiddenFile { .. })),
        ("library/.a.md", |e| matches!(e, E::HiddenFile { .. })),
        ("library/lu\u{300}a.md", |e| matches!(e, E::NotNfc { .. })),
        ("library", |e| matches!(e, E::OutsideFolders { .. })),
        ("src/main.rs", |e| matches!(e, E::OutsideFolders { .. })),
        ("lessons/abc.toml", |e| matches!(e, E::BadLessonName { .. })),
        ("lessons/ABCD.toml", |e| {
            matches!(e, E::BadLessonName { .. })
        }),
        ("lessons/ab_cd.toml", |e| {
            matches!(e, E::BadLessonName { .. })
        }),
        ("lessons/abcd.txt", |e| matches!(e, E::BadLessonName { .. })),
        ("lessons/x/abcd.toml", |e| {
            matches!(e, E::BadLessonName { .. })
        }),
        ("lessons/0123456789abcdefg.toml", |e| {
            matches!(e, E::BadLessonName { .. })
        }),
    ];
    for (p, expected) in refused {
        let err = check_path(p, Areas::Package).unwrap_err();
        assert!(expected(&err), "{p:?}: {err:?}");
    }
}

#[test]
fn ustar_fit_matches_what_the_tar_crate_can_write() {
    for (path, fits) in [
        (format!("library/{}", "a".repeat(92)), true),
        (format!("library/{}", "a".repeat(93)), true),
        (format!("library/{}", "a".repeat(100)), true),
        (format!("library/{}", "a".repeat(101)), false),
        (
            format!("library/{}/{}", "d".repeat(146), "n".repeat(100)),
            true,
        ),
        (
            format!("library/{}/{}", "d".repeat(147), "n".repeat(100)),
            true,
        ),
        (
            format!("library/{}/{}", "d".repeat(148), "n".repeat(100)),
            false,
        ),
        (
            format!("library/{}/{}", "d".repeat(146), "n".repeat(101)),
            false,
        ),
    ] {
        assert_eq!(fits_ustar(&path), fits, "{}", path.len());
        let written = tar::Header::new_ustar().set_path(&path).is_ok();
        assert_eq!(written, fits, "tar crate agrees for {} bytes", path.len());
    }
}

#[test]
fn errors_name_the_path_in_plain_words() {
    let err = PackageError::ChecksumMismatch {
        path: "library/a.md".into(),
    };
    assert_eq!(
        err.to_string(),
        "\"library/a.md\" is damaged: its checksum does not match the package description"
    );
    let err = check_path("library/a\0.md", Areas::Package).unwrap_err();
    assert!(err.to_string().contains(r#""library/a\0.md""#), "{err}");
    let err = PackageError::UnsupportedFormat { found: 2 };
    assert!(err.to_string().contains("update hoclieu"));
}

// ---- hostile paths ----

#[test]
fn refuses_parent_dir_entry() {
    let sb = Sandbox::new();
    let bytes = package(&[], vec![file("../x", b"evil")]);
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(&err, PackageError::ParentSegment { path } if path == "../x"),
        "{err:?}"
    );
    assert!(sb.staged().is_empty());
}

#[test]
fn refuses_absolute_entry() {
    let sb = Sandbox::new();
    let bytes = package(&[], vec![file("/etc/passwd", b"root::0:0::/:/bin/sh\n")]);
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(&err, PackageError::AbsolutePath { path } if path == "/etc/passwd"),
        "{err:?}"
    );
}

#[test]
fn refuses_dotdot_inside_library() {
    let sb = Sandbox::new();
    let bytes = package(&[], vec![file("library/../../x", b"evil")]);
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(&err, PackageError::ParentSegment { path } if path == "library/../../x"),
        "{err:?}"
    );
}

#[test]
fn refuses_hostile_path_listed_in_manifest_before_reading_files() {
    let sb = Sandbox::new();
    let bytes = package(&[("library/../../x", b"evil")], vec![file(A, b"fine")]);
    let err = sb.refuse(&bytes, &small());
    assert!(matches!(err, PackageError::ParentSegment { .. }), "{err:?}");
    assert!(sb.staged().is_empty(), "refused before any file was staged");
}

#[test]
fn refuses_control_characters_and_non_utf8_in_entry_paths() {
    let sb = Sandbox::new();
    let bytes = package(&[], vec![file("library/a\u{1}.md", b"x")]);
    let err = sb.refuse(&bytes, &small());
    assert!(matches!(err, PackageError::ControlChar { .. }), "{err:?}");

    let sb = Sandbox::new();
    let raw = header(b"library/\xff.md", EntryType::Regular, 1);
    let bytes = package(&[], vec![(raw, b"x".to_vec())]);
    let err = sb.refuse(&bytes, &small());
    assert!(matches!(err, PackageError::NotUtf8 { .. }), "{err:?}");
}

#[test]
fn refuses_backslash_and_hidden_entries() {
    let sb = Sandbox::new();
    let bytes = package(&[], vec![file("library\\..\\..\\x", b"x")]);
    let err = sb.refuse(&bytes, &small());
    assert!(matches!(err, PackageError::Backslash { .. }), "{err:?}");

    let sb = Sandbox::new();
    let bytes = package(&[], vec![file("library/.hidden", b"x")]);
    let err = sb.refuse(&bytes, &small());
    assert!(matches!(err, PackageError::HiddenFile { .. }), "{err:?}");
}

#[test]
fn refuses_bad_lesson_names() {
    for name in ["lessons/a!b$c.toml", "lessons/ab.toml", "lessons/Bai1.toml"] {
        let sb = Sandbox::new();
        let bytes = package(&[], vec![file(name, b"title = \"x\"\n")]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(&err, PackageError::BadLessonName { path } if path == name),
            "{name}: {err:?}"
        );
    }
}

#[test]
fn refuses_files_outside_library_and_lessons() {
    let sb = Sandbox::new();
    let bytes = package(&[], vec![file("web/index.html", b"<script>")]);
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(err, PackageError::OutsideFolders { .. }),
        "{err:?}"
    );
}
