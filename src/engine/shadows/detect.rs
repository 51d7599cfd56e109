//! Finding the object's shadows: regions next to it darker than the lit surface around them
//! (a grey-scale closing of the smoothed log-luminance estimates the lit level), at a fine and a
//! coarse texture scale, with the surface's own chromaticity.

use super::EPS;
use crate::engine::complete::diffuse_from;
use crate::raster::{box_mean, luma, masked_mean, Mask, Rect, Rgb};

#[derive(Clone, Debug)]
/// How shadows are detected.
pub struct EffectParams {
    /// Minimum darkening (log-luminance deficit) for a shadow candidate.
    pub min_deficit: f32,
    /// Largest allowed chromaticity change across a shadow's edge. A camera's tone curve
    /// shifts a real shadow's chromaticity (warm wood turns redder in shade: the coffee photo's
    /// saucer shadow moves it by ~0.1), where a synthetic shadow darkening encoded values keeps it.
    pub max_chroma_shift: f32,
}

impl Default for EffectParams {
    fn default() -> Self {
        Self { min_deficit: 0.1, max_chroma_shift: 0.12 }
    }
}

/// Find the object's shadows. `object` is the object's region (its alpha > 0, slightly grown).
pub fn detect_shadows(img: &Rgb, object: &Mask, params: &EffectParams) -> Option<(Mask, f32)> {
    let (w, h) = (img.w, img.h);
    let bounds = object.bounds()?;
    let size = bounds.2.max(bounds.3) as f32;
    // Work in a region around the object, at most ~0.4 MP.
    let rect = Rect::grown(bounds, (size * 1.5) as usize, w, h);
    let (x0, y0, rw, rh) = (rect.x0, rect.y0, rect.w(), rect.h());
    let f = ((400_000.0 / (rw * rh) as f32).sqrt()).min(1.0);
    let (gw, gh) = (((rw as f32 * f) as usize).max(8), ((rh as f32 * f) as usize).max(8));
    let small = img.crop(x0, y0, rw, rh).resize(gw, gh);
    let at = |gx: usize, gy: usize| -> (u32, u32) {
        (
            (x0 + ((gx as f32 + 0.5) / gw as f32 * rw as f32) as usize).min(w - 1) as u32,
            (y0 + ((gy as f32 + 0.5) / gh as f32 * rh as f32) as usize).min(h - 1) as u32,
        )
    };
    let obj: Vec<bool> = (0..gw * gh)
        .map(|i| {
            let (x, y) = at(i % gw, i / gw);
            object.get(x, y)
        })
        .collect();
    let lum: Vec<f32> = small.px.iter().map(|&p| (luma(p) + EPS).ln()).collect();
    let obj_mask = Mask::from_bytes(gw as u32, gh as u32, obj.iter().map(|&b| b as u8).collect()).expect("sizes match");
    let touch = obj_mask.dilate((size * f * 0.04).max(3.0));
    let far = obj_mask.dilate(size * f * 0.9).invert();
    // Two texture scales: a fine one that keeps a shadow's sharp edge near the contact, and a
    // coarse one (a tenth of the object's size) where a faint, long, soft shadow still stands
    // out of a busy floor (pebbles) whose dark valleys set the fine scale's threshold above it.
    // The coarse scale only adds seeds, and only where the fine scale sees nearly as much
    // darkening: its smoothing spreads a deep shadow beyond its edge (on the unit scene, 800
    // false pixels without that check).
    let r_tex = ((3.0 * f).round() as usize).max(2);
    // Smoothed log-luminance of the surroundings (texture averaged out), carried across the
    // object; the coarse scale smooths that further.
    let smooth = masked_mean(&lum, &obj, gw, gh, r_tex);
    let fine_level = {
        let as_rgb = Rgb { w: gw, h: gh, px: smooth.iter().map(|&v| [v, 0.0, 0.0]).collect() };
        let known: Vec<bool> = obj.iter().map(|&o| !o).collect();
        diffuse_from(&as_rgb, &known, &obj).px.iter().map(|p| p[0]).collect::<Vec<f32>>()
    };
    let coarse_level = box_mean(&fine_level, gw, gh, ((0.1 * size * f) as usize).max(4 * r_tex)).v;
    let fine = darkening(&fine_level, &obj, &far, (gw, gh), size * f, params);
    let coarse = darkening(&coarse_level, &obj, &far, (gw, gh), size * f, params);
    // Right under the object, where it rests on the floor, a contact shadow is all but certain:
    // there a third of the usual darkening seeds one (the band reaches 5 % of the object's size
    // below its lowest pixel in each column).
    let under = contact_band(&obj, gw, gh, ((size * f * 0.05) as usize).max(3));
    let seeds: Vec<bool> = (0..gw * gh)
        .map(|i| {
            fine.strong(i)
                || (coarse.strong(i) && fine.deficit[i] > 0.8 * coarse.threshold)
                || (under[i] && fine.deficit[i] > 0.3 * fine.threshold)
        })
        .collect();
    // Hysteresis: strong seeds, grown into weaker darkening nearby (the penumbra's tail), so the
    // lit level is later sampled outside the whole shadow, not inside its fringe.
    let near_seeds = Mask::from_bytes(gw as u32, gh as u32, seeds.iter().map(|&b| b as u8).collect())
        .expect("sizes match")
        .dilate((size * f * 0.15).max(4.0));
    let candidate: Vec<bool> = (0..gw * gh).map(|i| seeds[i] || (near_seeds.at(i) && fine.weak(i))).collect();
    let deficit: Vec<f32> = fine.deficit.iter().zip(&coarse.deficit).map(|(a, b)| a.max(*b)).collect();
    let candidates =
        Mask::from_bytes(gw as u32, gh as u32, candidate.iter().map(|&b| b as u8).collect()).expect("sizes match");
    let (keep, confidence) = shadow_components(&candidates, &touch, &obj_mask, &small, &deficit, params);
    if !keep.iter().any(|&k| k) {
        return None;
    }
    // Back to image pixels, grown for the penumbra's faint tail: the threshold stops short of
    // it, and a tail left unrelit shows as an outline. Relighting where there is no shadow
    // costs nothing (the local level equals the lit level there).
    let region = to_image_grid(&keep, (gw, gh), &rect, (w, h));
    let region = region.dilate((2.0 / f).max(2.0) + 3.0).minus(object);
    // A shadow on the floor lies below the object's top quarter in the picture (the floor
    // recedes upwards, and a shadow cast back is foreshortened): darkening above that is the
    // floor's own pattern beside the object (a dark band, a row of inlays), not its shadow.
    let top = bounds.1 + bounds.3 / 4;
    let region = region.intersect(&Mask::from_fn(w as u32, h as u32, |_, y| y >= top));
    if region.is_empty() {
        return None;
    }
    Some((region, confidence))
}

