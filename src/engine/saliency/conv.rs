//! The network's convolutions on the CPU, as a sum over the kernel's taps of matrix products:
//! with the input zero-padded once, the input a tap sees for every output pixel is the padded
//! input shifted, which is a plain strided matrix when the output is computed over the padded
//! width (the extra columns are dropped). No unfolded copy (im2col) is made; the products run in
//! bands of rows over the cores on the `gemm` crate's kernels. The GPU devices keep candle's
//! convolution.

use rayon::prelude::*;

use super::bands::{SharedOut, SCRATCH};

/// Output rows per band of work (times the padded width: the band's pixels).
const BAND_PIXELS: usize = 4096;

/// A convolution's weights, per tap: `[tap][c_out][c_in]`, and its bias.
pub struct ConvWeights {
    pub c_in: usize,
    pub c_out: usize,
    /// Kernel side (3 or 1).
    pub k: usize,
    pub dilation: usize,
    taps: Vec<f32>,
    bias: Vec<f32>,
}

impl ConvWeights {
    /// From candle's layout, `[c_out][c_in][k][k]`.
    pub fn new(c_in: usize, c_out: usize, k: usize, dilation: usize, weight: &[f32], bias: Vec<f32>) -> Self {
        let mut taps = vec![0.0f32; k * k * c_out * c_in];
        for o in 0..c_out {
            for c in 0..c_in {
                for t in 0..k * k {
                    taps[(t * c_out + o) * c_in + c] = weight[(o * c_in + c) * k * k + t];
                }
            }
        }
        Self { c_in, c_out, k, dilation, taps, bias }
    }

    /// The convolution (zero padding keeping the size, stride 1) of the planes of `parts`
    /// taken one after the other (`c_in` planes of `h × w` in all: a channel concatenation
    /// without the copy) plus the bias, through a ReLU if `relu`: `c_out` planes of `h × w`.
    pub fn apply(&self, parts: &[&[f32]], h: usize, w: usize, relu: bool) -> Vec<f32> {
        assert_eq!(parts.iter().map(|p| p.len()).sum::<usize>(), self.c_in * h * w, "input size");
        // Taken out rather than borrowed: a pass started on this thread while this one waits
        // for its bands (rayon may run one here) then simply gets a fresh buffer.
        let mut padded = PADDED.take();
        self.pad(parts, h, w, &mut padded);
        let out = self.convolve(&padded, h, w, relu);
        PADDED.set(padded);
        out
    }

    /// The input planes zero-padded by the kernel's reach, with one more row so the last tap's
    /// reads stay inside. Only the borders are zeroed: the buffer is reused from call to call
    /// (a fresh one would be mapped and faulted in again every time).
    fn pad(&self, parts: &[&[f32]], h: usize, w: usize, padded: &mut Vec<f32>) {
        let pad = self.k / 2 * self.dilation;
        let (hp, wp) = (h + 2 * pad, w + 2 * pad);
        let len = self.c_in * hp * wp;
        padded.resize(len + 2 * pad + 1, 0.0);
        padded[len..].fill(0.0);
        let planes = parts.iter().flat_map(|p| p.chunks(h * w));
        let jobs: Vec<(&mut [f32], &[f32])> = padded[..len].chunks_mut(hp * wp).zip(planes).collect();
        jobs.into_par_iter().for_each(|(dst, src)| {
            dst[..pad * wp].fill(0.0);
            dst[(h + pad) * wp..].fill(0.0);
            for y in 0..h {
                let row = &mut dst[(y + pad) * wp..][..wp];
                row[..pad].fill(0.0);
                row[pad..pad + w].copy_from_slice(&src[y * w..][..w]);
                row[pad + w..].fill(0.0);
            }
        });
    }

