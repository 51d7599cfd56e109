//! U²-Netp (Qin et al. 2020, "U²-Net: Going deeper with nested U-structure for salient object
//! detection"), the 1.1 M-parameter version: a U of residual U-blocks (RSU), six side outputs
//! and a 1×1 convolution that fuses them. The weights are the pretrained ones of
//! `assets/models/u2netp.safetensors` (batch norm already folded into each convolution).

use candle_core::{Device, Module, Result, Tensor};
use candle_nn::{conv2d, Conv2d, Conv2dConfig, VarBuilder};

use super::conv::ConvWeights;

/// The message of the error a cancelled pass stops with.
pub const CANCELLED: &str = "cancelled";

/// Channels inside a block and between blocks.
const MID: usize = 16;
const OUT: usize = 64;

/// A 3×3 convolution (its batch norm folded in) followed by a ReLU: candle's on a GPU, ours
/// (`conv`) on the CPU.
struct ConvRelu {
    conv: Conv2d,
    cpu: Option<ConvWeights>,
}

impl ConvRelu {
    fn new(in_ch: usize, out_ch: usize, dilation: usize, vb: VarBuilder) -> Result<Self> {
        let cfg = Conv2dConfig { padding: dilation, dilation, ..Default::default() };
        let conv = conv2d(in_ch, out_ch, 3, cfg, vb)?;
        let cpu = match conv.weight().device() {
            Device::Cpu => {
                let weight = conv.weight().flatten_all()?.to_vec1::<f32>()?;
                let bias = conv.bias().map(|b| b.to_vec1()).transpose()?.unwrap_or_else(|| vec![0.0; out_ch]);
                Some(ConvWeights::new(in_ch, out_ch, 3, dilation, &weight, bias))
            }
            _ => None,
        };
        Ok(Self { conv, cpu })
    }

    fn forward(&self, x: &Tensor, cancelled: &dyn Fn() -> bool) -> Result<Tensor> {
        if cancelled() {
            return Err(candle_core::Error::Msg(CANCELLED.into()));
        }
        match &self.cpu {
            Some(cw) => {
                let (n, _, h, w) = x.dims4()?;
                let input = x.flatten_all()?.to_vec1::<f32>()?;
                let mut out = Vec::with_capacity(n * cw.c_out * h * w);
                for one in input.chunks(cw.c_in * h * w) {
                    out.extend(cw.apply(one, h, w, true));
                }
                Tensor::from_vec(out, (n, cw.c_out, h, w), x.device())
            }
            None => self.conv.forward(x)?.relu(),
        }
    }
}

/// 2×2 max pooling with stride 2 that keeps a last odd row or column (PyTorch's `ceil_mode`):
/// repeating the edge before pooling gives that partial window's maximum.
fn pool(x: &Tensor) -> Result<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    let x = if h % 2 == 1 { x.pad_with_same(2, 0, 1)? } else { x.clone() };
    let x = if w % 2 == 1 { x.pad_with_same(3, 0, 1)? } else { x };
    x.max_pool2d(2)
}

/// `x` resized (bilinear, half-pixel centres) to the spatial size of `like`.
fn upsample_like(x: &Tensor, like: &Tensor) -> Result<Tensor> {
    let (_, _, h, w) = like.dims4()?;
    let (_, _, xh, xw) = x.dims4()?;
    if (xh, xw) == (h, w) {
        return Ok(x.clone());
    }
    x.upsample_bilinear2d(h, w, false)
}

/// Residual U-block: an input convolution, a small U of convolutions over its output, and the
/// two added. RSU-L pools between its L − 1 encoder levels and dilates the bottom one by 2;
/// RSU-4F never pools and dilates 1, 2, 4 (and 8 at the bottom).
struct Rsu {
    conv_in: ConvRelu,
    down: Vec<ConvRelu>,
    bottom: ConvRelu,
    up: Vec<ConvRelu>,
    pooled: bool,
}

impl Rsu {
    /// RSU-`height`, pooled, taking `in_ch` channels.
    fn new(height: usize, in_ch: usize, vb: VarBuilder) -> Result<Self> {
        let dilations = vec![1; height - 1];
        Self::build(in_ch, &dilations, 2, true, vb)
    }

    /// RSU-4F: dilated instead of pooled.
    fn new_dilated(in_ch: usize, vb: VarBuilder) -> Result<Self> {
        Self::build(in_ch, &[1, 2, 4], 8, false, vb)
    }

