//! Loading libraries: broken files are reported and skipped, the rest is served.

use hoclieu::content::{Category, Library, Severity, Source};

use crate::util::TestApp;

fn write_broken(lib: &std::path::Path) {
    std::fs::write(
        lib.join("agriculture/hong-toml.md"),
        "+++\ntitle = \"Thiếu dấu ngoặc\ncategory = \"agriculture\"\n+++\nThân bài\n",
    )
    .unwrap();
    std::fs::write(
        lib.join("law/sai-linh-vuc.md"),
        "+++\ntitle = \"Sai lĩnh vực\"\ncategory = \"nau-an\"\n+++\nThân bài\n",
    )
    .unwrap();
    std::fs::write(
        lib.join("health/khong-utf8.md"),
        b"+++\ntitle = \"abc\"\ncategory = \"health\"\n+++\nD\xf2ng 5\n",
    )
    .unwrap();
    std::fs::write(
        lib.join("health/khong-front-matter.md"),
        "Chỉ có thân bài.\n",
    )
    .unwrap();
}

#[tokio::test]
async fn broken_materials_are_reported_and_skipped() {
    let app = TestApp::with(write_broken);
    let catalog = app.state.catalog().unwrap();
    let problems = catalog.library.problems();
    let find = |path: &str| {
        problems
            .iter()
            .find(|p| p.path == path)
            .unwrap_or_else(|| panic!("{path} not reported: {problems:?}"))
    };
    let toml = find("agriculture/hong-toml.md");
    assert_eq!(toml.severity, Severity::Error);
    assert_eq!(toml.line, Some(2), "{toml}");
    let cat = find("law/sai-linh-vuc.md");
    assert_eq!(cat.line, Some(3));
    assert!(cat.message.contains("nau-an"), "{cat}");
    let utf8 = find("health/khong-utf8.md");
    assert_eq!(utf8.line, Some(5));
    assert!(utf8.message.contains("UTF-8"));
    assert_eq!(find("health/khong-front-matter.md").line, Some(1));

    let res = app.get("/api/materials").await;
    let ids: Vec<String> = res
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids.len(), 9, "{ids:?}");
    assert!(ids.contains(&"agriculture/lua-vu-xuan".to_string()));
    assert!(
        !ids.iter()
            .any(|i| i.contains("hong") || i.contains("sai-linh-vuc"))
    );
    app.get("/m/agriculture/hong-toml").await.assert_status(404);
    assert_eq!(
        app.search_ids("trong lua").await[0],
        "agriculture/lua-vu-xuan"
    );
}

#[test]
fn check_command_reports_and_fails_on_a_broken_library() {
    let dir = tempfile::tempdir().unwrap();
    crate::util::copy_tree(&crate::util::fixture_dir(), dir.path());
    let bin = env!("CARGO_BIN_EXE_hoclieu");
    let ok = std::process::Command::new(bin)
        .args(["check", "--library"])
        .arg(dir.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{out}");
    assert!(out.contains("9 materials"), "{out}");

    write_broken(dir.path());
    let bad = std::process::Command::new(bin)
        .args(["check", "--library"])
        .arg(dir.path())
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&bad.stdout);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(out.contains("agriculture/hong-toml.md:2: error"), "{out}");
    assert!(out.contains("law/sai-linh-vuc.md:3: error"), "{out}");
    assert!(out.contains("unknown category \"nau-an\""), "{out}");
    assert!(out.contains("4 errors"), "{out}");
}

#[test]
fn broken_links_are_warnings() {
    let dir = tempfile::tempdir().unwrap();
    crate::util::copy_tree(&crate::util::fixture_dir(), dir.path());
    std::fs::write(
        dir.path().join("law/lien-ket-hong.md"),
        "+++\ntitle = \"Liên kết hỏng\"\ncategory = \"law\"\n+++\n## Trống\n## Có\n[tệp](khong-co.pdf)\n",
    )
    .unwrap();
    let lib = Library::load(Source::dir(dir.path()).unwrap());
    assert!(
        lib.get("law/lien-ket-hong").is_some(),
        "warnings do not skip the file"
    );
    let msgs: Vec<String> = lib.problems().iter().map(ToString::to_string).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("link to missing file khong-co.pdf")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter()
            .any(|m| m.contains("section \"Trống\" is empty")),
        "{msgs:?}"
    );
}

#[test]
fn attachments_and_ids_follow_the_files() {
    let lib = Library::load(Source::dir(&crate::util::fixture_dir()).unwrap());
    assert!(lib.problems().is_empty(), "{:?}", lib.problems());
    let rice = lib.get("agriculture/lua-vu-xuan").unwrap();
    assert_eq!(rice.category, Category::Agriculture);
    assert_eq!(rice.language, "vi");
    let names: Vec<&str> = rice.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["lua-vu-xuan-bai-giang.mp3", "lua-vu-xuan-lich.svg"]);
    assert!(lib.get("law/quyền và nghĩa vụ").is_some());
    assert_eq!(lib.counts()[&Category::Law], 2);
}

