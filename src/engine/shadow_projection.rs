//! A cast shadow's shape from its object: on a flat floor under a distant light, the shadow of
//! an object standing on the floor is its silhouette mapped from the contact line by a shear and
//! a scale (the light's direction), blurred more the higher the casting point (the penumbra
//! grows with the distance to the floor), times one darkness per channel. Fitting those few
//! numbers to the whole shadow averages the floor's texture over thousands of pixels, where a
//! local mean follows its blotches. The contact shadow under the base (the floor there sees
//! little sky) is fitted with it, as a soft dark ellipse along the contact line. Where the
//! photo's shadow is not such a projection (an object lying down, a second light, a curved
//! floor) or where it disagrees with the local estimate, the caller keeps the local estimate.

use rayon::prelude::*;

use super::mask::Mask;
use super::effects::deficit_luminance as lum;
use super::raster::box_blur3;

/// How far the caller's object region is grown beyond the object (px).
const GROWN: f32 = 2.0;
/// The model is used only if it explains at least this share of the local estimate's variance
/// over the shadow (a shadow that is not one projection — two lights, an object lying down —
/// scores low, and keeps the local estimate).
const MIN_EXPLAINED: f32 = 0.6;
/// Where the model and the local estimate differ by more than about this many times the lit
/// floor's own spread of local means, the local estimate wins: something the model does not
/// describe is there. On a smooth floor the local estimate is nearly exact and stays; on a
/// busy one its blotches are what the model removes.
const AGREEMENT: f32 = 3.0;

/// The shading (log-deficit per channel) at the `todo` pixels of a crop: the local estimate
/// `local`, replaced by the fitted projection where that describes the shadow and agrees with
/// the local estimate. `noise`: the spread of the lit floor's smoothed log-luminance (how much
/// the local estimate follows texture). See [`fit`] for the other arguments.
#[allow(clippy::too_many_arguments)]
pub(super) fn refine(
    object: &Mask,
    origin: (usize, usize),
    (rw, rh): (usize, usize),
    todo: &[usize],
    local: Vec<[f32; 3]>,
    raw: &[[f32; 3]],
    usable: &[bool],
    region: &[bool],
    noise: f32,
) -> Vec<[f32; 3]> {
    let agreement = (AGREEMENT * noise).clamp(0.01, 0.1);
    let mut smooth = vec![0.0f32; rw * rh];
    for (&i, d) in todo.iter().zip(&local) {
        smooth[i] = lum(*d);
    }
    let Some((projection, model)) = fit(object, origin, (rw, rh), &smooth, raw, usable, region) else { return local };
    if projection.explained < MIN_EXPLAINED {
        return local;
    }
    todo.iter()
        .zip(&local)
        .map(|(&i, loc)| {
            let m = model[i];
            let diff = lum(*loc) - lum(m);
            // 0 where they agree (the model, free of the floor's blotches), 1 where they do not.
            let t = 1.0 - (-diff * diff / (2.0 * agreement * agreement)).exp();
            [0, 1, 2].map(|c| m[c] + t * (loc[c] - m[c]))
        })
        .collect()
}

/// The fitted projection: for a floor pixel at height `hgt = (base − y) / ky` above the floor
/// the casting point is `(x − hgt·kx, base − hgt)`.
#[derive(Clone, Copy, Debug)]
pub struct Projection {
    pub kx: f32,
    pub ky: f32,
    pub base: f32,
    /// Penumbra radius per pixel of height.
    pub soft: f32,
    /// Darkness per channel (the shading is `1 − k·coverage`).
    pub k: [f32; 3],
    /// Share of the local estimate's variance over the shadow that the model explains.
    pub explained: f32,
}

