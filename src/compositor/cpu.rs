//! The CPU reference compositor.
//!
//! Colour space: every blend here operates on **sRGB-encoded**, premultiplied values (as
//! Photoshop's default, GIMP's perceptual mode, Krita and psd-tools do), never on linear light.
//! The formulas are those of docs/layer-math.md (W3C Compositing and Blending Level 1):
//!
//! * effective source alpha `α = a·o` (pixel alpha times layer opacity),
//! * Normal:   `Cp = Sp·o + (1 − α)·Bp`
//! * Multiply: `Cp = (1 − α)·Bp + (1 − Ab)·Sp·o + (Sp·o)·Bp`
//!   (the W3C term `α·Ab·S·B` equals `(α·S)·(Ab·B)` in premultiplied form),
//! * result alpha `Ar = α + Ab·(1 − α)` for both.
//!
//! Layers placed at whole-pixel offsets without scale are copied bit-exactly; others are
//! resampled in premultiplied space (bilinear, with box-filter supersampling when shrinking so
//! a downscaled layer does not alias); the layer's edge gets exact area coverage.

use std::borrow::Cow;

use rayon::prelude::*;

use crate::document::{BlendMode, Layer, LayerStack, NewLayer, PremulImage, Px, Transform};

/// A layer rendered onto the canvas pixel grid: its top-left canvas pixel and its pixels (not yet
/// multiplied by the layer's opacity). May extend beyond the canvas.
#[derive(Debug)]
pub struct Placed<'a> {
    /// Canvas column of the pixels' left edge.
    pub x: i32,
    /// Canvas row of the pixels' top edge.
    pub y: i32,
    /// The layer's pixels on the canvas grid (borrowed when no resampling was needed).
    pub pixels: Cow<'a, PremulImage>,
}

/// Blend one premultiplied source pixel over a premultiplied backdrop pixel.
#[inline]
pub fn blend_pixel(backdrop: Px, src: Px, opacity: f32, mode: BlendMode) -> Px {
    let s = [src[0] * opacity, src[1] * opacity, src[2] * opacity, src[3] * opacity];
    let alpha = s[3];
    let ab = backdrop[3];
    let keep = 1.0 - alpha;
    let ar = alpha + ab * keep;
    match mode {
        BlendMode::Normal => [s[0] + keep * backdrop[0], s[1] + keep * backdrop[1], s[2] + keep * backdrop[2], ar],
        BlendMode::Multiply => {
            let c = |i: usize| keep * backdrop[i] + (1.0 - ab) * s[i] + s[i] * backdrop[i];
            [c(0), c(1), c(2), ar]
        }
    }
}

