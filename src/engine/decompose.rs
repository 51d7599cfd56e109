//! `decompose`: photo + rough brush → background, object layer, effect layers, foreground.
//!
//! Stages (each behind a trait in `stages`, so a learned model can replace one): segmentation of
//! the object inside the brush, matting of its edge, its effects (reflection, shadows) taken out
//! of the photo, completion of the background behind it, and the consistency step that makes
//! every layer recompose the input exactly (LayerDecomp's rule `I = a·F + (1 − a)·B`): where the
//! completed background `B` differs from the photo, the foreground takes the smallest alpha that
//! explains the photo (minimal-alpha unmixing), so the rule holds at every pixel by construction.

use std::sync::Mutex;

use rayon::prelude::*;

use super::request::{DecomposeRequest, Decomposition, EffectLayer, EngineError, PlacedLayer, Progress, Stage};
use super::rng::Rng;
use super::segment::kept_too_little;
use super::stages::{ColourSpreader, Relit, Stages};
use super::Cancelled;
use crate::document::{EffectKind, PremulImage};
use crate::raster::{luma, to_u8, Mask, Plane, Rect, Rgb};

/// Run the classical, weight-free stages (`Stages::classical`). The editor and the command line
/// run `Stages::for_quality` through `decompose_with`: the same, with the cut guided by the
/// saliency network. (The network can take an object's mirror image for part of it — a flat
/// striped box and its reflection, tests/engine.rs — so the library's default stays colour-only
/// until the cut knows a reflection from its object.)
pub fn decompose(image: &PremulImage, request: &DecomposeRequest<'_>) -> Result<Decomposition, EngineError> {
    decompose_with(&Stages::classical(request.quality), image, request)
}

/// Run the decomposition with the given stage implementations.
pub fn decompose_with(
    stages: &Stages,
    image: &PremulImage,
    request: &DecomposeRequest<'_>,
) -> Result<Decomposition, EngineError> {
    let threads = request
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map(|n| n.get().saturating_sub(1).max(1)).unwrap_or(1));
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

/// One decomposition's shared context: its stages, request, progress and cancel check.
struct Run<'a> {
    stages: &'a Stages,
    req: &'a DecomposeRequest<'a>,
    reporter: Reporter<'a>,
    rng: Rng,
}

impl Run<'_> {
    fn cancelled(&self) -> bool {
        self.req.cancel.is_cancelled()
    }

    fn checkpoint(&self) -> Result<(), EngineError> {
        if self.cancelled() {
            return Err(EngineError::Cancelled);
        }
        Ok(())
    }
}

/// The object as the cut and the matte found it.
struct ObjectCut {
    alpha: Plane,
    /// Why the cut is not to be trusted, if it is not.
    warnings: Vec<String>,
    /// Every pixel the object touches, grown 2 px so no edge colour leaks into the fill's context.
    region: Mask,
    /// What casts the shadow: the object's solid part (its soft fringe reaches into the shadow).
    silhouette: Mask,
}

/// The photo with the object's effects taken out, and where each effect was.
struct EffectsRemoved {
    /// The photo with shadows relit and reflections unmixed.
    photo: Rgb,
    shadow: Mask,
    reflection: Mask,
    /// Filled like the object's hole: brushed effects that are neither shadow nor reflection
    /// (glow, smoke), and a shadow's core too deep to relight (which stays in `shadow`).
    inpaint: Mask,
    shadow_confidence: f32,
    reflection_confidence: f32,
    hint_confidence: f32,
}

