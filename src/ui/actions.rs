//! What tools and panels ask of the document. They never change it themselves: they return
//! `Action`s, and `Editing::apply` performs them inside an undo transaction.

use layerdecomp::document::{BlendMode, LayerId};
use layerdecomp::engine::{Decomposition, ShadowRemoval};

use super::brush::{BrushSettings, MaskTarget};

/// One change to the document (or to the selection).
#[derive(Debug)]
pub enum Action {
    /// Start an undo step named `label`, unless one is open (a gesture's first action).
    Begin(&'static str),
    /// Paint (or erase) round dabs into a brushed mask.
    Paint { target: MaskTarget, erase: bool, brush: BrushSettings, dabs: Vec<[f32; 2]> },
    /// Move an object and its linked effect layers by whole pixels.
    Translate { root: LayerId, dx: f32, dy: f32 },
    /// Scale an object and its linked effect layers by `factor` about the canvas point `anchor`.
    Scale { root: LayerId, factor: f32, anchor: [f32; 2] },
    /// Change one property of a layer.
    SetLayer { id: LayerId, property: LayerProperty },
    /// Move a layer to stack position `to` (0 = bottom).
    Reorder { id: LayerId, to: usize },
    /// Delete a layer.
    Delete(LayerId),
    /// Clear the brushed masks.
    ClearMasks,
    /// Replace the object brush (what "Select subject" proposes).
    SetObjectMask(image::GrayImage),
    /// Put a decomposition's layers into the document above its background (its own undo step).
    Decomposed(Box<Decomposition>),
    /// Replace the background by a shadow removal's and put the shadow above it (its own undo
    /// step).
    ShadowRemoved(Box<ShadowRemoval>),
    /// Select a layer (or nothing); not an undo step.
    Select(Option<LayerId>),
}

/// A layer property the layers panel edits.
#[derive(Clone, Debug, PartialEq)]
pub enum LayerProperty {
    Visible(bool),
    Opacity(f32),
    Blend(BlendMode),
    Name(String),
    LinkedTo(Option<LayerId>),
}

impl Action {
    /// The undo step's name when this action opens one.
    pub fn label(&self) -> &'static str {
        match self {
            Action::Begin(label) => label,
            Action::Paint { target: MaskTarget::Object, erase: false, .. } => "Brush stroke",
            Action::Paint { target: MaskTarget::Object, erase: true, .. } => "Erase",
            Action::Paint { target: MaskTarget::EffectAdd, .. } => "Effect hint (add)",
            Action::Paint { target: MaskTarget::EffectRemove, .. } => "Effect hint (remove)",
            Action::Translate { .. } => "Move object",
            Action::Scale { .. } => "Scale object",
            Action::SetLayer { property, .. } => match property {
                LayerProperty::Visible(_) => "Layer visibility",
                LayerProperty::Opacity(_) => "Layer opacity",
                LayerProperty::Blend(_) => "Blend mode",
                LayerProperty::Name(_) => "Rename layer",
                LayerProperty::LinkedTo(_) => "Link layer",
            },
            Action::Reorder { .. } => "Reorder layer",
            Action::Delete(_) => "Delete layer",
            Action::ClearMasks => "Clear masks",
            Action::SetObjectMask(_) => "Select subject",
            Action::Decomposed(_) => "Decompose",
            Action::ShadowRemoved(_) => "Remove shadow",
            Action::Select(_) => "Select",
        }
    }
}
