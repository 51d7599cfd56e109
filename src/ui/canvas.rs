//! The canvas: zoom and pan, the pointer events it hands to the active tool, and drawing the
//! document — through the wgpu compositor in an egui paint callback, or, without a usable GPU
//! adapter, through the CPU compositor as an egui texture.

use std::sync::Arc;

use eframe::egui::{self, pos2, vec2, Color32, Pos2, Rect, Sense, Stroke as LineStroke};
use eframe::{egui_wgpu, wgpu};
use layerdecomp::compositor::gpu::{GpuCompositor, LayerDraw, MaskDraw, Scene, View};

use super::editing::Editing;
use super::tools::{PointerEvent, HANDLE};
use super::view::CanvasView;

/// What is drawn over the document: the brush outline and the selection's scale handles.
#[derive(Clone, Copy, Debug, Default)]
pub struct Overlay {
    /// Brush radius in canvas pixels, when a brush tool is active.
    pub brush_radius: Option<f32>,
    /// The selected object's bounds, when the Move tool is active.
    pub selection: Option<Rect>,
    /// The subject box being dragged.
    pub subject_box: Option<Rect>,
}

/// The canvas's view and what it remembers between frames.
pub struct Canvas {
    pub view: CanvasView,
    /// Where the canvas was drawn last frame (screen points).
    pub rect: Rect,
    /// The canvas point under the pointer, if it is over the canvas.
    pub cursor: Option<Pos2>,
    /// The pointer position at the last frame of a pan (middle button or space + drag).
    panning: Option<Pos2>,
    /// Drawn by the wgpu compositor (else by the CPU compositor).
    pub gpu: bool,
    cpu_texture: Option<(u64, egui::TextureHandle)>,
}

impl Canvas {
    pub fn new(gpu: bool) -> Self {
        Self { view: CanvasView::default(), rect: Rect::NOTHING, cursor: None, panning: None, gpu, cpu_texture: None }
    }

