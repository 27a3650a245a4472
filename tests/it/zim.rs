//! The ZIM reader on archives made by zim-tools as a centre's would be, on the layouts and
//! compressions older archives use, and on damaged and hostile files.

use hoclieu::zim::{Archive, Articles, Target, ZimError};

use crate::zimmaker::{self, Item, Layout, Packing};

/// The site the zimwriterfs tests pack: Vietnamese pages, a picture, a style sheet, a page in
/// a folder and a redirect page.
fn site() -> Vec<(&'static str, Vec<u8>)> {
    let page = |title: &str, body: &str| {
        format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{title}</title>\
             <link rel=\"stylesheet\" href=\"style.css\"></head><body><h1>{title}</h1>{body}</body></html>"
        )
        .into_bytes()
    };
    vec![
        (
            "index.html",
            page(
                "Trang chính",
                "<p><a href=\"trong_lua.html\">Trồng lúa</a> <a href=\"y_te/sot.html\">Sốt</a></p>",
            ),
        ),
        (
            "trong_lua.html",
            page(
                "Trồng lúa nước",
                "<p>Gieo mạ, cấy lúa và bón phân đúng lúc.</p><img src=\"anh/lua.png\">",
            ),
        ),
        (
            "y_te/sot.html",
            page(
                "Trẻ bị sốt",
                "<p>Đo nhiệt độ, cho uống nhiều nước.</p>\
                 <h2 id=\"ha-sot\">Hạ sốt</h2><p>Chườm ấm, mặc thoáng.</p>",
            ),
        ),
        (
            "lua.html",
            b"<html><head><meta http-equiv=\"refresh\" content=\"0;url=trong_lua.html\"></head></html>"
                .to_vec(),
        ),
        ("style.css", b"body { font-family: sans-serif }".to_vec()),
        ("anh/lua.png", zimmaker::illustration()),
    ]
}

fn content(zim: &Archive, url: &str) -> Option<(String, Vec<u8>)> {
    let i = zim.lookup(url).unwrap()?;
    let (_, d) = zim.resolve(i).unwrap();
    let Target::Item {
        mime,
        cluster,
        blob,
    } = d.target
    else {
        return None;
    };
    let b = zim.blob(cluster, blob).unwrap();
    Some((
        zim.mime(mime).to_string(),
        zim.read_blob(&b, 1 << 24).unwrap(),
    ))
}

fn article_titles(zim: &Archive) -> Vec<String> {
    let articles = zim.articles().unwrap();
    (0..articles.len())
        .map(|k| {
            let (_, d) = zim.resolve(zim.article(&articles, k).unwrap()).unwrap();
            String::from_utf8(d.title).unwrap()
        })
        .collect()
}

#[test]
fn an_archive_made_by_zimwriterfs_reads_back_byte_for_byte() {
    if !zimmaker::have_zim_tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("thu.zim");
    let files = site();
    zimmaker::zimwriterfs(dir.path(), &files, "index.html", &out);
    let zim = Archive::open(&out).unwrap();
    assert!(zim.new_layout());
    assert_eq!(
        zim.metadata("Title").unwrap().as_deref(),
        Some("Thư viện thử")
    );
    assert_eq!(zim.metadata("Language").unwrap().as_deref(), Some("vie"));
    assert_eq!(zim.metadata("Nothing").unwrap(), None);
    let main = zim.main_page().unwrap().unwrap();
    assert_eq!(zim.url_path(&zim.dirent(main).unwrap()), "index.html");
    for (path, bytes) in files.iter().filter(|f| f.0 != "lua.html") {
        let (mime, got) = content(&zim, path).unwrap_or_else(|| panic!("{path} missing"));
        assert_eq!(&got, bytes, "{path}");
        assert!(!mime.is_empty());
    }
    // The meta-refresh page became a redirect to the page it names.
    let i = zim.lookup("lua.html").unwrap().unwrap();
    assert!(matches!(zim.dirent(i).unwrap().target, Target::Redirect(_)));
    let (_, d) = zim.resolve(i).unwrap();
    assert_eq!(d.path, b"trong_lua.html");
    assert_eq!(zim.lookup("khong_co.html").unwrap(), None);
    assert_eq!(zim.lookup("").unwrap(), None);
    // The front articles are the pages, in title order, not the style sheet or the picture.
    let titles = article_titles(&zim);
    assert!(titles.contains(&"Trồng lúa nước".to_string()), "{titles:?}");
    assert!(titles.contains(&"Trẻ bị sốt".to_string()), "{titles:?}");
    assert!(
        !titles
            .iter()
            .any(|t| t.ends_with(".css") || t.ends_with(".png"))
    );
    let checked = zim.verify(|_, _| {}).unwrap();
    assert!(checked.checksum);
    assert!(checked.redirects >= 2, "W/mainPage and lua.html");
}

#[test]
fn a_split_archive_reads_as_the_whole() {
    if !zimmaker::have_zim_tools() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("thu.zim");
    // Big enough to need parts: a picture of noise that does not compress.
    let mut files = site();
    let noise: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    files.push(("anh/nhieu.bin", noise.clone()));
    zimmaker::zimwriterfs(dir.path(), &files, "index.html", &out);
    let parts = zimmaker::zimsplit(&out, 100_000);
    let filled = parts
        .iter()
        .filter(|p| p.metadata().unwrap().len() > 0)
        .count();
    assert!(filled >= 2, "{parts:?}");
    let whole = Archive::open(&out).unwrap();
    let split = Archive::open(&parts[0]).unwrap();
    assert_eq!(split.paths().len(), parts.len());
    assert_eq!(split.size(), whole.size());
    assert_eq!(split.uuid(), whole.uuid());
    assert_eq!(content(&split, "anh/nhieu.bin").unwrap().1, noise);
    assert_eq!(
        content(&split, "trong_lua.html").unwrap(),
        content(&whole, "trong_lua.html").unwrap()
    );
    split.verify(|_, _| {}).unwrap();
    // The base name finds the parts too.
    let by_name = dir.path().join("thu.split.zim");
    assert_eq!(Archive::open(&by_name).unwrap().size(), whole.size());
    // A missing part is refused: the archive is shorter than its header says.
    std::fs::remove_file(&parts[filled - 1]).unwrap();
    let err = Archive::open(&parts[0]).map(|_| ()).unwrap_err();
    assert!(matches!(err, ZimError::Damaged(_)), "{err}");
}

