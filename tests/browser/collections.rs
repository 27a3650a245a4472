//! A ZIM collection's pages in a real browser: its styles and pictures load under the sandbox
//! policy, its scripts run, and those scripts cannot read the box's cookies or storage, reach
//! the box's pages, or send anything.

use std::process::Command;

use crate::browser::{Browser, View, skip};
use crate::http::Plain;
use crate::site::{MANAGER, PASSWORD, Site};

/// The page's script records what it could do; the test reads `window.probe`.
const PAGE: &str = r#"<!DOCTYPE html><html><head><meta charset="utf-8"><title>Trồng lúa</title>
<link rel="stylesheet" href="s.css"></head><body><h1>Trồng lúa nước</h1>
<img id="anh" src="anh.png" alt="">
<script>
window.probe = { ran: true, origin: String(self.origin) };
try { window.probe.cookie = document.cookie; } catch (e) { window.probe.cookie = 'blocked'; }
try { window.probe.storage = typeof localStorage.getItem('x'); } catch (e) { window.probe.storage = 'blocked'; }
fetch('/admin').then(r => { window.probe.fetch = 'status ' + r.status; },
                     e => { window.probe.fetch = 'blocked'; });
</script></body></html>"#;

fn png() -> Vec<u8> {
    let mut out = Vec::new();
    image::RgbImage::from_pixel(48, 48, image::Rgb([10, 120, 40]))
        .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zim_page_runs_fenced_off_from_the_box() {
    if Command::new("zimwriterfs")
        .arg("--version")
        .output()
        .is_err()
    {
        skip(
            "zimwriterfs is missing",
            "apt-get install zim-tools (.ci/run does it)",
        );
        return;
    }
    let site = Site::start().await;
    let Some(b) = Browser::start(&site, View::PHONE).await else {
        return;
    };
    let html = site.scratch("zim-site");
    std::fs::write(html.join("index.html"), PAGE).unwrap();
    std::fs::write(html.join("s.css"), "h1 { color: rgb(1, 2, 3) }").unwrap();
    std::fs::write(html.join("anh.png"), png()).unwrap();
    let out = site.scratch("zim-out").join("thu.zim");
    let made = Command::new("zimwriterfs")
        .args([
            "--welcome=index.html",
            "--illustration=anh.png",
            "--language=vie",
            "--title=Thư viện thử",
            "--description=Thử trong trình duyệt",
            "--creator=hoclieu",
            "--publisher=hoclieu",
            "--withoutFTIndex",
        ])
        .arg(&html)
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    std::fs::create_dir_all(site.data.join("zim")).unwrap();
    std::fs::copy(&out, site.data.join("zim/thu.zim")).unwrap();
    // The box looks at the folder every few seconds.
    let plain = Plain::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while plain.get(&site.url("/z/thu/index.html"), None).await.status != 200 {
        assert!(
            std::time::Instant::now() < deadline,
            "the collection never appeared"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    // A logged-in manager, whose session cookie the page must not reach.
    b.login(MANAGER, PASSWORD).await;
    b.goto("/").await;
    assert!(b.text().await.contains("Thư viện thử"));
    b.goto("/z/thu/index.html").await;
    b.wait_until(
        "return !!(window.probe && window.probe.fetch);",
        "the page's script to finish",
    )
    .await;
    let probe = b.js("return window.probe;", vec![]).await;
    let color = b
        .js(
            "return getComputedStyle(document.querySelector('h1')).color;",
            vec![],
        )
        .await;
    let img = b
        .js(
            "return document.getElementById('anh').naturalWidth;",
            vec![],
        )
        .await;
    b.close().await;
    assert_eq!(probe["ran"], true, "{probe}");
    assert_eq!(
        probe["origin"], "null",
        "the page must have an origin of its own: {probe}"
    );
    assert_eq!(probe["cookie"], "blocked", "{probe}");
    assert_eq!(probe["storage"], "blocked", "{probe}");
    assert_eq!(probe["fetch"], "blocked", "{probe}");
    assert_eq!(
        color, "rgb(1, 2, 3)",
        "the style sheet loads under the sandbox"
    );
    assert_eq!(img, 48, "the picture loads under the sandbox");
}
