//! `decompose`: photo + rough brush → background, object layer, effect layers, foreground.
//!
//! Stages (each behind a trait, so a learned model can replace one): segmentation of the object
//! inside the brush, matting of its edge, completion of the background behind it, and the
//! consistency step that makes every layer recompose the input exactly (LayerDecomp's rule
//! `I = a·F + (1 − a)·B`): where the completed background `B` differs from the photo, the
//! foreground takes the smallest alpha that explains the photo (minimal-alpha unmixing), so the
//! rule holds at every pixel by construction.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::mask::{Mask, Rect};
use super::raster::{luma, Plane, Rgb};
use super::rng::Rng;
use super::effects::Relit;
use super::stages::Stages;
use super::Cancelled;
use crate::document::{BlendMode, EffectKind, LayerId, LayerKind, LayerStack, NewLayer, PremulImage};

/// Cancels a running decomposition from another thread.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Speed/quality trade-off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Quality {
    /// Interactive previews.
    Fast,
    #[default]
    Balanced,
    /// More EM iterations and PatchMatch sweeps.
    Best,
}

/// What the engine is doing, for progress reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Segmenting,
    Matting,
    Completing,
    Effects,
    Finishing,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Segmenting => "Finding the object",
            Stage::Matting => "Refining the edge",
            Stage::Completing => "Filling the background",
            Stage::Effects => "Separating shadows and reflections",
            Stage::Finishing => "Building layers",
        }
    }
}

/// A progress report: the stage and the overall fraction done (never decreases).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    pub stage: Stage,
    pub fraction: f32,
}

/// What the user asked for.
pub struct DecomposeRequest<'a> {
    /// The brushed object: any non-zero pixel is "object"; may overshoot and miss thin parts.
    pub object_mask: Mask,
    /// Shadow/reflection region the user brushed (optional).
    pub effect_hint: Option<Mask>,
    /// Pixels that must stay untouched (optional).
    pub protect: Option<Mask>,
    pub quality: Quality,
    pub seed: u64,
    pub progress: Option<&'a (dyn Fn(Progress) + Sync)>,
    pub cancel: CancelToken,
    /// Worker threads; default: all cores but one, so the caller's UI keeps a core.
    pub threads: Option<usize>,
    /// Look for the object's shadows when no effect hint is given (default on).
    pub detect_effects: bool,
}

