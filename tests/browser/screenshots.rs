//! Not a check: whole-page PNGs of the main pages at 360 px, with normal and with large text,
//! for people to look at. Run by `scripts/screenshots.sh` (ignored by `cargo test`); the folder
//! is `$HOCLIEU_SCREENSHOTS`, else `target/screenshots`.

use std::path::PathBuf;

use crate::browser::{Browser, View};
use crate::pages::{public_pages, staff_pages};
use crate::site::{MANAGER, PASSWORD, Site};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "writes screenshots; run scripts/screenshots.sh"]
async fn screenshots() {
    let out = std::env::var_os("HOCLIEU_SCREENSHOTS").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots"),
        PathBuf::from,
    );
    let site = Site::start().await;
    let mut written = 0;
    for (large_text, folder) in [(false, "360"), (true, "360-large-text")] {
        let view = View {
            large_text,
            ..View::PHONE
        };
        let Some(b) = Browser::start(&site, view).await else {
            return;
        };
        let dir = out.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        for (pages, login) in [(public_pages(), false), (staff_pages(), true)] {
            if login {
                b.login(MANAGER, PASSWORD).await;
            }
            for page in pages {
                b.goto(&page.path).await;
                let png = b.full_screenshot(view).await;
                std::fs::write(dir.join(format!("{}.png", page.name)), png).unwrap();
                written += 1;
            }
        }
        b.close().await;
    }
    println!("{written} screenshots in {}", out.display());
}
