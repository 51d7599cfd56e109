//! The object's reflection on a glossy floor, found from an object-only brush and unmixed out.
//!
//! A reflection is the object seen mirrored about its contact line, laid over the floor with
//! a smooth opacity `a`: `I = a·F + (1 − a)·B`, where `F` is the object's colour at the mirrored
//! position (we have it: the object is in the photo) and `B` the floor. Because `F` carries the
//! object's own texture, a reflection shows up as the photo below the contact line *following*
//! the mirrored object pixel by pixel — a shadow or a floor pattern does not. Per window, `a` is
//! the least-squares fit of `I − L = a·(F − L)` (with `L` the floor's lit level carried in from
//! around the region); the floor is then `B = (I − a·F) / (1 − a)`, which keeps its texture.
//! Linear values throughout: the reflection adds light (over-compositing is linear in the
//! encoded values the layers are stored in, as everywhere in the engine).

mod coarse;

use super::shadows::membrane_from_rim;
use super::Cancelled;
use crate::raster::masked_mean;
use crate::raster::{Mask, Rect};
use crate::raster::{Plane, Rgb};
use rayon::prelude::*;

/// A reflection found below the object.
pub struct Reflection {
    /// The photo with the reflection unmixed out of `region`.
    pub image: Rgb,
    /// Where the reflection lies (its opacity above a trace).
    pub region: Mask,
    /// How sure we are, in [0, 1]: how closely the photo follows the mirrored object.
    pub confidence: f32,
}

/// Window radius of the local opacity fit (a line in the row, so a wide window stays unbiased
/// where the reflection fades).
const FIT_RADIUS: usize = 20;
/// How far beyond the reflection's soft edge the floor's lit level is read, px.
const RIM_GAP: f32 = 4.0;
/// Below this mean opacity there is no reflection worth a layer.
const MIN_OPACITY: f32 = 0.04;
/// The photo must follow the mirrored object's texture at least this closely (correlation of
/// their locally centred values). On the 36 synthetic cases, scenes without a reflection stay
/// below 0.05; the reflections a person can see score 0.27–0.68.
const MIN_CORRELATION: f32 = 0.2;

#[cfg(test)]
/// Look for the reflection of the object whose matte is `alpha`, outside `object` (its whole
/// region, edge included).
pub fn detect_reflection(img: &Rgb, alpha: &Plane, object: &Mask) -> Option<Reflection> {
    detect_reflection_cancellable(img, alpha, object, &|| false).ok().flatten()
}

