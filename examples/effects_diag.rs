//! Diagnose shadow detection and relighting on synthetic cases: coverage of the true effect
//! region, false positives, and the relit floor's PSNR where detected.
//! cargo run --release --example effects_diag -- data/synth
use layerdecomp::engine::{EffectParams, ShadowRelighting, ShadowRemover};
use layerdecomp::raster::{Mask, Rgb};
use layerdecomp::synth::read_cases;

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "data/synth".into());
    let shadows = ShadowRelighting(EffectParams::default());
    for c in read_cases(dir.as_ref()).unwrap() {
        let (w, h) = (c.truth.input.w as u32, c.truth.input.h as u32);
        let obj = Mask::alpha_above(&c.truth.object, 0.0).dilate(2.0);
        let fx = Mask::alpha_above(&c.truth.effects, 0.1).minus(&obj);
        let img: &Rgb = &c.truth.input;
        let (region, conf) = shadows.detect(img, &obj).unwrap_or((Mask::new(w, h), 0.0));
        let silhouette = Mask::alpha_above(&c.truth.object, 0.5);
        let relit = shadows
            .relight(img, &region, &obj, &silhouette, false, &|| false)
            .map_or_else(|_| img.clone(), |r| r.image);
        if std::env::var("DUMP").ok().as_deref() == Some(c.name.as_str()) {
            let mut show = relit.clone();
            for i in 0..show.px.len() {
                if region.at(i) && !region.erode(1.0).at(i) {
                    show.px[i] = [1.0, 0.0, 0.0];
                }
            }
            let save = |im: &Rgb, n: &str| {
                layerdecomp::io::write_png(
                    &im.to_premul(),
                    format!("/tmp/diag_{n}.png").as_ref(),
                    layerdecomp::io::PngDepth::Eight,
                )
                .unwrap()
            };
            save(&show, "relit");
            save(img, "input");
            save(&c.truth.background, "truth");
        }
        let n = (w * h) as usize;
        let covered = (0..n).filter(|&i| fx.at(i) && region.at(i)).count();
        let near_fx = fx.dilate(3.0);
        let false_pos = (0..n).filter(|&i| region.at(i) && !near_fx.at(i)).count();
        let (mut se, mut k) = (0.0f64, 0usize);
        let (mut se_in, mut k_in) = (0.0f64, 0usize);
        for i in 0..n {
            if region.at(i) && fx.at(i) {
                for ch in 0..3 {
                    se += ((relit.px[i][ch] - c.truth.background.px[i][ch]) as f64).powi(2);
                    se_in += ((img.px[i][ch] - c.truth.background.px[i][ch]) as f64).powi(2);
                }
                k += 3;
                k_in += 3;
            }
        }
        let psnr = |s: f64, k: usize| if k == 0 { f64::NAN } else { 10.0 * (k as f64 / s.max(1e-12)).log10() };
        // What the whole engine leaves as effect layers (object-only brush), as a share of the image.
        let d = layerdecomp::engine::decompose(
            &img.to_premul(),
            &layerdecomp::engine::DecomposeRequest::new(c.mask_object.clone()),
        )
        .unwrap();
        let effect_alpha: f64 =
            d.effects.iter().map(|e| e.layer.pixels.pixels().iter().map(|p| p[3] as f64).sum::<f64>()).sum();
        print!("effect alpha {:>6.3}% | ", 100.0 * effect_alpha / n as f64);
        println!(
            "{} {:<15} {:<9} effect px {:>6} covered {:>5.1}% false+ {:>6} conf {:.2}  relit PSNR {:>5.1} (input {:>5.1})",
            c.name, c.scene, c.floor, fx.count(), 100.0 * covered as f64 / fx.count().max(1) as f64, false_pos, conf, psnr(se, k), psnr(se_in, k_in)
        );
    }
}