/// The band right under the object (its lowest pixel in each column, then `reach` cells down),
/// where it rests on the floor and a contact shadow is all but certain.
fn contact_band(obj: &[bool], gw: usize, gh: usize, reach: usize) -> Vec<bool> {
    let mut band = vec![false; gw * gh];
    for x in 0..gw {
        let mut below = None;
        for y in 0..gh {
            let i = y * gw + x;
            if obj[i] {
                below = Some(0);
            } else if let Some(k) = below.as_mut() {
                *k += 1;
                band[i] = *k <= reach;
            }
        }
    }
    band
}

/// The candidate components that are shadows of the object: they touch it, are not many times
/// larger than it, and keep the surface's chromaticity (compared with a ring just outside).
/// Returns them and the best one's confidence.
fn shadow_components(
    candidates: &Mask,
    touch: &Mask,
    obj_mask: &Mask,
    small: &Rgb,
    deficit: &[f32],
    params: &EffectParams,
) -> (Vec<bool>, f32) {
    let (gw, gh) = (small.w, small.h);
    let object_area = obj_mask.count().max(1);
    let chroma = |p: [f32; 3]| {
        let s = p[0] + p[1] + p[2] + 1e-4;
        [p[0] / s, p[1] / s]
    };
    let mut keep = vec![false; gw * gh];
    let mut confidence = 0.0f32;
    for comp in candidates.components() {
        // A shadow touches its object and is not many times larger than it.
        if !comp.iter().any(|&i| touch.at(i)) || comp.len() < 12 || comp.len() > 4 * object_area {
            continue;
        }
        // A shadow keeps the surface's chromaticity: compare with a ring just outside.
        let comp_mask = Mask::from_bytes(gw as u32, gh as u32, {
            let mut v = vec![0u8; gw * gh];
            for &i in &comp {
                v[i] = 1;
            }
            v
        })
        .expect("sizes");
        let ring = comp_mask.dilate(4.0).minus(&comp_mask).minus(obj_mask);
        let mean_chroma = |sel: &dyn Fn(usize) -> bool| {
            let (mut s, mut n) = ([0.0f32; 2], 0.0f32);
            for i in 0..gw * gh {
                if sel(i) {
                    let c = chroma(small.px[i]);
                    s = [s[0] + c[0], s[1] + c[1]];
                    n += 1.0;
                }
            }
            (n > 0.0).then(|| [s[0] / n, s[1] / n])
        };
        let (Some(inside), Some(outside)) = (mean_chroma(&|i| comp_mask.at(i)), mean_chroma(&|i| ring.at(i))) else {
            continue;
        };
        let shift = (inside[0] - outside[0]).abs().max((inside[1] - outside[1]).abs());
        if shift > params.max_chroma_shift {
            continue;
        }
        let mean_deficit = comp.iter().map(|&i| deficit[i]).sum::<f32>() / comp.len() as f32;
        confidence =
            confidence.max(((mean_deficit / 0.3).min(1.0) * (1.0 - shift / params.max_chroma_shift)).clamp(0.0, 1.0));
        for i in comp {
            keep[i] = true;
        }
    }
    (keep, confidence)
}