/// `detect_reflection`, stopping early (with `Cancelled`) once `cancelled` says so.
pub fn detect_reflection_cancellable(
    img: &Rgb,
    alpha: &Plane,
    object: &Mask,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Option<Reflection>, Cancelled> {
    let found = find(img, alpha, object, cancelled);
    if cancelled() {
        return Err(Cancelled);
    }
    Ok(found)
}

fn find(img: &Rgb, alpha: &Plane, object: &Mask, cancelled: &(dyn Fn() -> bool + Sync)) -> Option<Reflection> {
    let (_, _, bw, bh) = object.bounds()?;
    match coarse::working_step(bw as usize * bh as usize) {
        1 => {
            let found = search(img, alpha, object, cancelled)?;
            unmix_found(img, &found)
        }
        step => coarse::find(img, alpha, object, step, cancelled),
    }
}

/// A reflection's fit at its best mirror axis.
struct Found {
    axis: f32,
    correlation: f32,
    fit: Fit,
}

/// The mirror axis the photo follows best, and the reflection's fit there, if there is one
/// worth a layer.
fn search(img: &Rgb, alpha: &Plane, object: &Mask, cancelled: &(dyn Fn() -> bool + Sync)) -> Option<Found> {
    let (w, h) = (img.w, img.h);
    let solid = &Mask::from_bytes(w as u32, h as u32, alpha.v.iter().map(|&a| (a >= 0.95) as u8).collect())?;
    let (bx, by, bw, bh) = solid.bounds()?;
    // The solid core whose mirror image the fit uses (once, not per candidate axis: eroding a
    // full-size mask is most of this test's time on a large photo).
    let core = &solid.erode(1.0);
    if bw < 4 || bh < 4 {
        return None;
    }
    let bottom = (by + bh) as usize; // first row below the object's lowest solid pixel
    if bottom + 4 >= h {
        return None;
    }
    // The contact line may sit a few pixels off the lowest solid row (a soft or rounded base):
    // try a few axes and keep the one the photo follows best.
    // The axes are tried in parallel; the best is taken in axis order, so the result does not
    // depend on the thread count.
    let scores: Vec<Option<(f32, f32)>> = (-3i32..=3)
        .into_par_iter()
        .map(|offset| {
            if cancelled() {
                return None;
            }
            let axis = bottom as f32 + offset as f32 - 0.5;
            fit_at(img, alpha, core, object, axis, (bx as usize, bw as usize, bh as usize), false)
                .map(|fit| (fit.correlation, axis))
        })
        .collect();
    if cancelled() {
        return None;
    }
    let mut best: Option<(f32, f32)> = None;
    for (c, axis) in scores.into_iter().flatten() {
        if best.as_ref().is_none_or(|(bc, _)| c > *bc) {
            best = Some((c, axis));
        }
    }
    let (correlation, axis) = best?;
    if correlation < MIN_CORRELATION {
        return None;
    }
    let fit = fit_at(img, alpha, core, object, axis, (bx as usize, bw as usize, bh as usize), true)?;
    if correlation < MIN_CORRELATION || fit.mean_opacity < MIN_OPACITY {
        return None;
    }
    Some(Found { axis, correlation, fit })
}

/// The photo with the found reflection unmixed out: `B = (I − a·F) / (1 − a)`.
fn unmix_found(img: &Rgb, found: &Found) -> Option<Reflection> {
    let (w, h) = (img.w, img.h);
    let Found { correlation, fit, .. } = found;
    let correlation = *correlation;
    let mut image = img.clone();
    let mut region = Mask::new(w as u32, h as u32);
    for (&(i, a), f) in fit.opacity.iter().zip(&fit.mirrored) {
        if a <= 0.02 {
            continue;
        }
        region.set((i % w) as u32, (i / w) as u32, true);
        image.px[i] = [0, 1, 2].map(|c| ((img.px[i][c] - a * f[c]) / (1.0 - a)).clamp(0.0, 1.0));
    }
    if region.count() < 50 {
        return None;
    }
    Some(Reflection { image, region, confidence: confidence(correlation, fit.mean_opacity) })
}

/// How sure a reflection is, in [0, 1]: how closely the photo follows the mirrored object's
/// texture, and how opaque the reflection is.
fn confidence(correlation: f32, mean_opacity: f32) -> f32 {
    ((correlation - MIN_CORRELATION) / (1.0 - MIN_CORRELATION) * 0.5 + 0.5).clamp(0.0, 1.0)
        * (mean_opacity / 0.15).min(1.0)
}

struct Fit {
    /// (pixel index, opacity) over the candidate region.
    opacity: Vec<(usize, f32)>,
    /// The fitted opacity at those pixels before the object's soft edge scales it.
    fitted: Vec<f32>,
    /// The mirrored object colour at those pixels.
    mirrored: Vec<[f32; 3]>,
    mean_opacity: f32,
    correlation: f32,
}

/// Fit the reflection's opacity for one mirror axis (a row position between pixels); without
/// `opacity`, only the texture correlation (which centres values locally, so it needs no lit
/// level and skips the membrane solve: it ranks the candidate axes).
#[allow(clippy::too_many_arguments)]
fn fit_at(
    img: &Rgb,
    alpha: &Plane,
    core: &Mask,
    object: &Mask,
    axis: f32,
    (bx, bw, bh): (usize, usize, usize),
    opacity: bool,
) -> Option<Fit> {
    let (w, h) = (img.w, img.h);
    // The candidate region: below the axis, as tall as the object, where the mirrored source
    // is solidly inside the object and the pixel itself is floor.
    let y_start = (axis + 0.5).max(0.0) as usize;
    let y_end = ((axis + 0.5) as usize + bh).min(h);
    let rect = Rect::grown((bx as u32, y_start as u32, bw as u32, (y_end - y_start).max(1) as u32), 12, w, h);
    let (x0, y0, rw, rh) = (rect.x0, rect.y0, rect.w(), rect.h());
    let source = |x: usize, y: usize| -> Option<usize> {
        let sy = (2.0 * axis - y as f32).round();
        if sy < 0.0 || y as f32 <= axis {
            return None;
        }
        Some(sy as usize * w + x)
    };
    // The fit uses the pixels mirroring the object's solid core (`in_region`); the reflection
    // of its soft edge (`in_reach`: mirroring anything of the object) is unmixed too, with the
    // opacity of the core nearby times the edge's own alpha (`coverage`).
    let mut in_region = vec![false; rw * rh];
    let mut in_reach = vec![false; rw * rh];
    let mut mirrored = vec![[0.0f32; 3]; rw * rh];
    let mut coverage = vec![0.0f32; rw * rh];
    for ly in 0..rh {
        for lx in 0..rw {
            let (x, y) = (x0 + lx, y0 + ly);
            if object.get(x as u32, y as u32) {
                continue;
            }
            if let Some(s) = source(x, y) {
                let (sx, sy) = ((s % w) as u32, (s / w) as u32);
                let i = ly * rw + lx;
                in_region[i] = core.get(sx, sy);
                in_reach[i] = object.get(sx, sy) && alpha.v[s] > 0.0;
                if in_reach[i] {
                    mirrored[i] = img.px[s];
                    coverage[i] = if in_region[i] { 1.0 } else { alpha.v[s] };
                }
            }
        }
    }
    let count = in_region.iter().filter(|&&b| b).count();
    if count < 100 {
        return None;
    }
    let in_object: Vec<bool> = (0..rw * rh).map(|i| object.get((x0 + i % rw) as u32, (y0 + i / rw) as u32)).collect();
    // The floor's lit level is read beyond the reflection's soft edge (a gap of `RIM_GAP`): read
    // right at the edge, it is darkened (or tinted) by the reflection itself, and the opacity
    // fitted against it comes out too small (by a third on the synthetic cases).
    let near = Mask::from_bytes(rw as u32, rh as u32, in_reach.iter().map(|&b| b as u8).collect())
        .expect("sizes match")
        .dilate(RIM_GAP);
    let lit_domain: Vec<bool> = (0..rw * rh).map(|i| near.at(i) && !in_object[i]).collect();
    let unusable: Vec<bool> = (0..rw * rh).map(|i| lit_domain[i] || in_object[i]).collect();
    let not_region: Vec<bool> = in_region.iter().map(|&b| !b).collect();
    // Per channel: lit level L, and the local least-squares sums for I − L = a·(F − L), with a
    // linear in the row (a reflection fades with distance from the contact line; a window that
    // took `a` as constant would be biased where it fades fast, at the region's ends).
    // sums[k][i]: windowed means of q, q·t, q·t², p, p·t, with q = (F − L)², p = (I − L)·(F − L)
    // and t the row in window radii.
    let mut sums = vec![vec![0.0f32; rw * rh]; 5];
    let row = |i: usize| (i / rw) as f32 / FIT_RADIUS as f32;
    let (mut cov, mut var_i, mut var_f) = (0.0f64, 0.0f64, 0.0f64);
    #[allow(clippy::needless_range_loop)] // `c` picks the channel of several per-pixel arrays
    for c in 0..3 {
        let plane: Vec<f32> = (0..rw * rh).map(|i| img.px[(y0 + i / rw) * w + x0 + i % rw][c]).collect();
        if !opacity {
            let di: Vec<f32> = (0..rw * rh).map(|i| if in_region[i] { plane[i] } else { 0.0 }).collect();
            let df: Vec<f32> = (0..rw * rh).map(|i| if in_region[i] { mirrored[i][c] } else { 0.0 }).collect();
            accumulate_correlation(&di, &df, &in_region, &not_region, rw, rh, (&mut cov, &mut var_i, &mut var_f));
            continue;
        }
        let outside = masked_mean(&plane, &unusable, rw, rh, 4);
        let lit = membrane_from_rim(&outside, &lit_domain, &unusable, rw, rh);
        let di: Vec<f32> = (0..rw * rh).map(|i| if in_region[i] { plane[i] - lit[i] } else { 0.0 }).collect();
        let df: Vec<f32> = (0..rw * rh).map(|i| if in_region[i] { mirrored[i][c] - lit[i] } else { 0.0 }).collect();
        let p: Vec<f32> = di.iter().zip(&df).map(|(a, b)| a * b).collect();
        let q: Vec<f32> = df.iter().map(|b| b * b).collect();
        let terms: [Vec<f32>; 5] = [
            q.clone(),
            (0..rw * rh).map(|i| q[i] * row(i)).collect(),
            (0..rw * rh).map(|i| q[i] * row(i) * row(i)).collect(),
            p.clone(),
            (0..rw * rh).map(|i| p[i] * row(i)).collect(),
        ];
        for (sum, term) in sums.iter_mut().zip(&terms) {
            for (s, m) in sum.iter_mut().zip(masked_mean(term, &not_region, rw, rh, FIT_RADIUS)) {
                *s += m;
            }
        }
        accumulate_correlation(&di, &df, &in_region, &not_region, rw, rh, (&mut cov, &mut var_i, &mut var_f));
    }
    let correlation = if var_i > 0.0 && var_f > 0.0 { (cov / (var_i * var_f).sqrt()) as f32 } else { 0.0 };
    let mut opacity = Vec::with_capacity(count);
    let mut mirror_out = Vec::with_capacity(count);
    let mut fitted = Vec::with_capacity(count);
    let mut total = 0.0f32;
    for i in 0..rw * rh {
        if !in_reach[i] {
            continue;
        }
        let a = local_linear_opacity(sums.iter().map(|v| v[i] as f64).collect::<Vec<f64>>().as_slice(), row(i) as f64)
            .clamp(0.0, 0.9);
        if in_region[i] {
            total += a;
        }
        opacity.push(((y0 + i / rw) * w + x0 + i % rw, a * coverage[i]));
        fitted.push(a);
        mirror_out.push(mirrored[i]);
    }
    Some(Fit { mean_opacity: total / count as f32, opacity, fitted, mirrored: mirror_out, correlation })
}

/// The opacity at row `t` (in window radii) of the least-squares line `a0 + a1·(t' − t)` through
/// the window's sums (means of q, q·t', q·t'², p, p·t'); the window's constant fit `p / q`
/// where the line is ill-determined (a window holding one or two rows of the region).
fn local_linear_opacity(sums: &[f64], t: f64) -> f32 {
    let (q, qt, qtt, p, pt) = (sums[0], sums[1], sums[2], sums[3], sums[4]);
    if q <= 1e-5 {
        return 0.0;
    }
    // Centre on t.
    let (sqt, sqtt, spt) = (qt - t * q, qtt - 2.0 * t * qt + t * t * q, pt - t * p);
    let det = q * sqtt - sqt * sqt;
    if det <= 1e-3 * q * q {
        return (p / q) as f32;
    }
    ((p * sqtt - sqt * spt) / det) as f32
}

/// The texture test: the photo and the mirrored object, each centred on its local mean, must
/// move together. Adds to the pooled covariance and variances.
fn accumulate_correlation(
    di: &[f32],
    df: &[f32],
    in_region: &[bool],
    not_region: &[bool],
    w: usize,
    h: usize,
    (cov, var_i, var_f): (&mut f64, &mut f64, &mut f64),
) {
    let (mi, mf) = (masked_mean(di, not_region, w, h, 3), masked_mean(df, not_region, w, h, 3));
    for i in 0..w * h {
        if in_region[i] {
            let (a, b) = ((di[i] - mi[i]) as f64, (df[i] - mf[i]) as f64);
            *cov += a * b;
            *var_i += a * a;
            *var_f += b * b;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A textured floor, a textured object standing on it, and optionally its reflection.
    /// `spread`: how far (px) the reflection's opacity reaches beyond the mirrored object's
    /// sides, fading out (a glossy floor blurs a reflection's edge).
    fn scene(strength: f32, spread: usize) -> (Rgb, Rgb, Mask) {
        let (w, h) = (160usize, 140usize);
        let mut floor = Rgb::new(w, h);
        for (i, p) in floor.px.iter_mut().enumerate() {
            let (x, y) = ((i % w) as f32, (i / w) as f32);
            let t = 0.06 * ((x * 0.9).sin() * (y * 1.3).cos());
            *p = [0.55 + t, 0.5 + t, 0.45 + t];
        }
        let solid = Mask::from_fn(w as u32, h as u32, |x, y| (50..110).contains(&x) && (20..70).contains(&y));
        let object_at = |x: usize, y: usize| -> [f32; 3] {
            let v = ((x / 6 + y / 5) % 2) as f32;
            [0.15 + 0.7 * v, 0.3, 0.9 - 0.6 * v]
        };
        let mut img = floor.clone();
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if solid.get(x as u32, y as u32) {
                    img.px[i] = object_at(x, y);
                } else if (70..120).contains(&y) && (50 - spread..110 + spread).contains(&x) {
                    // Mirrored about the line between rows 69 and 70, fading with distance.
                    let outside = (50usize.saturating_sub(x)).max(x.saturating_sub(109)) as f32;
                    let a = strength * (1.0 - (y - 70) as f32 / 60.0) * (1.0 - outside / (spread as f32 + 1.0));
                    let f = object_at(x.clamp(50, 109), 139 - y);
                    img.px[i] = [0, 1, 2].map(|c| a * f[c] + (1.0 - a) * floor.px[i][c]);
                }
            }
        }
        (img, floor, solid)
    }

    fn matte(solid: &Mask) -> Plane {
        Plane {
            w: solid.width() as usize,
            h: solid.height() as usize,
            v: solid.data().iter().map(|&b| b as f32).collect(),
        }
    }

    /// Checks that `r` is the scene's reflection, confidently and nearly all of it; returns the
    /// floor's mean error there before and after unmixing.
    fn found_and_unmixed(r: &Reflection, img: &Rgb, floor: &Rgb) -> (f32, f32) {
        assert!(r.confidence > 0.5, "confidence {}", r.confidence);
        let truth = Mask::from_fn(160, 140, |x, y| (52..108).contains(&x) && (74..115).contains(&y));
        let hit = truth.intersect(&r.region).count();
        assert!(hit as f32 > 0.9 * truth.count() as f32, "found {hit} of {}", truth.count());
        let err = |a: &Rgb| {
            (0..a.px.len())
                .filter(|&i| truth.at(i))
                .map(|i| (0..3).map(|c| (a.px[i][c] - floor.px[i][c]).abs()).sum::<f32>() / 3.0)
                .sum::<f32>()
                / truth.count() as f32
        };
        (err(img), err(&r.image))
    }

    #[test]
    fn finds_a_reflection_and_gives_back_the_floor() {
        let (img, floor, solid) = scene(0.4, 0);
        let r = detect_reflection(&img, &matte(&solid), &solid.dilate(2.0)).expect("a reflection");
        let (before, after) = found_and_unmixed(&r, &img, &floor);
        assert!(after < 0.02 && after < before / 5.0, "mean error {before} → {after}");
    }

    #[test]
    fn a_reflection_fitted_on_a_coarser_grid_gives_back_the_floor_at_full_size() {
        // What a large photo gets: the axis and opacity found on a grid twice as coarse, the
        // floor unmixed with the full-size object's colours.
        let (img, floor, solid) = scene(0.4, 0);
        let r = coarse::find(&img, &matte(&solid), &solid.dilate(2.0), 2, &|| false).expect("a reflection");
        let (before, after) = found_and_unmixed(&r, &img, &floor);
        assert!(after < 0.03 && after < before / 4.0, "mean error {before} → {after}");
    }

    #[test]
    fn no_reflection_no_detection() {
        let (img, _, solid) = scene(0.0, 0);
        assert!(detect_reflection(&img, &matte(&solid), &solid.dilate(2.0)).is_none());
    }

    #[test]
    fn a_shadow_is_not_a_reflection() {
        let (mut img, _, solid) = scene(0.0, 0);
        for y in 70..100 {
            for x in 45..115 {
                let p = &mut img.px[y * 160 + x];
                *p = p.map(|v| v * 0.5);
            }
        }
        assert!(detect_reflection(&img, &matte(&solid), &solid.dilate(2.0)).is_none());
    }

    /// A reflection whose edge the floor blurs: the lit level is read beyond that soft edge, so
    /// the floor comes back level, not darker or brighter where the reflection was.
    #[test]
    fn a_soft_edged_reflection_leaves_no_ghost() {
        let (img, floor, solid) = scene(0.4, 3);
        let r = detect_reflection(&img, &matte(&solid), &solid.dilate(2.0)).expect("a reflection");
        let core = Mask::from_fn(160, 140, |x, y| (52..108).contains(&x) && (72..110).contains(&y));
        let (mut signed, mut abs) = (0.0f32, 0.0f32);
        for i in (0..r.image.px.len()).filter(|&i| core.at(i)) {
            for c in 0..3 {
                signed += r.image.px[i][c] - floor.px[i][c];
                abs += (r.image.px[i][c] - floor.px[i][c]).abs();
            }
        }
        let n = 3.0 * core.count() as f32;
        assert!(
            (signed / n).abs() < 0.0003 && abs / n < 0.002,
            "mean error {} (signed), {} (absolute)",
            signed / n,
            abs / n
        );
    }
}