/// An archive in the old layout (namespaces in URLs), in xz clusters of two items.
fn old_xz() -> Vec<u8> {
    let items = vec![
        Item::page(b'A', "Trang_chính", "Trang chính", "<p>Xin chào</p>"),
        Item::page(
            b'A',
            "Lúa",
            "Lúa",
            "<p>Cây lương thực.</p><img src=\"../I/lua.png\">",
        ),
        Item::page(b'A', "Sởi", "Bệnh sởi", "<p>Tiêm vắc xin phòng sởi.</p>"),
        Item::redirect(b'A', "Benh_soi", "Benh soi", (b'A', "Sởi")),
        Item::file(b'I', "lua.png", "image/png", zimmaker::illustration()),
        Item::file(b'-', "style.css", "text/css", b"p { margin: 0 }".to_vec()),
        Item::file(
            b'M',
            "Title",
            "text/plain",
            "Thư viện cũ".as_bytes().to_vec(),
        ),
    ];
    zimmaker::write(
        items,
        &Layout {
            new: false,
            packing: Packing::Xz,
            extended: false,
            per_cluster: 2,
            main: (b'A', "Trang_chính".into()),
        },
    )
}

#[test]
fn old_layout_and_xz_clusters_read() {
    let zim = Archive::from_bytes(old_xz()).unwrap();
    assert!(!zim.new_layout());
    assert_eq!(
        zim.metadata("Title").unwrap().as_deref(),
        Some("Thư viện cũ")
    );
    let main = zim.main_page().unwrap().unwrap();
    assert_eq!(zim.url_path(&zim.dirent(main).unwrap()), "A/Trang_chính");
    assert_eq!(
        content(&zim, "A/Sởi").unwrap(),
        (
            "text/html".into(),
            b"<p>Ti\xc3\xaam v\xe1\xba\xafc xin ph\xc3\xb2ng s\xe1\xbb\x9fi.</p>".to_vec()
        )
    );
    assert_eq!(content(&zim, "A/Benh_soi"), content(&zim, "A/Sởi"));
    assert_eq!(
        content(&zim, "I/lua.png").unwrap().1,
        zimmaker::illustration()
    );
    assert_eq!(content(&zim, "-/style.css").unwrap().0, "text/css");
    // Without a namespace, an old archive has no such URL.
    assert_eq!(zim.lookup("Sởi").unwrap(), None);
    // The articles are the A namespace: pages and the redirect, not pictures or metadata.
    let articles = zim.articles().unwrap();
    assert!(matches!(articles, Articles::Range(_)));
    assert_eq!(articles.len(), 4);
    let checked = zim.verify(|_, _| {}).unwrap();
    assert_eq!((checked.items, checked.redirects), (6, 1));
}

#[test]
fn extended_zstd_and_stored_clusters_read() {
    for (packing, extended) in [
        (Packing::Zstd, true),
        (Packing::Stored, true),
        (Packing::Stored, false),
        (Packing::Xz, true),
    ] {
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let items = vec![
            Item::page(b'C', "index.html", "Trang chính", "<p>Chào</p>"),
            Item::page(b'C', "a/b.html", "Bài B", "<p>B</p>"),
            Item::file(b'C', "video.webm", "video/webm", big.clone()),
            Item::file(b'M', "Language", "text/plain", b"vie".to_vec()),
        ];
        let bytes = zimmaker::write(
            items,
            &Layout {
                new: true,
                packing,
                extended,
                per_cluster: 3,
                main: (b'C', "index.html".into()),
            },
        );
        let zim = Archive::from_bytes(bytes).unwrap();
        let what = format!("{packing:?} extended={extended}");
        assert_eq!(content(&zim, "video.webm").unwrap().1, big, "{what}");
        assert_eq!(content(&zim, "a/b.html").unwrap().1, b"<p>B</p>", "{what}");
        // A range of a big item, as an HTTP range request reads it.
        let i = zim.lookup("video.webm").unwrap().unwrap();
        let Target::Item { cluster, blob, .. } = zim.dirent(i).unwrap().target else {
            panic!("{what}");
        };
        let b = zim.blob(cluster, blob).unwrap();
        let mut buf = [0u8; 10];
        assert_eq!(zim.read_blob_at(&b, 150_000, &mut buf).unwrap(), 10);
        assert_eq!(&buf[..], &big[150_000..150_010], "{what}");
        assert_eq!(zim.read_blob_at(&b, 199_995, &mut buf).unwrap(), 5);
        assert!(matches!(
            zim.read_blob(&b, 1000),
            Err(ZimError::TooLarge(_))
        ));
        assert_eq!(article_titles(&zim), ["Bài B", "Trang chính"], "{what}");
        zim.verify(|_, _| {}).unwrap();
    }
}

#[test]
fn a_cluster_that_inflates_past_the_limit_is_refused() {
    // 80 MB of zeros in one zstd cluster: a few kilobytes on disk.
    let zeros = vec![0u8; 80 << 20];
    let items = vec![
        Item::page(b'C', "index.html", "Trang", "<p>x</p>"),
        Item::file(b'C', "bom.bin", "application/octet-stream", zeros),
    ];
    let bytes = zimmaker::write(
        items,
        &Layout {
            new: true,
            packing: Packing::Zstd,
            extended: false,
            per_cluster: 2,
            main: (b'C', "index.html".into()),
        },
    );
    assert!(bytes.len() < 1 << 20, "{}", bytes.len());
    let zim = Archive::from_bytes(bytes).unwrap();
    let i = zim.lookup("index.html").unwrap().unwrap();
    let Target::Item { cluster, blob, .. } = zim.dirent(i).unwrap().target else {
        panic!()
    };
    let err = zim.blob(cluster, blob).unwrap_err();
    assert!(matches!(err, ZimError::TooLarge(_)), "{err}");
    assert!(zim.verify(|_, _| {}).is_err());
}

