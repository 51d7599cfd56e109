//! Time the effect stages on synthetic cases (reflection detection, shadow detection,
//! relighting): cargo run --release --example effects_times -- data/synth. Dev aid.
use layerdecomp::bench::load_cases;
use layerdecomp::engine::effects::{detect_shadows, relight, EffectParams};
use layerdecomp::engine::mask::Mask;
use layerdecomp::engine::reflection::detect_reflection;
use std::time::Instant;

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "data/synth".into());
    let mut sums = [0.0f64; 3];
    let mut n = 0;
    for c in load_cases(dir.as_ref()).unwrap() {
        let (w, h) = (c.truth.input.w as u32, c.truth.input.h as u32);
        let alpha: Vec<f32> = c.truth.object.pixels().iter().map(|p| p[3]).collect();
        let object = Mask::alpha_above(&c.truth.object, 0.0).dilate(2.0);
        let silhouette = Mask::alpha_above(&c.truth.object, 0.5);
        let matte = layerdecomp::engine::raster::Plane { w: w as usize, h: h as usize, v: alpha.clone() };
        let img = &c.truth.input;
        let t = Instant::now();
        let _ = detect_reflection(img, &matte, &object);
        let t1 = t.elapsed().as_secs_f64();
        let found = detect_shadows(img, &object, &EffectParams::default());
        let t2 = t.elapsed().as_secs_f64();
        if let Some((region, _)) = &found {
            let _ = relight(img, region, &object, &silhouette);
        }
        let t3 = t.elapsed().as_secs_f64();
        sums[0] += t1;
        sums[1] += t2 - t1;
        sums[2] += t3 - t2;
        n += 1;
    }
    println!("mean seconds per case: reflection {:.3}, shadow detection {:.3}, relighting {:.3}", sums[0] / n as f64, sums[1] / n as f64, sums[2] / n as f64);
}
