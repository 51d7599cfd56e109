//! Visual effects of the object: find the shadows it casts from an object-only brush, and take
//! them out of the background by *relighting* (the floor under a shadow is seen, only darker),
//! not by inpainting.
//!
//! A shadow multiplies the surface by a smooth factor `s` per channel: `I = s·B`. Detection looks
//! for regions next to the object that are darker than the lit surface around them (a grey-scale
//! closing of the smoothed log-luminance estimates the lit level), with the surface's own
//! chromaticity. Relighting estimates the lit log-colour inside the region as a membrane (the
//! harmonic interpolation of the log-colour around it) and averages the photo's deficit below
//! it over a window stretched along the shadow's edges, so `s` is smooth where the shadow is and
//! sharp where its edge is, and `B = I / s` keeps the floor's texture. The shadow layer is then
//! what unmixing `I` over `B` gives: black-ish with alpha `1 − s`.

use super::complete::diffuse_from;
use super::Cancelled;
use crate::raster::{box_mean, deficit_luminance, luma, masked_mean, median, Rgb};
use crate::raster::{Mask, Rect};

#[derive(Clone, Debug)]
/// How shadows are detected.
pub struct EffectParams {
    /// Minimum darkening (log-luminance deficit) for a shadow candidate.
    pub min_deficit: f32,
    /// Largest allowed chromaticity change across a shadow's edge.
    pub max_chroma_shift: f32,
}

impl Default for EffectParams {
    fn default() -> Self {
        Self { min_deficit: 0.1, max_chroma_shift: 0.05 }
    }
}

const EPS: f32 = 0.01;

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

#[cfg(test)]
/// Relight `region` of the photo: estimate the lit log-colour inside it as a membrane from the
/// wide mean log-colour just outside (the object's pixels take no part: what lies beyond the
/// object, a wall say, says nothing about the floor); each pixel's deficit below it is shading
/// plus texture. The shading is the deficit averaged over a window oriented along the shadow's
/// edges (found by a first, joint-bilateral average), leaving out pixels no shadow could have
/// made; it is divided out.
pub fn relight(img: &Rgb, region: &Mask, object: &Mask, silhouette: &Mask) -> Rgb {
    relight_cancellable(img, region, object, silhouette, false, &|| false).map_or_else(|_| img.clone(), |r| r.image)
}

