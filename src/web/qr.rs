//! QR codes for printed pages and projectors (qrcode crate), as inline SVG.

use super::error::AppError;

/// An SVG QR code for a text (without the XML declaration, so it can sit inside HTML).
pub fn svg(text: &str) -> Result<String, AppError> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M)
        .map_err(|_| AppError::bad("Địa chỉ quá dài để làm mã QR."))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build();
    Ok(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}
