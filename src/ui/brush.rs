//! Brush strokes: kept as data (samples along the pointer's path), rendered to mask pixels as
//! round dabs with tiny-skia. A stroke is one undo step; a single click paints one dab.

use image::GrayImage;
use tiny_skia::{
    Color, FillRule, GradientStop, Paint, PathBuilder, Pixmap, Point, RadialGradient, SpreadMode, Transform,
};

/// Which mask a stroke paints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaskTarget {
    Object,
    EffectAdd,
    EffectRemove,
}

/// Brush shape shared by the brush tools.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BrushSettings {
    /// Radius in canvas pixels.
    pub radius: f32,
    /// Fraction of the radius painted at full strength, in `[0, 1]`; the rest fades out.
    pub hardness: f32,
}

impl Default for BrushSettings {
    fn default() -> Self {
        Self { radius: 24.0, hardness: 0.7 }
    }
}

impl BrushSettings {
    pub const MIN_RADIUS: f32 = 1.0;
    pub const MAX_RADIUS: f32 = 1000.0;

    /// `[` / `]`: shrink or grow by about 15 %.
    pub fn step_size(&mut self, grow: bool) {
        let f = if grow { 1.15 } else { 1.0 / 1.15 };
        self.radius = (self.radius * f).clamp(Self::MIN_RADIUS, Self::MAX_RADIUS);
    }
}

/// One stroke: where the pointer went, and how it paints.
#[derive(Clone, Debug)]
pub struct Stroke {
    pub target: MaskTarget,
    /// Remove coverage instead of adding it.
    pub erase: bool,
    pub brush: BrushSettings,
    /// Pointer positions in canvas pixels.
    pub samples: Vec<[f32; 2]>,
    /// Samples already rendered into the mask (strokes render incrementally while drawn).
    rendered: usize,
}

/// A dirty rectangle in canvas pixels: `x0..x1`, `y0..y1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dirty {
    pub x0: u32,
    pub y0: u32,
    pub x1: u32,
    pub y1: u32,
}

impl Stroke {
    pub fn new(target: MaskTarget, erase: bool, brush: BrushSettings, at: [f32; 2]) -> Self {
        Self { target, erase, brush, samples: vec![at], rendered: 0 }
    }

    /// Add a pointer position (ignores sub-pixel jitter).
    pub fn extend(&mut self, at: [f32; 2]) {
        if let Some(last) = self.samples.last() {
            if (last[0] - at[0]).abs() < 0.5 && (last[1] - at[1]).abs() < 0.5 {
                return;
            }
        }
        self.samples.push(at);
    }

    /// Dab centres for the samples from `from` on, spaced a quarter radius apart so the stroke
    /// is smooth, with the first sample always dabbed (a click paints).
    fn dabs(&self, from: usize) -> Vec<[f32; 2]> {
        let spacing = (self.brush.radius * 0.25).max(0.5);
        let mut out = Vec::new();
        for i in from..self.samples.len() {
            let p = self.samples[i];
            if i == 0 {
                out.push(p);
                continue;
            }
            let q = self.samples[i - 1];
            let len = ((p[0] - q[0]).powi(2) + (p[1] - q[1]).powi(2)).sqrt();
            let n = (len / spacing).ceil().max(1.0) as usize;
            for k in 1..=n {
                let t = k as f32 / n as f32;
                out.push([q[0] + (p[0] - q[0]) * t, q[1] + (p[1] - q[1]) * t]);
            }
        }
        out
    }

    /// The dabs of the samples added since the last call.
    pub fn take_new_dabs(&mut self) -> Vec<[f32; 2]> {
        let dabs = self.dabs(self.rendered);
        self.rendered = self.samples.len();
        dabs
    }

    #[cfg(test)]
    /// Render the samples added since the last call into `mask`; returns the changed area.
    pub fn render_new(&mut self, mask: &mut GrayImage) -> Option<Dirty> {
        let dabs = self.take_new_dabs();
        let mut dirty: Option<Dirty> = None;
        for d in dabs {
            if let Some(r) = stamp(mask, d, self.brush, self.erase) {
                dirty = Some(match dirty {
                    None => r,
                    Some(a) => Dirty { x0: a.x0.min(r.x0), y0: a.y0.min(r.y0), x1: a.x1.max(r.x1), y1: a.y1.max(r.y1) },
                });
            }
        }
        dirty
    }
}

