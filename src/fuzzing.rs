//! Entry points for the fuzz targets in `fuzz/` and for replaying their corpora in the normal
//! tests: each feeds arbitrary bytes to one path that reads untrusted input and must never
//! panic. Not part of the server.

use std::sync::OnceLock;

use crate::content::markdown::{self, Link};
use crate::content::{Library, Source, material};
use crate::package::{self, Areas, Limits};
use crate::search::SearchIndex;

/// A material file as read from a library folder or a package.
pub fn material_file(data: &[u8]) {
    if let Ok(p) = material::parse(data) {
        let _ = markdown::to_html_with_pictures(
            &p.body,
            |dest| {
                if dest.len() % 2 == 0 {
                    Link::Url(dest.to_string())
                } else {
                    Link::Blocked
                }
            },
            // Some pictures have copies, so their markup is reached too.
            |dest| {
                (dest.len() % 3 == 0).then(|| markdown::Picture {
                    url: dest.to_string(),
                    bytes: dest.len() as u64,
                    copies: vec![crate::content::PictureCopy {
                        rel: dest.to_string(),
                        url: format!("{dest}.480x360.jpg"),
                        width: 480,
                        height: 360,
                        bytes: 1,
                    }],
                })
            },
        );
        let _ = markdown::to_plain_text(&p.body);
        let _ = markdown::relative_links(&p.body);
        let _ = markdown::empty_sections(&p.body);
        let _ = material::write(&p);
    }
}

/// A document staff dropped in (PDF, Word, LibreOffice), read as the worker reads it, and
/// the material made of it.
pub fn document(data: &[u8]) {
    if let Ok(doc) = crate::documents::read(data) {
        let p = crate::documents::material::parsed(
            &doc,
            "x.pdf",
            "",
            None,
            crate::content::Category::Health,
        );
        // What a document says must always make a material that reads back.
        if material::write(&p).is_err() && !p.body.is_empty() {
            panic!("a document's material does not read back");
        }
    }
}

fn starter() -> &'static (Library, SearchIndex) {
    static S: OnceLock<(Library, SearchIndex)> = OnceLock::new();
    S.get_or_init(|| {
        let lib = Library::load(Source::Embedded);
        // The embedded library always indexes; a failure here is a bug worth a crash.
        #[allow(clippy::expect_used)]
        let idx = SearchIndex::in_memory(&lib).expect("indexing the starter library");
        (lib, idx)
    })
}

/// A search as typed by a visitor, and the snippet scan over the same bytes as stored text.
pub fn search_query(data: &[u8]) {
    let (lib, idx) = starter();
    let q = String::from_utf8_lossy(data);
    let offset = data.first().map_or(0, |b| usize::from(*b % 4) * 10);
    let _ = idx.search(lib, &q, None, 25, offset);
    let _ = crate::search::snippet::snippet(data, &["lua", "trong", "a"], 120);
}

/// A package or a backup from a USB stick.
pub fn package(data: &[u8]) {
    for areas in [Areas::Package, Areas::Backup] {
        let Ok(dir) = tempfile::tempdir() else { return };
        let limits = Limits {
            max_file_bytes: 1 << 20,
            max_total_bytes: 4 << 20,
            max_files: 100,
            areas,
        };
        if let Ok(pkg) = package::read(data, &limits, dir.path()) {
            let _ = package::plan(&pkg, |_| None);
        }
    }
}

/// Range and conditional headers on an attachment, a cookie header and a form body.
pub fn request_headers(data: &[u8]) {
    use axum::http::{HeaderValue, Request, header};
    let file = crate::content::source::Blob::Memory {
        data: std::borrow::Cow::Borrowed(&b"0123456789abcdefghijklmnopqrstuvwxyz"[..]),
        sha256: [7; 32],
    };
    let mut req = Request::get("/m/a.mp3");
    if let Ok(v) = HeaderValue::from_bytes(data) {
        req = req
            .header(header::RANGE, v.clone())
            .header(header::IF_RANGE, v.clone())
            .header(header::IF_NONE_MATCH, v.clone())
            .header(header::COOKIE, v);
    }
    if let Ok(req) = req.body(()) {
        let _ = crate::web::files::serve(file, "audio/mpeg", &req);
        let _ = crate::web::participant::cookie_value(req.headers(), "hl_p");
    }
    let _: Vec<(String, String)> = form_urlencoded::parse(data).into_owned().collect();
    // An upload's file name becomes part of a library path: it must always be a safe one.
    let name = String::from_utf8_lossy(data);
    let slug = crate::web::staff::materials::slug(&name);
    assert!(
        crate::content::centre::valid_rel(&format!("health/a-{slug}.png")),
        "unsafe name from {name:?}: {slug:?}"
    );
}

/// A ZIM archive a centre copied in: opened, checked whole, and every article resolved and
/// read, as the server would.
pub fn zim(data: &[u8]) {
    let Ok(zim) = crate::zim::Archive::from_bytes(data.to_vec()) else {
        return;
    };
    let _ = zim.verify(|_, _| {});
    let _ = zim.main_page();
    let _ = zim.metadata("Title");
    if let Ok(articles) = zim.articles() {
        for k in 0..articles.len().min(64) {
            if let Ok(i) = zim.article(&articles, k)
                && let Ok((_, d)) = zim.resolve(i)
                && let crate::zim::Target::Item { cluster, blob, .. } = d.target
                && let Ok(b) = zim.blob(cluster, blob)
            {
                let _ = zim.read_blob(&b, 1 << 20);
                let _ = zim.lookup(&zim.url_path(&d));
            }
        }
    }
}
