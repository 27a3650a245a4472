//! Documents made for the tests: PDFs written with lopdf (re-exported by pdf-extract), Word
//! and OpenDocument files zipped here. Each says exactly what its text is, so a test can
//! compare what is read with what was written.

use std::io::Write;

use pdf_extract::content::{Content, Operation};
use pdf_extract::{Document, Object, Stream, StringFormat, dictionary};

/// One line of a PDF page: its font size and text.
pub type Line<'a> = (f64, &'a str);

/// A PDF whose pages hold `pages` (a line per entry, top down, in a Type0 font with a
/// ToUnicode map, as word processors write Vietnamese), with `title` in its Info.
pub fn pdf(pages: &[&[Line<'_>]], title: Option<&str>) -> Vec<u8> {
    let mut doc = pdf_doc(pages, title, |_| None);
    save(&mut doc)
}

/// A PDF locked with a user password (or only "encrypted" with an empty one).
pub fn pdf_locked(user_password: &str) -> Vec<u8> {
    let mut doc = pdf_doc(&[&[(12.0, "Tài liệu có khóa")]], None, |_| None);
    let id = Object::String(b"0123456789abcdef".to_vec(), StringFormat::Hexadecimal);
    doc.trailer.set("ID", vec![id.clone(), id]);
    let state = pdf_extract::EncryptionState::try_from(pdf_extract::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "chu",
        user_password,
        key_length: 128,
        permissions: pdf_extract::Permissions::all(),
    })
    .unwrap();
    doc.encrypt(&state).unwrap();
    save(&mut doc)
}

/// A PDF with a page of text, then `scanned` pages that only draw a picture.
pub fn pdf_with_scans(text: &str, scanned: usize) -> Vec<u8> {
    let mut pages: Vec<&[Line<'_>]> = Vec::new();
    let line = [(12.0, text)];
    pages.push(&line);
    for _ in 0..scanned {
        pages.push(&[]);
    }
    let mut doc = pdf_doc(&pages, None, |doc: &mut Document| {
        let image = Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => 2, "Height" => 2,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8,
            },
            vec![0, 255, 255, 0],
        );
        Some(doc.add_object(image))
    });
    save(&mut doc)
}

/// A PDF of one scanned page: the picture `png` (a file's bytes), embedded as a JPEG
/// (DCTDecode) or as grey samples (FlateDecode), as scanners write them.
pub fn pdf_scanned_page(png: &[u8], as_jpeg: bool) -> Vec<u8> {
    let img = image::load_from_memory(png).unwrap().to_luma8();
    let (w, h) = img.dimensions();
    let stream = if as_jpeg {
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
            .encode_image(&img)
            .unwrap();
        let mut s = Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => w as i64, "Height" => h as i64,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
            },
            jpeg,
        );
        s.allows_compression = false;
        s
    } else {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(img.as_raw()).unwrap();
        let mut s = Stream::new(
            dictionary! {
                "Type" => "XObject", "Subtype" => "Image", "Width" => w as i64, "Height" => h as i64,
                "ColorSpace" => "DeviceGray", "BitsPerComponent" => 8, "Filter" => "FlateDecode",
            },
            enc.finish().unwrap(),
        );
        s.allows_compression = false;
        s
    };
    let mut stream = Some(stream);
    let mut doc = pdf_doc(&[&[]], None, |doc: &mut Document| {
        stream.take().map(|s| doc.add_object(s))
    });
    save(&mut doc)
}

/// A PDF typed in a TCVN3 font: bytes in a simple font, as .VnTime leaflets are, which read
/// back as Latin-1 letters ("Ch­¬ng").
pub fn pdf_tcvn3(lines: &[&[u8]]) -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Times-Roman",
        "Encoding" => "WinAnsiEncoding",
    });
    let mut ops = vec![
        Operation::new("BT", vec![]),
        Operation::new("Tf", vec!["F1".into(), 12.into()]),
    ];
    ops.push(Operation::new("Td", vec![72.into(), 720.into()]));
    for l in lines {
        ops.push(Operation::new(
            "Tj",
            vec![Object::String(l.to_vec(), StringFormat::Literal)],
        ));
        ops.push(Operation::new("Td", vec![0.into(), (-14).into()]));
    }
    ops.push(Operation::new("ET", vec![]));
    let content = doc.add_object(Stream::new(
        dictionary! {},
        Content { operations: ops }.encode().unwrap(),
    ));
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    finish(&mut doc, pages_id, vec![page.into()], None);
    save(&mut doc)
}

/// A PDF whose page tree points back at itself (a page's parent is its own kid).
pub fn pdf_recursive() -> Vec<u8> {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let inner_id = doc.new_object_id();
    let content = doc.add_object(Stream::new(dictionary! {}, b"BT ET".to_vec()));
    doc.objects.insert(
        inner_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Parent" => pages_id, "Kids" => vec![Object::Reference(inner_id)],
            "Count" => 1, "Contents" => content,
        }),
    );
    finish(&mut doc, pages_id, vec![Object::Reference(inner_id)], None);
    save(&mut doc)
}