impl DecomposeRequest<'_> {
    pub fn new(object_mask: Mask) -> Self {
        Self {
            object_mask,
            effect_hint: None,
            protect: None,
            quality: Quality::default(),
            seed: 0,
            progress: None,
            cancel: CancelToken::new(),
            threads: None,
            detect_effects: true,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("the {which} mask is {mask_w}×{mask_h} but the image is {image_w}×{image_h}")]
    MaskSizeMismatch { which: &'static str, mask_w: u32, mask_h: u32, image_w: u32, image_h: u32 },
    #[error("the object mask is empty: brush over the object first")]
    EmptyMask,
    #[error("the mask covers (almost) the whole image: nothing is left to rebuild the background from")]
    MaskCoversImage,
    #[error("the image is too small to decompose ({0}×{1}; at least 16×16)")]
    ImageTooSmall(u32, u32),
    #[error("cancelled")]
    Cancelled,
}

impl From<Cancelled> for EngineError {
    fn from(_: Cancelled) -> Self {
        EngineError::Cancelled
    }
}

/// A layer cut from the photo: premultiplied pixels and where their top-left corner sits.
#[derive(Clone, Debug)]
pub struct PlacedLayer {
    pub pixels: PremulImage,
    pub x: i32,
    pub y: i32,
}

/// A visual effect of the object (shadow, reflection, ...), as its own layer.
#[derive(Clone, Debug)]
pub struct EffectLayer {
    pub kind: EffectKind,
    pub layer: PlacedLayer,
    /// How sure the engine is that this is an effect of the object, in [0, 1].
    pub confidence: f32,
}

/// The result: layers that recompose the input.
#[derive(Clone, Debug)]
pub struct Decomposition {
    /// The clean plate, full canvas, opaque.
    pub background: PremulImage,
    /// The object, cropped to its bounds.
    pub object: PlacedLayer,
    pub effects: Vec<EffectLayer>,
    /// Object and effects together, full canvas: `over(foreground, background) == input`.
    pub foreground: PremulImage,
}

impl Decomposition {
    /// The effects found, each with how sure the engine is: "shadow (83 %), reflection (57 %)",
    /// or "no shadow or reflection" — for the editor's message and the CLI's report.
    pub fn effects_summary(&self) -> String {
        if self.effects.is_empty() {
            return "no shadow or reflection".into();
        }
        let name = |k: EffectKind| match k {
            EffectKind::Shadow => "shadow",
            EffectKind::Reflection => "reflection",
            EffectKind::Other => "brushed effect",
        };
        self.effects.iter().map(|e| format!("{} ({:.0} %)", name(e.kind), 100.0 * e.confidence)).collect::<Vec<_>>().join(", ")
    }

    /// The layers as a document: background, effects (linked to the object), object on top.
    pub fn to_layer_stack(&self) -> LayerStack {
        let mut stack = LayerStack::from_background(self.background.clone());
        self.clone().add_layers_to(&mut stack, 0, "Object");
        stack
    }

    /// Insert the effects (linked to the object) and then the object just above stack position
    /// `above`; the background is the caller's to place. Returns the object layer's id.
    pub fn add_layers_to(self, stack: &mut LayerStack, above: usize, object_name: &str) -> LayerId {
        let object = stack.push(NewLayer::new(object_name, self.object.pixels).at(self.object.x as f32, self.object.y as f32));
        stack.reorder(object, above + 1);
        // Effects go below the object; moving the object moves them.
        let mut counts = [0usize; 3];
        for (k, e) in self.effects.into_iter().enumerate() {
            let (name, n) = match e.kind {
                EffectKind::Shadow => ("Shadow", &mut counts[0]),
                EffectKind::Reflection => ("Reflection", &mut counts[1]),
                EffectKind::Other => ("Effect", &mut counts[2]),
            };
            *n += 1;
            let name = if *n == 1 { name.to_string() } else { format!("{name} {n}") };
            let id = stack.push(
                NewLayer::new(name, e.layer.pixels)
                    .at(e.layer.x as f32, e.layer.y as f32)
                    .kind(LayerKind::Effect(e.kind))
                    .blend(BlendMode::Normal)
                    .linked_to(object),
            );
            stack.reorder(id, above + 1 + k);
        }
        object
    }
}

/// Run the default (classical) engine.
pub fn decompose(image: &PremulImage, request: &DecomposeRequest<'_>) -> Result<Decomposition, EngineError> {
    decompose_with(&Stages::classical(request.quality), image, request)
}

/// Run the decomposition with the given stage implementations.
pub fn decompose_with(stages: &Stages, image: &PremulImage, request: &DecomposeRequest<'_>) -> Result<Decomposition, EngineError> {
    let threads = request.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map(|n| n.get().saturating_sub(1).max(1)).unwrap_or(1)
    });
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads.max(1)).build();
    match pool {
        Ok(pool) => pool.install(|| run(stages, image, request)),
        Err(_) => run(stages, image, request),
    }
}

/// Monotonic progress over weighted stages.
struct Reporter<'a> {
    sink: Option<&'a (dyn Fn(Progress) + Sync)>,
    last: Mutex<f32>,
}

impl Reporter<'_> {
    fn report(&self, stage: Stage, fraction: f32) {
        let Some(sink) = self.sink else { return };
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let f = fraction.clamp(*last, 1.0);
        *last = f;
        sink(Progress { stage, fraction: f });
    }
}

const SEGMENT_END: f32 = 0.15;
const MATTE_END: f32 = 0.2;
const EFFECTS_END: f32 = 0.25;
const COMPLETE_END: f32 = 0.95;

fn check_size(which: &'static str, m: &Mask, w: u32, h: u32) -> Result<(), EngineError> {
    if (m.width(), m.height()) != (w, h) {
        return Err(EngineError::MaskSizeMismatch { which, mask_w: m.width(), mask_h: m.height(), image_w: w, image_h: h });
    }
    Ok(())
}

