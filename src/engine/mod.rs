//! The decomposition engine: headless and UI-free. It runs on any thread and reports progress
//! through callbacks; the editor and the command line call the very same code.
//!
//! `decompose` runs the classical stages; `decompose_with` runs any `Stages`, each stage behind a
//! trait so that a learned model can replace one.

mod complete;
mod decompose;
mod device;
mod gmm;
mod matting;
mod maxflow;
mod reflection;
mod request;
mod rng;
mod saliency;
mod segment;
mod shadow_removal;
mod shadows;
mod sheet;
mod stages;

pub use complete::CompletionParams;
pub use decompose::{cut_out, decompose, decompose_with, unmix};
pub use device::{describe_device, pick_device};
pub use matting::MattingParams;
pub use request::{
    CancelToken, DecomposeRequest, Decomposition, EffectLayer, EngineError, PlacedLayer, Progress, Quality, Stage,
};
pub use rng::Rng;
pub use saliency::{
    saliency_prior, select_subject, shared_network, subject_brush, SaliencyError, SaliencyNet,
    INPUT_SIDE as SALIENCY_INPUT_SIDE, WEIGHTS_VARIABLE as SALIENCY_WEIGHTS_VARIABLE,
};
pub use segment::SegmentParams;
pub use shadow_removal::{remove_shadow, ShadowRemoval};
pub use shadows::EffectParams;
pub use sheet::contact_sheet;
pub use stages::{
    ColourSpreader, Completer, GrabCut, GuidedFilterMatting, Matter, MembraneSpread, MirroredReflection,
    PatchMatchCompletion, PriorGrabCut, Reflection, ReflectionRemover, Relit, SalientGrabCut, Segmenter,
    ShadowRelighting, ShadowRemover, Stages,
};

/// The operation was cancelled through its cancel token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled;