/// A PDF whose one page's content stream inflates to `megabytes` MB of spaces.
pub fn pdf_stream_bomb(megabytes: usize) -> Vec<u8> {
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
    let chunk = vec![b' '; 1 << 20];
    for _ in 0..megabytes {
        enc.write_all(&chunk).unwrap();
    }
    let deflated = enc.finish().unwrap();
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let mut stream = Stream::new(dictionary! { "Filter" => "FlateDecode" }, deflated);
    stream.allows_compression = false;
    let content = doc.add_object(stream);
    let page = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
    });
    finish(&mut doc, pages_id, vec![page.into()], None);
    save(&mut doc)
}

fn pdf_doc(
    pages: &[&[Line<'_>]],
    title: Option<&str>,
    mut picture: impl FnMut(&mut Document) -> Option<pdf_extract::ObjectId>,
) -> Document {
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    // Every character gets a code of two bytes; the ToUnicode map says which it is.
    let mut chars: Vec<char> = pages
        .iter()
        .flat_map(|p| p.iter())
        .flat_map(|(_, t)| t.chars())
        .collect();
    chars.sort_unstable();
    chars.dedup();
    let code = |c: char| (chars.binary_search(&c).unwrap() + 1) as u16;
    let mut cmap = String::from(
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CMapName /T def\n/CMapType 2 def\n1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
    );
    for group in chars.chunks(100) {
        cmap.push_str(&format!("{} beginbfchar\n", group.len()));
        for &c in group {
            let mut units = [0u16; 2];
            let hex: String = c
                .encode_utf16(&mut units)
                .iter()
                .map(|u| format!("{u:04X}"))
                .collect();
            cmap.push_str(&format!("<{:04X}> <{hex}>\n", code(c)));
        }
        cmap.push_str("endbfchar\n");
    }
    cmap.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
    let to_unicode = doc.add_object(Stream::new(dictionary! {}, cmap.into_bytes()));
    let descendant = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "CIDFontType2", "BaseFont" => "DejaVuSans",
        "CIDSystemInfo" => dictionary! { "Registry" => Object::string_literal("Adobe"), "Ordering" => Object::string_literal("Identity"), "Supplement" => 0 },
        "DW" => 550,
        "FontDescriptor" => dictionary! {
            "Type" => "FontDescriptor", "FontName" => "DejaVuSans", "Flags" => 32,
            "FontBBox" => vec![0.into(), (-200).into(), 1000.into(), 900.into()],
            "ItalicAngle" => 0, "Ascent" => 900, "Descent" => -200, "CapHeight" => 700, "StemV" => 80,
        },
    });
    let font = doc.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type0", "BaseFont" => "DejaVuSans",
        "Encoding" => "Identity-H", "DescendantFonts" => vec![descendant.into()],
        "ToUnicode" => to_unicode,
    });
    let mut kids = Vec::new();
    for lines in pages {
        let mut ops = vec![Operation::new("BT", vec![])];
        let mut y = 780.0;
        for (size, text) in *lines {
            let bytes: Vec<u8> = text.chars().flat_map(|c| code(c).to_be_bytes()).collect();
            ops.push(Operation::new(
                "Tf",
                vec!["F1".into(), (*size as f32).into()],
            ));
            ops.push(Operation::new(
                "Tm",
                vec![
                    1.into(),
                    0.into(),
                    0.into(),
                    1.into(),
                    72.into(),
                    (y as f32).into(),
                ],
            ));
            ops.push(Operation::new(
                "Tj",
                vec![Object::String(bytes, StringFormat::Hexadecimal)],
            ));
            y -= size * 1.2;
        }
        ops.push(Operation::new("ET", vec![]));
        let mut resources = dictionary! { "Font" => dictionary! { "F1" => font } };
        if lines.is_empty()
            && let Some(img) = picture(&mut doc)
        {
            resources.set("XObject", dictionary! { "Im1" => img });
            ops.extend([
                Operation::new("q", vec![]),
                Operation::new(
                    "cm",
                    vec![
                        500.into(),
                        0.into(),
                        0.into(),
                        700.into(),
                        50.into(),
                        50.into(),
                    ],
                ),
                Operation::new("Do", vec!["Im1".into()]),
                Operation::new("Q", vec![]),
            ]);
        }
        let content = doc.add_object(Stream::new(
            dictionary! {},
            Content { operations: ops }.encode().unwrap(),
        ));
        let page = doc.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content, "Resources" => resources,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        });
        kids.push(page.into());
    }
    finish(&mut doc, pages_id, kids, title);
    doc
}

