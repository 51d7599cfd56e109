//! The editor's GPU compositor (wgpu): draws a layer stack into a render pass, either an offscreen
//! texture (tests, `layerdecomp canvas-bench`) or the kept frame that egui's pass then shows (via a
//! paint callback, see `ui::canvas` and `frame`).
//!
//! Colour space: as in the CPU reference (`compositor::cpu`), blends operate on premultiplied
//! **sRGB-encoded** values. Layer textures are `Rgba8Unorm` (not `*Srgb`) and targets are UNORM,
//! so neither sampling nor blending converts to linear light.
//!
//! * Each layer is uploaded as tiles of at most `TILE` pixels (never above the adapter's texture
//!   limit), each with a box-filtered mip chain, so zoomed-out views are filtered well (trilinear)
//!   and zoomed-in views of unscaled layers are sharp (nearest).
//! * Uploads happen only for tiles whose content changed: a layer is re-checked only when its
//!   pixel buffer (an `Arc`) is replaced, and then only tiles whose content hash differs go up.
//!   Moving, scaling or re-blending a layer uploads nothing.
//! * Normal is one draw with `One, OneMinusSrcAlpha`. Multiply (W3C) needs two: the first scales
//!   the backdrop by `S + 1 − a` (blend `Zero, Src`), the second adds `S·(1 − Ab)` and sets alpha
//!   `a + Ab·(1 − a)` (blend `OneMinusDstAlpha, One`).

use std::collections::HashMap;
use std::sync::mpsc::{channel, TryRecvError};
use std::sync::{Arc, Mutex};

use eframe::wgpu;

mod draws;
mod frame;
mod scene;
mod tiles;

use draws::{DrawCmd, Pass};
pub use scene::{LayerDraw, MaskDraw, Scene, View};
use tiles::{prepare_tiles, Cached, Origin, Pending, Source, Tile, TileData};

/// Largest tile side; smaller than every adapter's limit and small enough that a brush stroke
/// re-uploads little.
pub const TILE: u32 = 1024;
const UNIFORM_STRIDE: u64 = 256;

/// Counters for tests and the status of the upload path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UploadStats {
    /// Tiles whose content changed and went up to the GPU.
    pub tiles_uploaded: u64,
    /// Tiles whose content hash was compared.
    pub tiles_checked: u64,
    /// Frames drawn into the kept frame (`prepare_frame`), as opposed to copied from it.
    pub frames_drawn: u64,
}

/// The compositor's GPU state: pipelines per target format, the tile cache and the current
/// frame's draw list. Lives in egui's `callback_resources` in the editor.
pub struct GpuCompositor {
    texture_layout: wgpu::BindGroupLayout,
    uniform_layout: wgpu::BindGroupLayout,
    pipeline_layout: wgpu::PipelineLayout,
    shader: wgpu::ShaderModule,
    pipelines: HashMap<(wgpu::TextureFormat, Pass), wgpu::RenderPipeline>,
    sampler_nearest: wgpu::Sampler,
    sampler_linear: wgpu::Sampler,
    dummy: wgpu::BindGroup,
    uniforms: wgpu::Buffer,
    uniform_bind: wgpu::BindGroup,
    uniform_capacity: u64,
    cache: HashMap<u64, Cached>,
    draws: Vec<DrawCmd>,
    /// The uniforms last written, as bytes: one block per draw, then the kept frame's copy.
    uniform_bytes: Vec<u8>,
    /// Where the kept frame's copy finds its uniforms.
    copy_uniform: u32,
    frame: Option<frame::Frame>,
    tile_size: u32,
    notify: Option<Arc<dyn Fn() + Send + Sync>>,
    /// What the upload path has done so far.
    pub stats: UploadStats,
}

