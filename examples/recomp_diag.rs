//! What bounds the recomposition score: ours, then with one part swapped for the truth —
//! the fill under the object, the background outside it (relit shadows), the foreground
//! (object + effect layers). Dev aid.
use layerdecomp::bench::{load_cases, object_canvas, score::{score, Prediction}, BrushMode};
use layerdecomp::engine::Quality;
use layerdecomp::engine::mask::Mask;
use layerdecomp::engine::raster::Rgb;
use layerdecomp::PremulImage;

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "data/synth".into());
    let mut sum = [0.0f64; 4];
    let mut n = 0.0;
    for c in load_cases(dir.as_ref()).unwrap() {
        let t = &c.truth;
        let d = c.decompose(BrushMode::Object, Quality::Balanced, true, 0).unwrap();
        let bg = Rgb::from_premul(&d.background);
        let hole = Mask::alpha_above(&t.object, 0.0).dilate(8.0);
        let pred = |bg: Rgb, fg: PremulImage| Prediction { background: bg, object: object_canvas(&d), foreground: fg };
        let swap = |inside: bool| Rgb { w: bg.w, h: bg.h, px: (0..bg.px.len()).map(|i| if hole.at(i) == inside { t.background.px[i] } else { bg.px[i] }).collect() };
        let truth_fg: Vec<[f32; 4]> = t.object.pixels().iter().zip(t.effects.pixels()).map(|(o, e)| [0, 1, 2, 3].map(|k| o[k] + (1.0 - o[3]) * e[k])).collect();
        let truth_fg = PremulImage::from_pixels(bg.w as u32, bg.h as u32, truth_fg).unwrap();
        let r = [
            score(t, &pred(bg.clone(), d.foreground.clone())).recomposition_psnr,
            score(t, &pred(swap(true), d.foreground.clone())).recomposition_psnr,
            score(t, &pred(swap(false), d.foreground.clone())).recomposition_psnr,
            score(t, &pred(bg.clone(), truth_fg)).recomposition_psnr,
        ];
        println!("{} {:14} {:8} ours {:.2}  true-fill {:.2}  true-bg-outside-hole {:.2}  true-fg {:.2}", c.name, c.effect.name(), c.floor, r[0], r[1], r[2], r[3]);
        for k in 0..4 { sum[k] += r[k]; }
        n += 1.0;
    }
    println!("mean ours {:.2}  true-fill {:.2}  true-bg-outside-hole {:.2}  true-fg {:.2}", sum[0] / n, sum[1] / n, sum[2] / n, sum[3] / n);
}
