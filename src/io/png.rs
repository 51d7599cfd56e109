//! PNG export: every layer as a full-canvas straight-alpha RGBA PNG, plus the flattened image.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::{write_bytes_atomically, FileError};
use crate::compositor::{composite_onto, flatten, place, Placed};
use crate::document::{BlendMode, Layer, LayerStack, PremulImage};

/// Bits per channel of a written PNG.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum PngDepth {
    #[default]
    /// 8 bits per channel.
    Eight,
    /// Keeps colour precision where alpha is small (soft shadows).
    Sixteen,
}

/// Encode an image as a straight-alpha RGBA PNG in memory.
pub fn encode_png(img: &PremulImage, depth: PngDepth) -> Result<Vec<u8>, String> {
    encode_samples((img.width(), img.height()), depth, &straight_samples(img, depth))
}

/// Placed pixels composited on a transparent `w × h` canvas, encoded as a PNG: only the
/// rectangle they cover is composited and converted, the rest of the canvas being zeros (a
/// 12 MP canvas in floats is 192 MB to fill and convert for a layer covering a few percent).
pub fn encode_placed_png(placed: &[Placed<'_>], (w, h): (u32, u32), depth: PngDepth) -> Result<Vec<u8>, String> {
    let bytes_per_px = match depth {
        PngDepth::Eight => 4,
        PngDepth::Sixteen => 8,
    };
    let mut samples = vec![0u8; w as usize * h as usize * bytes_per_px];
    let covered = placed
        .iter()
        .map(|p| {
            let (x0, y0) = (i64::from(p.x).clamp(0, w.into()), i64::from(p.y).clamp(0, h.into()));
            let x1 = (i64::from(p.x) + i64::from(p.pixels.width())).clamp(0, w.into());
            let y1 = (i64::from(p.y) + i64::from(p.pixels.height())).clamp(0, h.into());
            (x0, y0, x1, y1)
        })
        .filter(|&(x0, y0, x1, y1)| x1 > x0 && y1 > y0)
        .reduce(|a, b| (a.0.min(b.0), a.1.min(b.1), a.2.max(b.2), a.3.max(b.3)));
    if let Some((x0, y0, x1, y1)) = covered {
        let mut part = PremulImage::new((x1 - x0) as u32, (y1 - y0) as u32);
        for p in placed {
            let shifted = Placed { x: p.x - x0 as i32, y: p.y - y0 as i32, pixels: Cow::Borrowed(p.pixels.as_ref()) };
            composite_onto(&mut part, &shifted, 1.0, BlendMode::Normal);
        }
        let row_len = (x1 - x0) as usize * bytes_per_px;
        for (r, row) in straight_samples(&part, depth).chunks_exact(row_len).enumerate() {
            let at = ((y0 as usize + r) * w as usize + x0 as usize) * bytes_per_px;
            samples[at..at + row_len].copy_from_slice(row);
        }
    }
    encode_samples((w, h), depth, &samples)
}

/// Straight-alpha RGBA samples as PNG stores them (16-bit ones big-endian).
fn straight_samples(img: &PremulImage, depth: PngDepth) -> Vec<u8> {
    match depth {
        PngDepth::Eight => img.to_straight_rgba8().into_raw(),
        PngDepth::Sixteen => img.to_straight_rgba16_be(),
    }
}

/// RGBA samples encoded as a PNG: the `png` crate's Fast level (fdeflate) with adaptive
/// filtering, as the image crate does by default. 16-bit samples are made big-endian by the
/// caller, in the pass that converts them: handed to the image crate in native order they were
/// copied once more to reorder them (96 MB a layer at 12 MP).
fn encode_samples((w, h): (u32, u32), depth: PngDepth, samples: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, w, h);
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(match depth {
        PngDepth::Eight => png::BitDepth::Eight,
        PngDepth::Sixteen => png::BitDepth::Sixteen,
    });
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::Filter::Adaptive);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(samples).map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(out)
}

/// Write one image as a PNG file, atomically.
pub fn write_png(img: &PremulImage, path: &Path, depth: PngDepth) -> Result<(), FileError> {
    let bytes = encode_png(img, depth).map_err(|d| FileError::invalid(path, format!("cannot encode PNG: {d}")))?;
    write_bytes_atomically(path, &bytes)
}

/// A layer rendered on a transparent full-size canvas: placed and resampled, at full strength
/// (its opacity and blend mode are properties, not pixels; the flattened image applies them).
pub fn layer_on_canvas(stack: &LayerStack, layer: &Layer) -> PremulImage {
    let mut canvas = PremulImage::new(stack.width(), stack.height());
    composite_onto(&mut canvas, &place(layer), 1.0, BlendMode::Normal);
    canvas
}

/// Write placed pixels on a transparent `size` canvas as a PNG file, atomically (see
/// `encode_placed_png`).
pub fn write_placed_png(
    placed: &[Placed<'_>],
    size: (u32, u32),
    path: &Path,
    depth: PngDepth,
) -> Result<(), FileError> {
    let bytes = encode_placed_png(placed, size, depth)
        .map_err(|d| FileError::invalid(path, format!("cannot encode PNG: {d}")))?;
    write_bytes_atomically(path, &bytes)
}

/// Export `NN-name.png` for each layer (bottom = 00) and `flattened.png` into `dir`, creating
/// it if needed. Returns the files written.
pub fn export_png_layers(stack: &LayerStack, dir: &Path, depth: PngDepth) -> Result<Vec<PathBuf>, FileError> {
    std::fs::create_dir_all(dir).map_err(|e| FileError::write(dir, e))?;
    let mut written = Vec::new();
    for (i, layer) in stack.layers().iter().enumerate() {
        let path = dir.join(format!("{i:02}-{}.png", file_stem(&layer.name)));
        write_placed_png(&[place(layer)], (stack.width(), stack.height()), &path, depth)?;
        written.push(path);
    }
    let path = dir.join("flattened.png");
    write_png(&flatten(stack), &path, depth)?;
    written.push(path);
    Ok(written)
}

/// A layer name made safe as a file name.
pub fn file_stem(name: &str) -> String {
    let s: String =
        name.chars().map(|c| if c.is_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).take(64).collect();
    if s.is_empty() {
        "layer".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(file_stem("a/b c"), "a_b_c");
        assert_eq!(file_stem(""), "layer");
        assert_eq!(file_stem("Schatten"), "Schatten");
    }
}