/// Header fields of a sound archive, each set to a value that breaks it.
#[test]
fn a_broken_header_is_refused_with_a_reason() {
    let good = old_xz();
    fn at(b: &mut [u8], off: usize, v: &[u8]) {
        b[off..off + v.len()].copy_from_slice(v)
    }
    type Break = Box<dyn Fn(&mut Vec<u8>)>;
    let cases: Vec<(&str, Break)> = vec![
        ("magic", Box::new(|b| at(b, 0, b"ZIM\x05"))),
        ("major version", Box::new(|b| at(b, 4, &9u16.to_le_bytes()))),
        (
            "entry count",
            Box::new(|b| at(b, 24, &u32::MAX.to_le_bytes())),
        ),
        (
            "cluster count",
            Box::new(|b| at(b, 28, &0u32.to_le_bytes())),
        ),
        (
            "path pointers",
            Box::new(|b| at(b, 32, &(u64::MAX - 4).to_le_bytes())),
        ),
        (
            "title pointers",
            Box::new(|b| at(b, 40, &(1u64 << 40).to_le_bytes())),
        ),
        (
            "cluster pointers",
            Box::new(|b| at(b, 48, &8u64.to_le_bytes())),
        ),
        ("mime list", Box::new(|b| at(b, 56, &81u64.to_le_bytes()))),
        ("main page", Box::new(|b| at(b, 64, &1000u32.to_le_bytes()))),
        (
            "checksum position",
            Box::new(|b| at(b, 72, &12u64.to_le_bytes())),
        ),
        ("too short", Box::new(|b| b.truncate(40))),
        (
            "mime list without end",
            Box::new(|b| {
                let end = b[80..].iter().position(|&c| c == 0).unwrap() + 80;
                b[end] = b'x';
                b[end + 1..].iter_mut().take(20_000).for_each(|c| {
                    if *c == 0 {
                        *c = b'y'
                    }
                });
            }),
        ),
    ];
    for (what, break_it) in cases {
        let mut b = good.clone();
        break_it(&mut b);
        let refused = Archive::from_bytes(b).and_then(|z| z.verify(|_, _| {}).map(|_| ()));
        let err = refused.expect_err(what);
        assert!(!err.to_string().is_empty(), "{what}");
    }
}

#[test]
fn damage_past_the_header_is_found_by_the_check() {
    let good = old_xz();
    let zim = Archive::from_bytes(good.clone()).unwrap();
    zim.verify(|_, _| {}).unwrap();
    let entries = zim.entry_count() as usize;
    let path_ptrs = u64::from_le_bytes(good[32..40].try_into().unwrap()) as usize;
    // Two directory pointers swapped: the entries are out of order.
    let mut b = good.clone();
    let (x, y) = (path_ptrs + 8, path_ptrs + 16);
    let (p, q) = (b[x..x + 8].to_vec(), b[y..y + 8].to_vec());
    b[x..x + 8].copy_from_slice(&q);
    b[y..y + 8].copy_from_slice(&p);
    zimmaker::seal(&mut b);
    let err = Archive::from_bytes(b)
        .unwrap()
        .verify(|_, _| {})
        .unwrap_err();
    assert!(err.to_string().contains("thứ tự"), "{err}");
    // A redirect to an entry that does not exist.
    let mut b = good.clone();
    let zim = Archive::from_bytes(good.clone()).unwrap();
    let r = zim.lookup("A/Benh_soi").unwrap().unwrap() as usize;
    let pos = u64::from_le_bytes(
        b[path_ptrs + 8 * r..path_ptrs + 8 * r + 8]
            .try_into()
            .unwrap(),
    ) as usize;
    b[pos + 8..pos + 12].copy_from_slice(&(entries as u32 + 5).to_le_bytes());
    zimmaker::seal(&mut b);
    let zim = Archive::from_bytes(b).unwrap();
    assert!(zim.resolve(r as u32).is_err());
    assert!(zim.verify(|_, _| {}).is_err());
    // One byte changed anywhere: at least the checksum says so.
    let mut b = good.clone();
    b[200] ^= 0x55;
    assert!(
        Archive::from_bytes(b)
            .and_then(|z| z.verify(|_, _| {}))
            .is_err()
    );
}

