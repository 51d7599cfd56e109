//! JPEG export of a flattened image. JPEG has no alpha: the image is shown over white, as a
//! viewer would show it.

use std::path::Path;

use image::codecs::jpeg::JpegEncoder;

use super::{write_bytes_atomically, FileError};
use crate::raster::{to_u8, PremulImage};

/// Default JPEG quality (1–100) of the editor's and the command line's exports.
pub const DEFAULT_JPEG_QUALITY: u8 = 92;

/// Write `img` composited over white as a JPEG of `quality` (1–100).
pub fn write_jpeg(img: &PremulImage, path: &Path, quality: u8) -> Result<(), FileError> {
    let mut rgb = image::RgbImage::new(img.width(), img.height());
    for (dst, p) in rgb.pixels_mut().zip(img.pixels()) {
        let white = 1.0 - p[3];
        *dst = image::Rgb([0, 1, 2].map(|c| to_u8(p[c] + white)));
    }
    let mut bytes = Vec::new();
    let encoder = JpegEncoder::new_with_quality(&mut bytes, quality.clamp(1, 100));
    rgb.write_with_encoder(encoder).map_err(|e| FileError::invalid(path, format!("cannot encode JPEG: {e}")))?;
    write_bytes_atomically(path, &bytes)
}

#[cfg(test)]
mod tests {
    use crate::document::LayerStack;
    use crate::raster::PremulImage;

    #[test]
    fn jpeg_export_writes_a_readable_flattened_image() {
        let dir = tempfile::tempdir().unwrap();
        let stack = LayerStack::from_background(PremulImage::filled(32, 16, [0.2, 0.4, 0.6, 1.0]));
        let path = dir.path().join("flat.jpg");
        crate::io::export_as(&stack, crate::io::ExportFormat::Jpeg(95), &path).unwrap();
        let img = image::open(&path).unwrap().to_rgb8();
        assert_eq!(img.dimensions(), (32, 16));
        let p = img.get_pixel(8, 8).0;
        assert!((p[0] as i32 - 51).abs() <= 3 && (p[2] as i32 - 153).abs() <= 3, "{p:?}");
    }
}
