//! The canvas: the view (zoom and pan), what the pointer does with each tool, and drawing the
//! document — through the wgpu compositor in an egui paint callback, or, without a usable GPU
//! adapter, through the CPU compositor as an egui texture.

use std::sync::Arc;

use eframe::egui::{self, pos2, vec2, Color32, Pos2, Rect, Sense, Stroke as LineStroke, Vec2};
use eframe::{egui_wgpu, wgpu};

use super::app::EditorApp;
use super::brush::{MaskTarget, Stroke};
use crate::compositor::gpu::{GpuCompositor, LayerDraw, MaskDraw, Scene, View};
use crate::document::{LayerId, LayerKind};

/// Tools, each a small state machine driven by the pointer (see `Gesture`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    ObjectBrush,
    Eraser,
    EffectBrush,
    Move,
}

impl Tool {
    pub fn label(self) -> &'static str {
        match self {
            Tool::ObjectBrush => "Object brush",
            Tool::Eraser => "Eraser",
            Tool::EffectBrush => "Effect brush",
            Tool::Move => "Move / scale",
        }
    }
    pub fn shortcut(self) -> egui::Key {
        match self {
            Tool::ObjectBrush => egui::Key::B,
            Tool::Eraser => egui::Key::E,
            Tool::EffectBrush => egui::Key::H,
            Tool::Move => egui::Key::V,
        }
    }
}

/// Whether the effect brush marks "this is the object's shadow/reflection" or "this is not".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EffectBrushMode {
    Add,
    Remove,
}

/// The pointer gesture in progress: `Ready` → (press) → one of the others → (release) → `Ready`.
#[derive(Debug, Default)]
pub enum Gesture {
    #[default]
    Ready,
    Painting(Stroke),
    Moving {
        root: LayerId,
        grabbed: Pos2,
        /// Whole canvas pixels applied so far (moves snap to pixels so layers stay exact).
        applied: Vec2,
    },
    Scaling {
        root: LayerId,
        anchor: Pos2,
        start_dist: f32,
        applied: f32,
    },
    Panning {
        last: Pos2,
    },
}

/// How the canvas maps to the screen: screen = rect.min + offset + canvas · zoom (points).
#[derive(Clone, Copy, Debug)]
pub struct CanvasView {
    pub zoom: f32,
    pub offset: Vec2,
    /// Follow the window: fit the whole canvas.
    pub fit: bool,
}

impl Default for CanvasView {
    fn default() -> Self {
        Self { zoom: 1.0, offset: Vec2::ZERO, fit: true }
    }
}

pub const MIN_ZOOM: f32 = 0.01;
pub const MAX_ZOOM: f32 = 64.0;

impl CanvasView {
    pub fn layout(&mut self, rect: Rect, w: u32, h: u32) {
        if self.fit {
            let margin = 16.0;
            self.zoom = ((rect.width() - margin) / w as f32).min((rect.height() - margin) / h as f32).clamp(MIN_ZOOM, MAX_ZOOM);
            self.offset = (rect.size() - vec2(w as f32, h as f32) * self.zoom) * 0.5;
        }
    }
    pub fn to_screen(&self, rect: Rect, p: Pos2) -> Pos2 {
        rect.min + self.offset + p.to_vec2() * self.zoom
    }
    pub fn to_canvas(&self, rect: Rect, p: Pos2) -> Pos2 {
        ((p - rect.min - self.offset) / self.zoom).to_pos2()
    }
    /// Zoom by `factor`, keeping the canvas point under `at` (screen) in place.
    pub fn zoom_at(&mut self, rect: Rect, at: Pos2, factor: f32) {
        let new = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let anchor = at - rect.min;
        self.offset = anchor - (anchor - self.offset) * (new / self.zoom);
        self.zoom = new;
        self.fit = false;
    }
    /// 100 %: one canvas pixel per screen pixel, centred on `at`.
    pub fn actual_pixels(&mut self, rect: Rect, at: Pos2, ppp: f32) {
        let factor = (1.0 / ppp) / self.zoom;
        self.zoom_at(rect, at, factor);
    }
}

