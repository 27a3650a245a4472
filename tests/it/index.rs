//! The on-disk index: built when missing, reused when current, rebuilt when stale or damaged.

use hoclieu::content::{Library, Source};
use hoclieu::search::{Opened, SearchIndex};

fn library(dir: &std::path::Path) -> Library {
    Library::load(Source::dir(dir).unwrap())
}

#[test]
fn builds_reuses_and_rebuilds_when_stale() {
    let tmp = tempfile::tempdir().unwrap();
    let lib_dir = tmp.path().join("lib");
    crate::util::copy_tree(&crate::util::fixture_dir(), &lib_dir);
    let data = tmp.path().join("data");

    let lib = library(&lib_dir);
    let (idx, opened) = SearchIndex::open_or_build(&data, &lib).unwrap();
    assert!(matches!(opened, Opened::Built { .. }));
    assert_eq!(idx.num_docs(), 9);
    drop(idx);

    let (_, opened) = SearchIndex::open_or_build(&data, &lib).unwrap();
    assert_eq!(opened, Opened::Reused);

    std::fs::write(
        lib_dir.join("law/moi.md"),
        "+++\ntitle = \"Tài liệu mới về sổ hộ khẩu\"\ncategory = \"law\"\n+++\nSổ hộ khẩu giấy.\n",
    )
    .unwrap();
    let lib = library(&lib_dir);
    let (idx, opened) = SearchIndex::open_or_build(&data, &lib).unwrap();
    assert!(
        matches!(opened, Opened::Built { ref reason } if reason.contains("changed")),
        "{opened:?}"
    );
    assert!(idx.contains("law/moi"));
    let r = idx.search(&lib, "so ho khau", None, 5, 0).unwrap();
    assert_eq!(r.hits[0].id, "law/moi");
}

#[test]
fn corrupt_or_truncated_index_is_rebuilt() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let lib = library(&crate::util::fixture_dir());
    SearchIndex::open_or_build(&data, &lib).unwrap();

    // Garbage meta.json.
    std::fs::write(data.join("index/meta.json"), b"{ not json").unwrap();
    let (idx, opened) = SearchIndex::open_or_build(&data, &lib).unwrap();
    assert!(matches!(opened, Opened::Built { .. }), "{opened:?}");
    assert_eq!(idx.num_docs(), 9);
    drop(idx);

    // Every segment file truncated to nothing.
    for e in std::fs::read_dir(data.join("index")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with(".json") && !name.starts_with('.') {
            std::fs::write(&p, b"").unwrap();
        }
    }
    let (idx, opened) = SearchIndex::open_or_build(&data, &lib).unwrap();
    assert!(matches!(opened, Opened::Built { .. }), "{opened:?}");
    assert_eq!(
        idx.search(&lib, "oresol", None, 5, 0).unwrap().hits[0].id,
        "health/oresol"
    );
}
