//! One pass of the saliency network (U²-Netp, 320×320) on the engine's device:
//! `cargo bench --bench saliency`. `scripts/u2netp_reference.py --time` times OpenCV's DNN
//! module on the same ONNX file and input, for the ratio in docs/BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use layerdecomp::engine::{pick_device, SaliencyNet, SALIENCY_INPUT_SIDE};
use layerdecomp::raster::Rgb;

fn bench(c: &mut Criterion) {
    let device = pick_device();
    let net = SaliencyNet::bundled(&device).expect("the bundled weights load");
    let n = SALIENCY_INPUT_SIDE;
    let mut img = Rgb::new(n, n);
    for (i, p) in img.px.iter_mut().enumerate() {
        let (x, y) = ((i % n) as f32, (i / n) as f32);
        *p = [0.5 + 0.4 * (x * 0.05).sin(), 0.5 + 0.4 * (y * 0.07).cos(), 0.5 + 0.3 * ((x + y) * 0.03).sin()];
    }
    let mut group = c.benchmark_group("saliency");
    group.sample_size(10);
    group.bench_function(format!("u2netp 320x320 ({})", layerdecomp::engine::describe_device(&device)), |b| {
        b.iter(|| net.forward(&img).expect("the network runs"))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
