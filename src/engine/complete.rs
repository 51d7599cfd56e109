//! Background completion: exemplar-based fill with multi-scale PatchMatch nearest-neighbour
//! fields and EM voting (Wexler, Shechtman & Irani 2007; Barnes et al. 2009 — the family behind
//! Content-Aware Fill). Coarse levels settle structure (lines, seams, horizon), fine levels copy
//! texture. The search stays in a context band around the hole.

use rayon::prelude::*;

use super::rng::Rng;
use super::Cancelled;
use crate::raster::Rgb;
use crate::raster::{Mask, Rect};

#[derive(Clone, Debug)]
/// How the background is filled: PatchMatch with EM voting over an image pyramid.
pub struct CompletionParams {
    /// Patch side (odd).
    pub patch: usize,
    /// EM iterations (PatchMatch + vote) at the coarsest level; halves towards the finest.
    pub em_iterations: usize,
    /// PatchMatch sweeps per EM iteration.
    pub pm_sweeps: usize,
    /// The hole is brought down to about this many pixels across at the coarsest level.
    pub coarse_hole_size: usize,
    /// Context band around the hole, as a multiple of the hole's larger side (at least 48 px).
    pub context: f32,
    /// Weight scale of the very last vote (see `vote`).
    pub final_softness: f32,
}

impl Default for CompletionParams {
    fn default() -> Self {
        Self { patch: 7, em_iterations: 8, pm_sweeps: 3, coarse_hole_size: 24, context: 1.0, final_softness: 1e6 }
    }
}