/// A mask on the working grid (`gw`×`gh` over `rect`) back on the image's pixels.
fn to_image_grid(keep: &[bool], (gw, gh): (usize, usize), rect: &Rect, (w, h): (usize, usize)) -> Mask {
    let (rw, rh) = (rect.w(), rect.h());
    let mut region = Mask::new(w as u32, h as u32);
    for y in rect.y0..rect.y1 {
        for x in rect.x0..rect.x1 {
            let gx = (((x - rect.x0) as f32 + 0.5) * gw as f32 / rw as f32) as usize;
            let gy = (((y - rect.y0) as f32 + 0.5) * gh as f32 / rh as f32) as usize;
            if keep[gy.min(gh - 1) * gw + gx.min(gw - 1)] {
                region.set(x as u32, y as u32, true);
            }
        }
    }
    region
}

/// Darkening at one texture scale.
struct Darkening {
    /// Log-luminance deficit below the lit level.
    deficit: Vec<f32>,
    /// The deficit of a shadow's core: darker than the texture's own dark valleys go.
    threshold: f32,
    /// The deficit of a shadow's fringe (somewhat darker than the lit level), if next to a core.
    weak_level: f32,
}

impl Darkening {
    fn strong(&self, i: usize) -> bool {
        self.deficit[i] > self.threshold
    }

    fn weak(&self, i: usize) -> bool {
        self.deficit[i] > self.weak_level
    }
}

/// How much darker than the lit surface each pixel of the smoothed log-luminance `filled` is,
/// and which pixels stand out of the texture.
fn darkening(
    filled: &[f32],
    obj: &[bool],
    far: &Mask,
    (gw, gh): (usize, usize),
    size: f32,
    params: &EffectParams,
) -> Darkening {
    // The lit level: a grey-scale closing removes dark valleys narrower than the window.
    let radius = ((size * 0.6) as usize).clamp(6, 96);
    let lit = closing(filled, gw, gh, radius);
    let deficit: Vec<f32> = (0..gw * gh).map(|i| if obj[i] { 0.0 } else { lit[i] - filled[i] }).collect();
    // Texture has dark valleys too: the threshold adapts to how deep they go away from the
    // object (the 90th percentile of the deficit there), so only what stands out is a shadow.
    let mut control: Vec<f32> = (0..gw * gh).filter(|&i| far.at(i)).map(|i| deficit[i]).collect();
    let texture_deficit = if control.len() > 100 {
        let k = control.len() * 9 / 10;
        *control.select_nth_unstable_by(k, f32::total_cmp).1
    } else {
        0.0
    };
    let threshold = params.min_deficit.max(texture_deficit * 1.5);
    let weak_level = (0.4 * threshold).max(texture_deficit).max(0.03);
    Darkening { deficit, threshold, weak_level }
}

