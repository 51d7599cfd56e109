//! The network's 3×3 convolutions (dilation 1) on the CPU by Winograd's minimal filtering,
//! F(4×4, 3×3) (Lavin & Gray 2016): each 4×4 block of output is computed from its 6×6 window
//! of input as `Aᵀ [(G g Gᵀ) ⊙ (Bᵀ d B)] A`, so the products over the channels, done as 36
//! matrix products per band of blocks, take 36 multiplications per block where the taps take
//! 144. Most of the network's arithmetic is in such convolutions at 320×320 with 64–128
//! channels, where the transforms cost little beside the products.
//!
//! The layouts keep every transform a loop over neighbouring blocks (vectorisable): each band
//! pads and splits its input rows by phase (column mod 4) as it goes, and stores the transformed
//! input and the products by channel, then window position, then block. Per convolution at
//! 320×320 this takes a half (128 → 64 channels) to three quarters (64 → 16) of the time of
//! the tap-by-tap products (`conv`).

use rayon::prelude::*;

use super::bands::{SharedOut, SCRATCH};

/// Output side of a block.
const M: usize = 4;
/// Input side of a block (its window).
const A: usize = M + 2;
/// Positions in a window.
const POS: usize = A * A;
/// Floats of transformed input and products a band aims at: about a megabyte, to stay in a
/// core's cache between the transforms and the products.
const BAND_FLOATS: usize = 1 << 20;

/// A 3×3 convolution's weights, transformed (`G g Gᵀ`, `[position][c_out][c_in]`), and its bias.
pub struct WinogradWeights {
    pub c_in: usize,
    pub c_out: usize,
    transformed: Vec<f32>,
    bias: Vec<f32>,
}

impl WinogradWeights {
    /// From candle's layout, `[c_out][c_in][3][3]`.
    pub fn new(c_in: usize, c_out: usize, weight: &[f32], bias: Vec<f32>) -> Self {
        assert_eq!(weight.len(), c_out * c_in * 9, "3×3 weights");
        let mut transformed = vec![0.0f32; POS * c_out * c_in];
        for o in 0..c_out {
            for c in 0..c_in {
                let g = &weight[(o * c_in + c) * 9..][..9];
                // G g (6×3), then (G g) Gᵀ (6×6), in f64 so the transform adds no error.
                let mut gg = [[0.0f64; 3]; A];
                for col in 0..3 {
                    let u = kernel_1d([g[col] as f64, g[3 + col] as f64, g[6 + col] as f64]);
                    for (row, v) in u.into_iter().enumerate() {
                        gg[row][col] = v;
                    }
                }
                for (row, ggr) in gg.iter().enumerate() {
                    for (col, v) in kernel_1d(*ggr).into_iter().enumerate() {
                        transformed[((row * A + col) * c_out + o) * c_in + c] = v as f32;
                    }
                }
            }
        }
        Self { c_in, c_out, transformed, bias }
    }

    /// The convolution (zero padding keeping the size) of the planes of `parts` taken one
    /// after the other (`c_in` planes of `h × w` in all) plus the bias, through a ReLU if
    /// `relu`: `c_out` planes of `h × w`.
    pub fn apply(&self, parts: &[&[f32]], h: usize, w: usize, relu: bool) -> Vec<f32> {
        assert_eq!(parts.iter().map(|p| p.len()).sum::<usize>(), self.c_in * h * w, "input size");
        // Every element is written by exactly one band (see `band`): no zeroing first.
        let mut out: Vec<f32> = Vec::with_capacity(self.c_out * h * w);
        let call = Call {
            grid: Grid::new(h, w),
            planes: parts.iter().flat_map(|p| p.chunks(h * w)).collect(),
            out: SharedOut::new(&mut out),
            relu,
        };
        let blocks_per_band = (BAND_FLOATS / (POS * (self.c_in + self.c_out))).max(8);
        call.grid
            .bands(blocks_per_band)
            .par_iter()
            .for_each(|band| SCRATCH.with(|scratch| self.band_on_this_cpu(&call, band, &mut scratch.borrow_mut())));
        // SAFETY: the bands have written all c_out·h·w elements: every block row and column,
        // rows below h and columns right of w left out.
        unsafe { out.set_len(self.c_out * h * w) };
        out
    }