#[cfg(test)]
/// Fill `hole` in `img`. Pixels outside the hole are returned unchanged.
pub fn complete(
    img: &Rgb,
    hole: &Mask,
    params: &CompletionParams,
    rng: &Rng,
    progress: &mut dyn FnMut(f32),
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Rgb, Cancelled> {
    complete_avoiding(img, hole, &Mask::new(img.w as u32, img.h as u32), params, rng, progress, cancelled)
}

/// Fill `hole` in `img`, copying texture from anywhere but `avoid`: pixels that are context
/// (patches overlapping them still match against them) but not trustworthy enough to copy, such
/// as a relit shadow, whose texture is an estimate. Pixels outside the hole are returned
/// unchanged.
pub fn complete_avoiding(
    img: &Rgb,
    hole: &Mask,
    avoid: &Mask,
    params: &CompletionParams,
    rng: &Rng,
    progress: &mut dyn FnMut(f32),
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Rgb, Cancelled> {
    let Some(bounds) = hole.bounds() else { return Ok(img.clone()) };
    let band = ((bounds.2.max(bounds.3) as f32 * params.context) as usize).max(48);
    let rect = Rect::grown(bounds, band, img.w, img.h);
    let (x0, y0, rw, rh) = (rect.x0, rect.y0, rect.w(), rect.h());
    let roi = img.crop(x0, y0, rw, rh);
    let mut roi_hole = vec![false; rw * rh];
    let mut roi_avoid = vec![false; rw * rh];
    for y in 0..rh {
        for x in 0..rw {
            roi_hole[y * rw + x] = hole.get((x0 + x) as u32, (y0 + y) as u32);
            roi_avoid[y * rw + x] = avoid.get((x0 + x) as u32, (y0 + y) as u32);
        }
    }
    let filled = fill(roi, roi_hole, roi_avoid, params, rng, progress, cancelled)?;
    let mut out = img.clone();
    for y in 0..rh {
        let dst = (y0 + y) * img.w + x0;
        out.px[dst..dst + rw].copy_from_slice(&filled.px[y * rw..(y + 1) * rw]);
    }
    Ok(out)
}

/// One pyramid level.
struct Level {
    img: Rgb,
    hole: Vec<bool>,
    avoid: Vec<bool>,
}

fn fill(
    img: Rgb,
    hole: Vec<bool>,
    avoid: Vec<bool>,
    params: &CompletionParams,
    rng: &Rng,
    progress: &mut dyn FnMut(f32),
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Rgb, Cancelled> {
    let check = || if cancelled() { Err(Cancelled) } else { Ok(()) };
    let r = params.patch / 2;
    let levels = pyramid(Level { img, hole, avoid }, params);
    let n_levels = levels.len();
    // Work units per level ∝ pixels × iterations, for progress.
    let iters: Vec<usize> = (0..n_levels)
        .map(|l| {
            let from_coarsest = n_levels - 1 - l;
            (params.em_iterations >> from_coarsest.min(3)).max(2)
        })
        .collect();
    let work: Vec<f32> = (0..n_levels).map(|l| (levels[l].img.w * levels[l].img.h) as f32 * iters[l] as f32).collect();
    let total_work: f32 = work.iter().sum();
    let mut done_work = 0.0f32;

    let mut nnf: Option<Vec<(u32, u32)>> = None;
    let mut current: Option<Rgb> = None;
    for l in (0..n_levels).rev() {
        let level = &levels[l];
        let (w, h) = (level.img.w, level.img.h);
        check()?;
        let geo = Geometry::new(w, h, &level.hole, &level.avoid, r);
        check()?;
        if geo.sources.is_empty() {
            // Nothing to copy from (the hole covers the context): diffuse instead.
            current = Some(diffuse_fill(&level.img, &level.hole));
            nnf = None;
            continue;
        }
        let mut lrng = rng.fork(l as u64);
        let (mut est, mut field) =
            initial_estimate(level, &geo, current.as_ref().zip(nnf.as_ref()), r, &mut lrng, cancelled)?;
        check()?;
        let mut dist = field_distances(&est, &geo, &field, r, cancelled);
        check()?;
        let search_radius = if l == n_levels - 1 { w.max(h) } else { 6 * params.patch };
        if current.is_some() {
            // Copy the fine level's own pixels through the upsampled field right away, instead of
            // starting from the blurry enlargement of the coarse result.
            est = vote(&est, &level.hole, &geo, &field, &dist, r, 1.0, cancelled);
            check()?;
            dist = field_distances(&est, &geo, &field, r, cancelled);
            check()?;
        }
        for it in 0..iters[l] {
            check()?;
            for sweep in 0..params.pm_sweeps {
                let seed = lrng.next_u64();
                patchmatch_sweep(
                    &est,
                    &geo,
                    &mut field,
                    &mut dist,
                    r,
                    search_radius,
                    (it + sweep) % 2 == 1,
                    seed,
                    cancelled,
                );
            }
            check()?;
            let last = l == 0 && it + 1 == iters[l];
            est = vote(
                &est,
                &level.hole,
                &geo,
                &field,
                &dist,
                r,
                if last { params.final_softness } else { 1.0 },
                cancelled,
            );
            check()?;
            done_work += work[l] / iters[l] as f32;
            progress((done_work / total_work).min(1.0));
        }
        current = Some(est);
        nnf = Some(geo.scatter(&field, w, h));
    }
    Ok(current.expect("the finest level was filled"))
}

/// Halve the image (and its hole and avoid maps) until the hole is about `coarse_hole_size`
/// across, keeping room for patches; finest level first.
fn pyramid(finest: Level, params: &CompletionParams) -> Vec<Level> {
    let hole_extent = {
        let m =
            Mask::from_bytes(finest.img.w as u32, finest.img.h as u32, finest.hole.iter().map(|&b| b as u8).collect())
                .expect("sizes match");
        let (_, _, w, h) = m.bounds().unwrap_or((0, 0, 1, 1));
        w.max(h) as usize
    };
    let mut levels = vec![finest];
    loop {
        let last = levels.last().expect("at least one level");
        let extent = hole_extent >> (levels.len() - 1);
        if extent <= params.coarse_hole_size || last.img.w.min(last.img.h) / 2 < 6 * params.patch {
            break;
        }
        let img = last.img.half();
        let (w2, h2) = (img.w, img.h);
        let mut hole = vec![false; w2 * h2];
        let mut avoid = vec![false; w2 * h2];
        for y in 0..last.img.h {
            for x in 0..last.img.w {
                let (i, j) = (y * last.img.w + x, (y / 2) * w2 + x / 2);
                hole[j] |= last.hole[i];
                avoid[j] |= last.avoid[i];
            }
        }
        levels.push(Level { img, hole, avoid });
    }
    levels
}

/// A level's starting estimate and field: the coarser level's solution (bilinear, hole pixels
/// only) with its field upsampled, or at the coarsest level the onion-peel fill and a random field.
fn initial_estimate(
    level: &Level,
    geo: &Geometry,
    coarser: Option<(&Rgb, &Vec<(u32, u32)>)>,
    r: usize,
    lrng: &mut Rng,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<(Rgb, Vec<(u32, u32)>), Cancelled> {
    let (w, h) = (level.img.w, level.img.h);
    let Some((prev, prev_nnf)) = coarser else {
        let est = onion_peel_fill(&level.img, &level.hole, geo, r, cancelled)?;
        let field = geo.targets.iter().map(|_| geo.sources[lrng.below(geo.sources.len())]).collect();
        return Ok((est, field));
    };
    let field = upsample_nnf(prev_nnf, prev.w, prev.h, geo, lrng);
    if cancelled() {
        return Err(Cancelled);
    }
    let mut est = level.img.clone();
    est.px.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        if cancelled() {
            return;
        }
        for (x, px) in row.iter_mut().enumerate() {
            if level.hole[y * w + x] {
                *px = prev.sample_for(x, y, w, h);
            }
        }
    });
    if cancelled() {
        return Err(Cancelled);
    }
    Ok((est, field))
}

/// Which patch centres need a match (targets) and which may be copied from (sources).
struct Geometry {
    w: usize,
    h: usize,
    /// Centres whose patch overlaps the hole.
    targets: Vec<(u32, u32)>,
    /// Index into `targets` per pixel, or `u32::MAX`.
    target_index: Vec<u32>,
    /// Centres whose whole patch is known and inside the image.
    sources: Vec<(u32, u32)>,
    valid: Vec<bool>,
}

impl Geometry {
    /// Targets are the centres whose patch overlaps the hole; sources those whose whole patch
    /// is inside the image, off the hole and off `avoid` — unless avoiding it would leave fewer
    /// sources than targets, when `avoid` is ignored (a poor source beats none).
    fn new(w: usize, h: usize, hole: &[bool], avoid: &[bool], r: usize) -> Self {
        let near_hole = square_dilate(hole, w, h, r);
        let near_avoid = square_dilate(avoid, w, h, r);
        let mut targets = Vec::new();
        let mut target_index = vec![u32::MAX; w * h];
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                if near_hole[i] {
                    target_index[i] = targets.len() as u32;
                    targets.push((x as u32, y as u32));
                }
            }
        }
        let inside = |x: usize, y: usize| x >= r && y >= r && x + r < w && y + r < h;
        let pick = |skip_avoid: bool| -> Vec<(u32, u32)> {
            let mut v = Vec::new();
            for y in 0..h {
                for x in 0..w {
                    let i = y * w + x;
                    if !near_hole[i] && (!skip_avoid || !near_avoid[i]) && inside(x, y) {
                        v.push((x as u32, y as u32));
                    }
                }
            }
            v
        };
        let mut sources = pick(true);
        if sources.len() < targets.len() {
            sources = pick(false);
        }
        let mut valid = vec![false; w * h];
        for &(x, y) in &sources {
            valid[y as usize * w + x as usize] = true;
        }
        Self { w, h, targets, target_index, sources, valid }
    }

    /// The field as a full grid (for upsampling to the next level).
    fn scatter(&self, field: &[(u32, u32)], w: usize, h: usize) -> Vec<(u32, u32)> {
        let mut out = vec![(u32::MAX, u32::MAX); w * h];
        for (k, &(tx, ty)) in self.targets.iter().enumerate() {
            out[ty as usize * w + tx as usize] = field[k];
        }
        out
    }
}

