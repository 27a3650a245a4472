//! Pictures and attachments as a villager's phone gets them: a phone photo uploaded by a
//! teacher is shown by a light copy, upright, with the original behind a link; attachments are
//! listed by the names the material gives them.

use image::{GenericImageView, ImageEncoder, Rgb, RgbImage};

use crate::lessons::teacher;
use crate::util::{TestApp, multipart, upload};

/// A material whose body shows a photo not uploaded yet and links a leaflet.
const MATERIAL: &str = "+++\ntitle = \"Cho trẻ uống Oresol\"\ncategory = \"health\"\n+++\n\
Cho trẻ uống từng thìa nhỏ.\n\n![Bé uống Oresol bằng thìa](pha-oresol-be-uong.jpg)\n\n\
In [tờ hướng dẫn](pha-oresol-huong-dan.pdf) dán ở nhà.\n";

/// The TIFF block of an EXIF segment with one entry: orientation 6, "turn 90° clockwise to
/// show", as a phone held upright writes it.
const EXIF_ROTATE_90: [u8; 26] = [
    b'I', b'I', 42, 0, 8, 0, 0, 0, // little-endian TIFF, first IFD at 8
    1, 0, // one entry
    0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0, // Orientation, SHORT, 1 value: 6
    0, 0, 0, 0, // no next IFD
];

/// A phone photo of `width` × `height` stored pixels (sideways, as the sensor reads it), with
/// EXIF orientation 6: grain like a real photo so it weighs megabytes, and a red corner at the
/// stored top left, which an upright copy shows at its top right.
fn phone_photo(width: u32, height: u32) -> Vec<u8> {
    let mut seed = 0x2545_f491_u32;
    let img = RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let grain = (seed % 48) as u8;
        if x < width / 4 && y < height / 4 {
            Rgb([220 + grain / 2, grain / 2, grain / 2])
        } else {
            let base = (60 + (x + y) * 120 / (width + height)) as u8;
            Rgb([base / 2 + grain, base + grain, base / 3 + grain])
        }
    });
    let mut bytes = Vec::new();
    let mut encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 92);
    encoder.set_exif_metadata(EXIF_ROTATE_90.to_vec()).unwrap();
    encoder
        .write_image(img.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    bytes
}

fn is_red(p: image::Rgba<u8>) -> bool {
    p[0] > 180 && p[1] < 90 && p[2] < 90
}

/// Names of the files in the centre's library that start with `prefix`.
fn centre_files(app: &TestApp, prefix: &str) -> Vec<String> {
    let mut names: Vec<String> = walkdir::WalkDir::new(app.data.join("library"))
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(prefix))
        .collect();
    names.sort();
    names
}

/// The material and its leaflet, and a 12-megapixel phone photo (over 3 MB) uploaded to it by
/// a teacher as `Be uong.jpg`: the app, the teacher's cookie and the photo's bytes.
async fn with_a_phone_photo() -> (TestApp, String, Vec<u8>) {
    let app = TestApp::with(|lib| {
        std::fs::write(lib.join("health/pha-oresol.md"), MATERIAL).unwrap();
        std::fs::write(lib.join("health/pha-oresol-huong-dan.pdf"), b"%PDF-1.4\n").unwrap();
    });
    let (cookie, token) = teacher(&app).await;
    let photo = phone_photo(4032, 3024);
    assert!(photo.len() > 3 * 1024 * 1024, "{} bytes", photo.len());
    let (ct, body) = multipart(
        &[("token", &token), ("id", "health/pha-oresol")],
        "Be uong.jpg",
        &photo,
    );
    app.request(upload(&cookie, &ct, body))
        .await
        .assert_status(303);
    (app, cookie, photo)
}

