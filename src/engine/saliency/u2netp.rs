//! U²-Netp (Qin et al. 2020, "U²-Net: Going deeper with nested U-structure for salient object
//! detection"), the 1.1 M-parameter version: a U of residual U-blocks (RSU), six side outputs
//! and a 1×1 convolution that fuses them. The weights are the pretrained ones of
//! `assets/models/u2netp.safetensors` (batch norm already folded into each convolution).

use candle_core::{Device, Module, Result, Tensor};
use candle_nn::{conv2d, Conv2d, Conv2dConfig, VarBuilder};

use super::conv::ConvWeights;
use super::planes::Planes;
use super::winograd::WinogradWeights;

/// The message of the error a cancelled pass stops with.
pub const CANCELLED: &str = "cancelled";

/// Channels inside a block and between blocks.
const MID: usize = 16;
const OUT: usize = 64;

/// A convolution (its batch norm folded in), through a ReLU inside the blocks: candle's on a
/// GPU, ours (`conv`) on the CPU, where candle's direct convolution is several times slower.
struct Conv {
    conv: Conv2d,
    cpu: Option<CpuConv>,
    relu: bool,
}

/// Output channels from which a 3×3 convolution is done by Winograd's minimal filtering.
const WINOGRAD_MIN_OUT: usize = 16;

/// A convolution on the CPU: by Winograd's minimal filtering where it applies (3×3, dilation
/// 1, several output channels: most of the arithmetic), tap by tap otherwise.
enum CpuConv {
    Taps(ConvWeights),
    Winograd(WinogradWeights),
}

impl CpuConv {
    fn c_out(&self) -> usize {
        match self {
            Self::Taps(t) => t.c_out,
            Self::Winograd(w) => w.c_out,
        }
    }

    fn apply(&self, parts: &[&[f32]], h: usize, w: usize, relu: bool) -> Vec<f32> {
        match self {
            Self::Taps(t) => t.apply(parts, h, w, relu),
            Self::Winograd(wg) => wg.apply(parts, h, w, relu),
        }
    }
}

impl Conv {
    /// A 3×3 convolution keeping the size, then a ReLU: the blocks' layers.
    fn relu(in_ch: usize, out_ch: usize, dilation: usize, vb: VarBuilder) -> Result<Self> {
        Self::new(in_ch, out_ch, 3, dilation, true, vb)
    }

    /// A convolution keeping the size with no ReLU: the side outputs and their fusion.
    fn linear(in_ch: usize, out_ch: usize, k: usize, vb: VarBuilder) -> Result<Self> {
        Self::new(in_ch, out_ch, k, 1, false, vb)
    }

    fn new(in_ch: usize, out_ch: usize, k: usize, dilation: usize, relu: bool, vb: VarBuilder) -> Result<Self> {
        let cfg = Conv2dConfig { padding: k / 2 * dilation, dilation, ..Default::default() };
        let conv = conv2d(in_ch, out_ch, k, cfg, vb)?;
        let cpu = match conv.weight().device() {
            Device::Cpu => {
                let weight = conv.weight().flatten_all()?.to_vec1::<f32>()?;
                let bias = conv.bias().map(|b| b.to_vec1()).transpose()?.unwrap_or_else(|| vec![0.0; out_ch]);
                // A single output channel (the side outputs) gains nothing from the transforms:
                // 64 → 1 at 320×320 took 19 ms by Winograd, 12 ms tap by tap.
                Some(if (k, dilation) == (3, 1) && out_ch >= WINOGRAD_MIN_OUT {
                    CpuConv::Winograd(WinogradWeights::new(in_ch, out_ch, &weight, bias))
                } else {
                    CpuConv::Taps(ConvWeights::new(in_ch, out_ch, k, dilation, &weight, bias))
                })
            }
            _ => None,
        };
        Ok(Self { conv, cpu, relu })
    }
}

/// What the topology needs of its feature maps: candle's tensors on a GPU, plain planes on the
/// CPU (`planes`), the network being written once over both.
trait Maps: Sized {
    /// `conv` applied to `parts` concatenated along the channels. Asks `cancelled` first and
    /// stops with `CANCELLED`.
    fn conv(conv: &Conv, parts: &[&Self], cancelled: &dyn Fn() -> bool) -> Result<Self>;
    /// 2×2 max pooling with stride 2 that keeps a last odd row or column (PyTorch's `ceil_mode`).
    fn pool(&self) -> Result<Self>;
    /// Resized (bilinear, half-pixel centres) to the spatial size of `like`.
    fn upsample_like(&self, like: &Self) -> Result<Self>;
    fn add(self, other: &Self) -> Result<Self>;
    fn sigmoid(self) -> Result<Self>;
}

fn check_cancelled(cancelled: &dyn Fn() -> bool) -> Result<()> {
    if cancelled() {
        return Err(candle_core::Error::Msg(CANCELLED.into()));
    }
    Ok(())
}