fn run<'a>(
    stages: &'a Stages,
    image: &PremulImage,
    req: &'a DecomposeRequest<'a>,
) -> Result<Decomposition, EngineError> {
    check_request(image, req)?;
    let run =
        Run { stages, req, reporter: Reporter { sink: req.progress, last: Mutex::new(0.0) }, rng: Rng::new(req.seed) };
    run.checkpoint()?;
    let img = Rgb::from_premul(image);
    let cut = cut_object(&run, &img)?;
    run.reporter.report(Stage::Effects, MATTE_END);
    let mut effects = remove_effects(&run, &img, &cut)?;
    if let Some(protect) = &req.protect {
        effects.restore_protected(&img, protect);
    }
    run.checkpoint()?;
    run.reporter.report(Stage::Completing, EFFECTS_END);
    let mut hole = cut.region.union(&effects.inpaint);
    if let Some(p) = &req.protect {
        hole = hole.minus(p);
    }
    let completed = fill_hole(&run, &effects, &hole)?;
    run.reporter.report(Stage::Finishing, COMPLETE_END);
    run.checkpoint()?;
    let background = finish_background(&run, &img, completed, &cut, &effects, &hole);
    // Finishing takes seconds on a very large photo (2.5 s at 45 MP): progress moves between
    // its steps.
    let finishing_at = |f: f32| run.reporter.report(Stage::Finishing, COMPLETE_END + (1.0 - COMPLETE_END) * f);
    finishing_at(0.3);
    run.checkpoint()?;
    let foreground = unmix_premultiplied(&img, &background, &cut.alpha);
    finishing_at(0.6);
    run.checkpoint()?;
    let (object, effect_layers) = layers(&foreground, &cut, &effects);
    finishing_at(0.8);
    let background = background.to_premul();
    run.reporter.report(Stage::Finishing, 1.0);
    Ok(Decomposition { background, object, effects: effect_layers, foreground, warnings: cut.warnings })
}

fn check_size(which: &'static str, m: &Mask, w: u32, h: u32) -> Result<(), EngineError> {
    if (m.width(), m.height()) != (w, h) {
        return Err(EngineError::MaskSizeMismatch {
            which,
            mask_w: m.width(),
            mask_h: m.height(),
            image_w: w,
            image_h: h,
        });
    }
    Ok(())
}

/// The image is large enough to work on and the `which` brush ("object", "shadow") is its size.
pub(crate) fn check_image_and_brush(image: &PremulImage, which: &'static str, brush: &Mask) -> Result<(), EngineError> {
    let (w, h) = (image.width(), image.height());
    if w < 16 || h < 16 {
        return Err(EngineError::ImageTooSmall(w, h));
    }
    check_size(which, brush, w, h)
}

/// Refuse what cannot be decomposed: a tiny image, masks of another size, an empty brush, or
/// one that leaves nothing to rebuild the background from.
fn check_request(image: &PremulImage, req: &DecomposeRequest<'_>) -> Result<(), EngineError> {
    let (w, h) = (image.width(), image.height());
    check_image_and_brush(image, "object", &req.object_mask)?;
    if let Some(m) = &req.effect_hint {
        check_size("effect", m, w, h)?;
    }
    if let Some(m) = &req.protect {
        check_size("protect", m, w, h)?;
    }
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
    Ok(())
}

/// Segment the object inside the brush, then matte its edge.
fn cut_object(run: &Run<'_>, img: &Rgb) -> Result<ObjectCut, EngineError> {
    let req = run.req;
    run.reporter.report(Stage::Segmenting, 0.0);
    let between = || {
        run.reporter.report(Stage::Matting, SEGMENT_END);
        run.checkpoint()
    };
    let cancel = || run.cancelled();
    let (alpha, warnings) = segment_and_matte(
        run.stages,
        img,
        &req.object_mask,
        req.protect.as_ref(),
        &mut run.rng.fork(1),
        &cancel,
        &between,
    )?;
    run.reporter.report(Stage::Completing, MATTE_END);
    run.checkpoint()?;
    let (w, h) = (img.w as u32, img.h as u32);
    let object_px = Mask::from_bytes(w, h, alpha.v.iter().map(|&a| (a > 0.0) as u8).collect()).expect("sizes match");
    let silhouette = Mask::from_bytes(w, h, alpha.v.iter().map(|&a| (a >= 0.5) as u8).collect()).expect("sizes match");
    Ok(ObjectCut { region: object_px.dilate(2.0), silhouette, alpha, warnings })
}

/// The object's alpha inside `brush`: segmentation, then matting of its edge, and what went
/// wrong. A cut that keeps almost nothing of the brush is replaced by the brush itself, and
/// says so. `between` runs between the two (progress, a cancel check).
fn segment_and_matte(
    stages: &Stages,
    img: &Rgb,
    brush: &Mask,
    protect: Option<&Mask>,
    rng: &mut Rng,
    cancel: &(dyn Fn() -> bool + Sync),
    between: &dyn Fn() -> Result<(), EngineError>,
) -> Result<(Plane, Vec<String>), EngineError> {
    let mut seg = stages.segmenter.segment(img, brush, protect, rng, cancel)?;
    let mut warnings = Vec::new();
    let share = seg.count() as f64 / brush.count().max(1) as f64;
    if seg.count() < 4 || kept_too_little(&seg, brush) {
        warnings.push(format!(
            "the object cut kept only {:.1} % of the brush, so the brush itself was taken as the object: brush closer to it",
            100.0 * share
        ));
        seg = brush.clone();
    }
    between()?;
    Ok((stages.matter.matte(img, &seg, cancel)?, warnings))
}