impl GpuCompositor {
    /// Pipelines layouts, samplers and an empty tile cache on `device`.
    pub fn new(device: &wgpu::Device) -> Self {
        let shader = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("layerdecomp compositor"),
            source: wgpu::ShaderSource::Wgsl(include_str!("gpu.wgsl").into()),
        });
        let texture_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("layer tile"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Texture {
                        sample_type: wgpu::TextureSampleType::Float { filterable: true },
                        view_dimension: wgpu::TextureViewDimension::D2,
                        multisampled: false,
                    },
                    count: None,
                },
                wgpu::BindGroupLayoutEntry {
                    binding: 1,
                    visibility: wgpu::ShaderStages::FRAGMENT,
                    ty: wgpu::BindingType::Sampler(wgpu::SamplerBindingType::Filtering),
                    count: None,
                },
            ],
        });
        let uniform_layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("draw uniforms"),
            entries: &[wgpu::BindGroupLayoutEntry {
                binding: 0,
                visibility: wgpu::ShaderStages::VERTEX_FRAGMENT,
                ty: wgpu::BindingType::Buffer {
                    ty: wgpu::BufferBindingType::Uniform,
                    has_dynamic_offset: true,
                    min_binding_size: wgpu::BufferSize::new(96),
                },
                count: None,
            }],
        });
        let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("compositor"),
            bind_group_layouts: &[Some(&texture_layout), Some(&uniform_layout)],
            immediate_size: 0,
        });
        let sampler = |filter: wgpu::FilterMode, mip: wgpu::MipmapFilterMode| {
            device.create_sampler(&wgpu::SamplerDescriptor {
                label: Some("layer"),
                address_mode_u: wgpu::AddressMode::ClampToEdge,
                address_mode_v: wgpu::AddressMode::ClampToEdge,
                mag_filter: filter,
                min_filter: filter,
                mipmap_filter: mip,
                ..Default::default()
            })
        };
        let sampler_nearest = sampler(wgpu::FilterMode::Nearest, wgpu::MipmapFilterMode::Nearest);
        let sampler_linear = sampler(wgpu::FilterMode::Linear, wgpu::MipmapFilterMode::Linear);
        let dummy_tex = device.create_texture(&wgpu::TextureDescriptor {
            label: Some("dummy"),
            size: wgpu::Extent3d { width: 1, height: 1, depth_or_array_layers: 1 },
            mip_level_count: 1,
            sample_count: 1,
            dimension: wgpu::TextureDimension::D2,
            format: wgpu::TextureFormat::Rgba8Unorm,
            usage: wgpu::TextureUsages::TEXTURE_BINDING,
            view_formats: &[],
        });
        let dummy = Self::bind_texture(device, &texture_layout, &dummy_tex, &sampler_nearest);
        let uniform_capacity = 64;
        let (uniforms, uniform_bind) = Self::uniform_buffer(device, &uniform_layout, uniform_capacity);
        let tile_size = TILE.min(device.limits().max_texture_dimension_2d);
        Self {
            texture_layout,
            uniform_layout,
            pipeline_layout,
            shader,
            pipelines: HashMap::new(),
            sampler_nearest,
            sampler_linear,
            dummy,
            uniforms,
            uniform_bind,
            uniform_capacity,
            cache: HashMap::new(),
            draws: Vec::new(),
            uniform_bytes: Vec::new(),
            copy_uniform: 0,
            frame: None,
            tile_size,
            notify: None,
            stats: UploadStats::default(),
        }
    }

    fn bind_texture(
        device: &wgpu::Device,
        layout: &wgpu::BindGroupLayout,
        tex: &wgpu::Texture,
        sampler: &wgpu::Sampler,
    ) -> wgpu::BindGroup {
        let view = tex.create_view(&wgpu::TextureViewDescriptor::default());
        device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("layer tile"),
            layout,
            entries: &[
                wgpu::BindGroupEntry { binding: 0, resource: wgpu::BindingResource::TextureView(&view) },
                wgpu::BindGroupEntry { binding: 1, resource: wgpu::BindingResource::Sampler(sampler) },
            ],
        })
    }

    fn uniform_buffer(
        device: &wgpu::Device,
        layout: &wgpu::BindGroupLayout,
        draws: u64,
    ) -> (wgpu::Buffer, wgpu::BindGroup) {
        let buffer = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("draw uniforms"),
            size: draws * UNIFORM_STRIDE,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("draw uniforms"),
            layout,
            entries: &[wgpu::BindGroupEntry {
                binding: 0,
                resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                    buffer: &buffer,
                    offset: 0,
                    size: wgpu::BufferSize::new(96),
                }),
            }],
        });
        (buffer, bind)
    }

    /// Make the pipelines for drawing into `format` (done once per format).
    pub fn prepare_format(&mut self, device: &wgpu::Device, format: wgpu::TextureFormat) {
        for pass in [Pass::Normal, Pass::MultiplyScale, Pass::MultiplyAdd, Pass::Checker] {
            if self.pipelines.contains_key(&(format, pass)) {
                continue;
            }
            use wgpu::{BlendComponent as C, BlendFactor as F, BlendOperation::Add};
            let comp = |src_factor, dst_factor| C { src_factor, dst_factor, operation: Add };
            let blend = match pass {
                Pass::Normal => wgpu::BlendState {
                    color: comp(F::One, F::OneMinusSrcAlpha),
                    alpha: comp(F::One, F::OneMinusSrcAlpha),
                },
                Pass::MultiplyScale => wgpu::BlendState { color: comp(F::Zero, F::Src), alpha: comp(F::Zero, F::One) },
                Pass::MultiplyAdd => wgpu::BlendState {
                    color: comp(F::OneMinusDstAlpha, F::One),
                    alpha: comp(F::OneMinusDstAlpha, F::One),
                },
                Pass::Checker => wgpu::BlendState::REPLACE,
            };
            let pipeline = device.create_render_pipeline(&wgpu::RenderPipelineDescriptor {
                label: Some("compositor"),
                layout: Some(&self.pipeline_layout),
                vertex: wgpu::VertexState {
                    module: &self.shader,
                    entry_point: Some("vs_main"),
                    buffers: &[],
                    compilation_options: Default::default(),
                },
                primitive: wgpu::PrimitiveState::default(),
                depth_stencil: None,
                multisample: wgpu::MultisampleState::default(),
                fragment: Some(wgpu::FragmentState {
                    module: &self.shader,
                    entry_point: Some("fs_main"),
                    targets: &[Some(wgpu::ColorTargetState {
                        format,
                        blend: Some(blend),
                        write_mask: wgpu::ColorWrites::ALL,
                    })],
                    compilation_options: Default::default(),
                }),
                multiview_mask: None,
                cache: None,
            });
            self.pipelines.insert((format, pass), pipeline);
        }
    }

    /// Bring the cached textures of `key` up to date with `source`: uploads changed tiles only.
    /// With background preparation on, a layer's new pixels are converted on a thread and go up
    /// in a later frame (the previous texture is drawn meanwhile), so a 12-megapixel result never
    /// stalls the UI; masks, small and painted interactively, are always done at once.
    fn sync(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, key: u64, source: Source) {
        if let Some(c) = self.cache.get_mut(&key) {
            c.used = true;
            if c.origin.is(&source) && c.pending.is_none() {
                return;
            }
            if c.size != source.size() || c.format != source.format() {
                self.cache.remove(&key);
            }
        }
        let (w, h) = source.size();
        let format = source.format();
        let ts = self.tile_size;
        if !self.cache.contains_key(&key) {
            let mut tiles = Vec::new();
            for ty in (0..h).step_by(ts as usize) {
                for tx in (0..w).step_by(ts as usize) {
                    let (tw, th) = (ts.min(w - tx), ts.min(h - ty));
                    let mips = 32 - tw.max(th).leading_zeros();
                    let texture = device.create_texture(&wgpu::TextureDescriptor {
                        label: Some("layer tile"),
                        size: wgpu::Extent3d { width: tw, height: th, depth_or_array_layers: 1 },
                        mip_level_count: mips,
                        sample_count: 1,
                        dimension: wgpu::TextureDimension::D2,
                        format,
                        usage: wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_DST,
                        view_formats: &[],
                    });
                    let nearest = Self::bind_texture(device, &self.texture_layout, &texture, &self.sampler_nearest);
                    let linear = Self::bind_texture(device, &self.texture_layout, &texture, &self.sampler_linear);
                    // A hash no content has, so every tile goes up the first time.
                    tiles.push(Tile {
                        x: tx,
                        y: ty,
                        w: tw,
                        h: th,
                        hash: u64::MAX,
                        opaque: false,
                        texture,
                        nearest,
                        linear,
                    });
                }
            }
            self.cache.insert(
                key,
                Cached { origin: Origin::None, pending: None, filled: false, size: (w, h), format, tiles, used: true },
            );
        }
        let background = self.notify.is_some() && matches!(source, Source::Layer(_));
        let notify = self.notify.clone();
        let Some(cached) = self.cache.get_mut(&key) else { return };
        if let Some(p) = cached.pending.take() {
            if p.origin.is(&source) {
                let received = p.rx.lock().map(|rx| rx.try_recv()).unwrap_or(Err(TryRecvError::Disconnected));
                match received {
                    Ok(data) => {
                        Self::apply(queue, cached, data, &mut self.stats);
                        cached.origin = p.origin;
                    }
                    Err(TryRecvError::Empty) => cached.pending = Some(p),
                    Err(TryRecvError::Disconnected) => {}
                }
                return;
            }
            // Superseded by newer pixels: its result is dropped.
        }
        let rects: Vec<(u32, u32, u32, u32)> = cached.tiles.iter().map(|t| (t.x, t.y, t.w, t.h)).collect();
        let known: Vec<u64> = cached.tiles.iter().map(|t| t.hash).collect();
        let origin = Origin::of(&source);
        if background {
            let (tx, rx) = channel();
            let spawned = std::thread::Builder::new().name("canvas upload".into()).spawn(move || {
                let _ = tx.send(prepare_tiles(&source, &rects, &known));
                if let Some(n) = notify {
                    n();
                }
            });
            if spawned.is_ok() {
                cached.pending = Some(Pending { origin, rx: Mutex::new(rx) });
            }
        } else {
            let data = prepare_tiles(&source, &rects, &known);
            Self::apply(queue, cached, data, &mut self.stats);
            cached.origin = origin;
        }
    }

    fn apply(queue: &wgpu::Queue, cached: &mut Cached, data: Vec<Option<TileData>>, stats: &mut UploadStats) {
        let t0 = std::time::Instant::now();
        let channels = if cached.format == wgpu::TextureFormat::R8Unorm { 1 } else { 4 };
        stats.tiles_checked += data.len() as u64;
        for (tile, d) in cached.tiles.iter_mut().zip(data) {
            let Some(d) = d else { continue };
            stats.tiles_uploaded += 1;
            tile.hash = d.hash;
            tile.opaque = d.opaque;
            for (level, (lw, lh, bytes)) in d.mips.iter().enumerate() {
                queue.write_texture(
                    wgpu::TexelCopyTextureInfo {
                        texture: &tile.texture,
                        mip_level: level as u32,
                        origin: wgpu::Origin3d::ZERO,
                        aspect: wgpu::TextureAspect::All,
                    },
                    bytes,
                    wgpu::TexelCopyBufferLayout {
                        offset: 0,
                        bytes_per_row: Some(lw * channels),
                        rows_per_image: Some(*lh),
                    },
                    wgpu::Extent3d { width: *lw, height: *lh, depth_or_array_layers: 1 },
                );
            }
        }
        cached.filled = true;
        log::debug!(
            "canvas: {}×{} layer uploaded in {:.1} ms",
            cached.size.0,
            cached.size.1,
            t0.elapsed().as_secs_f64() * 1e3
        );
    }

    /// Convert pixel changes on a background thread and call `notify` (e.g. request a repaint)
    /// when they are ready to upload. Without it (tests, benchmarks) uploads happen at once.
    pub fn upload_in_background(&mut self, notify: Arc<dyn Fn() + Send + Sync>) {
        self.notify = Some(notify);
    }

    /// Upload what changed and build the draw list for `scene`. Call before `paint`.
    pub fn prepare(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, scene: &Scene) {
        for c in self.cache.values_mut() {
            c.used = false;
        }
        for l in &scene.layers {
            self.sync(device, queue, l.key, Source::Layer(l.pixels.clone()));
        }
        for m in &scene.masks {
            self.sync(device, queue, m.key, Source::Mask(m.mask.clone()));
        }
        // Textures of layers no longer drawn are freed.
        self.cache.retain(|_, c| c.used);

        let (draws, mut uniforms) = draws::build(scene, &self.cache);
        self.draws = draws;
        self.copy_uniform = uniforms.len() as u32;
        uniforms.push(frame::copy_uniforms(scene.view.target));
        if uniforms.len() as u64 > self.uniform_capacity {
            self.uniform_capacity = (uniforms.len() as u64).next_power_of_two();
            (self.uniforms, self.uniform_bind) =
                Self::uniform_buffer(device, &self.uniform_layout, self.uniform_capacity);
        }
        let mut bytes = vec![0u8; uniforms.len() * UNIFORM_STRIDE as usize];
        for (i, u) in uniforms.iter().enumerate() {
            for (j, f) in u.iter().enumerate() {
                let at = i * UNIFORM_STRIDE as usize + j * 4;
                bytes[at..at + 4].copy_from_slice(&f.to_le_bytes());
            }
        }
        if !bytes.is_empty() {
            queue.write_buffer(&self.uniforms, 0, &bytes);
        }
        self.uniform_bytes = bytes;
    }

    /// Record the prepared draws into `pass`, whose target has `format` (see `prepare_format`).
    pub fn paint(&self, pass: &mut wgpu::RenderPass<'_>, format: wgpu::TextureFormat) {
        for d in &self.draws {
            let Some(pipeline) = self.pipelines.get(&(format, d.pass)) else { continue };
            let bind = if d.pass == Pass::Checker {
                &self.dummy
            } else {
                let Some(tile) = self.cache.get(&d.key).and_then(|c| c.tiles.get(d.tile)) else { continue };
                if d.nearest {
                    &tile.nearest
                } else {
                    &tile.linear
                }
            };
            pass.set_pipeline(pipeline);
            pass.set_bind_group(0, bind, &[]);
            pass.set_bind_group(1, &self.uniform_bind, &[d.uniform * UNIFORM_STRIDE as u32]);
            pass.draw(0..6, 0..1);
        }
    }

    /// Render `scene` into a new transparent `Rgba8Unorm` image of the view's target size and
    /// read it back (premultiplied, sRGB-encoded). Used by tests and benchmarks.
    pub fn render_to_image(&mut self, device: &wgpu::Device, queue: &wgpu::Queue, scene: &Scene) -> image::RgbaImage {
        let format = wgpu::TextureFormat::Rgba8Unorm;
        let target =
            render_target(device, "offscreen canvas", scene.view.target, format, wgpu::TextureUsages::COPY_SRC);
        self.render_to_texture(device, queue, scene, &target);
        read_texture(device, queue, &target)
    }

    /// Render `scene` into `target` (an `Rgba8Unorm` render attachment), cleared to transparent.
    pub fn render_to_texture(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        scene: &Scene,
        target: &wgpu::Texture,
    ) {
        let format = target.format();
        self.prepare_format(device, format);
        self.prepare(device, queue, scene);
        let view = target.create_view(&wgpu::TextureViewDescriptor::default());
        let mut encoder =
            device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("offscreen canvas") });
        self.paint(&mut cleared_pass(&mut encoder, &view, "offscreen canvas"), format);
        queue.submit([encoder.finish()]);
    }
}

