//! The decomposition engine: headless and UI-free. It runs on any thread and reports progress
//! through callbacks; the editor and the CLI call the very same code.

pub mod device;

pub use device::pick_device;
pub mod mask;
pub mod maxflow;
pub mod gmm;
pub mod raster;
pub mod rng;
pub mod segment;

/// The operation was cancelled through its cancel token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cancelled;
pub mod complete;
pub mod effects;
pub mod shadow_projection;
pub mod reflection;
pub mod matting;
pub mod decompose;
pub mod sheet;
pub mod stages;

pub use decompose::{decompose, decompose_with, CancelToken, DecomposeRequest, Decomposition, EffectLayer, EngineError, PlacedLayer, Progress, Quality, Stage};
