//! Feature maps on the CPU, for the network's CPU path: plain planes with the few operations
//! U²-Netp needs besides its convolutions (`conv`). Kept out of candle's tensors because the
//! round trips (copies out for every convolution, the concatenations, fresh buffers) cost as much
//! as the arithmetic.

/// `c` planes of `h × w`, plane after plane.
pub struct Planes {
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub data: Vec<f32>,
}

impl Planes {
    pub fn new(c: usize, h: usize, w: usize, data: Vec<f32>) -> Self {
        assert_eq!(data.len(), c * h * w, "planes' size");
        Self { c, h, w, data }
    }

    /// 2×2 max pooling with stride 2, keeping a last odd row or column (PyTorch's
    /// `ceil_mode`: that partial window's maximum).
    pub fn pool(&self) -> Self {
        let (h, w) = (self.h.div_ceil(2), self.w.div_ceil(2));
        let mut data = vec![0.0f32; self.c * h * w];
        for (dst, src) in data.chunks_mut(h * w).zip(self.data.chunks(self.h * self.w)) {
            for y in 0..h {
                let (r0, r1) = (2 * y, (2 * y + 1).min(self.h - 1));
                let (a, b) = (&src[r0 * self.w..][..self.w], &src[r1 * self.w..][..self.w]);
                for (x, d) in dst[y * w..][..w].iter_mut().enumerate() {
                    let (c0, c1) = (2 * x, (2 * x + 1).min(self.w - 1));
                    *d = a[c0].max(a[c1]).max(b[c0]).max(b[c1]);
                }
            }
        }
        Self { c: self.c, h, w, data }
    }

    /// Resized (bilinear, half-pixel centres, edges clamped: PyTorch's `align_corners=False`)
    /// to `h × w`.
    pub fn upsample(&self, h: usize, w: usize) -> Self {
        if (h, w) == (self.h, self.w) {
            return Self { c: self.c, h, w, data: self.data.clone() };
        }
        let taps = |n_in: usize, n_out: usize| -> Vec<(usize, usize, f32)> {
            let scale = n_in as f32 / n_out as f32;
            (0..n_out)
                .map(|i| {
                    let s = ((i as f32 + 0.5) * scale - 0.5).max(0.0);
                    let i0 = (s as usize).min(n_in - 1);
                    let i1 = (i0 + 1).min(n_in - 1);
                    (i0, i1, s - i0 as f32)
                })
                .collect()
        };
        let (ys, xs) = (taps(self.h, h), taps(self.w, w));
        let mut data = vec![0.0f32; self.c * h * w];
        for (dst, src) in data.chunks_mut(h * w).zip(self.data.chunks(self.h * self.w)) {
            for (y, &(y0, y1, fy)) in ys.iter().enumerate() {
                let (a, b) = (&src[y0 * self.w..][..self.w], &src[y1 * self.w..][..self.w]);
                for (d, &(x0, x1, fx)) in dst[y * w..][..w].iter_mut().zip(&xs) {
                    let top = a[x0] + (a[x1] - a[x0]) * fx;
                    let bottom = b[x0] + (b[x1] - b[x0]) * fx;
                    *d = top + (bottom - top) * fy;
                }
            }
        }
        Self { c: self.c, h, w, data }
    }

    /// Element-wise sum with maps of the same shape.
    pub fn add(mut self, other: &Self) -> Self {
        assert_eq!((self.c, self.h, self.w), (other.c, other.h, other.w), "added maps' shapes");
        for (a, b) in self.data.iter_mut().zip(&other.data) {
            *a += b;
        }
        self
    }

    /// The logistic function of every value.
    pub fn sigmoid(mut self) -> Self {
        for v in &mut self.data {
            *v = 1.0 / (1.0 + (-*v).exp());
        }
        self
    }
}
