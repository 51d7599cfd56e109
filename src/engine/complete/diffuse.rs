//! Fills that need no source patches: the onion-peel start of the coarsest level, and the
//! membrane (harmonic interpolation) used where nothing can be copied.

use rayon::prelude::*;

use super::patchmatch::Geometry;
use crate::engine::Cancelled;
use crate::raster::Rgb;

/// A structure-aware first fill for the coarsest level: peel the hole from its boundary inwards;
/// each ring's pixels take the centre of the source patch that best matches what is already
/// known around them (exhaustive search, cheap at this size). Lines and edges that enter the
/// hole are carried in instead of being averaged away.
pub(super) fn onion_peel_fill(
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
        let fills: Vec<(usize, [f32; 3])> =
            ring.par_iter().map(|&i| (i, best_source_centre(img, &out, &known, i, geo, r))).collect();
        for (i, p) in fills {
            out.px[i] = p;
            known[i] = true;
        }
        remaining.retain(|&i| !known[i]);
    }
    Ok(out)
}

/// The centre colour of the source patch closest (mean squared difference) to what is known
/// of the patch around pixel `i` of `out`; grey when nothing is known around it.
///
/// The known taps are listed once (offset and colour), then every source is scored over them
/// in the same order, abandoned as soon as its partial mean can no longer win: the sum only
/// grows, so the answer is the exhaustive search's own.
fn best_source_centre(img: &Rgb, out: &Rgb, known: &[bool], i: usize, geo: &Geometry, r: usize) -> [f32; 3] {
    let (w, h) = (img.w as isize, img.h as isize);
    let (x, y, ri) = ((i % img.w) as isize, (i / img.w) as isize, r as isize);
    let mut taps: Vec<(isize, [f32; 3])> = Vec::with_capacity((2 * r + 1) * (2 * r + 1));
    for ty in (y - ri).max(0)..=(y + ri).min(h - 1) {
        for tx in (x - ri).max(0)..=(x + ri).min(w - 1) {
            let t = (ty * w + tx) as usize;
            if known[t] {
                taps.push(((ty - y) * w + (tx - x), out.px[t]));
            }
        }
    }
    let n = taps.len().max(1) as f32;
    let mut best = (f32::MAX, [0.5f32; 3]);
    for &(sx, sy) in &geo.sources {
        // Sources' patches lie wholly inside the image, so every offset stays inside.
        let s = sy as isize * w + sx as isize;
        let mut d = 0.0f32;
        for row in taps.chunks(2 * r + 1) {
            for &(off, a) in row {
                let b = img.px[(s + off) as usize];
                d += (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2);
            }
            if d / n >= best.0 {
                break;
            }
        }
        let d = d / n;
        if d < best.0 {
            best = (d, img.px[s as usize]);
        }
    }
    best.1
}

/// Fill the hole by repeated neighbour averaging from its boundary inwards (onion peel): a
/// smooth first guess for the coarsest level.
pub(crate) fn diffuse_fill(img: &Rgb, hole: &[bool]) -> Rgb {
    let known: Vec<bool> = hole.iter().map(|&b| !b).collect();
    diffuse_from(img, &known, hole)
}

/// Spread the colours of `known` pixels into the `todo` pixels, ring by ring (each ring takes the
/// mean of its already-set 8-neighbours). Pixels in neither set are left alone and never used.
pub(crate) fn diffuse_from(img: &Rgb, known: &[bool], todo: &[bool]) -> Rgb {
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