/// Deterministic damage of every kind (flipped bytes, cut files, zeroed runs) on archives of
/// each layout and compression: never a panic, never a hang, and reads stay bounded.
#[test]
fn mangled_archives_never_panic() {
    let mut seeds = vec![old_xz()];
    for packing in [Packing::Zstd, Packing::Stored] {
        seeds.push(zimmaker::write(
            vec![
                Item::page(b'C', "index.html", "Trang", "<p>Chào bà con</p>"),
                Item::page(b'C', "b.html", "Bài", "<p>Bài hai</p>"),
                Item::redirect(b'C', "c.html", "Ba", (b'C', "b.html")),
                Item::file(b'M', "Title", "text/plain", b"T".to_vec()),
            ],
            &Layout {
                new: true,
                packing,
                extended: packing == Packing::Stored,
                per_cluster: 2,
                main: (b'C', "index.html".into()),
            },
        ));
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let started = std::time::Instant::now();
    for seed in &seeds {
        for _ in 0..300 {
            let mut b = seed.clone();
            match next() % 4 {
                0 => {
                    for _ in 0..1 + next() % 4 {
                        let i = (next() as usize) % b.len();
                        b[i] ^= 1 << (next() % 8);
                    }
                }
                1 => b.truncate((next() as usize) % b.len()),
                2 => {
                    let i = (next() as usize) % b.len();
                    let n = (1 + next() as usize % 16).min(b.len() - i);
                    b[i..i + n].fill(if next() % 2 == 0 { 0 } else { 0xff });
                }
                _ => {
                    // Damage past the header, with the checksum made to match.
                    let i = 80 + (next() as usize) % (b.len() - 96);
                    b[i] = next() as u8;
                    zimmaker::seal(&mut b);
                }
            }
            hoclieu::fuzzing::zim(&b);
        }
    }
    assert!(started.elapsed().as_secs() < 60, "{:?}", started.elapsed());
}

/// A box with the site packed by zimwriterfs as `DATA/zim/thu.zim`, and the noise file's
/// bytes (a big item, stored uncompressed).
fn box_with_collection() -> (crate::util::TestApp, Vec<u8>) {
    let app = crate::admin::app();
    let work = tempfile::tempdir().unwrap();
    let mut files = site();
    let noise: Vec<u8> = (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    files.push(("anh/nhieu.bin", noise.clone()));
    let out = work.path().join("thu.zim");
    zimmaker::zimwriterfs(work.path(), &files, "index.html", &out);
    std::fs::create_dir_all(app.data.join("zim")).unwrap();
    std::fs::copy(&out, app.data.join("zim/thu.zim")).unwrap();
    assert!(app.state.collections.rescan());
    (app, noise)
}

/// Checks and indexes every collection of `app`'s shelf.
fn index_all(app: &crate::util::TestApp) {
    while app.state.collections.check_next() {}
    let never = std::sync::atomic::AtomicBool::new(false);
    while app
        .state
        .collections
        .index_next(std::time::Duration::from_secs(60), &never)
    {}
}

#[tokio::test]
async fn a_zim_file_in_the_data_folder_is_a_collection() {
    if !zimmaker::have_zim_tools() {
        return;
    }
    let (app, noise) = box_with_collection();
    let home = app.get("/").await;
    home.assert_status(200);
    assert!(home.text().contains("Thư viện thử"), "{}", home.text());
    assert!(home.text().contains("href=\"/z/thu/index.html\""));
    let main = app.get("/z/thu/").await;
    main.assert_status(303);
    assert_eq!(main.header("location"), "/z/thu/index.html");
    app.get("/z/thu").await.assert_status(303);
    let page = app.get("/z/thu/trong_lua.html").await;
    page.assert_status(200);
    assert_eq!(page.body, site()[1].1);
    assert!(page.header("content-type").starts_with("text/html"));
    assert_eq!(page.header("cache-control"), "private, max-age=86400");
    // Someone else's HTML: a sandbox of its own, no forms, nowhere to send data.
    let csp = page.header("content-security-policy");
    assert!(csp.starts_with("sandbox"), "{csp}");
    assert!(
        !csp.contains("allow-same-origin") && !csp.contains("allow-forms"),
        "{csp}"
    );
    assert!(
        csp.contains("connect-src 'none'") && csp.contains("form-action 'none'"),
        "{csp}"
    );
    // Compressed for a browser that asks, whole (a stream polled past its end once killed it).
    let gz = app
        .get_with("/z/thu/trong_lua.html", &[("accept-encoding", "gzip")])
        .await;
    gz.assert_status(200);
    assert_eq!(gz.header("content-encoding"), "gzip");
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gz.body[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, site()[1].1);
    // Its folders, pictures and Vietnamese paths, percent-encoded or not.
    let png = app.get("/z/thu/anh/lua.png").await;
    png.assert_status(200);
    assert_eq!(png.body, zimmaker::illustration());
    assert_eq!(png.header("content-type"), "image/png");
    app.get("/z/thu/y_te/sot.html").await.assert_status(200);
    // A redirect entry sends the browser to its target.
    let r = app.get("/z/thu/lua.html").await;
    assert!(r.status.is_redirection(), "{}", r.status);
    assert_eq!(r.header("location"), "/z/thu/trong_lua.html");
    // A big item, by ranges, as a video player asks.
    let part = app
        .get_with("/z/thu/anh/nhieu.bin", &[("range", "bytes=100000-100099")])
        .await;
    part.assert_status(206);
    assert_eq!(part.body, &noise[100_000..100_100]);
    let whole = app.get("/z/thu/anh/nhieu.bin").await;
    whole.assert_status(200);
    assert_eq!(whole.body, noise);
    let etag = whole.header("etag").to_string();
    app.get_with("/z/thu/anh/nhieu.bin", &[("if-none-match", &etag)])
        .await
        .assert_status(304);
    app.get_with("/z/thu/anh/nhieu.bin", &[("range", "bytes=400000-")])
        .await
        .assert_status(416);
    // What it does not hold, and what no collection is.
    for url in [
        "/z/thu/khong_co.html",
        "/z/thu/../../etc/passwd",
        "/z/thu/%2e%2e/%2e%2e/etc/passwd",
        "/z/thu/M/Title",
        "/z/khac/index.html",
        "/z/khac/",
    ] {
        app.get(url).await.assert_status(404);
    }
}

#[tokio::test]
async fn removing_the_file_removes_the_collection() {
    if !zimmaker::have_zim_tools() {
        return;
    }
    let (app, _) = box_with_collection();
    app.get("/z/thu/index.html").await.assert_status(200);
    std::fs::remove_file(app.data.join("zim/thu.zim")).unwrap();
    assert!(app.state.collections.rescan());
    app.get("/z/thu/index.html").await.assert_status(404);
    assert!(!app.get("/").await.text().contains("Thư viện thử"));
}

#[tokio::test]
async fn a_damaged_zim_file_is_refused_with_its_reason_and_the_rest_is_served() {
    if !zimmaker::have_zim_tools() {
        return;
    }
    let (app, _) = box_with_collection();
    let zim_dir = app.data.join("zim");
    let good = std::fs::read(zim_dir.join("thu.zim")).unwrap();
    // Cut short: refused on opening.
    std::fs::write(zim_dir.join("cut.zim"), &good[..good.len() / 2]).unwrap();
    // One byte changed in the content: opens, then fails the whole check.
    let mut flipped = good.clone();
    flipped[good.len() / 3] ^= 0x40;
    std::fs::write(zim_dir.join("flipped.zim"), &flipped).unwrap();
    std::fs::write(zim_dir.join("notes.zim"), "không phải ZIM").unwrap();
    app.state.collections.rescan();
    let refused = app.state.collections.refused();
    let files: Vec<&str> = refused.iter().map(|r| r.file.as_str()).collect();
    assert!(
        files.contains(&"cut.zim") && files.contains(&"notes.zim"),
        "{refused:?}"
    );
    assert!(refused.iter().all(|r| !r.reason.is_empty()));
    app.get("/z/cut/index.html").await.assert_status(404);
    // Checked whole, one file at a time: the flipped one is withdrawn, the good one stays.
    while app.state.collections.check_next() {}
    let refused = app.state.collections.refused();
    let flipped_reason = refused
        .iter()
        .find(|r| r.file == "flipped.zim")
        .unwrap_or_else(|| panic!("{refused:?}"));
    assert!(flipped_reason.reason.contains("hỏng"), "{flipped_reason:?}");
    app.get("/z/flipped/index.html").await.assert_status(404);
    app.get("/z/thu/index.html").await.assert_status(200);
    // Staff see both: what is served and what is not, with why.
    let cookie = crate::admin::log_in(&app).await;
    let page = app
        .get_with("/admin/materials", &[("cookie", &cookie)])
        .await;
    page.assert_status(200);
    let html = page.text();
    assert!(
        html.contains("Thư viện thử") && html.contains("href=\"/z/thu/index.html\""),
        "{html}"
    );
    assert!(html.contains("chờ lập chỉ mục"), "{html}");
    for file in [
        "cut.zim: tệp ZIM hỏng",
        "flipped.zim: tệp ZIM hỏng",
        "notes.zim: không phải tệp ZIM",
    ] {
        assert!(html.contains(file), "{file} in {html}");
    }
    // The outcome is kept: a new start refuses it without reading it whole again.
    let again = hoclieu::collections::Shelf::new(&zim_dir, app.data.join("zim-index"));
    again.rescan();
    assert!(again.refused().iter().any(|r| r.file == "flipped.zim"));
    assert!(again.unchecked().is_empty(), "{:?}", again.unchecked());
    assert!(again.get("thu").is_some());
}

/// `n` articles in the new layout, zstd clusters of 100; article `k` holds the word `mã{k}x`
/// (unique) among common ones.
fn many_articles(n: u32) -> Vec<u8> {
    let words = [
        "lúa", "ngô", "phân", "bón", "nước", "trẻ", "sốt", "bệnh", "cây", "đất",
    ];
    let mut items: Vec<Item> = (0..n)
        .map(|k| {
            let body: Vec<&str> = (0..40).map(|j| words[((k * 7 + j) % 10) as usize]).collect();
            Item::page(
                b'C',
                &format!("bai/{k}.html"),
                &format!("Bài số {k}"),
                &format!(
                    "<html><head><title>Bài số {k}</title></head><body><h2 id=\"dau\">Đầu</h2><p>{} mã{k}x</p></body></html>",
                    body.join(" ")
                ),
            )
        })
        .collect();
    items.push(Item::page(
        b'C',
        "index.html",
        "Trang chính",
        "<p>Mục lục</p>",
    ));
    items.push(Item::file(b'C', "s.css", "text/css", b"p{}".to_vec()));
    zimmaker::write(
        items,
        &Layout {
            new: true,
            packing: Packing::Zstd,
            extended: false,
            per_cluster: 100,
            main: (b'C', "index.html".into()),
        },
    )
}

/// Every stored id of the index in `dir`, and whether a word is found in the bodies.
fn indexed_ids(dir: &std::path::Path) -> Vec<String> {
    let index = tantivy::Index::open_in_dir(dir).unwrap();
    let id = index.schema().get_field("id").unwrap();
    let searcher = index.reader().unwrap().searcher();
    let mut ids = Vec::new();
    for seg in searcher.segment_readers() {
        let store = seg.get_store_reader(1).unwrap();
        for doc in 0..seg.max_doc() {
            if seg.is_deleted(doc) {
                continue;
            }
            let d: tantivy::TantivyDocument = store.get(doc).unwrap();
            use tantivy::schema::Value;
            ids.push(d.get_first(id).unwrap().as_str().unwrap().to_string());
        }
    }
    ids.sort();
    ids
}

fn shelf_with(data: &std::path::Path, zim: &[u8]) -> hoclieu::collections::Shelf {
    std::fs::create_dir_all(data.join("zim")).unwrap();
    std::fs::write(data.join("zim/nhieu.zim"), zim).unwrap();
    let shelf = hoclieu::collections::Shelf::new(data.join("zim"), data.join("zim-index"));
    shelf.rescan();
    assert!(shelf.check_next());
    shelf
}

#[test]
fn a_collection_is_indexed_in_batches_and_goes_on_where_it_stopped() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let n = 2500;
    let dir = tempfile::tempdir().unwrap();
    let shelf = shelf_with(dir.path(), &many_articles(n));
    let c = shelf.get("nhieu").unwrap();
    let idx = shelf.index_dir(&c);
    // Stopped from outside part of the way: what was done is committed.
    let stop = AtomicBool::new(false);
    let first = std::thread::scope(|s| {
        let run = s.spawn(|| {
            hoclieu::collections::index::index_some(
                &c,
                &idx,
                std::time::Duration::from_secs(600),
                &stop,
            )
            .unwrap()
        });
        std::thread::sleep(std::time::Duration::from_millis(300));
        stop.store(true, Ordering::Relaxed);
        run.join().unwrap()
    });
    // The main page is an article too; the style sheet is not.
    assert_eq!(first.total, n + 1);
    assert!(
        first.done < first.total,
        "stopped before the end: {first:?}"
    );
    assert_eq!(indexed_ids(&idx).len() as u32, first.done, "{first:?}");
    assert_eq!(
        hoclieu::collections::index::progress(&idx).unwrap().done,
        first.done
    );
    // A time slice of nothing indexes nothing and loses nothing.
    let none = hoclieu::collections::index::index_some(
        &c,
        &idx,
        std::time::Duration::ZERO,
        &AtomicBool::new(false),
    )
    .unwrap();
    assert_eq!(none.done, first.done);
    // Slices of a few milliseconds, each going on from the last commit.
    let mut slices = 0;
    let mut last = none.done;
    while slices < 3 {
        let p = hoclieu::collections::index::index_some(
            &c,
            &idx,
            std::time::Duration::from_millis(20),
            &AtomicBool::new(false),
        )
        .unwrap();
        assert!(p.done >= last);
        assert_eq!(indexed_ids(&idx).len() as u32, p.done);
        last = p.done;
        slices += 1;
    }
    // Through the shelf, as the server runs it, until done.
    let never = AtomicBool::new(false);
    while shelf.index_next(std::time::Duration::from_secs(600), &never) {}
    let p = shelf.progress("nhieu").unwrap();
    assert!(p.complete(), "{p:?}");
    let ids = indexed_ids(&idx);
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "an article indexed twice");
    assert_eq!(ids.len() as u32, n + 1);
    assert!(ids.contains(&"bai/1234.html".to_string()) && ids.contains(&"index.html".to_string()));
    // Removing the file removes its index.
    std::fs::remove_file(dir.path().join("zim/nhieu.zim")).unwrap();
    shelf.rescan();
    assert!(!idx.exists());
}