#[test]
fn the_starter_library_meets_the_content_bar() {
    let lib = Library::load(Source::Embedded);
    assert!(lib.problems().is_empty(), "{:#?}", lib.problems());
    for (c, n) in lib.counts() {
        assert!(n >= 16, "{c} has only {n} materials");
    }
    let mut diagrams = 0;
    let mut checklists = 0;
    for m in lib.materials() {
        let p = lib.read(m).unwrap();
        let words = p.body.split_whitespace().count();
        assert!((300..=1200).contains(&words), "{}: {words} words", m.id);
        assert!(!m.summary.is_empty(), "{}: no summary", m.id);
        assert!(m.tags.len() >= 2, "{}: too few tags", m.id);
        let last_heading = p.body.lines().rfind(|l| l.starts_with('#')).unwrap_or("");
        assert!(
            last_heading
                .trim_start_matches('#')
                .trim()
                .starts_with("Nguồn"),
            "{}: last section is {last_heading:?}, not Nguồn",
            m.id
        );
        let nguon = p.body.rsplit("Nguồn").next().unwrap_or("");
        assert!(
            nguon.split_whitespace().count() >= 5,
            "{}: empty Nguồn",
            m.id
        );
        if m.attachments.iter().any(|a| a.name.contains("checklist")) {
            checklists += 1;
        }
        if m.attachments
            .iter()
            .any(|a| a.kind() == "image" && !a.name.contains("checklist"))
        {
            diagrams += 1;
        }
    }
    assert!(diagrams >= 8, "{diagrams} materials with a picture");
    assert!(checklists >= 4, "{checklists} materials with a checklist");
    let total: u64 = walkdir::WalkDir::new(concat!(env!("CARGO_MANIFEST_DIR"), "/content"))
        .into_iter()
        .filter_map(Result::ok)
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum();
    assert!(total < 20 * 1024 * 1024, "content/ is {total} bytes");
}

/// Widest a body picture is shown on a 360 px phone: the page keeps 1rem (16 px) on each side.
const PHONE_PICTURE_PX: f64 = 360.0 - 2.0 * 16.0;

/// Smallest label, in CSS pixels, a villager can read on that phone.
const SMALLEST_LABEL_PX: f64 = 16.0;

/// The value of attribute `name` in the start tag `tag`.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    tag[at..].split('"').next()
}

/// The problems that keep one SVG picture from being read, or trusted, on a phone.
fn phone_picture_problems(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some(root) = svg
        .find("<svg")
        .map(|i| &svg[i..i + svg[i..].find('>').unwrap_or(0)])
    else {
        return vec!["no <svg> element".into()];
    };
    let view: Vec<f64> = attr(root, "viewBox")
        .unwrap_or("")
        .split([' ', ','])
        .filter_map(|n| n.parse().ok())
        .collect();
    let [_, _, vb_width, _] = view[..] else {
        return vec!["no viewBox".into()];
    };
    // An <img> shows the picture at its own width, shrunk to fit: labels shrink with it.
    if attr(root, "width").and_then(|w| w.parse::<f64>().ok()) != Some(vb_width) {
        out.push("width differs from the viewBox width".into());
    }
    let scale = (PHONE_PICTURE_PX / vb_width).min(1.0);
    // Every label inherits a size from the root at least, so checking every size checks every label.
    if attr(root, "font-size").is_none() {
        out.push("the root <svg> sets no font-size (labels would fall back to 16 units)".into());
    }
    if svg.contains("font-size:") || svg.contains(" font=") {
        out.push("a font size set in a style, which this check does not read".into());
    }
    for (i, _) in svg.match_indices(" font-size=\"") {
        let value = svg[i + 12..].split('"').next().unwrap_or("");
        match value.trim_end_matches("px").parse::<f64>() {
            Ok(units) if units * scale >= SMALLEST_LABEL_PX => {}
            Ok(units) => out.push(format!(
                "font-size {value} shows at {:.1} px on a phone",
                units * scale
            )),
            Err(_) => out.push(format!("font-size {value:?} is not a plain number")),
        }
    }
    let lower = svg.to_lowercase();
    for bad in [
        "<script",
        "javascript:",
        "<foreignobject",
        "<image",
        "@import",
        "href=\"http",
        "href=\"//",
        "url(http",
        "url(//",
    ] {
        if lower.contains(bad) {
            out.push(format!("contains {bad}"));
        }
    }
    if lower.match_indices(" on").any(|(i, _)| {
        let rest = &lower[i + 3..];
        let name = rest.len()
            - rest
                .trim_start_matches(|c: char| c.is_ascii_lowercase())
                .len();
        name > 0 && rest[name..].starts_with('=')
    }) {
        out.push("an event-handler attribute".into());
    }
    // Start and end tags pair up (a cheap stand-in for an XML parser).
    let mut open: Vec<&str> = Vec::new();
    for piece in svg.split('<').skip(1) {
        let tag = piece.split('>').next().unwrap_or("");
        if tag.starts_with(['?', '!']) || tag.ends_with('/') {
            continue;
        }
        let name = tag
            .split([' ', '\n', '/'])
            .find(|s| !s.is_empty())
            .unwrap_or("");
        if tag.starts_with('/') {
            if open.pop() != Some(name) {
                out.push(format!("</{name}> does not close the open element"));
                break;
            }
        } else {
            open.push(name);
        }
    }
    if !open.is_empty() {
        out.push(format!("unclosed {open:?}"));
    }
    out
}

