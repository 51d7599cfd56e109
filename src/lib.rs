//! layerdecomp: peel a photo into editable layers.
//!
//! * [`document`]: the layer stack (premultiplied, sRGB-encoded pixels inside).
//! * [`raster`]: the pixel buffers every part shares (premultiplied images, float rasters, masks).
//! * [`compositor`]: the CPU reference compositor and the editor's wgpu compositor.
//! * [`io`]: image import, PSD / OpenRaster / PNG / JPEG export, all written atomically.
//! * [`engine`]: the decomposition engine (headless, UI-free).
//! * [`synth`]: simulated multi-layer images with ground truth (the paper's data pipeline).
//!
//! The editor and the command line are the `layerdecomp` binary's; this library has no UI.

#![warn(missing_docs)]

pub mod compositor;
pub mod document;
pub mod engine;
pub mod io;
pub mod raster;
pub mod synth;

pub use compositor::flatten;
pub use document::{BlendMode, EffectKind, Layer, LayerId, LayerKind, LayerStack, NewLayer, Transform};
pub use io::{export, import_image, FileError, ImportOptions};
pub use raster::{Mask, PremulImage};
