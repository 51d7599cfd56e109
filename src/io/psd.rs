//! PSD (Photoshop document), 8-bit RGB, written from the Adobe Photoshop File Formats
//! Specification: header, empty colour-mode data and image resources, the layer and mask
//! information section (one layer record per document layer: bounds, RGBA channels, blend key,
//! opacity, hidden flag, Pascal name and the Unicode `luni` name), PackBits-compressed channel
//! data, and the merged image for readers that ignore layers.
//!
//! Also a reader of the layer records (no pixels), for `layerdecomp info`.

use std::path::Path;

use super::{packbits, FileError};
use crate::compositor::{flatten, place};
use crate::document::{BlendMode, LayerStack, PremulImage};

/// Photoshop's limit for PSD (PSB goes beyond).
pub const PSD_MAX_SIDE: u32 = 30_000;

/// Encode a document as a PSD file in memory.
pub fn encode_psd(stack: &LayerStack) -> Result<Vec<u8>, String> {
    let (w, h) = (stack.width(), stack.height());
    if w == 0 || h == 0 || w > PSD_MAX_SIDE || h > PSD_MAX_SIDE {
        return Err(format!("PSD canvases are 1 to {PSD_MAX_SIDE} pixels a side, this one is {w}×{h}"));
    }
    let merged = flatten(stack);
    let merged_has_alpha = !merged.is_opaque();

    let mut out = Vec::new();
    // File header.
    out.extend(b"8BPS");
    out.extend(1u16.to_be_bytes());
    out.extend([0u8; 6]);
    out.extend((if merged_has_alpha { 4u16 } else { 3u16 }).to_be_bytes());
    out.extend(h.to_be_bytes());
    out.extend(w.to_be_bytes());
    out.extend(8u16.to_be_bytes());
    out.extend(3u16.to_be_bytes()); // RGB
                                    // Colour mode data, image resources: empty.
    out.extend(0u32.to_be_bytes());
    out.extend(0u32.to_be_bytes());

    let layer_info = encode_layer_info(stack, merged_has_alpha)?;
    // Layer and mask information section: layer info, then an empty global layer mask.
    let section_len = 4 + layer_info.len() + 4;
    out.extend(u32::try_from(section_len).map_err(|_| "layer data exceeds the 4 GB a PSD can hold")?.to_be_bytes());
    out.extend(u32::try_from(layer_info.len()).map_err(|_| "layer data exceeds 4 GB")?.to_be_bytes());
    out.extend(layer_info);
    out.extend(0u32.to_be_bytes());

    // Merged image data: RLE, byte counts of every row of every channel, then the rows.
    let channels = if merged_has_alpha { 4 } else { 3 };
    let planes = straight_planes(&merged);
    let (counts, data) = rle_planes(&planes[..channels], w as usize, h as usize);
    out.extend(1u16.to_be_bytes());
    for c in counts {
        out.extend(c.to_be_bytes());
    }
    out.extend(data);
    Ok(out)
}

/// Write a document as a PSD file, atomically.
pub fn write_psd(stack: &LayerStack, path: &Path) -> Result<(), FileError> {
    let bytes = encode_psd(stack).map_err(|d| FileError::invalid(path, d))?;
    super::write_bytes_atomically(path, &bytes)
}

/// Straight-alpha 8-bit planes R, G, B, A of an image.
fn straight_planes(img: &PremulImage) -> [Vec<u8>; 4] {
    let rgba = img.to_straight_rgba8();
    let mut planes: [Vec<u8>; 4] = Default::default();
    for p in &mut planes {
        p.reserve(rgba.len() / 4);
    }
    for px in rgba.as_raw().chunks_exact(4) {
        for c in 0..4 {
            planes[c].push(px[c]);
        }
    }
    planes
}

/// PackBits every row of every plane: the row byte counts and the concatenated data.
fn rle_planes(planes: &[Vec<u8>], w: usize, h: usize) -> (Vec<u16>, Vec<u8>) {
    let mut counts = Vec::with_capacity(planes.len() * h);
    let mut data = Vec::new();
    for plane in planes {
        for row in plane.chunks_exact(w.max(1)).take(h) {
            let before = data.len();
            packbits::encode_row(row, &mut data);
            // A row of at most 30000 bytes packs into at most 30235: fits u16.
            counts.push((data.len() - before) as u16);
        }
    }
    (counts, data)
}

