//! How much of the hole's error is the fill itself, and how much its inputs (the hole's shape,
//! the context's shadows): PatchMatch on the true shadow-free floor with the true hole, on the
//! photo with the true hole, on the true floor with our hole, and our pipeline. Dev aid.
use layerdecomp::bench::{load_cases, object_canvas, BrushMode};
use layerdecomp::engine::complete::{complete, CompletionParams};
use layerdecomp::engine::Quality;
use layerdecomp::engine::mask::Mask;
use layerdecomp::engine::raster::Rgb;
use layerdecomp::engine::rng::Rng;
fn main() {
    let mut s = [0.0f64; 4];
    let mut n = 0.0;
    for c in load_cases("data/synth".as_ref()).unwrap() {
        let t = &c.truth;
        let obj = Mask::alpha_above(&t.object, 0.0);
        let hole = obj.dilate(2.0);
        let score = obj.dilate(8.0);
        let d = c.decompose(BrushMode::Object, Quality::Balanced, true, 0).unwrap();
        let our_hole = Mask::alpha_above(&object_canvas(&d), 0.0).dilate(2.0);
        let fill = |img: &Rgb, hole: &Mask| complete(img, hole, &CompletionParams::default(), &Rng::new(0), &mut |_| {}, &|| false).ok().unwrap();
        let p = |b: &Rgb| { let (mut e, mut k) = (0.0f64, 0.0f64); for i in 0..b.px.len() { if score.at(i) { for ch in 0..3 { e += ((b.px[i][ch] - t.background.px[i][ch]) as f64).powi(2); } k += 3.0; } } 10.0 * (k / e).log10() };
        let r = [p(&fill(&t.background, &hole)), p(&fill(&t.input, &hole)), p(&fill(&t.background, &our_hole)), p(&Rgb::from_premul(&d.background))];
        println!("{} {:14} {:8} true-bg+true-hole {:.2} photo+true-hole {:.2} true-bg+our-hole {:.2} ours {:.2}", c.name, c.effect.name(), c.floor, r[0], r[1], r[2], r[3]);
        for k in 0..4 { s[k] += r[k]; }
        n += 1.0;
    }
    println!("mean true-bg+true-hole {:.2} photo+true-hole {:.2} true-bg+our-hole {:.2} ours {:.2}", s[0] / n, s[1] / n, s[2] / n, s[3] / n);
}
