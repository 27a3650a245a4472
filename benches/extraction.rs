//! How well documents are read: the passages of the Vietnamese retrieval sets
//! (`../shared/bench/retrieval`, evaluation only) made into PDF, Word and LibreOffice files
//! by LibreOffice (two fonts, one and two columns, and a PDF typed in TCVN3 codes), read back
//! by hoclieu's reader, and compared with their source: character accuracy, and MRR@10 of
//! each set searched through the documents against the same set searched as Markdown. Beside
//! hoclieu's reader (pdf-extract), the same PDFs read by lopdf's own `extract_text` and by
//! poppler's `pdftotext`, as references.
//!
//! Run: `scripts/bench/extraction.sh`. Writes `scripts/bench/extraction.md`.

mod sets;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use hoclieu::content::old_encodings::{self, OldEncoding};
use hoclieu::documents::{self, material::escape};
use sets::{Doc, QueryRow, read_jsonl, run_hoclieu};
use unicode_normalization::UnicodeNormalization;

/// Each passage starts with a line saying which it is, so one document per set and variant
/// holds every passage (one LibreOffice run, not thousands) and is cut back into passages.
fn marker(i: usize) -> String {
    format!("DOCMARK {i} DOCMARK")
}

/// A passage as HTML paragraphs.
fn html_passage(d: &Doc, i: usize, text: &str) -> String {
    let mut out = format!("<h3>{}</h3>\n", marker(i));
    if !d.title.trim().is_empty() {
        out.push_str(&format!("<h4>{}</h4>\n", html_escape(&d.title)));
    }
    for para in text.split('\n').filter(|p| !p.trim().is_empty()) {
        out.push_str(&format!("<p>{}</p>\n", html_escape(para)));
    }
    out
}

