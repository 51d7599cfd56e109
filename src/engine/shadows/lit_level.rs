//! The lit surface's log-colour inside a shadow region: a membrane (harmonic interpolation) from
//! the lit rim around it. A shadow often falls across two materials (grass and the path beside
//! it); one membrane would carry a blend of both into the shadow, and each would come back in
//! the other's colour. So when the rim's lit surface falls into two clearly different
//! chromaticities, each gets its own membrane from its own part of the rim, and each shadowed
//! pixel takes the lit level of the material its own chromaticity is closest to (a shadow
//! changes brightness much more than chromaticity).

use super::membrane::{membrane, rim};

/// Least distance between the two materials' mean chromaticities (r, g of r+g+b) to treat them
/// apart: well above a shadow's own bluish shift. With `MATCH_SIGMA`, fitted on shadows-dev
/// (0.04–0.09 and 0.01–0.06 tried; 0.05–0.06 with 0.015–0.02 best, within 0.05 RMSE).
const SEPARATION: f32 = 0.06;
/// Least share of the rim the smaller material must hold.
const MIN_SHARE: f32 = 0.1;
/// Width of the chromaticity match (Gaussian) between a pixel and a material.
const MATCH_SIGMA: f32 = 0.02;

/// Per channel, the lit log-colour of every pixel of the `region` (`outside`: the lit surface's
/// wide mean log-colour per channel, meaningful at usable pixels). `local` is each pixel's own
/// lightly smoothed colour, for its chromaticity.
pub(super) fn lit_log_colour(
    outside: &[Vec<f32>; 3],
    local: &[[f32; 3]],
    region: &[bool],
    unusable: &[bool],
    (w, h): (usize, usize),
) -> [Vec<f32>; 3] {
    let rim = rim(region, unusable, w, h);
    let chroma_of = |c: [f32; 3]| {
        let s = (c[0] + c[1] + c[2]).max(1e-6);
        [c[0] / s, c[1] / s]
    };
    let rim_chroma: Vec<(usize, [f32; 2])> =
        rim.iter().map(|&i| (i, chroma_of([0, 1, 2].map(|c| outside[c][i].exp())))).collect();
    let Some((centres, labels)) = two_materials(&rim_chroma) else {
        return [0, 1, 2].map(|c| {
            let mut fixed = vec![None; w * h];
            for &i in &rim {
                fixed[i] = Some(outside[c][i]);
            }
            membrane(&fixed, region, w, h)
        });
    };
    // One membrane per material and channel, pinned at that material's rim only.
    let mut fixed_by: [Vec<Option<f32>>; 2] = [vec![None; w * h], vec![None; w * h]];
    let mut per_material: [[Vec<f32>; 3]; 2] = Default::default();
    for (k, material) in per_material.iter_mut().enumerate() {
        for c in 0..3 {
            for (&(i, _), &label) in rim_chroma.iter().zip(&labels) {
                fixed_by[k][i] = (label == k).then(|| outside[c][i]);
            }
            material[c] = membrane(&fixed_by[k], region, w, h);
        }
    }
    let mut lit: [Vec<f32>; 3] = [vec![0.0; w * h], vec![0.0; w * h], vec![0.0; w * h]];
    for i in 0..w * h {
        if !region[i] {
            continue;
        }
        let chroma = chroma_of(local[i]);
        let weight = centres.map(|m| {
            let d2 = (chroma[0] - m[0]).powi(2) + (chroma[1] - m[1]).powi(2);
            (-d2 / (2.0 * MATCH_SIGMA * MATCH_SIGMA)).exp() + 1e-6
        });
        let total = weight[0] + weight[1];
        for (c, plane) in lit.iter_mut().enumerate() {
            plane[i] = (weight[0] * per_material[0][c][i] + weight[1] * per_material[1][c][i]) / total;
        }
    }
    lit
}

/// Two materials among the rim's chromaticities (2-means from the two most different), if
/// they are clearly apart and each holds a real share: their centres, and each rim pixel's.
fn two_materials(points: &[(usize, [f32; 2])]) -> Option<([[f32; 2]; 2], Vec<usize>)> {
    if points.len() < 20 {
        return None;
    }
    let dist2 = |a: [f32; 2], b: [f32; 2]| (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2);
    let n = points.len() as f32;
    let mean = [points.iter().map(|p| p.1[0]).sum::<f32>() / n, points.iter().map(|p| p.1[1]).sum::<f32>() / n];
    let farthest = |from: [f32; 2]| {
        points.iter().map(|p| p.1).max_by(|a, b| dist2(*a, from).total_cmp(&dist2(*b, from))).unwrap_or(from)
    };
    let first = farthest(mean);
    let mut centres = [first, farthest(first)];
    let mut labels = vec![0usize; points.len()];
    for _ in 0..10 {
        for (label, p) in labels.iter_mut().zip(points) {
            *label = (dist2(p.1, centres[1]) < dist2(p.1, centres[0])) as usize;
        }
        for (k, centre) in centres.iter_mut().enumerate() {
            let members: Vec<[f32; 2]> =
                points.iter().zip(&labels).filter(|(_, &l)| l == k).map(|(p, _)| p.1).collect();
            if !members.is_empty() {
                let m = members.len() as f32;
                *centre =
                    [members.iter().map(|p| p[0]).sum::<f32>() / m, members.iter().map(|p| p[1]).sum::<f32>() / m];
            }
        }
    }
    let smaller = labels.iter().filter(|&&l| l == 1).count().min(labels.iter().filter(|&&l| l == 0).count());
    let apart = dist2(centres[0], centres[1]).sqrt() >= SEPARATION;
    (apart && smaller as f32 >= MIN_SHARE * n).then_some((centres, labels))
}