    fn build(in_ch: usize, dilations: &[usize], bottom_dilation: usize, pooled: bool, vb: VarBuilder) -> Result<Self> {
        let conv_in = ConvRelu::new(in_ch, OUT, 1, vb.pp("rebnconvin"))?;
        let levels = dilations.len();
        let down = (0..levels)
            .map(|k| {
                ConvRelu::new(if k == 0 { OUT } else { MID }, MID, dilations[k], vb.pp(format!("rebnconv{}", k + 1)))
            })
            .collect::<Result<Vec<_>>>()?;
        let bottom = ConvRelu::new(MID, MID, bottom_dilation, vb.pp(format!("rebnconv{}", levels + 1)))?;
        let up = (0..levels)
            .rev()
            .map(|k| {
                ConvRelu::new(
                    2 * MID,
                    if k == 0 { OUT } else { MID },
                    dilations[k],
                    vb.pp(format!("rebnconv{}d", k + 1)),
                )
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { conv_in, down, bottom, up, pooled })
    }

    fn forward(&self, x: &Tensor, cancelled: &dyn Fn() -> bool) -> Result<Tensor> {
        let hxin = self.conv_in.forward(x, cancelled)?;
        let mut skips = Vec::with_capacity(self.down.len());
        let mut h = hxin.clone();
        for (i, level) in self.down.iter().enumerate() {
            if i > 0 && self.pooled {
                h = pool(&h)?;
            }
            h = level.forward(&h, cancelled)?;
            skips.push(h.clone());
        }
        // The bottom level follows the last encoder level at its size; each decoder level takes
        // the level below it, brought up to size, beside the encoder level it mirrors.
        let mut d = self.bottom.forward(&h, cancelled)?;
        for (level, skip) in self.up.iter().zip(skips.iter().rev()) {
            d = level.forward(&Tensor::cat(&[&upsample_like(&d, skip)?, skip], 1)?, cancelled)?;
        }
        d + hxin
    }
}

/// The network: six encoder blocks, five decoder blocks, and the fused side outputs.
pub struct U2Netp {
    encoder: Vec<Rsu>,
    decoder: Vec<Rsu>,
    sides: Vec<Conv2d>,
    outconv: Conv2d,
}

impl U2Netp {
    /// The network with the weights in `vb` (names as `scripts/fetch_u2netp.py` writes them).
    pub fn new(vb: VarBuilder) -> Result<Self> {
        let encoder = vec![
            Rsu::new(7, 3, vb.pp("stage1"))?,
            Rsu::new(6, OUT, vb.pp("stage2"))?,
            Rsu::new(5, OUT, vb.pp("stage3"))?,
            Rsu::new(4, OUT, vb.pp("stage4"))?,
            Rsu::new_dilated(OUT, vb.pp("stage5"))?,
            Rsu::new_dilated(OUT, vb.pp("stage6"))?,
        ];
        let decoder = vec![
            Rsu::new_dilated(2 * OUT, vb.pp("stage5d"))?,
            Rsu::new(4, 2 * OUT, vb.pp("stage4d"))?,
            Rsu::new(5, 2 * OUT, vb.pp("stage3d"))?,
            Rsu::new(6, 2 * OUT, vb.pp("stage2d"))?,
            Rsu::new(7, 2 * OUT, vb.pp("stage1d"))?,
        ];
        let side_cfg = Conv2dConfig { padding: 1, ..Default::default() };
        let sides =
            (1..=6).map(|k| conv2d(OUT, 1, 3, side_cfg, vb.pp(format!("side{k}")))).collect::<Result<Vec<_>>>()?;
        let outconv = conv2d(6, 1, 1, Conv2dConfig::default(), vb.pp("outconv"))?;
        Ok(Self { encoder, decoder, sides, outconv })
    }

    /// The fused saliency map (sigmoid, in [0, 1]) of a normalised `(n, 3, h, w)` batch, as
    /// `(n, 1, h, w)`. Between convolutions it asks `cancelled`, and stops with `CANCELLED`.
    pub fn forward(&self, x: &Tensor, cancelled: &dyn Fn() -> bool) -> Result<Tensor> {
        // The encoder's outputs (pooled between blocks) and, bottom up, the decoder's.
        let mut skips = Vec::with_capacity(self.encoder.len());
        let mut h = x.clone();
        for (i, block) in self.encoder.iter().enumerate() {
            if i > 0 {
                h = pool(&h)?;
            }
            h = block.forward(&h, cancelled)?;
            skips.push(h.clone());
        }
        let mut features = vec![h.clone()];
        let mut d = h;
        for (block, skip) in self.decoder.iter().zip(skips.iter().rev().skip(1)) {
            d = block.forward(&Tensor::cat(&[&upsample_like(&d, skip)?, skip], 1)?, cancelled)?;
            features.push(d.clone());
        }
        // features: hx6, hx5d, hx4d, hx3d, hx2d, hx1d; side k reads the level of scale k.
        features.reverse();
        let d1 = self.sides[0].forward(&features[0])?;
        let mut maps = vec![d1.clone()];
        for (side, f) in self.sides.iter().zip(&features).skip(1) {
            maps.push(upsample_like(&side.forward(f)?, &d1)?);
        }
        let fused = self.outconv.forward(&Tensor::cat(&maps.iter().collect::<Vec<_>>(), 1)?)?;
        candle_nn::ops::sigmoid(&fused)
    }
}
