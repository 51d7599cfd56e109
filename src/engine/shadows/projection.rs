//! A cast shadow's shape from its object: on a flat floor under a distant light, the shadow of
//! an object standing on the floor is its silhouette mapped from the contact line by a shear and
//! a scale (the light's direction), blurred more the higher the casting point (the penumbra
//! grows with the distance to the floor), times one darkness per channel. Fitting those few
//! numbers to the whole shadow averages the floor's texture over thousands of pixels, where a
//! local mean follows its blotches. The contact shadow under the base (the floor there sees
//! little sky) is fitted with it, as a soft dark ellipse along the contact line. Where the
//! photo's shadow is not such a projection (an object lying down, a second light, a curved
//! floor), or where the model leaves more than the floor's texture unexplained, the caller
//! keeps the local estimate.

use rayon::prelude::*;

use crate::raster::box_blur3;
use crate::raster::Mask;
use crate::raster::{deficit_luminance as lum, masked_mean, median};

/// The model is trusted as it fits: where it puts a shadow it must leave little more than the
/// lit floor's own texture (its smoothed residual's excess variance there, as a share of the
/// photo's own variance there, gives its quality). A shadow that is not one projection — two
/// lights, an object lying down — or a projection where there is no shadow leaves a lot, and
/// keeps the local estimate. Parts of the detected region the model puts no shadow on (a dark
/// patch of floor taken for shadow) are judged per pixel, not here, and so are local misfits:
/// the quality only keeps out models that are wrong as a whole (the bundled sample's ball
/// scores 0.32, the orange's backdrop −1.0). At this quality the model has half its say, and
/// it may extend the shadow beyond the detected region.
const MIN_QUALITY: f32 = 0.5;
/// The fit qualities over which the model's say rises from none to whole, centred on
/// `MIN_QUALITY`. A switch there was a cliff: an object's edge a few pixels different moved an
/// ambient-occlusion case's quality 0.29 → 0.51 and its effect 5.5 dB (wide tuning half:
/// effect PSNR 26.42 → 26.63 with the ramp, the classic set 30.68 → 30.70).
const QUALITY_RAMP: f32 = 0.3;

/// How much say a model of fit quality `quality` has in the shading, in [0, 1].
fn model_trust(quality: f32) -> f32 {
    ((quality - MIN_QUALITY) / QUALITY_RAMP + 0.5).clamp(0.0, 1.0)
}

/// Where the model's log-deficit exceeds this, it claims a shadow.
const SUPPORT: f32 = 0.05;
/// Where the model's smoothed residual exceeds about this many times its spread on the lit
/// floor, something the model does not describe is there and the local estimate wins.
const AGREEMENT: f32 = 3.0;

/// Crop pixels outside the region to relight too, with their shading.
pub(super) type Extension = Vec<(usize, [f32; 3])>;