/// Render a layer onto the canvas grid (see `Placed`). Whole-pixel translations borrow the
/// layer's pixels; anything else is resampled.
pub fn place(layer: &Layer) -> Placed<'_> {
    let t = layer.transform;
    if let Some((x, y)) = t.integer_offset() {
        return Placed { x, y, pixels: Cow::Borrowed(&layer.pixels) };
    }
    let src = &layer.pixels;
    let valid = t.scale_x.is_finite() && t.scale_y.is_finite() && t.scale_x > 0.0 && t.scale_y > 0.0;
    if src.is_empty() || !valid {
        return Placed { x: 0, y: 0, pixels: Cow::Owned(PremulImage::new(0, 0)) };
    }
    let x0 = t.x.floor();
    let y0 = t.y.floor();
    let x1 = (t.x + src.width() as f32 * t.scale_x).ceil();
    let y1 = (t.y + src.height() as f32 * t.scale_y).ceil();
    let (w, h) = ((x1 - x0).max(0.0) as u32, (y1 - y0).max(0.0) as u32);
    // Supersample when shrinking: n×n bilinear taps spread over the destination pixel
    // approximate the box filter of the source footprint.
    let nx = (1.0 / t.scale_x).ceil().clamp(1.0, 16.0) as u32;
    let ny = (1.0 / t.scale_y).ceil().clamp(1.0, 16.0) as u32;
    // The layer's footprint on the canvas; edge pixels get the fraction of their area it covers,
    // so coverage is preserved exactly and edges stay sharp (no fade to transparent).
    let (fx0, fx1) = (t.x, t.x + src.width() as f32 * t.scale_x);
    let (fy0, fy1) = (t.y, t.y + src.height() as f32 * t.scale_y);
    let overlap = |p: f32, lo: f32, hi: f32| ((p + 1.0).min(hi) - p.max(lo)).clamp(0.0, 1.0);
    let mut out = PremulImage::new(w, h);
    out.pixels_mut().par_chunks_mut(w.max(1) as usize).enumerate().for_each(|(row, line)| {
        let cy = y0 + row as f32;
        let cov_y = overlap(cy, fy0, fy1);
        for (col, px) in line.iter_mut().enumerate() {
            let cx = x0 + col as f32;
            let coverage = overlap(cx, fx0, fx1) * cov_y;
            if coverage <= 0.0 {
                continue;
            }
            let mut acc = [0.0f32; 4];
            for sy in 0..ny {
                let py = cy + (sy as f32 + 0.5) / ny as f32;
                let v = (py - t.y) / t.scale_y - 0.5;
                for sx in 0..nx {
                    let pxx = cx + (sx as f32 + 0.5) / nx as f32;
                    let u = (pxx - t.x) / t.scale_x - 0.5;
                    let s = bilinear_clamped(src, u, v);
                    for c in 0..4 {
                        acc[c] += s[c];
                    }
                }
            }
            let k = coverage / (nx * ny) as f32;
            *px = acc.map(|v| v * k);
        }
    });
    Placed { x: x0 as i32, y: y0 as i32, pixels: Cow::Owned(out) }
}

/// Bilinear sample at continuous pixel coordinates (pixel centres at integers), clamped to the
/// image's edge pixels; the caller applies the footprint coverage.
fn bilinear_clamped(img: &PremulImage, u: f32, v: f32) -> Px {
    let max_u = (img.width() - 1) as f32;
    let max_v = (img.height() - 1) as f32;
    let (u, v) = (u.clamp(0.0, max_u), v.clamp(0.0, max_v));
    let (i, j) = (u.floor(), v.floor());
    let (fu, fv) = (u - i, v - j);
    let (i, j) = (i as u32, j as u32);
    let (i1, j1) = ((i + 1).min(img.width() - 1), (j + 1).min(img.height() - 1));
    let (p00, p10, p01, p11) = (img.get(i, j), img.get(i1, j), img.get(i, j1), img.get(i1, j1));
    let mut out = [0.0; 4];
    for c in 0..4 {
        let top = p00[c] + (p10[c] - p00[c]) * fu;
        let bottom = p01[c] + (p11[c] - p01[c]) * fu;
        out[c] = top + (bottom - top) * fv;
    }
    out
}

/// Blend a placed layer onto `canvas`, clipped to the canvas.
pub fn composite_onto(canvas: &mut PremulImage, placed: &Placed<'_>, opacity: f32, mode: BlendMode) {
    let src = placed.pixels.as_ref();
    let (cw, ch) = (canvas.width() as i64, canvas.height() as i64);
    let x_start = (placed.x as i64).max(0);
    let x_end = (placed.x as i64 + src.width() as i64).min(cw);
    let y_start = (placed.y as i64).max(0);
    let y_end = (placed.y as i64 + src.height() as i64).min(ch);
    if x_start >= x_end || y_start >= y_end || opacity <= 0.0 {
        return;
    }
    let cw = cw as usize;
    canvas
        .pixels_mut()
        .par_chunks_mut(cw)
        .enumerate()
        .skip(y_start as usize)
        .take((y_end - y_start) as usize)
        .for_each(|(y, line)| {
            let sy = (y as i64 - placed.y as i64) as u32;
            let row = src.row(sy);
            for x in x_start..x_end {
                let sx = (x - placed.x as i64) as usize;
                let dst = &mut line[x as usize];
                *dst = blend_pixel(*dst, row[sx], opacity, mode);
            }
        });
}

