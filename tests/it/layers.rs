//! The house rule "arrows point down": every `crate::…` and `super::…` path in `src/` may only
//! name a module on the same floor or a lower one, and modules on one floor form no circle.
//! The floors are listed here, once; ARCHITECTURE.md explains them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top floor first. An entry names a module and everything below it, except `=m` (that one
/// module's own file) and `m::*` (every module under `m` not named by a longer entry).
const FLOORS: &[&[&str]] = &[
    // The command line and the fuzzing entry points drive everything.
    &["cli", "fuzzing"],
    // Startup, the accept loop, mDNS.
    &["server"],
    // The router and its layers.
    &["=web"],
    // Handlers.
    &[
        "web::api",
        "web::district_inbox",
        "web::visitor",
        "web::staff",
    ],
    // What handlers share: state, errors, extractors, page frame, files, assets.
    &["web::*"],
    // The live library.
    &["catalog"],
    // Packages and backups.
    &["package"],
    // The district's side: imported summaries, their report, Parquet.
    &["district"],
    // A centre's signed period summaries, and sending one over the network.
    &["summary", "summary_transport"],
    &["lessons"],
    &["usage"],
    // ZIM files served as collections.
    &["collections"],
    &["accounts", "search"],
    // The library's error type (over content's errors, used by search and above).
    &["error"],
    // Documents (PDF, Word, LibreOffice) read as text for materials, in bounded workers; ZIM
    // archives read.
    &["documents", "zim"],
    &["content"],
    // The base: no imports from above.
    &[
        "addresses",
        "box_key",
        "clock",
        "data_dir",
        "fsutil",
        "memory",
        "settings",
    ],
];

/// The module a source file defines (`src/web/staff/auth.rs` → `web::staff::auth`).
fn module_of(rel: &Path) -> String {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts.join("::")
}

/// The floor of a module: the index of its longest matching entry.
fn floor_of(module: &str) -> Option<usize> {
    let mut best: Option<(usize, usize)> = None;
    for (i, floor) in FLOORS.iter().enumerate() {
        for entry in *floor {
            let len = if let Some(exact) = entry.strip_prefix('=') {
                (module == exact).then_some(exact.len() + 1)
            } else if let Some(parent) = entry.strip_suffix("::*") {
                module
                    .strip_prefix(parent)
                    .is_some_and(|rest| rest.starts_with("::"))
                    .then_some(parent.len())
            } else {
                (module == *entry || module.starts_with(&format!("{entry}::")))
                    .then_some(entry.len() + 1)
            };
            if let Some(len) = len
                && best.is_none_or(|(_, l)| len > l)
            {
                best = Some((i, len));
            }
        }
    }
    best.map(|(i, _)| i)
}

