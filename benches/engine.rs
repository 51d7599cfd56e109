//! Every stage of a decomposition at 1 MP and 12 MP, and the whole of it:
//! `cargo bench --bench engine`. The inputs are procedural (a textured floor, a disc-shaped
//! object of 5 % / 3 % of the image casting a soft shadow beside it), so the benchmark needs no
//! data files. The saliency network has its own bench (`--bench saliency`: one pass is the same
//! 320×320 work at any photo size); here its prior for the cut (its views of the brush's box,
//! each cropped and resized from the photo) is timed as a stage.

use criterion::{criterion_group, criterion_main, Criterion};
use layerdecomp::engine::{
    decompose_with, pick_device, saliency_prior, Completer, CompletionParams, DecomposeRequest, EffectParams, GrabCut,
    GuidedFilterMatting, Matter, MattingParams, MirroredReflection, PatchMatchCompletion, Quality, ReflectionRemover,
    Rng, SaliencyNet, SegmentParams, Segmenter, ShadowRelighting, ShadowRemover, Stages,
};
use layerdecomp::raster::{Mask, Plane, Rgb};

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

/// The floor with a blue disc on it and the disc's soft shadow falling to its right; the
/// object, and a loose brush over it.
fn scene(w: usize, h: usize, area_fraction: f32) -> (Rgb, Mask, Mask) {
    let object = disc(w, h, area_fraction);
    let (bx, by, bw, bh) = object.bounds().expect("a disc");
    let (cx, cy, r) = (bx as f32 + bw as f32 / 2.0, by as f32 + bh as f32 / 2.0, bw as f32 / 2.0);
    let mut img = floor(w, h);
    for (i, p) in img.px.iter_mut().enumerate() {
        let (x, y) = ((i % w) as f32, (i / w) as f32);
        let (dx, dy) = ((x - cx - 0.9 * r) / (1.4 * r), (y - cy - 0.6 * r) / (0.5 * r));
        let shade = (1.2 - (dx * dx + dy * dy).sqrt()).clamp(0.0, 0.4) * 1.25;
        *p = p.map(|v| v * (1.0 - 0.5 * shade));
        if object.at(i) {
            *p = [0.15, 0.25, 0.7];
        }
    }
    let brush = object.dilate((r * 0.08).max(6.0));
    (img, object, brush)
}

fn bench(c: &mut Criterion) {
    let net = SaliencyNet::bundled(&pick_device()).expect("the bundled weights load");
    for (name, w, h, frac) in [("1MP", 1224usize, 816usize, 0.05f32), ("12MP", 4240, 2832, 0.03)] {
        let (img, object, brush) = scene(w, h, frac);
        let hole = disc(w, h, frac);
        let mut group = c.benchmark_group(format!("engine {name}"));
        group.sample_size(10);
        group.bench_function("selection prior (network views)", |b| {
            b.iter(|| saliency_prior(&net, &img, &brush, &|| false).unwrap())
        });
        let segmenter = GrabCut(SegmentParams::default());
        group.bench_function("segmentation", |b| {
            b.iter(|| segmenter.segment(&img, &brush, None, &mut Rng::new(1), &|| false).unwrap())
        });
        let matting = GuidedFilterMatting(MattingParams::default());
        group.bench_function("matting", |b| b.iter(|| matting.matte(&img, &object, &|| false).unwrap()));
        let alpha = Plane { w, h, v: object.data().iter().map(|&b| b as f32).collect() };
        let grown = object.dilate(2.0);
        group.bench_function("reflection search", |b| {
            b.iter(|| MirroredReflection.remove(&img, &alpha, &grown, &|| false).unwrap())
        });
        let shadows = ShadowRelighting(EffectParams::default());
        group.bench_function("shadow detection", |b| b.iter(|| shadows.detect(&img, &grown)));
        let (region, _) = shadows.detect(&img, &grown).expect("the scene's shadow is found");
        group.bench_function("relighting", |b| {
            b.iter(|| shadows.relight(&img, &region, &grown, &object, true, &|| false).unwrap())
        });
        let fill = PatchMatchCompletion(CompletionParams::default());
        let nothing_to_avoid = Mask::new(w as u32, h as u32);
        group.bench_function("completion", |b| {
            b.iter(|| fill.complete(&img, &hole, &nothing_to_avoid, &Rng::new(1), &mut |_| {}, &|| false).unwrap())
        });
        // The whole decomposition without the network (the classical stages), every core.
        let stages = Stages::classical(Quality::Balanced);
        let premul = img.to_premul();
        group.bench_function("decomposition (classical stages)", |b| {
            b.iter(|| {
                let mut req = DecomposeRequest::new(brush.clone());
                req.threads = std::thread::available_parallelism().ok().map(|n| n.get());
                decompose_with(&stages, &premul, &req).unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
