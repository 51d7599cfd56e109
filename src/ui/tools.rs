//! Tools as small state machines (`Ready → Painting / Moving / Scaling / Boxing → Ready`): pointer
//! and key events go in, document `Action`s come out (and, from the subject box, the area to
//! select in). A tool never changes the document itself.

use eframe::egui::{self, pos2, Key, Pos2, Rect, Vec2};
use layerdecomp::document::{LayerId, LayerKind, LayerStack};

use super::actions::Action;
use super::brush::{BrushSettings, MaskTarget, Stroke};

/// The editor's tools.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    ObjectBrush,
    Eraser,
    EffectBrush,
    Move,
    /// Drag a box: the network selects the subject inside it (Photoshop's Object Selection).
    SubjectBox,
}

impl Tool {
    pub const ALL: [Tool; 5] = [Tool::ObjectBrush, Tool::Eraser, Tool::EffectBrush, Tool::Move, Tool::SubjectBox];

    pub fn label(self) -> &'static str {
        match self {
            Tool::ObjectBrush => "Object brush",
            Tool::Eraser => "Eraser",
            Tool::EffectBrush => "Effect brush",
            Tool::Move => "Move / scale",
            Tool::SubjectBox => "Subject in a box",
        }
    }

    pub fn shortcut(self) -> egui::Key {
        match self {
            Tool::ObjectBrush => egui::Key::B,
            Tool::Eraser => egui::Key::E,
            Tool::EffectBrush => egui::Key::H,
            Tool::Move => egui::Key::V,
            Tool::SubjectBox => egui::Key::W,
        }
    }

    pub fn paints(self) -> bool {
        matches!(self, Tool::ObjectBrush | Tool::Eraser | Tool::EffectBrush)
    }
}

/// Whether the effect brush marks "this is the object's shadow/reflection" or "this is not".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EffectBrushMode {
    Add,
    Remove,
}

/// What the primary pointer button did this frame, at a canvas point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PointerEvent {
    /// Pressed over the canvas.
    Press(Pos2),
    /// Held down.
    Down(Pos2),
    /// Released.
    Release(Pos2),
    /// Neither pressed nor held.
    Up,
}

/// What a tool may look at when it decides.
pub struct ToolContext<'a> {
    pub stack: &'a LayerStack,
    pub selected: Option<LayerId>,
    pub brush: BrushSettings,
    /// Screen points per canvas pixel (the scale handles are sized on screen).
    pub zoom: f32,
}

/// The gesture in progress.
#[derive(Debug, Default)]
enum Gesture {
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
    /// A box being dragged from `start` to `now` (canvas points).
    Boxing {
        start: Pos2,
        now: Pos2,
    },
}

/// The smallest box side, in canvas pixels, the subject box acts on (a click is not a box).
pub const MIN_BOX: f32 = 8.0;

/// Size of the scale handles, in points.
pub const HANDLE: f32 = 10.0;

/// The active tool and its gesture.
pub struct Tools {
    pub tool: Tool,
    pub effect_mode: EffectBrushMode,
    gesture: Gesture,
    /// A subject box released and not yet taken (`take_subject_box`).
    released_box: Option<Rect>,
}

impl Default for Tools {
    fn default() -> Self {
        Self { tool: Tool::ObjectBrush, effect_mode: EffectBrushMode::Add, gesture: Gesture::Ready, released_box: None }
    }
}

impl Tools {
    /// No gesture is in progress.
    pub fn is_idle(&self) -> bool {
        matches!(self.gesture, Gesture::Ready)
    }

    /// Drop the gesture in progress (its changes stay; the caller commits them).
    pub fn reset(&mut self) {
        self.gesture = Gesture::Ready;
    }

    /// The subject box being dragged (canvas points), to draw.
    pub fn dragged_box(&self) -> Option<Rect> {
        match self.gesture {
            Gesture::Boxing { start, now } => Some(Rect::from_two_pos(start, now)),
            _ => None,
        }
    }

    /// The subject box released since the last call, if it was a box and not a click.
    pub fn take_subject_box(&mut self) -> Option<Rect> {
        self.released_box.take()
    }

