//! Scoring a decomposition against a synthetic case's ground truth. The same code scores our
//! engine and the peers (OpenCV inpainting), so every claim is a ratio measured in one run.

use layerdecomp::document::{LayerStack, NewLayer, PremulImage, Transform};
use layerdecomp::raster::Mask;
use layerdecomp::raster::{luma, Rgb};
use layerdecomp::synth::Truth;

/// A prediction to score: background and foreground, full canvas.
pub struct Prediction {
    pub background: Rgb,
    /// Premultiplied foreground (object + effects), full canvas.
    pub foreground: PremulImage,
    /// The object layer alone (premultiplied, full canvas), for the object-alpha score.
    pub object: PremulImage,
}

#[derive(Clone, Debug, Default)]
pub struct Scores {
    pub hole_psnr: f64,
    pub texture_ratio: f64,
    /// `None` when the case has no visible effect region.
    pub effect_psnr: Option<f64>,
    pub residual_effect: Option<f64>,
    pub alpha_mae: f64,
    pub alpha_mae_effect: Option<f64>,
    pub object_alpha_mae: f64,
    pub fg_psnr: f64,
    pub recomposition_psnr: f64,
}

fn psnr(sq_err_sum: f64, n: f64) -> f64 {
    if n == 0.0 {
        return f64::NAN;
    }
    let mse = sq_err_sum / n;
    if mse <= 1e-12 {
        99.0
    } else {
        10.0 * (1.0 / mse).log10()
    }
}

/// Mean gradient magnitude of the luma over `region` (central differences).
fn mean_gradient(img: &Rgb, region: &Mask) -> f64 {
    let (w, h) = (img.w, img.h);
    let (mut s, mut n) = (0.0f64, 0usize);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            if !region.get(x as u32, y as u32) {
                continue;
            }
            let gx = luma(img.at(x + 1, y)) - luma(img.at(x - 1, y));
            let gy = luma(img.at(x, y + 1)) - luma(img.at(x, y - 1));
            s += ((gx * gx + gy * gy) as f64).sqrt() * 0.5;
            n += 1;
        }
    }
    if n == 0 {
        0.0
    } else {
        s / n as f64
    }
}

/// Foreground moved by `shift` and scaled by `scale` about `anchor`, composited on `bg`.
fn recompose(fg: &PremulImage, bg: &Rgb, shift: (f32, f32), scale: f32, anchor: (f32, f32)) -> Rgb {
    let mut stack = LayerStack::from_background(bg.to_premul());
    stack.push(NewLayer::new("fg", fg.clone()).transform(Transform::default().scaled_about(scale, anchor.0, anchor.1)));
    let id = stack.layers()[1].id;
    stack.translate_group(id, shift.0, shift.1);
    Rgb::from_premul(&layerdecomp::compositor::flatten(&stack))
}

