//! Image import: PNG, JPEG (EXIF orientation applied), WebP, TIFF, BMP; 8/16-bit; grey, RGB, RGBA.
//!
//! The size is read from the header and checked against `ImportOptions::max_pixels` **before**
//! any pixel buffer is allocated, so a file claiming 100000×100000 fails at once.
//!
//! Colour management: we do not convert colours. Pixels are taken as sRGB. When a file embeds an
//! ICC profile that is not sRGB, the import succeeds with a warning naming the profile, so the
//! user knows the colours may shift (converting needs a CMS we do not ship yet).

use std::io::{BufRead, Cursor, Seek};
use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageError, ImageReader, Limits};

use super::FileError;
use crate::raster::{Mask, PremulImage};

/// About 200 megapixels: a 16-bit RGBA decode of that is 1.6 GB, our f32 working copy 3.2 GB.
pub const DEFAULT_MAX_PIXELS: u64 = 200_000_000;

#[derive(Clone, Debug)]
/// How images are read.
pub struct ImportOptions {
    /// Refuse images with more pixels than this.
    pub max_pixels: u64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self { max_pixels: DEFAULT_MAX_PIXELS }
    }
}

/// A decoded image and what the user should know about it.
#[derive(Debug)]
pub struct Imported {
    /// The image, premultiplied, orientation applied.
    pub image: PremulImage,
    /// Bits per channel of the source (8 or 16; 32 for float formats).
    pub source_bits: u8,
    /// Non-fatal problems, such as a non-sRGB colour profile that was not converted.
    pub warnings: Vec<String>,
}

/// Read an image file.
pub fn import_image(path: &Path, opts: &ImportOptions) -> Result<Imported, FileError> {
    import_image_bytes(&read_bytes(path)?, path, opts)
}

/// A file's bytes; an empty file is an error.
fn read_bytes(path: &Path) -> Result<Vec<u8>, FileError> {
    let bytes = std::fs::read(path).map_err(|source| FileError::Read { path: path.into(), source })?;
    if bytes.is_empty() {
        return Err(FileError::invalid(path, "the file is empty (0 bytes)"));
    }
    Ok(bytes)
}

/// Decode an image held in memory; `name` is used in error messages.
pub fn import_image_bytes(bytes: &[u8], name: &Path, opts: &ImportOptions) -> Result<Imported, FileError> {
    let mut imported = decode(ImageReader::new(Cursor::new(bytes)), name, opts)?;
    if bytes.starts_with(&[0xFF, 0xD8]) && !jpeg_has_end_marker(bytes) {
        imported.warnings.push("the JPEG ends before its end marker (truncated?); missing parts are filled in".into());
    }
    Ok(imported)
}

/// Read a brush image as a mask: any non-black or non-transparent pixel marks it. With `size`,
/// a brush of another size is refused, naming `what` ("mask", "effects mask", ...) and both sizes.
pub fn import_mask(path: &Path, what: &str, size: Option<(u32, u32)>, opts: &ImportOptions) -> Result<Mask, FileError> {
    let bytes = read_bytes(path)?;
    let (img, _) = decode_pixels(ImageReader::new(Cursor::new(&bytes)), path, opts)?;
    let (w, h) = (img.width(), img.height());
    if let Some(image_size) = size {
        check_brush_size(path, what, (w, h), image_size)?;
    }
    // Read off the decoded samples: a float copy of a 12 MP brush would be 192 MB.
    let data = if bits_per_channel(&img) <= 8 {
        painted(img.into_rgba8().as_raw(), 0, u8::MAX)
    } else {
        painted(img.into_rgba32f().as_raw(), 0.0, 1.0)
    };
    Ok(Mask::from_bytes(w, h, data).expect("decoder output matches its dimensions"))
}

/// A brush of `brush` size for an image of `image` size is refused unless they match, naming
/// `what` ("mask", "effects mask", ...) and both sizes.
pub fn check_brush_size(path: &Path, what: &str, brush: (u32, u32), image: (u32, u32)) -> Result<(), FileError> {
    if brush == image {
        return Ok(());
    }
    let detail = format!("the {what} is {}×{} but the image is {}×{}", brush.0, brush.1, image.0, image.1);
    Err(FileError::invalid(path, detail))
}