/// Coverage of the projected silhouette (unblurred) at each pixel of the `rw × rh` crop at
/// `(x0, y0)`, sampled every `step` pixels, and (if `heights`) the casting point's height.
#[allow(clippy::too_many_arguments)]
fn project(object: &Mask, (x0, y0): (usize, usize), (rw, rh): (usize, usize), step: usize, kx: f32, ky: f32, base: f32, heights: bool) -> (Vec<f32>, Vec<f32>) {
    let (gw, gh) = (rw.div_ceil(step), rh.div_ceil(step));
    let mut cover = vec![0.0f32; gw * gh];
    let mut height = if heights { vec![0.0f32; gw * gh] } else { Vec::new() };
    let (ow, oh) = (object.width() as i64, object.height() as i64);
    for gy in 0..gh {
        let y = (y0 + gy * step) as f32;
        let hgt = (base - y) / ky;
        if hgt <= 0.0 {
            continue;
        }
        if heights {
            height[gy * gw..(gy + 1) * gw].fill(hgt);
        }
        let sy = (base - hgt).round() as i64;
        if sy < 0 || sy >= oh {
            continue;
        }
        for gx in 0..gw {
            let sx = ((x0 + gx * step) as f32 - hgt * kx).round() as i64;
            if sx >= 0 && sx < ow && object.get(sx as u32, sy as u32) {
                cover[gy * gw + gx] = 1.0;
            }
        }
    }
    (cover, height)
}

/// ln of the share of light a shadow of darkness `k` leaves where it covers `b` (kept above
/// 0.05 so a bad guess never takes the log of nothing).
#[inline]
fn ln_lit(k: f32, b: f32) -> f32 {
    (1.0 - k * b).max(0.05).ln()
}

/// The darkness `k` minimising Σ (d + ln(1 − k·b))² over `idx` (Gauss-Newton from k = 0.5; the
/// sum is smooth and unimodal in k), and that sum.
fn fit_darkness(d: &[f32], b: &[f32], idx: &[usize]) -> (f32, f64) {
    let mut k = 0.5f32;
    for _ in 0..5 {
        let (mut g, mut hs) = (0.0f64, 0.0f64);
        for &i in idx {
            let q = (1.0 - k * b[i]).max(0.05);
            let r = d[i] + ln_lit(k, b[i]);
            let dr = -b[i] / q;
            g += (r * dr) as f64;
            hs += (dr * dr) as f64;
        }
        if hs < 1e-12 {
            break;
        }
        k = (k - (g / hs) as f32).clamp(0.0, 0.95);
    }
    let cost = idx.iter().map(|&i| (d[i] + ln_lit(k, b[i])).powi(2) as f64).sum::<f64>();
    (k, cost)
}

