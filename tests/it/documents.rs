//! Reading documents: PDF pages, headings and titles; Word and LibreOffice structure; old
//! encodings; scanned pages; and the files that must be refused without harm, read through
//! the real bounded worker.

use std::time::{Duration, Instant};

use hoclieu::content::{Category, markdown, material};
use hoclieu::documents::worker::{Limits, Reader};
use hoclieu::documents::{self, Block, DocError, Kind};

use crate::docmaker;
use crate::lessons::teacher;
use crate::util::{TestApp, multipart_files, upload_to};

fn reader(limits: Limits) -> Reader {
    Reader::new(env!("CARGO_BIN_EXE_hoclieu"), limits)
}

/// Reads `bytes` through the worker, as the server does.
async fn read_in_worker(bytes: &[u8], limits: Limits) -> Result<documents::Document, DocError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc");
    std::fs::write(&path, bytes).unwrap();
    reader(limits).read(&path).await
}

fn texts(doc: &documents::Document) -> Vec<String> {
    doc.blocks
        .iter()
        .map(|b| match b {
            Block::Page(n) => format!("[{n}]"),
            Block::Heading(l, t) => format!("h{l} {t}"),
            Block::Paragraph(t) => t.clone(),
            Block::Picture(i) => format!("[hình {i}]"),
        })
        .collect()
}

#[tokio::test]
async fn a_pdf_is_read_page_by_page_with_its_title_and_headings() {
    let bytes = docmaker::pdf(
        &[
            &[
                (20.0, "Nuôi gà thả vườn"),
                (11.0, "Chuồng nuôi gà cần cao ráo, thoáng mát và"),
                (11.0, "tránh gió lùa vào mùa đông."),
            ],
            &[
                (16.0, "Tiêm phòng"),
                (11.0, "Nhỏ vắc xin Newcastle lúc gà ba ngày tuổi."),
            ],
        ],
        Some("Sổ tay nuôi gà"),
    );
    assert_eq!(Kind::sniff(&bytes), Some(Kind::Pdf));
    let doc = read_in_worker(&bytes, Limits::default()).await.unwrap();
    assert_eq!(doc.title.as_deref(), Some("Sổ tay nuôi gà"));
    assert_eq!(doc.pages, 2);
    assert_eq!(
        texts(&doc),
        [
            "[1]",
            "h1 Nuôi gà thả vườn",
            "Chuồng nuôi gà cần cao ráo, thoáng mát và tránh gió lùa vào mùa đông.",
            "[2]",
            "h2 Tiêm phòng",
            "Nhỏ vắc xin Newcastle lúc gà ba ngày tuổi.",
        ]
    );
    // As a material: a section per page, whose anchor names the page.
    let p = documents::material::parsed(
        &doc,
        "so-tay.pdf",
        &"0".repeat(64),
        None,
        Category::Agriculture,
    );
    assert_eq!(p.title, "Sổ tay nuôi gà");
    let text = material::write(&p).unwrap();
    let back = material::parse(text.as_bytes()).unwrap();
    assert_eq!(back.document.as_ref().unwrap().pages, 2);
    let (plain, sections) = markdown::to_plain_text_with_sections(&back.body);
    let anchors: Vec<&str> = sections.iter().map(|s| s.anchor.as_str()).collect();
    assert_eq!(anchors, ["trang-1", "trang-2"], "{plain}");
    assert_eq!(documents::material::page_of_anchor("trang-2"), Some(2));
    assert!(plain.contains("Nhỏ vắc xin Newcastle"), "{plain}");
}

#[test]
fn a_word_file_keeps_its_headings_and_drops_deleted_text() {
    let bytes = docmaker::docx(
        &[
            (Some("Title"), "Phòng chống bạo lực gia đình"),
            (
                None,
                "Bạo lực gia đình là hành vi cố ý của thành viên gia đình\tgây tổn hại.",
            ),
            (Some("Heading1"), "Khi bị đánh đập"),
            (None, "Gọi 111 & báo công an xã <ngay>."),
        ],
        Some("Luật phòng, chống bạo lực gia đình 2022"),
    );
    assert_eq!(Kind::sniff(&bytes), Some(Kind::Docx));
    let doc = documents::read(&bytes).unwrap();
    assert_eq!(
        doc.title.as_deref(),
        Some("Luật phòng, chống bạo lực gia đình 2022")
    );
    assert_eq!(
        texts(&doc),
        [
            "h1 Phòng chống bạo lực gia đình",
            "Bạo lực gia đình là hành vi cố ý của thành viên gia đình gây tổn hại.",
            "h1 Khi bị đánh đập",
            "Gọi 111 & báo công an xã <ngay>.",
        ]
    );
    // What the document says is text, never Markdown or HTML.
    let p = documents::material::parsed(&doc, "bao-luc.docx", &"0".repeat(64), None, Category::Law);
    let html = markdown::to_html(&p.body, |s| hoclieu::content::Link::Url(s.to_string()));
    assert!(html.contains("&lt;ngay&gt;"), "{html}");
    assert!(html.contains("<h2"), "{html}");
}

