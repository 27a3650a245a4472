//! Scanned pages read by Tesseract (Debian's `tesseract-ocr` with `tesseract-ocr-vie`), when the
//! box has it: the page's picture goes to `tesseract` as a file, and its text comes back marked
//! as machine-read. Each page has its own time bound; the worker's bounds hold around all.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest one page may take (a Raspberry Pi reads an A4 page in 5–20 s).
const PAGE_TIME: Duration = Duration::from_secs(45);

/// Tesseract with its Vietnamese data.
#[derive(Debug, Clone)]
pub struct Ocr {
    program: PathBuf,
}

/// What `hoclieu doctor` says when Tesseract or its Vietnamese data is missing.
pub const HOW_TO_ADD: &str =
    "apt-get install tesseract-ocr tesseract-ocr-vie (then scanned PDF pages are read as text)";

impl Ocr {
    /// Tesseract on the `PATH`, if it is there and knows Vietnamese (`vie`).
    pub fn find() -> Option<Ocr> {
        let out = Command::new("tesseract")
            .arg("--list-langs")
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines().any(|l| l.trim() == "vie").then(|| Ocr {
            program: PathBuf::from("tesseract"),
        })
    }

    /// The text of a picture (a JPEG or PNG file's bytes), `None` when Tesseract fails or
    /// takes too long.
    pub fn read(&self, picture: &[u8], ext: &str) -> Option<String> {
        let dir = tempfile::tempdir().ok()?;
        let input = dir.path().join(format!("page.{ext}"));
        std::fs::write(&input, picture).ok()?;
        let mut child = Command::new(&self.program)
            .arg(&input)
            .arg("stdout")
            .args(["-l", "vie", "--psm", "3"])
            // One core: the box serves while it reads.
            .env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let started = Instant::now();
        loop {
            match child.try_wait() {
                Ok(Some(status)) if status.success() => break,
                Ok(Some(_)) | Err(_) => return None,
                Ok(None) if started.elapsed() > PAGE_TIME => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return None;
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
        let mut text = String::new();
        std::io::Read::read_to_string(&mut child.stdout.take()?, &mut text).ok()?;
        Some(text)
    }
}

/// A page's picture as a file Tesseract reads: a JPEG as it is stored (DCTDecode), or 8-bit
/// grey or RGB samples (uncompressed or Flate) as PNG. Other kinds (JBIG2, CCITT fax) are left.
pub fn picture_file(
    image: &pdf_extract::xobject::PdfImage<'_>,
    doc_stream: Option<&pdf_extract::Stream>,
) -> Option<(Vec<u8>, &'static str)> {
    let filters = image.filters.clone().unwrap_or_default();
    if filters.iter().any(|f| f == "DCTDecode") && filters.len() == 1 {
        return Some((image.content.to_vec(), "jpg"));
    }
    if image.bits_per_component != Some(8) {
        return None;
    }
    let samples = match filters.as_slice() {
        [] => image.content.to_vec(),
        [f] if f == "FlateDecode" => doc_stream?.decompressed_content().ok()?,
        _ => return None,
    };
    let (w, h) = (
        u32::try_from(image.width).ok()?,
        u32::try_from(image.height).ok()?,
    );
    let mut png = Vec::new();
    let encoder = image::codecs::png::PngEncoder::new(&mut png);
    let color = match image.color_space.as_deref() {
        Some("DeviceGray") | Some("CalGray") => image::ExtendedColorType::L8,
        Some("DeviceRGB") | Some("CalRGB") => image::ExtendedColorType::Rgb8,
        _ => return None,
    };
    let needed = (w as usize)
        * (h as usize)
        * if color == image::ExtendedColorType::L8 {
            1
        } else {
            3
        };
    if samples.len() < needed {
        return None;
    }
    image::ImageEncoder::write_image(encoder, &samples[..needed], w, h, color).ok()?;
    Some((png, "png"))
}
