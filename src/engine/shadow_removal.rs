//! A brushed shadow taken out of a photo on its own, with no object: the region is relit (the
//! surface under a shadow is seen, only darker) and the shadow becomes its own Multiply layer,
//! so that the layer over the clean background gives the photo back.

use crate::document::{BlendMode, EffectKind, LayerId, LayerKind, LayerStack, NewLayer, PremulImage};
use crate::raster::{Mask, Rgb};

use super::decompose::check_image_and_brush;
use super::request::{CancelToken, EngineError};
use super::stages::Stages;

/// A shadow taken out: the photo without it, and the shadow as a layer.
#[derive(Clone, Debug)]
pub struct ShadowRemoval {
    /// The photo with the brushed shadow relit, full canvas, opaque.
    pub background: PremulImage,
    /// The shadow, full canvas, to be drawn with `BlendMode::Multiply` over the background:
    /// its colour is the shading, its alpha how much of it there is (0 where the photo is
    /// unchanged), so lowering its opacity lightens the shadow.
    pub shadow: PremulImage,
    /// The brushed region's mean brightening factor over the pixels relighting changed.
    pub gain: f32,
}

impl ShadowRemoval {
    /// The layers as a document: the background, the shadow above it (Multiply).
    pub fn to_layer_stack(&self) -> LayerStack {
        let mut stack = LayerStack::from_background(self.background.clone());
        self.clone().add_layer_to(&mut stack, 0, "Shadow");
        stack
    }

    /// Insert the shadow layer (Multiply) named `name` just above stack position `above`; the
    /// background is the caller's to place. Returns the layer's id.
    pub fn add_layer_to(self, stack: &mut LayerStack, above: usize, name: &str) -> LayerId {
        let layer =
            NewLayer::new(name, self.shadow).kind(LayerKind::Effect(EffectKind::Shadow)).blend(BlendMode::Multiply);
        let id = stack.push(layer);
        stack.reorder(id, above + 1);
        id
    }
}

/// Take the shadow brushed in `brush` out of `image`. The brush may be loose (lit surface around
/// the shadow is left as it is) and may cover any share of the photo, as long as some lit surface
/// borders it. Fails with `EngineError::NotAShadow` when relighting brightens nothing.
pub fn remove_shadow(
    stages: &Stages,
    image: &PremulImage,
    brush: &Mask,
    cancel: &CancelToken,
) -> Result<ShadowRemoval, EngineError> {
    check_image_and_brush(image, "shadow", brush)?;
    let (w, h) = (image.width(), image.height());
    if brush.is_empty() {
        return Err(EngineError::EmptyEffectMask);
    }
    if brush.count() == (w * h) as usize {
        return Err(EngineError::MaskCoversImage);
    }
    let img = Rgb::from_premul(image);
    let nothing = Mask::new(w, h);
    let relit = stages.shadows.relight(&img, brush, &nothing, &nothing, false, &|| cancel.is_cancelled())?;
    let gain = relit.brightening(&img).filter(|&g| g > 1.02).ok_or(EngineError::NotAShadow)? as f32;
    let shadow = multiply_layer(&img, &relit.image);
    Ok(ShadowRemoval { background: relit.image.to_premul(), shadow, gain })
}

