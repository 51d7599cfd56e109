//! Salient-object probability from a pretrained network, U²-Netp, running in candle on the
//! engine's device (a CUDA or Metal GPU when the build has the feature and one answers, else the
//! CPU). It tells the cut where an object is when its colours alone do not (a multi-coloured
//! object, a floor the colour of the object).
//!
//! The input is prepared as the network was trained and as rembg runs it: resized to 320×320,
//! divided by its largest value, then normalised with ImageNet's channel means and deviations.

mod u2netp;

use std::path::Path;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::raster::{Plane, Rgb};
use u2netp::U2Netp;

/// The pretrained weights (`scripts/fetch_u2netp.py`), compiled in: a fresh clone needs nothing
/// else.
const BUNDLED_WEIGHTS: &[u8] = include_bytes!("../../../assets/models/u2netp.safetensors");

/// The side of the square the network sees.
pub const INPUT_SIDE: usize = 320;

const MEAN: [f32; 3] = [0.485, 0.456, 0.406];
const STD: [f32; 3] = [0.229, 0.224, 0.225];

/// Why the saliency network is not available or did not run.
#[derive(Debug, thiserror::Error)]
pub enum SaliencyError {
    /// The weights could not be read or do not fit the network.
    #[error("cannot load the saliency network from {origin}: {detail}")]
    Load {
        /// Where the weights were to come from.
        origin: String,
        /// What went wrong.
        detail: String,
    },
    /// A tensor operation failed.
    #[error("the saliency network failed: {0}")]
    Run(String),
}

fn run_error(e: candle_core::Error) -> SaliencyError {
    SaliencyError::Run(e.to_string())
}

/// U²-Netp with its weights, on a device.
pub struct SaliencyNet {
    model: U2Netp,
    device: Device,
}

impl SaliencyNet {
    /// The bundled pretrained weights, on `device`.
    pub fn bundled(device: &Device) -> Result<Self, SaliencyError> {
        Self::from_bytes(BUNDLED_WEIGHTS.to_vec(), "the bundled u2netp.safetensors", device)
    }

    /// Weights from a safetensors file (as `scripts/fetch_u2netp.py` writes it), on `device`.
    pub fn from_file(path: &Path, device: &Device) -> Result<Self, SaliencyError> {
        let origin = path.display().to_string();
        let bytes =
            std::fs::read(path).map_err(|e| SaliencyError::Load { origin: origin.clone(), detail: e.to_string() })?;
        Self::from_bytes(bytes, &origin, device)
    }

    fn from_bytes(bytes: Vec<u8>, origin: &str, device: &Device) -> Result<Self, SaliencyError> {
        let load = |e: candle_core::Error| SaliencyError::Load { origin: origin.to_string(), detail: e.to_string() };
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, device).map_err(load)?;
        let model = U2Netp::new(vb).map_err(load)?;
        Ok(Self { model, device: device.clone() })
    }

    /// The device the network runs on.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The salient-object probability of every pixel of `img`: the network sees `img` resized
    /// to 320×320 (box-filtered when shrinking) and its answer is resized back.
    pub fn saliency(&self, img: &Rgb) -> Result<Plane, SaliencyError> {
        let small = if (img.w, img.h) == (INPUT_SIDE, INPUT_SIDE) {
            img.clone()
        } else if img.w >= INPUT_SIDE && img.h >= INPUT_SIDE {
            img.shrink_to(INPUT_SIDE, INPUT_SIDE)
        } else {
            img.resize(INPUT_SIDE, INPUT_SIDE)
        };
        let map = self.forward(&small)?;
        Ok(if (img.w, img.h) == (map.w, map.h) { map } else { map.resize(img.w, img.h) })
    }

    /// The network's fused output on `img` as it is (any size; 320×320 is what it was trained
    /// on), in [0, 1].
    pub fn forward(&self, img: &Rgb) -> Result<Plane, SaliencyError> {
        let input = Tensor::from_vec(normalised(img), (1, 3, img.h, img.w), &self.device).map_err(run_error)?;
        let out = self.model.forward(&input).map_err(run_error)?;
        let v = out.flatten_all().and_then(|t| t.to_vec1::<f32>()).map_err(run_error)?;
        Ok(Plane { w: img.w, h: img.h, v })
    }
}

/// `img` as the network's input: planar RGB, divided by its largest value, then normalised per
/// channel.
fn normalised(img: &Rgb) -> Vec<f32> {
    let max = img.px.iter().flat_map(|p| p.iter().copied()).fold(0.0f32, f32::max).max(1e-6);
    let n = img.w * img.h;
    let mut out = vec![0.0f32; 3 * n];
    for (i, p) in img.px.iter().enumerate() {
        for c in 0..3 {
            out[c * n + i] = (p[c] / max - MEAN[c]) / STD[c];
        }
    }
    out
}