/// `m` grown by `r` in every direction (a (2r+1)² square): separable maximum.
fn square_dilate(m: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
    let mut horiz = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            if m[y * w + x] {
                for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                    horiz[y * w + xx] = true;
                }
            }
        }
    }
    let mut out = vec![false; w * h];
    for y in 0..h {
        for x in 0..w {
            if horiz[y * w + x] {
                for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                    out[yy * w + x] = true;
                }
            }
        }
    }
    out
}

/// The patch distance of every target to its current match.
/// A cancelled call returns early with meaningless values; the caller checks and discards them.
fn field_distances(
    est: &Rgb,
    geo: &Geometry,
    field: &[(u32, u32)],
    r: usize,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Vec<f32> {
    geo.targets
        .par_iter()
        .zip(field)
        .map(|(&(tx, ty), &(sx, sy))| if cancelled() { 0.0 } else { patch_distance(est, tx, ty, sx, sy, r, f32::MAX) })
        .collect()
}

/// Sum of squared differences between the patch at target (tx, ty) — coordinates clamped to
/// the image — and the source patch at (sx, sy), stopping early once over `cutoff`.
#[inline]
fn patch_distance(img: &Rgb, tx: u32, ty: u32, sx: u32, sy: u32, r: usize, cutoff: f32) -> f32 {
    let (w, h) = (img.w as isize, img.h as isize);
    let r = r as isize;
    let (tx, ty, sx, sy) = (tx as isize, ty as isize, sx as isize, sy as isize);
    let inside = tx >= r && ty >= r && tx + r < w && ty + r < h;
    let mut d = 0.0f32;
    for dy in -r..=r {
        let srow = ((sy + dy) * w) as usize;
        let ty2 = if inside { ty + dy } else { (ty + dy).clamp(0, h - 1) };
        let trow = (ty2 * w) as usize;
        for dx in -r..=r {
            let tx2 = if inside { tx + dx } else { (tx + dx).clamp(0, w - 1) };
            let a = img.px[trow + tx2 as usize];
            let b = img.px[srow + (sx + dx) as usize];
            let (e0, e1, e2) = (a[0] - b[0], a[1] - b[1], a[2] - b[2]);
            d += e0 * e0 + e1 * e1 + e2 * e2;
        }
        if d > cutoff {
            return d;
        }
    }
    d
}

/// One PatchMatch sweep (propagation + random search), in parallel over horizontal bands; each
/// band propagates only within itself so bands never read what another band writes.
#[allow(clippy::too_many_arguments)]
fn patchmatch_sweep(
    img: &Rgb,
    geo: &Geometry,
    field: &mut [(u32, u32)],
    dist: &mut [f32],
    r: usize,
    search_radius: usize,
    reverse: bool,
    seed: u64,
    cancelled: &(dyn Fn() -> bool + Sync),
) {
    let n = geo.targets.len();
    // A fixed band count (not the thread count) keeps results identical on any machine.
    let bands = 16;
    let per = n.div_ceil(bands).max(64);
    let field_chunks = field.par_chunks_mut(per);
    let dist_chunks = dist.par_chunks_mut(per);
    field_chunks.zip(dist_chunks).enumerate().for_each(|(b, (f, d))| {
        if cancelled() {
            return;
        }
        let base = b * per;
        let mut rng = Rng::new(seed).fork(b as u64);
        let len = f.len();
        let order: Box<dyn Iterator<Item = usize>> = if reverse { Box::new((0..len).rev()) } else { Box::new(0..len) };
        let step: isize = if reverse { 1 } else { -1 };
        for (step_count, k) in order.enumerate() {
            if step_count % 1024 == 1023 && cancelled() {
                return;
            }
            let (tx, ty) = geo.targets[base + k];
            let mut best = f[k];
            let mut best_d = d[k];
            let try_candidate = |sx: i64, sy: i64, best: &mut (u32, u32), best_d: &mut f32| {
                if sx < 0 || sy < 0 || sx as usize >= geo.w || sy as usize >= geo.h {
                    return;
                }
                let (sx, sy) = (sx as u32, sy as u32);
                if !geo.valid[sy as usize * geo.w + sx as usize] || (sx, sy) == *best {
                    return;
                }
                let dd = patch_distance(img, tx, ty, sx, sy, r, *best_d);
                if dd < *best_d {
                    *best_d = dd;
                    *best = (sx, sy);
                }
            };
            // Propagation from the horizontal and vertical neighbours already visited.
            for (nx, ny) in [(tx as isize + step, ty as isize), (tx as isize, ty as isize + step)] {
                if nx < 0 || ny < 0 || nx as usize >= geo.w || ny as usize >= geo.h {
                    continue;
                }
                let ni = geo.target_index[ny as usize * geo.w + nx as usize];
                if ni == u32::MAX {
                    continue;
                }
                let ni = ni as usize;
                if ni < base || ni >= base + len {
                    continue;
                }
                let (sx, sy) = f[ni - base];
                try_candidate(
                    sx as i64 - (nx as i64 - tx as i64),
                    sy as i64 - (ny as i64 - ty as i64),
                    &mut best,
                    &mut best_d,
                );
            }
            // Random search around the best, radius halving.
            let mut radius = search_radius as f32;
            while radius >= 1.0 {
                let sx = best.0 as i64 + (rng.range(-radius, radius)) as i64;
                let sy = best.1 as i64 + (rng.range(-radius, radius)) as i64;
                try_candidate(sx, sy, &mut best, &mut best_d);
                radius *= 0.5;
            }
            f[k] = best;
            d[k] = best_d;
        }
    });
}

/// EM voting: each hole pixel becomes the weighted mean of what the overlapping patches' matches
/// say it should be. Weights favour good matches, which keeps texture sharp.
#[allow(clippy::too_many_arguments)]
fn vote(
    est: &Rgb,
    hole: &[bool],
    geo: &Geometry,
    field: &[(u32, u32)],
    dist: &[f32],
    r: usize,
    softness: f32,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Rgb {
    let mut sorted: Vec<f32> = dist.to_vec();
    // The median match distance, times `softness`, is the weight scale: small values let the
    // best matches dominate (sharp texture), larger ones average more (less noise).
    let mid = sorted.len() / 2;
    let sigma2 = (if sorted.is_empty() { 1.0 } else { *sorted.select_nth_unstable_by(mid, f32::total_cmp).1 }
        * softness)
        .max(1e-6);
    let (w, h) = (est.w, est.h);
    let r = r as isize;
    let mut out = est.clone();
    out.px.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
        // A cancelled vote stops early; the caller discards its result.
        if cancelled() {
            return;
        }
        for (x, px) in row.iter_mut().enumerate() {
            if !hole[y * w + x] {
                continue;
            }
            // Contributions (patch distance, colour); weights relative to the best one so that
            // they never all underflow to zero.
            let mut contrib: [(f32, [f32; 3]); 81] = [(0.0, [0.0; 3]); 81];
            let mut n = 0usize;
            for dy in -r..=r {
                let cy = y as isize - dy;
                if cy < 0 || cy as usize >= h {
                    continue;
                }
                for dx in -r..=r {
                    let cx = x as isize - dx;
                    if cx < 0 || cx as usize >= w {
                        continue;
                    }
                    let k = geo.target_index[cy as usize * w + cx as usize];
                    if k == u32::MAX || n == contrib.len() {
                        continue;
                    }
                    let (sx, sy) = field[k as usize];
                    contrib[n] =
                        (dist[k as usize], est.px[(sy as isize + dy) as usize * w + (sx as isize + dx) as usize]);
                    n += 1;
                }
            }
            let d_min = contrib[..n].iter().map(|c| c.0).fold(f32::INFINITY, f32::min);
            let mut acc = [0.0f32; 3];
            let mut wsum = 0.0f32;
            for (d, s) in &contrib[..n] {
                let wt = (-(d - d_min) / (2.0 * sigma2)).exp();
                acc[0] += wt * s[0];
                acc[1] += wt * s[1];
                acc[2] += wt * s[2];
                wsum += wt;
            }
            if wsum > 0.0 {
                *px = acc.map(|v| v / wsum);
            }
        }
    });
    out
}

