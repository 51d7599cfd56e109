//! PatchMatch (Barnes et al.) with EM voting (Wexler et al.): the nearest-neighbour field of
//! the hole's patches, its random search and propagation, and the vote that makes each pixel the
//! mean of the patches covering it.

use rayon::prelude::*;

use crate::engine::Rng;
use crate::raster::Rgb;

/// Which patch centres need a match (targets) and which may be copied from (sources).
pub(super) struct Geometry {
    pub(super) w: usize,
    pub(super) h: usize,
    /// Centres whose patch overlaps the hole.
    pub(super) targets: Vec<(u32, u32)>,
    /// Index into `targets` per pixel, or `u32::MAX`.
    pub(super) target_index: Vec<u32>,
    /// Centres whose whole patch is known and inside the image.
    pub(super) sources: Vec<(u32, u32)>,
    pub(super) valid: Vec<bool>,
}

impl Geometry {
    /// Targets are the centres whose patch overlaps the hole; sources those whose whole patch
    /// is inside the image, off the hole and off `avoid` if given — unless avoiding it would
    /// leave fewer sources than targets, when `avoid` is ignored (a poor source beats none).
    pub(super) fn new(w: usize, h: usize, hole: &[bool], avoid: Option<&[bool]>, r: usize) -> Self {
        let near_hole = &square_dilate(hole, w, h, r);
        let near_avoid = avoid.map(|a| square_dilate(a, w, h, r));
        // Row by row on every core; collected in row order, as one scan would list them.
        let targets: Vec<(u32, u32)> = (0..h)
            .into_par_iter()
            .flat_map_iter(|y| (0..w).filter(move |&x| near_hole[y * w + x]).map(move |x| (x as u32, y as u32)))
            .collect();
        let mut target_index = vec![u32::MAX; w * h];
        for (k, &(x, y)) in targets.iter().enumerate() {
            target_index[y as usize * w + x as usize] = k as u32;
        }
        let inside = |x: usize, y: usize| x >= r && y >= r && x + r < w && y + r < h;
        let pick = |avoid: Option<&[bool]>| -> Vec<(u32, u32)> {
            (0..h)
                .into_par_iter()
                .flat_map_iter(|y| {
                    (0..w)
                        .filter(move |&x| {
                            let i = y * w + x;
                            !near_hole[i] && avoid.is_none_or(|a| !a[i]) && inside(x, y)
                        })
                        .map(move |x| (x as u32, y as u32))
                })
                .collect()
        };
        let mut sources = pick(near_avoid.as_deref());
        if near_avoid.is_some() && sources.len() < targets.len() {
            sources = pick(None);
        }
        let mut valid = vec![false; w * h];
        for &(x, y) in &sources {
            valid[y as usize * w + x as usize] = true;
        }
        Self { w, h, targets, target_index, sources, valid }
    }

    /// The field as a full grid (for upsampling to the next level).
    pub(super) fn scatter(&self, field: &[(u32, u32)], w: usize, h: usize) -> Vec<(u32, u32)> {
        let mut out = vec![(u32::MAX, u32::MAX); w * h];
        for (k, &(tx, ty)) in self.targets.iter().enumerate() {
            out[ty as usize * w + tx as usize] = field[k];
        }
        out
    }
}

/// `m` grown by `r` in every direction (a (2r+1)² square): separable maximum, rows by a running
/// count, then each output row the union of the 2r+1 rows around it; rows on every core.
pub(super) fn square_dilate(m: &[bool], w: usize, h: usize, r: usize) -> Vec<bool> {
    let mut horiz = vec![false; w * h];
    horiz.par_chunks_mut(w).zip(m.par_chunks(w)).for_each(|(out, row)| {
        // Set pixels in the window [x − r, x + r].
        let mut count: usize = row[..r.min(w)].iter().map(|&b| b as usize).sum();
        for x in 0..w {
            if x + r < w {
                count += row[x + r] as usize;
            }
            out[x] = count > 0;
            if x >= r {
                count -= row[x - r] as usize;
            }
        }
    });
    let mut out = vec![false; w * h];
    out.par_chunks_mut(w).enumerate().for_each(|(y, out)| {
        for src in horiz[y.saturating_sub(r) * w..(y + r + 1).min(h) * w].chunks_exact(w) {
            for (o, &s) in out.iter_mut().zip(src) {
                *o |= s;
            }
        }
    });
    out
}

/// The patch distance of every target to its current match.
/// A cancelled call returns early with meaningless values; the caller checks and discards them.
pub(super) fn field_distances(
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
pub(super) fn patch_distance(img: &Rgb, tx: u32, ty: u32, sx: u32, sy: u32, r: usize, cutoff: f32) -> f32 {
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
pub(super) fn patchmatch_sweep(
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
pub(super) fn vote(
    mut est: Rgb,
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
    // The hole's new colours, row by row, then written back: every patch copied from is a
    // source, off the hole by the patch's reach, so the votes read no pixel they change (and
    // the estimate is not copied whole for them: 100 MB at the finest level of a 12 MP photo).
    let votes: Vec<Vec<(usize, [f32; 3])>> = (0..h)
        .into_par_iter()
        .map(|y| {
            let mut row = Vec::new();
            // A cancelled vote stops early; the caller discards its result.
            if cancelled() {
                return row;
            }
            for x in 0..w {
                if !hole[y * w + x] {
                    continue;
                }
                // Contributions (patch distance, colour); weights relative to the best one so
                // that they never all underflow to zero.
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
                    row.push((y * w + x, acc.map(|v| v / wsum)));
                }
            }
            row
        })
        .collect();
    for (i, colour) in votes.into_iter().flatten() {
        est.px[i] = colour;
    }
    est
}

/// The field of the next finer level: twice the coarse match plus the sub-pixel offset, or a
/// random source where that lands outside the valid region.
pub(super) fn upsample_nnf(
    coarse: &[(u32, u32)],
    cw: usize,
    ch: usize,
    geo: &Geometry,
    rng: &mut Rng,
) -> Vec<(u32, u32)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn square_dilate_grows_each_set_pixel_by_a_square() {
        let (w, h) = (23, 17);
        let m: Vec<bool> = (0..w * h).map(|i| (i * 7919) % 37 == 0 || i == 0 || i == w * h - 1).collect();
        for r in [0, 1, 3, 12, 30] {
            let got = square_dilate(&m, w, h, r);
            for y in 0..h {
                for x in 0..w {
                    let want = (y.saturating_sub(r)..(y + r + 1).min(h))
                        .any(|yy| (x.saturating_sub(r)..(x + r + 1).min(w)).any(|xx| m[yy * w + xx]));
                    assert_eq!(got[y * w + x], want, "r {r} at ({x}, {y})");
                }
            }
        }
    }
}
