//! Property tests: whatever a client or a file holds, these paths answer without panicking and
//! keep their promises (offsets on character boundaries, escaped snippets, files that read back).

use std::sync::OnceLock;

use hoclieu::content::material::{self, Parsed};
use hoclieu::content::{Category, Library, Source};
use hoclieu::search::SearchIndex;
use hoclieu::search::analyzer::{Mode, tokens, words};
use hoclieu::search::snippet::snippet;
use proptest::prelude::*;

fn fixture() -> &'static (Library, SearchIndex) {
    static F: OnceLock<(Library, SearchIndex)> = OnceLock::new();
    F.get_or_init(|| {
        let lib = Library::load(Source::dir(&crate::util::fixture_dir()).unwrap());
        let idx = SearchIndex::in_memory(&lib).unwrap();
        (lib, idx)
    })
}

/// Text mixing Vietnamese letters, combining marks, ASCII, punctuation and odd characters.
fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("lúa".to_string()),
            Just("trồng".to_string()),
            Just("Đ".to_string()),
            Just("\u{0301}".to_string()),
            Just("\u{0323}".to_string()),
            Just(" ".to_string()),
            Just("'".to_string()),
            Just("<b>".to_string()),
            Just("&".to_string()),
            any::<char>().prop_map(|c| c.to_string()),
            "[a-zA-Z0-9]{1,8}",
        ],
        0..40,
    )
    .prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn any_query_is_answered(q in text(), offset in 0usize..100, limit in 0usize..60) {
        let (lib, idx) = fixture();
        let cat = [None, Some(Category::Health)][offset % 2];
        let r = idx.search(lib, &q, cat, limit, offset).unwrap();
        prop_assert!(r.hits.len() <= limit.max(1));
        for h in &r.hits {
            prop_assert!(lib.get(&h.id).is_some());
        }
    }

    #[test]
    fn token_offsets_are_character_boundaries(t in text()) {
        for mode in [Mode::Fold, Mode::Exact, Mode::Pair] {
            for tok in tokens(&t, mode) {
                prop_assert!(tok.offset_from <= tok.offset_to && tok.offset_to <= t.len());
                prop_assert!(t.is_char_boundary(tok.offset_from) && t.is_char_boundary(tok.offset_to));
                prop_assert!(!tok.text.is_empty());
            }
        }
        for w in words(&t) {
            prop_assert!(t.is_char_boundary(w.start) && t.is_char_boundary(w.end));
            // Folded forms carry no marks.
            let marked = w.folded.chars().any(|c| "áàảãạđ\u{0301}".contains(c));
            prop_assert!(!marked, "folded {:?}", w.folded);
        }
    }

    #[test]
    fn snippets_are_escaped_and_never_panic(t in text(), bytes in proptest::collection::vec(any::<u8>(), 0..200), max in 1usize..300) {
        for input in [t.as_bytes().to_vec(), bytes] {
            if let Some(s) = snippet(&input, &["lua", "trong", "d"], max) {
                // Only our own tags are markup; everything from the text is escaped.
                let stripped = s.replace("<b>", "").replace("</b>", "");
                prop_assert!(!stripped.contains('<') && !stripped.contains('>'), "{}", s);
                prop_assert_eq!(s.matches("<b>").count(), s.matches("</b>").count());
            }
        }
    }

    #[test]
    fn material_files_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..400), t in text()) {
        let _ = material::parse(&bytes);
        let with_front = format!("+++\ntitle = \"{}\"\ncategory = \"law\"\n+++\n{}", t.replace(['"', '\\'], ""), t);
        let _ = material::parse(with_front.as_bytes());
    }

    #[test]
    fn written_materials_read_back(title in "[^\u{0}-\u{1f}]{1,60}", body in text(), tags in proptest::collection::vec("[a-zà-ỹ ]{1,12}", 0..4)) {
        prop_assume!(!title.trim().is_empty());
        let p = Parsed {
            title: title.clone(),
            category: Category::Agriculture,
            language: "vi".into(),
            tags: tags.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect(),
            summary: String::new(),
            updated: None,
            featured: false,
            body: body.clone(),
            converted_from: None,
            document: None,
        };
        if let Ok(text) = material::write(&p) {
            let back = material::parse(text.as_bytes()).unwrap();
            prop_assert_eq!(back.title, title.trim());
            prop_assert_eq!(back.tags, p.tags);
        }
    }

    #[test]
    fn upload_names_always_make_safe_library_paths(name in any::<String>()) {
        let slug = hoclieu::web::staff::materials::slug(&name);
        prop_assert!(!slug.is_empty() && slug.len() <= 64, "{:?}", slug);
        prop_assert!(slug.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'), "{:?}", slug);
        let rel = format!("health/oresol-{slug}.png");
        prop_assert!(hoclieu::content::centre::valid_rel(&rel), "{}", rel);
    }

    #[test]
    fn cookie_headers_never_panic(h in "[ -~]{0,200}") {
        let mut headers = axum::http::HeaderMap::new();
        if let Ok(v) = axum::http::HeaderValue::from_str(&h) {
            headers.insert("cookie", v);
        }
        let _ = hoclieu::web::participant::cookie_value(&headers, "hl_p");
    }
}

/// Every input the fuzzers keep (seeds and anything they found) replays without a panic.
#[test]
fn fuzz_corpora_replay() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    type Target = (&'static str, fn(&[u8]));
    let targets: [Target; 6] = [
        ("front_matter", hoclieu::fuzzing::material_file),
        ("search_query", hoclieu::fuzzing::search_query),
        ("package_read", hoclieu::fuzzing::package),
        ("range_header", hoclieu::fuzzing::request_headers),
        ("document", hoclieu::fuzzing::document),
        ("zim", hoclieu::fuzzing::zim),
    ];
    let mut replayed = 0;
    for (name, run) in targets {
        for entry in std::fs::read_dir(root.join(name)).unwrap() {
            let bytes = std::fs::read(entry.unwrap().path()).unwrap();
            run(&bytes);
            replayed += 1;
        }
    }
    assert!(replayed >= 8, "the seed corpora are in the repository");
}
