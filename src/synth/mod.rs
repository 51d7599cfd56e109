//! Simulated multi-layer images, following LayerDecomp's data pipeline: real photographs become
//! floors and object fillings; procedural silhouettes become object cut-outs with exact alpha;
//! cast shadows are the silhouette projected by a light direction from the contact line,
//! softer with distance; contact shadows and reflections are added; every ground-truth layer
//! and two coarse brushes (object only; object + effects) are written (`write_case`) and read
//! back (`read_cases`) for scoring.

mod files;
mod generate;
mod sources;
mod wide;

use crate::document::EffectKind;
use crate::raster::{Mask, Rgb};

pub use files::{read_cases, write_case, Case, Truth};
pub use generate::generate;
pub use sources::Sources;
pub use wide::generate_wide;

/// Width of a generated case, in pixels.
pub const WIDTH: usize = 960;
/// Height of a generated case, in pixels.
pub const HEIGHT: usize = 640;

/// The scenes the generator makes, in the order reports list them: what the object does to the
/// floor (a cast shadow with its contact shadow, a contact shadow alone, a reflection, nothing).
pub const SCENES: [&str; 4] = ["cast-shadow", "contact-shadow", "reflection", "none"];

/// One generated case: every layer of the truth, and the two brushes a user would give.
pub struct SynthCase {
    /// The photo: object over the floor with the object's effect on it.
    pub input: Rgb,
    /// The clean floor: no object, no effect.
    pub background: Rgb,
    /// Object layer: straight colour and alpha, full canvas.
    pub object_rgb: Rgb,
    /// The object's exact alpha, row-major.
    pub object_alpha: Vec<f32>,
    /// Effect layer (minimal-alpha unmixing of the effected floor over the clean floor).
    pub effect_rgb: Rgb,
    /// The effect layer's alpha, row-major.
    pub effect_alpha: Vec<f32>,
    /// A loose brush over the object alone.
    pub mask_object: Mask,
    /// A loose brush over the object and its effect.
    pub mask_full: Mask,
    /// The kind of the effect layer, if the scene has one.
    pub effect: Option<EffectKind>,
    /// Which of `SCENES` this is.
    pub scene: &'static str,
    /// The floor's name ("wood", "grass", ...).
    pub floor: &'static str,
    /// What the wide generator varied in this case ("two lights", "wall", ...); empty for the
    /// classic generator's cases.
    pub variation: &'static str,
}