/// Straight RGBA samples (`zero` and `full` their range's ends) as brush coverage, 0 or 1 per
/// pixel: painted at all, i.e. any colour where every pixel is opaque, else any alpha (so both
/// "white on black" and "paint on transparent" brush files work).
fn painted<T: PartialOrd + Copy>(rgba: &[T], zero: T, full: T) -> Vec<u8> {
    let opaque = rgba.chunks_exact(4).all(|p| p[3] >= full);
    rgba.chunks_exact(4).map(|p| if opaque { p[..3].iter().any(|&v| v > zero) } else { p[3] > zero } as u8).collect()
}

/// Bits per channel of the decoded samples (8 or 16; 32 for float formats).
fn bits_per_channel(img: &DynamicImage) -> u16 {
    img.color().bits_per_pixel() / img.color().channel_count() as u16
}

/// Whether a JPEG has an end-of-image marker after its last scan. Inside entropy-coded data
/// every 0xFF byte is stuffed (0xFF00), so an FF D9 pair there is the real marker.
fn jpeg_has_end_marker(bytes: &[u8]) -> bool {
    let last_scan = bytes.windows(2).rposition(|w| w == [0xFF, 0xDA]).unwrap_or(0);
    bytes[last_scan..].windows(2).any(|w| w == [0xFF, 0xD9])
}

fn decode<R: BufRead + Seek>(reader: ImageReader<R>, path: &Path, opts: &ImportOptions) -> Result<Imported, FileError> {
    let (img, warnings) = decode_pixels(reader, path, opts)?;
    let source_bits = bits_per_channel(&img) as u8;
    let (w, h) = (img.width(), img.height());
    let image = if source_bits <= 8 {
        PremulImage::from_straight_rgba8(w, h, img.into_rgba8().as_raw())
    } else {
        PremulImage::from_straight_rgba32f(w, h, img.into_rgba32f().as_raw())
    }
    .expect("decoder output matches its dimensions");
    Ok(Imported { image, source_bits, warnings })
}

/// The decoded samples, orientation applied, and the warnings (colour profile, EXIF).
fn decode_pixels<R: BufRead + Seek>(
    reader: ImageReader<R>,
    path: &Path,
    opts: &ImportOptions,
) -> Result<(DynamicImage, Vec<String>), FileError> {
    let mut reader = reader.with_guessed_format().map_err(|source| FileError::Read { path: path.into(), source })?;
    let Some(format) = reader.format() else {
        return Err(FileError::UnsupportedFormat { path: path.into() });
    };
    let format_name = format_name(format);
    let mut limits = Limits::default();
    // The decoder's own guard: what a decode of `max_pixels` at 16-bit RGBA needs, plus slack.
    limits.max_alloc = Some(opts.max_pixels.saturating_mul(8).saturating_add(64 << 20));
    reader.limits(limits);
    let map = |e: ImageError| map_image_error(e, path, format_name, opts.max_pixels);
    let mut decoder = reader.into_decoder().map_err(map)?;
    let (width, height) = decoder.dimensions();
    if width == 0 || height == 0 {
        return Err(FileError::Empty { path: path.into(), width, height });
    }
    if width as u64 * height as u64 > opts.max_pixels {
        return Err(FileError::TooLarge {
            path: path.into(),
            width: width as u64,
            height: height as u64,
            limit_pixels: opts.max_pixels,
        });
    }
    let mut warnings = Vec::new();
    // A broken EXIF block should not lose the picture: warn and keep the stored orientation.
    let orientation = decoder.orientation().unwrap_or_else(|e| {
        warnings.push(format!("unreadable EXIF orientation ({e}); the image is shown as stored"));
        image::metadata::Orientation::NoTransforms
    });
    if let Ok(Some(icc)) = decoder.icc_profile() {
        match icc_description(&icc) {
            Some(desc) if is_srgb_description(&desc) => {}
            Some(desc) => warnings.push(format!(
                "colour profile \"{desc}\" is not sRGB; pixels are used as sRGB without conversion, colours may shift"
            )),
            None => warnings.push("unreadable colour profile; pixels are used as sRGB".to_string()),
        }
    }
    let mut img = DynamicImage::from_decoder(decoder).map_err(map)?;
    img.apply_orientation(orientation);
    Ok((img, warnings))
}