/// Flatten the visible layers of a stack, bottom to top, onto a transparent canvas.
pub fn flatten(stack: &LayerStack) -> PremulImage {
    let mut canvas = PremulImage::new(stack.width(), stack.height());
    for layer in stack.layers().iter().filter(|l| l.visible) {
        composite_onto(&mut canvas, &place(layer), layer.opacity, layer.blend);
    }
    canvas
}

/// An image resampled to `w × h` (box-filtered when shrinking), via `place`.
pub fn resized(img: &PremulImage, w: u32, h: u32) -> PremulImage {
    let mut stack = LayerStack::new(w, h);
    let t =
        Transform { x: 0.0, y: 0.0, scale_x: w as f32 / img.width() as f32, scale_y: h as f32 / img.height() as f32 };
    stack.push(NewLayer::new("resized", img.clone()).transform(t));
    flatten(&stack)
}

/// A thumbnail from a 4×4 grid of samples per output pixel: reads a few thousand pixels, not
/// the whole layer, so a 12-megapixel layer costs a UI thread nothing noticeable.
pub fn sampled_thumbnail(src: &PremulImage, tw: u32, th: u32) -> PremulImage {
    let mut out = PremulImage::new(tw, th);
    let (sx, sy) = (src.width() as f32 / tw as f32, src.height() as f32 / th as f32);
    for y in 0..th {
        for x in 0..tw {
            let mut acc = [0.0f32; 4];
            for j in 0..4 {
                for i in 0..4 {
                    let u = (((x as f32 + (i as f32 + 0.5) / 4.0) * sx) as u32).min(src.width() - 1);
                    let v = (((y as f32 + (j as f32 + 0.5) / 4.0) * sy) as u32).min(src.height() - 1);
                    let p = src.get(u, v);
                    for c in 0..4 {
                        acc[c] += p[c] / 16.0;
                    }
                }
            }
            out.set(x, y, acc);
        }
    }
    out
}

