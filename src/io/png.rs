//! PNG export: every layer as a full-canvas straight-alpha RGBA PNG, plus the flattened image.

use std::path::{Path, PathBuf};

use super::{write_bytes_atomically, FileError};
use crate::compositor::{composite_onto, flatten, place};
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

/// Encode an image as a straight-alpha RGBA PNG in memory: the `png` crate's Fast level
/// (fdeflate) with adaptive filtering, as the image crate does by default.
pub fn encode_png(img: &PremulImage, depth: PngDepth) -> Result<Vec<u8>, String> {
    // 16-bit samples are made big-endian here, in the one pass that converts them: handed to
    // the image crate in native order they were copied once more to reorder them (at 12 MP,
    // 96 MB a layer).
    let (bits, samples) = match depth {
        PngDepth::Eight => (png::BitDepth::Eight, img.to_straight_rgba8().into_raw()),
        PngDepth::Sixteen => (png::BitDepth::Sixteen, img.to_straight_rgba16_be()),
    };
    let mut out = Vec::new();
    let mut encoder = png::Encoder::new(&mut out, img.width(), img.height());
    encoder.set_color(png::ColorType::Rgba);
    encoder.set_depth(bits);
    encoder.set_compression(png::Compression::Fast);
    encoder.set_filter(png::Filter::Adaptive);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer.write_image_data(&samples).map_err(|e| e.to_string())?;
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

/// Export `NN-name.png` for each layer (bottom = 00) and `flattened.png` into `dir`, creating
/// it if needed. Returns the files written.
pub fn export_png_layers(stack: &LayerStack, dir: &Path, depth: PngDepth) -> Result<Vec<PathBuf>, FileError> {
    std::fs::create_dir_all(dir).map_err(|e| FileError::write(dir, e))?;
    let mut written = Vec::new();
    for (i, layer) in stack.layers().iter().enumerate() {
        let path = dir.join(format!("{i:02}-{}.png", file_stem(&layer.name)));
        write_png(&layer_on_canvas(stack, layer), &path, depth)?;
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