/// Every module path named in a file's code (tests and comments left out), resolved to the
/// longest known module.
fn imports(text: &str, module: &str, modules: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.trim_start();
        if code.starts_with("#[cfg(test)]") {
            break;
        }
        if code.starts_with("//") {
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find(['c', 's']) {
            let here = &rest[at..];
            let before = rest[..at].chars().last();
            rest = &rest[at + 1..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let (mut base, tail) = if let Some(t) = here.strip_prefix("crate::") {
                (String::new(), t)
            } else if here.starts_with("super::") {
                let mut base = module.to_string();
                let mut t = here;
                while let Some(next) = t.strip_prefix("super::") {
                    base = base
                        .rsplit_once("::")
                        .map_or(String::new(), |(p, _)| p.to_string());
                    t = next;
                }
                (base, t)
            } else {
                continue;
            };
            // `use super::{a, b::C}`: each name in the group, from the same base.
            let tails: Vec<&str> = match tail.strip_prefix('{') {
                Some(group) => {
                    let inner = &group[..group.find('}').unwrap_or(group.len())];
                    assert!(
                        !inner.contains('{'),
                        "{module}: nested groups in a `use` are not read by the floors test"
                    );
                    inner.split(',').map(str::trim).collect()
                }
                None => vec![tail],
            };
            for mut tail in tails {
                // Follow lower-case segments while they name modules.
                let mut at = base.clone();
                let mut resolved = base.clone();
                while let Some((seg, next)) = split_segment(tail) {
                    let candidate = if at.is_empty() {
                        seg.to_string()
                    } else {
                        format!("{at}::{seg}")
                    };
                    if !modules.contains(&candidate) {
                        break;
                    }
                    resolved = candidate.clone();
                    at = candidate;
                    tail = next;
                }
                if !resolved.is_empty() && resolved != module {
                    out.insert(resolved);
                }
            }
            base.clear();
        }
    }
    out
}

fn split_segment(s: &str) -> Option<(&str, &str)> {
    let end = s
        .find(|c: char| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
        .unwrap_or(s.len());
    if end == 0 {
        return None;
    }
    let rest = s[end..].strip_prefix("::").unwrap_or("");
    Some((&s[..end], rest))
}

/// Module → its source text, for every file under `src/` (the binary's `main.rs` aside: it
/// uses the library by its crate name).
fn sources() -> BTreeMap<String, String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    for e in walkdir::WalkDir::new(&src) {
        let e = e.unwrap();
        let rel = e.path().strip_prefix(&src).unwrap();
        if e.path().extension().is_none_or(|x| x != "rs") || rel == Path::new("main.rs") {
            continue;
        }
        out.insert(module_of(rel), std::fs::read_to_string(e.path()).unwrap());
    }
    out
}

#[test]
fn imports_only_point_down_and_make_no_circles() {
    let files = sources();
    let modules: BTreeSet<String> = files.keys().cloned().collect();
    let mut graph: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut upward = Vec::new();
    for (module, text) in &files {
        if module.is_empty() {
            continue; // lib.rs only declares the floors' modules
        }
        let from = floor_of(module).unwrap_or_else(|| panic!("module {module} is on no floor"));
        let targets = imports(text, module, &modules);
        for t in &targets {
            let to = floor_of(t).unwrap_or_else(|| panic!("module {t} is on no floor"));
            // A module may use its own parent's items only when the parent is no higher.
            if to < from {
                upward.push(format!("{module} (floor {from}) -> {t} (floor {to})"));
            }
        }
        graph.insert(module, targets);
    }
    assert!(
        upward.is_empty(),
        "imports pointing up a floor:\n{}",
        upward.join("\n")
    );
    // No circles: depth-first search over the module graph.
    fn visit<'a>(
        m: &'a str,
        graph: &'a BTreeMap<&str, BTreeSet<String>>,
        state: &mut BTreeMap<&'a str, bool>,
        path: &mut Vec<&'a str>,
    ) -> Option<String> {
        match state.get(m) {
            Some(true) => return None,
            Some(false) => {
                let start = path.iter().position(|p| *p == m).unwrap_or(0);
                return Some(format!("{} -> {m}", path[start..].join(" -> ")));
            }
            None => {}
        }
        state.insert(m, false);
        path.push(m);
        for t in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(t, graph, state, path) {
                return Some(c);
            }
        }
        path.pop();
        state.insert(m, true);
        None
    }
    let mut state = BTreeMap::new();
    for m in graph.keys() {
        if let Some(circle) = visit(m, &graph, &mut state, &mut Vec::new()) {
            panic!("a circle of imports: {circle}");
        }
    }
}

#[test]
fn the_floor_reader_sees_upward_imports_and_circles() {
    let modules: BTreeSet<String> = ["web", "web::state", "clock", "usage", "usage::report"]
        .into_iter()
        .map(String::from)
        .collect();
    let seen = imports(
        "use crate::usage::report::parse_date;\nuse super::AppState;\n// crate::web in a comment\nfn f() { crate::web::router(); }\n#[cfg(test)]\nmod tests { use crate::content; }",
        "clock",
        &modules,
    );
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        ["usage::report", "web"],
        "paths in code are read, comments and tests are not"
    );
    let parent = imports("use super::state::AppState;", "web::staff", &modules);
    assert!(parent.contains("web::state"), "{parent:?}");
    assert!(floor_of("clock") > floor_of("usage::report"));
    assert_eq!(floor_of("web"), Some(2));
    assert_eq!(floor_of("web::state"), Some(4));
    assert_eq!(floor_of("web::staff::auth"), Some(3));
}