#[test]
fn an_opendocument_text_keeps_its_headings_spaces_and_leaves_out_note_marks() {
    let bytes = docmaker::odt(
        &[
            (Some(2), "Cách ủ phân chuồng"),
            (None, "Trộn phân với vôi  bột rồi ủ kín ba tuần."),
        ],
        None,
    );
    assert_eq!(Kind::sniff(&bytes), Some(Kind::Odt));
    let doc = documents::read(&bytes).unwrap();
    assert_eq!(doc.title, None);
    assert_eq!(doc.best_title().as_deref(), Some("Tiêu đề theo kiểu"));
    assert_eq!(
        texts(&doc),
        [
            "h1 Tiêu đề theo kiểu",
            "h2 Cách ủ phân chuồng",
            "Trộn phân với vôi bột rồi ủ kín ba tuần.",
            "Chú thích.",
        ]
    );
}

#[test]
fn text_typed_in_a_tcvn3_font_comes_out_as_unicode() {
    // "Hướng dẫn trồng lúa nước" and "Chương trình khuyến nông của xã" in TCVN3 bytes.
    let bytes = docmaker::pdf_tcvn3(&[
        b"H\xad\xedng d\xc9n tr\xe5ng l\xf3a n\xad\xedc",
        b"Ch\xad\xacng tr\xd7nh khuy\xd5n n\xabng c\xf1a x\xb7",
    ]);
    let doc = documents::read(&bytes).unwrap();
    assert_eq!(doc.converted_from.as_deref(), Some("TCVN3"));
    let text = doc.plain_text();
    assert!(text.contains("trồng lúa"), "{text}");
    assert!(text.contains("Chương trình khuyến nông của xã"), "{text}");
}

#[test]
fn scanned_pages_are_found_not_indexed_as_empty() {
    let doc = documents::read(&docmaker::pdf_with_scans("Trang đầu có chữ.", 2)).unwrap();
    assert_eq!(doc.picture_pages, [2, 3]);
    let p = documents::material::parsed(&doc, "x.pdf", &"0".repeat(64), None, Category::Health);
    assert!(!p.body.contains("Trang 2"), "{}", p.body);
    // Nothing but pictures: still a document, of scanned pages.
    let doc = documents::read(&docmaker::pdf_with_scans("", 1));
    assert!(matches!(&doc, Ok(d) if d.picture_pages == [2]), "{doc:?}");
}

#[test]
fn a_locked_pdf_is_refused_and_one_locked_without_a_password_is_read() {
    assert_eq!(
        documents::read(&docmaker::pdf_locked("matkhau")),
        Err(DocError::Encrypted)
    );
    let doc = documents::read(&docmaker::pdf_locked("")).unwrap();
    assert!(doc.plain_text().contains("Tài liệu có khóa"), "{doc:?}");
}

#[test]
fn damaged_and_foreign_files_are_refused_with_a_reason() {
    assert_eq!(documents::read(b"just text"), Err(DocError::NotADocument));
    let pdf = docmaker::pdf(&[&[(12.0, "Một trang")]], None);
    for cut in [10, pdf.len() / 2] {
        let r = documents::read(&pdf[..cut]);
        assert!(
            r.is_err() || r.as_ref().is_ok_and(|d| !d.blocks.is_empty()),
            "{r:?}"
        );
    }
    let docx = docmaker::docx(&[(None, "Đoạn văn")], None);
    assert!(matches!(
        documents::read(&docx[..docx.len() / 2]),
        Err(DocError::Damaged(_)) | Err(DocError::NotADocument)
    ));
    let broken_xml = docmaker::zip(&[("word/document.xml", b"<w:document><w:body><w:p></w:bod")]);
    assert!(matches!(
        documents::read(&broken_xml),
        Err(DocError::Damaged(_)) | Err(DocError::NoText)
    ));
}

