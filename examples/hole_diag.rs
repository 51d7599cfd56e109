//! Where the hole's error is: under the true object, at its soft edge, or in the observed ring
//! the score's 8-px margin adds. Dev aid.
use layerdecomp::bench::{load_cases, BrushMode};
use layerdecomp::engine::Quality;
use layerdecomp::engine::mask::Mask;
use layerdecomp::engine::raster::Rgb;

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "data/synth".into());
    let mut tot = [0.0f64; 3];
    let mut n_cases = 0.0;
    for c in load_cases(dir.as_ref()).unwrap() {
        let t = &c.truth;
        let d = c.decompose(BrushMode::Object, Quality::Balanced, true, 0).unwrap();
        let bg = Rgb::from_premul(&d.background);
        let oa: Vec<f32> = t.object.pixels().iter().map(|p| p[3]).collect();
        let hole = Mask::alpha_above(&t.object, 0.0).dilate(8.0);
        let mut s = [0.0f64; 3];
        let mut k = [0usize; 3];
        for i in 0..bg.px.len() {
            if !hole.at(i) { continue; }
            let cls = if oa[i] >= 0.99 { 0 } else if oa[i] > 0.0 { 1 } else { 2 };
            s[cls] += (0..3).map(|ch| ((bg.px[i][ch] - t.background.px[i][ch]) as f64).powi(2)).sum::<f64>();
            k[cls] += 1;
        }
        let n: usize = k.iter().sum();
        let all: f64 = s.iter().sum();
        println!("{} {:14} {:8} holePSNR {:.2}  share solid {:.2} ({} px, {:.2} dB) edge {:.2} ({} px, {:.2} dB) ring {:.2} ({} px, {:.2} dB)", c.name, c.effect.name(), c.floor,
            10.0 * (3.0 * n as f64 / all).log10(),
            s[0] / all, k[0], 10.0 * (3.0 * k[0] as f64 / s[0]).log10(),
            s[1] / all, k[1], 10.0 * (3.0 * k[1] as f64 / s[1]).log10(),
            s[2] / all, k[2], 10.0 * (3.0 * k[2] as f64 / s[2]).log10());
        for j in 0..3 { tot[j] += s[j] / all; }
        n_cases += 1.0;
    }
    println!("mean shares: solid {:.3} edge {:.3} ring {:.3}", tot[0] / n_cases, tot[1] / n_cases, tot[2] / n_cases);
}
