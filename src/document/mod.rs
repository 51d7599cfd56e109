//! The layered document: a `LayerStack` of `Layer`s, bottom first.
//!
//! The background is simply the bottom layer (kind `Background`). Object layers own their effect
//! layers (shadow, reflection, ...) through `Layer::linked_to`, so moving or scaling an object moves
//! its effects with it (`LayerStack::translate_group`, `LayerStack::scale_group`).

use std::sync::Arc;

pub use crate::raster::{premultiply, to_u16, to_u8, unpremultiply, PremulImage, Px};

/// How a layer's colour combines with what is below it. Both operate on sRGB-encoded values
/// (see `crate::compositor::cpu`), as Photoshop's default does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum BlendMode {
    /// Porter-Duff source-over (PSD `norm`, ORA `svg:src-over`).
    #[default]
    Normal,
    /// Multiply (PSD `mul `, ORA `svg:multiply`).
    Multiply,
}

impl BlendMode {
    /// Name used on the command line and in our own metadata.
    pub fn name(self) -> &'static str {
        match self {
            BlendMode::Normal => "normal",
            BlendMode::Multiply => "multiply",
        }
    }

    /// `normal` or `multiply` (the names files and the command line use).
    pub fn from_name(name: &str) -> Option<Self> {
        match name.to_ascii_lowercase().as_str() {
            "normal" | "over" | "src-over" => Some(BlendMode::Normal),
            "multiply" | "mul" => Some(BlendMode::Multiply),
            _ => None,
        }
    }
}

/// What a visual effect layer represents.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EffectKind {
    /// A cast or contact shadow.
    Shadow,
    /// A reflection on a glossy surface.
    Reflection,
    /// Anything else brushed as the object's effect (glow, smoke).
    Other,
}

/// What a layer is, in the decomposition's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LayerKind {
    /// The clean plate everything sits on.
    Background,
    /// An object cut out of the photo.
    #[default]
    Object,
    /// A visual effect (shadow, reflection, ...) that belongs to an object.
    Effect(EffectKind),
}

impl LayerKind {
    /// The kind's name in files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            LayerKind::Background => "background",
            LayerKind::Object => "object",
            LayerKind::Effect(EffectKind::Shadow) => "shadow",
            LayerKind::Effect(EffectKind::Reflection) => "reflection",
            LayerKind::Effect(EffectKind::Other) => "effect",
        }
    }

    /// The kind named `name` (see `name`).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name {
            "background" => LayerKind::Background,
            "object" => LayerKind::Object,
            "shadow" => LayerKind::Effect(EffectKind::Shadow),
            "reflection" => LayerKind::Effect(EffectKind::Reflection),
            "effect" => LayerKind::Effect(EffectKind::Other),
            _ => return None,
        })
    }
}

/// Where a layer's pixels land on the canvas: the layer pixel `(u, v)` covers the canvas square
/// from `(x + u·scale_x, y + v·scale_y)` to `(x + (u+1)·scale_x, y + (v+1)·scale_y)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transform {
    /// Canvas x of the layer's left edge.
    pub x: f32,
    /// Canvas y of the layer's top edge.
    pub y: f32,
    /// Canvas pixels per layer pixel, horizontally.
    pub scale_x: f32,
    /// Canvas pixels per layer pixel, vertically.
    pub scale_y: f32,
}

impl Default for Transform {
    fn default() -> Self {
        Self::at(0.0, 0.0)
    }
}

impl Transform {
    /// Unscaled, with the top-left corner at `(x, y)`.
    pub fn at(x: f32, y: f32) -> Self {
        Self { x, y, scale_x: 1.0, scale_y: 1.0 }
    }

    /// The integer offset when this transform is a pure whole-pixel translation: then the layer
    /// is placed without resampling, bit-exactly.
    pub fn integer_offset(&self) -> Option<(i32, i32)> {
        let whole = |v: f32| v.fract() == 0.0 && v.abs() < i32::MAX as f32;
        (self.scale_x == 1.0 && self.scale_y == 1.0 && whole(self.x) && whole(self.y))
            .then_some((self.x as i32, self.y as i32))
    }

    /// Scale by `factor` about the canvas point `(ax, ay)`.
    pub fn scaled_about(&self, factor: f32, ax: f32, ay: f32) -> Self {
        Self {
            x: ax + (self.x - ax) * factor,
            y: ay + (self.y - ay) * factor,
            scale_x: self.scale_x * factor,
            scale_y: self.scale_y * factor,
        }
    }
}

/// Identifies a layer for the lifetime of its document (ids are never reused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LayerId(pub u64);