/// The payload of the last commit of the one collection index under `data`: (done, total).
fn committed(data: &std::path::Path) -> Option<(u64, u64)> {
    let dir = std::fs::read_dir(data.join("zim-index"))
        .ok()?
        .flatten()
        .next()?
        .path();
    let meta: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("meta.json")).ok()?).ok()?;
    let payload: serde_json::Value = serde_json::from_str(meta["payload"].as_str()?).ok()?;
    Some((payload["done"].as_u64()?, payload["total"].as_u64()?))
}

/// The real server, killed (SIGKILL) in the middle of indexing a collection, goes on from
/// its last commit when started again: no article lost, none twice.
#[test]
fn indexing_survives_a_kill_and_goes_on() {
    let n = 20_000;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    std::fs::create_dir_all(data.join("zim")).unwrap();
    std::fs::write(data.join("zim/nhieu.zim"), many_articles(n)).unwrap();
    let wait_for = |what: &dyn Fn(u64, u64) -> bool, secs: u64| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if let Some((done, total)) = committed(&data)
                && what(done, total)
            {
                return (done, total);
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("not reached in {secs} s: {:?}", committed(&data));
    };
    let mut server = crate::server::start(&[], &data);
    let (done, total) = wait_for(&|d, _| d >= 1000, 120);
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    assert_eq!(total, u64::from(n) + 1);
    let at_kill = committed(&data).unwrap().0;
    assert!(at_kill < total, "killed before the end ({done} of {total})");
    let server = crate::server::start(&[], &data);
    wait_for(&|d, t| d == t, 300);
    drop(server);
    let dir = std::fs::read_dir(data.join("zim-index"))
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let ids = indexed_ids(&dir);
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), ids.len(), "an article indexed twice");
    assert_eq!(ids.len() as u64, total);
}