impl Maps for Tensor {
    fn conv(conv: &Conv, parts: &[&Self], cancelled: &dyn Fn() -> bool) -> Result<Self> {
        check_cancelled(cancelled)?;
        let x = if parts.len() == 1 { parts[0].clone() } else { Tensor::cat(parts, 1)? };
        let y = conv.conv.forward(&x)?;
        if conv.relu {
            y.relu()
        } else {
            Ok(y)
        }
    }

    fn pool(&self) -> Result<Self> {
        // Repeating the edge before pooling gives the partial window's maximum.
        let (_, _, h, w) = self.dims4()?;
        let x = if h % 2 == 1 { self.pad_with_same(2, 0, 1)? } else { self.clone() };
        let x = if w % 2 == 1 { x.pad_with_same(3, 0, 1)? } else { x };
        x.max_pool2d(2)
    }

    fn upsample_like(&self, like: &Self) -> Result<Self> {
        let (_, _, h, w) = like.dims4()?;
        let (_, _, xh, xw) = self.dims4()?;
        if (xh, xw) == (h, w) {
            return Ok(self.clone());
        }
        self.upsample_bilinear2d(h, w, false)
    }

    fn add(self, other: &Self) -> Result<Self> {
        self + other
    }

    fn sigmoid(self) -> Result<Self> {
        candle_nn::ops::sigmoid(&self)
    }
}

impl Maps for Planes {
    fn conv(conv: &Conv, parts: &[&Self], cancelled: &dyn Fn() -> bool) -> Result<Self> {
        check_cancelled(cancelled)?;
        let cw = conv.cpu.as_ref().ok_or_else(|| candle_core::Error::Msg("no CPU weights on a GPU".into()))?;
        let (h, w) = (parts[0].h, parts[0].w);
        let slices: Vec<&[f32]> = parts.iter().map(|p| p.data.as_slice()).collect();
        Ok(Planes::new(cw.c_out(), h, w, cw.apply(&slices, h, w, conv.relu)))
    }

    fn pool(&self) -> Result<Self> {
        Ok(Planes::pool(self))
    }

    fn upsample_like(&self, like: &Self) -> Result<Self> {
        Ok(self.upsample(like.h, like.w))
    }

    fn add(self, other: &Self) -> Result<Self> {
        Ok(Planes::add(self, other))
    }

    fn sigmoid(self) -> Result<Self> {
        Ok(Planes::sigmoid(self))
    }
}

/// Residual U-block: an input convolution, a small U of convolutions over its output, and the
/// two added. RSU-L pools between its L − 1 encoder levels and dilates the bottom one by 2;
/// RSU-4F never pools and dilates 1, 2, 4 (and 8 at the bottom).
struct Rsu {
    conv_in: Conv,
    down: Vec<Conv>,
    bottom: Conv,
    up: Vec<Conv>,
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
        let conv_in = Conv::relu(in_ch, OUT, 1, vb.pp("rebnconvin"))?;
        let levels = dilations.len();
        let down = (0..levels)
            .map(|k| Conv::relu(if k == 0 { OUT } else { MID }, MID, dilations[k], vb.pp(format!("rebnconv{}", k + 1))))
            .collect::<Result<Vec<_>>>()?;
        let bottom = Conv::relu(MID, MID, bottom_dilation, vb.pp(format!("rebnconv{}", levels + 1)))?;
        let up = (0..levels)
            .rev()
            .map(|k| {
                Conv::relu(2 * MID, if k == 0 { OUT } else { MID }, dilations[k], vb.pp(format!("rebnconv{}d", k + 1)))
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self { conv_in, down, bottom, up, pooled })
    }

    fn forward<M: Maps>(&self, x: &[&M], cancelled: &dyn Fn() -> bool) -> Result<M> {
        let hxin = M::conv(&self.conv_in, x, cancelled)?;
        let mut skips: Vec<M> = Vec::with_capacity(self.down.len());
        for (i, level) in self.down.iter().enumerate() {
            let above = skips.last().unwrap_or(&hxin);
            let out = if i > 0 && self.pooled {
                M::conv(level, &[&above.pool()?], cancelled)?
            } else {
                M::conv(level, &[above], cancelled)?
            };
            skips.push(out);
        }
        // The bottom level follows the last encoder level at its size; each decoder level takes
        // the level below it, brought up to size, beside the encoder level it mirrors.
        let lowest = skips.last().unwrap_or(&hxin);
        let mut d = M::conv(&self.bottom, &[lowest], cancelled)?;
        for (level, skip) in self.up.iter().zip(skips.iter().rev()) {
            d = M::conv(level, &[&d.upsample_like(skip)?, skip], cancelled)?;
        }
        d.add(&hxin)
    }
}

