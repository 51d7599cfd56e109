//! The wgpu compositor against the CPU reference, on whatever adapter wgpu finds (lavapipe in CI,
//! which `.ci/run` installs).

use std::sync::Arc;

use layerdecomp::compositor::gpu::{
    cleared_pass, headless_device, render_target, GpuCompositor, LayerDraw, MaskDraw, Scene, View, TILE,
};
use layerdecomp::{flatten, BlendMode, LayerKind, LayerStack, NewLayer, PremulImage, Transform};

fn pattern(w: u32, h: u32, seed: u32, alpha: impl Fn(u32, u32) -> f32) -> PremulImage {
    let mut img = PremulImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let v = |k: u32| ((x * (7 + k) + y * (13 + 2 * k) + seed * 31) % 97) as f32 / 96.0;
            let a = alpha(x, y);
            img.set(x, y, [v(0) * a, v(1) * a, v(2) * a, a]);
        }
    }
    img
}

fn scene_of(stack: &LayerStack, view: View) -> Scene {
    Scene { view, checker: false, layers: LayerDraw::visible(stack), masks: Vec::new() }
}

fn one_to_one(stack: &LayerStack) -> View {
    View {
        canvas_w: stack.width(),
        canvas_h: stack.height(),
        offset: [0.0, 0.0],
        zoom: 1.0,
        target: [stack.width(), stack.height()],
    }
}

/// Largest per-channel difference between the GPU image and the CPU flatten (both premultiplied
/// 8-bit), and the mean difference.
fn compare(gpu: &image::RgbaImage, cpu: &PremulImage) -> (u8, f64) {
    let mut worst = 0u8;
    let mut sum = 0u64;
    for y in 0..cpu.height() {
        for x in 0..cpu.width() {
            let c = cpu.get(x, y);
            let g = gpu.get_pixel(x, y).0;
            for k in 0..4 {
                let d = (layerdecomp::document::to_u8(c[k]) as i32 - g[k] as i32).unsigned_abs() as u8;
                if d > worst && std::env::var("SHOW_WORST").is_ok() {
                    eprintln!(
                        "worst so far at ({x},{y}) channel {k}: cpu {} gpu {}",
                        layerdecomp::document::to_u8(c[k]),
                        g[k]
                    );
                }
                worst = worst.max(d);
                sum += d as u64;
            }
        }
    }
    (worst, sum as f64 / (cpu.width() * cpu.height() * 4) as f64)
}

#[test]
fn gpu_canvas_matches_cpu_compositor_with_multiply_shadow_and_scaled_layer() {
    let (adapter, device, queue) =
        headless_device().expect("a wgpu adapter (lavapipe: apt install mesa-vulkan-drivers)");
    eprintln!("adapter: {:?}", adapter.get_info().name);
    let (w, h) = (320, 200);
    let mut stack = LayerStack::from_background(pattern(w, h, 1, |_, _| 1.0));
    // A soft shadow in Multiply: dark, partly transparent, with a gradient.
    stack.push(
        NewLayer::new("shadow", pattern(120, 60, 2, |x, _| 0.15 + 0.6 * x as f32 / 120.0))
            .at(40.0, 110.0)
            .blend(BlendMode::Multiply)
            .opacity(0.8)
            .kind(LayerKind::Effect(layerdecomp::EffectKind::Shadow)),
    );
    // An object with a feathered edge at a whole-pixel offset.
    stack.push(
        NewLayer::new("object", pattern(80, 90, 3, |x, y| ((x.min(79 - x).min(y).min(89 - y)) as f32 / 6.0).min(1.0)))
            .at(60.0, 30.0),
    );
    // A scaled, half-transparent layer at a fractional position.
    stack.push(
        NewLayer::new("scaled", pattern(60, 40, 4, |_, y| 0.3 + 0.7 * y as f32 / 40.0))
            .transform(Transform { x: 180.5, y: 20.25, scale_x: 1.5, scale_y: 1.5 })
            .opacity(0.7),
    );
    // A Multiply layer over transparency (outside the background): exercises the Ab < 1 terms.
    let mut compositor = GpuCompositor::new(&device);
    let gpu = compositor.render_to_image(&device, &queue, &scene_of(&stack, one_to_one(&stack)));
    let cpu = flatten(&stack);
    let (worst, mean) = compare(&gpu, &cpu);
    eprintln!("GPU vs CPU: worst {worst} levels, mean {mean:.3}");
    assert!(worst <= 3, "GPU canvas differs from the CPU compositor by {worst} levels");
    assert!(mean < 0.5, "mean difference {mean}");

    // Without the background the Multiply layer lands on transparency.
    let mut bare = LayerStack::new(w, h);
    bare.push(NewLayer::new("obj", pattern(100, 100, 5, |_, _| 0.6)).at(20.0, 20.0));
    bare.push(NewLayer::new("mul", pattern(100, 100, 6, |_, _| 0.5)).at(70.0, 70.0).blend(BlendMode::Multiply));
    let gpu = compositor.render_to_image(&device, &queue, &scene_of(&bare, one_to_one(&bare)));
    let (worst, _) = compare(&gpu, &flatten(&bare));
    assert!(worst <= 3, "Multiply over partial transparency differs by {worst} levels");
}

