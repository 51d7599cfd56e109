//! `PremulImage`: the one pixel buffer every module shares.
//!
//! Pixels are RGBA `f32` in `[0, 1]`, **premultiplied**, and hold **sRGB-encoded** values (not
//! linear light): blending sRGB-encoded values is what Photoshop, GIMP's perceptual mode, Krita
//! and psd-tools do by default, so a file we write looks the same in every reader. Straight
//! alpha and integer depths exist only at file boundaries (`from_straight_*`, `to_straight_*`).

use rayon::prelude::*;

/// Pixels per piece of work when converting at the file boundary.
const CONVERT_CHUNK: usize = 1 << 16;

/// One premultiplied RGBA pixel, sRGB-encoded.
pub type Px = [f32; 4];

/// A premultiplied RGBA image, row-major, top-left origin.
#[derive(Clone, PartialEq)]
pub struct PremulImage {
    width: u32,
    height: u32,
    pixels: Vec<Px>,
}

impl std::fmt::Debug for PremulImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PremulImage({}x{})", self.width, self.height)
    }
}

/// Premultiply one straight-alpha pixel. Every path from straight to premultiplied goes through
/// here, so an 8-bit value that was read, premultiplied, unpremultiplied and written again comes
/// back bit-identical.
#[inline]
pub fn premultiply(straight: Px) -> Px {
    let a = straight[3];
    [straight[0] * a, straight[1] * a, straight[2] * a, a]
}

/// Straight-alpha colour of a premultiplied pixel; fully transparent pixels become black.
#[inline]
pub fn unpremultiply(p: Px) -> Px {
    let a = p[3];
    if a <= 0.0 {
        return [0.0; 4];
    }
    let inv = 1.0 / a;
    [(p[0] * inv).min(1.0), (p[1] * inv).min(1.0), (p[2] * inv).min(1.0), a.min(1.0)]
}

/// Quantise a `[0, 1]` value to 8 bits, rounding to nearest.
#[inline]
pub fn to_u8(v: f32) -> u8 {
    // Half up, then truncated: the cast saturates below 0 and above 255 (and takes NaN to 0),
    // and needs no call to the C library's `roundf` (the baseline x86-64 has no rounding
    // instruction), which showed in the profile of writing 12 MP layers.
    (v * 255.0 + 0.5) as u8
}

/// Quantise a `[0, 1]` value to 16 bits, rounding to nearest.
#[inline]
pub fn to_u16(v: f32) -> u16 {
    // As `to_u8`.
    (v * 65535.0 + 0.5) as u16
}

impl PremulImage {
    /// A fully transparent image.
    pub fn new(width: u32, height: u32) -> Self {
        Self::filled(width, height, [0.0; 4])
    }

    /// An image with every pixel set to `px` (premultiplied).
    pub fn filled(width: u32, height: u32, px: Px) -> Self {
        Self { width, height, pixels: vec![px; width as usize * height as usize] }
    }

    /// Wrap premultiplied pixels; `None` if the length does not match the size.
    pub fn from_pixels(width: u32, height: u32, pixels: Vec<Px>) -> Option<Self> {
        (pixels.len() == width as usize * height as usize).then_some(Self { width, height, pixels })
    }

    /// From straight-alpha 8-bit RGBA bytes (`width * height * 4` of them).
    pub fn from_straight_rgba8(width: u32, height: u32, bytes: &[u8]) -> Option<Self> {
        if bytes.len() != width as usize * height as usize * 4 {
            return None;
        }
        let pixels = bytes
            .par_chunks_exact(4)
            .map(|c| premultiply([c[0] as f32 / 255.0, c[1] as f32 / 255.0, c[2] as f32 / 255.0, c[3] as f32 / 255.0]))
            .collect();
        Some(Self { width, height, pixels })
    }

