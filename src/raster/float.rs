//! Small float rasters the engine works on: `Rgb` (sRGB-encoded, straight colour) and `Plane`
//! (one channel), with the resampling and box filtering the stages share.

use rayon::prelude::*;

use super::PremulImage;

/// Luma of an sRGB-encoded colour (Rec. 601 weights on the encoded values).
#[inline]
pub fn luma(p: [f32; 3]) -> f32 {
    0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
}

/// An opaque RGB image, sRGB-encoded values in [0, 1].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Rgb {
    /// Width in pixels.
    pub w: usize,
    /// Height in pixels.
    pub h: usize,
    /// Colours, row-major.
    pub px: Vec<[f32; 3]>,
}

/// One float channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Plane {
    /// Width in pixels.
    pub w: usize,
    /// Height in pixels.
    pub h: usize,
    /// Values, row-major.
    pub v: Vec<f32>,
}

impl Rgb {
    /// A black image.
    pub fn new(w: usize, h: usize) -> Self {
        Self { w, h, px: vec![[0.0; 3]; w * h] }
    }

    /// The colour of an image flattened over black (photos are opaque, so this is just RGB).
    pub fn from_premul(img: &PremulImage) -> Self {
        Self {
            w: img.width() as usize,
            h: img.height() as usize,
            px: img.pixels().par_iter().map(|p| [p[0], p[1], p[2]]).collect(),
        }
    }

    /// As an opaque premultiplied image.
    pub fn to_premul(&self) -> PremulImage {
        PremulImage::from_pixels(
            self.w as u32,
            self.h as u32,
            self.px.par_iter().map(|p| [p[0], p[1], p[2], 1.0]).collect(),
        )
        .expect("sizes match")
    }

    #[inline]
    /// The colour at `(x, y)`.
    pub fn at(&self, x: usize, y: usize) -> [f32; 3] {
        self.px[y * self.w + x]
    }

    /// The `w`×`h` part whose top-left corner is `(x, y)`.
    pub fn crop(&self, x: usize, y: usize, w: usize, h: usize) -> Self {
        let mut px = Vec::with_capacity(w * h);
        for row in y..y + h {
            px.extend_from_slice(&self.px[row * self.w + x..row * self.w + x + w]);
        }
        Self { w, h, px }
    }

    /// Half size, each pixel the mean of a 2×2 block (edge pixels repeated for odd sizes).
    pub fn half(&self) -> Self {
        let (w2, h2) = (self.w.div_ceil(2), self.h.div_ceil(2));
        let mut out = Self::new(w2, h2);
        out.px.par_chunks_mut(w2).enumerate().for_each(|(y, row)| {
            let (y0, y1) = (2 * y, (2 * y + 1).min(self.h - 1));
            for (x, o) in row.iter_mut().enumerate() {
                let (x0, x1) = (2 * x, (2 * x + 1).min(self.w - 1));
                let (a, b, c, d) = (self.at(x0, y0), self.at(x1, y0), self.at(x0, y1), self.at(x1, y1));
                *o = [0, 1, 2].map(|k| (a[k] + b[k] + c[k] + d[k]) * 0.25);
            }
        });
        out
    }