#[test]
fn large_layers_are_tiled_and_only_changed_tiles_are_uploaded() {
    let (_, device, queue) = headless_device().expect("a wgpu adapter");
    // Wider than one tile: the layer is split and must still composite seamlessly.
    let (w, h) = (TILE + 300, 260);
    let mut stack = LayerStack::from_background(pattern(w, h, 7, |_, _| 1.0));
    let obj = stack.push(NewLayer::new("object", pattern(90, 70, 8, |_, _| 0.9)).at(TILE as f32 - 40.0, 50.0));
    let mut compositor = GpuCompositor::new(&device);
    let view = one_to_one(&stack);
    let gpu = compositor.render_to_image(&device, &queue, &scene_of(&stack, view));
    let (worst, _) = compare(&gpu, &flatten(&stack));
    assert!(worst <= 1, "tiled layer differs by {worst} levels");
    let first = compositor.stats;
    assert_eq!(first.tiles_uploaded, 3, "two background tiles and one object tile");

    // Moving the object uploads nothing.
    stack.translate_group(obj, 25.0, -10.0);
    let gpu = compositor.render_to_image(&device, &queue, &scene_of(&stack, view));
    assert_eq!(compositor.stats.tiles_uploaded, first.tiles_uploaded, "a move must not upload pixels");
    let (worst, _) = compare(&gpu, &flatten(&stack));
    assert!(worst <= 1, "moved layer differs by {worst} levels");

    // A brush dab in one tile of the mask re-uploads that tile only.
    let mut mask = image::GrayImage::new(w, h);
    let mask_scene = |m: &Arc<image::GrayImage>| {
        let mut s = scene_of(&stack, view);
        s.masks.push(MaskDraw { key: 999, mask: m.clone(), tint: [0.5, 0.0, 0.0, 0.5] });
        s
    };
    let m1 = Arc::new(mask.clone());
    compositor.render_to_image(&device, &queue, &mask_scene(&m1));
    let before = compositor.stats.tiles_uploaded;
    assert_eq!(before, first.tiles_uploaded + 2, "a new mask uploads its two tiles");
    for y in 100..120 {
        for x in 10..30 {
            mask.put_pixel(x, y, image::Luma([255]));
        }
    }
    let m2 = Arc::new(mask);
    let gpu = compositor.render_to_image(&device, &queue, &mask_scene(&m2));
    assert_eq!(compositor.stats.tiles_uploaded, before + 1, "only the touched mask tile goes up");
    // The tint shows where the dab is: the CPU expectation is 50 % red over the background.
    let bg = flatten(&stack).get(20, 110);
    let expect = [0.5 + 0.5 * bg[0], 0.5 * bg[1], 0.5 * bg[2], 1.0];
    let got = gpu.get_pixel(20, 110).0;
    for k in 0..4 {
        let d = (layerdecomp::document::to_u8(expect[k]) as i32 - got[k] as i32).abs();
        assert!(d <= 2, "mask tint channel {k}: got {got:?}, expected {expect:?}");
    }
}

#[test]
fn zoomed_out_view_is_filtered_not_aliased() {
    let (_, device, queue) = headless_device().expect("a wgpu adapter");
    // A one-pixel checkerboard shrunk 4×: good filtering gives flat mid-grey, point sampling
    // would give black or white.
    let n = 256;
    let mut img = PremulImage::new(n, n);
    for y in 0..n {
        for x in 0..n {
            let v = ((x + y) % 2) as f32;
            img.set(x, y, [v, v, v, 1.0]);
        }
    }
    let stack = LayerStack::from_background(img);
    let view = View { canvas_w: n, canvas_h: n, offset: [0.0, 0.0], zoom: 0.25, target: [n / 4, n / 4] };
    let mut compositor = GpuCompositor::new(&device);
    let gpu = compositor.render_to_image(&device, &queue, &scene_of(&stack, view));
    for p in gpu.pixels() {
        assert!((p.0[0] as i32 - 128).abs() <= 8, "zoomed-out pixel {:?} is not filtered", p.0);
    }
}