fn finish(
    doc: &mut Document,
    pages_id: pdf_extract::ObjectId,
    kids: Vec<Object>,
    title: Option<&str>,
) {
    let count = kids.len() as i64;
    doc.objects.entry(pages_id).or_insert_with(|| {
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count })
    });
    let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog);
    if let Some(t) = title {
        // A text string in UTF-16 with its byte-order mark, as PDF writers store Vietnamese.
        let mut bytes = vec![0xfe, 0xff];
        bytes.extend(t.encode_utf16().flat_map(u16::to_be_bytes));
        let info = doc.add_object(
            dictionary! { "Title" => Object::String(bytes, StringFormat::Hexadecimal) },
        );
        doc.trailer.set("Info", info);
    }
}

fn save(doc: &mut Document) -> Vec<u8> {
    let mut out = Vec::new();
    doc.save_to(&mut out).unwrap();
    out
}

/// A zip of `parts` (name, bytes), deflated.
pub fn zip(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in parts {
        w.start_file(*name, opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// XML text escaped.
fn esc(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A Word file: paragraphs with their style id (styles.xml names "Heading1" "heading 1",
/// "Title" "Title"), and the title in its core properties.
pub fn docx(paragraphs: &[(Option<&str>, &str)], title: Option<&str>) -> Vec<u8> {
    let mut body = String::new();
    for (style, text) in paragraphs {
        body.push_str("<w:p>");
        if let Some(s) = style {
            body.push_str(&format!(r#"<w:pPr><w:pStyle w:val="{s}"/></w:pPr>"#));
        }
        for (i, run) in text.split('\t').enumerate() {
            if i > 0 {
                body.push_str("<w:r><w:tab/></w:r>");
            }
            body.push_str(&format!(
                r#"<w:r><w:t xml:space="preserve">{}</w:t></w:r>"#,
                esc(run)
            ));
        }
        body.push_str("</w:p>");
    }
    let document = format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}<w:p><w:del><w:r><w:delText>chữ đã xóa</w:delText></w:r></w:del></w:p></w:body></w:document>"#
    );
    let styles = r#"<?xml version="1.0" encoding="UTF-8"?><w:styles xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/></w:style><w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/></w:style><w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/></w:style><w:style w:type="paragraph" w:styleId="Normal"><w:name w:val="Normal"/></w:style></w:styles>"#;
    let core = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{}</dc:title></cp:coreProperties>"#,
        esc(title.unwrap_or(""))
    );
    let types = r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;
    zip(&[
        ("[Content_Types].xml", types.as_bytes()),
        ("word/document.xml", document.as_bytes()),
        ("word/styles.xml", styles.as_bytes()),
        ("docProps/core.xml", core.as_bytes()),
    ])
}

/// A Word file of a paragraph, a picture (`png`, in word/media) and another paragraph.
pub fn docx_with_picture(png: &[u8]) -> Vec<u8> {
    let document = r#"<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><w:body><w:p><w:r><w:t>Cách đặt bẫy chuột quanh ruộng.</w:t></w:r></w:p><w:p><w:r><w:drawing><a:graphic><a:graphicData><a:blip r:embed="rIdPic"/></a:graphicData></a:graphic></w:drawing></w:r></w:p><w:p><w:r><w:t>Kiểm tra bẫy mỗi sáng.</w:t></w:r></w:p></w:body></w:document>"#;
    let rels = r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdPic" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/image" Target="media/image1.png"/><Relationship Id="rIdWeb" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink" Target="http://example.com/x.png" TargetMode="External"/></Relationships>"#;
    zip(&[
        ("word/document.xml", document.as_bytes()),
        ("word/_rels/document.xml.rels", rels.as_bytes()),
        ("word/media/image1.png", png),
    ])
}

/// An OpenDocument text: `(Some(level), text)` is a heading, `(None, text)` a paragraph; a
/// run of two spaces is written as `text:s`.
pub fn odt(paragraphs: &[(Option<u8>, &str)], title: Option<&str>) -> Vec<u8> {
    let mut body = String::new();
    for (level, text) in paragraphs {
        let text = esc(text).replace("  ", r#" <text:s text:c="1"/>"#);
        match level {
            Some(l) => body.push_str(&format!(r#"<text:h text:outline-level="{l}">{text}</text:h>"#)),
            None => body.push_str(&format!(
                r#"<text:p>{text}<text:note><text:note-citation>1</text:note-citation><text:note-body><text:p>Chú thích.</text:p></text:note-body></text:note></text:p>"#
            )),
        }
    }
    let content = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"><office:automatic-styles><style:style style:name="P1" style:family="paragraph" style:parent-style-name="Title"/></office:automatic-styles><office:body><office:text><text:p text:style-name="P1">Tiêu đề theo kiểu</text:p>{body}</office:text></office:body></office:document-content>"#
    );
    let meta = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><office:document-meta xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><office:meta><dc:title>{}</dc:title></office:meta></office:document-meta>"#,
        esc(title.unwrap_or(""))
    );
    zip(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", content.as_bytes()),
        ("meta.xml", meta.as_bytes()),
    ])
}
