//! The canvas as last drawn, kept in a texture. A frame whose draws, view and uploaded pixels
//! are what they were is one textured quad, not the whole stack drawn again: while the engine
//! works the window repaints for its progress bar alone, and on a software renderer drawing a
//! 12-megapixel stack cost up to 34 ms of a core each time.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};

use eframe::wgpu;

use super::draws::Pass;
use super::{cleared_pass, render_target, GpuCompositor, Scene, UNIFORM_STRIDE};

/// The kept frame: its texture (the view's target size, in the target's format), bound for
/// sampling, and the signature of what was drawn into it.
pub(super) struct Frame {
    texture: wgpu::Texture,
    bind: wgpu::BindGroup,
    signature: u64,
}

/// The uniforms of the quad that copies the kept frame onto the viewport, texel for texel.
pub(super) fn copy_uniforms(target: [u32; 2]) -> [f32; 24] {
    let (w, h) = (target[0].max(1) as f32, target[1].max(1) as f32);
    let (lo, hi) = (f32::MIN, f32::MAX);
    [-1., 1., 1., -1., 0., 0., 1., 1., 0., 0., 0., 0., 1., 0., 0., 0., lo, lo, hi, hi, w, h, 0., 0.]
}

impl GpuCompositor {
    /// Upload what changed and build the draws for `scene` (as `prepare`); then, only if the
    /// result can differ from the kept frame's, draw them into it, recorded on `encoder`.
    /// `paint_frame` then puts the frame on the viewport.
    pub fn prepare_frame(
        &mut self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        encoder: &mut wgpu::CommandEncoder,
        scene: &Scene,
        format: wgpu::TextureFormat,
    ) {
        self.prepare_format(device, format);
        self.prepare(device, queue, scene);
        let signature = self.signature(scene, format);
        if self.frame.as_ref().is_some_and(|f| f.signature == signature) {
            return;
        }
        let [w, h] = scene.view.target.map(|v| v.max(1));
        let reusable = self
            .frame
            .take()
            .filter(|f| (f.texture.width(), f.texture.height()) == (w, h) && f.texture.format() == format);
        let (texture, bind) = match reusable {
            Some(f) => (f.texture, f.bind),
            None => {
                let usage = wgpu::TextureUsages::TEXTURE_BINDING | wgpu::TextureUsages::COPY_SRC;
                let texture = render_target(device, "kept canvas frame", [w, h], format, usage);
                let bind = Self::bind_texture(device, &self.texture_layout, &texture, &self.sampler_nearest);
                (texture, bind)
            }
        };
        let view = texture.create_view(&wgpu::TextureViewDescriptor::default());
        self.paint(&mut cleared_pass(encoder, &view, "kept canvas frame"), format);
        self.stats.frames_drawn += 1;
        self.frame = Some(Frame { texture, bind, signature });
    }

    /// Put the kept frame (see `prepare_frame`) on the pass's viewport: premultiplied over what
    /// is there, as the draws themselves would have been.
    pub fn paint_frame(&self, pass: &mut wgpu::RenderPass<'_>, format: wgpu::TextureFormat) {
        let (Some(frame), Some(pipeline)) = (&self.frame, self.pipelines.get(&(format, Pass::Normal))) else {
            return;
        };
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &frame.bind, &[]);
        pass.set_bind_group(1, &self.uniform_bind, &[self.copy_uniform * UNIFORM_STRIDE as u32]);
        pass.draw(0..6, 0..1);
    }

    /// What decides the frame's pixels: the target, the draws with their uniforms, and the
    /// uploads so far (new pixels under the same draws count).
    fn signature(&self, scene: &Scene, format: wgpu::TextureFormat) -> u64 {
        let mut hasher = DefaultHasher::new();
        (format, scene.view.target, self.stats.tiles_uploaded).hash(&mut hasher);
        for d in &self.draws {
            (d.pass, d.key, d.tile, d.nearest).hash(&mut hasher);
        }
        self.uniform_bytes.hash(&mut hasher);
        hasher.finish()
    }
}