// Library files are served with blocking reads, which need the multi-threaded runtime.
#[tokio::test(flavor = "multi_thread")]
async fn a_phone_photo_is_shown_by_an_upright_light_copy_with_the_original_behind_a_link() {
    let (app, cookie, photo) = with_a_phone_photo().await;

    // The original is kept; the copies lie beside it, upright (3024 × 4032 shown).
    assert_eq!(
        centre_files(&app, "pha-oresol-be-uong"),
        [
            "pha-oresol-be-uong.jpg",
            "pha-oresol-be-uong.jpg.1280x1707.jpg",
            "pha-oresol-be-uong.jpg.480x640.jpg",
        ]
    );
    let large = app
        .get("/m/health/pha-oresol-be-uong.jpg.1280x1707.jpg")
        .await;
    large.assert_status(200);
    assert_eq!(large.header("content-type"), "image/jpeg");
    let decoded = image::load_from_memory(&large.body).unwrap();
    assert_eq!(decoded.dimensions(), (1280, 1707));
    assert!(
        is_red(decoded.get_pixel(1200, 80)),
        "red corner at the top right"
    );
    assert!(!is_red(decoded.get_pixel(80, 80)), "not at the top left");
    assert!(large.body.len() < 400 * 1024, "{} bytes", large.body.len());
    let small = app
        .get("/m/health/pha-oresol-be-uong.jpg.480x640.jpg")
        .await;
    small.assert_status(200);
    assert_eq!(
        image::load_from_memory(&small.body).unwrap().dimensions(),
        (480, 640)
    );

    let html = app.get("/m/health/pha-oresol").await.text();
    let original = "/m/health/pha-oresol-be-uong.jpg";
    let copy = |size: &str| format!("{original}.{size}.jpg");
    let img = format!(
        r#"<img src="{}" srcset="{} 480w, {} 1280w" sizes="(min-width: 48rem) 44rem, calc(100vw - 2rem)" width="1280" height="1707" alt="Bé uống Oresol bằng thìa" loading="lazy">"#,
        copy("480x640"),
        copy("480x640"),
        copy("1280x1707"),
    );
    assert!(
        html.contains(&format!(
            r#"<a class="pic" href="{}">{img}</a>"#,
            copy("1280x1707")
        )),
        "a tap opens the large copy: {html}"
    );
    let label = format!(
        "Tải ảnh gốc ({})",
        hoclieu::content::human_size(photo.len() as u64)
    );
    assert!(label.contains(" MB)"), "{label}");
    assert!(
        html.contains(&format!(
            r#"<a class="pic-original" href="{original}" download>{label}</a>"#
        )),
        "{html}"
    );
    assert!(
        !html.contains(&format!(r#"src="{original}""#)),
        "the original is never loaded by the page"
    );
    // The picture is in the body, so the list does not show it again; the leaflet is listed
    // by the words the material links it with.
    let list = &html[html.find("Tệp kèm theo").expect("attachments listed")..];
    assert!(!list.contains("be-uong"), "{list}");
    assert!(
        list.contains(
            r#"<a href="/m/health/pha-oresol-huong-dan.pdf" download><b>Tải PDF về máy:</b> tờ hướng dẫn</a>"#
        ),
        "{list}"
    );

    // The copies travel with the material in a package.
    let form = app
        .get_with("/admin/packages", &[("cookie", &cookie)])
        .await;
    let token = crate::admin::token_in(&form.text());
    let pkg = app
        .request(crate::admin::post(
            "/admin/packages/export",
            &cookie,
            &format!("token={token}&material=health/pha-oresol"),
        ))
        .await;
    pkg.assert_status(200);
    let mut names: Vec<String> = tar::Archive::new(pkg.body.as_slice())
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .filter(|n| n.contains("be-uong"))
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "library/health/pha-oresol-be-uong.jpg",
            "library/health/pha-oresol-be-uong.jpg.1280x1707.jpg",
            "library/health/pha-oresol-be-uong.jpg.480x640.jpg",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_material_page_with_a_big_photo_is_light() {
    let (app, _, photo) = with_a_phone_photo().await;
    let page = app
        .get_with("/m/health/pha-oresol", &[("accept-encoding", "gzip")])
        .await;
    page.assert_status(200);
    let html = app.get("/m/health/pha-oresol").await.text();
    // Everything the page makes a phone fetch: the frame's assets (as the home page's budget
    // counts them) and each picture's `src`.
    let mut fetched: std::collections::BTreeSet<&str> = html
        .split('"')
        .filter(|s| s.starts_with("/static/"))
        .collect();
    fetched.extend(
        html.split(r#"src=""#)
            .skip(1)
            .filter_map(|s| s.split('"').next()),
    );
    let mut total = page.body.len();
    let mut pictures = 0;
    for url in &fetched {
        let r = app.get_with(url, &[("accept-encoding", "gzip")]).await;
        r.assert_status(200);
        total += r.body.len();
        pictures += usize::from(url.starts_with("/m/"));
    }
    assert_eq!(pictures, 1, "{fetched:?}");
    assert!(
        total < 120 * 1024,
        "page with the {} KB photo weighs {total} bytes: {fetched:?}",
        photo.len() / 1024
    );
}

#[tokio::test]
async fn pictures_too_large_to_decode_are_refused_and_leave_nothing() {
    let app = TestApp::with(|lib| {
        std::fs::write(lib.join("health/pha-oresol.md"), MATERIAL).unwrap();
    });
    let (cookie, token) = teacher(&app).await;
    // A few hundred bytes that claim a picture too wide, and a 72-megapixel sheet.
    for (width, height) in [(20_000, 2), (9_000, 8_000)] {
        let pixels = vec![0u8; width as usize * height as usize];
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new_with_quality(
            &mut png,
            image::codecs::png::CompressionType::Fast,
            image::codecs::png::FilterType::NoFilter,
        )
        .write_image(&pixels, width, height, image::ExtendedColorType::L8)
        .unwrap();
        let (ct, body) = multipart(
            &[("token", &token), ("id", "health/pha-oresol")],
            "to.png",
            &png,
        );
        let res = app.request(upload(&cookie, &ct, body)).await;
        res.assert_status(400);
        assert!(res.text().contains("Ảnh quá lớn"), "{}", res.text());
    }
    assert!(centre_files(&app, "").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn attachments_are_listed_by_the_names_the_material_gives_them() {
    let small = {
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new(&mut bytes)
            .write_image(&[90u8; 64 * 48 * 3], 64, 48, image::ExtendedColorType::Rgb8)
            .unwrap();
        bytes
    };
    let app = TestApp::with(|lib| {
        let dir = lib.join("agriculture");
        std::fs::write(dir.join("lua-vu-xuan-so-tay_ky-thuat.pdf"), b"%PDF-1.4\n").unwrap();
        std::fs::write(dir.join("lua-vu-xuan-anh.jpg"), &small).unwrap();
        std::fs::write(dir.join("lua-vu-xuan-anh.jpg.32x24.jpg"), &small).unwrap();
        // A copy whose original was removed.
        std::fs::write(dir.join("lua-vu-xuan-cu.jpg.480x360.jpg"), &small).unwrap();
    });
    let html = app.get("/m/agriculture/lua-vu-xuan").await.text();
    // The body's picture can be tapped to see it whole, and is not listed again.
    assert!(
        html.contains(r#"<a class="pic" href="/m/agriculture/lua-vu-xuan-lich.svg"><img src="/m/agriculture/lua-vu-xuan-lich.svg" alt="Lịch thời vụ" loading="lazy"></a>"#),
        "{html}"
    );
    let list = &html[html.find("Tệp kèm theo").expect("attachments listed")..];
    assert!(!list.contains("lich.svg"), "{list}");
    // Named by the body's link text, else by the file name without the material's own name.
    assert!(
        list.contains(r#"<a href="/m/agriculture/lua-vu-xuan-bai-giang.mp3"><b>Nghe:</b> bài giảng</a> <span class="meta">(4 KB)</span>"#),
        "{list}"
    );
    assert!(
        list.contains(r#"download><b>Tải PDF về máy:</b> So tay ky thuat</a>"#),
        "{list}"
    );
    let copy = "/m/agriculture/lua-vu-xuan-anh.jpg.32x24.jpg";
    assert!(
        list.contains(&format!(
            r#"<a href="{copy}"><img class="thumb" src="{copy}" width="32" height="24" alt="" loading="lazy"></a><br>"#
        )),
        "a listed picture shows its copy: {list}"
    );
    assert!(list.contains(r#"<b>Xem ảnh:</b> Anh</a>"#), "{list}");
    assert!(
        list.contains(r#"href="/m/agriculture/lua-vu-xuan-anh.jpg" download>Tải ảnh gốc ("#),
        "{list}"
    );
    // Copies are not attachments of their own, and a copy without its original is ignored.
    assert_eq!(list.matches("<li>").count(), 3, "{list}");
    let api = app.get("/api/materials").await.text();
    assert!(api.contains("lua-vu-xuan-anh.jpg\""), "{api}");
    assert!(
        !api.contains("32x24") && !api.contains("lua-vu-xuan-cu"),
        "{api}"
    );
    app.get("/m/agriculture/lua-vu-xuan-cu.jpg.480x360.jpg")
        .await
        .assert_status(404);
    app.get(copy).await.assert_status(200);
}
