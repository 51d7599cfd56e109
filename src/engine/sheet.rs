//! Contact sheets for looking at a decomposition the way a person would: input with the brush |
//! background | foreground on a checkerboard | the object moved and re-composited.

use crate::compositor::{composite_onto, flatten, Placed};
use crate::document::{BlendMode, LayerStack, NewLayer, PremulImage, Transform};

use super::Decomposition;
use crate::raster::Mask;

/// A 2×2 sheet at `scale` of the input size. `shift` moves the object (and its effects) in the
/// last panel, in input pixels.
pub fn contact_sheet(
    input: &PremulImage,
    brush: &Mask,
    d: &Decomposition,
    shift: (f32, f32),
    scale: f32,
) -> PremulImage {
    let (w, h) = (input.width(), input.height());
    // Panel 1: input with the brush tinted red.
    let mut tinted = input.clone();
    for (i, p) in tinted.pixels_mut().iter_mut().enumerate() {
        if brush.at(i) {
            *p = [0.55 * p[0] + 0.45, 0.55 * p[1], 0.55 * p[2], 1.0];
        }
    }
    // Panel 3: foreground over a checkerboard.
    let mut checker = PremulImage::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let v = if (x / 16 + y / 16) % 2 == 0 { 0.8 } else { 0.6 };
            checker.set(x, y, [v, v, v, 1.0]);
        }
    }
    let fg = Placed { x: 0, y: 0, pixels: std::borrow::Cow::Borrowed(&d.foreground) };
    composite_onto(&mut checker, &fg, 1.0, BlendMode::Normal);
    // Panel 4: the object group moved.
    let mut stack = d.to_layer_stack();
    if let Some(obj) = stack.layers().iter().find(|l| l.kind == crate::document::LayerKind::Object).map(|l| l.id) {
        stack.translate_group(obj, shift.0, shift.1);
    }
    let moved = flatten(&stack);

    let (pw, ph) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
    let mut sheet = LayerStack::new(pw * 2 + 6, ph * 2 + 6);
    sheet.push(NewLayer::new("bg", PremulImage::filled(pw * 2 + 6, ph * 2 + 6, [1.0, 1.0, 1.0, 1.0])));
    for (k, panel) in [tinted, d.background.clone(), checker, moved].into_iter().enumerate() {
        let (px, py) = ((k as u32 % 2) * (pw + 6), (k as u32 / 2) * (ph + 6));
        sheet.push(NewLayer::new("panel", panel).transform(Transform {
            x: px as f32,
            y: py as f32,
            scale_x: pw as f32 / w as f32,
            scale_y: ph as f32 / h as f32,
        }));
    }
    flatten(&sheet)
}
