//! What the compositor is asked to draw: a scene of layers and masks in a view.

use std::sync::Arc;

use crate::document::{BlendMode, Layer, LayerStack, PremulImage, Transform};

/// One layer to draw. `key` identifies it across frames (the layer id) for the texture cache.
#[derive(Clone)]
pub struct LayerDraw {
    /// Identifies the layer across frames (its id), for the texture cache.
    pub key: u64,
    /// Premultiplied pixels, shared with the document.
    pub pixels: Arc<PremulImage>,
    /// Where its pixels land on the canvas.
    pub transform: Transform,
    /// Layer opacity in [0, 1].
    pub opacity: f32,
    /// How it combines with what is below.
    pub blend: BlendMode,
}

impl LayerDraw {
    /// How `layer` is drawn (keyed by its id).
    pub fn of(layer: &Layer) -> Self {
        Self {
            key: layer.id.0,
            pixels: layer.pixels.clone(),
            transform: layer.transform,
            opacity: layer.opacity,
            blend: layer.blend,
        }
    }

    /// The visible layers of `stack`, bottom first.
    pub fn visible(stack: &LayerStack) -> Vec<Self> {
        stack.layers().iter().filter(|l| l.visible).map(Self::of).collect()
    }
}

/// A coverage mask (one byte per canvas pixel, placed at the canvas origin) drawn as a tint.
#[derive(Clone)]
pub struct MaskDraw {
    /// Identifies the mask across frames, for the texture cache.
    pub key: u64,
    /// Coverage, one byte per canvas pixel.
    pub mask: Arc<image::GrayImage>,
    /// Premultiplied tint at full coverage.
    pub tint: [f32; 4],
}

/// Where the canvas lands in the target: target pixel = `offset + canvas pixel · zoom`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct View {
    /// Canvas width in pixels.
    pub canvas_w: u32,
    /// Canvas height in pixels.
    pub canvas_h: u32,
    /// Target position of the canvas origin, in target pixels.
    pub offset: [f32; 2],
    /// Target pixels per canvas pixel.
    pub zoom: f32,
    /// Target (viewport) size in pixels.
    pub target: [u32; 2],
}

/// Everything one frame draws, bottom first; cheap to clone (pixels are shared).
#[derive(Clone)]
pub struct Scene {
    /// Where the canvas lands in the target.
    pub view: View,
    /// Draw a checkerboard under the canvas (the editor does; exports do not).
    pub checker: bool,
    /// Layers, bottom first.
    pub layers: Vec<LayerDraw>,
    /// Masks drawn as tints over the layers.
    pub masks: Vec<MaskDraw>,
}