/// The network: six encoder blocks, five decoder blocks, and the fused side outputs.
pub struct U2Netp {
    encoder: Vec<Rsu>,
    decoder: Vec<Rsu>,
    sides: Vec<Conv>,
    outconv: Conv,
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
        let sides = (1..=6).map(|k| Conv::linear(OUT, 1, 3, vb.pp(format!("side{k}")))).collect::<Result<Vec<_>>>()?;
        let outconv = Conv::linear(6, 1, 1, vb.pp("outconv"))?;
        Ok(Self { encoder, decoder, sides, outconv })
    }

    /// The fused saliency map (sigmoid, in [0, 1]) of a normalised `(n, 3, h, w)` batch, as
    /// `(n, 1, h, w)`. Between convolutions it asks `cancelled`, and stops with `CANCELLED`.
    pub fn forward(&self, x: &Tensor, cancelled: &dyn Fn() -> bool) -> Result<Tensor> {
        if !x.device().is_cpu() {
            return self.forward_maps(x, cancelled);
        }
        let (n, c, h, w) = x.dims4()?;
        let input = x.flatten_all()?.to_vec1::<f32>()?;
        let mut out = Vec::with_capacity(n * h * w);
        for one in input.chunks(c * h * w) {
            out.extend(self.forward_maps(&Planes::new(c, h, w, one.to_vec()), cancelled)?.data);
        }
        Tensor::from_vec(out, (n, 1, h, w), x.device())
    }

    fn forward_maps<M: Maps>(&self, x: &M, cancelled: &dyn Fn() -> bool) -> Result<M> {
        // The encoder's outputs (pooled between blocks) and, bottom up, the decoder's.
        let mut skips: Vec<M> = Vec::with_capacity(self.encoder.len());
        for block in &self.encoder {
            let out = match skips.last() {
                None => block.forward(&[x], cancelled)?,
                Some(above) => block.forward(&[&above.pool()?], cancelled)?,
            };
            skips.push(out);
        }
        let mut features: Vec<M> = Vec::with_capacity(self.decoder.len() + 1);
        for (block, skip) in self.decoder.iter().zip(skips.iter().rev().skip(1)) {
            let below = features.last().unwrap_or_else(|| skips.last().expect("six encoder blocks"));
            let out = block.forward(&[&below.upsample_like(skip)?, skip], cancelled)?;
            features.push(out);
        }
        // Side k reads the level of scale k: hx1d, hx2d, hx3d, hx4d, hx5d, then hx6.
        let levels: Vec<&M> = features.iter().rev().chain(skips.last()).collect();
        let d1 = M::conv(&self.sides[0], &[levels[0]], cancelled)?;
        let mut maps = Vec::with_capacity(self.sides.len());
        for (side, f) in self.sides.iter().zip(&levels).skip(1) {
            maps.push(M::conv(side, &[*f], cancelled)?.upsample_like(&d1)?);
        }
        let mut parts = vec![&d1];
        parts.extend(maps.iter());
        M::conv(&self.outconv, &parts, cancelled)?.sigmoid()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::DType;

    /// A small odd-sized input with some structure, `(1, 3, h, w)`.
    fn input(h: usize, w: usize) -> Tensor {
        let v: Vec<f32> = (0..3 * h * w).map(|i| ((i * 7919) % 613) as f32 / 306.0 - 1.0).collect();
        Tensor::from_vec(v, (1, 3, h, w), &Device::Cpu).expect("input")
    }

    #[test]
    fn planes_pool_and_upsample_equal_candles() {
        let x = input(13, 10);
        let p = Planes::new(3, 13, 10, x.flatten_all().unwrap().to_vec1().unwrap());
        let close = |a: &Planes, b: &Tensor| {
            let b = b.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            a.data.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0.0f32, f32::max) < 1e-5 && a.data.len() == b.len()
        };
        assert!(close(&Maps::pool(&p).unwrap(), &Maps::pool(&x).unwrap()), "pooling differs");
        let like = Planes::new(1, 27, 19, vec![0.0; 27 * 19]);
        let like_t = Tensor::zeros((1, 1, 27, 19), DType::F32, &Device::Cpu).unwrap();
        assert!(close(&p.upsample_like(&like).unwrap(), &x.upsample_like(&like_t).unwrap()), "upsampling differs");
    }

    /// The GPUs run the topology over candle's tensors; the CPU over planes. On the CPU both can
    /// run, and must agree.
    #[test]
    fn the_tensor_path_equals_the_planes_path() {
        let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/models/u2netp.safetensors")).unwrap();
        let vb = VarBuilder::from_buffered_safetensors(bytes, DType::F32, &Device::Cpu).unwrap();
        let net = U2Netp::new(vb).unwrap();
        let x = input(37, 45);
        let via_tensors = net.forward_maps(&x, &|| false).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let via_planes = net.forward(&x, &|| false).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
        let worst = via_tensors.iter().zip(&via_planes).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "off by {worst}");
    }
}