/// A single-level 2-D texture of `size` in `format` to render into, usable as `usage` besides.
pub fn render_target(
    device: &wgpu::Device,
    label: &str,
    size: [u32; 2],
    format: wgpu::TextureFormat,
    usage: wgpu::TextureUsages,
) -> wgpu::Texture {
    device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size: wgpu::Extent3d { width: size[0], height: size[1], depth_or_array_layers: 1 },
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format,
        usage: wgpu::TextureUsages::RENDER_ATTACHMENT | usage,
        view_formats: &[],
    })
}

/// A render pass on `encoder` into `target`, cleared to transparent first.
pub fn cleared_pass<'e>(
    encoder: &'e mut wgpu::CommandEncoder,
    target: &wgpu::TextureView,
    label: &str,
) -> wgpu::RenderPass<'e> {
    encoder.begin_render_pass(&wgpu::RenderPassDescriptor {
        label: Some(label),
        color_attachments: &[Some(wgpu::RenderPassColorAttachment {
            view: target,
            depth_slice: None,
            resolve_target: None,
            ops: wgpu::Operations { load: wgpu::LoadOp::Clear(wgpu::Color::TRANSPARENT), store: wgpu::StoreOp::Store },
        })],
        depth_stencil_attachment: None,
        timestamp_writes: None,
        occlusion_query_set: None,
        multiview_mask: None,
    })
}