pub fn score(truth: &Truth, pred: &Prediction) -> Scores {
    let (w, h) = (truth.input.w, truth.input.h);
    let n = w * h;
    let obj_alpha: Vec<f32> = truth.object.pixels().iter().map(|p| p[3]).collect();
    let fx_alpha: Vec<f32> = truth.effects.pixels().iter().map(|p| p[3]).collect();
    let hole = Mask::from_bytes(w as u32, h as u32, obj_alpha.iter().map(|&a| (a > 0.0) as u8).collect())
        .expect("sizes")
        .dilate(8.0);
    let effect_region = Mask::from_bytes(w as u32, h as u32, fx_alpha.iter().map(|&a| (a > 0.1) as u8).collect())
        .expect("sizes")
        .minus(&hole);

    let sq = |a: [f32; 3], b: [f32; 3]| -> f64 { (0..3).map(|c| ((a[c] - b[c]) as f64).powi(2)).sum::<f64>() };
    let region_psnr = |region: &Mask| {
        let (mut s, mut k) = (0.0, 0.0);
        for i in 0..n {
            if region.at(i) {
                s += sq(pred.background.px[i], truth.background.px[i]);
                k += 3.0;
            }
        }
        psnr(s, k)
    };
    let hole_psnr = region_psnr(&hole);
    let truth_grad = mean_gradient(&truth.background, &hole);
    let texture_ratio = if truth_grad > 0.0 { mean_gradient(&pred.background, &hole) / truth_grad } else { f64::NAN };
    let has_effect = effect_region.count() > 50;
    let effect_psnr = has_effect.then(|| region_psnr(&effect_region));
    let residual_effect = has_effect.then(|| {
        let (mut p, mut t) = (0.0f64, 0.0f64);
        for i in 0..n {
            if effect_region.at(i) {
                p += luma(pred.background.px[i]) as f64;
                t += luma(truth.background.px[i]) as f64;
            }
        }
        p / t.max(1e-9)
    });

    // Ground-truth foreground: object over effects.
    let truth_fg: Vec<[f32; 4]> = truth
        .object
        .pixels()
        .iter()
        .zip(truth.effects.pixels())
        .map(|(o, e)| [0, 1, 2, 3].map(|c| o[c] + (1.0 - o[3]) * e[c]))
        .collect();
    let truth_fg = PremulImage::from_pixels(w as u32, h as u32, truth_fg).expect("sizes");
    let alpha_err: Vec<f64> =
        pred.foreground.pixels().iter().zip(truth_fg.pixels()).map(|(p, t)| (p[3] - t[3]).abs() as f64).collect();
    let alpha_mae = alpha_err.iter().sum::<f64>() / n as f64;
    let alpha_mae_effect = has_effect.then(|| {
        let (mut s, mut k) = (0.0, 0usize);
        for (i, err) in alpha_err.iter().enumerate() {
            if effect_region.at(i) {
                s += err;
                k += 1;
            }
        }
        s / k.max(1) as f64
    });
    let object_alpha_mae = object_alpha_mae(&obj_alpha, &pred.object, w, h);
    let fg_psnr = {
        let s: f64 = pred
            .foreground
            .pixels()
            .iter()
            .zip(truth_fg.pixels())
            .map(|(p, t)| (0..3).map(|c| ((p[c] - t[c]) as f64).powi(2)).sum::<f64>())
            .sum();
        psnr(s, 3.0 * n as f64)
    };
    let recomposition_psnr = recomposition_psnr(&truth_fg, &truth.background, pred);
    Scores {
        hole_psnr,
        texture_ratio,
        effect_psnr,
        residual_effect,
        alpha_mae,
        alpha_mae_effect,
        object_alpha_mae,
        fg_psnr,
        recomposition_psnr,
    }
}

/// The object's alpha error over its bounding box.
fn object_alpha_mae(obj_alpha: &[f32], object: &PremulImage, w: usize, h: usize) -> f64 {
    let solid =
        Mask::from_bytes(w as u32, h as u32, obj_alpha.iter().map(|&a| (a > 0.0) as u8).collect()).expect("sizes");
    let (bx, by, bw, bh) = solid.bounds().unwrap_or((0, 0, w as u32, h as u32));
    let (mut s, mut k) = (0.0f64, 0usize);
    for y in by..by + bh {
        for x in bx..bx + bw {
            let i = (y as usize) * w + x as usize;
            s += (object.pixels()[i][3] - obj_alpha[i]).abs() as f64;
            k += 1;
        }
    }
    s / k.max(1) as f64
}

/// What the user sees after moving the object: our foreground and background recomposed after
/// the user's task (move the object a quarter of the width, shrink it 10 %) against the truth's,
/// over where the object was and where it went.
fn recomposition_psnr(truth_fg: &PremulImage, truth_bg: &Rgb, pred: &Prediction) -> f64 {
    let (w, h) = (truth_bg.w, truth_bg.h);
    let n = w * h;
    let sq = |a: [f32; 3], b: [f32; 3]| -> f64 { (0..3).map(|c| ((a[c] - b[c]) as f64).powi(2)).sum::<f64>() };
    // The user's task: move the object a quarter of the width and shrink it 10 %.
    let solid = Mask::alpha_above(truth_fg, 0.01);
    let (bx, by, bw, bh) = solid.bounds().unwrap_or((0, 0, 1, 1));
    let anchor = (bx as f32 + bw as f32 / 2.0, (by + bh) as f32);
    let shift = (if anchor.0 > w as f32 / 2.0 { -(w as f32) * 0.25 } else { w as f32 * 0.25 }, h as f32 * 0.03);
    let ours = recompose(&pred.foreground, &pred.background, shift, 0.9, anchor);
    let theirs = recompose(truth_fg, truth_bg, shift, 0.9, anchor);
    let moved = {
        let mut m = LayerStack::new(w as u32, h as u32);
        m.push(
            NewLayer::new("m", truth_fg.clone()).transform(Transform::default().scaled_about(0.9, anchor.0, anchor.1)),
        );
        let id = m.layers()[0].id;
        m.translate_group(id, shift.0, shift.1);
        layerdecomp::compositor::flatten(&m)
    };
    let union = Mask::from_bytes(
        w as u32,
        h as u32,
        (0..n).map(|i| (truth_fg.pixels()[i][3] > 0.01 || moved.pixels()[i][3] > 0.01) as u8).collect(),
    )
    .expect("sizes");
    let (mut s, mut k) = (0.0, 0.0);
    for i in 0..n {
        if union.at(i) {
            s += sq(ours.px[i], theirs.px[i]);
            k += 3.0;
        }
    }
    psnr(s, k)
}

