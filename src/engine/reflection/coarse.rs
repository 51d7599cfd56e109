//! Finding a large object's reflection at a working resolution: the mirror axis and the
//! reflection's opacity are fitted on the photo box-averaged `step` times (the opacity is
//! smooth, and the texture test still sees the object's texture at that scale), then the
//! opacity is interpolated back and the floor unmixed at full size, with the object's own
//! full-resolution pixels as the reflected colour.

use super::{confidence, search, Reflection};
use crate::raster::{sample_known, Mask, Plane, Rgb};

/// Above this many pixels in the object's box, the reflection is looked for on a coarser grid
/// (a 12 MP photo's object took 0.65 s at full size, a 24 MP one's 1.6 s).
const WORKING_PIXELS: usize = 250_000;

/// The coarsening step for an object box of `pixels`: 1 up to `WORKING_PIXELS`.
pub(super) fn working_step(pixels: usize) -> usize {
    ((pixels as f32 / WORKING_PIXELS as f32).sqrt().ceil() as usize).max(1)
}

/// `find` on the grid `step` times coarser, unmixed at full size.
pub(super) fn find(
    img: &Rgb,
    alpha: &Plane,
    object: &Mask,
    step: usize,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Option<Reflection> {
    let (w, h) = (img.w, img.h);
    let (sw, sh) = (w.div_ceil(step), h.div_ceil(step));
    let mut small = Rgb::new(sw, sh);
    let mut small_alpha = Plane::new(sw, sh);
    let mut small_object = vec![0u8; sw * sh];
    let mut count = vec![0.0f32; sw * sh];
    for y in 0..h {
        let row = (y / step) * sw;
        for x in 0..w {
            let c = row + x / step;
            let p = img.px[y * w + x];
            small.px[c] = [small.px[c][0] + p[0], small.px[c][1] + p[1], small.px[c][2] + p[2]];
            small_alpha.v[c] += alpha.v[y * w + x];
            // A coarse cell is object if any of its pixels is: no object colour counts as floor.
            small_object[c] |= object.get(x as u32, y as u32) as u8;
            count[c] += 1.0;
        }
    }
    for (c, &n) in count.iter().enumerate() {
        small.px[c] = small.px[c].map(|v| v / n);
        small_alpha.v[c] /= n;
    }
    let small_object = Mask::from_bytes(sw as u32, sh as u32, small_object).expect("sizes match");
    let found = search(&small, &small_alpha, &small_object, cancelled)?;
    let mut known = vec![false; sw * sh];
    let mut fitted = vec![[0.0f32]; sw * sh];
    for (&(i, _), &a) in found.fit.opacity.iter().zip(&found.fit.fitted) {
        known[i] = true;
        fitted[i] = [a];
    }
    let opacity_at = |x: usize, y: usize| -> Option<f32> {
        let (fx, fy) = ((x as f32 + 0.5) / step as f32 - 0.5, (y as f32 + 0.5) / step as f32 - 0.5);
        sample_known(&known, &fitted, (sw, sh), fx, fy).map(|[a]| a)
    };
    // The axis on the full grid: a coarse row boundary is `step` full rows.
    let axis = (found.axis + 0.5) * step as f32 - 0.5;
    let (bx, _, bw, bh) = object.bounds()?;
    let margin = 12 * step;
    let (x0, x1) = ((bx as usize).saturating_sub(margin), (bx as usize + bw as usize + margin).min(w));
    let y_start = (axis + 0.5).max(0.0) as usize;
    let y_end = (y_start + bh as usize).min(h);
    let mut image = img.clone();
    let mut region = Mask::new(w as u32, h as u32);
    for y in y_start..y_end {
        let sy = (2.0 * axis - y as f32).round();
        if sy < 0.0 || y as f32 <= axis {
            continue;
        }
        let sy = sy as usize;
        for x in x0..x1 {
            let s = sy * w + x;
            if object.get(x as u32, y as u32) || !object.get(x as u32, sy as u32) || alpha.v[s] <= 0.0 {
                continue;
            }
            // The mirrored object's soft edge reflects only as much of it as is there.
            let coverage = if alpha.v[s] >= 0.95 { 1.0 } else { alpha.v[s] };
            let Some(a) = opacity_at(x, y).map(|a| a * coverage) else { continue };
            if a <= 0.02 {
                continue;
            }
            let i = y * w + x;
            region.set(x as u32, y as u32, true);
            let f = img.px[s];
            image.px[i] = [0, 1, 2].map(|c| ((img.px[i][c] - a * f[c]) / (1.0 - a)).clamp(0.0, 1.0));
        }
    }
    if region.count() < 50 {
        return None;
    }
    Some(Reflection { image, region, confidence: confidence(found.correlation, found.fit.mean_opacity) })
}