    /// Resize to `w × h` by bilinear sampling (pixel centres aligned).
    pub fn resize(&self, w: usize, h: usize) -> Self {
        let mut out = Self::new(w, h);
        out.px.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            for (x, o) in row.iter_mut().enumerate() {
                *o = self.sample_for(x, y, w, h);
            }
        });
        out
    }

    /// Box-filtered downsampling to a smaller size: halved while at least twice as large, then
    /// resampled (bilinear), so no source pixel is skipped.
    pub fn shrink_to(&self, w: usize, h: usize) -> Self {
        let mut cur = self.clone();
        while cur.w >= 2 * w && cur.h >= 2 * h {
            cur = cur.half();
        }
        cur.resize(w, h)
    }

    /// The bilinear sample of this image at the centre of pixel (x, y) of a `w × h` grid laid
    /// over it (pixel centres aligned, edges clamped): one pixel of `resize(w, h)`.
    #[inline]
    pub fn sample_for(&self, x: usize, y: usize, w: usize, h: usize) -> [f32; 3] {
        let (sx, sy) = (self.w as f32 / w as f32, self.h as f32 / h as f32);
        let v = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (self.h - 1) as f32);
        let (j, fv) = (v.floor() as usize, v.fract());
        let j1 = (j + 1).min(self.h - 1);
        let u = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (self.w - 1) as f32);
        let (i, fu) = (u.floor() as usize, u.fract());
        let i1 = (i + 1).min(self.w - 1);
        let (a, b, c, d) = (self.at(i, j), self.at(i1, j), self.at(i, j1), self.at(i1, j1));
        [0, 1, 2].map(|k| {
            let top = a[k] + (b[k] - a[k]) * fu;
            let bot = c[k] + (d[k] - c[k]) * fu;
            top + (bot - top) * fv
        })
    }

    /// Premultiplied RGBA from this (straight) colour and an alpha plane.
    pub fn with_alpha(&self, alpha: &[f32]) -> PremulImage {
        let px = self.px.par_iter().zip(alpha).map(|(c, &a)| [c[0] * a, c[1] * a, c[2] * a, a]).collect();
        PremulImage::from_pixels(self.w as u32, self.h as u32, px).expect("sizes match")
    }

    /// Luma (Rec. 601 weights on the encoded values).
    pub fn luma(&self) -> Plane {
        Plane { w: self.w, h: self.h, v: self.px.iter().map(|&p| luma(p)).collect() }
    }
}

impl Plane {
    /// A plane of zeros.
    pub fn new(w: usize, h: usize) -> Self {
        Self { w, h, v: vec![0.0; w * h] }
    }

    #[inline]
    /// The value at `(x, y)`.
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.v[y * self.w + x]
    }

    /// Resize by bilinear sampling.
    pub fn resize(&self, w: usize, h: usize) -> Self {
        if (w, h) == (self.w, self.h) {
            return self.clone();
        }
        // `Rgb::sample_for`'s arithmetic on one channel (the same values), row by row.
        let (sx, sy) = (self.w as f32 / w as f32, self.h as f32 / h as f32);
        let columns: Vec<(usize, usize, f32)> = (0..w)
            .map(|x| {
                let u = ((x as f32 + 0.5) * sx - 0.5).clamp(0.0, (self.w - 1) as f32);
                let i = u.floor() as usize;
                (i, (i + 1).min(self.w - 1), u.fract())
            })
            .collect();
        let mut out = Self::new(w, h);
        out.v.par_chunks_mut(w).enumerate().for_each(|(y, row)| {
            let v = ((y as f32 + 0.5) * sy - 0.5).clamp(0.0, (self.h - 1) as f32);
            let (j, fv) = (v.floor() as usize, v.fract());
            let j1 = (j + 1).min(self.h - 1);
            let (upper, lower) = (&self.v[j * self.w..][..self.w], &self.v[j1 * self.w..][..self.w]);
            for (o, &(i, i1, fu)) in row.iter_mut().zip(&columns) {
                let top = upper[i] + (upper[i1] - upper[i]) * fu;
                let bot = lower[i] + (lower[i1] - lower[i]) * fu;
                *o = top + (bot - top) * fv;
            }
        });
        out
    }

    /// Mean over the (2r+1)² window around each pixel, the window clipped to the image.
    pub fn box_mean(&self, r: usize) -> Self {
        box_mean(&self.v, self.w, self.h, r)
    }
}

/// About a Gaussian blur (standard deviation ≈ r): three box-mean passes of radius `r`.
pub fn box_blur3(v: &[f32], w: usize, h: usize, r: usize) -> Vec<f32> {
    if r == 0 {
        return v.to_vec();
    }
    let mut out = v.to_vec();
    for _ in 0..3 {
        out = box_mean(&out, w, h, r).v;
    }
    out
}