/// The field of the next finer level: twice the coarse match plus the sub-pixel offset, or a
/// random source where that lands outside the valid region.
fn upsample_nnf(coarse: &[(u32, u32)], cw: usize, ch: usize, geo: &Geometry, rng: &mut Rng) -> Vec<(u32, u32)> {
    geo.targets
        .iter()
        .map(|&(tx, ty)| {
            let (cx, cy) = ((tx as usize / 2).min(cw - 1), (ty as usize / 2).min(ch - 1));
            let (sx, sy) = coarse[cy * cw + cx];
            if sx != u32::MAX {
                let (fx, fy) = (2 * sx as usize + (tx as usize & 1), 2 * sy as usize + (ty as usize & 1));
                if fx < geo.w && fy < geo.h && geo.valid[fy * geo.w + fx] {
                    return (fx as u32, fy as u32);
                }
            }
            geo.sources[rng.below(geo.sources.len())]
        })
        .collect()
}

/// A structure-aware first fill for the coarsest level: peel the hole from its boundary inwards;
/// each ring's pixels take the centre of the source patch that best matches what is already
/// known around them (exhaustive search, cheap at this size). Lines and edges that enter the
/// hole are carried in instead of being averaged away.
fn onion_peel_fill(
    img: &Rgb,
    hole: &[bool],
    geo: &Geometry,
    r: usize,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Rgb, Cancelled> {
    let (w, h) = (img.w, img.h);
    let mut out = img.clone();
    let mut known: Vec<bool> = hole.iter().map(|&b| !b).collect();
    let mut remaining: Vec<usize> = (0..w * h).filter(|&i| hole[i]).collect();
    let ri = r as isize;
    while !remaining.is_empty() {
        if cancelled() {
            return Err(Cancelled);
        }
        let ring: Vec<usize> = remaining
            .iter()
            .copied()
            .filter(|&i| {
                let (x, y) = ((i % w) as isize, (i / w) as isize);
                [(-1isize, 0isize), (1, 0), (0, -1), (0, 1)].iter().any(|&(dx, dy)| {
                    let (nx, ny) = (x + dx, y + dy);
                    nx >= 0 && ny >= 0 && (nx as usize) < w && (ny as usize) < h && known[ny as usize * w + nx as usize]
                })
            })
            .collect();
        if ring.is_empty() {
            break;
        }
        let fills: Vec<(usize, [f32; 3])> = ring
            .par_iter()
            .map(|&i| {
                let (x, y) = ((i % w) as isize, (i / w) as isize);
                let mut best = (f32::MAX, [0.5f32; 3]);
                for &(sx, sy) in &geo.sources {
                    let (sx, sy) = (sx as isize, sy as isize);
                    let (mut d, mut n) = (0.0f32, 0u32);
                    for dy in -ri..=ri {
                        let ty = y + dy;
                        if ty < 0 || ty as usize >= h {
                            continue;
                        }
                        for dx in -ri..=ri {
                            let tx = x + dx;
                            if tx < 0 || tx as usize >= w || !known[ty as usize * w + tx as usize] {
                                continue;
                            }
                            let a = out.px[ty as usize * w + tx as usize];
                            let b = img.px[(sy + dy) as usize * w + (sx + dx) as usize];
                            d += (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2);
                            n += 1;
                        }
                    }
                    let d = d / n.max(1) as f32;
                    if d < best.0 {
                        best = (d, img.px[sy as usize * w + sx as usize]);
                    }
                }
                (i, best.1)
            })
            .collect();
        for (i, p) in fills {
            out.px[i] = p;
            known[i] = true;
        }
        remaining.retain(|&i| !known[i]);
    }
    Ok(out)
}

/// Fill the hole by repeated neighbour averaging from its boundary inwards (onion peel): a
/// smooth first guess for the coarsest level.
pub fn diffuse_fill(img: &Rgb, hole: &[bool]) -> Rgb {
    let known: Vec<bool> = hole.iter().map(|&b| !b).collect();
    diffuse_from(img, &known, hole)
}

/// Spread the colours of `known` pixels into the `todo` pixels, ring by ring (each ring takes the
/// mean of its already-set 8-neighbours). Pixels in neither set are left alone and never used.
pub fn diffuse_from(img: &Rgb, known: &[bool], todo: &[bool]) -> Rgb {
    let (w, h) = (img.w, img.h);
    let mut out = img.clone();
    let mut set: Vec<bool> = known.to_vec();
    let mut remaining: Vec<usize> = (0..w * h).filter(|&i| todo[i] && !known[i]).collect();
    while !remaining.is_empty() {
        let mut next = Vec::new();
        let mut updates = Vec::new();
        for &i in &remaining {
            let (x, y) = (i % w, i / w);
            let mut acc = [0.0f32; 3];
            let mut n = 0.0f32;
            for (dx, dy) in [(-1isize, 0isize), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1), (-1, 1), (1, -1)] {
                let (nx, ny) = (x as isize + dx, y as isize + dy);
                if nx < 0 || ny < 0 || nx as usize >= w || ny as usize >= h {
                    continue;
                }
                let j = ny as usize * w + nx as usize;
                if set[j] {
                    let p = out.px[j];
                    acc = [acc[0] + p[0], acc[1] + p[1], acc[2] + p[2]];
                    n += 1.0;
                }
            }
            if n > 0.0 {
                updates.push((i, acc.map(|v| v / n)));
            } else {
                next.push(i);
            }
        }
        if updates.is_empty() {
            // Unreachable from any known pixel: grey.
            for &i in &next {
                out.px[i] = [0.5; 3];
            }
            break;
        }
        for (i, p) in updates {
            out.px[i] = p;
            set[i] = true;
        }
        remaining = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vertical stripes with a period of 10 px: a correct fill continues them exactly.
    fn stripes(w: usize, h: usize) -> Rgb {
        let mut img = Rgb::new(w, h);
        for y in 0..h {
            for x in 0..w {
                img.px[y * w + x] = if (x / 5) % 2 == 0 { [0.9, 0.8, 0.2] } else { [0.1, 0.2, 0.6] };
            }
        }
        img
    }

    #[test]
    fn continues_a_regular_texture_sharply() {
        let (w, h) = (160, 120);
        let truth = stripes(w, h);
        let hole = Mask::from_fn(w as u32, h as u32, |x, y| (60..100).contains(&x) && (40..80).contains(&y));
        let mut damaged = truth.clone();
        for y in 40..80 {
            for x in 60..100 {
                damaged.px[y * w + x] = [0.0; 3];
            }
        }
        let out =
            complete(&damaged, &hole, &CompletionParams::default(), &Rng::new(1), &mut |_| {}, &|| false).unwrap();
        let mut err = 0.0f32;
        for y in 40..80 {
            for x in 60..100 {
                let (a, b) = (out.px[y * w + x], truth.px[y * w + x]);
                err += (0..3).map(|c| (a[c] - b[c]).abs()).sum::<f32>();
            }
        }
        let mean = err / (40.0 * 40.0 * 3.0);
        assert!(mean < 0.05, "mean abs error {mean}");
        // Outside the hole nothing changes.
        assert_eq!(out.px[5 * w + 5], damaged.px[5 * w + 5]);
    }

    #[test]
    fn same_seed_same_result() {
        let (w, h) = (96, 80);
        let mut img = stripes(w, h);
        let mut rng = Rng::new(4);
        for p in &mut img.px {
            p[1] += 0.1 * rng.unit();
        }
        let hole = Mask::from_fn(w as u32, h as u32, |x, y| (40..60).contains(&x) && (30..50).contains(&y));
        let run = || complete(&img, &hole, &CompletionParams::default(), &Rng::new(9), &mut |_| {}, &|| false).unwrap();
        assert_eq!(run(), run());
    }

    /// Texture is never copied from `avoid` (a relit shadow), unless nothing else is left.
    #[test]
    fn never_copies_from_the_avoided_region() {
        let (w, h) = (160, 120);
        // Red around the hole, green only at the right (inside the context band); the red is
        // to be avoided.
        let mut img = Rgb::new(w, h);
        for (i, p) in img.px.iter_mut().enumerate() {
            *p = if i % w >= 90 { [0.1, 0.8, 0.1] } else { [0.8, 0.1, 0.1] };
        }
        let hole = Mask::from_fn(w as u32, h as u32, |x, y| (40..70).contains(&x) && (45..75).contains(&y));
        let red = Mask::from_fn(w as u32, h as u32, |x, _| x < 90);
        let green_share = |out: &Rgb| {
            let n = out.px.iter().enumerate().filter(|&(i, p)| hole.at(i) && p[1] > p[0]).count();
            n as f32 / hole.count() as f32
        };
        let fill = |avoid: &Mask| {
            complete_avoiding(&img, &hole, avoid, &CompletionParams::default(), &Rng::new(3), &mut |_| {}, &|| false)
                .unwrap()
        };
        assert!(
            green_share(&fill(&Mask::new(w as u32, h as u32))) < 0.05,
            "without avoid the red around the hole fills it"
        );
        assert!(green_share(&fill(&red)) > 0.95, "avoiding the red leaves only green to copy");
        // Avoiding everything but the hole leaves no source: the avoid mask is ignored.
        let everything = Mask::from_fn(w as u32, h as u32, |_, _| true);
        assert!(green_share(&fill(&everything)) < 0.05);
    }
}
