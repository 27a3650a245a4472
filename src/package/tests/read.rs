//! Tests of reading: entry kinds, agreement with the manifest, limits, and broken or cut-off
//! packages, each refused without anything escaping the staging folder.

use super::*;
use crate::package::manifest::MAX_MANIFEST_BYTES;
use std::io::{self, Read};

// ---- entry kinds ----

#[test]
fn refuses_symlink_entry() {
    let sb = Sandbox::new();
    let mut h = header(A.as_bytes(), EntryType::Symlink, 0);
    h.set_link_name("/etc/passwd").unwrap();
    h.set_cksum();
    let bytes = package(&[(A, b"")], vec![(h, vec![])]);
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(&err, PackageError::LinkEntry { path, target } if path == A && target == "/etc/passwd"),
        "{err:?}"
    );
    assert!(sb.staged().is_empty());
}

#[test]
fn refuses_hardlink_entry() {
    let sb = Sandbox::new();
    let mut h = header(A.as_bytes(), EntryType::Link, 0);
    h.set_link_name("../../etc/shadow").unwrap();
    h.set_cksum();
    let bytes = package(&[(A, b"")], vec![(h, vec![])]);
    let err = sb.refuse(&bytes, &small());
    assert!(matches!(err, PackageError::LinkEntry { .. }), "{err:?}");
}

#[test]
fn refuses_device_entries() {
    for kind in [EntryType::Char, EntryType::Block, EntryType::Fifo] {
        let sb = Sandbox::new();
        let h = header(b"library/dev.md", kind, 0);
        let bytes = package(&[], vec![(h, vec![])]);
        let err = sb.refuse(&bytes, &small());
        assert!(
            matches!(err, PackageError::DeviceEntry { .. }),
            "{kind:?}: {err:?}"
        );
    }
}

#[test]
fn refuses_gnu_long_names_and_pax_headers() {
    let sb = Sandbox::new();
    let long = format!("library/{}.md", "n".repeat(120));
    let mut b = tar::Builder::new(Vec::new());
    let (mh, md) = manifest_of(vec![]);
    b.append(&mh, md.as_slice()).unwrap();
    // The tar crate writes a GNU long-name entry for a name over 100 bytes.
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    h.set_mode(0o644);
    b.append_data(&mut h, &long, &b"x"[..]).unwrap();
    let bytes = b.into_inner().unwrap();
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(&err, PackageError::UnsupportedEntry { kind, .. } if kind.contains("GNU")),
        "{err:?}"
    );

    let sb = Sandbox::new();
    let pax = header(b"PaxHeaders/x", EntryType::XHeader, 0);
    let bytes = package(&[], vec![(pax, vec![])]);
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(&err, PackageError::UnsupportedEntry { kind, .. } if kind.contains("PAX")),
        "{err:?}"
    );
}

#[test]
fn directory_entries_are_skipped_and_create_nothing() {
    let sb = Sandbox::new();
    let dir = header(b"../outside/", EntryType::Directory, 0);
    let bytes = package(&[(A, b"ok")], vec![(dir, vec![]), file(A, b"ok")]);
    let pkg = sb.read(&bytes, &small()).unwrap();
    assert_eq!(pkg.files().count(), 1);
    assert_eq!(sb.staged(), vec![A.to_string()]);
    sb.assert_contained();
}

// ---- manifest agreement ----

#[test]
fn refuses_file_not_in_manifest() {
    let sb = Sandbox::new();
    let bytes = package(
        &[(A, b"a")],
        vec![file(A, b"a"), file("library/b.md", b"b")],
    );
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(&err, PackageError::NotInManifest { path } if path == "library/b.md"),
        "{err:?}"
    );
}

#[test]
fn refuses_manifest_file_missing_from_tar() {
    let sb = Sandbox::new();
    let bytes = package(&[(A, b"a"), ("library/b.md", b"b")], vec![file(A, b"a")]);
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(&err, PackageError::MissingFile { path } if path == "library/b.md"),
        "{err:?}"
    );
}

#[test]
fn refuses_checksum_mismatch() {
    let sb = Sandbox::new();
    let bytes = package(&[(A, b"good")], vec![file(A, b"evil")]);
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(&err, PackageError::ChecksumMismatch { path } if path == A),
        "{err:?}"
    );
}