/// Box mean of a row-major plane by running sums (O(1) per pixel, any radius).
pub fn box_mean(v: &[f32], w: usize, h: usize, r: usize) -> Plane {
    // Horizontal pass then vertical, each with a sliding sum; f64 keeps long sums exact enough.
    let mut tmp = vec![0.0f32; w * h];
    tmp.par_chunks_mut(w).enumerate().for_each(|(y, out)| {
        let row = &v[y * w..(y + 1) * w];
        let mut sum = 0.0f64;
        let mut lo = 0usize;
        let mut hi = 0usize; // window is [lo, hi)
        for (x, o) in out.iter_mut().enumerate() {
            let want_hi = (x + r + 1).min(w);
            let want_lo = x.saturating_sub(r);
            while hi < want_hi {
                sum += row[hi] as f64;
                hi += 1;
            }
            while lo < want_lo {
                sum -= row[lo] as f64;
                lo += 1;
            }
            *o = (sum / (hi - lo) as f64) as f32;
        }
    });
    // Vertical pass: bands of columns in parallel, each sweeping down the rows with one running
    // sum per column (row-major reads; the same sums in the same order as a column-by-column
    // sweep, so the same results).
    const BAND: usize = 64;
    let bands: Vec<(usize, Vec<f32>)> = (0..w.div_ceil(BAND))
        .into_par_iter()
        .map(|b| {
            let x0 = b * BAND;
            let bw = BAND.min(w - x0);
            let mut sum = vec![0.0f64; bw];
            let mut res = vec![0.0f32; bw * h];
            let (mut lo, mut hi) = (0usize, 0usize);
            for y in 0..h {
                let want_hi = (y + r + 1).min(h);
                let want_lo = y.saturating_sub(r);
                while hi < want_hi {
                    for (s, &t) in sum.iter_mut().zip(&tmp[hi * w + x0..hi * w + x0 + bw]) {
                        *s += t as f64;
                    }
                    hi += 1;
                }
                while lo < want_lo {
                    for (s, &t) in sum.iter_mut().zip(&tmp[lo * w + x0..lo * w + x0 + bw]) {
                        *s -= t as f64;
                    }
                    lo += 1;
                }
                let n = (hi - lo) as f64;
                for (o, &s) in res[y * bw..(y + 1) * bw].iter_mut().zip(&sum) {
                    *o = (s / n) as f32;
                }
            }
            (x0, res)
        })
        .collect();
    let mut out = vec![0.0f32; w * h];
    for (x0, res) in bands {
        let bw = res.len() / h.max(1);
        for y in 0..h {
            out[y * w + x0..y * w + x0 + bw].copy_from_slice(&res[y * bw..(y + 1) * bw]);
        }
    }
    Plane { w, h, v: out }
}

/// The luminance of a per-channel log-deficit (Rec. 709 weights: the channels' shares of what
/// the eye sees darken).
pub(crate) fn deficit_luminance(d: [f32; 3]) -> f32 {
    0.2126 * d[0] + 0.7152 * d[1] + 0.0722 * d[2]
}

/// The median of `v` (reordered in place); 0 for none.
pub(crate) fn median(v: &mut [f32]) -> f32 {
    if v.is_empty() {
        return 0.0;
    }
    let k = v.len() / 2;
    *v.select_nth_unstable_by(k, f32::total_cmp).1
}

/// Mean of `v` over the window of radius `r`, counting only pixels where `exclude` is false.
pub(crate) fn masked_mean(v: &[f32], exclude: &[bool], w: usize, h: usize, r: usize) -> Vec<f32> {
    let num: Vec<f32> = v.iter().zip(exclude).map(|(&x, &e)| if e { 0.0 } else { x }).collect();
    let den: Vec<f32> = exclude.iter().map(|&e| if e { 0.0 } else { 1.0 }).collect();
    let (n, d) = (box_mean(&num, w, h, r).v, box_mean(&den, w, h, r).v);
    n.iter().zip(&d).zip(v).map(|((&a, &b), &x)| if b > 1e-6 { a / b } else { x }).collect()
}