fn run(stages: &Stages, image: &PremulImage, req: &DecomposeRequest<'_>) -> Result<Decomposition, EngineError> {
    let (w, h) = (image.width(), image.height());
    if w < 16 || h < 16 {
        return Err(EngineError::ImageTooSmall(w, h));
    }
    check_size("object", &req.object_mask, w, h)?;
    if let Some(m) = &req.effect_hint {
        check_size("effect", m, w, h)?;
    }
    if let Some(m) = &req.protect {
        check_size("protect", m, w, h)?;
    }
    let cancel = || req.cancel.is_cancelled();
    if req.object_mask.is_empty() {
        return Err(EngineError::EmptyMask);
    }
    let brushed = match &req.effect_hint {
        Some(hint) => req.object_mask.union(hint),
        None => req.object_mask.clone(),
    };
    if brushed.count() as f64 > 0.97 * (w as f64 * h as f64) {
        return Err(EngineError::MaskCoversImage);
    }

    let reporter = Reporter { sink: req.progress, last: Mutex::new(0.0) };
    let rng = Rng::new(req.seed);
    if cancel() {
        return Err(EngineError::Cancelled);
    }
    let img = Rgb::from_premul(image);

    reporter.report(Stage::Segmenting, 0.0);
    let mut seg = stages.segmenter.segment(&img, &req.object_mask, req.protect.as_ref(), &mut rng.fork(1), &cancel)?;
    if seg.count() < 4 {
        // Nothing object-like was found inside the brush: take the brush itself.
        seg = req.object_mask.clone();
    }
    reporter.report(Stage::Matting, SEGMENT_END);
    if cancel() {
        return Err(EngineError::Cancelled);
    }
    let alpha = stages.matter.matte(&img, &seg, &cancel)?;
    reporter.report(Stage::Completing, MATTE_END);
    if cancel() {
        return Err(EngineError::Cancelled);
    }

    // The hole: everything the object touches, a little margin so no edge colour leaks into the
    // context, and the effect hint.
    let object_px = Mask::from_bytes(w, h, alpha.v.iter().map(|&a| (a > 0.0) as u8).collect()).expect("sizes match");
    let object_region = object_px.dilate(2.0);
    // What casts the shadow: the object's solid part (its soft fringe reaches into the shadow).
    let silhouette = Mask::from_bytes(w, h, alpha.v.iter().map(|&a| (a >= 0.5) as u8).collect()).expect("sizes match");

    // Effects: a shadow is relit (its floor is seen, only darker); anything else the user brushed
    // is filled like the object's hole.
    reporter.report(Stage::Effects, MATTE_END);
    let mut work = img.clone();
    let mut shadow_region = Mask::new(w, h);
    let mut reflection_region = Mask::new(w, h);
    let mut inpaint_region = Mask::new(w, h);
    let (mut shadow_confidence, mut reflection_confidence, mut hint_confidence) = (0.0, 0.0, 0.0);
    match &req.effect_hint {
        // What the user brushed is an effect of the object (their brush overrides detection):
        // the object's reflection in it is unmixed and, if relighting the rest brightens it, the
        // rest is a shadow, relit like a detected one (its floor is seen, only darker);
        // otherwise (glow, smoke) it is filled like the object's hole.
        Some(hint) => {
            let mut region = hint.minus(&object_region);
            hint_confidence = 1.0;
            if let Some(found) = super::reflection::detect_reflection_cancellable(&img, &alpha, &object_region, &cancel)? {
                let inside = found.region.intersect(&region);
                for (i, px) in work.px.iter_mut().enumerate() {
                    if inside.at(i) {
                        *px = found.image.px[i];
                    }
                }
                region = region.minus(&inside);
                reflection_region = inside;
                reflection_confidence = 1.0;
            }
            // The user's brush is the region: not extended.
            match relit_if_shadow(stages, &work, &region, &object_region, &silhouette, false, &cancel)? {
                Some(relit) => {
                    work = relit.image;
                    shadow_region = region;
                    shadow_confidence = 1.0;
                }
                None => inpaint_region = region,
            }
        }
        None if req.detect_effects => {
            // A reflection first (it follows the mirrored object, which a shadow does not); its
            // floor is unmixed back, and shadows are then looked for on that floor.
            if let Some(found) = super::reflection::detect_reflection_cancellable(&img, &alpha, &object_region, &cancel)? {
                work = found.image;
                reflection_region = found.region;
                reflection_confidence = found.confidence;
            }
            if let Some((region, conf)) = stages.shadows.detect(&work, &object_region) {
                let region = region.minus(&reflection_region);
                if let Some(relit) = relit_if_shadow(stages, &work, &region, &object_region, &silhouette, true, &cancel)? {
                    work = relit.image;
                    shadow_region = relit.region.minus(&reflection_region);
                    shadow_confidence = conf;
                }
            }
        }
        None => {}
    }
    // What the user marked as "not an effect" (the effect brush's remove mode) stays in the
    // background as the photo shows it, whatever detection said; an effect mostly brushed away
    // goes entirely (its fringe beyond the brush with it).
    if let Some(p) = &req.protect {
        for region in [&mut shadow_region, &mut reflection_region] {
            let mut removed = p.intersect(region);
            for comp in region.components() {
                if 2 * comp.iter().filter(|&&i| p.at(i)).count() >= comp.len() {
                    for i in comp {
                        removed.set(i as u32 % w, i as u32 / w, true);
                    }
                }
            }
            *region = region.minus(&removed);
            for (i, px) in work.px.iter_mut().enumerate() {
                if removed.at(i) {
                    *px = img.px[i];
                }
            }
        }
    }
    if cancel() {
        return Err(EngineError::Cancelled);
    }
    reporter.report(Stage::Completing, EFFECTS_END);

    let mut hole = object_region.union(&inpaint_region);
    if let Some(p) = &req.protect {
        hole = hole.minus(p);
    }
    let fill_span = COMPLETE_END - EFFECTS_END;
    // Relit pixels are estimates (their texture carries the shading estimate's errors, and a
    // deep shadow's noise amplified): context for the fill, never its source.
    let avoid = shadow_region.union(&reflection_region);
    let completed = stages.completer.complete(
        &work,
        &hole,
        &avoid,
        &rng.fork(2),
        &mut |f| reporter.report(Stage::Completing, EFFECTS_END + fill_span * f),
        &cancel,
    )?;
    reporter.report(Stage::Finishing, COMPLETE_END);
    if cancel() {
        return Err(EngineError::Cancelled);
    }

    // Final background: completed in the hole, relit under shadows, except where nothing covers
    // the surface (alpha 0, no effect): there the photo *is* the background.
    let mut background = completed;
    // The effect regions in full (the hint includes the object's edge, where a contact shadow
    // darkens the seen floor).
    let effect_any = match &req.effect_hint {
        Some(hint) => shadow_region.union(hint),
        // A detected shadow reaches under the object's soft edge (the contact shadow).
        None => shadow_region.dilate(4.0).union(&reflection_region),
    };
    let effect_at = |i: usize| effect_any.at(i);
    for i in 0..(w * h) as usize {
        // Right next to the object, floor much darker than the fill is its contact shadow (or
        // ambient occlusion): it keeps the fill and goes with the object.
        let contact = luma(img.px[i]) < 0.9 * luma(background.px[i]);
        if hole.at(i) && alpha.v[i] <= 0.0 && !effect_at(i) && !contact {
            background.px[i] = img.px[i];
        }
    }
    refine_edge_background(&img, &alpha, Some(&effect_any), &mut background);
    if cancel() {
        return Err(EngineError::Cancelled);
    }
    // Quantise the background to the 8 bits it is written with *before* unmixing, so the
    // foreground explains the photo over the file's background, not over a float we never write.
    for p in &mut background.px {
        *p = p.map(|v| (v * 255.0).round().clamp(0.0, 255.0) / 255.0);
    }
    let (fg_alpha, fg_colour) = unmix(&img, &background, &alpha);
    let foreground = Rgb { w: w as usize, h: h as usize, px: fg_colour }.with_alpha(&fg_alpha);
    if cancel() {
        return Err(EngineError::Cancelled);
    }

    let object = crop_layer(&foreground, &object_region);
    let mut effects = Vec::new();
    for (region, kind, confidence) in [
        (shadow_region.minus(&object_region), EffectKind::Shadow, shadow_confidence),
        (reflection_region.minus(&object_region).minus(&shadow_region), EffectKind::Reflection, reflection_confidence),
        (inpaint_region.minus(&object_region), EffectKind::Other, hint_confidence),
    ] {
        if region.is_empty() {
            continue;
        }
        let layer = crop_layer(&foreground, &region);
        if layer.pixels.width() > 0 {
            effects.push(EffectLayer { kind, layer, confidence });
        }
    }
    reporter.report(Stage::Finishing, 1.0);
    Ok(Decomposition { background: background.to_premul(), object, effects, foreground })
}