/// One layer: pixels plus how they are placed and blended.
#[derive(Clone, Debug)]
pub struct Layer {
    /// Stable identity within its stack.
    pub id: LayerId,
    /// The name layer panels show.
    pub name: String,
    /// Shared, so that copying a document (an undo snapshot, a frame handed to the GPU) costs
    /// no pixels; `Arc::make_mut` copies on write.
    pub pixels: Arc<PremulImage>,
    /// Where its pixels land on the canvas.
    pub transform: Transform,
    /// Layer opacity in `[0, 1]`, multiplied into the pixels' own alpha.
    pub opacity: f32,
    /// How it combines with what is below.
    pub blend: BlendMode,
    /// Hidden layers are kept but not drawn.
    pub visible: bool,
    /// What it is in the decomposition's terms.
    pub kind: LayerKind,
    /// For effect layers: the object layer they belong to and travel with.
    pub linked_to: Option<LayerId>,
}

/// The document: a canvas size and its layers, bottom first.
#[derive(Clone, Debug)]
pub struct LayerStack {
    width: u32,
    height: u32,
    layers: Vec<Layer>,
    next_id: u64,
}

/// What to create a layer from; the stack assigns the id.
#[derive(Clone, Debug)]
pub struct NewLayer {
    /// The name layer panels show.
    pub name: String,
    /// Premultiplied pixels.
    pub pixels: PremulImage,
    /// Where its pixels land on the canvas (default: the origin, unscaled).
    pub transform: Transform,
    /// Opacity in [0, 1] (default 1).
    pub opacity: f32,
    /// Blend mode (default Normal).
    pub blend: BlendMode,
    /// Shown (default) or hidden.
    pub visible: bool,
    /// What it is (default an object).
    pub kind: LayerKind,
    /// The object it moves with, if it is one's effect.
    pub linked_to: Option<LayerId>,
}

impl NewLayer {
    /// A visible, fully opaque Normal object layer at `(0, 0)`.
    pub fn new(name: impl Into<String>, pixels: PremulImage) -> Self {
        Self {
            name: name.into(),
            pixels,
            transform: Transform::default(),
            opacity: 1.0,
            blend: BlendMode::Normal,
            visible: true,
            kind: LayerKind::Object,
            linked_to: None,
        }
    }

    /// Place its top-left corner at canvas `(x, y)`.
    pub fn at(mut self, x: f32, y: f32) -> Self {
        self.transform = Transform::at(x, y);
        self
    }

    /// Place it with `t`.
    pub fn transform(mut self, t: Transform) -> Self {
        self.transform = t;
        self
    }

    /// Set its opacity.
    pub fn opacity(mut self, o: f32) -> Self {
        self.opacity = o.clamp(0.0, 1.0);
        self
    }

    /// Set its blend mode.
    pub fn blend(mut self, b: BlendMode) -> Self {
        self.blend = b;
        self
    }

    /// Show or hide it.
    pub fn visible(mut self, v: bool) -> Self {
        self.visible = v;
        self
    }

    /// Set what it is.
    pub fn kind(mut self, k: LayerKind) -> Self {
        self.kind = k;
        self
    }

    /// Make it move with the layer `id` (an effect with its object).
    pub fn linked_to(mut self, id: LayerId) -> Self {
        self.linked_to = Some(id);
        self
    }
}

impl LayerStack {
    /// An empty document of the given canvas size.
    pub fn new(width: u32, height: u32) -> Self {
        Self { width, height, layers: Vec::new(), next_id: 1 }
    }

    /// A document whose only layer is `image` as the background.
    pub fn from_background(image: PremulImage) -> Self {
        let mut stack = Self::new(image.width(), image.height());
        stack.push(NewLayer::new("Background", image).kind(LayerKind::Background));
        stack
    }

    /// Canvas width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Canvas height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Layers bottom first.
    pub fn layers(&self) -> &[Layer] {
        &self.layers
    }

    /// Add a layer on top; returns its id.
    pub fn push(&mut self, new: NewLayer) -> LayerId {
        let id = LayerId(self.next_id);
        self.next_id += 1;
        self.layers.push(Layer {
            id,
            name: new.name,
            pixels: Arc::new(new.pixels),
            transform: new.transform,
            opacity: new.opacity.clamp(0.0, 1.0),
            blend: new.blend,
            visible: new.visible,
            kind: new.kind,
            linked_to: new.linked_to,
        });
        id
    }

    /// The stack position (0 = bottom) of layer `id`.
    pub fn index_of(&self, id: LayerId) -> Option<usize> {
        self.layers.iter().position(|l| l.id == id)
    }

    /// The layer `id`.
    pub fn layer(&self, id: LayerId) -> Option<&Layer> {
        self.layers.iter().find(|l| l.id == id)
    }