    /// `band`, compiled for AVX2 where the CPU has it: the transforms are plain loops over
    /// neighbouring blocks, which the compiler makes twice as wide there as with the baseline's
    /// SSE2. No fused multiply-adds are formed, so both give the same numbers.
    fn band_on_this_cpu(&self, call: &Call<'_>, band: &Band, scratch: &mut Vec<f32>) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (just asked).
            return unsafe { self.band_avx2(call, band, scratch) };
        }
        self.band(call, band, scratch)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    unsafe fn band_avx2(&self, call: &Call<'_>, band: &Band, scratch: &mut Vec<f32>) {
        self.band(call, band, scratch)
    }

    /// One band's blocks: input transform, the 36 products, output transform. The
    /// transformed input and the products are stored by channel, then window position, then
    /// block, so that each transform's first pass is one long run per channel.
    #[inline(always)]
    fn band(&self, call: &Call<'_>, band: &Band, scratch: &mut Vec<f32>) {
        let Call { grid, planes, out, relu } = call;
        let n = band.blocks();
        let nx = band.x1 - band.x0;
        let row_len = M * grid.phase_len;
        let (v_len, m_len) = (POS * self.c_in * n, POS * self.c_out * n);
        let work_len = (2 * A * row_len).max(M * A * n + M * n + M * nx);
        scratch.resize(v_len + m_len + work_len, 0.0);
        let (v, rest) = scratch.split_at_mut(v_len);
        let (m, work) = rest.split_at_mut(m_len);

        // Bᵀ d B for every channel and block. The six input rows the block row's windows
        // cover are padded and split by phase (column mod 4) first; the transform then runs
        // down the windows' columns over whole rows at once, and along each of the six rows
        // so made, where the phases give each window column as one contiguous run of blocks.
        let (rows, rest) = work.split_at_mut(A * row_len);
        let cols = &mut rest[..A * row_len];
        for (c, plane) in planes.iter().enumerate() {
            for ty in band.y0..band.y1 {
                let k0 = (ty - band.y0) * nx;
                for (i, phases) in rows.chunks_exact_mut(row_len).enumerate() {
                    grid.pad_by_phase(plane, (M * ty + i).checked_sub(1), phases);
                }
                let row = |i: usize| &rows[i * row_len..][..row_len];
                let outs = disjoint_runs(cols, std::array::from_fn(|i| i * row_len), row_len);
                input_1d([row(0), row(1), row(2), row(3), row(4), row(5)], outs);
                for i in 0..A {
                    let phases = &cols[i * row_len..][..row_len];
                    let x = |j: usize| &phases[(j % M) * grid.phase_len + band.x0 + j / M..][..nx];
                    let runs = disjoint_runs(v, std::array::from_fn(|j| (c * POS + i * A + j) * n + k0), nx);
                    input_1d([x(0), x(1), x(2), x(3), x(4), x(5)], runs);
                }
            }
        }

        // The products: for each window position, [c_out × c_in] · [c_in × blocks].
        for p in 0..POS {
            // SAFETY: the weights hold POS blocks of c_out × c_in, row-major; `v` and `m` hold,
            // for each channel, POS runs of n (so a position's matrix has rows POS·n apart).
            unsafe {
                gemm::gemm(
                    self.c_out,
                    n,
                    self.c_in,
                    m.as_mut_ptr().add(p * n),
                    1,
                    (POS * n) as isize,
                    false,
                    self.transformed.as_ptr().add(p * self.c_out * self.c_in),
                    1,
                    self.c_in as isize,
                    v.as_ptr().add(p * n),
                    1,
                    (POS * n) as isize,
                    0.0,
                    1.0,
                    false,
                    false,
                    false,
                    gemm::Parallelism::None,
                );
            }
        }

        // Aᵀ m A for every output channel and block: down the columns (all six at once), then
        // along the rows; biased, rectified and stored.
        let (s, rest) = work.split_at_mut(M * A * n);
        let (y, line) = rest.split_at_mut(M * n);
        let line = &mut line[..M * nx];
        for o in 0..self.c_out {
            let mo = &m[o * POS * n..][..POS * n];
            let at = |i: usize| &mo[i * A * n..][..A * n];
            let runs = disjoint_runs(s, std::array::from_fn(|a| a * A * n), A * n);
            output_1d([at(0), at(1), at(2), at(3), at(4), at(5)], runs);
            for a in 0..M {
                let at = |j: usize| &s[(a * A + j) * n..][..n];
                let runs = disjoint_runs(y, std::array::from_fn(|b| b * n), n);
                output_1d([at(0), at(1), at(2), at(3), at(4), at(5)], runs);
                for ty in band.y0..band.y1 {
                    let row = M * ty + a;
                    if row >= grid.h {
                        break;
                    }
                    let k0 = (ty - band.y0) * nx;
                    // Interleave the four columns of each block into the row.
                    for (k, px) in line.chunks_exact_mut(M).enumerate() {
                        for (b, p) in px.iter_mut().enumerate() {
                            *p = y[b * n + k0 + k];
                        }
                    }
                    let x0 = M * band.x0;
                    let len = (M * band.x1).min(grid.w) - x0;
                    // SAFETY: row `row`, columns x0..x0 + len of plane o, inside `out`; only this
                    // band writes them.
                    let dst = unsafe { out.run((o * grid.h + row) * grid.w + x0, len) };
                    let b = self.bias[o];
                    for (d, &v) in dst.iter_mut().zip(&line[..len]) {
                        *d = if *relu { (v + b).max(0.0) } else { v + b };
                    }
                }
            }
        }
    }
}