    /// Feed one pointer event to the active tool.
    pub fn pointer(&mut self, event: PointerEvent, cx: &ToolContext<'_>) -> Vec<Action> {
        let mut actions = Vec::new();
        self.gesture = match (std::mem::take(&mut self.gesture), event) {
            (Gesture::Ready, PointerEvent::Press(p)) => self.begin(p, cx, &mut actions),
            (Gesture::Painting(mut stroke), PointerEvent::Down(p) | PointerEvent::Release(p)) => {
                stroke.extend([p.x, p.y]);
                actions.push(paint(&mut stroke));
                if matches!(event, PointerEvent::Release(_)) {
                    Gesture::Ready
                } else {
                    Gesture::Painting(stroke)
                }
            }
            (Gesture::Moving { root, grabbed, applied }, PointerEvent::Down(p) | PointerEvent::Release(p)) => {
                let want = (p - grabbed).round().max(Vec2::new(-1e6, -1e6));
                let step = want - applied;
                if step != Vec2::ZERO {
                    actions.push(Action::Translate { root, dx: step.x, dy: step.y });
                }
                match event {
                    PointerEvent::Release(_) => Gesture::Ready,
                    _ => Gesture::Moving { root, grabbed, applied: want },
                }
            }
            (
                Gesture::Scaling { root, anchor, start_dist, applied },
                PointerEvent::Down(p) | PointerEvent::Release(p),
            ) => {
                let factor = ((p - anchor).length() / start_dist).clamp(0.02, 50.0);
                actions.push(Action::Scale { root, factor: factor / applied, anchor: [anchor.x, anchor.y] });
                match event {
                    PointerEvent::Release(_) => Gesture::Ready,
                    _ => Gesture::Scaling { root, anchor, start_dist, applied: factor },
                }
            }
            (Gesture::Boxing { start, .. }, PointerEvent::Down(now)) => Gesture::Boxing { start, now },
            (Gesture::Boxing { start, .. }, PointerEvent::Release(end)) => {
                let b = Rect::from_two_pos(start, end);
                self.released_box = (b.width() >= MIN_BOX && b.height() >= MIN_BOX).then_some(b);
                Gesture::Ready
            }
            _ => Gesture::Ready,
        };
        actions
    }

    /// A press on the canvas starts the active tool's gesture.
    fn begin(&self, p: Pos2, cx: &ToolContext<'_>, actions: &mut Vec<Action>) -> Gesture {
        match self.tool {
            Tool::ObjectBrush | Tool::Eraser | Tool::EffectBrush => {
                let (target, erase, label) = match (self.tool, self.effect_mode) {
                    (Tool::ObjectBrush, _) => (MaskTarget::Object, false, "Brush stroke"),
                    (Tool::Eraser, _) => (MaskTarget::Object, true, "Erase"),
                    (_, EffectBrushMode::Add) => (MaskTarget::EffectAdd, false, "Effect hint (add)"),
                    (_, EffectBrushMode::Remove) => (MaskTarget::EffectRemove, false, "Effect hint (remove)"),
                };
                let mut stroke = Stroke::new(target, erase, cx.brush, [p.x, p.y]);
                actions.push(Action::Begin(label));
                actions.push(paint(&mut stroke));
                Gesture::Painting(stroke)
            }
            Tool::Move => {
                if let Some(scaling) = grab_handle(p, cx) {
                    actions.push(Action::Begin("Scale object"));
                    return scaling;
                }
                match hit_test(cx.stack, p).and_then(|id| movable_root(cx.stack, id)) {
                    Some(root) => {
                        actions.push(Action::Select(Some(root)));
                        actions.push(Action::Begin("Move object"));
                        Gesture::Moving { root, grabbed: p, applied: Vec2::ZERO }
                    }
                    None => Gesture::Ready,
                }
            }
            Tool::SubjectBox => Gesture::Boxing { start: p, now: p },
        }
    }

