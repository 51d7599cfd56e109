//! Reflection detection on the synthetic cases: found or not, coverage of the true effect
//! region, and the floor's PSNR there before and after unmixing. Dev aid.
//! cargo run --release --example reflection_diag -- data/synth
use layerdecomp::engine::{MirroredReflection, ReflectionRemover};
use layerdecomp::raster::Mask;
use layerdecomp::synth::read_cases;

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "data/synth".into());
    for c in read_cases(dir.as_ref()).expect("cases") {
        let (w, h) = (c.truth.input.w as u32, c.truth.input.h as u32);
        let alpha: Vec<f32> = c.truth.object.pixels().iter().map(|p| p[3]).collect();
        let matte = layerdecomp::raster::Plane { w: w as usize, h: h as usize, v: alpha.clone() };
        let object = Mask::alpha_above(&c.truth.object, 0.0).dilate(2.0);
        let fx = Mask::alpha_above(&c.truth.effects, 0.1).minus(&object.dilate(6.0));
        let img = &c.truth.input;
        let found = MirroredReflection.remove(img, &matte, &object, &|| false).unwrap();
        let psnr = |im: &layerdecomp::raster::Rgb| {
            let (mut s, mut k) = (0.0f64, 0.0f64);
            for i in 0..im.px.len() {
                if fx.at(i) {
                    for ch in 0..3 {
                        s += ((im.px[i][ch] - c.truth.background.px[i][ch]) as f64).powi(2);
                    }
                    k += 3.0;
                }
            }
            10.0 * (k / s.max(1e-12)).log10()
        };
        match found {
            Some(r) => {
                let covered = fx.intersect(&r.region).count();
                let false_pos = r.region.minus(&fx.dilate(3.0)).count();
                println!(
                    "{} {:<15} {:<9} FOUND conf {:.2} covered {:>5.1}% false+ {:>6}  PSNR {:5.1} -> {:5.1}",
                    c.name,
                    c.scene,
                    c.floor,
                    r.confidence,
                    100.0 * covered as f64 / fx.count().max(1) as f64,
                    false_pos,
                    psnr(img),
                    psnr(&r.image)
                );
            }
            None => println!("{} {:<15} {:<9} -", c.name, c.scene, c.floor),
        }
    }
}