/// The shading (log-deficit per channel) at the `todo` pixels of a crop: the local estimate
/// `local`, replaced by the fitted projection where that describes the shadow; and, if
/// `extend`, the crop pixels outside `region` the model shades, with their shading; and how well
/// the projection explains the shadow (`None` when none could be fitted). See [`fit`] for the
/// other arguments.
#[allow(clippy::too_many_arguments)]
pub(super) fn refine(
    silhouette: &Mask,
    origin: (usize, usize),
    (rw, rh): (usize, usize),
    todo: &[usize],
    local: Vec<[f32; 3]>,
    raw: &[[f32; 3]],
    usable: &[bool],
    region: &[bool],
    extend: bool,
) -> (Vec<[f32; 3]>, Extension, Option<f32>) {
    let mut smooth = vec![0.0f32; rw * rh];
    for (&i, d) in todo.iter().zip(&local) {
        smooth[i] = lum(*d);
    }
    let Some((projection, model, residual)) = fit(silhouette, origin, (rw, rh), &smooth, raw, usable, region) else {
        return (local, Vec::new(), None);
    };
    let p = &projection;
    log::debug!(
        "shadow model: light ({:.2}, {:.2}) from row {:.1}, penumbra {:.3}/px, darkness {:?}, quality {:.2}",
        p.kx,
        p.ky,
        p.base,
        p.soft,
        p.k,
        p.quality
    );
    let trust = model_trust(projection.quality);
    if trust <= 0.0 {
        return (local, Vec::new(), Some(projection.quality));
    }
    let agreement = (AGREEMENT * projection.spread).max(0.01);
    // Beyond the detected region, floor the model puts a shadow on (a far end, a faint tail
    // detection stopped short of) is relit by the model where the photo agrees. There the
    // deficit is measured against a lit level the shadow itself pulls down, so the photo may
    // show less darkening than the model: twice the tolerance that way.
    let extra = if extend && projection.quality >= MIN_QUALITY {
        (0..rw * rh)
            .filter(|&i| {
                !region[i]
                    && usable[i]
                    && lum(model[i]) > SUPPORT
                    && residual[i] < agreement
                    && residual[i] > -2.0 * agreement
            })
            .map(|i| (i, model[i]))
            .collect()
    } else {
        Vec::new()
    };
    let shading = todo
        .iter()
        .zip(&local)
        .map(|(&i, loc)| {
            let m = model[i];
            // 0 where a trusted model leaves only texture (the model, free of the floor's
            // blotches), 1 where it leaves more or is not trusted.
            let r = residual[i];
            let t = 1.0 - trust * (-r * r / (2.0 * agreement * agreement)).exp();
            [0, 1, 2].map(|c| m[c] + t * (loc[c] - m[c]))
        })
        .collect();
    (shading, extra, Some(projection.quality))
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
    /// 1 − the excess variance of the model's smoothed residual where it claims a shadow (over
    /// the lit floor's) as a share of the photo's variance there: 1 for a model that leaves
    /// only texture.
    pub quality: f32,
    /// The spread of the model's smoothed residual on the lit floor (the texture's).
    pub spread: f32,
}