/// Grey-scale closing (maximum, then minimum, over (2r+1)² squares). A wide one runs on a grid
/// up to 4× coarser (maximum-pooled, so no peak is lost) and is interpolated back: the lit level
/// it gives is smooth at that scale anyway, and the full-size filter was most of detection's time.
fn closing(v: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    let k = (r / 8).clamp(1, 4);
    if k == 1 {
        return min_filter(&max_filter(v, w, h, r), w, h, r);
    }
    let (cw, ch) = (w.div_ceil(k), h.div_ceil(k));
    let mut pooled = vec![f32::NEG_INFINITY; cw * ch];
    for y in 0..h {
        for x in 0..w {
            let j = (y / k) * cw + x / k;
            pooled[j] = pooled[j].max(v[y * w + x]);
        }
    }
    let rc = r.div_ceil(k);
    let coarse = min_filter(&max_filter(&pooled, cw, ch, rc), cw, ch, rc);
    let mut out = vec![0.0f32; w * h];
    for y in 0..h {
        let fy = ((y as f32 + 0.5) / k as f32 - 0.5).clamp(0.0, (ch - 1) as f32);
        let (y0, ty) = (fy.floor() as usize, fy.fract());
        let y1 = (y0 + 1).min(ch - 1);
        for x in 0..w {
            let fx = ((x as f32 + 0.5) / k as f32 - 0.5).clamp(0.0, (cw - 1) as f32);
            let (x0, tx) = (fx.floor() as usize, fx.fract());
            let x1 = (x0 + 1).min(cw - 1);
            let top = coarse[y0 * cw + x0] * (1.0 - tx) + coarse[y0 * cw + x1] * tx;
            let bottom = coarse[y1 * cw + x0] * (1.0 - tx) + coarse[y1 * cw + x1] * tx;
            out[y * w + x] = top * (1.0 - ty) + bottom * ty;
        }
    }
    out
}

/// Sliding maximum over a (2r+1)² square (separable, O(r) per pixel is fine at this size).
fn max_filter(v: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    extreme_filter(v, w, h, r, f32::max, f32::NEG_INFINITY)
}

fn min_filter(v: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    extreme_filter(v, w, h, r, f32::min, f32::INFINITY)
}

/// Separable sliding extreme with the van Herk/Gil-Werman block trick (3 comparisons per pixel).
fn extreme_filter(v: &[f32], w: usize, h: usize, r: usize, op: fn(f32, f32) -> f32, identity: f32) -> Vec<f32> {
    let pass = |line: &[f32]| -> Vec<f32> {
        let n = line.len();
        let k = 2 * r + 1;
        let padded: Vec<f32> =
            (0..n + 2 * r).map(|i| if i < r || i >= n + r { identity } else { line[i - r] }).collect();
        let m = padded.len();
        let mut fwd = vec![identity; m];
        let mut bwd = vec![identity; m];
        for i in 0..m {
            fwd[i] = if i % k == 0 { padded[i] } else { op(fwd[i - 1], padded[i]) };
        }
        for i in (0..m).rev() {
            bwd[i] = if i % k == k - 1 || i == m - 1 { padded[i] } else { op(bwd[i + 1], padded[i]) };
        }
        (0..n).map(|i| op(bwd[i], fwd[i + k - 1])).collect()
    };
    let mut tmp = vec![0.0f32; w * h];
    for y in 0..h {
        tmp[y * w..(y + 1) * w].copy_from_slice(&pass(&v[y * w..(y + 1) * w]));
    }
    let mut out = vec![0.0f32; w * h];
    let mut col = vec![0.0f32; h];
    for x in 0..w {
        for y in 0..h {
            col[y] = tmp[y * w + x];
        }
        for (y, val) in pass(&col).into_iter().enumerate() {
            out[y * w + x] = val;
        }
    }
    out
}
