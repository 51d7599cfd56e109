//! Pixel buffers every part of the library shares: the document's premultiplied RGBA image, the
//! engine's float rasters (`Rgb`, `Plane`) with their filters, and binary masks.

mod float;
mod mask;
mod premul;

pub use float::{box_blur3, box_mean, luma, sample_known, Plane, Rgb};
pub(crate) use float::{deficit_luminance, masked_mean, median};
pub use mask::{distance_sq_to, Mask, Rect};
pub use premul::{premultiply, to_u16, to_u8, unpremultiply, PremulImage, Px};
