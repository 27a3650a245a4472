//! Content packages through the real binary: export → import into a fresh data folder gives
//! the same files byte for byte; a damaged or hostile package is refused with nothing changed.

use std::path::Path;
use std::process::Command;

const MATERIAL: &str = "+++\ntitle = \"Nuôi ong lấy mật\"\ncategory = \"agriculture\"\n\
summary = \"Đặt đõ ong, chăm đàn, lấy mật sạch.\"\nupdated = 2026-11-20\n+++\n\
Đặt đõ ong nơi khuất gió, gần nguồn hoa. ![Cách đặt đõ](nuoi-ong.svg)\n";

const LESSON: &str = "code = \"ong23\"\ntitle = \"Nuôi ong cho hội phụ nữ\"\n\
category = \"agriculture\"\npublished = true\n\n[[item]]\nmaterial = \"agriculture/nuoi-ong\"\n\
note = \"Xem hình\"\n";

fn hoclieu(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_hoclieu"))
        .args(args)
        .output()
        .unwrap()
}

fn files_under(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<_> = walkdir::WalkDir::new(root)
        .into_iter()
        .map(Result::unwrap)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (rel, std::fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

fn centre_with_one_material_and_lesson(data: &Path) {
    let lib = data.join("library/agriculture");
    std::fs::create_dir_all(&lib).unwrap();
    std::fs::write(lib.join("nuoi-ong.md"), MATERIAL).unwrap();
    std::fs::write(
        lib.join("nuoi-ong.svg"),
        "<svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    )
    .unwrap();
    std::fs::create_dir_all(data.join("lessons")).unwrap();
    std::fs::write(data.join("lessons/ong23.toml"), LESSON).unwrap();
}

#[test]
fn export_then_import_reproduces_materials_and_lessons_byte_for_byte() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    centre_with_one_material_and_lesson(&a);
    let pkg = d.path().join("ong.hoclieu.tar");
    let out = hoclieu(&[
        "package",
        "export",
        "--data",
        a.to_str().unwrap(),
        "--out",
        pkg.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 materials, 1 lessons, 3 files"));
    // Without --apply nothing is installed.
    let dry = hoclieu(&[
        "package",
        "import",
        pkg.to_str().unwrap(),
        "--data",
        b.to_str().unwrap(),
    ]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    assert!(
        String::from_utf8_lossy(&dry.stdout).contains("new      library/agriculture/nuoi-ong.md")
    );
    assert!(files_under(&b.join("library")).is_empty());
    let done = hoclieu(&[
        "package",
        "import",
        pkg.to_str().unwrap(),
        "--data",
        b.to_str().unwrap(),
        "--apply",
    ]);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(
        files_under(&a.join("library")),
        files_under(&b.join("library"))
    );
    assert_eq!(
        files_under(&a.join("lessons")),
        files_under(&b.join("lessons"))
    );
    // Exporting the copy gives the very same package.
    let again = d.path().join("again.hoclieu.tar");
    let out = hoclieu(&[
        "package",
        "export",
        "--data",
        b.to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let strip_created = |p: &Path| {
        let bytes = std::fs::read(p).unwrap();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| !l.contains("created = "))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(strip_created(&pkg), strip_created(&again));
    // Importing it a second time finds everything the same.
    let same = hoclieu(&[
        "package",
        "import",
        pkg.to_str().unwrap(),
        "--data",
        b.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&same.stdout);
    assert!(
        text.lines().filter(|l| l.starts_with("same")).count() == 3,
        "{text}"
    );
}

#[test]
fn hostile_and_damaged_packages_change_nothing() {
    let d = tempfile::tempdir().unwrap();
    let (a, b) = (d.path().join("a"), d.path().join("b"));
    centre_with_one_material_and_lesson(&a);
    centre_with_one_material_and_lesson(&b);
    let before = files_under(&b);
    let pkg = d.path().join("ong.hoclieu.tar");
    let out = hoclieu(&[
        "package",
        "export",
        "--data",
        a.to_str().unwrap(),
        "--out",
        pkg.to_str().unwrap(),
    ]);
    assert!(out.status.success());
    let good = std::fs::read(&pkg).unwrap();

    // Truncated (a USB stick pulled out too early).
    let cut = d.path().join("cut.hoclieu.tar");
    std::fs::write(&cut, &good[..good.len() / 2]).unwrap();
    // One byte of a file flipped.
    let flipped = d.path().join("flipped.hoclieu.tar");
    let mut bad = good.clone();
    // "khuất" is only in the material's text, not in the manifest.
    let needle = "khuất".as_bytes();
    let at = bad.windows(needle.len()).position(|w| w == needle).unwrap();
    bad[at] ^= 1;
    std::fs::write(&flipped, &bad).unwrap();
    // A path leaving the library.
    let evil = d.path().join("evil.hoclieu.tar");
    {
        let mut t = tar::Builder::new(std::fs::File::create(&evil).unwrap());
        let manifest = "format = 1\ncreated = \"x\"\ncentre = \"\"\n[[file]]\npath = \"library/../../x.md\"\nsize = 1\nsha256 = \"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb\"\n";
        for (name, body) in [
            ("hoclieu-package.toml", manifest.as_bytes()),
            ("x", b"a".as_slice()),
        ] {
            let mut h = tar::Header::new_ustar();
            h.set_size(body.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            t.append_data(&mut h, name, body).unwrap();
        }
        t.finish().unwrap();
    }
    for p in [&cut, &flipped, &evil] {
        let out = hoclieu(&[
            "package",
            "import",
            p.to_str().unwrap(),
            "--data",
            b.to_str().unwrap(),
            "--apply",
        ]);
        assert!(!out.status.success(), "{} was accepted", p.display());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("was refused; nothing was changed"), "{err}");
    }
    assert_eq!(
        files_under(&b),
        before,
        "a refused package changed the data folder"
    );
    assert!(!d.path().join("x.md").exists());
}

mod through_admin {
    use crate::admin::{app, post};
    use crate::lessons::teacher;
    use crate::util::{TestApp, multipart, upload_to, urlencode};

    async fn write_material(app: &TestApp, cookie: &str, token: &str, title: &str, body: &str) {
        let form = format!(
            "token={token}&action=save&id=&title={}&category=health&summary=&tags=&updated=2026-11-29&body={}",
            urlencode(title),
            urlencode(body)
        );
        app.request(post("/admin/materials/save", cookie, &form))
            .await
            .assert_status(303);
    }

    #[tokio::test]
    async fn a_package_downloaded_from_one_centre_is_checked_then_installed_in_another() {
        let a = app();
        let (cookie_a, token_a) = teacher(&a).await;
        write_material(
            &a,
            &cookie_a,
            &token_a,
            "Phòng bệnh sởi",
            "Tiêm vắc xin sởi đúng lịch.",
        )
        .await;
        // A GET exports nothing (a picture pointing here must not start an export).
        a.get_with("/admin/packages/export", &[("cookie", &cookie_a)])
            .await
            .assert_status(405);
        let pkg = a
            .request(post(
                "/admin/packages/export",
                &cookie_a,
                &format!("token={token_a}"),
            ))
            .await;
        pkg.assert_status(200);
        assert!(pkg.header("content-disposition").contains(".hoclieu.tar"));
        let bytes = pkg.body.clone();
        // Only what is chosen: one lesson, no material.
        let res = a
            .request(post(
                "/admin/lessons",
                &cookie_a,
                &format!("token={token_a}&title=Soi&category=health"),
            ))
            .await;
        let code = res
            .header("location")
            .rsplit('/')
            .next()
            .unwrap()
            .to_string();
        let page = a
            .get_with("/admin/packages", &[("cookie", &cookie_a)])
            .await;
        assert!(page.text().contains(&format!("value=\"{code}\"")));
        let chosen = a
            .request(post(
                "/admin/packages/export",
                &cookie_a,
                &format!("token={token_a}&lesson={code}"),
            ))
            .await;
        chosen.assert_status(200);
        let text = String::from_utf8_lossy(&chosen.body);
        assert!(
            text.contains("[[lesson]]") && !text.contains("[[material]]"),
            "{text}"
        );
        let unknown = a
            .request(post(
                "/admin/packages/export",
                &cookie_a,
                &format!("token={token_a}&material=khong/co"),
            ))
            .await;
        unknown.assert_status(400);
        // Without the session's token, nothing is exported.
        let forged = a
            .request(post(
                "/admin/packages/export",
                &cookie_a,
                "material=health/phong-benh-soi",
            ))
            .await;
        assert_ne!(forged.status, 200);
        unknown.assert_status(400);

        let b = app();
        let (cookie_b, token_b) = teacher(&b).await;
        let (ct, body) = multipart(&[("token", &token_b)], "goi.hoclieu.tar", &bytes);
        let res = b
            .request(upload_to("/admin/packages/import", &cookie_b, &ct, body))
            .await;
        res.assert_status(200);
        let html = res.text();
        assert!(html.contains("library/health/phong-benh-soi.md"), "{html}");
        // Checked but not installed yet.
        assert!(
            !b.search_ids("vac xin soi")
                .await
                .contains(&"health/phong-benh-soi".to_string())
        );
        let pending = html
            .split("name=\"pending\" value=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .to_string();
        let res = b
            .request(post(
                "/admin/packages/apply",
                &cookie_b,
                &format!("token={token_b}&pending={pending}"),
            ))
            .await;
        res.assert_status(200);
        assert!(res.text().contains("1 tệp mới"), "{}", res.text());
        assert_eq!(
            b.search_ids("vac xin soi")
                .await
                .first()
                .map(String::as_str),
            Some("health/phong-benh-soi")
        );
        assert_eq!(
            std::fs::read(a.data.join("library/health/phong-benh-soi.md")).unwrap(),
            std::fs::read(b.data.join("library/health/phong-benh-soi.md")).unwrap()
        );
        // The same confirmation cannot be replayed.
        b.request(post(
            "/admin/packages/apply",
            &cookie_b,
            &format!("token={token_b}&pending={pending}"),
        ))
        .await
        .assert_status(400);

        // A damaged package is refused with a reason, and nothing is staged or changed.
        let before: Vec<_> = walkdir::WalkDir::new(&b.data)
            .into_iter()
            .map(|e| e.unwrap().path().to_path_buf())
            .filter(|p| !p.to_string_lossy().contains("sqlite3"))
            .collect();
        let (ct, body) = multipart(
            &[("token", &token_b)],
            "hong.tar",
            &bytes[..bytes.len() / 3],
        );
        let res = b
            .request(upload_to("/admin/packages/import", &cookie_b, &ct, body))
            .await;
        res.assert_status(400);
        assert!(res.text().contains("Gói bị từ chối"), "{}", res.text());
        let after: Vec<_> = walkdir::WalkDir::new(&b.data)
            .into_iter()
            .map(|e| e.unwrap().path().to_path_buf())
            .filter(|p| !p.to_string_lossy().contains("sqlite3"))
            .collect();
        assert_eq!(before, after);
    }
}