fn encode_layer_info(stack: &LayerStack, merged_has_alpha: bool) -> Result<Vec<u8>, String> {
    let count = i16::try_from(stack.layers().len()).map_err(|_| "a PSD holds at most 32767 layers")?;
    let mut records = Vec::new();
    let mut channel_data = Vec::new();
    // Layer records go bottom first, as the document stores them.
    for layer in stack.layers() {
        let placed = place(layer);
        let px = placed.pixels.as_ref();
        let (lw, lh) = (px.width() as usize, px.height() as usize);
        if lw > PSD_MAX_SIDE as usize || lh > PSD_MAX_SIDE as usize {
            return Err(format!("layer \"{}\" is {lw}×{lh}, over the PSD limit", layer.name));
        }
        let (top, left) = (placed.y, placed.x);
        let (bottom, right) = if lw == 0 || lh == 0 { (top, left) } else { (top + lh as i32, left + lw as i32) };
        records.extend(top.to_be_bytes());
        records.extend(left.to_be_bytes());
        records.extend(bottom.to_be_bytes());
        records.extend(right.to_be_bytes());
        records.extend(4u16.to_be_bytes());

        // Channel data in record order: transparency (−1), then R, G, B.
        let planes = straight_planes(px);
        let order: [(i16, usize); 4] = [(-1, 3), (0, 0), (1, 1), (2, 2)];
        for (id, plane) in order {
            let mut block = Vec::new();
            if lw == 0 || lh == 0 {
                block.extend(0u16.to_be_bytes()); // raw, no rows
            } else {
                let (counts, data) = rle_planes(std::slice::from_ref(&planes[plane]), lw, lh);
                block.extend(1u16.to_be_bytes());
                for c in counts {
                    block.extend(c.to_be_bytes());
                }
                block.extend(data);
            }
            records.extend(id.to_be_bytes());
            records.extend((block.len() as u32).to_be_bytes());
            channel_data.extend(block);
        }

        records.extend(b"8BIM");
        records.extend(match layer.blend {
            BlendMode::Normal => b"norm",
            BlendMode::Multiply => b"mul ",
        });
        records.push((layer.opacity.clamp(0.0, 1.0) * 255.0).round() as u8);
        records.push(0); // clipping: base
                         // Flags: bit 1 set means *hidden* in Photoshop's files (the spec's "visible" wording
                         // notwithstanding; psd-tools, GIMP and Krita read it so).
        records.push(if layer.visible { 0 } else { 0b10 });
        records.push(0); // filler

        let mut extra = Vec::new();
        extra.extend(0u32.to_be_bytes()); // no layer mask
        extra.extend(0u32.to_be_bytes()); // no blending ranges
        extra.extend(pascal_name(&layer.name));
        extra.extend(luni_block(&layer.name));
        records.extend((extra.len() as u32).to_be_bytes());
        records.extend(extra);
    }
    let mut info = Vec::new();
    // A negative count says the merged image's first alpha channel is its transparency.
    info.extend((if merged_has_alpha { -count } else { count }).to_be_bytes());
    info.extend(records);
    info.extend(channel_data);
    while info.len() % 4 != 0 {
        info.push(0);
    }
    Ok(info)
}

