//! What a decomposition is asked (`DecomposeRequest`), what it reports while it runs
//! (`Progress`, `CancelToken`) and what it gives back (`Decomposition`) or how it fails
//! (`EngineError`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::Cancelled;
use crate::document::{BlendMode, EffectKind, LayerId, LayerKind, LayerStack, NewLayer, PremulImage};
use crate::raster::Mask;

/// Cancels a running decomposition from another thread.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token nothing has cancelled yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Ask the decomposition to stop (it stops within ~25 ms).
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// Whether `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Speed/quality trade-off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Quality {
    /// Interactive previews.
    Fast,
    #[default]
    /// The default: interactive on a laptop, good enough to keep.
    Balanced,
    /// More EM iterations and PatchMatch sweeps.
    Best,
}

impl Quality {
    /// `fast`, `balanced` or `best`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "fast" => Some(Quality::Fast),
            "balanced" => Some(Quality::Balanced),
            "best" => Some(Quality::Best),
            _ => None,
        }
    }
}

/// What the engine is doing, for progress reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Finding the object inside the brush.
    Segmenting,
    /// Its soft edge.
    Matting,
    /// Filling the background behind it.
    Completing,
    /// Finding and removing its shadows and reflections.
    Effects,
    /// Making the layers recompose the photo.
    Finishing,
}

impl Stage {
    /// What the user is told the engine is doing.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Segmenting => "Finding the object",
            Stage::Matting => "Refining the edge",
            Stage::Completing => "Filling the background",
            Stage::Effects => "Separating shadows and reflections",
            Stage::Finishing => "Building layers",
        }
    }
}

/// A progress report: the stage and the overall fraction done (never decreases).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// The stage now running.
    pub stage: Stage,
    /// How far the whole decomposition is, in [0, 1], never decreasing.
    pub fraction: f32,
}

/// What the user asked for.
pub struct DecomposeRequest<'a> {
    /// The brushed object: any non-zero pixel is "object"; may overshoot and miss thin parts.
    pub object_mask: Mask,
    /// Shadow/reflection region the user brushed (optional).
    pub effect_hint: Option<Mask>,
    /// Pixels that must stay untouched (optional).
    pub protect: Option<Mask>,
    /// Speed against quality.
    pub quality: Quality,
    /// Seed of the fill's random choices (same seed, same result).
    pub seed: u64,
    /// Called with progress as the stages advance (from the engine's threads).
    pub progress: Option<&'a (dyn Fn(Progress) + Sync)>,
    /// Cancels the decomposition from another thread.
    pub cancel: CancelToken,
    /// Worker threads; default: all cores but one, so the caller's UI keeps a core.
    pub threads: Option<usize>,
    /// Look for the object's shadows when no effect hint is given (default on).
    pub detect_effects: bool,
}

impl DecomposeRequest<'_> {
    /// A request for `object_mask` with the defaults: effects looked for, balanced quality, seed 0.
    pub fn new(object_mask: Mask) -> Self {
        Self {
            object_mask,
            effect_hint: None,
            protect: None,
            quality: Quality::default(),
            seed: 0,
            progress: None,
            cancel: CancelToken::new(),
            threads: None,
            detect_effects: true,
        }
    }
}

/// Why a decomposition did not run or did not finish.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A mask is not the image's size.
    #[error("the {which} mask is {mask_w}×{mask_h} but the image is {image_w}×{image_h}")]
    MaskSizeMismatch {
        /// Which mask ("object", "effect", "protect").
        which: &'static str,
        /// The mask's width.
        mask_w: u32,
        /// The mask's height.
        mask_h: u32,
        /// The image's width.
        image_w: u32,
        /// The image's height.
        image_h: u32,
    },
    #[error("the object mask is empty: brush over the object first")]
    /// No pixel was brushed.
    EmptyMask,
    #[error("the shadow mask is empty: brush over the shadow first")]
    /// No pixel of the shadow was brushed.
    EmptyEffectMask,
    #[error("the brushed region is not darker than the surface around it: there is no shadow to take out")]
    /// Relighting the brushed region brightened nothing.
    NotAShadow,
    #[error("the mask covers (almost) the whole image: nothing is left to rebuild the background from")]
    /// Nothing is left of the photo to rebuild the background from.
    MaskCoversImage,
    #[error("the image is too small to decompose ({0}×{1}; at least 16×16)")]
    /// The image is smaller than the engine works with (width, height).
    ImageTooSmall(u32, u32),
    #[error("cancelled")]
    /// The cancel token was used.
    Cancelled,
}