/// `G g` for one column of a kernel (3 taps → 6 window positions).
fn kernel_1d([g0, g1, g2]: [f64; 3]) -> [f64; A] {
    [
        g0 / 4.0,
        -(g0 + g1 + g2) / 6.0,
        -(g0 - g1 + g2) / 6.0,
        g0 / 24.0 + g1 / 12.0 + g2 / 6.0,
        g0 / 24.0 - g1 / 12.0 + g2 / 6.0,
        g2,
    ]
}

/// `Bᵀ x` for many windows at once: `x[j][k]` is value j of window k; `y[i][k]` gets value i.
#[inline(always)]
fn input_1d(x: [&[f32]; A], y: [&mut [f32]; A]) {
    let n = y[0].len();
    let [x0, x1, x2, x3, x4, x5] = x.map(|s| &s[..n]);
    let [y0, y1, y2, y3, y4, y5] = y;
    for k in 0..n {
        let (a, b, c, d, e, f) = (x0[k], x1[k], x2[k], x3[k], x4[k], x5[k]);
        y0[k] = 4.0 * a - 5.0 * c + e;
        y1[k] = -4.0 * (b + c) + d + e;
        y2[k] = 4.0 * (b - c) - d + e;
        y3[k] = 2.0 * (d - b) - c + e;
        y4[k] = 2.0 * (b - d) - c + e;
        y5[k] = 4.0 * b - 5.0 * d + f;
    }
}

/// `Aᵀ m` for many windows at once: six values each in, four out (`y[i][k]`).
#[inline(always)]
fn output_1d(m: [&[f32]; A], y: [&mut [f32]; M]) {
    let n = y[0].len();
    let [m0, m1, m2, m3, m4, m5] = m.map(|s| &s[..n]);
    let [y0, y1, y2, y3] = y;
    let (y1, y2, y3) = (&mut y1[..n], &mut y2[..n], &mut y3[..n]);
    for k in 0..n {
        let (a, b, c, d, e, f) = (m0[k], m1[k], m2[k], m3[k], m4[k], m5[k]);
        let (sum12, dif12, sum34, dif34) = (b + c, b - c, d + e, d - e);
        y0[k] = a + sum12 + sum34;
        y1[k] = dif12 + 2.0 * dif34;
        y2[k] = sum12 + 4.0 * sum34;
        y3[k] = dif12 + 8.0 * dif34 + f;
    }
}

/// `N` runs of `len` values of `buf`, starting at `starts` (increasing, not overlapping).
#[inline(always)]
fn disjoint_runs<const N: usize>(buf: &mut [f32], starts: [usize; N], len: usize) -> [&mut [f32]; N] {
    assert!(starts.windows(2).all(|p| p[1] >= p[0] + len) && starts[N - 1] + len <= buf.len(), "runs overlap");
    let base = buf.as_mut_ptr();
    // SAFETY: the runs lie inside `buf` and do not overlap (asserted above).
    starts.map(|s| unsafe { std::slice::from_raw_parts_mut(base.add(s), len) })
}

/// The blocks covering an `h × w` map, and the layout of its padded input.
struct Grid {
    h: usize,
    w: usize,
    /// Blocks down and across.
    ty: usize,
    tx: usize,
    /// Entries per phase of a padded row (a block's window reaches into the next block's
    /// first two columns).
    phase_len: usize,
}

impl Grid {
    fn new(h: usize, w: usize) -> Self {
        let (ty, tx) = (h.div_ceil(M), w.div_ceil(M));
        Self { h, w, ty, tx, phase_len: tx + 1 }
    }