/// The legacy layer name: a Pascal string of at most 255 bytes (non-ASCII as `?`; the real name
/// is in `luni`), padded to a multiple of 4 bytes including the length byte.
fn pascal_name(name: &str) -> Vec<u8> {
    let bytes: Vec<u8> =
        name.chars().map(|c| if c.is_ascii() && !c.is_ascii_control() { c as u8 } else { b'?' }).take(255).collect();
    let mut out = vec![bytes.len() as u8];
    out.extend(bytes);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// The `luni` additional-layer-information block: the name in UTF-16BE. Its data is padded to
/// a multiple of 4 and the padding counted in its length, so every reader's alignment agrees.
fn luni_block(name: &str) -> Vec<u8> {
    let units: Vec<u16> = name.encode_utf16().collect();
    let mut data = Vec::new();
    data.extend((units.len() as u32).to_be_bytes());
    for u in units {
        data.extend(u.to_be_bytes());
    }
    while data.len() % 4 != 0 {
        data.push(0);
    }
    let mut out = Vec::new();
    out.extend(b"8BIM");
    out.extend(b"luni");
    out.extend((data.len() as u32).to_be_bytes());
    out.extend(data);
    out
}

/// What `layerdecomp info` shows of a PSD layer.
#[derive(Clone, Debug, PartialEq)]
pub struct PsdLayerInfo {
    /// The layer's name (Unicode when the file has it).
    pub name: String,
    /// Top edge, in canvas pixels.
    pub top: i32,
    /// Left edge, in canvas pixels.
    pub left: i32,
    /// Bottom edge (exclusive).
    pub bottom: i32,
    /// Right edge (exclusive).
    pub right: i32,
    /// Opacity, 0–255.
    pub opacity: u8,
    /// The four-character blend key, e.g. `norm`, `mul `.
    pub blend_key: String,
    /// Not hidden.
    pub visible: bool,
}

#[derive(Clone, Debug, PartialEq)]
/// What `read_psd_info` reads of a PSD: its header and layer records.
pub struct PsdInfo {
    /// Canvas width in pixels.
    pub width: u32,
    /// Canvas height in pixels.
    pub height: u32,
    /// Bits per channel.
    pub depth: u16,
    /// Photoshop colour mode (3 = RGB).
    pub color_mode: u16,
    /// Bottom first, as stored.
    pub layers: Vec<PsdLayerInfo>,
}

/// Read a PSD's header and layer records (no pixels). Every read is bounds-checked, so a
/// truncated or corrupt file gives an error, never a panic.
pub fn read_psd_info(bytes: &[u8]) -> Result<PsdInfo, String> {
    let mut r = Reader { b: bytes, at: 0 };
    if r.take(4)? != b"8BPS" {
        return Err("not a PSD file (no 8BPS signature)".into());
    }
    let version = r.u16()?;
    if version != 1 {
        return Err(format!("PSD version {version} is not supported (PSB files are version 2)"));
    }
    r.take(6)?;
    let _channels = r.u16()?;
    let height = r.u32()?;
    let width = r.u32()?;
    let depth = r.u16()?;
    let color_mode = r.u16()?;
    let cm_len = r.u32()? as usize;
    r.take(cm_len)?;
    let res_len = r.u32()? as usize;
    r.take(res_len)?;
    let lm_len = r.u32()? as usize;
    let mut layers = Vec::new();
    if lm_len > 0 {
        let li_len = r.u32()? as usize;
        if li_len > 0 {
            let count = (r.i16()? as i32).unsigned_abs() as usize;
            for _ in 0..count {
                let top = r.i32()?;
                let left = r.i32()?;
                let bottom = r.i32()?;
                let right = r.i32()?;
                let nch = r.u16()? as usize;
                r.take(nch.checked_mul(6).ok_or("bad channel count")?)?;
                if r.take(4)? != b"8BIM" {
                    return Err("layer record without 8BIM blend signature".into());
                }
                let blend_key = String::from_utf8_lossy(r.take(4)?).into_owned();
                let opacity = r.u8()?;
                r.u8()?;
                let flags = r.u8()?;
                r.u8()?;
                let extra_len = r.u32()? as usize;
                let extra = r.take(extra_len)?;
                let name = layer_name_from_extra(extra)?;
                layers.push(PsdLayerInfo {
                    name,
                    top,
                    left,
                    bottom,
                    right,
                    opacity,
                    blend_key,
                    visible: flags & 0b10 == 0,
                });
            }
        }
    }
    Ok(PsdInfo { width, height, depth, color_mode, layers })
}

fn layer_name_from_extra(extra: &[u8]) -> Result<String, String> {
    let mut r = Reader { b: extra, at: 0 };
    let mask_len = r.u32()? as usize;
    r.take(mask_len)?;
    let ranges_len = r.u32()? as usize;
    r.take(ranges_len)?;
    let n = r.u8()? as usize;
    let pascal = String::from_utf8_lossy(r.take(n)?).into_owned();
    let padded = (n + 1).div_ceil(4) * 4;
    r.take(padded - n - 1)?;
    // Prefer the Unicode name when a `luni` block is present.
    while r.at + 12 <= extra.len() {
        let sig = r.take(4)?;
        let key = r.take(4)?.to_vec();
        let len = r.u32()? as usize;
        let data = r.take(len)?;
        if (sig == b"8BIM" || sig == b"8B64") && key == b"luni" {
            let mut d = Reader { b: data, at: 0 };
            let count = d.u32()? as usize;
            let raw = d.take(count.checked_mul(2).ok_or("bad luni length")?)?;
            let units: Vec<u16> = raw.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            return Ok(String::from_utf16_lossy(&units));
        }
    }
    Ok(pascal)
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.b.len()).ok_or("the file ends early (truncated)")?;
        let s = &self.b[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Result<u16, String> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn i16(&mut self) -> Result<i16, String> {
        Ok(self.u16()? as i16)
    }
    fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn i32(&mut self) -> Result<i32, String> {
        Ok(self.u32()? as i32)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::NewLayer;

    #[test]
    fn layer_records_read_back() {
        let mut s = LayerStack::from_background(PremulImage::filled(8, 6, [1.0; 4]));
        s.push(
            NewLayer::new("Schatten ☀", PremulImage::filled(3, 2, [0.0, 0.0, 0.0, 0.5]))
                .at(2.0, 1.0)
                .blend(BlendMode::Multiply)
                .opacity(0.6)
                .visible(false),
        );
        let bytes = encode_psd(&s).unwrap();
        let info = read_psd_info(&bytes).unwrap();
        assert_eq!((info.width, info.height, info.depth, info.color_mode), (8, 6, 8, 3));
        let l = &info.layers[1];
        assert_eq!(l.name, "Schatten ☀");
        assert_eq!((l.top, l.left, l.bottom, l.right), (1, 2, 3, 5));
        assert_eq!((l.opacity, l.blend_key.as_str(), l.visible), (153, "mul ", false));
        assert!(info.layers[0].visible);
    }

    #[test]
    fn truncated_psd_is_an_error_not_a_panic() {
        let s = LayerStack::from_background(PremulImage::filled(8, 6, [1.0; 4]));
        let bytes = encode_psd(&s).unwrap();
        // Every prefix is read without panicking; any cut inside the header or the first layer
        // record is reported as an error.
        for cut in 0..bytes.len() {
            let r = read_psd_info(&bytes[..cut]);
            if cut < 60 {
                assert!(r.is_err(), "cut at {cut}");
            }
        }
    }
}