/// The layer that, multiplied over `background`, gives `photo` back: per channel the shading
/// `s = photo / background` (at most 1); alpha `a = max(1 − s)` and colour `1 − (1 − s) / a`,
/// since Multiply gives `B·(1 − a + a·C) = B·s`.
fn multiply_layer(photo: &Rgb, background: &Rgb) -> PremulImage {
    let mut out = PremulImage::new(photo.w as u32, photo.h as u32);
    for (i, (p, b)) in photo.px.iter().zip(&background.px).enumerate() {
        let s = [0, 1, 2].map(|c| if b[c] > 1e-4 { (p[c] / b[c]).clamp(0.0, 1.0) } else { 1.0 });
        let a = s.iter().map(|v| 1.0 - v).fold(0.0f32, f32::max);
        if a > 1e-4 {
            let colour = s.map(|v| 1.0 - (1.0 - v) / a);
            out.set((i % photo.w) as u32, (i / photo.w) as u32, [colour[0] * a, colour[1] * a, colour[2] * a, a]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compositor::{composite_onto, Placed};
    use crate::engine::Quality;
    use std::borrow::Cow;

    /// A textured floor with a soft-edged shadow darkening it to 45 %, covering more than half
    /// of the photo, and a loose brush over it.
    fn scene() -> (Rgb, Rgb, Mask) {
        let (w, h) = (160, 120);
        let mut floor = Rgb::new(w, h);
        let mut photo = Rgb::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let t = 0.06 * ((x as f32 * 0.9).sin() * (y as f32 * 0.7).cos());
                let f = [0.62 + t, 0.55 + t, 0.42 + t];
                // Shadow over x < 100, with an 8 px penumbra.
                let s = 1.0 - 0.55 * ((100.0 - x as f32) / 8.0 + 0.5).clamp(0.0, 1.0);
                floor.px[y * w + x] = f;
                photo.px[y * w + x] = f.map(|v| v * s);
            }
        }
        let brush = Mask::from_fn(w as u32, h as u32, |x, _| x < 116);
        (photo, floor, brush)
    }

    #[test]
    fn a_shadow_over_most_of_the_photo_is_relit_and_recomposes() {
        let (photo, floor, brush) = scene();
        let stages = Stages::classical(Quality::Balanced);
        let out = remove_shadow(&stages, &photo.to_premul(), &brush, &CancelToken::new()).expect("removed");
        let bg = Rgb::from_premul(&out.background);
        let err = |a: &Rgb, b: &Rgb, x0: usize, x1: usize| {
            let mut e = 0.0f32;
            for y in 0..a.h {
                for x in x0..x1 {
                    e += (0..3).map(|c| (a.at(x, y)[c] - b.at(x, y)[c]).abs()).sum::<f32>();
                }
            }
            e / (3 * a.h * (x1 - x0)) as f32
        };
        let before = err(&photo, &floor, 0, 90);
        let after = err(&bg, &floor, 0, 90);
        assert!(after < 0.03 && after < before / 5.0, "umbra off by {after} (photo {before})");
        assert!(err(&bg, &floor, 92, 108) < 0.05, "the penumbra comes back too");
        assert!(err(&bg, &photo, 120, 160) < 1e-6, "lit floor beyond the brush is untouched");
        assert!(out.gain > 1.5, "gain {}", out.gain);
        // The Multiply layer over the background gives the photo back.
        let mut canvas = out.background.clone();
        composite_onto(
            &mut canvas,
            &Placed { x: 0, y: 0, pixels: Cow::Borrowed(&out.shadow) },
            1.0,
            BlendMode::Multiply,
        );
        assert!(err(&Rgb::from_premul(&canvas), &photo, 0, 160) < 2e-3, "recomposes the photo");
    }

    #[test]
    fn a_brushed_patch_brighter_than_its_floor_is_not_a_shadow() {
        // A sunlit patch brushed by mistake: everything in it is above the lit level around it,
        // so there is no umbra to measure; it is refused, not relit (and nothing panics).
        let (_, floor, brush) = scene();
        let patch = brush.intersect(&Mask::from_fn(160, 120, |x, y| x > 30 && x < 90 && y > 30 && y < 90));
        let mut photo = floor.clone();
        for i in 0..photo.px.len() {
            if patch.at(i) {
                photo.px[i] = photo.px[i].map(|v| (v * 1.5).min(1.0));
            }
        }
        let stages = Stages::classical(Quality::Balanced);
        let got = remove_shadow(&stages, &photo.to_premul(), &patch, &CancelToken::new());
        assert!(matches!(got, Err(EngineError::NotAShadow)), "{got:?}");
    }

    #[test]
    fn a_brushed_patch_of_plain_floor_is_not_a_shadow() {
        let (_, floor, brush) = scene();
        let stages = Stages::classical(Quality::Balanced);
        let brush = brush.intersect(&Mask::from_fn(160, 120, |x, y| x > 40 && y > 30 && y < 90));
        let got = remove_shadow(&stages, &floor.to_premul(), &brush, &CancelToken::new());
        assert!(matches!(got, Err(EngineError::NotAShadow)), "{got:?}");
    }
}