    /// Take the canvas's area, zoom at the cursor (wheel; Ctrl+wheel too), pan (space + drag or
    /// the middle button), and return what the primary button did for the tool. A press starts a
    /// gesture only when `tool_idle` and `can_edit`.
    pub fn input(
        &mut self,
        ui: &mut egui::Ui,
        size: (u32, u32),
        tool_idle: bool,
        can_edit: bool,
    ) -> Option<PointerEvent> {
        let rect = ui.available_rect_before_wrap();
        let response = ui.allocate_rect(rect, Sense::click_and_drag());
        self.rect = rect;
        self.view.layout(rect, size.0, size.1);
        let (scroll, zoom_delta, hover) = ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta(), i.pointer.hover_pos()));
        if let Some(at) = hover.filter(|p| rect.contains(*p)) {
            let factor = zoom_delta * (scroll.y * 0.002).exp();
            if (factor - 1.0).abs() > 1e-4 {
                self.view.zoom_at(rect, at, factor);
            }
        }
        self.cursor = hover.filter(|p| rect.contains(*p)).map(|p| self.view.to_canvas(rect, p));
        let (pressed, down, released, middle, pos, space) = ui.input(|i| {
            let p = &i.pointer;
            (
                p.primary_pressed(),
                p.primary_down(),
                p.primary_released(),
                p.middle_down(),
                p.interact_pos(),
                i.key_down(egui::Key::Space),
            )
        });
        let pos = pos?;
        if let Some(last) = self.panning {
            self.panning = (middle || down).then_some(pos);
            if self.panning.is_some() {
                self.view.pan(pos - last);
            }
            return Some(PointerEvent::Up);
        }
        let hovered = response.hovered();
        if tool_idle && (middle || (pressed && space)) && hovered {
            self.panning = Some(pos);
            return Some(PointerEvent::Up);
        }
        let at = self.view.to_canvas(rect, pos);
        Some(match (tool_idle, pressed, released, down) {
            (true, true, _, _) if hovered && can_edit => PointerEvent::Press(at),
            (true, ..) => PointerEvent::Up,
            (false, _, true, _) => PointerEvent::Release(at),
            (false, _, _, true) => PointerEvent::Down(at),
            (false, ..) => PointerEvent::Up,
        })
    }

    /// Draw the document, its painted masks and the overlay into the area `input` took.
    pub fn paint(&mut self, ui: &egui::Ui, editing: &Editing, overlay: &Overlay) {
        let rect = self.rect;
        let stack = &editing.doc().stack;
        let (w, h) = (stack.width(), stack.height());
        let ppp = ui.ctx().pixels_per_point();
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 0.0, Color32::from_gray(48));
        if self.gpu {
            let offset = (self.view.offset * ppp).to_pos2();
            let view = View {
                canvas_w: w,
                canvas_h: h,
                offset: [offset.x, offset.y],
                zoom: self.view.zoom * ppp,
                target: [(rect.width() * ppp).round().max(1.0) as u32, (rect.height() * ppp).round().max(1.0) as u32],
            };
            let scene = scene(editing, view);
            painter.add(egui_wgpu::Callback::new_paint_callback(rect, CanvasCallback { scene }));
        } else {
            let tex = self.cpu_preview(ui.ctx(), editing);
            let canvas =
                Rect::from_min_size(self.view.to_screen(rect, Pos2::ZERO), vec2(w as f32, h as f32) * self.view.zoom);
            painter.image(tex.id(), canvas, Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)), Color32::WHITE);
        }
        self.draw_overlay(&painter, overlay);
    }

    fn draw_overlay(&self, painter: &egui::Painter, overlay: &Overlay) {
        let rect = self.rect;
        if let (Some(c), Some(radius)) = (self.cursor, overlay.brush_radius) {
            let r = radius * self.view.zoom;
            painter.circle_stroke(self.view.to_screen(rect, c), r, LineStroke::new(1.0, Color32::WHITE));
            painter.circle_stroke(self.view.to_screen(rect, c), r + 1.0, LineStroke::new(1.0, Color32::BLACK));
        }
        if let Some(b) = overlay.subject_box {
            let sb = Rect::from_min_max(self.view.to_screen(rect, b.min), self.view.to_screen(rect, b.max));
            painter.rect_stroke(sb, 0.0, LineStroke::new(1.0, Color32::BLACK), egui::StrokeKind::Outside);
            painter.rect_stroke(sb, 0.0, LineStroke::new(1.0, Color32::WHITE), egui::StrokeKind::Inside);
        }
        if let Some(b) = overlay.selection {
            let blue = Color32::from_rgb(80, 160, 255);
            let sb = Rect::from_min_max(self.view.to_screen(rect, b.min), self.view.to_screen(rect, b.max));
            painter.rect_stroke(sb, 0.0, LineStroke::new(1.0, blue), egui::StrokeKind::Outside);
            for corner in [sb.left_top(), sb.right_top(), sb.left_bottom(), sb.right_bottom()] {
                painter.rect_filled(Rect::from_center_size(corner, vec2(HANDLE, HANDLE)), 1.0, blue);
            }
        }
    }

    /// Without a GPU: the CPU compositor's result (masks tinted in) as an egui texture, redone
    /// when the document changes.
    fn cpu_preview(&mut self, ctx: &egui::Context, editing: &Editing) -> egui::TextureHandle {
        let stamp = editing.stamp();
        if let Some((s, tex)) = &self.cpu_texture {
            if *s == stamp {
                return tex.clone();
            }
        }
        let doc = editing.doc();
        let (w, h) = (doc.stack.width(), doc.stack.height());
        let mut flat = layerdecomp::compositor::flatten(&doc.stack);
        for (mask, tint) in doc.masks.all().into_iter().zip(MASK_TINTS) {
            layerdecomp::compositor::tint_by_mask(&mut flat, mask, tint);
        }
        let side = 4096.0;
        let f = (side / w.max(h) as f32).min(1.0);
        let flat = if f < 1.0 {
            layerdecomp::compositor::resized(&flat, ((w as f32 * f) as u32).max(1), ((h as f32 * f) as u32).max(1))
        } else {
            flat
        };
        let rgba = flat.to_straight_rgba8();
        let img =
            egui::ColorImage::from_rgba_unmultiplied([rgba.width() as usize, rgba.height() as usize], rgba.as_raw());
        let tex = ctx.load_texture("canvas (CPU)", img, egui::TextureOptions::LINEAR);
        self.cpu_texture = Some((stamp, tex.clone()));
        tex
    }
}