#[tokio::test]
async fn a_collection_is_searched_beside_the_materials() {
    if !zimmaker::have_zim_tools() {
        return;
    }
    let (app, _) = box_with_collection();
    // Not yet indexed: searched without it.
    let before = app.search_json("gieo ma").await;
    assert_eq!(before["collections"], serde_json::json!([]), "{before}");
    index_all(&app);
    // Typed without marks, as villagers do.
    let json = app.search_json("gieo ma").await;
    let shelf = &json["collections"][0];
    assert_eq!(shelf["name"], "thu", "{json}");
    assert_eq!(shelf["title"], "Thư viện thử");
    assert_eq!(shelf["found"], true);
    assert_eq!(shelf["hits"][0]["title"], "Trồng lúa nước");
    assert_eq!(shelf["hits"][0]["url"], "/z/thu/trong_lua.html");
    assert_eq!(shelf["hits"][0]["match"], "full");
    assert!(
        shelf["hits"][0]["snippet"]
            .as_str()
            .unwrap()
            .contains("<b>")
    );
    // Into the passage: the hit links to the heading above its snippet.
    let json = app.search_json("chuom am").await;
    assert_eq!(
        json["collections"][0]["hits"][0]["url"], "/z/thu/y_te/sot.html#ha-sot",
        "{json}"
    );
    // The page lists them, marked with the collection's name.
    let page = app.get("/search?q=gieo+ma").await;
    page.assert_status(200);
    let html = page.text();
    assert!(
        html.contains("Trong thư viện khác") && html.contains("href=\"/z/thu/trong_lua.html\""),
        "{html}"
    );
    assert!(
        html.contains("<span class=\"badge\">Thư viện thử</span>"),
        "{html}"
    );
    // Nothing anywhere: no collection section; a field chosen asks only the materials.
    assert_eq!(
        app.search_json("xyzxyz").await["collections"],
        serde_json::json!([])
    );
    let in_field = app
        .get("/api/search?q=gieo+ma&category=health")
        .await
        .json();
    assert_eq!(in_field["collections"], serde_json::json!([]));
    // Hostile queries get an ordinary answer.
    for q in [
        "%22%22%22",
        "(((((",
        "a%20AND%20OR%20NOT",
        &"lúa%20".repeat(60),
    ] {
        app.get(&format!("/search?q={q}")).await.assert_status(200);
    }
}

#[tokio::test]
async fn a_search_answered_by_a_collection_is_not_a_gap() {
    if !zimmaker::have_zim_tools() {
        return;
    }
    let (mut app, _) = box_with_collection();
    index_all(&app);
    // Five people (the report hides fewer): one search only the collection answers, one
    // nothing answers.
    for _ in 0..5 {
        let c = app.device().await;
        app.get_with("/search?q=chuom+am", &[("cookie", &c)]).await;
        app.get_with("/search?q=nuoi+ong", &[("cookie", &c)]).await;
    }
    let r = app.today_report();
    let gaps: Vec<&str> = r
        .zero_result_searches
        .iter()
        .map(|s| s.query.as_str())
        .collect();
    assert_eq!(gaps, ["nuoi ong"], "{:?}", r.zero_result_searches);
}