/// `img` with `region` relit, if it is a shadow (relighting really brightens it); `None` for an
/// empty region or one relighting leaves as it was.
#[allow(clippy::too_many_arguments)]
fn relit_if_shadow(stages: &Stages, img: &Rgb, region: &Mask, object: &Mask, silhouette: &Mask, extend: bool, cancel: &(dyn Fn() -> bool + Sync)) -> Result<Option<Relit>, Cancelled> {
    if region.is_empty() {
        return Ok(None);
    }
    let relit = stages.shadows.relight(img, region, object, silhouette, extend, cancel)?;
    Ok(is_shadow(img, &relit.image, &relit.region).then_some(relit))
}

/// Whether relighting really brightened the region (a shadow), rather than leaving it as it was
/// (a reflection, glow or other brushed effect, which is filled instead). Measured over the
/// pixels relighting changed: a detected region is often much larger than its shadow (a
/// generous margin around a thin contact shadow), and the unchanged rest must not dilute it.
fn is_shadow(img: &Rgb, relit: &Rgb, region: &Mask) -> bool {
    let (mut before, mut after, mut changed, mut total) = (0.0f64, 0.0f64, 0usize, 0usize);
    for i in 0..img.px.len() {
        if region.at(i) {
            total += 1;
            let (b, a) = (img.px[i].iter().sum::<f32>() as f64, relit.px[i].iter().sum::<f32>() as f64);
            if a > 1.02 * b + 1e-3 {
                before += b;
                after += a;
                changed += 1;
            }
        }
    }
    let gain = after / before.max(1e-9);
    // Brightened, but not absurdly: a factor above ~3 means a dark material, not a shadow; and
    // over a real share of the region (a few texture valleys brightened a little are not one).
    gain > 1.08 && gain < 3.0 && changed * 10 >= total
}