impl From<Cancelled> for EngineError {
    fn from(_: Cancelled) -> Self {
        EngineError::Cancelled
    }
}

/// A layer cut from the photo: premultiplied pixels and where their top-left corner sits.
#[derive(Clone, Debug)]
pub struct PlacedLayer {
    /// Premultiplied pixels, cropped to the layer's bounds.
    pub pixels: PremulImage,
    /// Canvas column of the left edge.
    pub x: i32,
    /// Canvas row of the top edge.
    pub y: i32,
}

/// A visual effect of the object (shadow, reflection, ...), as its own layer.
#[derive(Clone, Debug)]
pub struct EffectLayer {
    /// Shadow, reflection or another brushed effect.
    pub kind: EffectKind,
    /// Its pixels and where they sit.
    pub layer: PlacedLayer,
    /// How sure the engine is that this is an effect of the object, in [0, 1].
    pub confidence: f32,
}

/// The result: layers that recompose the input.
#[derive(Clone, Debug)]
pub struct Decomposition {
    /// The clean plate, full canvas, opaque.
    pub background: PremulImage,
    /// The object, cropped to its bounds.
    pub object: PlacedLayer,
    /// The object's effects, each its own layer.
    pub effects: Vec<EffectLayer>,
    /// Object and effects together, full canvas: `over(foreground, background) == input`.
    pub foreground: PremulImage,
    /// What went wrong on the way without stopping it (a cut that found nothing and fell back
    /// to the brush), for the user to see.
    pub warnings: Vec<String>,
}

impl Decomposition {
    /// The effects found, each with how sure the engine is: "shadow (83 %), reflection (57 %)",
    /// or "no shadow or reflection" — for the editor's message and the CLI's report.
    pub fn effects_summary(&self) -> String {
        if self.effects.is_empty() {
            return "no shadow or reflection".into();
        }
        let name = |k: EffectKind| match k {
            EffectKind::Shadow => "shadow",
            EffectKind::Reflection => "reflection",
            EffectKind::Other => "brushed effect",
        };
        self.effects
            .iter()
            .map(|e| format!("{} ({:.0} %)", name(e.kind), 100.0 * e.confidence))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The layers as a document: background, effects (linked to the object), object on top.
    pub fn to_layer_stack(&self) -> LayerStack {
        let mut stack = LayerStack::from_background(self.background.clone());
        self.clone().add_layers_to(&mut stack, 0, "Object");
        stack
    }

    /// Insert the effects (linked to the object) and then the object just above stack position
    /// `above`; the background is the caller's to place. Returns the object layer's id.
    pub fn add_layers_to(self, stack: &mut LayerStack, above: usize, object_name: &str) -> LayerId {
        let object =
            stack.push(NewLayer::new(object_name, self.object.pixels).at(self.object.x as f32, self.object.y as f32));
        stack.reorder(object, above + 1);
        // Effects go below the object; moving the object moves them.
        let mut counts = [0usize; 3];
        for (k, e) in self.effects.into_iter().enumerate() {
            let (name, n) = match e.kind {
                EffectKind::Shadow => ("Shadow", &mut counts[0]),
                EffectKind::Reflection => ("Reflection", &mut counts[1]),
                EffectKind::Other => ("Effect", &mut counts[2]),
            };
            *n += 1;
            let name = if *n == 1 { name.to_string() } else { format!("{name} {n}") };
            let id = stack.push(
                NewLayer::new(name, e.layer.pixels)
                    .at(e.layer.x as f32, e.layer.y as f32)
                    .kind(LayerKind::Effect(e.kind))
                    .blend(BlendMode::Normal)
                    .linked_to(object),
            );
            stack.reorder(id, above + 1 + k);
        }
        object
    }
}
