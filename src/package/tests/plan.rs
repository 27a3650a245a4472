//! Tests of planning and applying: how package files compare with installed ones by checksum
//! and date, and that applying hands over exactly the planned files, in order.

use super::*;
use crate::package::plan::PackageDates;
use std::collections::HashMap;
use std::io;

// ---- plan and apply ----

const MD: &str = "library/agriculture/lua-vu-xuan.md";
const SVG: &str = "library/agriculture/lua-vu-xuan.svg";
const LESSON: &str = "lessons/k7m2p.toml";
const UNDATED: &str = "library/health/nuoc-sach.md";
const PDF: &str = "library/empty.pdf";

fn sample_package(sb: &Sandbox) -> Package {
    let (bytes, _) = export_sample();
    sb.read(&bytes, &small()).unwrap()
}

fn sha_of(pkg: &Package, path: &str) -> String {
    pkg.files().find(|f| f.path == path).unwrap().sha256.clone()
}

fn local(sha: &str, updated: Option<&str>) -> LocalFile {
    LocalFile {
        sha256: sha.into(),
        updated: updated.map(String::from),
    }
}

fn changes(planned: &[Planned]) -> Vec<(&str, Change)> {
    planned
        .iter()
        .map(|p| (p.path.as_str(), p.change))
        .collect()
}

#[test]
fn plan_new_same_changed_conflict() {
    let sb = Sandbox::new();
    let pkg = sample_package(&sb);
    let other = "f".repeat(64);
    let installed: HashMap<&str, LocalFile> = [
        (MD, local(&other, Some("2026-11-28"))), // older locally: Changed
        (SVG, local(&other, Some("2026-12-01"))), // newer locally: Conflict
        (LESSON, local(&sha_of(&pkg, LESSON), None)),
        (UNDATED, local(&other, None)),
    ]
    .into_iter()
    .collect();
    let planned = plan(&pkg, |p| installed.get(p).cloned());
    assert_eq!(
        changes(&planned),
        vec![
            (LESSON, Change::Same),
            (MD, Change::Changed),
            (SVG, Change::Conflict),
            (PDF, Change::New),
            (UNDATED, Change::Changed),
        ]
    );
    let svg = &planned[2];
    assert!(svg.reason.contains("2026-12-01") && svg.reason.contains("2026-11-29"));
}

#[test]
fn plan_dates_equal_is_changed_and_undated_package_is_conflict() {
    let sb = Sandbox::new();
    let pkg = sample_package(&sb);
    let other = "f".repeat(64);
    let planned = plan(&pkg, |p| match p {
        MD => Some(local(&other, Some("2026-11-29"))),
        UNDATED => Some(local(&other, Some("2020-01-01"))),
        _ => None,
    });
    let find = |path| planned.iter().find(|p| p.path == path).unwrap().change;
    assert_eq!(find(MD), Change::Changed);
    assert_eq!(
        find(UNDATED),
        Change::Conflict,
        "local has a date, package none"
    );
}

#[test]
fn lessons_that_differ_are_changed_whatever_the_dates() {
    let sb = Sandbox::new();
    let pkg = sample_package(&sb);
    let planned = plan(&pkg, |p| {
        (p == LESSON).then(|| local(&"0".repeat(64), Some("2999-01-01")))
    });
    let lesson = planned.iter().find(|p| p.path == LESSON).unwrap();
    assert_eq!(lesson.change, Change::Changed);
}

#[test]
fn attachments_belong_to_the_longest_matching_material_in_their_folder() {
    let materials = vec![
        material("a/lua", Some("2026-01-01")),
        material("a/lua-xuan", Some("2026-06-01")),
        material("b/lua-xuan-2", Some("2026-09-01")),
        material("a/cam", None),
    ];
    let dates = PackageDates::new(&materials);
    let owner = |p| dates.owner(p).map(|m| m.id.as_str());
    assert_eq!(owner("library/a/lua-xuan-lich.svg"), Some("a/lua-xuan"));
    assert_eq!(owner("library/a/lua.pdf"), Some("a/lua"));
    assert_eq!(owner("library/a/lua_2.jpg"), Some("a/lua"));
    assert_eq!(
        owner("library/a/luam.jpg"),
        None,
        "needs . - or _ after the name"
    );
    assert_eq!(owner("library/b/lua.pdf"), None, "other folder");
    assert_eq!(owner("library/a/lua-xuan.md"), Some("a/lua-xuan"));
    assert_eq!(owner("lessons/lua-xuan.toml"), None);
}

#[test]
fn apply_puts_new_and_changed_files_in_order() {
    let sb = Sandbox::new();
    let pkg = sample_package(&sb);
    let other = "f".repeat(64);
    let planned = plan(&pkg, |p| match p {
        MD => Some(local(&other, Some("2026-01-01"))),
        SVG => Some(local(&other, Some("2027-01-01"))),
        LESSON => Some(local(&sha_of(&pkg, LESSON), None)),
        _ => None,
    });
    let mut reversed = planned.clone();
    reversed.reverse();
    let mut put = Vec::new();
    let applied = apply(&pkg, &reversed, false, |path, staged| {
        put.push((path.to_string(), fs::read(staged).unwrap()));
        Ok(())
    })
    .unwrap();
    let paths: Vec<&str> = put.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(paths, vec![MD, PDF, UNDATED]);
    let originals: HashMap<String, Vec<u8>> = sample_files()
        .into_iter()
        .map(|e| (e.path, e.bytes))
        .collect();
    for (path, bytes) in &put {
        assert_eq!(&originals[path], bytes, "{path}: the staged bytes");
    }
    assert_eq!(
        applied,
        Applied {
            new: 2,
            changed: 1,
            conflicts_applied: 0,
            conflicts_skipped: 1,
            same: 1,
        }
    );

    let mut put = Vec::new();
    let applied = apply(&pkg, &planned, true, |path, _| {
        put.push(path.to_string());
        Ok(())
    })
    .unwrap();
    assert_eq!(
        put,
        vec![MD, SVG, PDF, UNDATED],
        "the same lesson is not put"
    );
    assert_eq!(applied.conflicts_applied, 1);
}

#[test]
fn apply_stops_at_the_first_failure() {
    let sb = Sandbox::new();
    let pkg = sample_package(&sb);
    let planned = plan(&pkg, |_| None);
    let mut calls = 0;
    let err = apply(&pkg, &planned, false, |path, _| {
        calls += 1;
        if path == PDF {
            Err(io::Error::other("disk full"))
        } else {
            Ok(())
        }
    })
    .unwrap_err();
    assert!(
        matches!(&err, PackageError::Install { path, .. } if path == PDF),
        "{err:?}"
    );
    assert_eq!(
        calls, 4,
        "{LESSON}, {MD}, {SVG}, then {PDF} failed; {UNDATED} not tried"
    );
}

#[test]
fn apply_refuses_plans_for_files_not_in_the_package() {
    let sb = Sandbox::new();
    let pkg = sample_package(&sb);
    let forged = vec![Planned {
        path: "../../etc/passwd".into(),
        change: Change::New,
        reason: String::new(),
    }];
    let mut called = false;
    let err = apply(&pkg, &forged, true, |_, _| {
        called = true;
        Ok(())
    })
    .unwrap_err();
    assert!(matches!(err, PackageError::NotInManifest { .. }), "{err:?}");
    assert!(!called);
}