/// The paint callback: prepares (uploads changed tiles, builds draws) then paints the scene.
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
        _encoder: &mut wgpu::CommandEncoder,
        resources: &mut egui_wgpu::CallbackResources,
    ) -> Vec<wgpu::CommandBuffer> {
        if let Some(c) = resources.get_mut::<GpuCompositor>() {
            log::trace!("canvas: {:?}, {} layers", self.scene.view, self.scene.layers.len());
            c.prepare(device, queue, &self.scene);
        }
        Vec::new()
    }

    fn paint(&self, _info: egui::PaintCallbackInfo, pass: &mut wgpu::RenderPass<'static>, resources: &egui_wgpu::CallbackResources) {
        let (Some(c), Some(TargetFormat(format))) = (resources.get::<GpuCompositor>(), resources.get::<TargetFormat>()) else { return };
        c.paint(pass, *format);
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

impl EditorApp {
    /// The scene the compositor draws this frame.
    pub(super) fn scene(&self, view: View) -> Scene {
        let layers = self
            .doc
            .stack
            .layers()
            .iter()
            .filter(|l| l.visible)
            .map(|l| LayerDraw { key: l.id.0, pixels: l.pixels.clone(), transform: l.transform, opacity: l.opacity, blend: l.blend })
            .collect();
        let masks = self
            .doc
            .masks
            .all()
            .into_iter()
            .zip(MASK_KEYS)
            .zip(MASK_TINTS)
            .filter(|((mask, _), _)| self.mask_used(mask))
            .map(|((mask, key), tint)| MaskDraw { key, mask: mask.clone(), tint })
            .collect();
        Scene { view, checker: true, layers, masks }
    }

    /// The canvas area: input for the active tool, then drawing.
    pub(super) fn canvas_ui(&mut self, ui: &mut egui::Ui) {
        let rect = ui.available_rect_before_wrap();
        let response = ui.allocate_rect(rect, Sense::click_and_drag());
        self.canvas_rect = rect;
        let (w, h) = (self.doc.stack.width(), self.doc.stack.height());
        self.view.layout(rect, w, h);
        let ppp = ui.ctx().pixels_per_point();

        // Zoom at the cursor (wheel; Ctrl+wheel too), pan with space-drag or the middle button.
        let (scroll, zoom_delta, hover) = ui.input(|i| (i.smooth_scroll_delta, i.zoom_delta(), i.pointer.hover_pos()));
        if let Some(at) = hover.filter(|p| rect.contains(*p)) {
            let factor = zoom_delta * (scroll.y * 0.002).exp();
            if (factor - 1.0).abs() > 1e-4 {
                self.view.zoom_at(rect, at, factor);
            }
        }
        self.cursor = hover.filter(|p| rect.contains(*p)).map(|p| self.view.to_canvas(rect, p));
        self.pointer_input(ui, &response, rect);

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
            let scene = self.scene(view);
            painter.add(egui_wgpu::Callback::new_paint_callback(rect, CanvasCallback { scene }));
        } else {
            let tex = self.cpu_preview(ui.ctx());
            let canvas = Rect::from_min_size(self.view.to_screen(rect, Pos2::ZERO), vec2(w as f32, h as f32) * self.view.zoom);
            painter.image(tex.id(), canvas, Rect::from_min_max(pos2(0.0, 0.0), pos2(1.0, 1.0)), Color32::WHITE);
        }
        self.draw_overlays(&painter, rect);
    }

    fn mask_used(&self, mask: &Arc<image::GrayImage>) -> bool {
        // An all-zero mask (the common case) is not drawn; masks share one blank buffer until
        // painted, so a pointer comparison answers quickly for those.
        !Arc::ptr_eq(mask, &self.blank_mask) || mask.as_raw().iter().any(|&v| v != 0)
    }

    fn draw_overlays(&self, painter: &egui::Painter, rect: Rect) {
        // Brush outline at the cursor.
        if let (Some(c), Tool::ObjectBrush | Tool::Eraser | Tool::EffectBrush) = (self.cursor, self.tool) {
            let r = self.brush.radius * self.view.zoom;
            painter.circle_stroke(self.view.to_screen(rect, c), r, LineStroke::new(1.0, Color32::WHITE));
            painter.circle_stroke(self.view.to_screen(rect, c), r + 1.0, LineStroke::new(1.0, Color32::BLACK));
        }
        // Bounds and scale handles of the selected object.
        if self.tool == Tool::Move {
            if let Some(b) = self.selection_bounds() {
                let sb = Rect::from_min_max(self.view.to_screen(rect, b.min), self.view.to_screen(rect, b.max));
                painter.rect_stroke(sb, 0.0, LineStroke::new(1.0, Color32::from_rgb(80, 160, 255)), egui::StrokeKind::Outside);
                for corner in [sb.left_top(), sb.right_top(), sb.left_bottom(), sb.right_bottom()] {
                    painter.rect_filled(Rect::from_center_size(corner, vec2(HANDLE, HANDLE)), 1.0, Color32::from_rgb(80, 160, 255));
                }
            }
        }
    }

    /// The canvas-space bounds of the selected layer's group root (the object), if it can move.
    pub(super) fn selection_bounds(&self) -> Option<Rect> {
        let root = self.movable_root(self.selected?)?;
        let l = self.doc.stack.layer(root)?;
        let t = l.transform;
        Some(Rect::from_min_max(pos2(t.x, t.y), pos2(t.x + l.pixels.width() as f32 * t.scale_x, t.y + l.pixels.height() as f32 * t.scale_y)))
    }

    /// The object a layer belongs to, unless it is the background.
    pub(super) fn movable_root(&self, id: LayerId) -> Option<LayerId> {
        let root = *self.doc.stack.group_of(id).first()?;
        let l = self.doc.stack.layer(root)?;
        (l.kind != LayerKind::Background).then_some(root)
    }

    /// The topmost visible, non-background layer with paint under canvas point `p`.
    fn hit_test(&self, p: Pos2) -> Option<LayerId> {
        self.doc.stack.layers().iter().rev().filter(|l| l.visible && l.kind != LayerKind::Background).find_map(|l| {
            let t = l.transform;
            let (u, v) = ((p.x - t.x) / t.scale_x, (p.y - t.y) / t.scale_y);
            let inside = u >= 0.0 && v >= 0.0 && (u as u32) < l.pixels.width() && (v as u32) < l.pixels.height();
            (inside && l.pixels.get(u as u32, v as u32)[3] > 0.1).then_some(l.id)
        })
    }

    fn pointer_input(&mut self, ui: &egui::Ui, response: &egui::Response, rect: Rect) {
        let (pressed, down, released, middle, pos, space) = ui.input(|i| {
            (
                i.pointer.primary_pressed(),
                i.pointer.primary_down(),
                i.pointer.primary_released(),
                i.pointer.middle_down(),
                i.pointer.interact_pos(),
                i.key_down(egui::Key::Space),
            )
        });
        let Some(pos) = pos else { return };
        let canvas = self.view.to_canvas(rect, pos);
        let gesture = std::mem::take(&mut self.gesture);
        self.gesture = match gesture {
            Gesture::Ready if (middle || (pressed && space)) && response.hovered() => Gesture::Panning { last: pos },
            Gesture::Ready if pressed && response.hovered() && self.job.is_none() => self.begin_gesture(canvas, rect, pos),
            Gesture::Panning { last } if middle || down => {
                self.view.offset += pos - last;
                self.view.fit = false;
                Gesture::Panning { last: pos }
            }
            Gesture::Painting(mut stroke) if down || released => {
                stroke.extend([canvas.x, canvas.y]);
                self.render_stroke(&mut stroke);
                if released {
                    Gesture::Ready
                } else {
                    Gesture::Painting(stroke)
                }
            }
            Gesture::Moving { root, grabbed, applied } if down || released => {
                let want = ((canvas - grabbed).round()).max(vec2(-1e6, -1e6));
                let step = want - applied;
                if step != Vec2::ZERO {
                    self.doc.stack.translate_group(root, step.x, step.y);
                }
                if released {
                    Gesture::Ready
                } else {
                    Gesture::Moving { root, grabbed, applied: want }
                }
            }
            Gesture::Scaling { root, anchor, start_dist, applied } if down || released => {
                let factor = ((canvas - anchor).length() / start_dist).clamp(0.02, 50.0);
                self.doc.stack.scale_group(root, factor / applied, anchor.x, anchor.y);
                if released {
                    Gesture::Ready
                } else {
                    Gesture::Scaling { root, anchor, start_dist, applied: factor }
                }
            }
            _ => Gesture::Ready,
        };
    }

    /// A press on the canvas starts the active tool's gesture.
    fn begin_gesture(&mut self, canvas: Pos2, rect: Rect, screen: Pos2) -> Gesture {
        match self.tool {
            Tool::ObjectBrush | Tool::Eraser | Tool::EffectBrush => {
                let (target, erase, label) = match (self.tool, self.effect_mode) {
                    (Tool::ObjectBrush, _) => (MaskTarget::Object, false, "Brush stroke"),
                    (Tool::Eraser, _) => (MaskTarget::Object, true, "Erase"),
                    (_, EffectBrushMode::Add) => (MaskTarget::EffectAdd, false, "Effect hint (add)"),
                    (_, EffectBrushMode::Remove) => (MaskTarget::EffectRemove, false, "Effect hint (remove)"),
                };
                self.begin_edit(label);
                let mut stroke = Stroke::new(target, erase, self.brush, [canvas.x, canvas.y]);
                self.render_stroke(&mut stroke);
                Gesture::Painting(stroke)
            }
            Tool::Move => {
                // A corner handle of the selection scales about the opposite corner.
                if let (Some(b), Some(root)) = (self.selection_bounds(), self.selected.and_then(|s| self.movable_root(s))) {
                    let corners = [(b.left_top(), b.right_bottom()), (b.right_top(), b.left_bottom()), (b.left_bottom(), b.right_top()), (b.right_bottom(), b.left_top())];
                    for (corner, opposite) in corners {
                        if (self.view.to_screen(rect, corner) - screen).length() <= HANDLE {
                            let start_dist = (canvas - opposite).length().max(1.0);
                            self.begin_edit("Scale object");
                            return Gesture::Scaling { root, anchor: opposite, start_dist, applied: 1.0 };
                        }
                    }
                }
                let hit = self.hit_test(canvas).and_then(|id| self.movable_root(id));
                match hit {
                    Some(root) => {
                        self.selected = Some(root);
                        self.begin_edit("Move object");
                        Gesture::Moving { root, grabbed: canvas, applied: Vec2::ZERO }
                    }
                    None => Gesture::Ready,
                }
            }
        }
    }

    fn render_stroke(&mut self, stroke: &mut Stroke) {
        let masks = &mut self.doc.masks;
        let mask = match stroke.target {
            MaskTarget::Object => &mut masks.object,
            MaskTarget::EffectAdd => &mut masks.effect_add,
            MaskTarget::EffectRemove => &mut masks.effect_remove,
        };
        stroke.render_new(Arc::make_mut(mask));
    }

    /// Arrow keys move the selected object by one pixel (ten with Shift).
    pub(super) fn nudge(&mut self, ctx: &egui::Context) {
        let Some(root) = self.selected.and_then(|s| self.movable_root(s)) else { return };
        let (dx, dy) = ctx.input(|i| {
            let step = if i.modifiers.shift { 10.0 } else { 1.0 };
            let mut d = (0.0, 0.0);
            if i.key_pressed(egui::Key::ArrowLeft) {
                d.0 -= step;
            }
            if i.key_pressed(egui::Key::ArrowRight) {
                d.0 += step;
            }
            if i.key_pressed(egui::Key::ArrowUp) {
                d.1 -= step;
            }
            if i.key_pressed(egui::Key::ArrowDown) {
                d.1 += step;
            }
            d
        });
        if (dx, dy) != (0.0, 0.0) {
            self.begin_edit("Nudge object");
            self.doc.stack.translate_group(root, dx, dy);
        }
    }

    /// Without a GPU: the CPU compositor's result (masks tinted in) as an egui texture, redone
    /// when the document changes.
    fn cpu_preview(&mut self, ctx: &egui::Context) -> egui::TextureHandle {
        let stamp = self.doc_stamp();
        if let Some((s, tex)) = &self.cpu_texture {
            if *s == stamp {
                return tex.clone();
            }
        }
        let (w, h) = (self.doc.stack.width(), self.doc.stack.height());
        let mut flat = crate::compositor::flatten(&self.doc.stack);
        for (mask, tint) in self.doc.masks.all().into_iter().zip(MASK_TINTS) {
            crate::compositor::tint_by_mask(&mut flat, mask, tint);
        }
        let side = 4096.0;
        let f = (side / w.max(h) as f32).min(1.0);
        let flat = if f < 1.0 { crate::compositor::resized(&flat, ((w as f32 * f) as u32).max(1), ((h as f32 * f) as u32).max(1)) } else { flat };
        let rgba = flat.to_straight_rgba8();
        let img = egui::ColorImage::from_rgba_unmultiplied([rgba.width() as usize, rgba.height() as usize], rgba.as_raw());
        let tex = ctx.load_texture("canvas (CPU)", img, egui::TextureOptions::LINEAR);
        self.cpu_texture = Some((stamp, tex.clone()));
        tex
    }
}

/// Size of the scale handles, in points.
const HANDLE: f32 = 10.0;
