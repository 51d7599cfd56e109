//! Salient-object probability from a pretrained network, U²-Netp, running in candle on the
//! engine's device (a CUDA or Metal GPU when the build has the feature and one answers, else the
//! CPU). It tells the cut where an object is when its colours alone do not (a multi-coloured
//! object, a floor the colour of the object).
//!
//! The input is prepared as the network was trained and as rembg runs it: resized to 320×320,
//! divided by its largest value, then normalised with ImageNet's channel means and deviations.

mod bands;
mod conv;
mod planes;
mod u2netp;
mod winograd;

use std::path::Path;
use std::sync::{Arc, OnceLock};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;

use crate::raster::{Mask, Plane, PremulImage, Rect, Rgb};
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
    /// The caller cancelled the pass.
    #[error("cancelled")]
    Cancelled,
    /// Nothing stands out in the area.
    #[error("no subject stands out in the photo: brush over the object instead")]
    NoSubject,
}

fn run_error(e: candle_core::Error) -> SaliencyError {
    match e {
        candle_core::Error::Msg(m) if m == u2netp::CANCELLED => SaliencyError::Cancelled,
        e => SaliencyError::Run(e.to_string()),
    }
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
    /// to 320×320 (box-filtered when shrinking), and its mirror image too; the mean answer is
    /// resized back.
    pub fn saliency(&self, img: &Rgb) -> Result<Plane, SaliencyError> {
        self.saliency_cancellable(img, &|| false)
    }

    /// `saliency`, stopping early (with `SaliencyError::Cancelled`) once `cancelled` says so.
    pub fn saliency_cancellable(
        &self,
        img: &Rgb,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Plane, SaliencyError> {
        Ok(self.with_mirror(&network_input(img), cancelled)?.resize(img.w, img.h))
    }

    /// The mean of the network's answers on `small` and on its mirror image (mirrored back),
    /// the two passes side by side.
    fn with_mirror(&self, small: &Rgb, cancelled: &(dyn Fn() -> bool + Sync)) -> Result<Plane, SaliencyError> {
        let (map, back) =
            self.both(|| self.forward_cancellable(small, cancelled), || self.mirrored_forward(small, cancelled));
        Ok(mean_answer(map?, &back?))
    }

    /// The network's answer on the mirror image of `small`, mirrored back: the network is not
    /// mirror-symmetric, and the two disagree where it is unsure (on seg-davis: mIoU +0.006
    /// alone, +0.008 in the fused cut, for the mean of the two).
    fn mirrored_forward(&self, small: &Rgb, cancelled: &dyn Fn() -> bool) -> Result<Plane, SaliencyError> {
        let flipped = Rgb { w: small.w, h: small.h, px: mirrored(&small.px, small.w) };
        let back = self.forward_cancellable(&flipped, cancelled)?;
        Ok(Plane { w: back.w, h: back.h, v: mirrored(&back.v, back.w) })
    }

    /// `a` and `b`, side by side on the CPU: one pass's late layers are too small to keep both
    /// cores busy, and two passes fill each other's gaps. A GPU takes them in turn.
    fn both<A: Send, B: Send>(&self, a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
        if self.device.is_cpu() {
            rayon::join(a, b)
        } else {
            (a(), b())
        }
    }

    /// The network's fused output on `img` as it is (any size; 320×320 is what it was trained
    /// on), in [0, 1].
    pub fn forward(&self, img: &Rgb) -> Result<Plane, SaliencyError> {
        self.forward_cancellable(img, &|| false)
    }

    fn forward_cancellable(&self, img: &Rgb, cancelled: &dyn Fn() -> bool) -> Result<Plane, SaliencyError> {
        let input = Tensor::from_vec(normalised(img), (1, 3, img.h, img.w), &self.device).map_err(run_error)?;
        let out = self.model.forward(&input, cancelled).map_err(run_error)?;
        let v = out.flatten_all().and_then(|t| t.to_vec1::<f32>()).map_err(run_error)?;
        Ok(Plane { w: img.w, h: img.h, v })
    }
}

/// The object probability the network gives over the brush, on a plane of the image's size (0
/// where it did not look). A brush laid in separate strokes (an object split by something in
/// front of it: a ball behind a trunk, a rhinoceros behind a tree) is looked at stroke by stroke, and
/// each pixel takes the answer of the stroke nearest to it: over the whole brush's box the
/// network sees what lies between the strokes, which is often the occluder itself and more
/// salient than the pieces brushed. On seg-davis the network alone went from IoU 0.001 to 0.52
/// on the ball behind the trunk, and gained on each of the 11 photos brushed in pieces.
pub fn saliency_prior(
    net: &SaliencyNet,
    img: &Rgb,
    brush: &Mask,
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Plane, SaliencyError> {
    let bounds = brush.bounds().ok_or_else(|| SaliencyError::Run("the brush is empty".into()))?;
    let strokes = strokes(brush);
    if strokes.is_empty() {
        return stroke_prior(net, img, bounds, cancelled);
    }
    log::debug!("saliency prior: the brush is {} separate strokes, looked at one by one", strokes.len());
    let answers =
        strokes.iter().map(|stroke| stroke_prior(net, img, stroke.bounds, cancelled)).collect::<Result<Vec<_>, _>>()?;
    Ok(nearest_strokes_answer(&strokes, &answers))
}

/// One of a brush's separate strokes: its pixels (indices into the photo) and their bounds
/// (left, top, width, height).
struct Stroke {
    pixels: Vec<usize>,
    bounds: (u32, u32, u32, u32),
}

/// The brush's separate strokes: its connected pieces of at least a tenth of the largest's area,
/// each with the smaller pieces nearest to it (a speck is part of a stroke, not one). None when
/// the brush is one stroke: nothing else is that large, or there are more than `MAX_STROKES`.
fn strokes(brush: &Mask) -> Vec<Stroke> {
    let w = brush.width() as usize;
    let pieces = brush.components();
    let Some(largest) = pieces.iter().map(Vec::len).max() else { return Vec::new() };
    let (major, minor): (Vec<Vec<usize>>, Vec<Vec<usize>>) =
        pieces.into_iter().partition(|p| p.len() * MINOR_STROKE_SHARE >= largest);
    if major.len() < 2 || major.len() > MAX_STROKES {
        return Vec::new();
    }
    // Inclusive corners (x0, y0, x1, y1) of a piece.
    let corners = |p: &[usize]| {
        p.iter().fold((usize::MAX, usize::MAX, 0, 0), |(x0, y0, x1, y1), &i| {
            let (x, y) = (i % w, i / w);
            (x0.min(x), y0.min(y), x1.max(x), y1.max(y))
        })
    };
    let mut strokes: Vec<_> = major
        .into_iter()
        .map(|p| {
            let c = corners(&p);
            (p, c)
        })
        .collect();
    for piece in minor {
        let b = corners(&piece);
        let gap = |m: &(usize, usize, usize, usize)| {
            let dx = m.0.saturating_sub(b.2).max(b.0.saturating_sub(m.2));
            let dy = m.1.saturating_sub(b.3).max(b.1.saturating_sub(m.3));
            dx * dx + dy * dy
        };
        let nearest = (0..strokes.len()).min_by_key(|&k| gap(&strokes[k].1)).unwrap_or(0);
        let (pixels, c) = &mut strokes[nearest];
        *c = (c.0.min(b.0), c.1.min(b.1), c.2.max(b.2), c.3.max(b.3));
        pixels.extend(piece);
    }
    strokes
        .into_iter()
        .map(|(pixels, (x0, y0, x1, y1))| Stroke {
            pixels,
            bounds: (x0 as u32, y0 as u32, (x1 - x0 + 1) as u32, (y1 - y0 + 1) as u32),
        })
        .collect()
}

/// A brush piece under `1 / MINOR_STROKE_SHARE` of the largest piece's area is not a stroke of
/// its own.
const MINOR_STROKE_SHARE: usize = 10;

/// More separate strokes than this are dabs over one object, not pieces of an object split by
/// something in front of it, and are looked at together: each stroke costs the network two
/// to four passes.
const MAX_STROKES: usize = 4;

/// Each pixel's answer from the stroke nearest to it, over the rectangle the strokes' far views
/// cover (every answer is 0 outside it). Which stroke is nearest is decided on cells of at most
/// `JOIN_CELLS` over that rectangle (single pixels on photos up to a megapixel): two strokes at
/// opposite corners of a 12 MP photo took half a second to join pixel by pixel.
fn nearest_strokes_answer(strokes: &[Stroke], answers: &[Plane]) -> Plane {
    let (w, h) = (answers[0].w, answers[0].h);
    let area = strokes.iter().map(|s| view_rects(s.bounds, w, h)[1]).reduce(Rect::union);
    let mut out = Plane::new(w, h);
    let Some(area) = area else { return out };
    let (rw, rh) = (area.w(), area.h());
    let step = ((rw * rh) as f64 / JOIN_CELLS as f64).sqrt().ceil().max(1.0) as usize;
    let (cw, ch) = (rw.div_ceil(step), rh.div_ceil(step));
    let distances: Vec<Vec<f32>> = strokes
        .iter()
        .map(|s| {
            let mut cells = Mask::new(cw as u32, ch as u32);
            for &i in &s.pixels {
                let (x, y) = (i % w - area.x0, i / w - area.y0);
                cells.set((x / step) as u32, (y / step) as u32, true);
            }
            crate::raster::distance_sq_to(&cells, true)
        })
        .collect();
    let nearest: Vec<usize> = (0..cw * ch)
        .map(|i| (0..strokes.len()).min_by(|&a, &b| distances[a][i].total_cmp(&distances[b][i])).unwrap_or(0))
        .collect();
    for y in 0..rh {
        let row = (area.y0 + y) * w + area.x0;
        let cells = &nearest[(y / step) * cw..][..cw];
        for x in 0..rw {
            out.v[row + x] = answers[cells[x / step]].v[row + x];
        }
    }
    out
}

/// The most cells `nearest_strokes_answer` decides over.
const JOIN_CELLS: usize = 1 << 20;

/// The object probability the network gives over one stroke's bounding box: the mean of its
/// answers with the box grown by a tenth and by a fifth of its longer side. More context tells
/// the object from its surroundings, less keeps it large in the network's view; on seg-davis the
/// two together beat either (network alone: mIoU 0.859 and 0.857 each, 0.863 averaged).
///
/// Each view is looked at as it is first. Where the two views' objects agree (IoU of their
/// ≥ ½ regions at least `MIRROR_BELOW`) the network is sure of the object and their mean is the
/// answer; otherwise each is looked at mirrored too, and every view's answer is the mean with
/// its mirror image's (see `mirrored_forward`).
fn stroke_prior(
    net: &SaliencyNet,
    img: &Rgb,
    bounds: (u32, u32, u32, u32),
    cancelled: &(dyn Fn() -> bool + Sync),
) -> Result<Plane, SaliencyError> {
    let [near, far] = view_rects(bounds, img.w, img.h);
    let input = |rect: Rect| network_input(&img.crop(rect.x0, rect.y0, rect.w(), rect.h()));
    // Where both views are clipped to the same rectangle (a large object) they are one view:
    // it is looked at once (and mirrored: there is no second view to agree with).
    if near == far {
        return Ok(mean_of_views(img, &[(near, net.with_mirror(&input(near), cancelled)?)]));
    }
    let (near_in, far_in) = net.both(|| input(near), || input(far));
    let (near_map, far_map) =
        net.both(|| net.forward_cancellable(&near_in, cancelled), || net.forward_cancellable(&far_in, cancelled));
    let (near_map, far_map) = (near_map?, far_map?);
    let agreement = views_agreement((near, &near_map), (far, &far_map));
    log::debug!("saliency prior: the two views agree at IoU {agreement:.3}");
    if agreement >= MIRROR_BELOW {
        return Ok(mean_of_views(img, &[(near, near_map), (far, far_map)]));
    }
    let (near_back, far_back) =
        net.both(|| net.mirrored_forward(&near_in, cancelled), || net.mirrored_forward(&far_in, cancelled));
    let views = [(near, mean_answer(near_map, &near_back?)), (far, mean_answer(far_map, &far_back?))];
    Ok(mean_of_views(img, &views))
}

/// The views' agreement at and above which their mirror images are not looked at. On
/// seg-davis (342 frames, fused cut) the mirrored passes are worth mIoU +0.010 in all
/// (0.856 → 0.866), nearly all of it on the photos whose views disagree: with this threshold
/// 48 % of the photos are mirrored and the cut scores 0.865 with the same 18.7 % under 0.8
/// (0.9: 26 % mirrored, 0.864), for half the network's time on the others. Agreeing views can
/// still share a local slip (a synthetic object's spot taken as a hole at IoU 0.92), which the
/// higher threshold catches.
const MIRROR_BELOW: f32 = 0.95;

/// The IoU of the ≥ ½ regions of two views' answers (network-sized), over the first view's
/// rectangle, which lies inside the second's.
fn views_agreement((near, near_map): (Rect, &Plane), (far, far_map): (Rect, &Plane)) -> f32 {
    let a = near_map.resize(near.w(), near.h());
    let b = far_map.resize(far.w(), far.h());
    let (mut inter, mut union) = (0usize, 0usize);
    for y in 0..near.h() {
        let brow = (near.y0 - far.y0 + y) * far.w() + (near.x0 - far.x0);
        for x in 0..near.w() {
            let (p, q) = (a.v[y * near.w() + x] >= 0.5, b.v[brow + x] >= 0.5);
            inter += (p && q) as usize;
            union += (p || q) as usize;
        }
    }
    if union == 0 {
        0.0
    } else {
        inter as f32 / union as f32
    }
}

/// Views' answers (network-sized, each over its rectangle) resized into place and averaged
/// where they overlap, on a plane of `img`'s size (0 where none looked).
fn mean_of_views(img: &Rgb, views: &[(Rect, Plane)]) -> Plane {
    let mut sum = Plane::new(img.w, img.h);
    let mut count = vec![0u8; img.w * img.h];
    for (rect, answer) in views {
        let p = answer.resize(rect.w(), rect.h());
        for y in 0..rect.h() {
            let row = (rect.y0 + y) * img.w + rect.x0;
            for (x, &v) in p.v[y * rect.w()..(y + 1) * rect.w()].iter().enumerate() {
                sum.v[row + x] += v;
                count[row + x] += 1;
            }
        }
    }
    for (v, &n) in sum.v.iter_mut().zip(&count) {
        *v /= n.max(1) as f32;
    }
    sum
}

/// The brush box's growth for each of the network's views, as divisors of its longer side.
const CONTEXT_DIVISORS: [usize; 2] = [10, 5];

/// The network's two views of a box `(x, y, w, h)` in a `w × h` photo: near, then far (it holds
/// the near one).
fn view_rects(bounds: (u32, u32, u32, u32), w: usize, h: usize) -> [Rect; 2] {
    CONTEXT_DIVISORS.map(|divisor| {
        let pad = (bounds.2.max(bounds.3) as usize / divisor).max(8);
        Rect::grown(bounds, pad, w, h)
    })
}

/// The subject the network sees in `area` of `img` (the whole photo when `None`), as a brush:
/// its pixels at probability ≥ ½, specks (pieces under 5 % of the largest) dropped, grown by a
/// few pixels so the cut that follows has the object's edge inside it.
pub fn subject_brush(net: &SaliencyNet, img: &Rgb, area: Option<Rect>) -> Result<Mask, SaliencyError> {
    let rect = area.unwrap_or(Rect { x0: 0, y0: 0, x1: img.w, y1: img.h });
    let p = net.saliency(&img.crop(rect.x0, rect.y0, rect.w(), rect.h()))?;
    let found = Mask::from_fn(rect.w() as u32, rect.h() as u32, |x, y| p.at(x as usize, y as usize) >= 0.5);
    let pieces = found.components();
    let largest = pieces.iter().map(Vec::len).max().ok_or(SaliencyError::NoSubject)?;
    let mut brush = Mask::new(img.w as u32, img.h as u32);
    for piece in pieces.iter().filter(|p| p.len() * 20 >= largest) {
        for &i in piece {
            brush.set((rect.x0 + i % rect.w()) as u32, (rect.y0 + i / rect.w()) as u32, true);
        }
    }
    let (_, _, bw, bh) = brush.bounds().ok_or(SaliencyError::NoSubject)?;
    Ok(brush.dilate((bw.max(bh) as f32 * 0.02).max(4.0)))
}

/// Where other weights for the saliency network may be given (a safetensors file); the bundled
/// ones otherwise.
pub const WEIGHTS_VARIABLE: &str = "LAYERDECOMP_U2NETP";

/// The saliency network, loaded once per process on the engine's device; `None` (with a
/// warning) when its weights do not load.
pub fn shared_network() -> Option<Arc<SaliencyNet>> {
    static NET: OnceLock<Option<Arc<SaliencyNet>>> = OnceLock::new();
    NET.get_or_init(|| {
        let started = std::time::Instant::now();
        let device = crate::engine::pick_device();
        let loaded = match std::env::var_os(WEIGHTS_VARIABLE) {
            Some(path) => SaliencyNet::from_file(std::path::Path::new(&path), &device),
            None => SaliencyNet::bundled(&device),
        };
        match loaded {
            Ok(net) => {
                log::debug!("saliency network loaded in {:.3} s", started.elapsed().as_secs_f64());
                Some(Arc::new(net))
            }
            Err(e) => {
                log::warn!("{e}; the engine falls back to the classical cut");
                None
            }
        }
    })
    .clone()
}

/// The subject of `image` (in `area`, or the whole photo) as a brush, from the shared network:
/// "Select subject".
pub fn select_subject(image: &PremulImage, area: Option<Rect>) -> Result<Mask, SaliencyError> {
    let net = shared_network().ok_or_else(|| SaliencyError::Load {
        origin: "the saliency network".into(),
        detail: "its weights did not load (see the warning above)".into(),
    })?;
    subject_brush(&net, &Rgb::from_premul(image), area)
}

/// `img` as the network sees it: 320×320, box-filtered when shrinking.
fn network_input(img: &Rgb) -> Rgb {
    if (img.w, img.h) == (INPUT_SIDE, INPUT_SIDE) {
        img.clone()
    } else if img.w >= INPUT_SIDE && img.h >= INPUT_SIDE {
        img.shrink_to(INPUT_SIDE, INPUT_SIDE)
    } else {
        img.resize(INPUT_SIDE, INPUT_SIDE)
    }
}

/// The mean of an answer and its mirror image's (mirrored back).
fn mean_answer(mut map: Plane, back: &Plane) -> Plane {
    for (v, b) in map.v.iter_mut().zip(&back.v) {
        *v = 0.5 * (*v + b);
    }
    map
}

/// Rows of `w` values, each reversed (a left-right mirror image).
fn mirrored<T: Copy>(v: &[T], w: usize) -> Vec<T> {
    v.chunks(w).flat_map(|row| row.iter().rev().copied()).collect()
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A brush of `rects` (x0, y0, x1, y1) on a `w × h` canvas.
    fn brush_of(w: u32, h: u32, rects: &[(u32, u32, u32, u32)]) -> Mask {
        Mask::from_fn(w, h, |x, y| rects.iter().any(|&(x0, y0, x1, y1)| (x0..x1).contains(&x) && (y0..y1).contains(&y)))
    }

    #[test]
    fn a_brush_in_pieces_is_split_into_strokes_with_its_specks() {
        // Two strokes of 100 and 40 pixels, a speck of 2 below the second.
        let brush = brush_of(40, 20, &[(0, 0, 10, 10), (30, 0, 38, 5), (34, 8, 36, 9)]);
        let strokes = strokes(&brush);
        assert_eq!(strokes.len(), 2);
        assert_eq!((strokes[0].pixels.len(), strokes[0].bounds), (100, (0, 0, 10, 10)));
        assert_eq!(
            (strokes[1].pixels.len(), strokes[1].bounds),
            (42, (30, 0, 8, 9)),
            "the speck belongs to the stroke nearest to it"
        );
        // A piece under a tenth of the largest is no stroke of its own; five dabs of equal size
        // are one brush.
        assert!(super::strokes(&brush_of(40, 20, &[(0, 0, 10, 10), (30, 0, 33, 3)])).is_empty());
        let dabs = brush_of(60, 10, &[(0, 0, 4, 4), (12, 0, 16, 4), (24, 0, 28, 4), (36, 0, 40, 4), (48, 0, 52, 4)]);
        assert!(super::strokes(&dabs).is_empty());
    }

    #[test]
    fn each_pixel_takes_the_answer_of_the_stroke_nearest_to_it() {
        let strokes = strokes(&brush_of(30, 4, &[(0, 0, 2, 4), (20, 0, 22, 4)]));
        assert_eq!(strokes.len(), 2);
        // Each stroke's views saw the whole strip: the first calls it all 0.9, the second 0.2.
        let answers = vec![Plane { w: 30, h: 4, v: vec![0.9; 120] }, Plane { w: 30, h: 4, v: vec![0.2; 120] }];
        let out = nearest_strokes_answer(&strokes, &answers);
        assert_eq!(out.at(0, 1), 0.9);
        assert_eq!(out.at(10, 2), 0.9, "9 px from the first stroke, 10 from the second");
        assert_eq!(out.at(12, 2), 0.2);
        assert_eq!(out.at(29, 3), 0.2);
    }

    #[test]
    fn strokes_far_apart_on_a_large_photo_are_joined_on_cells() {
        // 3000 × 1000: the strokes' views cover more than `JOIN_CELLS`, so the nearest stroke is
        // decided on 2 × 2 cells; the answer still changes halfway between the strokes.
        let strokes = strokes(&brush_of(3000, 1000, &[(0, 0, 40, 1000), (2960, 0, 3000, 1000)]));
        assert_eq!(strokes.len(), 2);
        let plane = |v: f32| Plane { w: 3000, h: 1000, v: vec![v; 3_000_000] };
        let out = nearest_strokes_answer(&strokes, &[plane(0.9), plane(0.2)]);
        assert_eq!((out.at(100, 500), out.at(1400, 10), out.at(1600, 990), out.at(2999, 0)), (0.9, 0.9, 0.2, 0.2));
    }

    #[test]
    fn views_agreement_compares_the_near_views_rectangle_in_place() {
        let near = Rect { x0: 4, y0: 2, x1: 12, y1: 10 };
        let far = Rect { x0: 0, y0: 0, x1: 16, y1: 12 };
        // The near view sees an object in its left half; the far view the same pixels, shifted
        // by the rectangles' offset, plus a column more.
        let near_map = Plane { w: 8, h: 8, v: (0..64).map(|i| if i % 8 < 4 { 0.9 } else { 0.1 }).collect() };
        let far_object = |cols: std::ops::Range<usize>| Plane {
            w: 16,
            h: 12,
            v: (0..192)
                .map(|i| if cols.contains(&(i % 16)) && (2..10).contains(&(i / 16)) { 0.8 } else { 0.0 })
                .collect(),
        };
        let same = views_agreement((near, &near_map), (far, &far_object(4..8)));
        assert_eq!(same, 1.0);
        let wider = views_agreement((near, &near_map), (far, &far_object(4..9)));
        assert!((wider - 4.0 / 5.0).abs() < 1e-6, "{wider}");
        let elsewhere = views_agreement((near, &near_map), (far, &far_object(12..16)));
        assert_eq!(elsewhere, 0.0);
    }
}