#[test]
fn a_zip_bomb_is_refused_after_a_bounded_read() {
    let zeros = vec![b' '; 1 << 20];
    let mut xml = Vec::with_capacity(80 << 20);
    xml.extend_from_slice(b"<w:document><w:body><w:p><w:r><w:t>");
    for _ in 0..80 {
        xml.extend_from_slice(&zeros);
    }
    let bomb = docmaker::zip(&[("word/document.xml", &xml)]);
    drop(xml);
    assert!(bomb.len() < 1 << 20, "{}", bomb.len());
    let started = Instant::now();
    assert!(matches!(documents::read(&bomb), Err(DocError::TooLarge(_))));
    assert!(started.elapsed() < Duration::from_secs(30));
}

#[tokio::test]
async fn a_pdf_that_loops_or_explodes_stops_its_worker_and_nothing_else() {
    let r = read_in_worker(&docmaker::pdf_recursive(), Limits::default()).await;
    assert!(r.is_err(), "{r:?}");
    // A content stream of 300 MB of spaces, with the worker allowed 128 MB: refused, quickly.
    let bomb = docmaker::pdf_stream_bomb(300);
    let limits = Limits {
        time: Duration::from_secs(20),
        memory: 128 << 20,
        ..Limits::default()
    };
    let started = Instant::now();
    let r = read_in_worker(&bomb, limits.clone()).await;
    assert!(
        matches!(
            r,
            Err(DocError::Worker(_)) | Err(DocError::Damaged(_)) | Err(DocError::NoText)
        ),
        "{r:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(25));
    // The same reader goes on reading good files.
    let good = docmaker::pdf(&[&[(12.0, "Vẫn đọc được")]], None);
    let doc = read_in_worker(&good, limits).await.unwrap();
    assert!(doc.plain_text().contains("Vẫn đọc được"));
}

#[tokio::test]
async fn a_worker_out_of_time_is_stopped() {
    let limits = Limits {
        time: Duration::from_millis(1),
        ..Limits::default()
    };
    let line: &[docmaker::Line<'_>] = &[(12.0, "Chữ")];
    let bytes = docmaker::pdf(&[line; 200], None);
    let r = read_in_worker(&bytes, limits).await;
    assert!(matches!(r, Err(DocError::Worker(_))), "{r:?}");
}

// Library files are served with blocking reads, which need the multi-threaded runtime.
#[tokio::test(flavor = "multi_thread")]
async fn staff_drop_in_documents_and_villagers_find_them_at_their_page() {
    let app = TestApp::with(|_| {});
    let (cookie, token) = teacher(&app).await;
    let leaflet = docmaker::pdf(
        &[
            &[
                (18.0, "Phòng bệnh dại"),
                (11.0, "Chó nuôi phải được tiêm phòng hằng năm."),
            ],
            &[(
                11.0,
                "Bị chó cắn: rửa vết thương bằng xà phòng dưới vòi nước chảy mười lăm phút.",
            )],
        ],
        Some("Tờ rơi phòng bệnh dại"),
    );
    let outline = docmaker::docx(
        &[
            (Some("Heading1"), "Quyền của người cao tuổi"),
            (None, "Người cao tuổi được khám bệnh miễn phí."),
        ],
        None,
    );
    let (ct, body) = multipart_files(
        &[("token", &token), ("category", "health")],
        &[
            ("to-roi-dai.pdf", &leaflet),
            ("de-cuong.docx", &outline),
            ("anh.txt", b"not a document"),
            ("khoa.pdf", &docmaker::pdf_locked("matkhau")),
        ],
    );
    let page = app
        .request(upload_to("/admin/materials/documents", &cookie, &ct, body))
        .await;
    page.assert_status(200);
    let html = page.text();
    assert_eq!(html.matches("Đã thêm:").count(), 2, "{html}");
    assert!(html.contains("anh.txt: không phải tệp PDF"), "{html}");
    assert!(html.contains("khoa.pdf: tệp có mật khẩu"), "{html}");

    // The leaflet is a material of its field, with its original beside it.
    let id = "health/to-roi-phong-benh-dai";
    let m = app.get(&format!("/m/{id}")).await;
    m.assert_status(200);
    let html = m.text();
    assert!(html.contains("Tờ rơi phòng bệnh dại"), "{html}");
    assert!(html.contains("Tải tệp gốc"), "{html}");
    assert!(html.contains(r#"id="trang-2""#), "{html}");
    let original = app.get(&format!("/m/{id}.pdf")).await;
    original.assert_status(200);
    assert_eq!(original.body, leaflet);

    // Searched without marks, it is found at its page, which the original opens at.
    let json = app.search_json("cho can rua vet thuong").await;
    let hit = &json["hits"][0];
    assert_eq!(hit["id"], id, "{json}");
    assert_eq!(hit["page"], 2, "{json}");
    assert_eq!(hit["url"], format!("/m/{id}#trang-2"));
    assert_eq!(hit["original"], format!("/m/{id}.pdf#page=2"));
    let results = app
        .get("/search?q=cho%20can%20rua%20vet%20thuong")
        .await
        .text();
    assert!(
        !results.contains("Trang 1."),
        "page headings are not snippet text: {results}"
    );
    // The page headings are not words of the text: "trang" finds no leaflet by them.
    let json = app.search_json("trang").await;
    assert!(
        json["hits"]
            .as_array()
            .unwrap()
            .iter()
            .all(|h| h["id"] != id),
        "{json}"
    );
    assert!(results.contains("trang 2:"), "{results}");
    assert!(results.contains("Mở tệp gốc ở trang 2"), "{results}");

    // The Word outline is a material too, its heading kept.
    let json = app.search_json("nguoi cao tuoi").await;
    assert!(
        json["hits"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["title"] == "Quyền của người cao tuổi"),
        "{json}"
    );
    assert!(json["hits"][0].get("page").is_none(), "{json}");
}

#[tokio::test(flavor = "multi_thread")]
async fn documents_copied_into_the_library_folder_become_materials_of_their_folder() {
    let app = TestApp::with(|_| {});
    let dir = app.data.join("library/agriculture");
    std::fs::create_dir_all(&dir).unwrap();
    let leaflet = docmaker::pdf(
        &[&[(11.0, "Ủ phân chuồng với vôi bột trong ba tuần.")]],
        None,
    );
    std::fs::write(dir.join("u-phan.pdf"), &leaflet).unwrap();
    std::fs::write(dir.join("hong.docx"), b"PK\x03\x04 broken").unwrap();
    app.state.reload_library().await.unwrap();
    let reader = app.state.site.documents.clone().unwrap();
    assert_eq!(
        hoclieu::server::loose_documents::read_pass(&app.state, &reader).await,
        1
    );
    app.state.reload_library().await.unwrap();

    let m = app.get("/m/agriculture/u-phan").await;
    m.assert_status(200);
    assert!(
        m.text().contains("Ủ phân chuồng với vôi bột"),
        "{}",
        m.text()
    );
    let json = app.search_json("u phan chuong").await;
    assert_eq!(json["hits"][0]["id"], "agriculture/u-phan", "{json}");
    assert_eq!(json["hits"][0]["category"], "agriculture", "{json}");

    // Read once: the next pass has nothing to do, and the broken file is reported, not retried.
    assert_eq!(
        hoclieu::server::loose_documents::read_pass(&app.state, &reader).await,
        0
    );
    let (cookie, _) = teacher(&app).await;
    let list = app
        .get_with("/admin/materials", &[("cookie", &cookie)])
        .await;
    assert!(
        list.text().contains("agriculture/hong.docx: tệp hỏng"),
        "{}",
        list.text()
    );
}

#[test]
fn check_reads_the_documents_of_a_folder_and_reports_those_it_cannot() {
    let dir = tempfile::tempdir().unwrap();
    let health = dir.path().join("library/health");
    std::fs::create_dir_all(&health).unwrap();
    std::fs::write(health.join("khoa.pdf"), docmaker::pdf_locked("matkhau")).unwrap();
    std::fs::write(
        health.join("to-roi.pdf"),
        docmaker::pdf(&[&[(11.0, "Rửa tay bằng xà phòng.")]], None),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_hoclieu"))
        .args(["check", "--library"])
        .arg(dir.path().join("library"))
        .arg("--data")
        .arg(dir.path().join("data"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("health/khoa.pdf: error (skipped): tệp có mật khẩu"),
        "{text}"
    );
    assert!(
        text.contains("health/to-roi.pdf: document, becomes a material"),
        "{text}"
    );
}

/// The tests' own documents, as seeds for the mutations below and the fuzzer's corpus.
fn seeds() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "pdf",
            docmaker::pdf(
                &[
                    &[(16.0, "Tiêu đề"), (11.0, "Đoạn văn một.")],
                    &[(11.0, "Trang hai.")],
                ],
                Some("Tên"),
            ),
        ),
        ("scan.pdf", docmaker::pdf_with_scans("Chữ", 1)),
        (
            "tcvn3.pdf",
            docmaker::pdf_tcvn3(&[b"Ch\xad\xacng tr\xd7nh"]),
        ),
        (
            "docx",
            docmaker::docx(
                &[(Some("Heading1"), "Mục"), (None, "Nội dung & <chữ>")],
                Some("Tên"),
            ),
        ),
        (
            "odt",
            docmaker::odt(&[(Some(1), "Mục"), (None, "Nội  dung")], Some("Tên")),
        ),
    ]
}

#[test]
fn damaged_copies_of_real_documents_never_panic_the_reader() {
    // A small deterministic generator: the same mutations on every run.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move |n: usize| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x % n.max(1) as u64) as usize
    };
    for (name, seed) in seeds() {
        for round in 0..150 {
            let mut bytes = seed.clone();
            match round % 3 {
                0 => {
                    for _ in 0..1 + next(8) {
                        let i = next(bytes.len());
                        bytes[i] = next(256) as u8;
                    }
                }
                1 => bytes.truncate(next(bytes.len())),
                _ => {
                    let (a, b) = (next(bytes.len()), next(bytes.len()));
                    let (a, b) = (a.min(b), a.max(b));
                    let piece = bytes[a..b].to_vec();
                    let at = next(bytes.len());
                    bytes.splice(at..at, piece);
                }
            }
            let r = std::panic::catch_unwind(|| hoclieu::fuzzing::document(&bytes));
            assert!(r.is_ok(), "{name}, round {round}: the reader panicked");
        }
    }
}

/// A picture of one line of Vietnamese text, as a scanner makes it (made here, 10 KB).
fn scanned_line_png() -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/documents/scanned-line.png"),
    )
    .unwrap()
}

