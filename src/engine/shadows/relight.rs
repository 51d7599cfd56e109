//! Taking a shadow out by relighting: the lit log-colour inside the region as a membrane from
//! around it, the photo's deficit below it averaged along the shadow's edges as the shading, and
//! `B = I / s`, which keeps the floor's texture.

use super::coarse::{self, CropShading, RelightMasks};
use super::lit_level::lit_log_colour;
use super::{projection, EPS};
use crate::engine::complete::diffuse_from;
use crate::engine::Cancelled;
use crate::raster::{box_mean, deficit_luminance, masked_mean, median, Mask, Rect, Rgb};

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
    relight_on_grid(img, &RelightMasks { region, object, silhouette }, extend, None, cancelled)
}

#[cfg(test)]
/// `relight` with the shading estimated every `step` pixels, whatever the photo's size.
pub fn relight_every(img: &Rgb, region: &Mask, object: &Mask, silhouette: &Mask, step: usize) -> Rgb {
    let masks = RelightMasks { region, object, silhouette };
    relight_on_grid(img, &masks, false, Some(step), &|| false).map_or_else(|_| img.clone(), |r| r.image)
}

/// Relight with the shading estimated every `step` pixels (by default, as the crop's size asks).
fn relight_on_grid(
    img: &Rgb,
    masks: &RelightMasks<'_>,
    extend: bool,
    step: Option<usize>,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Relit, Cancelled> {
    let (w, h) = (img.w, img.h);
    let region = masks.region;
    let Some(bounds) = region.bounds() else {
        return Ok(Relit { image: img.clone(), region: region.clone(), model_quality: None });
    };
    let rect = Rect::grown(bounds, 16, w, h);
    let shading = match step.unwrap_or_else(|| working_step(rect.w() * rect.h())) {
        1 => crop_shading(img, masks, &rect, extend, cancelled)?,
        step => coarse::crop_shading(img, masks, &rect, step, &|small, small_masks, small_rect| {
            crop_shading(small, small_masks, small_rect, extend, cancelled)
        })?,
    };
    let mut out = img.clone();
    let mut relit_region = region.clone();
    for (i, d) in shading.shading {
        let gi = (rect.y0 + i / rect.w()) * w + rect.x0 + i % rect.w();
        let m = (d[0] + d[1] + d[2]) / 3.0;
        let d = d.map(|v| m + (v - m).clamp(-CHROMA_LIMIT, CHROMA_LIMIT));
        out.px[gi] = [0, 1, 2].map(|c| {
            let s = (-d[c]).exp().clamp(0.05, 1.0);
            ((img.px[gi][c] + EPS) / s - EPS).clamp(0.0, 1.0)
        });
        relit_region.set((gi % w) as u32, (gi / w) as u32, true);
    }
    Ok(Relit { image: out, region: relit_region, model_quality: shading.model_quality })
}

/// Above this many pixels, a crop's shading is estimated on a coarser grid (every `step`-th
/// pixel, box-averaged) and interpolated back: shading is smooth at that scale, and the
/// averages' cost grows with the pixel count (a 12 MP photo's shadow took 1.9 s at full size).
const WORKING_PIXELS: usize = 400_000;

/// The coarsening step for a crop of `pixels`: 1 up to `WORKING_PIXELS`.
fn working_step(pixels: usize) -> usize {
    ((pixels as f32 / WORKING_PIXELS as f32).sqrt().ceil() as usize).max(1)
}

/// The shading of `rect`'s pixels at full resolution (see `relight`).
pub(super) fn crop_shading(
    img: &Rgb,
    masks: &RelightMasks<'_>,
    rect: &Rect,
    extend: bool,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<CropShading, Cancelled> {
    let check = || if cancelled() { Err(Cancelled) } else { Ok(()) };
    let RelightMasks { region, object, silhouette } = *masks;
    let (x0, y0, rw, rh) = (rect.x0, rect.y0, rect.w(), rect.h());
    let crop = img.crop(x0, y0, rw, rh);
    let at = |m: &Mask, i: usize| m.get((x0 + i % rw) as u32, (y0 + i / rw) as u32);
    let in_region: Vec<bool> = (0..rw * rh).map(|i| at(region, i) && !at(object, i)).collect();
    let in_object: Vec<bool> = (0..rw * rh).map(|i| at(object, i)).collect();
    let unusable: Vec<bool> = (0..rw * rh).map(|i| in_region[i] || in_object[i]).collect();
    let mut deficit: Vec<[f32; 3]> = vec![[0.0; 3]; rw * rh];
    let logc: [Vec<f32>; 3] = [0, 1, 2].map(|c| crop.px.iter().map(|p| (p[c] + EPS).ln()).collect());
    // Outside: the lit surface's mean log-colour over a wide window (a narrow one follows the
    // texture's blotches, and the membrane would carry them inside as shading).
    let outside = [0, 1, 2].map(|c| masked_mean(&logc[c], &unusable, rw, rh, LIT_RADIUS));
    let local: Vec<[f32; 3]> = {
        let planes = [0, 1, 2].map(|c| box_mean(&crop.px.iter().map(|p| p[c]).collect::<Vec<_>>(), rw, rh, 2).v);
        (0..rw * rh).map(|i| [planes[0][i], planes[1][i], planes[2][i]]).collect()
    };
    let lit = lit_log_colour(&outside, &local, &in_region, &unusable, (rw, rh));
    check()?;
    for c in 0..3 {
        for i in 0..rw * rh {
            if !in_object[i] {
                deficit[i][c] = if in_region[i] { lit[c][i] } else { outside[c][i] } - logc[c][i];
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
    let mut shading = fill_unknown(shading, &todo, (rw, rh));
    cap_at_umbra(&mut shading);
    check()?;
    // Where the shadow is its object's silhouette projected on the floor, that fitted shape
    // replaces the local averages (which follow the floor's blotches).
    let usable: Vec<bool> = (0..rw * rh).map(|i| !skip[i] && !in_object[i]).collect();
    let (shading, extra, model_quality) =
        projection::refine(silhouette, (x0, y0), (rw, rh), &todo, shading, &deficit, &usable, &in_region, extend);
    check()?;
    Ok(CropShading { shading: todo.into_iter().zip(shading).chain(extra).collect(), model_quality })
}

/// Lower every shading deeper than the shadow's umbra to the umbra's level (a margin above).
/// One light blocked whole is the most a shadow can take away, so a pixel whose deficit
/// exceeds the umbra's is darker floor *material* (a stain, a riser in its own shade, the dark
/// gap under a wallet's spine), not more shadow; relit with its whole deficit it comes back as
/// a glowing patch. The umbra's level is the median of the shading at least `UMBRA_SHARE` of
/// the deepest (its 98th percentile), so a loose brush's lit margin does not pull it down.
fn cap_at_umbra(shading: &mut [[f32; 3]]) {
    if shading.len() < 50 {
        return;
    }
    let mut lum: Vec<f32> = shading.iter().map(|&d| deficit_luminance(d)).collect();
    lum.sort_by(|a, b| a.total_cmp(b));
    let deepest = lum[(lum.len() - 1) * 98 / 100];
    let umbra = &lum[lum.partition_point(|&l| l < UMBRA_SHARE * deepest)..];
    // Nothing there is darker than the lit level (a brushed patch brighter than its rim): no
    // umbra, nothing to cap.
    let Some(&middle) = umbra.get(umbra.len().saturating_sub(1) / 2) else { return };
    let cap = middle + UMBRA_MARGIN;
    for d in shading.iter_mut() {
        let excess = deficit_luminance(*d) - cap;
        if excess > 0.0 {
            *d = d.map(|v| v - excess);
        }
    }
}

/// A photo with a shadow relit, and where: the region asked for, plus (if extending was asked)
/// floor just beyond it where the fitted shadow model puts a shadow the photo shows (a far end
/// or a faint tail detection stopped short of).
pub struct Relit {
    /// The photo with the shadow brightened back to the lit surface.
    pub image: Rgb,
    /// The pixels relit.
    pub region: Mask,
    /// How well the object's silhouette, projected by one light, explains the shadow relit
    /// (1: all but the floor's texture; 0 or less: nothing); `None` when no projection could be
    /// fitted (no silhouette, a region too small).
    pub model_quality: Option<f32>,
}

impl Relit {
    /// How much relighting brightened its region of `img`: the mean brightening over the pixels
    /// it changed (by more than 2 %), measured there because a detected region is often much
    /// larger than its shadow and the unchanged rest must not dilute it. `None` unless those
    /// pixels are a real share of the region (a tenth): a few texture valleys brightened a
    /// little are no shadow.
    pub fn brightening(&self, img: &Rgb) -> Option<f64> {
        let (mut before, mut after, mut changed, mut total) = (0.0f64, 0.0f64, 0usize, 0usize);
        for (i, (b, a)) in img.px.iter().zip(&self.image.px).enumerate() {
            if self.region.at(i) {
                total += 1;
                let (b, a) = (b.iter().sum::<f32>() as f64, a.iter().sum::<f32>() as f64);
                if a > 1.02 * b + 1e-3 {
                    before += b;
                    after += a;
                    changed += 1;
                }
            }
        }
        (changed * 10 >= total).then(|| after / before.max(1e-9))
    }
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
/// `cap_at_umbra`: the umbra is the shading at least this share of the deepest, and the cap
/// lies this far (log units) above its median. Chosen on shadows-dev and the wide generator's
/// tuning half together (shares 0.2–0.5 and margins 0.05–0.1 tried; 0.2–0.3 with 0.1 best on
/// both).
const UMBRA_SHARE: f32 = 0.2;
const UMBRA_MARGIN: f32 = 0.1;
/// How far one channel's shading may stray from the three's mean (log units). A shadow's light
/// is bluer than the lit surface's, not another colour altogether; a larger split comes from a
/// lit rim of another material (a red cup bordering a floor brushed almost whole would turn
/// the floor red). Fitted on the real shadow pairs (shadows-dev): 0.1–0.15 best of 0 … 0.5.
const CHROMA_LIMIT: f32 = 0.15;

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
            // No usable neighbour at all: unknown here, filled from the pixels around.
            acc.map(|v| if wsum > 1e-6 { v / wsum } else { f32::NAN })
        })
        .collect()
}

/// The `todo` pixels' `values` with the unknown ones (NaN: no usable neighbour was in reach, as
/// inside a large patch the shading average leaves out) spread in from the known ones, so such
/// a patch gets its surroundings' shading instead of none.
fn fill_unknown(values: Vec<[f32; 3]>, todo: &[usize], (rw, rh): (usize, usize)) -> Vec<[f32; 3]> {
    if values.iter().all(|v| !v[0].is_nan()) {
        return values;
    }
    let mut planes = Rgb::new(rw, rh);
    let (mut known, mut unknown) = (vec![false; rw * rh], vec![false; rw * rh]);
    for (&i, v) in todo.iter().zip(&values) {
        if v[0].is_nan() {
            unknown[i] = true;
        } else {
            planes.px[i] = *v;
            known[i] = true;
        }
    }
    if !known.contains(&true) {
        return vec![[0.0; 3]; values.len()];
    }
    let filled = diffuse_from(&planes, &known, &unknown);
    todo.iter().map(|&i| filled.px[i]).collect()
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