/// The scene the compositor draws this frame.
fn scene(editing: &Editing, view: View) -> Scene {
    let doc = editing.doc();
    let layers = LayerDraw::visible(&doc.stack);
    let masks = doc
        .masks
        .all()
        .into_iter()
        .zip(MASK_KEYS)
        .zip(MASK_TINTS)
        .filter(|((mask, _), _)| editing.is_painted(mask))
        .map(|((mask, key), tint)| MaskDraw { key, mask: mask.clone(), tint })
        .collect();
    Scene { view, checker: true, layers, masks }
}

/// The paint callback: prepares (uploads changed tiles, builds draws, draws them into the kept
/// frame if anything visible changed) then puts that frame on the canvas.
struct CanvasCallback {
    scene: Scene,
}

/// The surface format the compositor draws into, stored beside it in `callback_resources`.
pub struct TargetFormat(pub wgpu::TextureFormat);

impl egui_wgpu::CallbackTrait for CanvasCallback {
    fn prepare(
        &self,
        device: &wgpu::Device,
        queue: &wgpu::Queue,
        _screen: &egui_wgpu::ScreenDescriptor,
        encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        let Some(&TargetFormat(format)) = resources.get::<TargetFormat>() else { return Vec::new() };
        if let Some(c) = resources.get_mut::<GpuCompositor>() {
            log::trace!("canvas: {:?}, {} layers", self.scene.view, self.scene.layers.len());
            c.prepare_frame(device, queue, encoder, &self.scene, format);
        }
        Vec::new()
    }

    fn paint(
        &self,
        _info: egui::PaintCallbackInfo,
        pass: &mut wgpu::RenderPass<'static>,
        resources: &egui_wgpu::CallbackResources,
    ) {
        let (Some(c), Some(TargetFormat(format))) = (resources.get::<GpuCompositor>(), resources.get::<TargetFormat>())
        else {
            return;
        };
        c.paint_frame(pass, *format);
    }
}

/// Install the compositor where paint callbacks find it. Returns false without a wgpu renderer.
pub fn install_gpu_compositor(state: Option<&egui_wgpu::RenderState>, ctx: &egui::Context) -> bool {
    let Some(state) = state else { return false };
    let mut compositor = GpuCompositor::new(&state.device);
    let ctx = ctx.clone();
    compositor.upload_in_background(Arc::new(move || ctx.request_repaint()));
    compositor.prepare_format(&state.device, state.target_format);
    let mut renderer = state.renderer.write();
    renderer.callback_resources.insert(compositor);
    renderer.callback_resources.insert(TargetFormat(state.target_format));
    log::info!("canvas: wgpu compositor on {:?} ({:?})", state.adapter.get_info().name, state.target_format);
    true
}

const MASK_KEYS: [u64; 3] = [u64::MAX - 1, u64::MAX - 2, u64::MAX - 3];
/// Premultiplied overlay colours of the object, effect-add and effect-remove masks (half opaque
/// red, blue, green), the same on the GPU canvas and in the CPU fallback.
const MASK_TINTS: [[f32; 4]; 3] = [[0.425, 0.05, 0.05, 0.5], [0.05, 0.15, 0.45, 0.5], [0.05, 0.35, 0.1, 0.5]];