/// What an inpainting-only peer gives the user: the brushed pixels cut out as the foreground,
/// and its inpainted background.
pub fn peer_prediction(input: &Rgb, brush: &Mask, background: Rgb) -> Prediction {
    let fg: Vec<[f32; 4]> = input
        .px
        .iter()
        .enumerate()
        .map(|(i, p)| if brush.at(i) { [p[0], p[1], p[2], 1.0] } else { [0.0; 4] })
        .collect();
    let fg = PremulImage::from_pixels(input.w as u32, input.h as u32, fg).expect("sizes");
    Prediction { background, object: fg.clone(), foreground: fg }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy_truth() -> Truth {
        let (w, h) = (64usize, 48usize);
        let bg = Rgb {
            w,
            h,
            px: (0..w * h).map(|i| [((i % w) as f32 / w as f32), 0.5, ((i / w) as f32 / h as f32)]).collect(),
        };
        let mut obj = PremulImage::new(w as u32, h as u32);
        let mut fx = PremulImage::new(w as u32, h as u32);
        for y in 20..36 {
            for x in 24..40 {
                obj.set(x, y, [0.8, 0.1, 0.1, 1.0]);
            }
            for x in 40..52 {
                fx.set(x, y, [0.0, 0.0, 0.0, 0.5]);
            }
        }
        let input = Rgb {
            w,
            h,
            px: (0..w * h)
                .map(|i| {
                    let (o, e, b) = (obj.pixels()[i], fx.pixels()[i], bg.px[i]);
                    [0, 1, 2].map(|c| o[c] + (1.0 - o[3]) * (e[c] + (1.0 - e[3]) * b[c]))
                })
                .collect(),
        };
        Truth { input, background: bg, object: obj, effects: fx }
    }

    #[test]
    fn the_truth_scores_perfectly_and_a_peer_does_not() {
        let t = toy_truth();
        let fg: Vec<[f32; 4]> = t
            .object
            .pixels()
            .iter()
            .zip(t.effects.pixels())
            .map(|(o, e)| [0, 1, 2, 3].map(|c| o[c] + (1.0 - o[3]) * e[c]))
            .collect();
        let fg = PremulImage::from_pixels(64, 48, fg).unwrap();
        let perfect = Prediction { background: t.background.clone(), foreground: fg, object: t.object.clone() };
        let s = score(&t, &perfect);
        assert_eq!((s.hole_psnr, s.fg_psnr, s.recomposition_psnr), (99.0, 99.0, 99.0));
        assert!((s.texture_ratio - 1.0).abs() < 1e-9 && s.alpha_mae == 0.0 && s.object_alpha_mae == 0.0);
        assert_eq!(s.residual_effect, Some(1.0));
        // A peer that cut out only the object and left the shadow in the background.
        let brush = Mask::from_fn(64, 48, |x, y| (22..42).contains(&x) && (18..38).contains(&y));
        let mut peer_bg = t.input.clone();
        for y in 18..38 {
            for x in 22..42 {
                peer_bg.px[y * 64 + x] = t.background.px[y * 64 + x];
            }
        }
        let s = score(&t, &peer_prediction(&t.input, &brush, peer_bg));
        let residual = s.residual_effect.unwrap();
        assert!(residual < 0.8, "the shadow stays: {residual}");
        assert!(s.recomposition_psnr < 30.0 && s.alpha_mae_effect.unwrap() > 0.4);
    }
}