/// Paint one round dab into `mask`: coverage is raised to the dab's (painting) or lowered by it
/// (erasing), so overlapping dabs of one stroke never build up beyond the brush's profile.
pub fn stamp(mask: &mut GrayImage, center: [f32; 2], brush: BrushSettings, erase: bool) -> Option<Dirty> {
    let r = brush.radius.max(0.5);
    let (w, h) = mask.dimensions();
    let x0 = (center[0] - r - 1.0).floor().max(0.0) as i64;
    let y0 = (center[1] - r - 1.0).floor().max(0.0) as i64;
    let x1 = ((center[0] + r + 1.0).ceil() as i64).min(w as i64);
    let y1 = ((center[1] + r + 1.0).ceil() as i64).min(h as i64);
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let (pw, ph) = ((x1 - x0) as u32, (y1 - y0) as u32);
    let mut pixmap = Pixmap::new(pw, ph)?;
    let (cx, cy) = (center[0] - x0 as f32, center[1] - y0 as f32);
    let circle = PathBuilder::from_circle(cx, cy, r)?;
    let hard = brush.hardness.clamp(0.0, 1.0);
    let white = Color::from_rgba8(255, 255, 255, 255);
    let mut paint = Paint { anti_alias: true, ..Default::default() };
    if hard < 0.999 {
        let stops = vec![
            GradientStop::new(0.0, white),
            GradientStop::new(hard, white),
            GradientStop::new(1.0, Color::TRANSPARENT),
        ];
        paint.shader = RadialGradient::new(
            Point::from_xy(cx, cy),
            0.0,
            Point::from_xy(cx, cy),
            r,
            stops,
            SpreadMode::Pad,
            Transform::identity(),
        )?;
    } else {
        paint.set_color(white);
    }
    pixmap.fill_path(&circle, &paint, FillRule::Winding, Transform::identity(), None);
    let data = pixmap.data();
    for y in 0..ph {
        for x in 0..pw {
            let a = data[((y * pw + x) * 4 + 3) as usize];
            if a == 0 {
                continue;
            }
            let px = mask.get_pixel_mut(x0 as u32 + x, y0 as u32 + y);
            px.0[0] = if erase { px.0[0].min(255 - a) } else { px.0[0].max(a) };
        }
    }
    Some(Dirty { x0: x0 as u32, y0: y0 as u32, x1: x1 as u32, y1: y1 as u32 })
}

/// The engine's binary mask as full (255) coverage.
pub fn from_engine_mask(mask: &layerdecomp::raster::Mask) -> GrayImage {
    GrayImage::from_fn(mask.width(), mask.height(), |x, y| image::Luma([if mask.get(x, y) { 255 } else { 0 }]))
}

/// A mask's pixels at or above half coverage, as the engine's binary mask.
pub fn to_engine_mask(mask: &GrayImage) -> layerdecomp::raster::Mask {
    let (w, h) = mask.dimensions();
    layerdecomp::raster::Mask::from_fn(w, h, |x, y| mask.get_pixel(x, y).0[0] >= 128)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_click_paints_one_round_dab_and_the_eraser_removes_it() {
        let mut mask = GrayImage::new(100, 100);
        let brush = BrushSettings { radius: 10.0, hardness: 1.0 };
        let mut s = Stroke::new(MaskTarget::Object, false, brush, [50.0, 50.0]);
        let d = s.render_new(&mut mask).unwrap();
        assert!(d.x0 <= 40 && d.x1 >= 60);
        assert_eq!(mask.get_pixel(50, 50).0[0], 255);
        assert_eq!(mask.get_pixel(50, 58).0[0], 255);
        assert_eq!(mask.get_pixel(50, 62).0[0], 0);
        let painted = mask.pixels().filter(|p| p.0[0] >= 128).count() as f32;
        let area = std::f32::consts::PI * 100.0;
        assert!((painted - area).abs() < area * 0.05, "dab area {painted} vs {area}");
        let mut e = Stroke::new(MaskTarget::Object, true, BrushSettings { radius: 5.0, hardness: 1.0 }, [50.0, 50.0]);
        e.render_new(&mut mask);
        assert_eq!(mask.get_pixel(50, 50).0[0], 0);
        assert_eq!(mask.get_pixel(50, 58).0[0], 255);
    }

    #[test]
    fn a_drag_paints_a_continuous_band_with_a_soft_edge() {
        let mut mask = GrayImage::new(200, 60);
        let brush = BrushSettings { radius: 8.0, hardness: 0.5 };
        let mut s = Stroke::new(MaskTarget::Object, false, brush, [20.0, 30.0]);
        s.extend([180.0, 30.0]);
        s.render_new(&mut mask);
        for x in 20..=180 {
            assert_eq!(mask.get_pixel(x, 30).0[0], 255, "gap at x={x}");
        }
        // Soft edge: between the hard core (4 px) and the rim (8 px) coverage falls off.
        let mid = mask.get_pixel(100, 36).0[0];
        assert!(mid > 20 && mid < 235, "soft edge value {mid}");
        assert_eq!(mask.get_pixel(100, 40).0[0], 0);
    }
}
