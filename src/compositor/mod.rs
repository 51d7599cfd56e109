//! Compositors: flatten a `LayerStack` into one image.
//!
//! `cpu` is the reference: small, exact, and what every export's merged image comes from. The
//! GPU compositor of the editor is tested against it.

mod cpu;
pub mod gpu;

pub use cpu::{blend_pixel, composite_onto, flatten, place, resized, sampled_thumbnail, tint_by_mask, Placed};
