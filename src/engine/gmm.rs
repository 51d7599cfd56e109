//! Gaussian mixture colour models (full covariance), fitted by k-means++ then hard EM, as
//! GrabCut uses them.

use super::rng::Rng;

#[derive(Clone, Debug)]
struct Component {
    /// Its share of the samples (in the cost through `log_norm`; kept to check the fit).
    #[cfg_attr(not(test), allow(dead_code))]
    weight: f32,
    mean: [f32; 3],
    inv_cov: [[f32; 3]; 3],
    /// ln(weight) − ½ ln det(2π Σ)
    log_norm: f32,
}

#[derive(Clone, Debug)]
pub struct Gmm {
    comps: Vec<Component>,
}

/// Keeps covariances invertible for flat colours and JPEG-quantised regions.
const COV_FLOOR: f32 = 2e-4;

impl Gmm {
    /// Fit `k` components to `samples` (at most `max_samples` of them are used, chosen with `rng`).
    pub fn fit(samples: &[[f32; 3]], k: usize, max_samples: usize, rng: &mut Rng) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let data: Vec<[f32; 3]> = if samples.len() > max_samples {
            (0..max_samples).map(|_| samples[rng.below(samples.len())]).collect()
        } else {
            samples.to_vec()
        };
        let k = k.min(data.len()).max(1);
        // k-means++ seeding.
        let mut centres = vec![data[rng.below(data.len())]];
        let mut d2: Vec<f32> = data.iter().map(|p| dist2(p, &centres[0])).collect();
        while centres.len() < k {
            let total: f32 = d2.iter().sum();
            if total <= 0.0 {
                break;
            }
            let mut t = rng.unit() * total;
            let mut pick = data.len() - 1;
            for (i, &d) in d2.iter().enumerate() {
                t -= d;
                if t <= 0.0 {
                    pick = i;
                    break;
                }
            }
            centres.push(data[pick]);
            for (i, p) in data.iter().enumerate() {
                d2[i] = d2[i].min(dist2(p, &centres[centres.len() - 1]));
            }
        }
        let mut assign = vec![0usize; data.len()];
        for _ in 0..6 {
            for (i, p) in data.iter().enumerate() {
                assign[i] = (0..centres.len())
                    .min_by(|&a, &b| dist2(p, &centres[a]).total_cmp(&dist2(p, &centres[b])))
                    .unwrap_or(0);
            }
            let mut sums = vec![([0.0f64; 3], 0usize); centres.len()];
            for (p, &a) in data.iter().zip(&assign) {
                for (sum, &v) in sums[a].0.iter_mut().zip(p) {
                    *sum += v as f64;
                }
                sums[a].1 += 1;
            }
            for (c, (s, n)) in centres.iter_mut().zip(&sums) {
                if *n > 0 {
                    *c = [0, 1, 2].map(|k| (s[k] / *n as f64) as f32);
                }
            }
        }
        let mut gmm = Self::from_assignment(&data, &assign, centres.len())?;
        // Two rounds of hard EM under the mixture's own likelihood.
        for _ in 0..2 {
            for (i, p) in data.iter().enumerate() {
                assign[i] = gmm.best_component(p);
            }
            gmm = Self::from_assignment(&data, &assign, centres.len())?;
        }
        Some(gmm)
    }

    fn from_assignment(data: &[[f32; 3]], assign: &[usize], k: usize) -> Option<Self> {
        let mut comps = Vec::new();
        for c in 0..k {
            let members: Vec<&[f32; 3]> = data.iter().zip(assign).filter(|(_, &a)| a == c).map(|(p, _)| p).collect();
            if members.is_empty() {
                continue;
            }
            let n = members.len() as f64;
            let mut mean = [0.0f64; 3];
            for p in &members {
                for i in 0..3 {
                    mean[i] += p[i] as f64 / n;
                }
            }
            let mut cov = [[0.0f64; 3]; 3];
            for p in &members {
                let d = [p[0] as f64 - mean[0], p[1] as f64 - mean[1], p[2] as f64 - mean[2]];
                for i in 0..3 {
                    for j in 0..3 {
                        cov[i][j] += d[i] * d[j] / n;
                    }
                }
            }
            for (i, row) in cov.iter_mut().enumerate() {
                row[i] += COV_FLOOR as f64;
            }
            let (inv, det) = invert3(&cov)?;
            let weight = members.len() as f32 / data.len() as f32;
            let log_norm = weight.ln() - 0.5 * ((2.0 * std::f64::consts::PI).powi(3) * det).ln() as f32;
            comps.push(Component {
                weight,
                mean: mean.map(|v| v as f32),
                inv_cov: inv.map(|r| r.map(|v| v as f32)),
                log_norm,
            });
        }
        (!comps.is_empty()).then_some(Self { comps })
    }

    fn component_log(&self, c: &Component, p: &[f32; 3]) -> f32 {
        let d = [p[0] - c.mean[0], p[1] - c.mean[1], p[2] - c.mean[2]];
        let mut q = 0.0;
        for i in 0..3 {
            for j in 0..3 {
                q += d[i] * c.inv_cov[i][j] * d[j];
            }
        }
        c.log_norm - 0.5 * q
    }

    fn best_component(&self, p: &[f32; 3]) -> usize {
        (0..self.comps.len())
            .max_by(|&a, &b| self.component_log(&self.comps[a], p).total_cmp(&self.component_log(&self.comps[b], p)))
            .unwrap_or(0)
    }

    /// −ln p(colour), the GrabCut data cost.
    pub fn cost(&self, p: &[f32; 3]) -> f32 {
        let logs: Vec<f32> = self.comps.iter().map(|c| self.component_log(c, p)).collect();
        let m = logs.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
        let s: f32 = logs.iter().map(|&l| (l - m).exp()).sum();
        -(m + s.ln())
    }

    /// The sum of component weights (1 for a fitted model).
    #[cfg(test)]
    pub fn total_weight(&self) -> f32 {
        self.comps.iter().map(|c| c.weight).sum()
    }
}