fn html_escape(t: &str) -> String {
    t.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Passages per document: a document's text becomes one material, at most 2 MB.
const PER_DOCUMENT: usize = 250;

fn html(
    docs: &[Doc],
    first: usize,
    font: &str,
    size: &str,
    text: impl Fn(&str) -> String,
) -> String {
    let mut out = format!(
        "<html><head><meta charset=\"utf-8\"><style>body, p, h3, h4 {{ font-family: '{font}'; font-size: {size}; }}</style></head><body>\n"
    );
    for (i, d) in docs.iter().enumerate() {
        out.push_str(&html_passage(d, first + i, &text(&d.text)));
    }
    out.push_str("</body></html>\n");
    out
}

/// Unicode as TCVN3 codes would come out of a .VnTime PDF: each letter's code as the
/// Latin-1 character it is, capitals with marks as the lower-case code (the ".VnTimeH" fonts
/// draw those as capitals), and "ư" as the "-" that readers make of its code (0xAD).
fn as_tcvn3(text: &str) -> String {
    let mut codes = std::collections::HashMap::new();
    for b in 0xa0u8..=0xff {
        let c = char::from(b);
        let u: Vec<char> = old_encodings::convert(&c.to_string(), OldEncoding::Tcvn3)
            .chars()
            .collect();
        if u.len() == 1 && u[0] != c {
            codes.insert(u[0], c);
        }
    }
    text.nfc()
        .map(|c| {
            let lower = c.to_lowercase().next().unwrap_or(c);
            match codes.get(&c).or_else(|| codes.get(&lower)).copied() {
                Some('\u{ad}') => '-',
                Some(code) => code,
                None => c,
            }
        })
        .collect()
}

fn soffice(args: &[&str], dir: &Path) -> bool {
    Command::new("soffice")
        .args(["--headless", "--norestore"])
        .args(args)
        .current_dir(dir)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A copy of an ODT whose pages are set in two columns (the page layout's columns element).
fn two_columns(odt: &Path, out: &Path) {
    use std::io::{Read, Write};
    let mut zin = zip::ZipArchive::new(std::fs::File::open(odt).expect("odt")).expect("zip");
    let mut zout = zip::ZipWriter::new(std::fs::File::create(out).expect("create"));
    for i in 0..zin.len() {
        let mut f = zin.by_index(i).expect("entry");
        let name = f.name().to_string();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).expect("read");
        if name == "styles.xml" {
            let s = String::from_utf8(bytes).expect("utf-8");
            let cols = r#"<style:columns fo:column-count="2" fo:column-gap="0.5cm"/>"#;
            let s = s.replace(
                "</style:page-layout-properties>",
                &format!("{cols}</style:page-layout-properties>"),
            );
            let s = regex_free_self_closing(&s, cols);
            bytes = s.into_bytes();
        }
        let method = if name == "mimetype" {
            zip::CompressionMethod::Stored
        } else {
            zip::CompressionMethod::Deflated
        };
        zout.start_file(
            name,
            zip::write::SimpleFileOptions::default().compression_method(method),
        )
        .expect("start");
        zout.write_all(&bytes).expect("write");
    }
    zout.finish().expect("finish");
}

/// Page layouts written as one empty element get the columns too.
fn regex_free_self_closing(s: &str, cols: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find("<style:page-layout-properties") {
        let end = i + rest[i..].find('>').unwrap_or(0);
        out.push_str(&rest[..end]);
        if rest[..end].ends_with('/') {
            out.pop();
            out.push_str(&format!(">{cols}</style:page-layout-properties>"));
        } else {
            out.push('>');
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// The text read back, cut into passages by their markers (into `out`, by number).
fn split(text: &str, out: &mut [Option<String>]) {
    let n = out.len();
    let mut rest = text;
    let mut current: Option<usize> = None;
    loop {
        let next = rest.find("DOCMARK ");
        let (piece, after) = match next {
            Some(i) => (&rest[..i], Some(i)),
            None => (rest, None),
        };
        if let Some(c) = current
            && c < n
        {
            let t = out[c].get_or_insert_with(String::new);
            t.push_str(piece);
        }
        let Some(i) = after else { break };
        let tail = &rest[i + "DOCMARK ".len()..];
        let num_end = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        current = tail[..num_end].parse().ok();
        let tail = &tail[num_end..];
        rest = tail.trim_start().strip_prefix("DOCMARK").unwrap_or(tail);
    }
}

fn norm(t: &str) -> Vec<char> {
    let t: String = t.nfc().collect();
    let mut out = Vec::new();
    for w in t.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.extend(w.chars());
    }
    out
}

/// 1 − edit distance / length, in per cent.
fn accuracy(read: &str, source: &str, fold_case: bool) -> f64 {
    let (mut a, mut b) = (norm(read), norm(source));
    if fold_case {
        a = a.into_iter().flat_map(char::to_lowercase).collect();
        b = b.into_iter().flat_map(char::to_lowercase).collect();
    }
    let d = strsim::generic_levenshtein(&a, &b);
    100.0 * (1.0 - d as f64 / b.len().max(1) as f64).max(0.0)
}

struct Variant {
    name: &'static str,
    file: String,
    reader: Reader,
    tcvn3: bool,
}

#[derive(Clone, Copy)]
enum Reader {
    Hoclieu,
    Lopdf,
    Pdftotext,
}

fn read_with(reader: Reader, path: &Path) -> Result<String, String> {
    match reader {
        Reader::Hoclieu => {
            let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
            documents::read(&bytes)
                .map(|d| d.plain_text())
                .map_err(|e| e.to_string())
        }
        Reader::Lopdf => {
            let doc = pdf_extract::Document::load(path).map_err(|e| e.to_string())?;
            let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
            doc.extract_text(&pages).map_err(|e| e.to_string())
        }
        Reader::Pdftotext => Command::new("pdftotext")
            .arg("-enc")
            .arg("UTF-8")
            .arg(path)
            .arg("-")
            .output()
            .map_err(|e| e.to_string())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned()),
    }
}

fn main() {
    let Some(root) = sets::root() else {
        println!("retrieval sets not found (set HOCLIEU_RETRIEVAL_DIR); nothing to measure");
        return;
    };
    if Command::new("soffice").arg("--version").output().is_err() {
        println!("LibreOffice (soffice) not found: apt-get install libreoffice-writer-nogui");
        return;
    }
    let work = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench/extraction");
    std::fs::create_dir_all(&work).expect("work dir");
    let mut table = String::from(
        "| set | document | reader | passages found | character accuracy | MRR@10 | MRR@10 as Markdown | read in |\n| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for set in sets::names(&root) {
        let docs: Vec<Doc> = read_jsonl(&root.join(&set).join("corpus.jsonl"));
        let queries: Vec<QueryRow> = read_jsonl(&root.join(&set).join("queries.jsonl"));
        let dir = work.join(&set);
        std::fs::create_dir_all(&dir).expect("set dir");
        let t = Instant::now();
        let chunks = docs.len().div_ceil(PER_DOCUMENT);
        let names = |stem: &str, ext: &str| -> Vec<String> {
            (0..chunks).map(|c| format!("{stem}-{c}.{ext}")).collect()
        };
        for (c, part) in docs.chunks(PER_DOCUMENT).enumerate() {
            let first = c * PER_DOCUMENT;
            std::fs::write(
                dir.join(format!("serif-{c}.html")),
                html(part, first, "Liberation Serif", "11pt", str::to_string),
            )
            .expect("write");
            std::fs::write(
                dir.join(format!("sans-{c}.html")),
                html(part, first, "DejaVu Sans", "10pt", str::to_string),
            )
            .expect("write");
            std::fs::write(
                dir.join(format!("tcvn3-{c}.html")),
                html(part, first, "Liberation Serif", "11pt", as_tcvn3),
            )
            .expect("write");
        }
        let args = |to: &'static str, files: Vec<String>| -> Vec<String> {
            ["--convert-to".to_string(), to.to_string()]
                .into_iter()
                .chain(files)
                .collect()
        };
        let run = |a: Vec<String>| soffice(&a.iter().map(String::as_str).collect::<Vec<_>>(), &dir);
        let ok = run(args(
            "pdf:writer_pdf_Export",
            [names("serif", "html"), names("tcvn3", "html")].concat(),
        )) && run(args("docx:MS Word 2007 XML", names("serif", "html")))
            && run(args(
                "odt",
                [names("serif", "html"), names("sans", "html")].concat(),
            ));
        assert!(ok, "LibreOffice failed on {set}");
        for c in 0..chunks {
            two_columns(
                &dir.join(format!("sans-{c}.odt")),
                &dir.join(format!("sans2col-{c}.odt")),
            );
        }
        assert!(run(args("pdf:writer_pdf_Export", names("sans2col", "odt"))));
        println!(
            "{set}: documents made in {:.0} s",
            t.elapsed().as_secs_f64()
        );
        let baseline = run_hoclieu(&docs, &queries, false).0.mrr;
        let variants = [
            Variant {
                name: "PDF, Liberation Serif, 1 column",
                file: "serif-{}.pdf".into(),
                reader: Reader::Hoclieu,
                tcvn3: false,
            },
            Variant {
                name: "PDF, Liberation Serif, 1 column",
                file: "serif-{}.pdf".into(),
                reader: Reader::Lopdf,
                tcvn3: false,
            },
            Variant {
                name: "PDF, Liberation Serif, 1 column",
                file: "serif-{}.pdf".into(),
                reader: Reader::Pdftotext,
                tcvn3: false,
            },
            Variant {
                name: "PDF, DejaVu Sans, 2 columns",
                file: "sans2col-{}.pdf".into(),
                reader: Reader::Hoclieu,
                tcvn3: false,
            },
            Variant {
                name: "PDF in TCVN3 codes",
                file: "tcvn3-{}.pdf".into(),
                reader: Reader::Hoclieu,
                tcvn3: true,
            },
            Variant {
                name: "Word (.docx)",
                file: "serif-{}.docx".into(),
                reader: Reader::Hoclieu,
                tcvn3: false,
            },
            Variant {
                name: "LibreOffice (.odt)",
                file: "serif-{}.odt".into(),
                reader: Reader::Hoclieu,
                tcvn3: false,
            },
        ];
        for v in &variants {
            let t = Instant::now();
            let mut parts = vec![None; docs.len()];
            for c in 0..chunks {
                let file = v.file.replace("{}", &c.to_string());
                match read_with(v.reader, &dir.join(&file)) {
                    Ok(text) => split(&text, &mut parts),
                    Err(e) => println!("{set} {file} {}: {e}", reader_name(v.reader)),
                }
            }
            let read_s = t.elapsed().as_secs_f64();
            let found = parts.iter().filter(|p| p.is_some()).count();
            // Accuracy over a sample (edit distance is quadratic): every k-th passage.
            let step = (docs.len() / 150).max(1);
            let mut acc = Vec::new();
            for (i, d) in docs.iter().enumerate().step_by(step) {
                let source = if d.title.trim().is_empty() {
                    d.text.clone()
                } else {
                    format!("{} {}", d.title, d.text)
                };
                if source.chars().count() > 4000 {
                    continue;
                }
                acc.push(accuracy(
                    parts[i].as_deref().unwrap_or(""),
                    &source,
                    v.tcvn3,
                ));
            }
            let mean = acc.iter().sum::<f64>() / acc.len().max(1) as f64;
            // Searched as the library would hold them: the text read, escaped as materials are.
            let read_docs: Vec<Doc> = docs
                .iter()
                .zip(&parts)
                .map(|(d, p)| Doc {
                    id: d.id.clone(),
                    title: String::new(),
                    text: escape(p.as_deref().unwrap_or("").trim()),
                })
                .collect();
            let mrr = run_hoclieu(&read_docs, &queries, false).0.mrr;
            let row = format!(
                "| {set} | {} | {} | {found}/{} | {mean:.2}%{} | {mrr:.2} | {baseline:.2} | {read_s:.1} s |\n",
                v.name,
                reader_name(v.reader),
                docs.len(),
                if v.tcvn3 { " (case folded)" } else { "" },
            );
            print!("{row}");
            table.push_str(&row);
        }
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench/extraction.md");
    std::fs::write(
        &path,
        format!(
            "# Reading documents: accuracy and search through them\n\nGenerated by `scripts/bench/extraction.sh`. Each set's passages, made into documents of at most 250 passages by LibreOffice {}, read back. Character accuracy: 1 − edit distance / length over a sample of ~150 passages per set (white space collapsed). MRR@10 through the documents uses the text read; \"as Markdown\" is the same set written as materials directly. Titles are left out of both, so titles do not differ.\n\n{table}",
            soffice_version()
        ),
    )
    .expect("write results");
    println!("written to {}", path.display());
}

fn reader_name(r: Reader) -> &'static str {
    match r {
        Reader::Hoclieu => "hoclieu (pdf-extract, zip + quick-xml)",
        Reader::Lopdf => "lopdf extract_text",
        Reader::Pdftotext => "poppler pdftotext",
    }
}

fn soffice_version() -> String {
    Command::new("soffice")
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}