/// The object's soft alpha inside `brush` (white = brushed), as `decompose` finds it before
/// anything else: segmentation, then matting. For selection tools and for scoring the cut.
pub fn cut_out(stages: &Stages, image: &PremulImage, brush: &Mask, seed: u64) -> Result<Plane, EngineError> {
    check_image_and_brush(image, "object", brush)?;
    if brush.is_empty() {
        return Err(EngineError::EmptyMask);
    }
    let img = Rgb::from_premul(image);
    segment_and_matte(stages, &img, brush, None, &mut Rng::new(seed).fork(1), &|| false, &|| Ok(()))
        .map(|(alpha, _)| alpha)
}

/// Below this quality of the projection model's fit, a detected shadow is not the object's.
const NOT_ITS_SHADOW: f32 = 0.0;

/// Take the object's effects out of the photo: the user's effect brush if there is one (it
/// overrides detection), else what detection finds (unless turned off).
fn remove_effects(run: &Run<'_>, img: &Rgb, cut: &ObjectCut) -> Result<EffectsRemoved, Cancelled> {
    let (w, h) = (img.w as u32, img.h as u32);
    let mut fx = EffectsRemoved {
        photo: img.clone(),
        shadow: Mask::new(w, h),
        reflection: Mask::new(w, h),
        inpaint: Mask::new(w, h),
        shadow_confidence: 0.0,
        reflection_confidence: 0.0,
        hint_confidence: 0.0,
    };
    match &run.req.effect_hint {
        Some(hint) => remove_brushed_effects(run, img, cut, hint, &mut fx)?,
        None if run.req.detect_effects => remove_detected_effects(run, img, cut, &mut fx)?,
        None => {}
    }
    Ok(fx)
}

/// What the user brushed is an effect of the object: the object's reflection in it is unmixed
/// and, if relighting the rest brightens it, the rest is a shadow, relit like a detected one
/// (its floor is seen, only darker); otherwise (glow, smoke) it is filled like the object's hole.
fn remove_brushed_effects(
    run: &Run<'_>,
    img: &Rgb,
    cut: &ObjectCut,
    hint: &Mask,
    fx: &mut EffectsRemoved,
) -> Result<(), Cancelled> {
    let cancel = || run.cancelled();
    let mut region = hint.minus(&cut.region);
    fx.hint_confidence = 1.0;
    if let Some(found) = run.stages.reflections.remove(img, &cut.alpha, &cut.region, &cancel)? {
        let inside = found.region.intersect(&region);
        for (i, px) in fx.photo.px.iter_mut().enumerate() {
            if inside.at(i) {
                *px = found.image.px[i];
            }
        }
        region = region.minus(&inside);
        fx.reflection = inside;
        fx.reflection_confidence = 1.0;
    }
    // The user's brush is the region: not extended.
    match relit_if_shadow(run, &fx.photo, &region, cut, false)? {
        Some(relit) => {
            fx.take_relit(relit);
            fx.shadow = region;
            fx.shadow_confidence = 1.0;
        }
        None => fx.inpaint = region,
    }
    Ok(())
}

