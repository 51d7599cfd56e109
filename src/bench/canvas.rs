//! `layerdecomp canvas-bench`: the GPU compositor's frame time while an object (with its
//! Multiply shadow) is dragged over a large background, rendered offscreen on whatever adapter
//! wgpu picks. Each frame is timed from building the scene to the GPU finishing it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use layerdecomp::compositor::gpu::{headless_device, GpuCompositor, LayerDraw, Scene, View};
use layerdecomp::document::{BlendMode, PremulImage, Transform};

pub struct CanvasBench {
    pub adapter: String,
    pub first_frame: Duration,
    pub frames: Vec<Duration>,
}

fn textured(w: u32, h: u32, alpha: impl Fn(u32, u32) -> f32 + Sync) -> PremulImage {
    use rayon::prelude::*;
    let mut img = PremulImage::new(w, h);
    img.pixels_mut().par_chunks_mut(w as usize).enumerate().for_each(|(y, row)| {
        for (x, p) in row.iter_mut().enumerate() {
            let (x, y) = (x as u32, y as u32);
            let a = alpha(x, y);
            let v = |k: u32| (((x / 7 + y / 5 + k * 13) % 64) as f32 / 63.0) * 0.6 + 0.2;
            *p = [v(0) * a, v(1) * a, v(2) * a, a];
        }
    });
    img
}

/// Drag a 1000×1000 object and its shadow across a `w`×`h` background for `frames` frames in a
/// `target`-sized view at `zoom` (0 = fit).
pub fn run(w: u32, h: u32, frames: usize, target: [u32; 2], zoom: f32) -> Result<CanvasBench, String> {
    let (adapter, device, queue) = headless_device()?;
    let info = adapter.get_info();
    let adapter = format!("{} ({:?}, {:?})", info.name, info.backend, info.device_type);
    let background = Arc::new(textured(w, h, |_, _| 1.0));
    let object = Arc::new(textured(1000, 1000, |x, y| {
        let d = ((x as f32 - 500.0).powi(2) + (y as f32 - 500.0).powi(2)).sqrt();
        (1.0 - (d - 480.0) / 20.0).clamp(0.0, 1.0)
    }));
    let shadow = Arc::new(textured(1400, 400, |x, y| {
        let d = ((x as f32 - 700.0) / 700.0).powi(2) + ((y as f32 - 200.0) / 200.0).powi(2);
        (0.6 * (1.0 - d)).clamp(0.0, 1.0)
    }));
    let zoom = if zoom > 0.0 { zoom } else { (target[0] as f32 / w as f32).min(target[1] as f32 / h as f32) };
    let view = View { canvas_w: w, canvas_h: h, offset: [0.0, 0.0], zoom, target };
    let texture = device.create_texture(&eframe::wgpu::TextureDescriptor {
        label: Some("bench canvas"),
        size: eframe::wgpu::Extent3d { width: target[0], height: target[1], depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: eframe::wgpu::TextureDimension::D2,
        format: eframe::wgpu::TextureFormat::Rgba8Unorm,
        usage: eframe::wgpu::TextureUsages::RENDER_ATTACHMENT | eframe::wgpu::TextureUsages::COPY_SRC,
        view_formats: &[],
    });
    let mut compositor = GpuCompositor::new(&device);
    let scene_at = |dx: f32| Scene {
        view,
        checker: true,
        layers: vec![
            LayerDraw {
                key: 1,
                pixels: background.clone(),
                transform: Transform::default(),
                opacity: 1.0,
                blend: BlendMode::Normal,
            },
            LayerDraw {
                key: 2,
                pixels: shadow.clone(),
                transform: Transform::at(1000.0 + dx, 1900.0),
                opacity: 0.8,
                blend: BlendMode::Multiply,
            },
            LayerDraw {
                key: 3,
                pixels: object.clone(),
                transform: Transform::at(1200.0 + dx, 1000.0),
                opacity: 1.0,
                blend: BlendMode::Normal,
            },
        ],
        masks: Vec::new(),
    };
    let t0 = Instant::now();
    compositor.render_to_texture(&device, &queue, &scene_at(0.0), &texture);
    let _ = device.poll(eframe::wgpu::PollType::wait_indefinitely());
    let first_frame = t0.elapsed();
    let mut times = Vec::with_capacity(frames);
    let uploads_before = compositor.stats.tiles_uploaded;
    for i in 0..frames {
        let t = Instant::now();
        compositor.render_to_texture(&device, &queue, &scene_at(3.0 * (i + 1) as f32), &texture);
        let _ = device.poll(eframe::wgpu::PollType::wait_indefinitely());
        times.push(t.elapsed());
    }
    if compositor.stats.tiles_uploaded != uploads_before {
        return Err("dragging uploaded pixels: the tile cache is broken".into());
    }
    Ok(CanvasBench { adapter, first_frame, frames: times })
}

impl CanvasBench {
    pub fn report(&self, w: u32, h: u32, target: [u32; 2]) -> String {
        let mut t: Vec<f64> = self.frames.iter().map(|d| d.as_secs_f64() * 1e3).collect();
        t.sort_by(f64::total_cmp);
        let q = |f: f64| t.get(((t.len() as f64 - 1.0) * f).round() as usize).copied().unwrap_or(0.0);
        format!(
            "adapter: {}\ncanvas {w}×{h} ({:.1} MP), view {}×{}: first frame (upload) {:.1} ms; dragging {} frames: median {:.2} ms, p95 {:.2} ms, max {:.2} ms\n",
            self.adapter,
            (w as f64 * h as f64) / 1e6,
            target[0],
            target[1],
            self.first_frame.as_secs_f64() * 1e3,
            t.len(),
            q(0.5),
            q(0.95),
            q(1.0)
        )
    }
}