/// Bilinear interpolation at `(fx, fy)` (in cells) of a `w × h` grid whose values are only
/// `known` at some cells: over the known cells among the four around the point, renormalised;
/// where none of the four is known, the nearest known cell within two; else `None`. What a
/// quantity estimated on a coarse grid, with holes (an object's cells), is read back with.
pub fn sample_known<const N: usize>(
    known: &[bool],
    value: &[[f32; N]],
    (w, h): (usize, usize),
    fx: f32,
    fy: f32,
) -> Option<[f32; N]> {
    let (fx, fy) = (fx.clamp(0.0, (w - 1) as f32), fy.clamp(0.0, (h - 1) as f32));
    let (x0, y0) = (fx.floor() as usize, fy.floor() as usize);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (tx, ty) = (fx - x0 as f32, fy - y0 as f32);
    let (mut sum, mut weight) = ([0.0f32; N], 0.0f32);
    for (x, y, wt) in
        [(x0, y0, (1.0 - tx) * (1.0 - ty)), (x1, y0, tx * (1.0 - ty)), (x0, y1, (1.0 - tx) * ty), (x1, y1, tx * ty)]
    {
        let c = y * w + x;
        if known[c] && wt > 0.0 {
            for (s, v) in sum.iter_mut().zip(&value[c]) {
                *s += wt * v;
            }
            weight += wt;
        }
    }
    if weight > 1e-3 {
        return Some(sum.map(|v| v / weight));
    }
    let (cx, cy) = (fx.round() as isize, fy.round() as isize);
    let mut best: Option<(isize, [f32; N])> = None;
    for dy in -2isize..=2 {
        for dx in -2isize..=2 {
            let (x, y) = (cx + dx, cy + dy);
            if x < 0 || y < 0 || x >= w as isize || y >= h as isize {
                continue;
            }
            let c = y as usize * w + x as usize;
            if known[c] && best.is_none_or(|(b, _)| dx * dx + dy * dy < b) {
                best = Some((dx * dx + dy * dy, value[c]));
            }
        }
    }
    best.map(|(_, v)| v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_mean_matches_direct_sum() {
        let (w, h) = (13, 9);
        let v: Vec<f32> = (0..w * h).map(|i| ((i * 37) % 11) as f32).collect();
        let m = box_mean(&v, w, h, 2);
        for y in 0..h {
            for x in 0..w {
                let (mut s, mut n) = (0.0, 0.0);
                for yy in y.saturating_sub(2)..(y + 3).min(h) {
                    for xx in x.saturating_sub(2)..(x + 3).min(w) {
                        s += v[yy * w + xx];
                        n += 1.0;
                    }
                }
                assert!((m.at(x, y) - s / n).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn half_and_resize_keep_flat_colour() {
        let img = Rgb { w: 7, h: 5, px: vec![[0.2, 0.4, 0.6]; 35] };
        assert!(img.half().px.iter().all(|p| (p[1] - 0.4).abs() < 1e-6));
        let r = img.resize(15, 4);
        assert!(r.px.iter().all(|p| (p[2] - 0.6).abs() < 1e-6));
    }

    #[test]
    fn a_plane_resizes_as_one_channel_of_a_colour_image() {
        let plane = Plane { w: 9, h: 6, v: (0..54).map(|i| ((i * 37) % 11) as f32 / 10.0).collect() };
        let rgb = Rgb { w: 9, h: 6, px: plane.v.iter().map(|&v| [v, 1.0 - v, 0.5]).collect() };
        for (w, h) in [(20, 13), (4, 3), (9, 6), (1, 1)] {
            let (p, r) = (plane.resize(w, h), rgb.resize(w, h));
            assert_eq!(p.v, r.px.iter().map(|c| c[0]).collect::<Vec<_>>(), "{w}×{h}");
        }
    }
}
