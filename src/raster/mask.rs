//! Binary masks (brushes, holes) and the distance transform that grows and shrinks them.

use super::PremulImage;

/// A pixel rectangle `[x0, x1) × [y0, y1)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rect {
    /// First column.
    pub x0: usize,
    /// First row.
    pub y0: usize,
    /// Column past the last.
    pub x1: usize,
    /// Row past the last.
    pub y1: usize,
}

impl Rect {
    /// The bounding box `(x, y, w, h)` grown by `pad` on every side, clipped to `w × h`.
    pub fn grown(bounds: (u32, u32, u32, u32), pad: usize, w: usize, h: usize) -> Self {
        let (bx, by, bw, bh) = (bounds.0 as usize, bounds.1 as usize, bounds.2 as usize, bounds.3 as usize);
        Self {
            x0: bx.saturating_sub(pad),
            y0: by.saturating_sub(pad),
            x1: (bx + bw + pad).min(w),
            y1: (by + bh + pad).min(h),
        }
    }

    /// The smallest rectangle holding both.
    pub fn union(self, other: Self) -> Self {
        Self {
            x0: self.x0.min(other.x0),
            y0: self.y0.min(other.y0),
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
        }
    }

    /// Width.
    pub fn w(&self) -> usize {
        self.x1 - self.x0
    }

    /// Height.
    pub fn h(&self) -> usize {
        self.y1 - self.y0
    }
}

/// A binary mask: one byte per pixel, 0 = off, anything else = on.
#[derive(Clone, PartialEq, Eq)]
pub struct Mask {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl std::fmt::Debug for Mask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mask({}x{}, {} on)", self.width, self.height, self.count())
    }
}

impl Mask {
    /// An empty mask.
    pub fn new(width: u32, height: u32) -> Self {
        Self { width, height, data: vec![0; width as usize * height as usize] }
    }

    /// From bytes, one per pixel; any non-zero byte is "on". `None` if the length is wrong.
    pub fn from_bytes(width: u32, height: u32, bytes: Vec<u8>) -> Option<Self> {
        (bytes.len() == width as usize * height as usize).then(|| Self {
            width,
            height,
            data: bytes.into_iter().map(|b| (b != 0) as u8).collect(),
        })
    }

    /// A layer's coverage as a mask: on where its alpha exceeds `threshold`.
    pub fn alpha_above(img: &PremulImage, threshold: f32) -> Self {
        let data = img.pixels().iter().map(|p| (p[3] > threshold) as u8).collect();
        Self { width: img.width(), height: img.height(), data }
    }