    /// Row `y` of `plane` (none: a padding row) zero-padded by one pixel on the left and to
    /// whole blocks on the right, into `phases` as its four phases, one after the other: entry
    /// t of phase q is padded column `M·t + q`, the row's pixel `M·t + q − 1`. Inlined so that
    /// it is compiled for AVX2 with the band that calls it.
    #[inline(always)]
    fn pad_by_phase(&self, plane: &[f32], y: Option<usize>, phases: &mut [f32]) {
        let Some(y) = y.filter(|&y| y < self.h) else {
            phases.fill(0.0);
            return;
        };
        let src = &plane[y * self.w..][..self.w];
        let (p0, rest) = phases.split_at_mut(self.phase_len);
        let (p1, rest) = rest.split_at_mut(self.phase_len);
        let (p2, p3) = rest.split_at_mut(self.phase_len);
        let at = |x: usize| src.get(x).copied().unwrap_or(0.0);
        // Entry 0 holds the left padding and the first three pixels; from entry 1 on, whole
        // groups of four pixels starting at pixel 3; then the ragged end.
        (p0[0], p1[0], p2[0], p3[0]) = (0.0, at(0), at(1), at(2));
        let whole = src.get(3..).map_or(0, |rest| rest.len() / M);
        let groups = src.get(3..).unwrap_or(&[]).chunks_exact(M);
        for (t, px) in groups.enumerate() {
            (p0[t + 1], p1[t + 1], p2[t + 1], p3[t + 1]) = (px[0], px[1], px[2], px[3]);
        }
        for t in whole + 1..self.phase_len {
            let x = M * t - 1;
            (p0[t], p1[t], p2[t], p3[t]) = (at(x), at(x + 1), at(x + 2), at(x + 3));
        }
    }

    /// Bands of at most about `blocks` blocks: whole rows of blocks together when a row is
    /// short, a row cut into runs when it is long.
    fn bands(&self, blocks: usize) -> Vec<Band> {
        let mut bands = Vec::new();
        if self.tx >= blocks {
            let runs = self.tx.div_ceil(blocks);
            for y in 0..self.ty {
                for r in 0..runs {
                    bands.push(Band { y0: y, y1: y + 1, x0: r * self.tx / runs, x1: (r + 1) * self.tx / runs });
                }
            }
        } else {
            let rows = (blocks / self.tx).max(1);
            for y0 in (0..self.ty).step_by(rows) {
                bands.push(Band { y0, y1: (y0 + rows).min(self.ty), x0: 0, x1: self.tx });
            }
        }
        bands
    }
}

/// One convolution's call: its blocks, its input planes (`c_in` of them), the output the bands
/// write, and whether a ReLU follows.
struct Call<'a> {
    grid: Grid,
    planes: Vec<&'a [f32]>,
    out: SharedOut,
    relu: bool,
}

/// A rectangle of blocks: rows `y0..y1`, columns `x0..x1`.
struct Band {
    y0: usize,
    y1: usize,
    x0: usize,
    x1: usize,
}

impl Band {
    fn blocks(&self) -> usize {
        (self.y1 - self.y0) * (self.x1 - self.x0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::saliency::conv::ConvWeights;

    #[test]
    fn equals_the_tap_by_tap_convolution_on_odd_sizes_and_split_inputs() {
        // Sizes not multiples of the block, maps narrower than a band and wider than one.
        for (c_in, c_out, h, w) in
            [(5, 7, 37, 29), (3, 16, 9, 130), (20, 4, 4, 4), (2, 3, 1, 6), (2, 2, 3, 2), (3, 2, 2, 1)]
        {
            let input: Vec<f32> = (0..c_in * h * w).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
            let weight: Vec<f32> = (0..c_out * c_in * 9).map(|i| ((i * 104729) % 997) as f32 / 997.0 - 0.5).collect();
            let bias: Vec<f32> = (0..c_out).map(|i| i as f32 * 0.1 - 0.3).collect();
            let taps = ConvWeights::new(c_in, c_out, 3, 1, &weight, bias.clone());
            let winograd = WinogradWeights::new(c_in, c_out, &weight, bias);
            let (a, b) = input.split_at(c_in / 2 * h * w);
            for relu in [false, true] {
                let want = taps.apply(&[&input], h, w, relu);
                let got = winograd.apply(&[a, b], h, w, relu);
                let worst = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0f32, f32::max);
                assert!(worst < 1e-4, "{c_in}→{c_out} at {h}×{w}, relu {relu}: off by {worst}");
            }
        }
    }
}
