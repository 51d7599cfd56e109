//! layerdecomp: peel a photo into editable layers.
//!
//! * [`document`]: the layer stack (premultiplied, sRGB-encoded pixels inside).
//! * [`compositor`]: the CPU reference compositor (the editor's GPU compositor is tested against it).
//! * [`io`]: image import, PSD / OpenRaster / PNG export, all written atomically.
//! * [`engine`]: the decomposition engine (headless, UI-free).
//! * [`ui`]: the editor.

pub mod bench;
pub mod cli;
mod cli_decompose;
pub mod compositor;
pub mod document;
pub mod engine;
pub mod io;
pub mod ui;

pub use compositor::flatten;
pub use document::{BlendMode, EffectKind, Layer, LayerId, LayerKind, LayerStack, NewLayer, PremulImage, Transform};
pub use io::{export, import_image, FileError, ImportOptions};