#[tokio::test]
async fn reading_a_collection_counts_in_the_report_per_collection() {
    if !zimmaker::have_zim_tools() {
        return;
    }
    let (mut app, _) = box_with_collection();
    // Five people read two articles each; a picture, a range of a big item and a redirect
    // are not reading.
    for _ in 0..5 {
        let c = app.device().await;
        for url in [
            "/z/thu/trong_lua.html",
            "/z/thu/y_te/sot.html",
            "/z/thu/anh/lua.png",
            "/z/thu/lua.html",
        ] {
            app.get_with(url, &[("cookie", &c)]).await;
        }
        app.get_with(
            "/z/thu/anh/nhieu.bin",
            &[("cookie", &c), ("range", "bytes=0-99")],
        )
        .await;
    }
    // A sixth reads once: under the report's threshold on its own, but counted in the total.
    let c = app.device().await;
    app.get_with("/z/thu/index.html", &[("cookie", &c)]).await;
    let r = app.today_report();
    assert_eq!(r.collections.len(), 1, "{:?}", r.collections);
    assert_eq!(r.collections[0].id, "thu");
    assert_eq!(r.collections[0].participants, 6);
    assert_eq!(r.collections[0].views, 11);
    // A collection is not a material: its views are not listed among the materials'.
    assert!(
        r.top_materials.iter().all(|m| !m.id.contains("thu")),
        "{:?}",
        r.top_materials
    );
    assert_eq!(r.participants, 6);
    // The manager reads it by title, on the page and in the download.
    let staff = crate::admin::log_in(&app).await;
    let page = app.get_with("/admin", &[("cookie", &staff)]).await;
    page.assert_status(200);
    let html = page.text();
    let section = &html[html
        .find("Thư viện khác (ZIM) có người đọc")
        .expect("section")..];
    assert!(
        section
            .contains("<a href=\"/z/thu/index.html\">Thư viện thử</a></td><td>6</td><td>11</td>"),
        "{section}"
    );
    let csv = app
        .get_with("/admin/export/collections.csv", &[("cookie", &staff)])
        .await;
    csv.assert_status(200);
    assert!(csv.text().contains("Thư viện thử,6,11"), "{}", csv.text());
}

#[tokio::test]
async fn a_collections_titles_are_suggested_beside_the_librarys() {
    if !zimmaker::have_zim_tools() {
        return;
    }
    let (app, _) = box_with_collection();
    let suggest = |q: &str| {
        let app = &app;
        let q = q.replace(' ', "+");
        async move {
            let r = app.get(&format!("/api/suggest?q={q}")).await;
            r.assert_status(200);
            r.json().as_array().unwrap().clone()
        }
    };
    let theirs = |s: &[serde_json::Value]| -> Vec<String> {
        s.iter()
            .filter(|s| s.get("collection").is_some())
            .map(|s| s["title"].as_str().unwrap().to_string())
            .collect()
    };
    // Not indexed yet: nothing from it.
    assert!(theirs(&suggest("tre bi").await).is_empty());
    index_all(&app);
    // Without marks, the last syllable unfinished.
    let s = suggest("tre bi so").await;
    let found = s
        .iter()
        .find(|s| s["title"] == "Trẻ bị sốt")
        .unwrap_or_else(|| panic!("{s:?}"));
    assert_eq!(found["url"], "/z/thu/y_te/sot.html");
    assert_eq!(found["collection"], "Thư viện thử");
    // Beside the library's own titles, which come first; never more than eight.
    let s = suggest("trồng lúa").await;
    assert!(s.len() <= 8, "{s:?}");
    assert_eq!(theirs(&s), ["Trồng lúa nước"], "{s:?}");
    assert!(s[0]["url"].as_str().unwrap().starts_with("/m/"), "{s:?}");
    // A syllable in the middle of a word is not a match, nor are the words out of order.
    assert!(theirs(&suggest("rong lua").await).is_empty());
    assert!(theirs(&suggest("lua trong").await).is_empty());
    // Hostile or empty input: an ordinary (maybe empty) answer.
    for q in ["", "t", "%22%22", "(((", &"lua ".repeat(100), "*", "%00"] {
        suggest(q).await;
    }
}