fn dist2(a: &[f32; 3], b: &[f32; 3]) -> f32 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

fn invert3(m: &[[f64; 3]; 3]) -> Option<([[f64; 3]; 3], f64)> {
    let det = m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
        + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
    if !(det.is_finite() && det > 0.0) {
        return None;
    }
    let inv = [
        [
            (m[1][1] * m[2][2] - m[1][2] * m[2][1]) / det,
            (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det,
            (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det,
        ],
        [
            (m[1][2] * m[2][0] - m[1][0] * m[2][2]) / det,
            (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det,
            (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det,
        ],
        [
            (m[1][0] * m[2][1] - m[1][1] * m[2][0]) / det,
            (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det,
            (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det,
        ],
    ];
    Some((inv, det))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separates_two_colour_clusters() {
        let mut rng = Rng::new(1);
        let reds: Vec<[f32; 3]> =
            (0..500).map(|_| [0.8 + 0.05 * rng.normal(), 0.1 + 0.05 * rng.normal(), 0.1]).collect();
        let blues: Vec<[f32; 3]> =
            (0..500).map(|_| [0.1, 0.2 + 0.05 * rng.normal(), 0.9 + 0.03 * rng.normal()]).collect();
        let red = Gmm::fit(&reds, 5, 10_000, &mut rng).unwrap();
        let blue = Gmm::fit(&blues, 5, 10_000, &mut rng).unwrap();
        assert!((red.total_weight() - 1.0).abs() < 1e-4);
        let r = [0.82, 0.12, 0.1];
        assert!(red.cost(&r) + 10.0 < blue.cost(&r));
        let b = [0.1, 0.2, 0.88];
        assert!(blue.cost(&b) + 10.0 < red.cost(&b));
    }
}
