//! No page is wider than a small phone: every public and staff page at 320 and 360 px, with
//! normal text and with text at 150 % (Chromium's default font size 24 px instead of 16 px,
//! as a phone's "large text" setting gives), must have
//! `document.documentElement.scrollWidth <= window.innerWidth`.

use serde_json::Value;

use crate::browser::{Browser, View};
use crate::pages::{Page, public_pages, staff_pages};
use crate::site::{MANAGER, PASSWORD, Site};

/// The widths looked at.
const WIDTHS: [u32; 2] = [320, 360];

/// Measures the page; names the innermost elements that stick out past the right edge.
const MEASURE_JS: &str = r#"
const de = document.documentElement, iw = window.innerWidth;
const name = (el) => {
  let s = el.tagName.toLowerCase();
  if (el.id) s += '#' + el.id;
  if (typeof el.className === 'string' && el.className.trim()) s += '.' + el.className.trim().split(/\s+/).join('.');
  const t = (el.innerText || el.getAttribute('href') || '').trim().replace(/\s+/g, ' ').slice(0, 40);
  return t ? s + ' "' + t + '"' : s;
};
// Inside a box that scrolls or clips sideways, an element widens nothing.
const clipped = (el) => {
  for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
    if (getComputedStyle(a).overflowX !== 'visible') return true;
  }
  return false;
};
const wide = [];
for (const el of document.body.querySelectorAll('*')) {
  if (clipped(el)) continue;
  const r = el.getBoundingClientRect();
  const inner = el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible'
    ? r.left + el.scrollWidth : r.right;
  if (r.width > 0 && Math.max(r.right, inner) > iw + 0.5) wide.push([el, Math.round(Math.max(r.right, inner))]);
}
const leaves = wide.filter(([el]) => !wide.some(([o]) => o !== el && el.contains(o)));
return {
  scrollWidth: de.scrollWidth,
  innerWidth: iw,
  offenders: leaves.slice(0, 6).map(([el, right]) => name(el) + ' reaches ' + right + 'px'),
};
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_page_is_wider_than_a_small_phone() {
    let site = Site::start().await;
    let mut faults = Vec::new();
    for large_text in [false, true] {
        let view = View {
            width: WIDTHS[0],
            height: 640,
            large_text,
        };
        let Some(b) = Browser::start(&site, view).await else {
            return;
        };
        // The setting itself, on a page with no style of its own.
        b.client().goto("about:blank").await.unwrap();
        let font = b
            .js(
                "return getComputedStyle(document.documentElement).fontSize;",
                vec![],
            )
            .await;
        let want = if large_text { "24px" } else { "16px" };
        assert_eq!(font, want, "Chromium's default font size did not take");
        // Public pages first (the login page among them), then the staff pages once logged in.
        for (pages, login) in [(public_pages(), false), (staff_pages(), true)] {
            if login {
                b.login(MANAGER, PASSWORD).await;
            }
            for width in WIDTHS {
                b.set_view(View { width, ..view }).await;
                for page in &pages {
                    if let Some(fault) = measure(&b, page, width, large_text).await {
                        faults.push(fault);
                    }
                }
            }
        }
        b.close().await;
    }
    assert!(
        faults.is_empty(),
        "{} page view(s) are wider than the phone (scrollWidth > innerWidth):\n{}",
        faults.len(),
        faults.join("\n")
    );
}

/// `None` when the page fits; else what sticks out.
async fn measure(b: &Browser, page: &Page, width: u32, large_text: bool) -> Option<String> {
    b.goto(&page.path).await;
    let status = b.status().await;
    assert_eq!(
        status,
        200,
        "{} ({}) answered {status}; the page says:\n{}",
        page.name,
        page.path,
        b.text().await
    );
    let m = b.js(MEASURE_JS, vec![]).await;
    let (sw, iw) = (num(&m["scrollWidth"]), num(&m["innerWidth"]));
    assert_eq!(
        iw,
        u64::from(width),
        "the viewport is not {width} px wide: {m}"
    );
    (sw > iw).then(|| {
        let offenders: Vec<&str> = m["offenders"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        format!(
            "{} ({}) at {width} px, text {}: scrollWidth {sw} > innerWidth {iw}; sticking out: {}",
            page.name,
            page.path,
            if large_text { "150 %" } else { "100 %" },
            if offenders.is_empty() {
                "(no single element found)".to_string()
            } else {
                offenders.join("; ")
            }
        )
    })
}

fn num(v: &Value) -> u64 {
    v.as_f64().map_or(0, |f| f as u64)
}