/// Files in the collections folder other than the check outcomes.
fn shelf_files(data: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data.join("zim"))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n != ".checked.json")
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test]
async fn a_manager_adds_a_zim_from_the_browser_and_takes_it_off_again() {
    if !zimmaker::have_zim_tools() {
        return;
    }
    use crate::util::{multipart, upload_to};
    let app = crate::admin::app();
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("thu.zim");
    zimmaker::zimwriterfs(work.path(), &site(), "index.html", &out);
    let zim = std::fs::read(&out).unwrap();
    let staff = crate::admin::log_in(&app).await;
    let page = app
        .get_with("/admin/materials", &[("cookie", &staff)])
        .await;
    page.assert_status(200);
    let token = crate::admin::token_in(&page.text());
    assert!(page.text().contains("action=\"/admin/collections\""));
    let send = |name: &str, bytes: &[u8], token: &str, cookie: &str| {
        let (ct, body) = multipart(&[("token", token)], name, bytes);
        upload_to("/admin/collections", cookie, &ct, body)
    };
    // Not a ZIM, cut short, a split part, a forged form: refused, and nothing is left behind.
    let cut = &zim[..zim.len() / 3];
    for (name, bytes, why) in [
        (
            "anh.png",
            &zimmaker::illustration()[..],
            "Chỉ nhận tệp .zim",
        ),
        ("gia.zim", &b"khong phai zim"[..], "không dùng được"),
        ("cut.zim", cut, "không dùng được"),
        ("thu.zimaa", &zim[..], "chép bằng USB"),
    ] {
        let r = app.request(send(name, bytes, &token, &staff)).await;
        r.assert_status(400);
        assert!(r.text().contains(why), "{name}: {}", r.text());
    }
    let forged = app.request(send("thu.zim", &zim, "sai", &staff)).await;
    assert!(forged.status.is_client_error(), "{}", forged.status);
    assert_eq!(shelf_files(&app.data), Vec::<String>::new());
    // A teacher may not add one.
    let (teacher, teacher_token) = crate::lessons::teacher(&app).await;
    let r = app
        .request(send("thu.zim", &zim, &teacher_token, &teacher))
        .await;
    r.assert_status(403);
    assert_eq!(shelf_files(&app.data), Vec::<String>::new());
    // The manager's goes on the shelf at once, under the name it was sent with.
    let r = app
        .request(send("C:\\USB\\thu.zim", &zim, &token, &staff))
        .await;
    r.assert_status(303);
    assert_eq!(r.header("location"), "/admin/materials?done=zim#zim");
    assert_eq!(shelf_files(&app.data), ["thu.zim"]);
    assert_eq!(std::fs::read(app.data.join("zim/thu.zim")).unwrap(), zim);
    app.get("/z/thu/trong_lua.html").await.assert_status(200);
    let listed = app
        .get_with("/admin/materials?done=zim", &[("cookie", &staff)])
        .await;
    assert!(
        listed.text().contains("Đã thêm tệp ZIM"),
        "{}",
        listed.text()
    );
    // The same name again is refused; the first stays.
    let again = app.request(send("thu.zim", &zim, &token, &staff)).await;
    again.assert_status(400);
    assert!(
        again.text().contains("Đã có tệp «thu.zim»"),
        "{}",
        again.text()
    );
    assert_eq!(shelf_files(&app.data), ["thu.zim"]);
    // Taking it off: asked first, then the file and its index go.
    index_all(&app);
    let index_root = app.data.join("zim-index");
    assert_eq!(std::fs::read_dir(&index_root).unwrap().count(), 1);
    let ask = app
        .request(crate::admin::post(
            "/admin/collections/remove",
            &staff,
            &format!("token={token}&name=thu"),
        ))
        .await;
    ask.assert_status(200);
    assert!(
        ask.text().contains("Gỡ thư viện «Thư viện thử»?"),
        "{}",
        ask.text()
    );
    assert_eq!(shelf_files(&app.data), ["thu.zim"]);
    let teacher_try = app
        .request(crate::admin::post(
            "/admin/collections/remove",
            &teacher,
            &format!("token={teacher_token}&name=thu&confirm=yes"),
        ))
        .await;
    teacher_try.assert_status(403);
    let done = app
        .request(crate::admin::post(
            "/admin/collections/remove",
            &staff,
            &format!("token={token}&name=thu&confirm=yes"),
        ))
        .await;
    done.assert_status(303);
    assert_eq!(shelf_files(&app.data), Vec::<String>::new());
    assert_eq!(std::fs::read_dir(&index_root).unwrap().count(), 0);
    app.get("/z/thu/trong_lua.html").await.assert_status(404);
    let gone = app
        .request(crate::admin::post(
            "/admin/collections/remove",
            &staff,
            &format!("token={token}&name=thu&confirm=yes"),
        ))
        .await;
    gone.assert_status(404);
}

#[tokio::test]
async fn a_collections_hits_are_paged_through_on_their_own() {
    let mut app = crate::admin::app();
    std::fs::create_dir_all(app.data.join("zim")).unwrap();
    std::fs::write(app.data.join("zim/nhieu.zim"), many_articles(60)).unwrap();
    assert!(app.state.collections.rescan());
    index_all(&app);
    // Every article holds "lúa": the search page shows a few, and links to the rest.
    let first = app.search_json("lua").await;
    let shelf = &first["collections"][0];
    assert_eq!(shelf["total"], 60, "{first}");
    assert_eq!(shelf["hits"].as_array().unwrap().len(), 5);
    let c = app.device().await;
    let page = app.get_with("/search?q=lua", &[("cookie", &c)]).await;
    page.assert_status(200);
    assert!(
        page.text().contains(
            "<a href=\"/search?q=lua&#38;in=nhieu\">Xem tất cả 60 bài trong «nhieu» →</a>"
        ),
        "{}",
        page.text()
    );
    // That collection alone, a page at a time, each article once.
    let mut seen = std::collections::BTreeSet::new();
    let mut url = "/search?q=lua&in=nhieu".to_string();
    loop {
        let p = app.get_with(&url, &[("cookie", &c)]).await;
        p.assert_status(200);
        let html = p.text();
        for part in html.split("href=\"/z/nhieu/bai/").skip(1) {
            assert!(seen.insert(part.split('"').next().unwrap().to_string()));
        }
        match html.split("<p class=\"more\"><a href=\"").nth(1) {
            Some(next) => url = next.split('"').next().unwrap().replace("&#38;", "&"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 60);
    let tail = app
        .get("/api/search?q=lua&in=nhieu&limit=10&offset=55")
        .await
        .json();
    assert_eq!(tail["collections"][0]["hits"].as_array().unwrap().len(), 5);
    assert_eq!(tail["hits"], serde_json::json!([]));
    // A collection that is not there.
    app.get("/search?q=lua&in=khong-co")
        .await
        .assert_status(404);
    app.get("/api/search?q=lua&in=khong-co")
        .await
        .assert_status(404);
    // Paging is the same search: recorded once.
    let conn = app.flush();
    let searches: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM events WHERE kind = 'search'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(searches, 1);
}

#[test]
fn articles_read_in_any_order_from_partly_decoded_clusters() {
    // 100 articles a cluster: a page asks for one, and its cluster is decoded only up to it;
    // asking past it decodes the rest. Every order gives every article's own bytes.
    let zim = Archive::from_bytes(many_articles(250)).unwrap();
    let holds = |k: u32| {
        let (_, body) = content(&zim, &format!("bai/{k}.html")).unwrap();
        let text = String::from_utf8(body).unwrap();
        assert!(
            text.contains(&format!("<title>Bài số {k}</title>")),
            "{k}: {text}"
        );
        assert!(text.ends_with("</html>"), "{k}: {text}");
    };
    let mut order: Vec<u32> = vec![3, 1, 0, 2, 150, 99, 100, 249, 120, 5];
    order.extend((0..250).rev());
    order.extend(0..250);
    for k in order {
        holds(k);
    }
    // The whole check still decodes every cluster to its end.
    zim.verify(|_, _| {}).unwrap();
}
