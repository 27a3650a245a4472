//! Sized copies of a picture (JPEG, PNG, WebP), so that a page sends a phone a few dozen KB
//! instead of the camera's megabytes. The copies live beside the original as
//! `NAME.480x360.jpg` (its display size in the name), so they travel with it in packages and
//! backups, and the catalogue knows them as copies rather than attachments.

use std::path::Path;
use std::sync::Mutex;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, imageops::FilterType};

/// Widths of the copies, in pixels; a picture is never made larger than it is.
pub const WIDTHS: [u32; 2] = [480, 1280];

/// JPEG quality of the copies: a phone photo's 1280 px copy comes to about 100-200 KB.
const QUALITY: u8 = 80;

/// Largest side the decoder accepts: above this a file is a decompression bomb, or a scan
/// no page needs.
pub const MAX_SIDE: u32 = 12_000;

/// Pixels accepted: a 50 MP phone photo (8160 × 6144) passes, a bomb does not.
pub const MAX_PIXELS: u64 = 64_000_000;

/// Memory the decoder may take at once (a 64 MP RGB picture needs 192 MB).
const MAX_ALLOC: u64 = 256 * 1024 * 1024;

/// One picture decoded at a time: on a box with 1 GB, two 50 MP photos at once would not fit.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

/// Why no copies could be made.
#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    /// The picture is larger than a page can use (or claims to be, to exhaust memory): more
    /// than [`MAX_SIDE`] pixels a side or [`MAX_PIXELS`] in all.
    #[error("picture too large to decode")]
    TooLarge,
    /// The bytes are not a picture the decoder understands (damaged, or another format).
    #[error("cannot read the picture: {0}")]
    Unreadable(#[source] image::ImageError),
    /// Reading the file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A size in pixels, as shown (after the camera's orientation is applied).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dimensions {
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// A copy made, ready to be written.
#[derive(Debug)]
pub struct SizedCopy {
    /// Its size.
    pub size: Dimensions,
    /// Its JPEG bytes.
    pub jpeg: Vec<u8>,
}

/// Whether a library file is a picture that gets copies, by its extension.
pub fn is_resizable(rel: &str) -> bool {
    let ext = rel.rsplit_once('.').map_or("", |(_, e)| e);
    ["jpg", "jpeg", "png", "webp"]
        .iter()
        .any(|p| ext.eq_ignore_ascii_case(p))
}

/// The file name of a copy of `original` (a library path or a bare name) at `size`.
pub fn copy_name(original: &str, size: Dimensions) -> String {
    format!("{original}.{}x{}.jpg", size.width, size.height)
}

/// If `rel` names a copy, the original it was made from and its size.
pub fn parse_copy_name(rel: &str) -> Option<(&str, Dimensions)> {
    let (original, size) = rel.strip_suffix(".jpg")?.rsplit_once('.')?;
    let (w, h) = size.split_once('x')?;
    let number = |s: &str| {
        (!s.is_empty() && s.len() <= 5 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<u32>().ok())
            .flatten()
            .filter(|&n| n > 0)
    };
    let size = Dimensions {
        width: number(w)?,
        height: number(h)?,
    };
    is_resizable(original).then_some((original, size))
}

/// Decodes the picture in `path` within the limits, turns it upright as the camera's EXIF
/// orientation says, and makes one JPEG copy per width in [`WIDTHS`] (fewer when it is
/// narrower: never enlarged, never two copies of one size). CPU-heavy: call it off the async
/// workers.
pub fn make_copies(path: &Path) -> Result<Vec<SizedCopy>, PictureError> {
    let _one = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut reader = ImageReader::open(path)?
        .with_guessed_format()
        .map_err(PictureError::Io)?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(refused)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(PictureError::TooLarge);
    }
    // A picture without EXIF, or with a damaged one, is taken as it is stored.
    let orientation = decoder
        .orientation()
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut img = DynamicImage::from_decoder(decoder).map_err(refused)?;
    img.apply_orientation(orientation);
    if img.color().has_alpha() {
        img = on_white(&img);
    }
    let mut out: Vec<SizedCopy> = Vec::new();
    // Largest first, each from the one before: cheaper than each from the original.
    let mut source = img;
    for &w in WIDTHS.iter().rev() {
        let size = fit(source.width(), source.height(), w);
        if out.iter().any(|c| c.size == size) {
            continue;
        }
        if size.width < source.width() {
            source = source.resize_exact(size.width, size.height, FilterType::Triangle);
        }
        out.push(SizedCopy {
            size,
            jpeg: jpeg(&source)?,
        });
    }
    out.reverse();
    Ok(out)
}

/// A decoder error: the limits' refusal is a too-large picture, anything else unreadable.
fn refused(e: image::ImageError) -> PictureError {
    match e {
        image::ImageError::Limits(_) => PictureError::TooLarge,
        other => PictureError::Unreadable(other),
    }
}

/// The size of a `width` × `height` picture brought down to at most `max` wide.
fn fit(width: u32, height: u32, max: u32) -> Dimensions {
    if width <= max {
        return Dimensions { width, height };
    }
    let h = (u64::from(height) * u64::from(max) + u64::from(width) / 2) / u64::from(width);
    Dimensions {
        width: max,
        height: (h as u32).max(1),
    }
}

/// JPEG has no transparency: transparent parts become the page's white, not black.
fn on_white(img: &DynamicImage) -> DynamicImage {
    let mut rgba = img.to_rgba8();
    for p in rgba.pixels_mut() {
        let a = u16::from(p[3]);
        for c in 0..3 {
            p[c] = ((u16::from(p[c]) * a + 255 * (255 - a) + 127) / 255) as u8;
        }
        p[3] = 255;
    }
    DynamicImage::ImageRgba8(rgba).to_rgb8().into()
}

fn jpeg(img: &DynamicImage) -> Result<Vec<u8>, PictureError> {
    let mut bytes = Vec::new();
    let encoder = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, QUALITY);
    img.to_rgb8()
        .write_with_encoder(encoder)
        .map_err(PictureError::Unreadable)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_names_round_trip_and_need_a_picture_original() {
        let size = Dimensions {
            width: 480,
            height: 360,
        };
        let name = copy_name("health/oresol-anh.JPG", size);
        assert_eq!(name, "health/oresol-anh.JPG.480x360.jpg");
        assert_eq!(
            parse_copy_name(&name),
            Some(("health/oresol-anh.JPG", size))
        );
        for not_a_copy in [
            "health/oresol-anh.jpg",
            "a.pdf.480x360.jpg",
            "a.jpg.480x.jpg",
            "a.jpg.0x360.jpg",
            "a.jpg.480x360.png",
            "a.jpg.+480x360.jpg",
            "a.jpg.4800000x360.jpg",
        ] {
            assert_eq!(parse_copy_name(not_a_copy), None, "{not_a_copy}");
        }
    }

    #[test]
    fn fitting_never_enlarges_and_keeps_the_shape() {
        assert_eq!(
            fit(4000, 3000, 1280),
            Dimensions {
                width: 1280,
                height: 960
            }
        );
        assert_eq!(
            fit(300, 200, 480),
            Dimensions {
                width: 300,
                height: 200
            }
        );
        assert_eq!(fit(5000, 1, 480).height, 1);
    }
}