/// A reflection first (it follows the mirrored object, which a shadow does not); its floor is
/// unmixed back, and shadows are then looked for on that floor.
fn remove_detected_effects(
    run: &Run<'_>,
    img: &Rgb,
    cut: &ObjectCut,
    fx: &mut EffectsRemoved,
) -> Result<(), Cancelled> {
    let cancel = || run.cancelled();
    let t = std::time::Instant::now();
    let refl = run.stages.reflections.remove(img, &cut.alpha, &cut.region, &cancel)?;
    log::debug!("effects: reflection search {:.3} s", t.elapsed().as_secs_f64());
    // Each step takes seconds on a very large photo: progress moves between them.
    let effects_at = |f: f32| run.reporter.report(Stage::Effects, MATTE_END + (EFFECTS_END - MATTE_END) * f);
    effects_at(0.3);
    if let Some(found) = refl {
        fx.photo = found.image;
        fx.reflection = found.region;
        fx.reflection_confidence = found.confidence;
    }
    let t = std::time::Instant::now();
    let det = run.stages.shadows.detect(&fx.photo, &cut.region);
    log::debug!("effects: shadow detection {:.3} s", t.elapsed().as_secs_f64());
    effects_at(0.5);
    if let Some((region, conf)) = det {
        let region = region.minus(&fx.reflection);
        let t = std::time::Instant::now();
        let relit = relit_if_shadow(run, &fx.photo, &region, cut, true)?;
        log::debug!("effects: relighting {:.3} s, region {} px", t.elapsed().as_secs_f64(), region.count());
        // Darkening beside the object that no projection of its silhouette explains at all is
        // the floor's own (shade from elsewhere, a stain): reported, it would take a piece of
        // floor away with the object. How dark the region is says little (shade and stains are
        // dark too); how well the object's projection explains it says more, so the confidence
        // shown is the lower of the two.
        if let Some(relit) = relit.filter(|r| r.model_quality.is_none_or(|q| q >= NOT_ITS_SHADOW)) {
            fx.shadow_confidence = conf.min(relit.model_quality.unwrap_or(1.0).clamp(0.0, 1.0));
            fx.shadow = fx.take_relit(relit).minus(&fx.reflection);
        }
    }
    Ok(())
}

impl EffectsRemoved {
    /// The photo with a shadow relit, except its core too deep to relight, which is filled
    /// instead; returns the pixels relit.
    fn take_relit(&mut self, relit: Relit) -> Mask {
        self.inpaint = self.inpaint.union(&too_deep_to_relight(&self.photo, &relit));
        self.photo = relit.image;
        relit.region
    }

    /// What the user marked as "not an effect" (the effect brush's remove mode) stays in the
    /// background as the photo shows it, whatever detection said; an effect mostly brushed away
    /// goes entirely (its fringe beyond the brush with it).
    fn restore_protected(&mut self, img: &Rgb, protect: &Mask) {
        let w = img.w as u32;
        for region in [&mut self.shadow, &mut self.reflection] {
            let mut removed = protect.intersect(region);
            for comp in region.components() {
                if 2 * comp.iter().filter(|&&i| protect.at(i)).count() >= comp.len() {
                    for i in comp {
                        removed.set(i as u32 % w, i as u32 / w, true);
                    }
                }
            }
            *region = region.minus(&removed);
            for (i, px) in self.photo.px.iter_mut().enumerate() {
                if removed.at(i) {
                    *px = img.px[i];
                }
            }
        }
    }
}

/// Complete the background in `hole`. Relit pixels are estimates (their texture carries the
/// shading estimate's errors, and a deep shadow's noise amplified): context for the fill, never
/// its source.
fn fill_hole(run: &Run<'_>, fx: &EffectsRemoved, hole: &Mask) -> Result<Rgb, Cancelled> {
    let fill_span = COMPLETE_END - EFFECTS_END;
    let avoid = fx.shadow.union(&fx.reflection);
    let progress = &mut |f| run.reporter.report(Stage::Completing, EFFECTS_END + fill_span * f);
    run.stages.completer.complete(&fx.photo, hole, &avoid, &run.rng.fork(2), progress, &|| run.cancelled())
}

/// The final background: completed in the hole, relit under shadows, except where nothing covers
/// the surface (alpha 0, no effect): there the photo *is* the background. Then the object's soft
/// edge, and quantisation to the 8 bits it is written with *before* unmixing, so the foreground
/// explains the photo over the file's background, not over a float we never write.
fn finish_background(
    run: &Run<'_>,
    img: &Rgb,
    completed: Rgb,
    cut: &ObjectCut,
    fx: &EffectsRemoved,
    hole: &Mask,
) -> Rgb {
    let mut background = completed;
    // The effect regions in full (the hint includes the object's edge, where a contact shadow
    // darkens the seen floor).
    let effect_any = match &run.req.effect_hint {
        Some(hint) => fx.shadow.union(hint),
        // A detected shadow reaches under the object's soft edge (the contact shadow).
        None => fx.shadow.dilate(4.0).union(&fx.reflection),
    };
    background.px.par_iter_mut().enumerate().for_each(|(i, bg)| {
        if hole.at(i) && cut.alpha.v[i] <= 0.0 && !effect_any.at(i) {
            // Right next to the object, floor much darker than the fill is its contact shadow
            // (or ambient occlusion): it keeps the fill and goes with the object.
            let contact = luma(img.px[i]) < 0.9 * luma(*bg);
            if !contact {
                *bg = img.px[i];
            }
        }
    });
    refine_edge_background(img, &cut.alpha, Some(&effect_any), run.stages.edge_colour.as_ref(), &mut background);
    background.px.par_iter_mut().for_each(|p| *p = p.map(|v| to_u8(v) as f32 / 255.0));
    background
}

