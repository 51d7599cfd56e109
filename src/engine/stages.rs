//! The decomposition's stages behind small interfaces, so that a learned model (running on
//! candle) can replace or refine any one of them without touching the rest. `Stages::classical`
//! is the default, weight-free engine.

use super::complete::{complete_avoiding, CompletionParams};
use super::effects::{detect_shadows, relight_cancellable, EffectParams, Relit};
use super::mask::Mask;
use super::matting::{matte, MattingParams};
use super::raster::{Plane, Rgb};
use super::rng::Rng;
use super::segment::{segment, SegmentParams};
use super::{Cancelled, Quality};

/// Finds the object inside a rough brush.
pub trait Segmenter: Send + Sync {
    fn segment(&self, img: &Rgb, brush: &Mask, protect: Option<&Mask>, rng: &mut Rng, cancelled: &dyn Fn() -> bool) -> Result<Mask, Cancelled>;
}

/// Turns a hard segment into a soft alpha.
pub trait Matter: Send + Sync {
    fn matte(&self, img: &Rgb, segment: &Mask, cancelled: &(dyn Fn() -> bool + Sync)) -> Result<Plane, Cancelled>;
}

/// Fills a hole in the background. Pixels outside the hole must come back unchanged.
pub trait Completer: Send + Sync {
    /// Fill `hole`; `avoid` is context that is not to be copied (see `complete_avoiding`).
    fn complete(&self, img: &Rgb, hole: &Mask, avoid: &Mask, rng: &Rng, progress: &mut dyn FnMut(f32), cancelled: &(dyn Fn() -> bool + Sync)) -> Result<Rgb, Cancelled>;
}

/// Finds the object's shadows and takes them out of the photo.
pub trait ShadowRemover: Send + Sync {
    /// The shadow region (outside `object`) and a confidence in [0, 1], if any.
    fn detect(&self, img: &Rgb, object: &Mask) -> Option<(Mask, f32)>;
    /// The photo with `region` relit (and, if `extend`, the shadow's parts just beyond it);
    /// `object` is left out of every estimate, `silhouette` (the object's solid part) is what
    /// casts the shadow.
    fn relight(&self, img: &Rgb, region: &Mask, object: &Mask, silhouette: &Mask, extend: bool, cancelled: &(dyn Fn() -> bool + Sync)) -> Result<Relit, Cancelled>;
}

/// GrabCut + banded graph cut (`segment`).
pub struct GrabCut(pub SegmentParams);
/// Colour guided filter (`matting`).
pub struct GuidedFilterMatting(pub MattingParams);
/// Multi-scale PatchMatch + EM voting (`complete`).
pub struct PatchMatchCompletion(pub CompletionParams);
/// Closing-based detection + membrane relighting (`effects`).
pub struct ShadowRelighting(pub EffectParams);

impl Segmenter for GrabCut {
    fn segment(&self, img: &Rgb, brush: &Mask, protect: Option<&Mask>, rng: &mut Rng, cancelled: &dyn Fn() -> bool) -> Result<Mask, Cancelled> {
        segment(img, brush, protect, &self.0, rng, cancelled)
    }
}

impl Matter for GuidedFilterMatting {
    fn matte(&self, img: &Rgb, segment: &Mask, cancelled: &(dyn Fn() -> bool + Sync)) -> Result<Plane, Cancelled> {
        matte(img, segment, &self.0, cancelled)
    }
}

impl Completer for PatchMatchCompletion {
    fn complete(&self, img: &Rgb, hole: &Mask, avoid: &Mask, rng: &Rng, progress: &mut dyn FnMut(f32), cancelled: &(dyn Fn() -> bool + Sync)) -> Result<Rgb, Cancelled> {
        complete_avoiding(img, hole, avoid, &self.0, rng, progress, cancelled)
    }
}

impl ShadowRemover for ShadowRelighting {
    fn detect(&self, img: &Rgb, object: &Mask) -> Option<(Mask, f32)> {
        detect_shadows(img, object, &self.0)
    }
    fn relight(&self, img: &Rgb, region: &Mask, object: &Mask, silhouette: &Mask, extend: bool, cancelled: &(dyn Fn() -> bool + Sync)) -> Result<Relit, Cancelled> {
        relight_cancellable(img, region, object, silhouette, extend, cancelled)
    }
}

/// One implementation per stage.
pub struct Stages {
    pub segmenter: Box<dyn Segmenter>,
    pub matter: Box<dyn Matter>,
    pub completer: Box<dyn Completer>,
    pub shadows: Box<dyn ShadowRemover>,
}

impl Stages {
    /// The classical engine, tuned for `quality`.
    pub fn classical(quality: Quality) -> Self {
        let mut fill = CompletionParams::default();
        match quality {
            Quality::Fast => {
                fill.em_iterations = 4;
                fill.pm_sweeps = 2;
            }
            Quality::Balanced => {}
            Quality::Best => {
                fill.em_iterations = 12;
                fill.pm_sweeps = 4;
            }
        }
        Self {
            segmenter: Box::new(GrabCut(SegmentParams::default())),
            matter: Box::new(GuidedFilterMatting(MattingParams::default())),
            completer: Box::new(PatchMatchCompletion(fill)),
            shadows: Box::new(ShadowRelighting(EffectParams::default())),
        }
    }
}
