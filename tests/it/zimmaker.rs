//! ZIM archives for the tests: made by Debian's zim-tools (`zimwriterfs`, `zimsplit`) as a
//! centre's would be, and by a small writer here for what zim-tools no longer write (the old
//! namespace layout, xz clusters, extended clusters) and for damaged files.

use std::path::{Path, PathBuf};
use std::process::Command;

use md5::{Digest, Md5};

/// Whether zim-tools are installed; under CI they must be (`.ci/run` installs them).
pub fn have_zim_tools() -> bool {
    let found = ["zimwriterfs", "zimsplit"].iter().all(|t| {
        Command::new(t)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty())
    });
    if !found {
        assert!(
            std::env::var("CI").is_err(),
            "CI must have zim-tools (zimwriterfs, zimsplit)"
        );
        eprintln!("skipped: zim-tools (zimwriterfs) are not installed");
    }
    found
}

/// A 48×48 PNG, the illustration zimwriterfs requires.
pub fn illustration() -> Vec<u8> {
    let mut png = Vec::new();
    let img = image::RgbImage::from_pixel(48, 48, image::Rgb([30, 120, 60]));
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    png
}

/// Makes `out` from the files `site` (relative path, bytes) with zimwriterfs; the main page is
/// `welcome`.
pub fn zimwriterfs(dir: &Path, site: &[(&str, Vec<u8>)], welcome: &str, out: &Path) {
    let html = dir.join("site");
    for (path, bytes) in site {
        let p = html.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
    std::fs::write(html.join("illustration.png"), illustration()).unwrap();
    let o = Command::new("zimwriterfs")
        .args([
            &format!("--welcome={welcome}"),
            "--illustration=illustration.png",
            "--language=vie",
            "--title=Thư viện thử",
            "--description=Bài viết thử cho hoclieu",
            "--creator=hoclieu",
            "--publisher=hoclieu",
            "--name=thu_vien_thu",
            "--withoutFTIndex",
        ])
        .arg(&html)
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "zimwriterfs failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// Splits `zim` into parts of about `size` bytes with zimsplit; returns the parts in order.
pub fn zimsplit(zim: &Path, size: u64) -> Vec<PathBuf> {
    // Parts are named PREFIX + aa, ab…
    let prefix = zim.with_extension("split.zim");
    let o = Command::new("zimsplit")
        .arg(format!("--prefix={}", prefix.display()))
        .arg(format!("--size={size}"))
        .arg("--force")
        .arg(zim)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "zimsplit failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut parts: Vec<PathBuf> = std::fs::read_dir(zim.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".split.zima"))
        .collect();
    parts.sort();
    parts
}

/// How the writer here compresses its clusters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Packing {
    /// Stored as they are (compression byte 1).
    Stored,
    /// zstd (5), as libzim 7+ writes.
    Zstd,
    /// xz (4), as libzim before 7 wrote.
    Xz,
}

/// One entry for the writer: content, or a redirect to another (namespace, path).
pub struct Item {
    pub namespace: u8,
    pub path: String,
    pub title: String,
    pub content: Result<(String, Vec<u8>), (u8, String)>,
}

impl Item {
    pub fn page(namespace: u8, path: &str, title: &str, html: &str) -> Item {
        Item {
            namespace,
            path: path.into(),
            title: title.into(),
            content: Ok(("text/html".into(), html.as_bytes().to_vec())),
        }
    }

    pub fn file(namespace: u8, path: &str, mime: &str, bytes: Vec<u8>) -> Item {
        Item {
            namespace,
            path: path.into(),
            title: String::new(),
            content: Ok((mime.into(), bytes)),
        }
    }

    pub fn redirect(namespace: u8, path: &str, title: &str, to: (u8, &str)) -> Item {
        Item {
            namespace,
            path: path.into(),
            title: title.into(),
            content: Err((to.0, to.1.into())),
        }
    }
}

/// What the writer makes.
pub struct Layout {
    /// Minor version 1 (no namespaces in URLs, `W/mainPage`, a front-article listing) or 0.
    pub new: bool,
    pub packing: Packing,
    /// Blob offsets of 8 bytes (cluster info bit 0x10).
    pub extended: bool,
    /// Items per cluster.
    pub per_cluster: usize,
    /// The main page, (namespace, path).
    pub main: (u8, String),
}

fn pack(raw: Vec<u8>, packing: Packing) -> Vec<u8> {
    match packing {
        Packing::Stored => raw,
        Packing::Zstd => zstd::bulk::compress(&raw, 1).unwrap(),
        Packing::Xz => {
            use std::io::Write;
            let mut w =
                lzma_rust2::XzWriter::new(Vec::new(), lzma_rust2::XzOptions::with_preset(1))
                    .unwrap();
            w.write_all(&raw).unwrap();
            w.finish().unwrap()
        }
    }
}

/// One cluster: the info byte, then the offset table and the blobs, packed.
pub fn cluster(blobs: &[&[u8]], packing: Packing, extended: bool) -> Vec<u8> {
    let w = if extended { 8 } else { 4 };
    let mut raw = Vec::new();
    let mut at = (blobs.len() + 1) * w;
    let mut offsets = vec![at];
    for b in blobs {
        at += b.len();
        offsets.push(at);
    }
    for o in offsets {
        if extended {
            raw.extend_from_slice(&(o as u64).to_le_bytes());
        } else {
            raw.extend_from_slice(&(o as u32).to_le_bytes());
        }
    }
    for b in blobs {
        raw.extend_from_slice(b);
    }
    let code = match packing {
        Packing::Stored => 1u8,
        Packing::Zstd => 5,
        Packing::Xz => 4,
    };
    let mut out = vec![code | if extended { 0x10 } else { 0 }];
    out.extend(pack(raw, packing));
    out
}

/// Writes an archive of `items` (any order) laid out as `layout`, with a correct MD5.
pub fn write(mut items: Vec<Item>, layout: &Layout) -> Vec<u8> {
    if layout.new {
        items.push(Item::redirect(
            b'W',
            "mainPage",
            "",
            (layout.main.0, &layout.main.1),
        ));
        // The listing's size is known before its content: 4 bytes per front article.
        let n = items
            .iter()
            .filter(|i| i.namespace == b'C' && i.content.as_ref().is_ok_and(|c| c.0 == "text/html"))
            .count();
        items.push(Item::file(
            b'X',
            "listing/titleOrdered/v1",
            "application/octet-stream+zimlisting",
            vec![0; 4 * n],
        ));
    }
    items.sort_by(|a, b| (a.namespace, &a.path).cmp(&(b.namespace, &b.path)));
    let index_of = |items: &[Item], ns: u8, path: &str| {
        items
            .iter()
            .position(|i| i.namespace == ns && i.path == path)
            .expect("redirect target exists") as u32
    };
    let title_key = |i: &Item| {
        let t = if i.title.is_empty() {
            &i.path
        } else {
            &i.title
        };
        (i.namespace, t.clone().into_bytes())
    };
    let mut by_title: Vec<u32> = (0..items.len() as u32).collect();
    by_title.sort_by_key(|&i| title_key(&items[i as usize]));
    if layout.new {
        let front: Vec<u8> = by_title
            .iter()
            .filter(|&&i| {
                let it = &items[i as usize];
                it.namespace == b'C' && it.content.as_ref().is_ok_and(|c| c.0 == "text/html")
            })
            .flat_map(|i| i.to_le_bytes())
            .collect();
        let at = index_of(&items, b'X', "listing/titleOrdered/v1") as usize;
        items[at].content = Ok(("application/octet-stream+zimlisting".into(), front));
    }
    let mut mimes: Vec<String> = Vec::new();
    for i in &items {
        if let Ok((m, _)) = &i.content
            && !mimes.contains(m)
        {
            mimes.push(m.clone());
        }
    }
    let mut out = vec![0u8; 80];
    for m in &mimes {
        out.extend_from_slice(m.as_bytes());
        out.push(0);
    }
    out.push(0);
    // Clusters: the listing alone in a stored cluster (libzim reads listings only from
    // those), the rest `per_cluster` at a time.
    let mut place = vec![(0u32, 0u32); items.len()];
    let mut cluster_ptrs: Vec<u64> = Vec::new();
    let mut pending: Vec<usize> = Vec::new();
    let flush = |pending: &mut Vec<usize>,
                 out: &mut Vec<u8>,
                 ptrs: &mut Vec<u64>,
                 packing: Packing,
                 place: &mut Vec<(u32, u32)>| {
        if pending.is_empty() {
            return;
        }
        let blobs: Vec<&[u8]> = pending
            .iter()
            .map(|&k| items[k].content.as_ref().unwrap().1.as_slice())
            .collect();
        for (b, &k) in pending.iter().enumerate() {
            place[k] = (ptrs.len() as u32, b as u32);
        }
        ptrs.push(out.len() as u64);
        out.extend(cluster(&blobs, packing, layout.extended));
        pending.clear();
    };
    for (k, it) in items.iter().enumerate() {
        if it.content.is_err() {
            continue;
        }
        if it.namespace == b'X' {
            let mut alone = vec![k];
            flush(
                &mut alone,
                &mut out,
                &mut cluster_ptrs,
                Packing::Stored,
                &mut place,
            );
            continue;
        }
        pending.push(k);
        if pending.len() == layout.per_cluster {
            flush(
                &mut pending,
                &mut out,
                &mut cluster_ptrs,
                layout.packing,
                &mut place,
            );
        }
    }
    flush(
        &mut pending,
        &mut out,
        &mut cluster_ptrs,
        layout.packing,
        &mut place,
    );
    let mut dirent_ptrs = Vec::new();
    for (k, it) in items.iter().enumerate() {
        dirent_ptrs.push(out.len() as u64);
        match &it.content {
            Ok((m, _)) => {
                let mi = mimes.iter().position(|x| x == m).unwrap() as u16;
                out.extend_from_slice(&mi.to_le_bytes());
                out.extend_from_slice(&[0, it.namespace, 0, 0, 0, 0]);
                out.extend_from_slice(&place[k].0.to_le_bytes());
                out.extend_from_slice(&place[k].1.to_le_bytes());
            }
            Err((ns, path)) => {
                out.extend_from_slice(&0xffffu16.to_le_bytes());
                out.extend_from_slice(&[0, it.namespace, 0, 0, 0, 0]);
                out.extend_from_slice(&index_of(&items, *ns, path).to_le_bytes());
            }
        }
        out.extend_from_slice(it.path.as_bytes());
        out.push(0);
        if it.title != it.path {
            out.extend_from_slice(it.title.as_bytes());
        }
        out.push(0);
    }
    let path_ptr_pos = out.len() as u64;
    for p in &dirent_ptrs {
        out.extend_from_slice(&p.to_le_bytes());
    }
    let title_ptr_pos = out.len() as u64;
    for i in &by_title {
        out.extend_from_slice(&i.to_le_bytes());
    }
    let cluster_ptr_pos = out.len() as u64;
    for p in &cluster_ptrs {
        out.extend_from_slice(&p.to_le_bytes());
    }
    let main = if layout.new {
        index_of(&items, b'W', "mainPage")
    } else {
        index_of(&items, layout.main.0, &layout.main.1)
    };
    let checksum_pos = out.len() as u64;
    let mut h = Vec::with_capacity(80);
    h.extend_from_slice(&72_173_914u32.to_le_bytes());
    h.extend_from_slice(&6u16.to_le_bytes());
    h.extend_from_slice(&(layout.new as u16).to_le_bytes());
    h.extend_from_slice(&[7u8; 16]);
    h.extend_from_slice(&(items.len() as u32).to_le_bytes());
    h.extend_from_slice(&(cluster_ptrs.len() as u32).to_le_bytes());
    h.extend_from_slice(&path_ptr_pos.to_le_bytes());
    h.extend_from_slice(&title_ptr_pos.to_le_bytes());
    h.extend_from_slice(&cluster_ptr_pos.to_le_bytes());
    h.extend_from_slice(&80u64.to_le_bytes());
    h.extend_from_slice(&main.to_le_bytes());
    h.extend_from_slice(&u32::MAX.to_le_bytes());
    h.extend_from_slice(&checksum_pos.to_le_bytes());
    out[..80].copy_from_slice(&h);
    seal(&mut out);
    out
}

/// Puts the MD5 of everything before the checksum position at its end (again, after a test
/// changed bytes on purpose and wants only its own damage found).
pub fn seal(zim: &mut Vec<u8>) {
    let pos = u64::from_le_bytes(zim[72..80].try_into().unwrap()) as usize;
    zim.truncate(pos);
    let sum = Md5::digest(&zim[..]);
    zim.extend_from_slice(&sum);
}