/// Fit a projected, blurred silhouette (and a contact shadow) to a shadow in the `rw × rh` crop
/// at `(x0, y0)`. `object`: the object's region in the whole image, grown by `GROWN`;
/// `smooth`: the local estimate of the luminance log-deficit inside `region` (crop pixels);
/// `raw`: each pixel's own log-deficit per channel, counted where `usable`. Returns the
/// projection and the model's log-deficit per channel at every crop pixel.
#[allow(clippy::too_many_arguments)]
pub fn fit(
    object: &Mask,
    (x0, y0): (usize, usize),
    (rw, rh): (usize, usize),
    smooth: &[f32],
    raw: &[[f32; 3]],
    usable: &[bool],
    region: &[bool],
) -> Option<(Projection, Vec<[f32; 3]>)> {
    // The caller's object region is grown a little; the silhouette is the object itself.
    let eroded = object.erode(GROWN);
    let object = if eroded.is_empty() { object } else { &eroded };
    let (_, by, _, bh) = object.bounds()?;
    let base = (by + bh) as f32 - 1.0;
    // Search the light against the local estimate (texture already averaged): every candidate
    // on a coarse grid, then the best refined on a finer one.
    let grid = |step: usize| {
        let (gw, gh) = (rw.div_ceil(step), rh.div_ceil(step));
        let at = |g: usize| ((g / gw) * step).min(rh - 1) * rw + ((g % gw) * step).min(rw - 1);
        let target: Vec<f32> = (0..gw * gh).map(|g| { let i = at(g); if region[i] { 1.0 - (-smooth[i]).exp() } else { 0.0 } }).collect();
        let counted: Vec<bool> = (0..gw * gh).map(|g| usable[at(g)]).collect();
        (gw, gh, target, counted)
    };
    let score_on = |(gw, gh, target, counted): &(usize, usize, Vec<f32>, Vec<bool>), step: usize, kx: f32, ky: f32| -> f64 {
        let (cover, _) = project(object, (x0, y0), (rw, rh), step, kx, ky, base, false);
        let cover = box_blur3(&cover, *gw, *gh, 1);
        let (mut ts, mut ss) = (0.0f64, 0.0f64);
        for g in 0..gw * gh {
            if counted[g] {
                ts += (target[g] * cover[g]) as f64;
                ss += (cover[g] * cover[g]) as f64;
            }
        }
        // Least-squares darkness, and the error it removes (the larger, the better the shape).
        if ss > 1e-6 { ts * ts / ss } else { 0.0 }
    };
    let coarse = grid(12);
    let (fine, finest) = (grid(4), grid(2));
    let mut candidates = Vec::new();
    for side in [1.0f32, -1.0] {
        let mut ky = 0.08f32;
        while ky <= 0.8 {
            let mut kx = -1.6f32;
            while kx <= 1.6 {
                candidates.push((kx, side * ky));
                kx += 0.15;
            }
            ky *= 1.25;
        }
    }
    let best = candidates
        .par_iter()
        .map(|&(kx, ky)| (score_on(&coarse, 12, kx, ky), kx, ky))
        .reduce(|| (0.0f64, 0.0f32, 0.0f32), |a, b| if b.0 > a.0 { b } else { a });
    if best.0 <= 0.0 {
        return None;
    }
    // Refine around the best, on finer grids as the steps shrink.
    let (mut kx, mut ky) = (best.1, best.2);
    let mut span = (0.08f32, ky.abs() * 0.12);
    for round in 0..5 {
        let score = |kx: f32, ky: f32| if round < 3 { score_on(&fine, 4, kx, ky) } else { score_on(&finest, 2, kx, ky) };
        let mut local = (score(kx, ky), kx, ky);
        for dx in [-1.0f32, 0.0, 1.0] {
            for dy in [-1.0f32, 0.0, 1.0] {
                let (cx, cy) = (kx + dx * span.0, ky + dy * span.1);
                if cy.abs() < 0.05 || cy.signum() != ky.signum() {
                    continue;
                }
                let s = score(cx, cy);
                if s > local.0 {
                    local = (s, cx, cy);
                }
            }
        }
        (kx, ky) = (local.1, local.2);
        span = (span.0 * 0.5, span.1 * 0.5);
    }
    // Full resolution: penumbra and darkness against each pixel's own deficit.
    let (cover, height) = project(object, (x0, y0), (rw, rh), 1, kx, ky, base, true);
    let radii = [0usize, 1, 2, 3, 5, 8, 12, 18];
    let levels: Vec<Vec<f32>> = radii.par_iter().map(|&r| box_blur3(&cover, rw, rh, r)).collect();
    let coverage_at = |i: usize, soft: f32| -> f32 {
        let want = 1.0 + height[i] * soft;
        let k = radii.iter().rposition(|&r| r as f32 <= want).unwrap_or(0);
        if k + 1 >= radii.len() {
            return levels[k][i];
        }
        let t = ((want - radii[k] as f32) / (radii[k + 1] - radii[k]) as f32).clamp(0.0, 1.0);
        levels[k][i] * (1.0 - t) + levels[k + 1][i] * t
    };
    // Every other pixel each way is plenty for a handful of numbers.
    let idx: Vec<usize> = (0..rw * rh).filter(|&i| usable[i] && (i % rw) % 2 == 0 && (i / rw) % 2 == 0).collect();
    // The cast shadow, then the contact shadow in what it leaves, then the cast again without
    // the contact shadow's darkening.
    let cast_fit = |data: &[[f32; 3]]| {
        // The penumbra's growth is chosen on a sparser sample (every fourth pixel each way).
        let sparse: Vec<usize> = idx.iter().copied().filter(|&i| (i % rw) % 4 == 0 && (i / rw) % 4 == 0).collect();
        let lum: Vec<f32> = sparse.iter().map(|&i| lum(data[i])).collect();
        let all: Vec<usize> = (0..sparse.len()).collect();
        let mut best = (f64::INFINITY, 0.0f32);
        for soft in [0.0f32, 0.01, 0.02, 0.035, 0.05, 0.075, 0.11] {
            let b: Vec<f32> = sparse.iter().map(|&i| coverage_at(i, soft)).collect();
            let (_, cost) = fit_darkness(&lum, &b, &all);
            if cost < best.0 {
                best = (cost, soft);
            }
        }
        let soft = best.1;
        let b: Vec<f32> = (0..rw * rh).map(|i| coverage_at(i, soft)).collect();
        let k = [0, 1, 2].map(|c| {
            let d: Vec<f32> = data.iter().map(|v| v[c]).collect();
            fit_darkness(&d, &b, &idx).0
        });
        (soft, b, k)
    };
    let (_, b0, k0) = cast_fit(raw);
    let left: Vec<[f32; 3]> = raw.iter().zip(&b0).map(|(d, &v)| [0, 1, 2].map(|c| d[c] + ln_lit(k0[c], v))).collect();
    let contact = fit_contact(object, (x0, y0), (rw, rh), base, &left, usable);
    let without: Vec<[f32; 3]> = match &contact {
        Some((e, kc)) => raw.iter().zip(e).map(|(d, &v)| [0, 1, 2].map(|c| d[c] + ln_lit(kc[c], v))).collect(),
        None => raw.to_vec(),
    };
    let (soft, b, k) = cast_fit(&without);
    let model: Vec<[f32; 3]> = (0..rw * rh)
        .map(|i| {
            [0, 1, 2].map(|c| {
                let cast = -ln_lit(k[c], b[i]);
                let touch = contact.as_ref().map_or(0.0, |(e, kc)| -ln_lit(kc[c], e[i]));
                cast + touch
            })
        })
        .collect();
    // How much of the local estimate's variance over the shadow the model explains.
    let inside: Vec<usize> = (0..rw * rh).filter(|&i| region[i]).collect();
    let n = inside.len().max(1) as f64;
    let mean = inside.iter().map(|&i| smooth[i] as f64).sum::<f64>() / n;
    let sst: f64 = inside.iter().map(|&i| (smooth[i] as f64 - mean).powi(2)).sum();
    let sse: f64 = inside.iter().map(|&i| (smooth[i] - lum(model[i])).powi(2) as f64).sum();
    let explained = (1.0 - sse / sst.max(1e-12)) as f32;
    Some((Projection { kx, ky, base, soft, k, explained }, model))
}

