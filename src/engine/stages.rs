//! The decomposition's stages behind small interfaces, so that a learned model (running on
//! candle) can replace or refine any one of them without touching the rest. `Stages::classical`
//! is the weight-free engine; `Stages::for_quality` the same with the cut guided by the saliency
//! network (`SalientGrabCut`), which the editor and the command line run.

use std::sync::Arc;

use super::complete::{complete_avoiding, diffuse_from, CompletionParams};
use super::matting::{matte, MattingParams};
use super::reflection::detect_reflection_cancellable;
use super::rng::Rng;
use super::saliency::{saliency_prior, shared_network, SaliencyError, SaliencyNet};
use super::segment::{segment, SegmentParams};
use super::shadows::{detect_shadows, relight_cancellable, EffectParams};
use super::{Cancelled, Quality};
use crate::raster::{Mask, Plane, Rgb};

pub use super::reflection::Reflection;
pub use super::shadows::Relit;

/// Finds the object inside a rough brush.
pub trait Segmenter: Send + Sync {
    /// The object inside `brush` (never inside `protect`).
    fn segment(
        &self,
        img: &Rgb,
        brush: &Mask,
        protect: Option<&Mask>,
        rng: &mut Rng,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Mask, Cancelled>;
}

/// Turns a hard segment into a soft alpha.
pub trait Matter: Send + Sync {
    /// The soft alpha of `segment`'s edge.
    fn matte(&self, img: &Rgb, segment: &Mask, cancelled: &(dyn Fn() -> bool + Sync)) -> Result<Plane, Cancelled>;
}

/// Fills a hole in the background. Pixels outside the hole must come back unchanged.
pub trait Completer: Send + Sync {
    /// Fill `hole`; `avoid` is context that is not to be copied (see `complete_avoiding`).
    fn complete(
        &self,
        img: &Rgb,
        hole: &Mask,
        avoid: &Mask,
        rng: &Rng,
        progress: &mut dyn FnMut(f32),
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Rgb, Cancelled>;
}

/// Finds the object's shadows and takes them out of the photo.
pub trait ShadowRemover: Send + Sync {
    /// The shadow region (outside `object`) and a confidence in [0, 1], if any.
    fn detect(&self, img: &Rgb, object: &Mask) -> Option<(Mask, f32)>;
    /// The photo with `region` relit (and, if `extend`, the shadow's parts just beyond it);
    /// `object` is left out of every estimate, `silhouette` (the object's solid part) is what
    /// casts the shadow.
    fn relight(
        &self,
        img: &Rgb,
        region: &Mask,
        object: &Mask,
        silhouette: &Mask,
        extend: bool,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Relit, Cancelled>;
}

/// Finds the object's reflection on a glossy floor below it and unmixes it from the floor.
pub trait ReflectionRemover: Send + Sync {
    /// The reflection (region, floor with it unmixed, confidence), if the photo below the
    /// object's contact line holds one; `alpha` is the object's matte, `object` its region.
    fn remove(
        &self,
        img: &Rgb,
        alpha: &Plane,
        object: &Mask,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<Reflection>, Cancelled>;
}

/// Spreads known colours into unknown pixels: the object's colour out into its soft edge, where
/// the background is partly seen through it.
pub trait ColourSpreader: Send + Sync {
    /// `img` with the `todo` pixels given colours spread from the `known` ones.
    fn spread(&self, img: &Rgb, known: &[bool], todo: &[bool]) -> Rgb;
}

/// GrabCut + banded graph cut (`segment`).
pub struct GrabCut(pub SegmentParams);
/// GrabCut with the saliency network's object probability as a prior beside the colour models
/// (`segment` with `saliency_prior`): where colour fails (a multi-coloured object) the network
/// carries the cut, where the network fails (an object that is not salient) colour and the
/// brush do.
pub struct SalientGrabCut {
    /// The cut's parameters, `prior_weight` among them.
    pub params: SegmentParams,
    /// The network.
    pub net: Arc<SaliencyNet>,
}
/// GrabCut with a given object-probability prior (a full-size plane, as `saliency_prior` makes
/// it): what `SalientGrabCut` runs once it has asked the network.
pub struct PriorGrabCut {
    /// The cut's parameters, `prior_weight` among them.
    pub params: SegmentParams,
    /// The object probability of every pixel.
    pub prior: Plane,
}
/// Colour guided filter (`matting`).
pub struct GuidedFilterMatting(pub MattingParams);
/// Multi-scale PatchMatch + EM voting (`complete`).
pub struct PatchMatchCompletion(pub CompletionParams);
/// Closing-based detection + membrane relighting (`shadows`).
pub struct ShadowRelighting(pub EffectParams);
/// The photo below the contact line matched against the mirrored object (`reflection`).
pub struct MirroredReflection;
/// A membrane (harmonic interpolation) from the known pixels (`complete::diffuse_from`).
pub struct MembraneSpread;

impl ReflectionRemover for MirroredReflection {
    fn remove(
        &self,
        img: &Rgb,
        alpha: &Plane,
        object: &Mask,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Option<Reflection>, Cancelled> {
        detect_reflection_cancellable(img, alpha, object, cancelled)
    }
}

impl ColourSpreader for MembraneSpread {
    fn spread(&self, img: &Rgb, known: &[bool], todo: &[bool]) -> Rgb {
        diffuse_from(img, known, todo)
    }
}

impl Segmenter for GrabCut {
    fn segment(
        &self,
        img: &Rgb,
        brush: &Mask,
        protect: Option<&Mask>,
        rng: &mut Rng,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Mask, Cancelled> {
        segment(img, brush, protect, None, &self.0, rng, cancelled)
    }
}

impl Segmenter for SalientGrabCut {
    fn segment(
        &self,
        img: &Rgb,
        brush: &Mask,
        protect: Option<&Mask>,
        rng: &mut Rng,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Mask, Cancelled> {
        let started = std::time::Instant::now();
        let prior = match saliency_prior(&self.net, img, brush, cancelled) {
            Ok(p) => {
                log::debug!("cut: the network's prior {:.3} s", started.elapsed().as_secs_f64());
                Some(p)
            }
            Err(SaliencyError::Cancelled) => return Err(Cancelled),
            Err(e) => {
                log::warn!("{e}; the cut goes on with colour alone");
                None
            }
        };
        let started = std::time::Instant::now();
        let cut = segment(img, brush, protect, prior.as_ref(), &self.params, rng, cancelled);
        log::debug!("cut: graph cut {:.3} s", started.elapsed().as_secs_f64());
        cut
    }
}

impl Segmenter for PriorGrabCut {
    fn segment(
        &self,
        img: &Rgb,
        brush: &Mask,
        protect: Option<&Mask>,
        rng: &mut Rng,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Mask, Cancelled> {
        segment(img, brush, protect, Some(&self.prior), &self.params, rng, cancelled)
    }
}

impl Matter for GuidedFilterMatting {
    fn matte(&self, img: &Rgb, segment: &Mask, cancelled: &(dyn Fn() -> bool + Sync)) -> Result<Plane, Cancelled> {
        matte(img, segment, &self.0, cancelled)
    }
}

impl Completer for PatchMatchCompletion {
    fn complete(
        &self,
        img: &Rgb,
        hole: &Mask,
        avoid: &Mask,
        rng: &Rng,
        progress: &mut dyn FnMut(f32),
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Rgb, Cancelled> {
        complete_avoiding(img, hole, avoid, &self.0, rng, progress, cancelled)
    }
}

impl ShadowRemover for ShadowRelighting {
    fn detect(&self, img: &Rgb, object: &Mask) -> Option<(Mask, f32)> {
        detect_shadows(img, object, &self.0)
    }
    fn relight(
        &self,
        img: &Rgb,
        region: &Mask,
        object: &Mask,
        silhouette: &Mask,
        extend: bool,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<Relit, Cancelled> {
        relight_cancellable(img, region, object, silhouette, extend, cancelled)
    }
}

/// One implementation per stage.
pub struct Stages {
    /// The object inside the brush.
    pub segmenter: Box<dyn Segmenter>,
    /// Its soft edge.
    pub matter: Box<dyn Matter>,
    /// The background behind it.
    pub completer: Box<dyn Completer>,
    /// Shadows: detection and relighting.
    pub shadows: Box<dyn ShadowRemover>,
    /// Reflections: detection and unmixing.
    pub reflections: Box<dyn ReflectionRemover>,
    /// The object's colour at its soft edge.
    pub edge_colour: Box<dyn ColourSpreader>,
}

impl Stages {
    /// The engine: the classical stages with the cut guided by the saliency network, or, if the
    /// network cannot be had, the classical cut (with a warning).
    pub fn for_quality(quality: Quality) -> Self {
        let mut stages = Self::classical(quality);
        if let Some(net) = shared_network() {
            stages.segmenter = Box::new(SalientGrabCut { params: SegmentParams::default(), net });
        }
        stages
    }

    /// The classical engine, weight-free, tuned for `quality`.
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
            reflections: Box::new(MirroredReflection),
            edge_colour: Box::new(MembraneSpread),
        }
    }
}