    /// From straight-alpha float RGBA (`width * height * 4` values in `[0, 1]`).
    pub fn from_straight_rgba32f(width: u32, height: u32, values: &[f32]) -> Option<Self> {
        if values.len() != width as usize * height as usize * 4 {
            return None;
        }
        let pixels =
            values.chunks_exact(4).map(|c| premultiply([c[0], c[1], c[2], c[3]].map(|v| v.clamp(0.0, 1.0)))).collect();
        Some(Self { width, height, pixels })
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// No pixels.
    pub fn is_empty(&self) -> bool {
        self.pixels.is_empty()
    }

    /// The pixels, row-major.
    pub fn pixels(&self) -> &[Px] {
        &self.pixels
    }

    /// The pixels, row-major, to change.
    pub fn pixels_mut(&mut self) -> &mut [Px] {
        &mut self.pixels
    }

    #[inline]
    /// The pixel at `(x, y)`.
    pub fn get(&self, x: u32, y: u32) -> Px {
        self.pixels[y as usize * self.width as usize + x as usize]
    }

    #[inline]
    /// Set the pixel at `(x, y)`.
    pub fn set(&mut self, x: u32, y: u32, px: Px) {
        let w = self.width as usize;
        self.pixels[y as usize * w + x as usize] = px;
    }

    /// One row of pixels.
    pub fn row(&self, y: u32) -> &[Px] {
        let w = self.width as usize;
        &self.pixels[y as usize * w..(y as usize + 1) * w]
    }

    /// Straight-alpha 8-bit RGBA, as written to files.
    pub fn to_straight_rgba8(&self) -> image::RgbaImage {
        let mut out = vec![0u8; self.pixels.len() * 4];
        out.par_chunks_mut(4 * CONVERT_CHUNK).zip(self.pixels.par_chunks(CONVERT_CHUNK)).for_each(|(out, pixels)| {
            for (o, &p) in out.chunks_exact_mut(4).zip(pixels) {
                o.copy_from_slice(&unpremultiply(p).map(to_u8));
            }
        });
        image::RgbaImage::from_raw(self.width, self.height, out)
            .expect("buffer length matches the image size by construction")
    }

    /// Straight-alpha 16-bit RGBA as big-endian bytes, as PNG stores its samples.
    pub fn to_straight_rgba16_be(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.pixels.len() * 8];
        out.par_chunks_mut(8 * CONVERT_CHUNK).zip(self.pixels.par_chunks(CONVERT_CHUNK)).for_each(|(out, pixels)| {
            for (o, &p) in out.chunks_exact_mut(8).zip(pixels) {
                for (o, v) in o.chunks_exact_mut(2).zip(unpremultiply(p)) {
                    o.copy_from_slice(&to_u16(v).to_be_bytes());
                }
            }
        });
        out
    }

    /// A copy of the rectangle `(x, y, w, h)`, which must lie inside the image.
    pub fn crop(&self, x: u32, y: u32, w: u32, h: u32) -> Self {
        assert!(x + w <= self.width && y + h <= self.height, "crop rectangle outside the image");
        let mut pixels = Vec::with_capacity(w as usize * h as usize);
        for row in y..y + h {
            let start = row as usize * self.width as usize + x as usize;
            pixels.extend_from_slice(&self.pixels[start..start + w as usize]);
        }
        Self { width: w, height: h, pixels }
    }

    /// Smallest rectangle `(x, y, w, h)` holding every pixel with non-zero alpha; `None` when
    /// the image is fully transparent.
    pub fn opaque_bounds(&self) -> Option<(u32, u32, u32, u32)> {
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for y in 0..self.height {
            for (x, p) in self.row(y).iter().enumerate() {
                if p[3] > 0.0 {
                    let x = x as u32;
                    x0 = x0.min(x);
                    x1 = x1.max(x);
                    y0 = y0.min(y);
                    y1 = y1.max(y);
                }
            }
        }
        (x0 != u32::MAX).then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
    }

    /// True when every pixel is fully opaque.
    pub fn is_opaque(&self) -> bool {
        self.pixels.iter().all(|p| p[3] >= 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eight_bit_round_trip_is_exact() {
        let mut bytes = Vec::new();
        for a in [0u8, 1, 7, 128, 254, 255] {
            for c in [0u8, 1, 99, 200, 255] {
                bytes.extend([c, 255 - c, c / 2, a]);
            }
        }
        let n = bytes.len() as u32 / 4;
        let img = PremulImage::from_straight_rgba8(n, 1, &bytes).unwrap();
        let back = img.to_straight_rgba8().into_raw();
        for (i, (got, want)) in back.chunks(4).zip(bytes.chunks(4)).enumerate() {
            if want[3] == 0 {
                assert_eq!(got, [0, 0, 0, 0], "pixel {i}");
            } else {
                assert_eq!(got, want, "pixel {i}");
            }
        }
        let again = PremulImage::from_straight_rgba8(n, 1, &back).unwrap();
        assert_eq!(again, img);
    }

    #[test]
    fn opaque_bounds_finds_the_painted_rectangle() {
        let mut img = PremulImage::new(10, 8);
        assert_eq!(img.opaque_bounds(), None);
        img.set(3, 2, [0.1, 0.1, 0.1, 0.5]);
        img.set(6, 5, [0.0, 0.0, 0.0, 0.01]);
        assert_eq!(img.opaque_bounds(), Some((3, 2, 4, 4)));
    }
}
