//! Completion and matting at 1 MP and 12 MP: `cargo bench --bench engine`.
//! The inputs are procedural (a textured floor, a disc-shaped hole of 5 % / 3 % of the image),
//! so the benchmark needs no data files.

use criterion::{criterion_group, criterion_main, Criterion};
use layerdecomp::engine::{
    Completer, CompletionParams, GuidedFilterMatting, Matter, MattingParams, PatchMatchCompletion, Rng,
};
use layerdecomp::raster::{Mask, Rgb};

fn floor(w: usize, h: usize) -> Rgb {
    let mut img = Rgb::new(w, h);
    let mut rng = Rng::new(5);
    for y in 0..h {
        for x in 0..w {
            let (xf, yf) = (x as f32, y as f32);
            let grain = ((xf * 0.21).sin() + (yf * 0.05 + (xf * 0.011).sin() * 4.0).sin()) * 0.04 + 0.02 * rng.normal();
            let seam = if x % 61 == 0 { 0.6 } else { 1.0 };
            img.px[y * w + x] = [0.6 + grain, 0.45 + grain, 0.3 + grain].map(|v| (v * seam).clamp(0.0, 1.0));
        }
    }
    img
}

fn disc(w: usize, h: usize, area_fraction: f32) -> Mask {
    let r = (area_fraction * (w * h) as f32 / std::f32::consts::PI).sqrt();
    let (cx, cy) = (w as f32 * 0.45, h as f32 * 0.55);
    Mask::from_fn(w as u32, h as u32, |x, y| (x as f32 - cx).powi(2) + (y as f32 - cy).powi(2) < r * r)
}

fn bench(c: &mut Criterion) {
    for (name, w, h, frac) in [("1MP", 1224usize, 816usize, 0.05f32), ("12MP", 4240, 2832, 0.03)] {
        let img = floor(w, h);
        let hole = disc(w, h, frac);
        let mut group = c.benchmark_group(format!("engine {name}"));
        group.sample_size(10);
        let (fill, matting) =
            (PatchMatchCompletion(CompletionParams::default()), GuidedFilterMatting(MattingParams::default()));
        let nothing_to_avoid = Mask::new(w as u32, h as u32);
        group.bench_function("completion", |b| {
            b.iter(|| fill.complete(&img, &hole, &nothing_to_avoid, &Rng::new(1), &mut |_| {}, &|| false).unwrap())
        });
        group.bench_function("matting", |b| b.iter(|| matting.matte(&img, &hole, &|| false).unwrap()));
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