/// Copy an `Rgba8Unorm` texture back to the CPU (waits for the GPU).
pub fn read_texture(device: &wgpu::Device, queue: &wgpu::Queue, texture: &wgpu::Texture) -> image::RgbaImage {
    let (w, h) = (texture.width(), texture.height());
    let row = (w * 4).div_ceil(256) * 256;
    let buffer = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("readback"),
        size: row as u64 * h as u64,
        usage: wgpu::BufferUsages::COPY_DST | wgpu::BufferUsages::MAP_READ,
        mapped_at_creation: false,
    });
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("readback") });
    encoder.copy_texture_to_buffer(
        wgpu::TexelCopyTextureInfo {
            texture,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        wgpu::TexelCopyBufferInfo {
            buffer: &buffer,
            layout: wgpu::TexelCopyBufferLayout { offset: 0, bytes_per_row: Some(row), rows_per_image: Some(h) },
        },
        wgpu::Extent3d { width: w, height: h, depth_or_array_layers: 1 },
    );
    queue.submit([encoder.finish()]);
    let slice = buffer.slice(..);
    slice.map_async(wgpu::MapMode::Read, |_| {});
    let _ = device.poll(wgpu::PollType::wait_indefinitely());
    let mut out = image::RgbaImage::new(w, h);
    if let Ok(data) = slice.get_mapped_range() {
        for y in 0..h as usize {
            let src = &data[y * row as usize..y * row as usize + w as usize * 4];
            out.as_mut()[y * w as usize * 4..(y + 1) * w as usize * 4].copy_from_slice(src);
        }
    }
    buffer.unmap();
    out
}

/// A headless device for tests and benchmarks: the first adapter wgpu finds (lavapipe on CI).
pub fn headless_device() -> Result<(wgpu::Adapter, wgpu::Device, wgpu::Queue), String> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapter = pollster_block(instance.request_adapter(&wgpu::RequestAdapterOptions::default()))
        .map_err(|e| format!("no GPU adapter: {e}"))?;
    let (device, queue) = pollster_block(adapter.request_device(&wgpu::DeviceDescriptor::default()))
        .map_err(|e| format!("cannot open the GPU device: {e}"))?;
    Ok((adapter, device, queue))
}

/// Run a future to completion on this thread (wgpu's native futures resolve immediately).
fn pollster_block<F: std::future::Future>(fut: F) -> F::Output {
    use std::task::{Context, Poll, Waker};
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}