/// The object and effect layers: the foreground cut by region.
fn layers(foreground: &PremulImage, cut: &ObjectCut, fx: &EffectsRemoved) -> (PlacedLayer, Vec<EffectLayer>) {
    let object = crop_layer(foreground, &cut.region);
    let mut effects = Vec::new();
    for (region, kind, confidence) in [
        (fx.shadow.minus(&cut.region), EffectKind::Shadow, fx.shadow_confidence),
        (fx.reflection.minus(&cut.region).minus(&fx.shadow), EffectKind::Reflection, fx.reflection_confidence),
        (fx.inpaint.minus(&cut.region).minus(&fx.shadow), EffectKind::Other, fx.hint_confidence),
    ] {
        if region.is_empty() {
            continue;
        }
        let layer = crop_layer(foreground, &region);
        if layer.pixels.width() > 0 {
            effects.push(EffectLayer { kind, layer, confidence });
        }
    }
    (object, effects)
}

/// Relit pixels brightened more than this many times: the photo kept too little of the floor
/// there (a contact shadow's near-black core, 8 bits deep) for dividing the shading out to bring
/// back its texture; it would bring back noise and the object's bounce light, amplified.
const MAX_RELIGHT_GAIN: f32 = 5.0;

/// The pixels of a relit shadow too deep to relight (`MAX_RELIGHT_GAIN`), grown a pixel: they
/// are filled with the object's hole instead, and stay in the shadow's layer.
fn too_deep_to_relight(img: &Rgb, relit: &Relit) -> Mask {
    let (w, h) = (img.w as u32, img.h as u32);
    let deep = Mask::from_fn(w, h, |x, y| {
        let i = y as usize * img.w + x as usize;
        relit.region.at(i) && luma(relit.image.px[i]) > MAX_RELIGHT_GAIN * luma(img.px[i]).max(1e-4)
    });
    if deep.is_empty() {
        deep
    } else {
        deep.dilate(1.0).intersect(&relit.region)
    }
}

/// `img` with `region` relit, if it is a shadow (relighting really brightens it); `None` for an
/// empty region or one relighting leaves as it was.
fn relit_if_shadow(
    run: &Run<'_>,
    img: &Rgb,
    region: &Mask,
    cut: &ObjectCut,
    extend: bool,
) -> Result<Option<Relit>, Cancelled> {
    if region.is_empty() {
        return Ok(None);
    }
    let relit = run.stages.shadows.relight(img, region, &cut.region, &cut.silhouette, extend, &|| run.cancelled())?;
    Ok(is_shadow(img, &relit).then_some(relit))
}

/// Whether relighting really brightened the region (a shadow), rather than leaving it as it was
/// (a reflection, glow or other brushed effect, which is filled instead) — but not absurdly: a
/// factor above ~3 means a dark material, not a shadow.
fn is_shadow(img: &Rgb, relit: &Relit) -> bool {
    relit.brightening(img).is_some_and(|gain| gain > 1.08 && gain < 3.0)
}