/// At the object's soft edge the background is partly *seen*: estimate the object's colour there
/// (its solid interior's colours spread outwards) and solve `I = a·F + (1 − a)·B` for `B`. Where
/// alpha is low this observed background replaces the invented fill, so the edge carries no
/// halo of made-up texture; where alpha is high the fill stays (division by 1 − a would amplify
/// noise).
fn refine_edge_background(img: &Rgb, alpha: &Plane, effect_hint: Option<&Mask>, background: &mut Rgb) {
    let (w, h) = (img.w, img.h);
    let band = Mask::from_bytes(w as u32, h as u32, alpha.v.iter().map(|&a| (a > 0.0 && a < 1.0) as u8).collect()).expect("sizes match");
    let Some(bounds) = band.bounds() else { return };
    let rect = Rect::grown(bounds, 8, w, h);
    let (x0, y0, rw, rh) = (rect.x0, rect.y0, rect.w(), rect.h());
    let crop = img.crop(x0, y0, rw, rh);
    let a_at = |i: usize| alpha.v[(y0 + i / rw) * w + x0 + i % rw];
    let solid: Vec<bool> = (0..rw * rh).map(|i| a_at(i) >= 0.95).collect();
    let soft: Vec<bool> = (0..rw * rh).map(|i| a_at(i) > 0.0 && a_at(i) < 0.95).collect();
    if !solid.iter().any(|&s| s) {
        return;
    }
    let fg = super::complete::diffuse_from(&crop, &solid, &soft);
    for y in 0..rh {
        for x in 0..rw {
            let i = (y0 + y) * w + x0 + x;
            let a = alpha.v[i];
            // Under an effect (a shadow at the contact line) the seen surface is not the clean
            // background: keep the fill there.
            if a <= 0.0 || a >= 0.7 || effect_hint.is_some_and(|m| m.at(i)) {
                continue;
            }
            let t = ((0.7 - a) / 0.4).clamp(0.0, 1.0);
            let t = t * t * (3.0 - 2.0 * t);
            let f = fg.px[y * rw + x];
            let mut seen = [0, 1, 2].map(|c| ((img.px[i][c] - a * f[c]) / (1.0 - a)).clamp(0.0, 1.0));
            let b = &mut background.px[i];
            // An alpha a little low at the rim, or an edge colour unlike the interior's (a
            // sphere's darker limb), leaves some of the object's colour in `seen`: a coloured
            // line where the object was. A background does not take its occluder's colour, so
            // the part of `seen − fill` that points towards the object's colour is dropped (at
            // most what an alpha 0.3 too low would leave; and only where the two colours differ
            // enough for the direction to mean something). Unmixing then gives it to the object.
            let towards = [0, 1, 2].map(|c| f[c] - b[c]);
            let n2: f32 = towards.iter().map(|v| v * v).sum();
            if n2 > 0.01 {
                let share = ((0..3).map(|c| (seen[c] - b[c]) * towards[c]).sum::<f32>() / n2).min(0.3 / (1.0 - a));
                if share > 0.0 {
                    seen = [0, 1, 2].map(|c| (seen[c] - share * towards[c]).clamp(0.0, 1.0));
                }
            }
            // Floor seen much darker than the fill under the edge is in the object's contact
            // shadow: keep the fill (the darkening goes with the object).
            if luma(seen) < 0.9 * luma(*b) {
                continue;
            }
            *b = [0, 1, 2].map(|c| t * seen[c] + (1.0 - t) * b[c]);
        }
    }
}