/// Paint a premultiplied `tint` over `img` where `mask` covers it (coverage scales the tint),
/// as the GPU compositor draws brushed masks: Normal blend on sRGB-encoded values.
pub fn tint_by_mask(img: &mut PremulImage, mask: &image::GrayImage, tint: Px) {
    for (p, &c) in img.pixels_mut().iter_mut().zip(mask.as_raw()) {
        let m = c as f32 / 255.0;
        let keep = 1.0 - tint[3] * m;
        for k in 0..4 {
            p[k] = tint[k] * m + p[k] * keep;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: Px, b: Px) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-5)
    }

    #[test]
    fn normal_over_opaque_matches_the_layer_math_note() {
        // C = α·S + (1 − α)·B with S = 0.8, a = 0.5, o = 0.5 → α = 0.25.
        let out = blend_pixel([0.2, 0.2, 0.2, 1.0], [0.4, 0.4, 0.4, 0.5], 0.5, BlendMode::Normal);
        let want = 0.25 * 0.8 + 0.75 * 0.2;
        assert!(close(out, [want, want, want, 1.0]), "{out:?}");
    }

    #[test]
    fn multiply_over_opaque_matches_the_layer_math_note() {
        // C = (1 − α)·B + α·(S·B), S = 0.5, a = 1, o = 0.6, B = 0.8.
        let out = blend_pixel([0.8, 0.8, 0.8, 1.0], [0.5, 0.5, 0.5, 1.0], 0.6, BlendMode::Multiply);
        let want = 0.4 * 0.8 + 0.6 * 0.5 * 0.8;
        assert!(close(out, [want, want, want, 1.0]), "{out:?}");
    }

    #[test]
    fn multiply_over_transparent_is_normal() {
        let src = [0.3, 0.2, 0.1, 0.5];
        let a = blend_pixel([0.0; 4], src, 0.7, BlendMode::Multiply);
        let b = blend_pixel([0.0; 4], src, 0.7, BlendMode::Normal);
        assert!(close(a, b));
    }

    #[test]
    fn black_shadow_layer_darkens_by_one_minus_alpha() {
        // A shadow factor s is a black Normal layer of alpha 1 − s: C = s·B.
        let out = blend_pixel([0.6, 0.5, 0.4, 1.0], [0.0, 0.0, 0.0, 0.3], 1.0, BlendMode::Normal);
        assert!(close(out, [0.42, 0.35, 0.28, 1.0]), "{out:?}");
    }

    #[test]
    fn integer_placement_is_exact_and_clipped() {
        let mut stack = LayerStack::new(4, 3);
        let mut px = PremulImage::new(3, 2);
        px.set(0, 0, [0.1, 0.2, 0.3, 0.5]);
        px.set(2, 1, [0.4, 0.0, 0.0, 1.0]);
        stack.push(NewLayer::new("a", px).at(2.0, 1.0));
        let flat = flatten(&stack);
        assert_eq!(flat.get(2, 1), [0.1, 0.2, 0.3, 0.5]);
        assert_eq!(flat.get(0, 0), [0.0; 4]);
        // (2,1) of the layer lands at canvas (4,2): outside, clipped without panicking.
        assert_eq!(flat.get(3, 2), [0.0; 4]);
    }

    #[test]
    fn scaling_by_two_keeps_coverage_and_colour() {
        let layer_px = PremulImage::filled(4, 4, [0.25, 0.5, 0.0, 0.5]);
        let mut stack = LayerStack::new(20, 20);
        stack.push(NewLayer::new("a", layer_px).transform(Transform { x: 2.0, y: 3.0, scale_x: 2.0, scale_y: 2.0 }));
        let flat = flatten(&stack);
        // Interior pixels keep the colour exactly.
        assert!(close(flat.get(5, 6), [0.25, 0.5, 0.0, 0.5]));
        // Total alpha (coverage) is preserved: 16 px · 0.5 · 4 = 32.
        let total: f32 = flat.pixels().iter().map(|p| p[3]).sum();
        assert!((total - 32.0).abs() < 1e-3, "{total}");
        // Nothing lands outside the scaled footprint [2, 10) × [3, 11).
        assert_eq!(flat.get(10, 5)[3], 0.0);
        assert_eq!(flat.get(1, 5)[3], 0.0);
    }

    #[test]
    fn shrinking_averages_instead_of_aliasing() {
        // A 1-px checkerboard shrunk 4× must come out as flat 50 % grey, not a random sample.
        let mut img = PremulImage::new(16, 16);
        for y in 0..16 {
            for x in 0..16 {
                let v = ((x + y) % 2) as f32;
                img.set(x, y, [v, v, v, 1.0]);
            }
        }
        let mut stack = LayerStack::new(4, 4);
        stack.push(NewLayer::new("a", img).transform(Transform { x: 0.0, y: 0.0, scale_x: 0.25, scale_y: 0.25 }));
        let flat = flatten(&stack);
        let p = flat.get(1, 2);
        assert!((p[0] - 0.5).abs() < 0.05 && (p[3] - 1.0).abs() < 1e-4, "{p:?}");
    }

    #[test]
    fn hidden_layers_do_not_contribute() {
        let mut stack = LayerStack::from_background(PremulImage::filled(2, 2, [1.0; 4]));
        stack.push(NewLayer::new("hidden", PremulImage::filled(2, 2, [0.0, 0.0, 0.0, 1.0])).visible(false));
        assert_eq!(flatten(&stack).get(1, 1), [1.0; 4]);
    }
}