    /// Arrow keys move the selected object by `(dx, dy)` canvas pixels.
    pub fn nudge(&self, dx: f32, dy: f32, cx: &ToolContext<'_>) -> Vec<Action> {
        let root = cx.selected.and_then(|s| movable_root(cx.stack, s));
        match root {
            Some(root) if self.tool == Tool::Move && (dx, dy) != (0.0, 0.0) => {
                vec![Action::Begin("Nudge object"), Action::Translate { root, dx, dy }]
            }
            _ => Vec::new(),
        }
    }
}

/// Arrow keys pressed this frame as a move in canvas pixels (ten with Shift).
pub fn arrow_keys(i: &egui::InputState) -> (f32, f32) {
    let step = if i.modifiers.shift { 10.0 } else { 1.0 };
    let axis = |neg: Key, pos: Key| step * (i.key_pressed(pos) as i32 - i.key_pressed(neg) as i32) as f32;
    (axis(Key::ArrowLeft, Key::ArrowRight), axis(Key::ArrowUp, Key::ArrowDown))
}

/// The stroke's samples not yet painted, as dabs.
fn paint(stroke: &mut Stroke) -> Action {
    Action::Paint { target: stroke.target, erase: stroke.erase, brush: stroke.brush, dabs: stroke.take_new_dabs() }
}

/// A corner handle of the selection under `p` starts scaling about the opposite corner.
fn grab_handle(p: Pos2, cx: &ToolContext<'_>) -> Option<Gesture> {
    let root = cx.selected.and_then(|s| movable_root(cx.stack, s))?;
    let b = selection_bounds(cx.stack, cx.selected)?;
    let corners = [
        (b.left_top(), b.right_bottom()),
        (b.right_top(), b.left_bottom()),
        (b.left_bottom(), b.right_top()),
        (b.right_bottom(), b.left_top()),
    ];
    corners.into_iter().find(|(corner, _)| (*corner - p).length() * cx.zoom <= HANDLE).map(|(_, opposite)| {
        Gesture::Scaling { root, anchor: opposite, start_dist: (p - opposite).length().max(1.0), applied: 1.0 }
    })
}

/// A box in canvas points as whole canvas pixels inside a `size` canvas (`None` if nothing of
/// it is inside).
pub fn pixel_rect(b: Rect, size: (u32, u32)) -> Option<layerdecomp::raster::Rect> {
    let clamp = |v: f32, max: u32| v.round().clamp(0.0, max as f32) as usize;
    let (x0, x1) = (clamp(b.min.x, size.0), clamp(b.max.x, size.0));
    let (y0, y1) = (clamp(b.min.y, size.1), clamp(b.max.y, size.1));
    (x1 > x0 && y1 > y0).then_some(layerdecomp::raster::Rect { x0, y0, x1, y1 })
}

/// The object a layer belongs to, unless it is the background.
pub fn movable_root(stack: &LayerStack, id: LayerId) -> Option<LayerId> {
    let root = *stack.group_of(id).first()?;
    let l = stack.layer(root)?;
    (l.kind != LayerKind::Background).then_some(root)
}

/// The canvas-space bounds of the selected layer's group root (the object), if it can move.
pub fn selection_bounds(stack: &LayerStack, selected: Option<LayerId>) -> Option<Rect> {
    let root = movable_root(stack, selected?)?;
    let l = stack.layer(root)?;
    let t = l.transform;
    Some(Rect::from_min_max(
        pos2(t.x, t.y),
        pos2(t.x + l.pixels.width() as f32 * t.scale_x, t.y + l.pixels.height() as f32 * t.scale_y),
    ))
}

/// The topmost visible, non-background layer with paint under canvas point `p`.
fn hit_test(stack: &LayerStack, p: Pos2) -> Option<LayerId> {
    stack.layers().iter().rev().filter(|l| l.visible && l.kind != LayerKind::Background).find_map(|l| {
        let t = l.transform;
        let (u, v) = ((p.x - t.x) / t.scale_x, (p.y - t.y) / t.scale_y);
        let inside = u >= 0.0 && v >= 0.0 && (u as u32) < l.pixels.width() && (v as u32) < l.pixels.height();
        (inside && l.pixels.get(u as u32, v as u32)[3] > 0.1).then_some(l.id)
    })
}
