//! Harmonic interpolation ("membranes"): values known around a region carried smoothly into it,
//! as the lit surface's level into a shadow.

/// The membrane over `region` pinned to `outside` at its `rim`.
pub(crate) fn membrane_from_rim(outside: &[f32], region: &[bool], unusable: &[bool], w: usize, h: usize) -> Vec<f32> {
    let mut fixed = vec![None; w * h];
    for i in rim(region, unusable, w, h) {
        fixed[i] = Some(outside[i]);
    }
    membrane(&fixed, region, w, h)
}

/// The usable pixels just around `region`: those 4-adjacent to it that are not `unusable` (the
/// region itself, the object).
pub(super) fn rim(region: &[bool], unusable: &[bool], w: usize, h: usize) -> Vec<usize> {
    (0..w * h)
        .filter(|&i| {
            let (x, y) = (i % w, i / w);
            !unusable[i]
                && [(x > 0, i.wrapping_sub(1)), (x + 1 < w, i + 1), (y > 0, i.wrapping_sub(w)), (y + 1 < h, i + w)]
                    .iter()
                    .any(|&(ok, j)| ok && region[j])
        })
        .collect()
}

/// Harmonic interpolation over `domain` of the values at `fixed` pixels (Jacobi sweeps seeded by
/// a half-size solve, down to at most 8×8, which starts from the fixed values' mean and is swept
/// to convergence: Jacobi carries a value one pixel per sweep, and a domain bordered on one side
/// only would otherwise keep much of its starting value).
pub(super) fn membrane(fixed: &[Option<f32>], domain: &[bool], w: usize, h: usize) -> Vec<f32> {
    let mut cur = vec![0.0f32; w * h];
    let coarsest = w.max(h) <= 8;
    if coarsest {
        let known: Vec<f32> = fixed.iter().flatten().copied().collect();
        cur.fill(if known.is_empty() { 0.0 } else { known.iter().sum::<f32>() / known.len() as f32 });
    } else {
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
    for _ in 0..if coarsest { 400 } else { 40 } {
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