#[test]
fn refuses_size_mismatch() {
    let sb = Sandbox::new();
    let bytes = package(&[(A, b"short")], vec![file(A, b"much longer")]);
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(
            err,
            PackageError::SizeMismatch {
                expected: 5,
                found: 11,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_duplicate_entries() {
    let sb = Sandbox::new();
    let bytes = package(&[(A, b"a")], vec![file(A, b"a"), file(A, b"a")]);
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(&err, PackageError::DuplicatePath { path } if path == A),
        "{err:?}"
    );
}

#[test]
fn refuses_duplicates_and_clashes_in_manifest() {
    let sb = Sandbox::new();
    let bytes = package(&[(A, b"a"), (A, b"a")], vec![file(A, b"a")]);
    let err = sb.refuse(&bytes, &small());
    assert!(matches!(err, PackageError::DuplicatePath { .. }), "{err:?}");

    let sb = Sandbox::new();
    let listed: &[(&str, &[u8])] = &[("library/a", b""), ("library/a/b.md", b"")];
    let bytes = package(listed, vec![]);
    let err = sb.refuse(&bytes, &small());
    assert!(matches!(err, PackageError::PathClash { .. }), "{err:?}");
}

// ---- limits ----

#[test]
fn refuses_file_over_limit_declared_in_manifest() {
    let sb = Sandbox::new();
    let big = vec![b'x'; 1001];
    let bytes = package(&[(A, &big)], vec![file(A, &big)]);
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(
            err,
            PackageError::FileTooLarge {
                size: 1001,
                limit: 1000,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(sb.staged().is_empty(), "refused before reading the file");
}

#[test]
fn refuses_header_declaring_huge_size_without_reading_it() {
    // Manifest says 10 bytes; the header claims a terabyte but carries 10 bytes.
    let sb = Sandbox::new();
    let h = header(A.as_bytes(), EntryType::Regular, 1 << 40);
    let bytes = package(&[(A, b"0123456789")], vec![(h, b"0123456789".to_vec())]);
    assert!(bytes.len() < 4096);
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(err, PackageError::FileTooLarge { size, .. } if size == 1 << 40),
        "{err:?}"
    );
    assert!(sb.staged().is_empty());
}

#[test]
fn huge_declared_size_is_counted_not_trusted_even_without_limits() {
    // With no limits at all, a header and manifest both claiming a terabyte over 1 KiB
    // of data end in "truncated" after staging only the bytes that exist: the 1024 bytes
    // and the 1024-byte end marker, which the reader cannot tell from data.
    let sb = Sandbox::new();
    let claimed = FileInfo {
        path: A.into(),
        size: 1 << 40,
        sha256: "0".repeat(64),
    };
    let h = header(A.as_bytes(), EntryType::Regular, 1 << 40);
    let bytes = tar_of(vec![manifest_of(vec![claimed]), (h, vec![7u8; 1024])]);
    let err = sb.refuse(&bytes, &unlimited());
    assert!(
        matches!(&err, PackageError::Truncated { path } if path == A),
        "{err:?}"
    );
    assert_eq!(
        fs::metadata(sb.staging.join("library/a.md")).unwrap().len(),
        2048
    );
}

#[test]
fn header_size_must_match_manifest_even_within_limits() {
    let sb = Sandbox::new();
    let h = header(A.as_bytes(), EntryType::Regular, 500);
    let bytes = package(&[(A, b"0123456789")], vec![(h, vec![0; 500])]);
    let err = sb.refuse(&bytes, &unlimited());
    assert!(
        matches!(
            err,
            PackageError::SizeMismatch {
                expected: 10,
                found: 500,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn refuses_total_over_limit() {
    let sb = Sandbox::new();
    let chunk = vec![b'x'; 900];
    let names = [
        "library/1.md",
        "library/2.md",
        "library/3.md",
        "library/4.md",
    ];
    let listed: Vec<(&str, &[u8])> = names.iter().map(|n| (*n, chunk.as_slice())).collect();
    let files = names.iter().map(|n| file(n, &chunk)).collect();
    let err = sb.refuse(&package(&listed, files), &small());
    assert!(
        matches!(err, PackageError::TooLarge { limit: 3000 }),
        "{err:?}"
    );
}

#[test]
fn refuses_too_many_files() {
    let sb = Sandbox::new();
    let names: Vec<String> = (0..6).map(|i| format!("library/{i}.md")).collect();
    let listed: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b"x"[..])).collect();
    let files = names.iter().map(|n| file(n, b"x")).collect();
    let err = sb.refuse(&package(&listed, files), &small());
    assert!(
        matches!(err, PackageError::TooManyFiles { limit: 5 }),
        "{err:?}"
    );

    // Entries that are not files count too, so a stream of them cannot run forever.
    let sb = Sandbox::new();
    let dirs = (0..6)
        .map(|i| {
            (
                header(format!("library/d{i}/").as_bytes(), EntryType::Directory, 0),
                vec![],
            )
        })
        .collect();
    let err = sb.refuse(&package(&[], dirs), &small());
    assert!(matches!(err, PackageError::TooManyFiles { .. }), "{err:?}");
}

#[test]
fn refuses_oversize_manifest_without_reading_it() {
    let sb = Sandbox::new();
    let h = header(
        MANIFEST_PATH.as_bytes(),
        EntryType::Regular,
        MAX_MANIFEST_BYTES + 1,
    );
    let bytes = tar_of(vec![(h, b"format = 1\n".to_vec())]);
    let err = sb.refuse(&bytes, &small());
    assert!(
        matches!(err, PackageError::ManifestTooLarge { .. }),
        "{err:?}"
    );
}

// ---- broken packages ----

#[test]
fn refuses_truncated_package() {
    let (bytes, _) = export_sample();
    // (path, header position, data position) of each entry, manifest first.
    let mut archive = tar::Archive::new(bytes.as_slice());
    let positions: Vec<(String, usize, usize)> = archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let path = String::from_utf8(e.path_bytes().into_owned()).unwrap();
            let (h, d) = (e.raw_header_position(), e.raw_file_position());
            (path, h as usize, d as usize)
        })
        .collect();
    let (last, last_header, last_data) = positions.last().unwrap().clone();
    let cases: [(usize, ExpectFor); 4] = [
        (
            last_data + 3,
            |e, last| matches!(e, PackageError::Truncated { path } if path == last),
        ),
        (last_header + 100, |e, _| {
            matches!(e, PackageError::Corrupt { .. })
        }),
        // At an entry boundary the tar looks complete: the manifest tells what is missing.
        (
            last_header,
            |e, last| matches!(e, PackageError::MissingFile { path } if path == last),
        ),
        (
            positions[0].2 + 3,
            |e, _| matches!(e, PackageError::Truncated { path } if path == MANIFEST_PATH),
        ),
    ];
    for (cut, expected) in cases {
        let sb = Sandbox::new();
        let err = sb.refuse(&bytes[..cut], &small());
        assert!(expected(&err, &last), "cut at {cut}: {err:?}");
    }
}

#[test]
fn every_cut_before_the_end_marker_is_refused() {
    let (bytes, _) = export_sample();
    let end_of_data = bytes.len() - 1024;
    for cut in (0..end_of_data).step_by(61) {
        let sb = Sandbox::new();
        assert!(sb.read(&bytes[..cut], &small()).is_err(), "cut at {cut}");
        sb.assert_contained();
    }
    // Without the end marker the package is still whole.
    let sb = Sandbox::new();
    assert!(sb.read(&bytes[..end_of_data], &small()).is_ok());
}

/// Hands out at most 7 bytes per read, then fails with `fail_at` bytes read, if set.
struct Trickle<'a> {
    bytes: &'a [u8],
    read: usize,
    fail_at: Option<usize>,
}

impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.fail_at.is_some_and(|at| self.read >= at) {
            return Err(io::Error::new(
                io::ErrorKind::NotConnected,
                "device removed",
            ));
        }
        let n = buf.len().min(7).min(self.bytes.len() - self.read);
        buf[..n].copy_from_slice(&self.bytes[self.read..self.read + n]);
        self.read += n;
        Ok(n)
    }
}