    /// The convolution proper over `padded` (see `pad`).
    fn convolve(&self, padded: &[f32], h: usize, w: usize, relu: bool) -> Vec<f32> {
        let pad = self.k / 2 * self.dilation;
        let (hp, wp) = (h + 2 * pad, w + 2 * pad);
        // Each band of rows is computed over the padded width (pixel j is (j / wp, j % wp); the
        // columns ≥ w are dropped) into a scratch buffer, then biased, rectified and stored while
        // it is still in cache.
        let mut out = vec![0.0f32; self.c_out * h * w];
        let rows_per_band = (BAND_PIXELS / wp).max(1);
        let bands: Vec<(usize, usize)> =
            (0..h).step_by(rows_per_band).map(|y0| (y0, (y0 + rows_per_band).min(h))).collect();
        let out_ptr = SharedOut::new(&mut out);
        bands.par_iter().for_each(|&(y0, y1)| {
            let m = (y1 - y0) * wp;
            SCRATCH.with(|scratch| {
                let mut acc = scratch.borrow_mut();
                acc.resize(self.c_out * m, 0.0);
                for t in 0..self.k * self.k {
                    let shift = (t / self.k) * self.dilation * wp + (t % self.k) * self.dilation;
                    // SAFETY: `acc` holds `c_out` rows of `m`; the tap's weights are `c_out ×
                    // c_in` row-major; the input read for output j < m of channel c is
                    // `padded[c·hp·wp + y0·wp + j + shift]`, below c_in·hp·wp + 2·pad + 1, the
                    // length of `padded`.
                    unsafe {
                        gemm::gemm(
                            self.c_out,
                            m,
                            self.c_in,
                            acc.as_mut_ptr(),
                            1,
                            m as isize,
                            t > 0,
                            self.taps.as_ptr().add(t * self.c_out * self.c_in),
                            1,
                            self.c_in as isize,
                            padded.as_ptr().add(y0 * wp + shift),
                            1,
                            (hp * wp) as isize,
                            1.0,
                            1.0,
                            false,
                            false,
                            false,
                            gemm::Parallelism::None,
                        );
                    }
                }
                for (o, &b) in self.bias.iter().enumerate() {
                    for y in y0..y1 {
                        let src = &acc[o * m + (y - y0) * wp..][..w];
                        // SAFETY: row y of plane o, inside `out`; only this band writes rows y0..y1.
                        let row = unsafe { out_ptr.run((o * h + y) * w, w) };
                        for (d, &v) in row.iter_mut().zip(src) {
                            *d = if relu { (v + b).max(0.0) } else { v + b };
                        }
                    }
                }
            });
        });
        out
    }
}

thread_local! {
    /// The calling thread's padded input (see `ConvWeights::pad`).
    static PADDED: std::cell::Cell<Vec<f32>> = const { std::cell::Cell::new(Vec::new()) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The direct definition, for comparison.
    fn direct(cw: &ConvWeights, input: &[f32], h: usize, w: usize) -> Vec<f32> {
        let (k, d) = (cw.k as isize, cw.dilation as isize);
        let mut out = vec![0.0f32; cw.c_out * h * w];
        for o in 0..cw.c_out {
            for y in 0..h as isize {
                for x in 0..w as isize {
                    let mut s = cw.bias[o];
                    for c in 0..cw.c_in {
                        for ky in 0..k {
                            for kx in 0..k {
                                let (sy, sx) = (y + (ky - k / 2) * d, x + (kx - k / 2) * d);
                                if sy >= 0 && sx >= 0 && sy < h as isize && sx < w as isize {
                                    let t = ky as usize * cw.k + kx as usize;
                                    s += cw.taps[(t * cw.c_out + o) * cw.c_in + c]
                                        * input[(c * h + sy as usize) * w + sx as usize];
                                }
                            }
                        }
                    }
                    out[(o * h + y as usize) * w + x as usize] = s;
                }
            }
        }
        out
    }

    #[test]
    fn equals_the_direct_convolution_with_dilation_and_odd_sizes() {
        let (c_in, c_out, h, w) = (5, 7, 37, 29);
        let input: Vec<f32> = (0..c_in * h * w).map(|i| ((i * 7919) % 1000) as f32 / 500.0 - 1.0).collect();
        for (k, dilation) in [(3, 1), (3, 2), (3, 4), (1, 1)] {
            let weight: Vec<f32> =
                (0..c_out * c_in * k * k).map(|i| ((i * 104729) % 997) as f32 / 997.0 - 0.5).collect();
            let bias = (0..c_out).map(|i| i as f32 * 0.1 - 0.3).collect();
            let cw = ConvWeights::new(c_in, c_out, k, dilation, &weight, bias);
            let (a, b) = input.split_at(2 * h * w);
            let ours = cw.apply(&[a, b], h, w, false);
            let want = direct(&cw, &input, h, w);
            let worst = ours.iter().zip(&want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(worst < 1e-4, "k {k} dilation {dilation}: off by {worst}");
        }
    }
}