    /// The layer `id`, to change it.
    pub fn layer_mut(&mut self, id: LayerId) -> Option<&mut Layer> {
        self.layers.iter_mut().find(|l| l.id == id)
    }

    /// The first layer (from the bottom) called `name`.
    pub fn by_name(&self, name: &str) -> Option<&Layer> {
        self.layers.iter().find(|l| l.name == name)
    }

    /// Remove a layer; effects linked to it lose their link. Returns the removed layer.
    pub fn remove(&mut self, id: LayerId) -> Option<Layer> {
        let idx = self.index_of(id)?;
        let removed = self.layers.remove(idx);
        for l in &mut self.layers {
            if l.linked_to == Some(id) {
                l.linked_to = None;
            }
        }
        Some(removed)
    }

    /// Move a layer to stack position `to` (0 = bottom).
    pub fn reorder(&mut self, id: LayerId, to: usize) -> bool {
        let Some(from) = self.index_of(id) else { return false };
        let layer = self.layers.remove(from);
        let to = to.min(self.layers.len());
        self.layers.insert(to, layer);
        true
    }

    /// The layer and every layer linked to it (an object and its effects). For an effect layer,
    /// the group of the object it belongs to.
    pub fn group_of(&self, id: LayerId) -> Vec<LayerId> {
        let Some(layer) = self.layer(id) else { return Vec::new() };
        let root = layer.linked_to.filter(|r| self.layer(*r).is_some()).unwrap_or(id);
        let mut group = vec![root];
        group.extend(self.layers.iter().filter(|l| l.linked_to == Some(root)).map(|l| l.id));
        group
    }

    /// Move a layer together with its linked layers by `(dx, dy)` canvas pixels.
    pub fn translate_group(&mut self, id: LayerId, dx: f32, dy: f32) {
        for member in self.group_of(id) {
            if let Some(l) = self.layer_mut(member) {
                l.transform.x += dx;
                l.transform.y += dy;
            }
        }
    }

    /// Scale a layer together with its linked layers by `factor` about the canvas point
    /// `(ax, ay)`, so that an object's shadow keeps its place relative to the object.
    pub fn scale_group(&mut self, id: LayerId, factor: f32, ax: f32, ay: f32) {
        if !(factor.is_finite() && factor > 0.0) {
            return;
        }
        for member in self.group_of(id) {
            if let Some(l) = self.layer_mut(member) {
                l.transform = l.transform.scaled_about(factor, ax, ay);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack_with_object_and_shadow() -> (LayerStack, LayerId, LayerId) {
        let mut s = LayerStack::from_background(PremulImage::filled(20, 10, [1.0; 4]));
        let obj = s.push(NewLayer::new("obj", PremulImage::filled(4, 4, [0.5, 0.0, 0.0, 0.5])).at(2.0, 3.0));
        let shadow = s.push(
            NewLayer::new("shadow", PremulImage::filled(6, 2, [0.0, 0.0, 0.0, 0.4]))
                .at(4.0, 6.0)
                .kind(LayerKind::Effect(EffectKind::Shadow))
                .linked_to(obj),
        );
        (s, obj, shadow)
    }

    #[test]
    fn effects_travel_with_their_object() {
        let (mut s, obj, shadow) = stack_with_object_and_shadow();
        assert_eq!(s.group_of(shadow), vec![obj, shadow]);
        s.translate_group(obj, 5.0, -1.0);
        assert_eq!(s.layer(obj).unwrap().transform, Transform::at(7.0, 2.0));
        assert_eq!(s.layer(shadow).unwrap().transform, Transform::at(9.0, 5.0));
        s.scale_group(shadow, 2.0, 7.0, 2.0);
        let t = s.layer(shadow).unwrap().transform;
        assert_eq!((t.x, t.y, t.scale_x, t.scale_y), (11.0, 8.0, 2.0, 2.0));
        assert_eq!(s.layer(obj).unwrap().transform.scale_x, 2.0);
        // The background is not part of the group.
        assert_eq!(s.layers()[0].transform, Transform::default());
    }

    #[test]
    fn removing_an_object_unlinks_its_effects() {
        let (mut s, obj, shadow) = stack_with_object_and_shadow();
        s.remove(obj).unwrap();
        assert_eq!(s.layer(shadow).unwrap().linked_to, None);
        assert_eq!(s.group_of(shadow), vec![shadow]);
    }

    #[test]
    fn integer_offsets_are_recognised() {
        assert_eq!(Transform::at(3.0, -2.0).integer_offset(), Some((3, -2)));
        assert_eq!(Transform::at(3.5, 0.0).integer_offset(), None);
        assert_eq!(Transform::at(0.0, 0.0).scaled_about(2.0, 0.0, 0.0).integer_offset(), None);
    }
}