#[test]
fn short_reads_are_fine_and_a_failing_medium_is_reported_as_such() {
    let (bytes, m) = export_sample();
    let sb = Sandbox::new();
    let input = Trickle {
        bytes: &bytes,
        read: 0,
        fail_at: None,
    };
    let pkg = read(input, &small(), &sb.staging).unwrap();
    assert_eq!(pkg.manifest, m);

    let sb = Sandbox::new();
    let input = Trickle {
        bytes: &bytes,
        read: 0,
        fail_at: Some(bytes.len() / 2),
    };
    let err = read(input, &small(), &sb.staging).unwrap_err();
    assert!(matches!(err, PackageError::ReadPackage { .. }), "{err:?}");
    sb.assert_contained();
}

#[test]
fn refuses_garbage() {
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect();
    let sb = Sandbox::new();
    let err = sb.refuse(&garbage, &small());
    assert!(matches!(err, PackageError::Corrupt { .. }), "{err:?}");

    // A flipped byte in a header breaks its checksum.
    let (mut bytes, _) = export_sample();
    bytes[512 * 3 + 10] ^= 0x20;
    let sb = Sandbox::new();
    let err = sb.refuse(&bytes, &small());
    assert!(matches!(err, PackageError::Corrupt { .. }), "{err:?}");

    for empty in [&[][..], &[0u8; 1024][..]] {
        let sb = Sandbox::new();
        let err = sb.refuse(empty, &small());
        assert!(matches!(err, PackageError::MissingManifest), "{err:?}");
    }
}

