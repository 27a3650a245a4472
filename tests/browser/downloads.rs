//! Downloads arrive whole through a real browser, which asks for compression: attachments over
//! 64 KB served from disk, the package export and the backup, each fetched by the page and
//! compared (length and SHA-256) with the file or with a plain download that asks for none.

use crate::browser::{Browser, View};
use crate::fetch::{Fetched, fetch, fetch_post, whole};
use crate::http::Plain;
use crate::site::{
    BIG_FILES, BIG_MATERIAL, CENTRE_FILE, MANAGER, PASSWORD, Site, hoclieu, sha256_hex,
};

/// Larger downloads were seen cut short under compression; smaller ones would prove nothing.
const LARGE: usize = 64 * 1024;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn downloads_arrive_byte_identical_through_the_browser_with_compression() {
    let site = Site::start().await;
    let Some(b) = Browser::start(&site, View::PHONE).await else {
        return;
    };
    let plain = Plain::new();
    let mut faults = Vec::new();

    // Attachments, read from disk: the file itself is the yardstick.
    b.goto(&format!("/m/{BIG_MATERIAL}")).await;
    let (centre_rel, centre_len) = CENTRE_FILE;
    let files = BIG_FILES
        .iter()
        .map(|&(rel, len)| (site.library.join(rel), rel, len))
        .chain([(
            site.data.join("library").join(centre_rel),
            centre_rel,
            centre_len,
        )]);
    for (disk, rel, len) in files {
        let want = std::fs::read(&disk).unwrap();
        assert_eq!(want.len(), len, "fixture {rel} has the wrong size");
        let path = format!("/m/{rel}");
        let direct = plain.get(&site.url(&path), None).await;
        check_plain(&direct, &path).unwrap();
        assert_eq!(
            direct.body, want,
            "the plain download of {path} is not the file"
        );
        let got = fetch(&b, &path, false).await;
        if let Err(why) = whole(&got, want.len(), &sha256_hex(&want)) {
            faults.push(format!("attachment {path}: {why}"));
        }
    }

    b.login(MANAGER, PASSWORD).await;
    let cookie = b.cookie_header().await;
    b.goto("/admin/packages").await;
    if let Err(why) = package_arrives_whole(&b, &plain, &site, &cookie).await {
        faults.push(format!("package /admin/packages/export: {why}"));
    }
    if let Err(why) = backup_arrives_whole(&b, &plain, &site, &cookie).await {
        faults.push(format!("backup /admin/backup: {why}"));
    }
    b.close().await;
    assert!(
        faults.is_empty(),
        "{} download(s) did not arrive whole in Chromium:\n{}\nserver log:\n{}",
        faults.len(),
        faults.join("\n"),
        site.log_tail()
    );
}

/// The package names the second it was made: a plain download just before and just after the
/// browser's brackets it, and the browser's copy must equal one of them.
async fn package_arrives_whole(
    b: &Browser,
    plain: &Plain,
    site: &Site,
    cookie: &str,
) -> Result<(), String> {
    const PATH: &str = "/admin/packages/export";
    // An export is a POST carrying the session's form token, as the page's button sends it.
    let token = form_token(plain, site, cookie).await?;
    let form = [("token", token.as_str())];
    let body = format!("token={token}");
    for _ in 0..3 {
        let before = plain.post_form(&site.url(PATH), Some(cookie), &form).await;
        let got = fetch_post(b, PATH, false, &body).await;
        let after = plain.post_form(&site.url(PATH), Some(cookie), &form).await;
        check_plain(&before, PATH)?;
        check_plain(&after, PATH)?;
        let (sb, sa) = (sha256_hex(&before.body), sha256_hex(&after.body));
        if whole(&got, before.body.len(), &sb).is_ok() || whole(&got, after.body.len(), &sa).is_ok()
        {
            return Ok(());
        }
        if got.error.is_some() || got.received != before.body.len() || sb == sa {
            return Err(whole(&got, before.body.len(), &sb).unwrap_err());
        }
        // The clock passed a second between the plain downloads: try again.
    }
    Err("three tries, and each time the package changed between the downloads".into())
}

/// A backup holds the live database (each staff request updates its session row), so it is
/// never the same twice: the browser's copy must be as long as a plain one and restore with
/// `hoclieu restore`, which checks every file against the SHA-256 in its manifest.
async fn backup_arrives_whole(
    b: &Browser,
    plain: &Plain,
    site: &Site,
    cookie: &str,
) -> Result<(), String> {
    const PATH: &str = "/admin/backup";
    // A backup is made by a POST carrying the session's form token, as the staff menu's button.
    let token = form_token(plain, site, cookie).await?;
    let direct = plain
        .post_form(&site.url(PATH), Some(cookie), &[("token", &token)])
        .await;
    check_plain(&direct, PATH)?;
    let got = fetch_post(b, PATH, true, &format!("token={token}")).await;
    let bytes = got.bytes.clone().unwrap_or_default();
    let sha = sha256_hex(&bytes);
    if got.status != 200 || got.error.is_some() || got.received != direct.body.len() {
        return Err(format!(
            "expected 200 and {} bytes (as the plain download); the browser got {got}",
            direct.body.len()
        ));
    }
    if sha != got.sha256 {
        return Err(format!(
            "the page's SHA-256 and the bytes it handed over differ: {got}"
        ));
    }
    restores(site, &bytes, &got)
}

/// The session's form token, as the staff pages carry it.
async fn form_token(plain: &Plain, site: &Site, cookie: &str) -> Result<String, String> {
    let page = plain.get(&site.url("/admin"), Some(cookie)).await;
    let html = String::from_utf8_lossy(&page.body).into_owned();
    html.split("name=\"token\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(str::to_string)
        .ok_or_else(|| "no form token on /admin".to_string())
}

/// Whether `hoclieu restore` takes the bytes into an empty data folder.
fn restores(site: &Site, bytes: &[u8], got: &Fetched) -> Result<(), String> {
    let dir = site.scratch("restore");
    let file = dir.join("browser.hoclieu-backup.tar");
    std::fs::write(&file, bytes).unwrap();
    let out = hoclieu(&site.config())
        .arg("restore")
        .arg(&file)
        .arg("--data")
        .arg(dir.join("data"))
        .output()
        .unwrap();
    if out.status.success() {
        return Ok(());
    }
    Err(format!(
        "the browser's copy ({got}) does not restore: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    ))
}

/// The yardstick itself must be sound: 200, no Content-Encoding, large enough to matter.
fn check_plain(r: &crate::http::Reply, path: &str) -> Result<(), String> {
    let enc = r.headers.get("content-encoding");
    if r.status != 200 || enc.is_some() || r.body.len() <= LARGE {
        return Err(format!(
            "the plain download (no Accept-Encoding) of {path} is not a large whole file: \
             status {}, Content-Encoding {enc:?}, {} bytes: {}",
            r.status,
            r.body.len(),
            r.text().chars().take(300).collect::<String>()
        ));
    }
    Ok(())
}
