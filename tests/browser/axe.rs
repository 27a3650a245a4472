//! axe-core finds no WCAG 2.2 AA or best-practice violation on any page. axe-core comes from
//! the npm registry at test time (`npm pack`, a pinned version, into `target/`), never from
//! the repository; without npm or the registry the test skips loudly (fails under CI).

use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;

use serde_json::{Value, json};

use crate::browser::{Browser, View, skip};
use crate::pages::{Page, public_pages, staff_pages};
use crate::site::{MANAGER, PASSWORD, Site};

/// The axe-core release the rules come from (a newer one may add rules: bump on purpose).
const AXE_VERSION: &str = "4.14.1";

/// The rule sets asked for.
const TAGS: [&str; 6] = [
    "wcag2a",
    "wcag2aa",
    "wcag21a",
    "wcag21aa",
    "wcag22aa",
    "best-practice",
];

/// Runs axe on the page and hands back its violations, short.
const RUN_JS: &str = r#"
const [tags, done] = arguments;
axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] })
  .then((r) => done(r.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    targets: v.nodes.map((n) => n.target.join(' ')),
  }))))
  .catch((e) => done({ error: String(e) }));
"#;

/// `axe.min.js`, fetched once per build folder.
fn axe_source() -> Option<String> {
    static LOCK: Mutex<()> = Mutex::new(());
    let _one_at_a_time = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("axe-core-{AXE_VERSION}"));
    let file = dir.join("package/axe.min.js");
    if !file.exists() {
        std::fs::create_dir_all(&dir).unwrap();
        let packed = Command::new("npm")
            .args(["pack", &format!("axe-core@{AXE_VERSION}"), "--silent"])
            .arg("--pack-destination")
            .arg(&dir)
            .output();
        let tgz = dir.join(format!("axe-core-{AXE_VERSION}.tgz"));
        match packed {
            Ok(out) if out.status.success() && tgz.exists() => {}
            Ok(out) => {
                skip(
                    &format!(
                        "`npm pack axe-core@{AXE_VERSION}` failed: {}",
                        String::from_utf8_lossy(&out.stderr).trim()
                    ),
                    "reach the npm registry",
                );
                return None;
            }
            Err(e) => {
                skip(
                    &format!("npm could not be run ({e}), so there is no axe-core"),
                    "apt-get install -y npm",
                );
                return None;
            }
        }
        let untar = Command::new("tar")
            .arg("-xzf")
            .arg(&tgz)
            .arg("-C")
            .arg(&dir)
            .arg("package/axe.min.js")
            .status()
            .unwrap();
        assert!(untar.success(), "unpacking {}", tgz.display());
    }
    Some(std::fs::read_to_string(&file).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axe_finds_no_violation_on_any_page() {
    let site = Site::start().await;
    let Some(b) = Browser::start(&site, View::PHONE).await else {
        return;
    };
    let Some(axe) = axe_source() else {
        b.close().await;
        return;
    };
    let mut faults = Vec::new();
    for (pages, login) in [(public_pages(), false), (staff_pages(), true)] {
        if login {
            b.login(MANAGER, PASSWORD).await;
        }
        for page in &pages {
            faults.extend(violations(&b, &axe, page).await);
        }
    }
    b.close().await;
    assert!(
        faults.is_empty(),
        "axe-core {AXE_VERSION} ({}) found {} violation(s):\n{}",
        TAGS.join(", "),
        faults.len(),
        faults.join("\n")
    );
}

/// One line per violation on `page`.
async fn violations(b: &Browser, axe: &str, page: &Page) -> Vec<String> {
    b.goto(&page.path).await;
    assert_eq!(
        b.status().await,
        200,
        "{} ({}) is not there",
        page.name,
        page.path
    );
    // WebDriver scripts run outside the page's Content-Security-Policy.
    b.js(&format!("{axe}\n;return typeof axe;"), vec![]).await;
    let found = b.js_async(RUN_JS, vec![json!(TAGS)]).await;
    if let Some(e) = found.get("error") {
        panic!("axe.run failed on {}: {e}", page.path);
    }
    found
        .as_array()
        .expect("a list of violations")
        .iter()
        .map(|v| {
            let targets: Vec<&str> = v["targets"]
                .as_array()
                .map(|t| t.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let shown = targets
                .iter()
                .take(5)
                .copied()
                .collect::<Vec<_>>()
                .join(", ");
            let more = targets.len().saturating_sub(5);
            format!(
                "{} ({}): {} [{}] {}: {}{}",
                page.name,
                page.path,
                v["id"].as_str().unwrap_or("?"),
                v["impact"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or(""),
                shown,
                if more > 0 {
                    format!(" (and {more} more)")
                } else {
                    String::new()
                }
            )
        })
        .collect()
}