#[test]
fn pictures_in_starter_bodies_are_readable_on_a_portrait_phone() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("content");
    let mut checked = 0;
    let mut problems = Vec::new();
    for md in walkdir::WalkDir::new(&root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
    {
        let body = std::fs::read_to_string(md.path()).unwrap();
        // `![alt](name.svg)`: a picture shown in the body, not a checklist linked for printing.
        for (i, _) in body.match_indices("![") {
            let Some(name) = body[i..]
                .split_once("](")
                .and_then(|(_, rest)| rest.split(')').next())
                .filter(|n| n.ends_with(".svg"))
            else {
                continue;
            };
            let svg = std::fs::read_to_string(md.path().parent().unwrap().join(name)).unwrap();
            for p in phone_picture_problems(&svg) {
                problems.push(format!("{name}: {p}"));
            }
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} body pictures found");
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_phone_picture_check_catches_a_landscape_drawing_and_a_script() {
    let wide = r#"<svg xmlns="http://www.w3.org/2000/svg" width="800" height="400" viewBox="0 0 800 400" font-size="18"><text x="1" y="20" font-size="14">Gieo mạ</text></svg>"#;
    let problems = phone_picture_problems(wide);
    assert!(
        problems.iter().any(|p| p.contains("font-size 14 shows at")),
        "{problems:?}"
    );
    let hostile = r#"<svg width="360" viewBox="0 0 360 100" font-size="18" onload="x()"><script>x()</script><image href="http://a/b.png"/></svg>"#;
    let problems = phone_picture_problems(hostile);
    for want in ["<script", "<image", "href=\"http", "event-handler"] {
        assert!(
            problems.iter().any(|p| p.contains(want)),
            "{want}: {problems:?}"
        );
    }
    let unset = r#"<svg width="360" viewBox="0 0 360 100"><g><text>Sởi</text></svg>"#;
    let problems = phone_picture_problems(unset);
    assert!(
        problems.iter().any(|p| p.contains("no font-size")),
        "{problems:?}"
    );
    assert!(
        problems.iter().any(|p| p.contains("does not close")),
        "{problems:?}"
    );
}

/// "Kỹ thuật trồng ngô lai" and its text as a TCVN3 (.VnTime) file's bytes.
const TCVN3_MATERIAL: &[u8] = b"+++\ntitle = \"K\xfc thu\xcbt tr\xe5ng ng\xab lai\"\ncategory = \"agriculture\"\n+++\n# Ch\xad\xacng 1\n\nGi\xe8ng ng\xab lai c\xc7n b\xe3n ph\xa9n \xae\xf3ng l\xf3c, tr\xe5ng theo h\xb5ng.\n";

#[tokio::test]
async fn a_material_typed_in_tcvn3_is_read_as_unicode_and_said_so() {
    let app = TestApp::with(|lib| {
        std::fs::write(lib.join("agriculture/ngo-lai-tcvn3.md"), TCVN3_MATERIAL).unwrap();
    });
    let catalog = app.state.catalog().unwrap();
    let m = catalog
        .library
        .get("agriculture/ngo-lai-tcvn3")
        .expect("served");
    assert_eq!(m.title, "Kỹ thuật trồng ngô lai");
    let note = catalog
        .library
        .problems()
        .iter()
        .find(|p| p.path == "agriculture/ngo-lai-tcvn3.md")
        .expect("the conversion is reported");
    assert_eq!(note.severity, Severity::Warning);
    assert!(note.message.contains("chuyển từ mã TCVN3"), "{note}");
    let page = app.get("/m/agriculture/ngo-lai-tcvn3").await;
    page.assert_status(200);
    assert!(page.text().contains("bón phân đúng lúc"), "{}", page.text());
    assert_eq!(
        app.search_ids("giong ngo lai bon phan")
            .await
            .first()
            .map(String::as_str),
        Some("agriculture/ngo-lai-tcvn3")
    );
}