/// Coverage of the projected silhouette (unblurred) at each pixel of the `rw × rh` crop at
/// `(x0, y0)`, sampled every `step` pixels, and (if `heights`) the casting point's height.
#[allow(clippy::too_many_arguments)]
fn project(
    object: &Mask,
    (x0, y0): (usize, usize),
    (rw, rh): (usize, usize),
    step: usize,
    kx: f32,
    ky: f32,
    base: f32,
    heights: bool,
) -> (Vec<f32>, Vec<f32>) {
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

/// The darknesses `[k, kc]` of a cast shadow covering `b` and (if given) a contact shadow
/// covering `e`, minimising Σ ρ(d + ln(1 − k·b) + ln(1 − kc·e)) over `idx`, with ρ Huber's loss
/// of width `delta` (squared within it, linear beyond: a floor's odd stone does not drag the
/// darkness); Gauss-Newton with reweighting from k = kc = 0.5. Returns them and the loss.
fn fit_pair(d: &[f32], b: &[f32], e: Option<&[f32]>, idx: &[usize], delta: f32) -> ([f32; 2], f64) {
    let (mut k, mut kc) = (0.5f32, if e.is_some() { 0.5f32 } else { 0.0 });
    let ev = |i: usize| e.map_or(0.0, |e| e[i]);
    let loss = |r: f32| if r.abs() <= delta { r * r } else { delta * (2.0 * r.abs() - delta) };
    for _ in 0..6 {
        let (mut g0, mut g1, mut h00, mut h01, mut h11) = (0.0f64, 0.0f64, 0.0f64, 0.0f64, 0.0f64);
        for &i in idx {
            let (bi, ei) = (b[i], ev(i));
            let r = d[i] + ln_lit(k, bi) + ln_lit(kc, ei);
            let w = if r.abs() <= delta { 1.0 } else { delta / r.abs() };
            let j0 = -bi / (1.0 - k * bi).max(0.05);
            let j1 = -ei / (1.0 - kc * ei).max(0.05);
            g0 += (w * r * j0) as f64;
            g1 += (w * r * j1) as f64;
            h00 += (w * j0 * j0) as f64;
            h01 += (w * j0 * j1) as f64;
            h11 += (w * j1 * j1) as f64;
        }
        if e.is_some() && h11 > 1e-9 {
            let det = h00 * h11 - h01 * h01;
            if det.abs() < 1e-12 {
                break;
            }
            k = (k - ((h11 * g0 - h01 * g1) / det) as f32).clamp(0.0, 0.95);
            kc = (kc - ((h00 * g1 - h01 * g0) / det) as f32).clamp(0.0, 0.95);
        } else if h00 > 1e-12 {
            k = (k - (g0 / h00) as f32).clamp(0.0, 0.95);
        } else {
            break;
        }
    }
    let cost = idx.iter().map(|&i| loss(d[i] + ln_lit(k, b[i]) + ln_lit(kc, ev(i))) as f64).sum::<f64>();
    ([k, kc], cost)
}

/// How many distinct lights the coarse search hands on to be refined and compared.
const SEEDS: usize = 4;
/// The penumbra's blur radii (px) precomputed for each light; the radius wanted at a pixel is
/// interpolated between them.
const RADII: [usize; 8] = [0, 1, 2, 3, 5, 8, 12, 18];

/// A light's projected silhouette over the crop, sampled every `step` pixels and blurred at
/// each of `RADII` (in pixels; on a coarser grid, to the nearest whole grid step), and the
/// casting point's height at each sample.
struct Shape {
    step: usize,
    rw: usize,
    gw: usize,
    height: Vec<f32>,
    levels: Vec<Vec<f32>>,
}

impl Shape {
    #[allow(clippy::too_many_arguments)]
    fn new(
        object: &Mask,
        origin: (usize, usize),
        (rw, rh): (usize, usize),
        step: usize,
        kx: f32,
        ky: f32,
        base: f32,
    ) -> Self {
        let (cover, height) = project(object, origin, (rw, rh), step, kx, ky, base, true);
        let (gw, gh) = (rw.div_ceil(step), rh.div_ceil(step));
        let levels =
            RADII.par_iter().map(|&r| box_blur3(&cover, gw, gh, (r as f32 / step as f32).round() as usize)).collect();
        Shape { step, rw, gw, height, levels }
    }

    /// The shadow's coverage at crop pixel `i` (on this shape's grid) with a penumbra of radius
    /// 1 + height·`soft`.
    fn coverage(&self, i: usize, soft: f32) -> f32 {
        let g = (i / self.rw / self.step) * self.gw + (i % self.rw) / self.step;
        let want = 1.0 + self.height[g] * soft;
        let k = RADII.iter().rposition(|&r| r as f32 <= want).unwrap_or(0);
        if k + 1 >= RADII.len() {
            return self.levels[k][g];
        }
        let t = ((want - RADII[k] as f32) / (RADII[k + 1] - RADII[k]) as f32).clamp(0.0, 1.0);
        self.levels[k][g] * (1.0 - t) + self.levels[k + 1][g] * t
    }
}

/// Fit a projected, blurred silhouette (and a contact shadow) to a shadow in the `rw × rh` crop
/// at `(x0, y0)`. `silhouette`: the object's solid part in the whole image (what casts it);
/// `smooth`: the local estimate of the luminance log-deficit inside `region` (crop pixels);
/// `raw`: each pixel's own log-deficit per channel, counted where `usable`. Returns the
/// projection and the model's log-deficit per channel at every crop pixel.
#[allow(clippy::too_many_arguments)]
pub fn fit(
    silhouette: &Mask,
    (x0, y0): (usize, usize),
    (rw, rh): (usize, usize),
    smooth: &[f32],
    raw: &[[f32; 3]],
    usable: &[bool],
    region: &[bool],
) -> Option<(Projection, Vec<[f32; 3]>, Vec<f32>)> {
    let (_, by, _, bh) = silhouette.bounds()?;
    // The contact line, in pixel-centre coordinates: the silhouette is the matte's half-covered
    // pixels, so its edge lies somewhere in the half pixel below the last row's centre or the
    // half pixel above the next row's: half a pixel below that centre on average (the centre
    // itself would put every shadow half a pixel high).
    let base = (by + bh) as f32 - 0.5;
    // Search the light against the local estimate (texture already averaged): every candidate
    // on a coarse grid, then the best few refined on a finer one.
    let grid = |step: usize| {
        let (gw, gh) = (rw.div_ceil(step), rh.div_ceil(step));
        let at = |g: usize| ((g / gw) * step).min(rh - 1) * rw + ((g % gw) * step).min(rw - 1);
        let target: Vec<f32> = (0..gw * gh)
            .map(|g| {
                let i = at(g);
                if region[i] {
                    1.0 - (-smooth[i]).exp()
                } else {
                    0.0
                }
            })
            .collect();
        let counted: Vec<bool> = (0..gw * gh).map(|g| usable[at(g)]).collect();
        (gw, gh, target, counted)
    };
    let score_on =
        |(gw, gh, target, counted): &(usize, usize, Vec<f32>, Vec<bool>), step: usize, kx: f32, ky: f32| -> f64 {
            let (cover, _) = project(silhouette, (x0, y0), (rw, rh), step, kx, ky, base, false);
            let cover = box_blur3(&cover, *gw, *gh, 1);
            let (mut ts, mut ss) = (0.0f64, 0.0f64);
            for g in 0..gw * gh {
                if counted[g] {
                    ts += (target[g] * cover[g]) as f64;
                    ss += (cover[g] * cover[g]) as f64;
                }
            }
            // Least-squares darkness, and the error it removes (the larger, the better the shape).
            if ss > 1e-6 {
                ts * ts / ss
            } else {
                0.0
            }
        };
    let coarse = grid(12);
    let fine = grid(4);
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
    let mut scored: Vec<(f64, f32, f32)> =
        candidates.par_iter().map(|&(kx, ky)| (score_on(&coarse, 12, kx, ky), kx, ky)).collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    // A shadow the detection took only in part, or a dark patch of floor beside it, can make a
    // wrong light score best on the local estimate: the few best distinct lights are refined,
    // and the one that explains the photo's own deficits best is kept.
    let mut seeds: Vec<(f32, f32)> = Vec::new();
    for &(score, kx, ky) in &scored {
        if score <= 0.0 || seeds.len() == SEEDS {
            break;
        }
        let distinct = seeds
            .iter()
            .all(|&(sx, sy)| sy.signum() != ky.signum() || (sx - kx).abs() > 0.3 || (sy / ky).ln().abs() > 0.45);
        if distinct {
            seeds.push((kx, ky));
        }
    }
    if seeds.is_empty() {
        return None;
    }
    // Refine each on the step-4 grid.
    let refine_light = |(kx, ky): (f32, f32)| -> (f32, f32) {
        pattern_search((kx, ky), (0.08, ky.abs() * 0.12), 4, -score_on(&fine, 4, kx, ky), |kx, ky| {
            -score_on(&fine, 4, kx, ky)
        })
    };
    let lights: Vec<(f32, f32)> = seeds.par_iter().map(|&l| refine_light(l)).collect();
    // Every other pixel each way is plenty for a handful of numbers; every fourth for choices.
    let idx: Vec<usize> = (0..rw * rh).filter(|&i| usable[i] && (i % rw) % 2 == 0 && (i / rw) % 2 == 0).collect();
    let sparse: Vec<usize> = idx.iter().copied().filter(|&i| (i % rw) % 4 == 0 && (i / rw) % 4 == 0).collect();
    let raw_lum: Vec<f32> = raw.iter().map(|&d| lum(d)).collect();
    // The refined seeds are compared against each pixel's own deficit, on shapes sampled every
    // other pixel (which holds the sparse set).
    let shapes: Vec<Shape> =
        lights.par_iter().map(|&(kx, ky)| Shape::new(silhouette, (x0, y0), (rw, rh), 2, kx, ky, base)).collect();
    // The floor's texture makes outliers (a dark stone under the shadow): residuals beyond
    // about 1.5 robust spreads count linearly, not squared.
    let delta = {
        let mut b = vec![0.0f32; rw * rh];
        for &i in &sparse {
            b[i] = shapes[0].coverage(i, 0.035);
        }
        let (kk, _) = fit_pair(&raw_lum, &b, None, &sparse, f32::INFINITY);
        let mut r: Vec<f32> = sparse.iter().map(|&i| (raw_lum[i] + ln_lit(kk[0], b[i])).abs()).collect();
        (1.5 * 1.4826 * median(&mut r)).max(0.02)
    };
    // How well a shape with penumbra growth `soft` (and the contact shadow, if any, fitted
    // jointly) explains the photo's deficits at the sparse pixels.
    let cost = |shape: &Shape, contact: Option<&[f32]>, soft: f32| -> f64 {
        let mut b = vec![0.0f32; rw * rh];
        for &i in &sparse {
            b[i] = shape.coverage(i, soft);
        }
        fit_pair(&raw_lum, &b, contact, &sparse, delta).1
    };
    // The penumbra's growth: the best of a few.
    let soft_for = |shape: &Shape, contact: Option<&[f32]>| -> (f64, f32) {
        [0.0f32, 0.01, 0.02, 0.035, 0.05, 0.075, 0.11]
            .iter()
            .map(|&soft| (cost(shape, contact, soft), soft))
            .fold((f64::INFINITY, 0.0), |a, b| if b.0 < a.0 { b } else { a })
    };
    let fits: Vec<(f64, f32)> = shapes.par_iter().map(|sh| soft_for(sh, None)).collect();
    let pick = (0..shapes.len()).min_by(|&a, &b| fits[a].0.total_cmp(&fits[b].0)).unwrap_or(0);
    // The chosen light, refined against the photo's own deficits too (the local estimate's
    // score placed it only roughly: its target is the detected region, which may miss part of
    // the shadow or take in a dark patch beside it).
    let ((kx, ky), (best, soft)) = (lights[pick], fits[pick]);
    let (kx, ky) = pattern_search((kx, ky), (0.04, ky.abs() * 0.06), 2, best, |kx, ky| {
        cost(&Shape::new(silhouette, (x0, y0), (rw, rh), 2, kx, ky, base), None, soft)
    });
    // Full resolution: penumbra, contact shadow and darkness against each pixel's own deficit.
    let shape = &Shape::new(silhouette, (x0, y0), (rw, rh), 1, kx, ky, base);
    let soft0 = soft_for(shape, None).1;
    let b0: Vec<f32> = (0..rw * rh).map(|i| shape.coverage(i, soft0)).collect();
    let contact = fit_contact(silhouette, (x0, y0), (rw, rh), base, &raw_lum, &b0, &sparse, delta);
    let soft = soft_for(shape, contact.as_deref()).1;
    let b: Vec<f32> = (0..rw * rh).map(|i| shape.coverage(i, soft)).collect();
    let (mut k, mut kc) = ([0.0f32; 3], [0.0f32; 3]);
    for c in 0..3 {
        let d: Vec<f32> = raw.iter().map(|v| v[c]).collect();
        let (pair, _) = fit_pair(&d, &b, contact.as_deref(), &idx, delta);
        (k[c], kc[c]) = (pair[0], pair[1]);
    }
    let model: Vec<[f32; 3]> = (0..rw * rh)
        .map(|i| {
            [0, 1, 2].map(|c| {
                let touch = contact.as_ref().map_or(0.0, |e| -ln_lit(kc[c], e[i]));
                -ln_lit(k[c], b[i]) + touch
            })
        })
        .collect();
    // The model's own residual, smoothed a little (texture averages out): on the lit floor it
    // is the texture's spread; where the model claims a shadow, a model that describes it
    // leaves no more.
    let (quality, residual, spread) = {
        let not_usable: Vec<bool> = usable.iter().map(|&u| !u).collect();
        let res: Vec<f32> = (0..rw * rh).map(|i| raw_lum[i] - lum(model[i])).collect();
        let residual = masked_mean(&res, &not_usable, rw, rh, 4);
        let photo = masked_mean(&raw_lum, &not_usable, rw, rh, 4);
        let (mut lit, mut claimed, mut seen) = (Moments::default(), Moments::default(), Moments::default());
        for i in (0..rw * rh).filter(|&i| usable[i]) {
            if lum(model[i]) > SUPPORT {
                claimed.add(residual[i] as f64);
                seen.add(photo[i] as f64);
            } else if !region[i] && b[i] < 0.01 {
                lit.add(residual[i] as f64);
            }
        }
        let quality = 1.0 - (claimed.mean_square() - lit.mean_square()) / seen.variance().max(1e-9);
        (quality as f32, residual, lit.mean_square().sqrt() as f32)
    };
    Some((Projection { kx, ky, base, soft, k, quality, spread }, model, residual))
}

/// A light `(kx, ky)` lowering `cost` (which is `at_start` there): each round tries the eight
/// neighbours `span` away (in parallel; a light never crosses to the other side of the base or
/// under |ky| 0.05), moves to the best that improves, and halves the span.
fn pattern_search(
    start: (f32, f32),
    mut span: (f32, f32),
    rounds: usize,
    at_start: f64,
    cost: impl Fn(f32, f32) -> f64 + Sync,
) -> (f32, f32) {
    let ((mut kx, mut ky), mut best) = (start, at_start);
    for _ in 0..rounds {
        let around: Vec<(f32, f32)> = [
            (-1.0f32, -1.0f32),
            (-1.0, 0.0),
            (-1.0, 1.0),
            (0.0, -1.0),
            (0.0, 1.0),
            (1.0, -1.0),
            (1.0, 0.0),
            (1.0, 1.0),
        ]
        .iter()
        .map(|&(dx, dy)| (kx + dx * span.0, ky + dy * span.1))
        .filter(|&(_, cy)| cy.abs() >= 0.05 && cy.signum() == ky.signum())
        .collect();
        let costs: Vec<(f64, f32, f32)> = around.par_iter().map(|&(cx, cy)| (cost(cx, cy), cx, cy)).collect();
        for (c, cx, cy) in costs {
            if c < best {
                (best, kx, ky) = (c, cx, cy);
            }
        }
        span = (span.0 * 0.5, span.1 * 0.5);
    }
    (kx, ky)
}

/// Running sums for a mean square and a variance.
#[derive(Default)]
struct Moments {
    n: f64,
    sum: f64,
    sum_sq: f64,
}

impl Moments {
    fn add(&mut self, v: f64) {
        self.n += 1.0;
        self.sum += v;
        self.sum_sq += v * v;
    }
    fn mean_square(&self) -> f64 {
        self.sum_sq / self.n.max(1.0)
    }
    fn variance(&self) -> f64 {
        self.mean_square() - (self.sum / self.n.max(1.0)).powi(2)
    }
}

/// A contact shadow: a soft dark ellipse along the object's contact line (the floor right under
/// and beside the object sees little sky). Its centre, half-width, half-height and softness are
/// searched, each candidate's darkness fitted jointly with the cast shadow's (coverage `cast`)
/// to the luminance log-deficit `lum` at the `sample` pixels. Returned (as coverage over the
/// crop) only if it removes most of what the cast shadow alone leaves where it lies.
#[allow(clippy::too_many_arguments)]
fn fit_contact(
    object: &Mask,
    (x0, y0): (usize, usize),
    (rw, rh): (usize, usize),
    base: f32,
    lum: &[f32],
    cast: &[f32],
    sample: &[usize],
    delta: f32,
) -> Option<Vec<f32>> {
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
    // The floor under an object's wider parts sees little sky too: the ellipse is centred on
    // the base or on the whole object, and as wide as the base or as the object.
    let (base_cx, base_half) = ((xl + xr) as f32 / 2.0 - x0 as f32, (xr - xl) as f32 / 2.0 + 1.0);
    let (body_cx, body_half) = ((bx as f32 + bw as f32 / 2.0) - x0 as f32, bw as f32 / 2.0);
    let cy = base - y0 as f32;
    let mut shapes: Vec<(f32, f32, f32, usize)> = Vec::new();
    for (cx, half) in [0.7f32, 1.0, 1.3]
        .map(|f| (base_cx, f * base_half))
        .into_iter()
        .chain([0.6f32, 0.8, 1.0].map(|f| (body_cx, f * body_half)))
    {
        for hh in [4.0f32, 7.0, 11.0] {
            for r in [2usize, 4] {
                shapes.push((cx, half, hh, r));
            }
        }
    }
    // Work in a box around the base that holds every candidate.
    let reach = shapes.iter().map(|s| s.1).fold(0.0f32, f32::max) + 12.0;
    let (lo, hi) = (base_cx.min(body_cx), base_cx.max(body_cx));
    let bx0 = (lo - reach).max(0.0) as usize;
    let bx1 = ((hi + reach).max(0.0) as usize).min(rw);
    let by0 = (cy - 40.0).max(0.0) as usize;
    let by1 = ((cy + 40.0).max(0.0) as usize).min(rh);
    if bx1 <= bx0 + 4 || by1 <= by0 + 4 {
        return None;
    }
    let (w, h) = (bx1 - bx0, by1 - by0);
    let in_box = |i: usize| (bx0..bx1).contains(&(i % rw)) && (by0..by1).contains(&(i / rw));
    if sample.iter().filter(|&&i| in_box(i)).count() < 20 {
        return None;
    }
    // Candidates are compared inside the box only (box-local copies of the data).
    let box_lum: Vec<f32> = (0..w * h).map(|j| lum[(by0 + j / w) * rw + bx0 + j % w]).collect();
    let box_cast: Vec<f32> = (0..w * h).map(|j| cast[(by0 + j / w) * rw + bx0 + j % w]).collect();
    let box_sample: Vec<usize> =
        sample.iter().filter(|&&i| in_box(i)).map(|&i| (i / rw - by0) * w + i % rw - bx0).collect();
    let ellipse_in_box = |(cx, half, hh, r): (f32, f32, f32, usize)| -> Vec<f32> {
        let ell: Vec<f32> = (0..w * h)
            .map(|j| {
                let (x, y) = ((bx0 + j % w) as f32 - cx, (by0 + j / w) as f32 - cy);
                let (u, v) = (x / half, y / hh);
                (u * u + v * v <= 1.0) as u8 as f32
            })
            .collect();
        box_blur3(&ell, w, h, r)
    };
    let ellipse = |shape| -> Vec<f32> {
        let e = ellipse_in_box(shape);
        let mut full = vec![0.0f32; rw * rh];
        for j in 0..w * h {
            full[(by0 + j / w) * rw + bx0 + j % w] = e[j];
        }
        full
    };
    let (best_cost, shape) = shapes
        .par_iter()
        .map(|&shape| (fit_pair(&box_lum, &box_cast, Some(&ellipse_in_box(shape)), &box_sample, delta).1, shape))
        .reduce_with(|a, b| if b.0 < a.0 { b } else { a })?;
    let e = ellipse(shape);
    // It must remove most of what the cast shadow alone leaves where it lies (a floor's blotch
    // near the base is explained a little by any dark ellipse over it; a contact shadow almost
    // wholly), and help overall.
    let (alone, _) = fit_pair(lum, cast, None, sample, delta);
    let alone_cost = fit_pair(&box_lum, &box_cast, None, &box_sample, delta).1;
    let (pair, _) = fit_pair(lum, cast, Some(&e), sample, delta);
    let core: Vec<usize> = sample.iter().copied().filter(|&i| e[i] > 0.3).collect();
    let before: f64 = core.iter().map(|&i| (lum[i] + ln_lit(alone[0], cast[i])).powi(2) as f64).sum();
    let after: f64 =
        core.iter().map(|&i| (lum[i] + ln_lit(pair[0], cast[i]) + ln_lit(pair[1], e[i])).powi(2) as f64).sum();
    if core.is_empty() || after > 0.7 * before || pair[1] <= 0.05 || best_cost > 0.995 * alone_cost {
        return None;
    }
    Some(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::box_mean;
    use crate::raster::deficit_luminance;

    #[test]
    fn the_models_say_rises_with_its_fit_without_a_step() {
        assert_eq!(model_trust(MIN_QUALITY - QUALITY_RAMP / 2.0 - 0.01), 0.0);
        assert!((model_trust(MIN_QUALITY) - 0.5).abs() < 1e-6);
        assert_eq!(model_trust(MIN_QUALITY + QUALITY_RAMP / 2.0 + 0.01), 1.0);
        let steps: Vec<f32> = (0..=100).map(|k| model_trust(k as f32 / 100.0)).collect();
        assert!(steps.windows(2).all(|p| p[1] >= p[0] && p[1] - p[0] < 0.05), "not a smooth rise: {steps:?}");
    }

    const W: usize = 240;
    const H: usize = 220;

    /// An upright ellipse standing on y = 150 (its base).
    fn object() -> Mask {
        Mask::from_fn(W as u32, H as u32, |x, y| {
            let (dx, dy) = ((x as f32 - 100.0) / 30.0, (y as f32 - 100.0) / 50.0);
            dx * dx + dy * dy <= 1.0
        })
    }

    /// The floor's own blotches, in log units: a few smooth bumps 10–20 px across.
    fn blotches(x: usize, y: usize) -> f32 {
        let (x, y) = (x as f32, y as f32);
        0.06 * (x / 7.0).sin() * (y / 5.0).cos() + 0.04 * ((x + 2.0 * y) / 11.0).sin()
    }

    /// Silhouette, smoothed and raw log-deficits, usable pixels, region.
    type Scene = (Mask, Vec<f32>, Vec<[f32; 3]>, Vec<bool>, Vec<bool>);

    /// Log-deficits (shading plus texture) of a shadow cast towards the camera and to the right
    /// (kx 0.6, ky −0.4), slightly blurred, darkness 0.5 (bluish: 0.45, 0.5, 0.55).
    fn scene() -> Scene {
        let inner = object();
        // The caller leaves the object, grown by 2 px, out of every estimate.
        let obj = inner.dilate(2.0);
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
        (inner, truth, raw, usable, region)
    }

    #[test]
    fn finds_the_light_and_keeps_the_floors_blotches_out_of_the_shading() {
        let (obj, truth, raw, usable, region) = scene();
        // A local estimate: the luminance deficit averaged over 7×7 (it follows the blotches).
        let lum: Vec<f32> = raw.iter().map(|&d| deficit_luminance(d)).collect();
        let smooth: Vec<f32> =
            box_mean(&lum, W, H, 3).v.iter().zip(&region).map(|(&v, &r)| if r { v } else { 0.0 }).collect();
        let (p, model, _) = fit(&obj, (0, 0), (W, H), &smooth, &raw, &usable, &region).expect("a shadow is there");
        assert!((p.kx - 0.6).abs() < 0.1 && (p.ky + 0.4).abs() < 0.04, "light {} {}", p.kx, p.ky);
        assert!((p.k[1] - 0.5).abs() < 0.06 && p.k[0] < p.k[2], "darkness {:?}", p.k);
        assert!(p.quality > MIN_QUALITY, "quality {}", p.quality);
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
        let region: Vec<bool> = (0..W * H)
            .map(|i| {
                let (x, y) = (i % W, i / W);
                !obj.at(i) && (130..200).contains(&y) && (40..200).contains(&x)
            })
            .collect();
        let raw: Vec<[f32; 3]> = (0..W * H)
            .map(|i| {
                let (x, y) = (i % W, i / W);
                let d = if region[i] && (x / 12 + y / 12) % 2 == 0 { 0.5 } else { 0.0 };
                [d; 3]
            })
            .collect();
        let usable: Vec<bool> = (0..W * H).map(|i| !obj.at(i)).collect();
        let todo: Vec<usize> = (0..W * H).filter(|&i| region[i]).collect();
        let local: Vec<[f32; 3]> = todo.iter().map(|&i| raw[i]).collect();
        let (out, extra, _) = refine(&obj, (0, 0), (W, H), &todo, local.clone(), &raw, &usable, &region, true);
        assert!(extra.is_empty());
        assert_eq!(out, local);
    }
}