    /// From a predicate on (x, y).
    pub fn from_fn(width: u32, height: u32, mut f: impl FnMut(u32, u32) -> bool) -> Self {
        let mut m = Self::new(width, height);
        for y in 0..height {
            for x in 0..width {
                m.data[(y * width + x) as usize] = f(x, y) as u8;
            }
        }
        m
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    #[inline]
    /// Whether `(x, y)` is set.
    pub fn get(&self, x: u32, y: u32) -> bool {
        self.data[(y * self.width + x) as usize] != 0
    }

    #[inline]
    /// Set or clear `(x, y)`.
    pub fn set(&mut self, x: u32, y: u32, on: bool) {
        self.data[(y * self.width + x) as usize] = on as u8;
    }

    #[inline]
    /// Whether pixel `i` (row-major) is set.
    pub fn at(&self, i: usize) -> bool {
        self.data[i] != 0
    }

    /// One byte per pixel, row-major, 0 or 1.
    pub fn data(&self) -> &[u8] {
        &self.data
    }

    /// Number of pixels on.
    pub fn count(&self) -> usize {
        self.data.iter().filter(|&&b| b != 0).count()
    }

    /// Nothing is set.
    pub fn is_empty(&self) -> bool {
        self.data.iter().all(|&b| b == 0)
    }

    /// Bounding box `(x, y, w, h)` of the on pixels.
    pub fn bounds(&self) -> Option<(u32, u32, u32, u32)> {
        let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
        for y in 0..self.height {
            let row = &self.data[(y * self.width) as usize..((y + 1) * self.width) as usize];
            if let (Some(first), Some(last)) = (row.iter().position(|&b| b != 0), row.iter().rposition(|&b| b != 0)) {
                x0 = x0.min(first as u32);
                x1 = x1.max(last as u32);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
        (x0 != u32::MAX).then(|| (x0, y0, x1 - x0 + 1, y1 - y0 + 1))
    }

    /// Pixels within Euclidean distance `r` of an on pixel.
    pub fn dilate(&self, r: f32) -> Self {
        self.morph(r, true)
    }

    /// Pixels farther than `r` from every off pixel.
    pub fn erode(&self, r: f32) -> Self {
        self.morph(r, false)
    }

    /// Dilation or erosion, computed only over the on pixels' bounding box grown by `r` (the
    /// rest of the result is known), so a small brush on a 12 MP photo costs little.
    fn morph(&self, r: f32, dilate: bool) -> Self {
        let Some(bounds) = self.bounds() else { return self.clone() };
        let grow = r.max(0.0).ceil() as usize + 1;
        let rect = Rect::grown(bounds, grow, self.width as usize, self.height as usize);
        let (x0, y0) = (rect.x0 as u32, rect.y0 as u32);
        let crop = Mask::from_fn(rect.w() as u32, rect.h() as u32, |x, y| self.get(x0 + x, y0 + y));
        let d = distance_sq_to(&crop, dilate);
        let r2 = r * r;
        let mut out = Mask::new(self.width, self.height);
        for y in 0..crop.height {
            for x in 0..crop.width {
                let v = d[(y * crop.width + x) as usize];
                // Erosion: only pixels of the crop can be on, and those need every off pixel
                // (inside the crop, or the crop's grown margin) farther than r.
                let on = if dilate { v <= r2 } else { crop.get(x, y) && v > r2 };
                out.set(x0 + x, y0 + y, on);
            }
        }
        out
    }

    /// Set where either is.
    pub fn union(&self, other: &Self) -> Self {
        self.zip(other, |a, b| a | b)
    }

    /// Set where both are.
    pub fn intersect(&self, other: &Self) -> Self {
        self.zip(other, |a, b| a & b)
    }

    /// Set where `self` is and `other` is not.
    pub fn minus(&self, other: &Self) -> Self {
        self.zip(other, |a, b| a & (b ^ 1))
    }

    /// The 4-connected regions of set pixels, each as its pixel indices.
    pub fn components(&self) -> Vec<Vec<usize>> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut seen = vec![false; w * h];
        let mut out = Vec::new();
        for start in 0..w * h {
            if self.data[start] == 0 || seen[start] {
                continue;
            }
            let mut comp = Vec::new();
            let mut stack = vec![start];
            seen[start] = true;
            while let Some(i) = stack.pop() {
                comp.push(i);
                let (x, y) = (i % w, i / w);
                for (ok, j) in
                    [(x > 0, i.wrapping_sub(1)), (x + 1 < w, i + 1), (y > 0, i.wrapping_sub(w)), (y + 1 < h, i + w)]
                {
                    if ok && self.data[j] != 0 && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
            out.push(comp);
        }
        out
    }

    /// Set where `self` is not.
    pub fn invert(&self) -> Self {
        Self { width: self.width, height: self.height, data: self.data.iter().map(|&b| b ^ 1).collect() }
    }

    fn zip(&self, other: &Self, f: impl Fn(u8, u8) -> u8) -> Self {
        assert_eq!((self.width, self.height), (other.width, other.height), "mask sizes differ");
        Self {
            width: self.width,
            height: self.height,
            data: self.data.iter().zip(&other.data).map(|(&a, &b)| f(a, b)).collect(),
        }
    }
}

/// Squared Euclidean distance from every pixel to the nearest pixel whose mask value is
/// `target` (exact; Felzenszwalb & Huttenlocher's separable lower-envelope transform). Pixels
/// with no such pixel anywhere get `f32::INFINITY`-like large values.
pub fn distance_sq_to(mask: &Mask, target: bool) -> Vec<f32> {
    let (w, h) = (mask.width as usize, mask.height as usize);
    // f64 inside: "no pixel" is a large finite value, and the parabola intersections of two such
    // values must not lose the small terms that order them.
    const INF: f64 = 1e20;
    let mut grid: Vec<f64> = mask.data.iter().map(|&b| if (b != 0) == target { 0.0 } else { INF }).collect();
    let n = w.max(h);
    let (mut f, mut d, mut v, mut z) = (vec![0.0f64; n], vec![0.0f64; n], vec![0usize; n], vec![0.0f64; n + 1]);
    // Columns, then rows.
    for x in 0..w {
        for y in 0..h {
            f[y] = grid[y * w + x];
        }
        edt_1d(&f[..h], &mut d[..h], &mut v, &mut z);
        for y in 0..h {
            grid[y * w + x] = d[y];
        }
    }
    for y in 0..h {
        f[..w].copy_from_slice(&grid[y * w..(y + 1) * w]);
        edt_1d(&f[..w], &mut d[..w], &mut v, &mut z);
        grid[y * w..(y + 1) * w].copy_from_slice(&d[..w]);
    }
    grid.into_iter().map(|v| v as f32).collect()
}

/// 1-D squared distance transform of sampled function `f` (lower envelope of parabolas).
fn edt_1d(f: &[f64], d: &mut [f64], v: &mut [usize], z: &mut [f64]) {
    let n = f.len();
    if n == 0 {
        return;
    }
    let mut k = 0usize;
    v[0] = 0;
    z[0] = f64::NEG_INFINITY;
    z[1] = f64::INFINITY;
    for q in 1..n {
        let mut s;
        loop {
            let p = v[k];
            s = ((f[q] + (q * q) as f64) - (f[p] + (p * p) as f64)) / (2 * (q - p)) as f64;
            // z[0] is −∞, so this never steps below 0.
            if s <= z[k] {
                k -= 1;
            } else {
                break;
            }
        }
        k += 1;
        v[k] = q;
        z[k] = s;
        z[k + 1] = f64::INFINITY;
    }
    k = 0;
    for (q, out) in d.iter_mut().enumerate().take(n) {
        while z[k + 1] < q as f64 {
            k += 1;
        }
        let p = v[k];
        let dq = q as f64 - p as f64;
        *out = dq * dq + f[p];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn brute(mask: &Mask, target: bool) -> Vec<f32> {
        let (w, h) = (mask.width() as i64, mask.height() as i64);
        let mut out = vec![1e20f32; (w * h) as usize];
        for y in 0..h {
            for x in 0..w {
                for yy in 0..h {
                    for xx in 0..w {
                        if mask.get(xx as u32, yy as u32) == target {
                            let d = ((x - xx).pow(2) + (y - yy).pow(2)) as f32;
                            let o = &mut out[(y * w + x) as usize];
                            *o = o.min(d);
                        }
                    }
                }
            }
        }
        out
    }

    #[test]
    fn distance_transform_is_exact() {
        let mut state = 7u32;
        let m = Mask::from_fn(23, 17, |_, _| {
            state = state.wrapping_mul(1103515245).wrapping_add(12345);
            (state >> 16) % 13 == 0
        });
        for target in [true, false] {
            assert_eq!(distance_sq_to(&m, target), brute(&m, target));
        }
    }

    #[test]
    fn cropped_morphology_equals_the_whole_image_transform() {
        let mut state = 11u32;
        let m = Mask::from_fn(40, 30, |x, y| {
            state = state.wrapping_mul(1103515245).wrapping_add(12345);
            (8..30).contains(&x) && (5..25).contains(&y) && (state >> 16) % 3 != 0
        });
        for r in [0.0f32, 1.0, 2.5, 6.0] {
            let (don, doff) = (distance_sq_to(&m, true), distance_sq_to(&m, false));
            let want_d: Vec<u8> = don.iter().map(|&v| (v <= r * r) as u8).collect();
            let want_e: Vec<u8> = doff.iter().map(|&v| (v > r * r) as u8).collect();
            assert_eq!(m.dilate(r).data(), &want_d[..], "dilate {r}");
            assert_eq!(m.erode(r).data(), &want_e[..], "erode {r}");
        }
    }

    #[test]
    fn dilate_and_erode_by_radius() {
        let mut m = Mask::new(21, 21);
        m.set(10, 10, true);
        let d = m.dilate(3.0);
        assert!(d.get(13, 10) && d.get(12, 12) && !d.get(13, 13) && !d.get(14, 10));
        assert_eq!(d.erode(2.9).count(), 1);
        assert_eq!(d.bounds(), Some((7, 7, 7, 7)));
    }
}