/// A contact shadow: a soft dark ellipse along the object's contact line (the floor right under
/// and beside its base sees little sky). Fitted to `left` (the log-deficit the cast shadow does
/// not explain) near the base: its half-width, half-height and softness by search, its darkness
/// per channel by least squares. `None` if it explains nothing.
fn fit_contact(object: &Mask, (x0, y0): (usize, usize), (rw, rh): (usize, usize), base: f32, left: &[[f32; 3]], usable: &[bool]) -> Option<(Vec<f32>, [f32; 3])> {
    let (bx, by, bw, bh) = object.bounds()?;
    // The base's centre and the object's width over its lowest quarter.
    let low = (by + bh * 3 / 4)..(by + bh);
    let (mut xl, mut xr) = (u32::MAX, 0u32);
    for y in low {
        for x in bx..bx + bw {
            if object.get(x, y) {
                xl = xl.min(x);
                xr = xr.max(x);
            }
        }
    }
    if xl > xr {
        return None;
    }
    let (cx, half) = ((xl + xr) as f32 / 2.0 - x0 as f32, (xr - xl) as f32 / 2.0 + 1.0);
    let cy = base - y0 as f32;
    // Work in a box around the base.
    let bx0 = (cx - 1.6 * half - 24.0).max(0.0) as usize;
    let bx1 = ((cx + 1.6 * half + 24.0).max(0.0) as usize).min(rw);
    let by0 = (cy - 40.0).max(0.0) as usize;
    let by1 = ((cy + 40.0).max(0.0) as usize).min(rh);
    if bx1 <= bx0 + 4 || by1 <= by0 + 4 {
        return None;
    }
    let (w, h) = (bx1 - bx0, by1 - by0);
    let lum: Vec<f32> = (0..w * h).map(|j| super::effects::deficit_luminance(left[(by0 + j / w) * rw + bx0 + j % w])).collect();
    let idx: Vec<usize> = (0..w * h).filter(|&j| usable[(by0 + j / w) * rw + bx0 + j % w] && (j % w) % 2 == 0 && (j / w) % 2 == 0).collect();
    if idx.len() < 20 {
        return None;
    }
    let sparse: Vec<usize> = idx.iter().copied().filter(|&j| (j % w) % 4 == 0 && (j / w) % 4 == 0).collect();
    let shapes: Vec<(f32, f32, usize)> = [0.7f32, 1.0, 1.3]
        .iter()
        .flat_map(|&fw| [4.0f32, 8.0, 13.0].into_iter().flat_map(move |hh| [2usize, 4].into_iter().map(move |r| (fw, hh, r))))
        .collect();
    let best = shapes
        .par_iter()
        .map(|&(fw, hh, r)| {
            let ell: Vec<f32> = (0..w * h)
                .map(|j| {
                    let (x, y) = ((bx0 + j % w) as f32 - cx, (by0 + j / w) as f32 - cy);
                    let (u, v) = (x / (fw * half), y / hh);
                    (u * u + v * v <= 1.0) as u8 as f32
                })
                .collect();
            let e = box_blur3(&ell, w, h, r);
            (fit_darkness(&lum, &e, &sparse).1, e)
        })
        .reduce_with(|a, b| if b.0 < a.0 { b } else { a });
    let (_, e) = best?;
    // It must explain much of what is left in the box, and most of it where it lies (a floor's
    // blotch near the base is explained a little by any dark ellipse over it; a contact shadow
    // almost wholly).
    let (cost, zero) = (fit_darkness(&lum, &e, &idx).1, idx.iter().map(|&j| (lum[j] as f64).powi(2)).sum::<f64>());
    let core: Vec<usize> = idx.iter().copied().filter(|&j| e[j] > 0.3).collect();
    let (k_core, left_core) = fit_darkness(&lum, &e, &core);
    let before: f64 = core.iter().map(|&j| (lum[j] as f64).powi(2)).sum();
    if cost > 0.8 * zero || left_core > 0.5 * before || k_core <= 0.0 {
        return None;
    }
    let kc = [0, 1, 2].map(|c| {
        let d: Vec<f32> = (0..w * h).map(|j| left[(by0 + j / w) * rw + bx0 + j % w][c]).collect();
        fit_darkness(&d, &e, &idx).0
    });
    let mut full = vec![0.0f32; rw * rh];
    for j in 0..w * h {
        full[(by0 + j / w) * rw + bx0 + j % w] = e[j];
    }
    Some((full, kc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::effects::deficit_luminance;
    use crate::engine::raster::box_mean;

    const W: usize = 240;
    const H: usize = 220;

    /// An upright ellipse standing on y = 150 (its base), grown by `GROWN` as the caller's is.
    fn object() -> Mask {
        Mask::from_fn(W as u32, H as u32, |x, y| {
            let (dx, dy) = ((x as f32 - 100.0) / 30.0, (y as f32 - 100.0) / 50.0);
            dx * dx + dy * dy <= 1.0
        })
        .dilate(GROWN)
    }

    /// The floor's own blotches, in log units: a few smooth bumps 10–20 px across.
    fn blotches(x: usize, y: usize) -> f32 {
        let (x, y) = (x as f32, y as f32);
        0.06 * (x / 7.0).sin() * (y / 5.0).cos() + 0.04 * ((x + 2.0 * y) / 11.0).sin()
    }

    /// Log-deficits (shading plus texture) of a shadow cast towards the camera and to the right
    /// (kx 0.6, ky −0.4), slightly blurred, darkness 0.5 (bluish: 0.45, 0.5, 0.55).
    fn scene() -> (Mask, Vec<f32>, Vec<[f32; 3]>, Vec<bool>, Vec<bool>) {
        let obj = object();
        let inner = obj.erode(GROWN);
        let (kx, ky, base) = (0.6f32, -0.4f32, 150.0f32);
        let mut cover = vec![0.0f32; W * H];
        for y in 0..H {
            let hgt = (base - y as f32) / ky;
            if hgt <= 0.0 {
                continue;
            }
            for x in 0..W {
                let (sx, sy) = ((x as f32 - hgt * kx).round(), (base - hgt).round());
                if sx >= 0.0 && sy >= 0.0 && (sx as usize) < W && (sy as usize) < H && inner.get(sx as u32, sy as u32) {
                    cover[y * W + x] = 1.0;
                }
            }
        }
        let cover = box_blur3(&cover, W, H, 1);
        let truth: Vec<f32> = cover.iter().map(|&c| -(1.0 - 0.5 * c).ln()).collect();
        let raw: Vec<[f32; 3]> = (0..W * H)
            .map(|i| {
                let t = blotches(i % W, i / W);
                [0.45f32, 0.5, 0.55].map(|k| -(1.0 - k * cover[i]).ln() - t)
            })
            .collect();
        let usable: Vec<bool> = (0..W * H).map(|i| !obj.at(i)).collect();
        let region: Vec<bool> = (0..W * H).map(|i| usable[i] && cover[i] > 0.02).collect();
        (obj, truth, raw, usable, region)
    }

    #[test]
    fn finds_the_light_and_keeps_the_floors_blotches_out_of_the_shading() {
        let (obj, truth, raw, usable, region) = scene();
        // A local estimate: the luminance deficit averaged over 7×7 (it follows the blotches).
        let lum: Vec<f32> = raw.iter().map(|&d| deficit_luminance(d)).collect();
        let smooth: Vec<f32> = box_mean(&lum, W, H, 3).v.iter().zip(&region).map(|(&v, &r)| if r { v } else { 0.0 }).collect();
        let (p, model) = fit(&obj, (0, 0), (W, H), &smooth, &raw, &usable, &region).expect("a shadow is there");
        assert!((p.kx - 0.6).abs() < 0.1 && (p.ky + 0.4).abs() < 0.04, "light {} {}", p.kx, p.ky);
        assert!((p.k[1] - 0.5).abs() < 0.06 && p.k[0] < p.k[2], "darkness {:?}", p.k);
        assert!(p.explained > MIN_EXPLAINED, "explained {}", p.explained);
        let (mut e_model, mut e_local, mut n) = (0.0f32, 0.0f32, 0.0f32);
        for i in 0..W * H {
            if region[i] {
                e_model += (model[i][1] - truth[i]).abs();
                e_local += (smooth[i] - truth[i]).abs();
                n += 1.0;
            }
        }
        assert!(e_model < 0.5 * e_local, "shading error: model {} local {}", e_model / n, e_local / n);
    }

    #[test]
    fn a_darkening_no_projection_explains_keeps_the_local_estimate() {
        let obj = object();
        // Dark squares in a checkerboard beside the base: no light casts that.
        let region: Vec<bool> = (0..W * H).map(|i| { let (x, y) = (i % W, i / W); !obj.at(i) && (130..200).contains(&y) && (40..200).contains(&x) }).collect();
        let raw: Vec<[f32; 3]> = (0..W * H).map(|i| { let (x, y) = (i % W, i / W); let d = if region[i] && (x / 12 + y / 12) % 2 == 0 { 0.5 } else { 0.0 }; [d; 3] }).collect();
        let usable: Vec<bool> = (0..W * H).map(|i| !obj.at(i)).collect();
        let todo: Vec<usize> = (0..W * H).filter(|&i| region[i]).collect();
        let local: Vec<[f32; 3]> = todo.iter().map(|&i| raw[i]).collect();
        let out = refine(&obj, (0, 0), (W, H), &todo, local.clone(), &raw, &usable, &region, 0.05);
        assert_eq!(out, local);
    }
}