/// Smallest alpha ≥ `prior` such that `F = (I − (1 − a)·B) / a` lies in [0, 1] per channel
/// (the minimal-alpha unmixing of `shared/notes/layer-math.md`), and that `F`.
pub fn unmix(img: &Rgb, bg: &Rgb, prior: &Plane) -> (Vec<f32>, Vec<[f32; 3]>) {
    use rayon::prelude::*;
    img.px
        .par_iter()
        .zip(&bg.px)
        .zip(&prior.v)
        .map(|((ii, b), &p)| {
            let mut a = p.clamp(0.0, 1.0);
            for c in 0..3 {
                let need = if ii[c] > b[c] + 1e-6 {
                    (ii[c] - b[c]) / (1.0 - b[c]).max(1e-6)
                } else if ii[c] < b[c] - 1e-6 {
                    (b[c] - ii[c]) / b[c].max(1e-6)
                } else {
                    0.0
                };
                a = a.max(need.min(1.0));
            }
            let colour = if a > 0.0 { [0, 1, 2].map(|c| ((ii[c] - (1.0 - a) * b[c]) / a).clamp(0.0, 1.0)) } else { [0.0; 3] };
            (a, colour)
        })
        .unzip()
}

/// The part of `full` inside `region`, cropped to its non-transparent bounds.
fn crop_layer(full: &PremulImage, region: &Mask) -> PlacedLayer {
    let w = full.width() as usize;
    let keep = |i: usize| region.at(i) && full.pixels()[i][3] > 0.0;
    let Some((rx, ry, rw, rh)) = region.bounds() else {
        return PlacedLayer { pixels: PremulImage::new(0, 0), x: 0, y: 0 };
    };
    let (mut x0, mut y0, mut x1, mut y1) = (usize::MAX, usize::MAX, 0, 0);
    for y in ry as usize..(ry + rh) as usize {
        for x in rx as usize..(rx + rw) as usize {
            if keep(y * w + x) {
                (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
            }
        }
    }
    if x0 == usize::MAX {
        return PlacedLayer { pixels: PremulImage::new(0, 0), x: 0, y: 0 };
    }
    let (cw, ch) = (x1 - x0 + 1, y1 - y0 + 1);
    let mut px = Vec::with_capacity(cw * ch);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let i = y * w + x;
            px.push(if keep(i) { full.pixels()[i] } else { [0.0; 4] });
        }
    }
    PlacedLayer { pixels: PremulImage::from_pixels(cw as u32, ch as u32, px).expect("sizes match"), x: x0 as i32, y: y0 as i32 }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An orange disc on a grey wall whose matte comes out a little low at the rim (as the
    /// guided filter's does on a shaded sphere): the wall behind the rim must stay grey, not
    /// take an orange line.
    #[test]
    fn a_low_rim_alpha_leaves_no_coloured_line_in_the_background() {
        let (w, h) = (64usize, 64usize);
        let (wall, orange) = ([0.76f32, 0.74, 0.72], [0.9f32, 0.55, 0.2]);
        let true_alpha: Vec<f32> = (0..w * h)
            .map(|i| {
                let (x, y) = ((i % w) as f32 - 32.0, (i / w) as f32 - 32.0);
                (20.0 - (x * x + y * y).sqrt() + 0.5).clamp(0.0, 1.0)
            })
            .collect();
        let img = Rgb { w, h, px: true_alpha.iter().map(|&a| [0, 1, 2].map(|c| a * orange[c] + (1.0 - a) * wall[c])).collect() };
        // The matte: the soft rim at 75 % of the truth.
        let alpha = Plane { w, h, v: true_alpha.iter().map(|&a| if a < 1.0 { 0.75 * a } else { a }).collect() };
        // The fill got the wall right.
        let mut background = Rgb { w, h, px: vec![wall; w * h] };
        refine_edge_background(&img, &alpha, None, &mut background);
        let mut worst = 0.0f32;
        for i in 0..w * h {
            if alpha.v[i] > 0.0 && alpha.v[i] < 1.0 {
                worst = worst.max((0..3).map(|c| (background.px[i][c] - wall[c]).abs()).fold(0.0, f32::max));
            }
        }
        assert!(worst < 2.0 / 255.0, "the wall behind the rim is off by {:.1} levels", worst * 255.0);
    }
}
