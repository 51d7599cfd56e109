//! Visual effects of the object: find the shadows it casts from an object-only brush, and take
//! them out of the background by *relighting* (the floor under a shadow is seen, only darker),
//! not by inpainting.
//!
//! A shadow multiplies the surface by a smooth factor `s` per channel: `I = s·B`. Detection looks
//! for regions next to the object that are darker than the lit surface around them (a grey-scale
//! closing of the smoothed log-luminance estimates the lit level), with the surface's own
//! chromaticity. Relighting estimates the lit log-colour inside the region as a membrane (the
//! harmonic interpolation of the log-colour around it) and averages the photo's deficit below
//! it over a window stretched along the shadow's edges, so `s` is smooth where the shadow is and
//! sharp where its edge is, and `B = I / s` keeps the floor's texture. The shadow layer is then
//! what unmixing `I` over `B` gives: black-ish with alpha `1 − s`.

mod coarse;
mod detect;
mod lit_level;
mod membrane;
mod projection;
mod relight;

pub use detect::{detect_shadows, EffectParams};
pub(crate) use membrane::membrane_from_rim;
#[cfg(test)]
pub use relight::{relight, relight_every};
pub use relight::{relight_cancellable, Relit};

/// Added to colours before taking logarithms, so black stays finite.
const EPS: f32 = 0.01;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::{Mask, Rgb};

    /// The mean absolute difference of `a` from `b` over `region`, per channel.
    fn mean_abs_error(a: &Rgb, b: &Rgb, region: &Mask) -> f32 {
        (0..a.px.len())
            .filter(|&i| region.at(i))
            .map(|i| (0..3).map(|c| (a.px[i][c] - b.px[i][c]).abs()).sum::<f32>() / 3.0)
            .sum::<f32>()
            / region.count() as f32
    }

    /// A textured floor, a dark object, and its shadow darkening the floor by 50 %.
    fn scene() -> (Rgb, Rgb, Mask, Mask) {
        scene_at(1)
    }

    /// `scene` photographed `k` times larger (the floor's texture as fine in pixels).
    fn scene_at(k: usize) -> (Rgb, Rgb, Mask, Mask) {
        let (w, h) = (200 * k, 150 * k);
        let kf = k as f32;
        let mut floor = Rgb::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let t = 0.05 * ((x as f32 * 0.7).sin() * (y as f32 * 0.9).cos());
                floor.px[y * w + x] = [0.7 + t, 0.6 + t, 0.45 + t];
            }
        }
        let object = Mask::from_fn(w as u32, h as u32, |x, y| {
            (x as f32 / kf - 80.0).powi(2) + (y as f32 / kf - 70.0).powi(2) < 20.0 * 20.0
        });
        let shadow = Mask::from_fn(w as u32, h as u32, |x, y| {
            let (dx, dy) = ((x as f32 / kf - 115.0) / 30.0, (y as f32 / kf - 85.0) / 10.0);
            dx * dx + dy * dy < 1.0
        })
        .minus(&object);
        let mut img = floor.clone();
        for i in 0..w * h {
            if shadow.at(i) {
                img.px[i] = img.px[i].map(|v| v * 0.5);
            }
            if object.at(i) {
                img.px[i] = [0.2, 0.3, 0.8];
            }
        }
        (img, floor, object, shadow)
    }

    #[test]
    fn finds_and_relights_a_shadow_keeping_texture() {
        let (img, floor, object, shadow) = scene();
        let grown = object.dilate(2.0);
        let (region, conf) = detect_shadows(&img, &grown, &EffectParams::default()).expect("a shadow");
        let hit = (0..img.px.len()).filter(|&i| shadow.at(i) && region.at(i)).count();
        assert!(hit as f32 > 0.9 * shadow.count() as f32, "found {hit} of {}", shadow.count());
        // Beyond the intended growth for the penumbra's tail (2 + 3 px), the region may take in a
        // few texture valleys next to the shadow (relit by s ≈ 1, so harmless); it must stay a
        // small fraction of the image.
        let false_pos = (0..img.px.len()).filter(|&i| region.at(i) && !shadow.dilate(7.0).at(i)).count();
        assert!(false_pos < 300, "{false_pos} false positives");
        assert!(conf > 0.5, "{conf}");
        let relit = relight(&img, &region, &grown, &object);
        // Inside the shadow (away from its edge) the floor comes back, texture included.
        let err = mean_abs_error(&relit, &floor, &shadow.erode(3.0));
        // A hard-edged shadow on a high-frequency texture: the floor comes back to within a
        // small fraction of a level on average (0.00097 with the oriented average, 0.00045 with
        // the bilateral one alone; a plain local mean of the photo's deficit gave 0.0021,
        // flattening the texture inside the shadow; the oriented window without a level weight
        // crossed this thin shadow's edges and gave 0.033).
        assert!(err < 0.0015, "mean error {err}");
    }

    #[test]
    fn a_shadow_relit_on_a_coarser_grid_keeps_the_floor_texture() {
        // What a large photo gets: the shading estimated every second pixel and interpolated
        // back, the photo divided by it at full size.
        let (img, floor, object, shadow) = scene_at(2);
        let relit = relight_every(&img, &shadow.dilate(6.0), &object.dilate(4.0), &object, 2);
        let err = mean_abs_error(&relit, &floor, &shadow.erode(6.0));
        // Full size: under 0.0015 (the test above); half the grid may cost a little more.
        assert!(err < 0.004, "mean error {err}");
    }

    #[test]
    fn a_warm_patch_in_the_region_is_not_taken_for_shading() {
        // A brown leaf lying on the floor beside the shadow, inside the region to relight (as if
        // detection had taken it): no shadow turns a beige floor brown, so it keeps its colour,
        // and the shadow's floor still comes back.
        let (mut img, floor, object, shadow) = scene();
        let leaf = Mask::from_fn(200, 150, |x, y| (138..162).contains(&x) && (84..104).contains(&y))
            .minus(&shadow.dilate(3.0));
        for i in 0..img.px.len() {
            if leaf.at(i) {
                img.px[i] = [0.45, 0.28, 0.15];
            }
        }
        let grown = object.dilate(2.0);
        let relit = relight(&img, &shadow.dilate(2.0).union(&leaf), &grown, &object);
        let leaf_err = mean_abs_error(&relit, &img, &leaf);
        assert!(leaf_err < 0.02, "the leaf changed by {leaf_err}");
        let floor_err = mean_abs_error(&relit, &floor, &shadow.erode(3.0));
        assert!(floor_err < 0.005, "the floor under the shadow is off by {floor_err}");
    }

    #[test]
    fn a_dark_stain_inside_the_shadow_stays_a_stain() {
        // A neutral stain of a third of the floor's brightness lying in the shadow: nothing
        // tells its colour from shading, but no shadow is deeper than its own umbra, so the
        // stain is relit with the umbra's shading and comes back a stain, not floor.
        let (mut img, mut floor, object, shadow) = scene();
        let stain = Mask::from_fn(200, 150, |x, y| (x as f32 - 118.0).powi(2) + (y as f32 - 86.0).powi(2) < 25.0);
        for i in 0..img.px.len() {
            if stain.at(i) {
                floor.px[i] = floor.px[i].map(|v| v / 3.0);
                img.px[i] = img.px[i].map(|v| v / 3.0);
            }
        }
        let grown = object.dilate(2.0);
        let relit = relight(&img, &shadow.dilate(2.0), &grown, &object);
        let stain_err = mean_abs_error(&relit, &floor, &stain.erode(1.0));
        assert!(stain_err < 0.05, "the stain came back off by {stain_err}");
        let floor_err = mean_abs_error(&relit, &floor, &shadow.erode(3.0).minus(&stain.dilate(6.0)));
        assert!(floor_err < 0.01, "the floor under the shadow is off by {floor_err}");
    }

    #[test]
    fn no_shadow_no_detection() {
        let (_, floor, object, _) = scene();
        let mut img = floor.clone();
        for i in 0..img.px.len() {
            if object.at(i) {
                img.px[i] = [0.2, 0.3, 0.8];
            }
        }
        assert!(detect_shadows(&img, &object.dilate(2.0), &EffectParams::default()).is_none());
    }
}