fn format_name(format: image::ImageFormat) -> &'static str {
    use image::ImageFormat as F;
    match format {
        F::Png => "PNG",
        F::Jpeg => "JPEG",
        F::WebP => "WebP",
        F::Tiff => "TIFF",
        F::Bmp => "BMP",
        F::Gif => "GIF",
        _ => "image",
    }
}

fn map_image_error(e: ImageError, path: &Path, format: &'static str, max_pixels: u64) -> FileError {
    match e {
        ImageError::Unsupported(u) => match u.kind() {
            image::error::UnsupportedErrorKind::Format(_) => FileError::UnsupportedFormat { path: path.into() },
            _ => FileError::invalid(path, format!("unsupported {format} variant: {u}")),
        },
        ImageError::Limits(_) => FileError::invalid(
            path,
            format!("decoding would need more memory than allowed for {:.1} megapixels", max_pixels as f64 / 1e6),
        ),
        ImageError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            FileError::Corrupt { path: path.into(), format, detail: "the file ends early (truncated)".into() }
        }
        ImageError::IoError(io) => FileError::Corrupt { path: path.into(), format, detail: io.to_string() },
        ImageError::Decoding(d) if d.to_string().contains("dimensions") => FileError::invalid(
            path,
            format!("the {format} header gives the image no valid size (zero width or height)"),
        ),
        other => FileError::Corrupt { path: path.into(), format, detail: other.to_string() },
    }
}

/// The `desc` tag of an ICC profile (v2 `desc` or v4 `mluc` encoding), if it can be read.
fn icc_description(icc: &[u8]) -> Option<String> {
    let be32 = |at: usize| -> Option<usize> {
        icc.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let count = be32(128)?;
    for i in 0..count.min(256) {
        let entry = 132 + 12 * i;
        if icc.get(entry..entry + 4)? != b"desc" {
            continue;
        }
        let (offset, size) = (be32(entry + 4)?, be32(entry + 8)?);
        let tag = icc.get(offset..offset.checked_add(size)?)?;
        return match tag.get(0..4)? {
            b"desc" => {
                let len = u32::from_be_bytes(tag.get(8..12)?.try_into().ok()?) as usize;
                let text = tag.get(12..12 + len)?;
                Some(String::from_utf8_lossy(text).trim_end_matches('\0').to_string())
            }
            b"mluc" => {
                let rec_len = u32::from_be_bytes(tag.get(20..24)?.try_into().ok()?) as usize;
                let off = u32::from_be_bytes(tag.get(24..28)?.try_into().ok()?) as usize;
                let units: Vec<u16> =
                    tag.get(off..off + rec_len)?.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
                Some(String::from_utf16_lossy(&units).trim_end_matches('\0').to_string())
            }
            _ => None,
        };
    }
    None
}

fn is_srgb_description(desc: &str) -> bool {
    let d = desc.to_ascii_lowercase();
    d.contains("srgb") || d.contains("61966-2")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v2_profile(desc: &str) -> Vec<u8> {
        let mut p = vec![0u8; 128];
        p.extend(1u32.to_be_bytes());
        p.extend(b"desc");
        p.extend(144u32.to_be_bytes());
        let mut tag = b"desc\0\0\0\0".to_vec();
        tag.extend((desc.len() as u32 + 1).to_be_bytes());
        tag.extend(desc.as_bytes());
        tag.push(0);
        p.extend((tag.len() as u32).to_be_bytes());
        p.extend(tag);
        p
    }

    #[test]
    fn reads_icc_descriptions() {
        assert_eq!(icc_description(&v2_profile("Display P3")).as_deref(), Some("Display P3"));
        assert!(is_srgb_description(&icc_description(&v2_profile("sRGB IEC61966-2.1")).unwrap()));
        assert_eq!(icc_description(&[1, 2, 3]), None);
    }
}