/// `relight`, stopping early (with `Cancelled`) once `cancelled` says so: a brushed shadow on a
/// large photo takes a good part of a second.
pub fn relight_cancellable(
    img: &Rgb,
    region: &Mask,
    object: &Mask,
    silhouette: &Mask,
    extend: bool,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Relit, Cancelled> {
    let check = || if cancelled() { Err(Cancelled) } else { Ok(()) };
    let (w, h) = (img.w, img.h);
    let Some(bounds) = region.bounds() else { return Ok(Relit { image: img.clone(), region: region.clone() }) };
    let rect = Rect::grown(bounds, 16, w, h);
    let (x0, y0, rw, rh) = (rect.x0, rect.y0, rect.w(), rect.h());
    let crop = img.crop(x0, y0, rw, rh);
    let at = |m: &Mask, i: usize| m.get((x0 + i % rw) as u32, (y0 + i / rw) as u32);
    let in_region: Vec<bool> = (0..rw * rh).map(|i| at(region, i) && !at(object, i)).collect();
    let in_object: Vec<bool> = (0..rw * rh).map(|i| at(object, i)).collect();
    let unusable: Vec<bool> = (0..rw * rh).map(|i| in_region[i] || in_object[i]).collect();
    let mut out = img.clone();
    let mut deficit: Vec<[f32; 3]> = vec![[0.0; 3]; rw * rh];
    for c in 0..3 {
        let logc: Vec<f32> = crop.px.iter().map(|p| (p[c] + EPS).ln()).collect();
        // Outside: the lit surface's mean log-colour over a wide window (a narrow one follows
        // the texture's blotches, and the membrane would carry them inside as shading).
        let outside = masked_mean(&logc, &unusable, rw, rh, LIT_RADIUS);
        let lit = membrane_from_rim(&outside, &in_region, &unusable, rw, rh);
        check()?;
        for i in 0..rw * rh {
            if !in_object[i] {
                deficit[i][c] = if in_region[i] { lit[i] } else { outside[i] } - logc[i];
            }
        }
    }
    // Pixels no shadow can explain take no part in the averages below (they are relit with
    // their neighbours' shading): a shadow dims the floor evenly or bluish (the sky lights
    // it), so a patch much *warmer* than the lit floor, relative to it, is the floor's own
    // material (a brown leaf on concrete, a rug's red border), not shading. "Much" is
    // `WARM_SPREADS` robust spreads of the lit floor's own warmth, at least `WARM_MIN`.
    let skip = {
        let warmth: Vec<f32> = deficit.iter().map(|d| d[2] - d[0]).collect();
        let mut lit_warmth: Vec<f32> = (0..rw * rh).filter(|&i| !unusable[i]).map(|i| warmth[i]).collect();
        let centre = median(&mut lit_warmth);
        let mut spread: Vec<f32> = lit_warmth.iter().map(|v| (v - centre).abs()).collect();
        let limit = (WARM_SPREADS * 1.4826 * median(&mut spread)).max(WARM_MIN);
        (0..rw * rh).map(|i| in_object[i] || (in_region[i] && warmth[i] - centre > limit)).collect::<Vec<bool>>()
    };
    let lum: Vec<f32> = deficit.iter().map(|&d| deficit_luminance(d)).collect();
    // The guide: the luminance deficit, lightly smoothed; its level sets follow the shadow's
    // structure (umbra, penumbra, a darker contact shadow).
    let guide = masked_mean(&lum, &skip, rw, rh, 4);
    let lit_px: Vec<f32> = (0..rw * rh).filter(|&i| !unusable[i]).map(|i| guide[i]).collect();
    let noise = if lit_px.len() > 10 {
        let m = lit_px.iter().sum::<f32>() / lit_px.len() as f32;
        (lit_px.iter().map(|v| (v - m).powi(2)).sum::<f32>() / lit_px.len() as f32).sqrt()
    } else {
        0.05
    };
    // First, each pixel's shading as the mean deficit of the pixels around it (16 px, every
    // other one) whose guide level is like its own: a wide average inside the umbra, where
    // texture then cancels, and an average along the edge in the penumbra, so the ramp is kept.
    let todo: Vec<usize> = (0..rw * rh).filter(|&i| in_region[i]).collect();
    check()?;
    let first = bilateral_deficit(&todo, &guide, &deficit, &skip, (rw, rh), (3.0 * noise).max(0.03), cancelled);
    check()?;
    // That first estimate still follows the texture wherever the guide's level sets do (grass
    // blades, carpet stripes), but its *edges* are the shadow's. The final shading averages the
    // photo's deficit over a window stretched along those edges: a shadow's shading changes
    // across its edge and hardly along it, so a long, thin window keeps the ramp and cancels the
    // texture; away from edges (umbra, lit floor) the window is round and wide.
    let mut structure = guide;
    for (&i, d) in todo.iter().zip(&first) {
        structure[i] = deficit_luminance(*d);
    }
    let structure = masked_mean(&structure, &skip, rw, rh, 2);
    // A wide level weight (5 noise widths) keeps a thin shadow's window off the lit floor beside it.
    let shading =
        oriented_mean_deficit(&todo, &structure, &deficit, &skip, (rw, rh), (5.0 * noise).max(0.03), cancelled);
    check()?;
    // Where the shadow is its object's silhouette projected on the floor, that fitted shape
    // replaces the local averages (which follow the floor's blotches).
    let usable: Vec<bool> = (0..rw * rh).map(|i| !skip[i] && !in_object[i]).collect();
    let (shading, extra) = super::shadow_projection::refine(
        silhouette,
        (x0, y0),
        (rw, rh),
        &todo,
        shading,
        &deficit,
        &usable,
        &in_region,
        extend,
    );
    check()?;
    let mut relit_region = region.clone();
    for (i, d) in todo.iter().copied().zip(shading).chain(extra) {
        let gi = (y0 + i / rw) * w + x0 + i % rw;
        out.px[gi] = [0, 1, 2].map(|c| {
            let s = (-d[c]).exp().clamp(0.05, 1.0);
            ((img.px[gi][c] + EPS) / s - EPS).clamp(0.0, 1.0)
        });
        relit_region.set((gi % w) as u32, (gi / w) as u32, true);
    }
    Ok(Relit { image: out, region: relit_region })
}

/// A photo with a shadow relit, and where: the region asked for, plus (if extending was asked)
/// floor just beyond it where the fitted shadow model puts a shadow the photo shows (a far end
/// or a faint tail detection stopped short of).
pub struct Relit {
    /// The photo with the shadow brightened back to the lit surface.
    pub image: Rgb,
    /// The pixels relit.
    pub region: Mask,
}

/// Radius of the lit surface's mean just outside a shadow.
const LIT_RADIUS: usize = 16;
/// Radius and sampling step of the guided shading average.
const SHADING_RADIUS: isize = 16;
const SHADING_STEP: usize = 2;
/// The oriented average: Gaussian widths along an edge and across a sharp one (px), and the
/// shading gradient (log units per px) at which the window has narrowed to 1/e of the way.
const ALONG_SIGMA: f32 = 7.0;
const ACROSS_SIGMA_MIN: f32 = 1.5;
const EDGE_GRADIENT: f32 = 0.03;
/// How much warmer than the lit floor (log blue/red, in robust spreads of the floor's own
/// warmth, and at least `WARM_MIN`) a pixel must be for no shadow to explain it.
const WARM_SPREADS: f32 = 5.0;
const WARM_MIN: f32 = 0.15;

/// Mean of `deficit` at the `todo` pixels over a Gaussian window oriented by the local structure
/// of `structure` (its structure tensor, integrated over 9×9): `ALONG_SIGMA` along the level
/// lines, and across them from `ALONG_SIGMA` (no edge) down to `ACROSS_SIGMA_MIN` (a sharp edge);
/// neighbours at a very different `structure` level (Gaussian of width `level_sigma`) count less,
/// and those in `skip` not at all.
/// A cancelled call returns early with meaningless values; the caller checks and discards them.
fn oriented_mean_deficit(
    todo: &[usize],
    structure: &[f32],
    deficit: &[[f32; 3]],
    skip: &[bool],
    (rw, rh): (usize, usize),
    level_sigma: f32,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Vec<[f32; 3]> {
    use rayon::prelude::*;
    let (mut jxx, mut jxy, mut jyy) = (vec![0.0f32; rw * rh], vec![0.0f32; rw * rh], vec![0.0f32; rw * rh]);
    for y in 1..rh.saturating_sub(1) {
        for x in 1..rw.saturating_sub(1) {
            let i = y * rw + x;
            let gx = 0.5 * (structure[i + 1] - structure[i - 1]);
            let gy = 0.5 * (structure[i + rw] - structure[i - rw]);
            (jxx[i], jxy[i], jyy[i]) = (gx * gx, gx * gy, gy * gy);
        }
    }
    let (jxx, jxy, jyy) = (box_mean(&jxx, rw, rh, 4).v, box_mean(&jxy, rw, rh, 4).v, box_mean(&jyy, rw, rh, 4).v);
    todo.par_iter()
        .map(|&i| {
            if cancelled() {
                return [0.0; 3];
            }
            // The tensor's larger eigenvalue is the squared gradient across the edge; its
            // eigenvector points across the edge.
            let (a, b, c) = (jxx[i], jxy[i], jyy[i]);
            let half_trace = 0.5 * (a + c);
            let l1 = half_trace + (half_trace * half_trace - (a * c - b * b)).max(0.0).sqrt();
            let (ux, uy) = if b.abs() > 1e-12 {
                (l1 - c, b)
            } else if a >= c {
                (1.0, 0.0)
            } else {
                (0.0, 1.0)
            };
            let norm = (ux * ux + uy * uy).sqrt().max(1e-12);
            let (ux, uy) = (ux / norm, uy / norm);
            let across = ACROSS_SIGMA_MIN + (ALONG_SIGMA - ACROSS_SIGMA_MIN) * (-l1.sqrt() / EDGE_GRADIENT).exp();
            // Sample out to two sigmas: 15 steps along, about 10 across.
            let (reach_t, reach_q) = ((2.0 * ALONG_SIGMA) as i32, (2.0 * across).ceil() as i32);
            let (step_t, step_q) = ((reach_t / 7).max(1) as usize, (reach_q / 4).max(1) as usize);
            let (x, y) = ((i % rw) as f32, (i / rw) as f32);
            let (mut acc, mut wsum) = ([0.0f32; 3], 0.0f32);
            for t in (-reach_t..=reach_t).step_by(step_t) {
                for q in (-reach_q..=reach_q).step_by(step_q) {
                    let (t, q) = (t as f32, q as f32);
                    let (px, py) = ((x - t * uy + q * ux).round(), (y + t * ux + q * uy).round());
                    if px < 0.0 || py < 0.0 || px >= rw as f32 || py >= rh as f32 {
                        continue;
                    }
                    let j = py as usize * rw + px as usize;
                    if skip[j] {
                        continue;
                    }
                    let dl = structure[i] - structure[j];
                    let wgt = (-t * t / (2.0 * ALONG_SIGMA * ALONG_SIGMA)
                        - q * q / (2.0 * across * across)
                        - dl * dl / (2.0 * level_sigma * level_sigma))
                        .exp();
                    for ch in 0..3 {
                        acc[ch] += wgt * deficit[j][ch];
                    }
                    wsum += wgt;
                }
            }
            acc.map(|v| if wsum > 0.0 { v / wsum } else { 0.0 })
        })
        .collect()
}

/// Joint-bilateral mean of `deficit` at the `todo` pixels: neighbours within
/// `SHADING_RADIUS` and not in `skip`, weighted by how close their `guide` level is (Gaussian
/// of width `sigma`).
/// A cancelled call returns early with meaningless values; the caller checks and discards them.
fn bilateral_deficit(
    todo: &[usize],
    guide: &[f32],
    deficit: &[[f32; 3]],
    skip: &[bool],
    (rw, rh): (usize, usize),
    sigma: f32,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Vec<[f32; 3]> {
    let (radius, stride) = (SHADING_RADIUS, SHADING_STEP);
    use rayon::prelude::*;
    todo.par_iter()
        .map(|&i| {
            if cancelled() {
                return [0.0; 3];
            }
            let (x, y) = ((i % rw) as isize, (i / rw) as isize);
            let (mut acc, mut wsum) = ([0.0f32; 3], 0.0f32);
            for dy in (-radius..=radius).step_by(stride) {
                let yy = y + dy;
                if yy < 0 || yy >= rh as isize {
                    continue;
                }
                for dx in (-radius..=radius).step_by(stride) {
                    let xx = x + dx;
                    if xx < 0 || xx >= rw as isize {
                        continue;
                    }
                    let j = yy as usize * rw + xx as usize;
                    if skip[j] {
                        continue;
                    }
                    let d = guide[i] - guide[j];
                    let wgt = (-d * d / (2.0 * sigma * sigma)).exp();
                    for c in 0..3 {
                        acc[c] += wgt * deficit[j][c];
                    }
                    wsum += wgt;
                }
            }
            acc.map(|a| if wsum > 0.0 { a / wsum } else { 0.0 })
        })
        .collect()
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

/// The membrane over `region` pinned to `outside` at the usable pixels just around it (those
/// 4-adjacent to the region that are not `unusable`: the region itself, the object).
pub(super) fn membrane_from_rim(outside: &[f32], region: &[bool], unusable: &[bool], w: usize, h: usize) -> Vec<f32> {
    let fixed: Vec<Option<f32>> = (0..w * h)
        .map(|i| {
            if unusable[i] {
                return None;
            }
            let (x, y) = (i % w, i / w);
            let near = [(x > 0, i.wrapping_sub(1)), (x + 1 < w, i + 1), (y > 0, i.wrapping_sub(w)), (y + 1 < h, i + w)]
                .iter()
                .any(|&(ok, j)| ok && region[j]);
            near.then_some(outside[i])
        })
        .collect();
    membrane(&fixed, region, w, h)
}

/// Harmonic interpolation over `domain` of the values at `fixed` pixels (Jacobi sweeps seeded by
/// a half-size solve).
fn membrane(fixed: &[Option<f32>], domain: &[bool], w: usize, h: usize) -> Vec<f32> {
    let mut cur = vec![0.0f32; w * h];
    if w > 8 && h > 8 {
        let (w2, h2) = (w.div_ceil(2), h.div_ceil(2));
        let mut acc: Vec<(f32, f32)> = vec![(0.0, 0.0); w2 * h2];
        let mut d2 = vec![false; w2 * h2];
        for y in 0..h {
            for x in 0..w {
                let (i, j) = (y * w + x, (y / 2) * w2 + x / 2);
                d2[j] |= domain[i];
                if let Some(v) = fixed[i] {
                    acc[j].0 += v;
                    acc[j].1 += 1.0;
                }
            }
        }
        // A block holding any fixed pixel is fixed at the coarser size: the boundary must survive
        // the restriction, or the coarse solve sees no boundary at all.
        let f2: Vec<Option<f32>> = acc.iter().map(|&(s, n)| (n > 0.0).then(|| s / n)).collect();
        for (d, f) in d2.iter_mut().zip(&f2) {
            *d &= f.is_none();
        }
        let coarse = membrane(&f2, &d2, w2, h2);
        for y in 0..h {
            for x in 0..w {
                cur[y * w + x] = coarse[(y / 2) * w2 + x / 2];
            }
        }
    }
    for i in 0..w * h {
        if let Some(v) = fixed[i] {
            cur[i] = v;
        }
    }
    for _ in 0..40 {
        let prev = cur.clone();
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if !domain[i] {
                    continue;
                }
                let (mut s, mut n) = (0.0f32, 0.0f32);
                for (ok, j) in
                    [(x > 0, i.wrapping_sub(1)), (x + 1 < w, i + 1), (y > 0, i.wrapping_sub(w)), (y + 1 < h, i + w)]
                {
                    if ok && (domain[j] || fixed[j].is_some()) {
                        s += prev[j];
                        n += 1.0;
                    }
                }
                if n > 0.0 {
                    cur[i] = s / n;
                }
            }
        }
    }
    cur
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A textured floor, a dark object, and its shadow darkening the floor by 50 %.
    fn scene() -> (Rgb, Rgb, Mask, Mask) {
        let (w, h) = (200, 150);
        let mut floor = Rgb::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let t = 0.05 * ((x as f32 * 0.7).sin() * (y as f32 * 0.9).cos());
                floor.px[y * w + x] = [0.7 + t, 0.6 + t, 0.45 + t];
            }
        }
        let object =
            Mask::from_fn(w as u32, h as u32, |x, y| (x as i32 - 80).pow(2) + (y as i32 - 70).pow(2) < 20 * 20);
        let shadow = Mask::from_fn(w as u32, h as u32, |x, y| {
            let (dx, dy) = ((x as f32 - 115.0) / 30.0, (y as f32 - 85.0) / 10.0);
            dx * dx + dy * dy < 1.0
        })
        .minus(&object);
        let mut img = floor.clone();
        for i in 0..w * h {
            if shadow.at(i) {
                img.px[i] = img.px[i].map(|v| v * 0.5);
            }
            if object.at(i) {
                img.px[i] = [0.2, 0.3, 0.8];
            }
        }
        (img, floor, object, shadow)
    }

    #[test]
    fn finds_and_relights_a_shadow_keeping_texture() {
        let (img, floor, object, shadow) = scene();
        let grown = object.dilate(2.0);
        let (region, conf) = detect_shadows(&img, &grown, &EffectParams::default()).expect("a shadow");
        let hit = (0..img.px.len()).filter(|&i| shadow.at(i) && region.at(i)).count();
        assert!(hit as f32 > 0.9 * shadow.count() as f32, "found {hit} of {}", shadow.count());
        // Beyond the intended growth for the penumbra's tail (2 + 3 px), the region may take in a
        // few texture valleys next to the shadow (relit by s ≈ 1, so harmless); it must stay a
        // small fraction of the image.
        let false_pos = (0..img.px.len()).filter(|&i| region.at(i) && !shadow.dilate(7.0).at(i)).count();
        assert!(false_pos < 300, "{false_pos} false positives");
        assert!(conf > 0.5, "{conf}");
        let relit = relight(&img, &region, &grown, &object);
        // Inside the shadow (away from its edge) the floor comes back, texture included.
        let core = shadow.erode(3.0);
        let err: f32 = (0..img.px.len())
            .filter(|&i| core.at(i))
            .map(|i| (0..3).map(|c| (relit.px[i][c] - floor.px[i][c]).abs()).sum::<f32>() / 3.0)
            .sum::<f32>()
            / core.count() as f32;
        // A hard-edged shadow on a high-frequency texture: the floor comes back to within a
        // small fraction of a level on average (0.00097 with the oriented average, 0.00045 with
        // the bilateral one alone; a plain local mean of the photo's deficit gave 0.0021,
        // flattening the texture inside the shadow; the oriented window without a level weight
        // crossed this thin shadow's edges and gave 0.033).
        assert!(err < 0.0015, "mean error {err}");
    }

    #[test]
    fn a_warm_patch_in_the_region_is_not_taken_for_shading() {
        // A brown leaf lying on the floor beside the shadow, inside the region to relight (as if
        // detection had taken it): no shadow turns a beige floor brown, so it keeps its colour,
        // and the shadow's floor still comes back.
        let (mut img, floor, object, shadow) = scene();
        let leaf = Mask::from_fn(200, 150, |x, y| (138..162).contains(&x) && (84..104).contains(&y))
            .minus(&shadow.dilate(3.0));
        for i in 0..img.px.len() {
            if leaf.at(i) {
                img.px[i] = [0.45, 0.28, 0.15];
            }
        }
        let grown = object.dilate(2.0);
        let relit = relight(&img, &shadow.dilate(2.0).union(&leaf), &grown, &object);
        let mean_err = |m: &Mask, want: &Rgb| {
            (0..img.px.len())
                .filter(|&i| m.at(i))
                .map(|i| (0..3).map(|c| (relit.px[i][c] - want.px[i][c]).abs()).sum::<f32>() / 3.0)
                .sum::<f32>()
                / m.count() as f32
        };
        let leaf_err = mean_err(&leaf, &img);
        assert!(leaf_err < 0.02, "the leaf changed by {leaf_err}");
        let floor_err = mean_err(&shadow.erode(3.0), &floor);
        assert!(floor_err < 0.005, "the floor under the shadow is off by {floor_err}");
    }

    #[test]
    fn no_shadow_no_detection() {
        let (_, floor, object, _) = scene();
        let mut img = floor.clone();
        for i in 0..img.px.len() {
            if object.at(i) {
                img.px[i] = [0.2, 0.3, 0.8];
            }
        }
        assert!(detect_shadows(&img, &object.dilate(2.0), &EffectParams::default()).is_none());
    }
}
