//! Helpers shared by the integration tests: small documents with known pixels.

#![allow(dead_code)]

use layerdecomp::{BlendMode, EffectKind, LayerKind, LayerStack, NewLayer, PremulImage};

/// Straight-alpha 8-bit RGBA pixels from a function of (x, y).
pub fn image_from(w: u32, h: u32, f: impl Fn(u32, u32) -> [u8; 4]) -> PremulImage {
    let mut bytes = Vec::with_capacity((w * h * 4) as usize);
    for y in 0..h {
        for x in 0..w {
            bytes.extend(f(x, y));
        }
    }
    PremulImage::from_straight_rgba8(w, h, &bytes).unwrap()
}

/// The acceptance document: an opaque textured background; a soft shadow (Multiply, 60 %) at an
/// offset; an object with a soft edge; and a hidden layer on top.
pub fn three_layer_document() -> LayerStack {
    let (w, h) = (96, 64);
    let bg = image_from(w, h, |x, y| [(40 + x * 2) as u8, (200 - y * 2) as u8, ((x * 7 + y * 13) % 256) as u8, 255]);
    let mut doc = LayerStack::from_background(bg);
    let object = image_from(24, 20, |x, y| {
        let (dx, dy) = (x as f32 - 11.5, y as f32 - 9.5);
        let r = (dx * dx + dy * dy).sqrt();
        let a = ((10.0 - r) * 80.0).clamp(0.0, 255.0) as u8;
        [220, (60 + x * 5) as u8, (30 + y * 3) as u8, a]
    });
    let shadow = image_from(30, 12, |x, y| {
        let (dx, dy) = ((x as f32 - 14.5) / 15.0, (y as f32 - 5.5) / 6.0);
        let a = ((1.0 - (dx * dx + dy * dy)) * 300.0).clamp(0.0, 255.0) as u8;
        [70, 80, 100, a]
    });
    let shadow_id = doc.push(
        NewLayer::new("Shadow", shadow)
            .at(40.0, 38.0)
            .blend(BlendMode::Multiply)
            .opacity(0.6)
            .kind(LayerKind::Effect(EffectKind::Shadow)),
    );
    let object_id = doc.push(NewLayer::new("Ball", object).at(30.0, 22.0));
    doc.layer_mut(shadow_id).unwrap().linked_to = Some(object_id);
    doc.push(NewLayer::new("Hidden note", image_from(10, 10, |_, _| [0, 0, 255, 255])).at(5.0, 5.0).visible(false));
    doc
}

/// Largest per-channel difference between two 8-bit RGBA buffers.
pub fn max_diff(a: &[u8], b: &[u8]) -> u8 {
    assert_eq!(a.len(), b.len(), "buffer sizes differ");
    a.iter().zip(b).map(|(x, y)| x.abs_diff(*y)).max().unwrap_or(0)
}