#[test]
fn zoomed_out_sample_matches_cpu_resize() {
    let (_, device, queue) = headless_device().expect("a wgpu adapter");
    let img = layerdecomp::io::import_image_bytes(
        include_bytes!("../assets/sample.jpg"),
        std::path::Path::new("s.jpg"),
        &Default::default(),
    )
    .unwrap()
    .image;
    let stack = LayerStack::from_background(img);
    let z = 0.5;
    let view = View { canvas_w: 1200, canvas_h: 800, offset: [10.0, 20.0], zoom: z, target: [700, 500] };
    let mut compositor = GpuCompositor::new(&device);
    let gpu = compositor.render_to_image(&device, &queue, &scene_of(&stack, view));
    if let Ok(p) = std::env::var("GPU_SHOT") {
        gpu.save(p).unwrap();
    }
    let small = layerdecomp::compositor::resized(&flatten(&stack), 600, 400);
    let mut worst = 0;
    for y in 2..398 {
        for x in 2..598 {
            let g = gpu.get_pixel(x + 10, y + 20).0;
            let c = small.get(x, y);
            for k in 0..3 {
                worst = worst.max((layerdecomp::document::to_u8(c[k]) as i32 - g[k] as i32).abs());
            }
        }
    }
    assert!(worst <= 24, "zoomed-out canvas differs from the CPU resize by {worst} levels");
}

/// A stack of a background and a feathered object drawn with `seed`'s pattern.
fn two_layers(seed: u32) -> LayerStack {
    let mut stack = LayerStack::from_background(pattern(160, 100, 1, |_, _| 1.0));
    stack.push(
        NewLayer::new(
            "object",
            pattern(60, 50, seed, |x, y| ((x.min(59 - x).min(y).min(49 - y)) as f32 / 5.0).min(1.0)),
        )
        .at(30.0, 20.0),
    );
    stack.push(NewLayer::new("shadow", pattern(70, 30, 9, |_, _| 0.5)).at(40.0, 60.0).blend(BlendMode::Multiply));
    stack
}

/// Draw `scene` the editor's way (into the kept frame, then the frame onto a cleared target)
/// and read the target back.
fn through_kept_frame(
    compositor: &mut GpuCompositor,
    device: &eframe::wgpu::Device,
    queue: &eframe::wgpu::Queue,
    scene: &Scene,
) -> image::RgbaImage {
    use eframe::wgpu;
    let format = wgpu::TextureFormat::Rgba8Unorm;
    let target = render_target(device, "test target", scene.view.target, format, wgpu::TextureUsages::COPY_SRC);
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: None });
    compositor.prepare_frame(device, queue, &mut encoder, scene, format);
    let view = target.create_view(&wgpu::TextureViewDescriptor::default());
    compositor.paint_frame(&mut cleared_pass(&mut encoder, &view, "test target"), format);
    queue.submit([encoder.finish()]);
    layerdecomp::compositor::gpu::read_texture(device, queue, &target)
}

#[test]
fn the_kept_frame_is_drawn_again_only_when_something_visible_changed() {
    let (_, device, queue) = headless_device().expect("a wgpu adapter");
    let stack = two_layers(3);
    let mut view = one_to_one(&stack);
    view.target = [200, 130];
    let scene = Scene { checker: true, ..scene_of(&stack, view) };
    let direct = GpuCompositor::new(&device).render_to_image(&device, &queue, &scene);

    let mut compositor = GpuCompositor::new(&device);
    let first = through_kept_frame(&mut compositor, &device, &queue, &scene);
    assert_eq!(compositor.stats.frames_drawn, 1);
    assert!(first == direct, "the kept frame, copied, differs from drawing the stack directly");
    // Only the progress bar moved: the same scene is copied, not drawn.
    let again = through_kept_frame(&mut compositor, &device, &queue, &scene);
    assert_eq!(compositor.stats.frames_drawn, 1, "an unchanged scene was drawn again");
    assert!(again == direct);
    // The view moved: drawn again.
    let moved = Scene { checker: true, ..scene_of(&stack, View { offset: [12.0, 7.0], ..view }) };
    through_kept_frame(&mut compositor, &device, &queue, &moved);
    assert_eq!(compositor.stats.frames_drawn, 2);
    // New pixels under the same draws (a result arrived for the same layer): drawn again, and
    // they show.
    let changed = two_layers(4);
    let scene = Scene { checker: true, ..scene_of(&changed, view) };
    let shown = through_kept_frame(&mut compositor, &device, &queue, &scene);
    assert_eq!(compositor.stats.frames_drawn, 3);
    assert!(shown == GpuCompositor::new(&device).render_to_image(&device, &queue, &scene));
    assert!(shown != direct, "the new pixels do not show");
}