/// At the object's soft edge the background is partly *seen*: estimate the object's colour there
/// (its solid interior's colours spread outwards) and solve `I = a·F + (1 − a)·B` for `B`. Where
/// alpha is low this observed background replaces the invented fill, so the edge carries no
/// halo of made-up texture; where alpha is high the fill stays (division by 1 − a would amplify
/// noise).
fn refine_edge_background(
    img: &Rgb,
    alpha: &Plane,
    effect_hint: Option<&Mask>,
    spreader: &dyn ColourSpreader,
    background: &mut Rgb,
) {
    let (w, h) = (img.w, img.h);
    let band = Mask::from_bytes(w as u32, h as u32, alpha.v.iter().map(|&a| (a > 0.0 && a < 1.0) as u8).collect())
        .expect("sizes match");
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
    let fg = spreader.spread(&crop, &solid, &soft);
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
/// (the minimal-alpha unmixing of docs/layer-math.md), and that `F`.
pub fn unmix(img: &Rgb, bg: &Rgb, prior: &Plane) -> (Vec<f32>, Vec<[f32; 3]>) {
    img.px.par_iter().zip(&bg.px).zip(&prior.v).map(|((ii, b), &p)| unmixed_pixel(*ii, *b, p)).unzip()
}

/// `unmix`'s layer premultiplied, made in one pass: the foreground as the decomposition returns
/// it, without the straight colour and alpha planes in between (at 45 MP those were 720 MB of
/// fresh memory, and a second pass over them).
fn unmix_premultiplied(img: &Rgb, bg: &Rgb, prior: &Plane) -> PremulImage {
    let px = img
        .px
        .par_iter()
        .zip(&bg.px)
        .zip(&prior.v)
        .map(|((ii, b), &p)| {
            let (a, c) = unmixed_pixel(*ii, *b, p);
            [c[0] * a, c[1] * a, c[2] * a, a]
        })
        .collect();
    PremulImage::from_pixels(img.w as u32, img.h as u32, px).expect("sizes match")
}

/// One pixel of `unmix`: seen colour `ii` over background `b`, alpha at least `p`.
fn unmixed_pixel(ii: [f32; 3], b: [f32; 3], p: f32) -> (f32, [f32; 3]) {
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
    PlacedLayer {
        pixels: PremulImage::from_pixels(cw as u32, ch as u32, px).expect("sizes match"),
        x: x0 as i32,
        y: y0 as i32,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shadow relit back to its floor: a core at 3 % of the floor (a contact shadow's
    /// near-black) is filled instead, with a pixel of margin; its penumbra at half the floor is
    /// relit.
    #[test]
    fn a_near_black_shadow_core_is_filled_not_relit() {
        let (w, h) = (40usize, 20usize);
        let floor = [0.6f32, 0.45, 0.3];
        let core = Mask::from_fn(w as u32, h as u32, |x, _| (10..20).contains(&x));
        let penumbra = Mask::from_fn(w as u32, h as u32, |x, _| (20..30).contains(&x));
        let photo = Rgb {
            w,
            h,
            px: (0..w * h)
                .map(|i| {
                    let s = if core.at(i) {
                        0.03
                    } else if penumbra.at(i) {
                        0.5
                    } else {
                        1.0
                    };
                    floor.map(|v| v * s)
                })
                .collect(),
        };
        let relit =
            Relit { image: Rgb { w, h, px: vec![floor; w * h] }, region: core.union(&penumbra), model_quality: None };
        let deep = too_deep_to_relight(&photo, &relit);
        assert!(core.minus(&deep).is_empty(), "part of the core is relit");
        let relit_penumbra = penumbra.minus(&deep);
        assert_eq!(relit_penumbra.count(), 9 * h, "the penumbra is filled beyond the core's margin");
        assert!(deep.minus(&relit.region).is_empty(), "filled outside the shadow");
    }

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
        let img = Rgb {
            w,
            h,
            px: true_alpha.iter().map(|&a| [0, 1, 2].map(|c| a * orange[c] + (1.0 - a) * wall[c])).collect(),
        };
        // The matte: the soft rim at 75 % of the truth.
        let alpha = Plane { w, h, v: true_alpha.iter().map(|&a| if a < 1.0 { 0.75 * a } else { a }).collect() };
        // The fill got the wall right.
        let mut background = Rgb { w, h, px: vec![wall; w * h] };
        refine_edge_background(&img, &alpha, None, &crate::engine::stages::MembraneSpread, &mut background);
        let mut worst = 0.0f32;
        for i in 0..w * h {
            if alpha.v[i] > 0.0 && alpha.v[i] < 1.0 {
                worst = worst.max((0..3).map(|c| (background.px[i][c] - wall[c]).abs()).fold(0.0, f32::max));
            }
        }
        assert!(worst < 2.0 / 255.0, "the wall behind the rim is off by {:.1} levels", worst * 255.0);
    }
}