/// Tesseract with its Vietnamese data here; under CI it must be (`.ci/run` installs it).
fn tesseract() -> bool {
    let here = hoclieu::documents::ocr::Ocr::find().is_some();
    if !here {
        assert!(
            std::env::var("CI").is_err(),
            "CI must have tesseract-ocr-vie"
        );
        eprintln!(
            "skipped: no tesseract with Vietnamese ({})",
            hoclieu::documents::ocr::HOW_TO_ADD
        );
    }
    here
}

#[tokio::test]
async fn scanned_pages_are_read_by_tesseract_when_the_box_has_it() {
    if !tesseract() {
        return;
    }
    let png = scanned_line_png();
    for as_jpeg in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scan.pdf");
        std::fs::write(&path, docmaker::pdf_scanned_page(&png, as_jpeg)).unwrap();
        let r = reader(Limits::default());
        // Read quickly without it (as at upload), then in the background with it.
        let quick = r.read(&path).await.unwrap();
        assert_eq!(
            (
                quick.picture_pages.as_slice(),
                quick.machine_read.as_slice()
            ),
            (&[1][..], &[][..])
        );
        let doc = r.read_scanned(&path).await.unwrap();
        assert_eq!(doc.machine_read, [1], "jpeg {as_jpeg}");
        let text = doc.plain_text();
        assert!(text.contains("tiêm vắc xin sởi"), "jpeg {as_jpeg}: {text}");
        assert!(
            doc.notes().iter().any(|n| n.contains("do máy đọc")),
            "{:?}",
            doc.notes()
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scanned_leaflet_dropped_in_becomes_searchable_in_the_background() {
    if !tesseract() {
        return;
    }
    let app = TestApp::with(|_| {});
    let (cookie, token) = teacher(&app).await;
    let png = scanned_line_png();
    let (ct, body) = multipart_files(
        &[("token", &token), ("category", "health")],
        &[("so-tay-soi.pdf", &docmaker::pdf_scanned_page(&png, true))],
    );
    let page = app
        .request(upload_to("/admin/materials/documents", &cookie, &ct, body))
        .await;
    page.assert_status(200);
    assert!(
        page.text().contains("ảnh quét, chưa đọc được chữ"),
        "{}",
        page.text()
    );
    let json = app.search_json("tiem vac xin soi").await;
    assert_eq!(
        json["found"], false,
        "its text is not known before it is read: {json}"
    );

    let reader = app.state.site.documents.clone().unwrap();
    assert_eq!(
        hoclieu::server::loose_documents::scan_pass(&app.state, &reader).await,
        1
    );
    app.state.reload_library().await.unwrap();
    let json = app.search_json("tiem vac xin soi").await;
    assert_eq!(json["hits"][0]["id"], "health/so-tay-soi", "{json}");
    assert_eq!(json["hits"][0]["page"], 1, "{json}");
    let m = app.get("/m/health/so-tay-soi").await.text();
    assert!(m.contains("do máy đọc"), "{m}");
    // Done once: nothing more to read.
    assert_eq!(
        hoclieu::server::loose_documents::scan_pass(&app.state, &reader).await,
        0
    );
}

#[tokio::test]
async fn a_500_page_pdf_is_read_whole_within_its_bounds() {
    let texts: Vec<String> = (1..=500)
        .map(|n| format!("Trang số {n} của sổ tay khuyến nông."))
        .collect();
    let lines: Vec<[docmaker::Line<'_>; 1]> = texts.iter().map(|t| [(11.0, t.as_str())]).collect();
    let pages: Vec<&[docmaker::Line<'_>]> = lines.iter().map(|l| &l[..]).collect();
    let bytes = docmaker::pdf(&pages, None);
    let started = Instant::now();
    let doc = read_in_worker(&bytes, Limits::default()).await.unwrap();
    assert_eq!(doc.pages, 500);
    assert_eq!(doc.truncated_after, None);
    assert!(doc.plain_text().contains("Trang số 500 của sổ tay"));
    assert!(started.elapsed() < Duration::from_secs(60));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_word_file_keeps_its_light_pictures_in_the_reading_view() {
    let app = TestApp::with(|_| {});
    let (cookie, token) = teacher(&app).await;
    let png = scanned_line_png();
    let doc = documents::read(&docmaker::docx_with_picture(&png)).unwrap();
    assert_eq!(doc.pictures.len(), 1);
    assert!(
        texts(&doc).len() == 3 && matches!(doc.blocks[1], Block::Picture(0)),
        "{:?}",
        texts(&doc)
    );
    let (ct, body) = multipart_files(
        &[("token", &token), ("category", "agriculture")],
        &[("Bẫy chuột.docx", &docmaker::docx_with_picture(&png))],
    );
    app.request(upload_to("/admin/materials/documents", &cookie, &ct, body))
        .await
        .assert_status(200);
    let id = "agriculture/cach-dat-bay-chuot-quanh-ruong";
    let page = app.get(&format!("/m/{id}")).await.text();
    let src = format!(r#"src="/m/{id}-hinh-1.png""#);
    assert!(page.contains(&src), "{page}");
    let picture = app.get(&format!("/m/{id}-hinh-1.png")).await;
    picture.assert_status(200);
    assert_eq!(picture.body, png);
}

#[tokio::test(flavor = "multi_thread")]
async fn views_of_a_material_read_from_a_document_are_counted_like_any_other() {
    let mut app = TestApp::new();
    let dir = app.data.join("library/law");
    std::fs::create_dir_all(&dir).unwrap();
    let pdf = docmaker::pdf(
        &[&[(11.0, "Người cao tuổi được khám bệnh miễn phí.")]],
        None,
    );
    std::fs::write(dir.join("nguoi-cao-tuoi.pdf"), pdf).unwrap();
    app.state.reload_library().await.unwrap();
    let reader = app.state.site.documents.clone().unwrap();
    hoclieu::server::loose_documents::read_pass(&app.state, &reader).await;
    app.state.reload_library().await.unwrap();
    for _ in 0..6 {
        let c = app.device().await;
        app.get_with("/m/law/nguoi-cao-tuoi", &[("cookie", &c)])
            .await
            .assert_status(200);
    }
    let r = app.today_report();
    assert_eq!(r.by_category["law"].participants, 6);
    assert_eq!(r.top_materials[0].participants, 6, "{:?}", r.top_materials);
}