#[test]
fn refuses_missing_manifest() {
    let sb = Sandbox::new();
    let err = sb.refuse(&tar_of(vec![file(A, b"a")]), &small());
    assert!(matches!(err, PackageError::MissingManifest), "{err:?}");

    // The manifest must come first, not later.
    let sb = Sandbox::new();
    let (mh, md) = manifest_of(vec![info(A, b"a")]);
    let err = sb.refuse(&tar_of(vec![file(A, b"a"), (mh, md)]), &small());
    assert!(matches!(err, PackageError::MissingManifest), "{err:?}");
}

#[test]
fn refuses_other_formats_before_parsing_the_rest() {
    let sb = Sandbox::new();
    let text = "format = 2\n[[bundle]]\nwhatever = true\n";
    let err = sb.refuse(
        &tar_of(vec![file(MANIFEST_PATH, text.as_bytes())]),
        &small(),
    );
    assert!(
        matches!(err, PackageError::UnsupportedFormat { found: 2 }),
        "{err:?}"
    );
}

#[test]
fn refuses_unparsable_manifests() {
    let sha = "a".repeat(64);
    for text in [
        "this is = not [toml".to_string(),
        "created = \"t\"\n".to_string(),
        "format = \"1\"\n".to_string(),
        "format = 1\n".to_string(),
        format!("format = 1\ncreated = \"t\"\n[[file]]\npath = \"{A}\"\nsize = -1\nsha256 = \"{sha}\"\n"),
        format!("format = 1\ncreated = \"t\"\n[[file]]\npath = \"{A}\"\nsize = 1\nsha256 = \"{}\"\n", "A".repeat(64)),
        "format = 1\ncreated = \"t\"\n[[material]]\nid = \"a\"\ntitle = \"a\"\nupdated = \"hôm qua\"\n".to_string(),
    ] {
        let sb = Sandbox::new();
        let err = sb.refuse(&tar_of(vec![file(MANIFEST_PATH, text.as_bytes())]), &small());
        assert!(matches!(err, PackageError::BadManifest { .. }), "{text}: {err:?}");
    }
    let sb = Sandbox::new();
    let err = sb.refuse(
        &tar_of(vec![file(MANIFEST_PATH, b"format = 1\xff")]),
        &small(),
    );
    assert!(matches!(err, PackageError::BadManifest { .. }), "{err:?}");
}

#[test]
fn refuses_non_empty_staging() {
    let sb = Sandbox::new();
    fs::write(sb.staging.join("left-over"), b"").unwrap();
    let (bytes, _) = export_sample();
    let err = sb.read(&bytes, &small()).unwrap_err();
    assert!(
        matches!(err, PackageError::StagingNotEmpty { .. }),
        "{err:?}"
    );
}

#[test]
fn staged_path_only_knows_package_files() {
    let (bytes, _) = export_sample();
    let sb = Sandbox::new();
    let pkg = sb.read(&bytes, &small()).unwrap();
    assert!(pkg.staged_path("lessons/k7m2p.toml").is_some());
    assert_eq!(pkg.staged_path("../../etc/passwd"), None);
    assert_eq!(pkg.staged_path("library/nope.md"), None);
}
