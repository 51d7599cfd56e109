//! The frame's draw list: for each visible tile of each layer (and of each brushed mask, and the
//! checkerboard behind transparency), which pipeline draws it and the uniforms it draws with.

use std::collections::HashMap;

use super::scene::Scene;
use super::tiles::Cached;
use crate::document::BlendMode;

/// Side of the checkerboard's squares, in target pixels.
const CHECKER_PX: f32 = 8.0;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Pass {
    Normal,
    MultiplyScale,
    MultiplyAdd,
    Checker,
}

/// One draw: a tile of a cached texture through a pass, with its slot in the uniform buffer.
pub(super) struct DrawCmd {
    pub pass: Pass,
    pub key: u64,
    pub tile: usize,
    pub nearest: bool,
    pub uniform: u32,
}

/// The draws of `scene` over the textures in `cache`, with one uniform block each.
pub(super) fn build(scene: &Scene, cache: &HashMap<u64, Cached>) -> (Vec<DrawCmd>, Vec<[f32; 24]>) {
    let mut draws = Vec::new();
    let v = scene.view;
    let (tw, th) = (v.target[0].max(1) as f32, v.target[1].max(1) as f32);
    // Canvas pixel → normalised device coordinates.
    let to_ndc = |p: [f32; 2]| [p[0] / tw * 2.0 - 1.0, 1.0 - p[1] / th * 2.0];
    let ndc = |cx: f32, cy: f32| to_ndc([v.offset[0] + cx * v.zoom, v.offset[1] + cy * v.zoom]);
    let visible = |a: [f32; 2], b: [f32; 2]| a[0] < 1.0 && b[0] > -1.0 && a[1] > -1.0 && b[1] < 1.0;
    let mut uniforms: Vec<[f32; 24]> = Vec::new();
    let mut push = |draws: &mut Vec<DrawCmd>, pass, key, tile, nearest, u: [f32; 24]| {
        draws.push(DrawCmd { pass, key, tile, nearest, uniform: uniforms.len() as u32 });
        uniforms.push(u);
    };
    // Canvas pixel → target pixel.
    let px = |cx: f32, cy: f32| [v.offset[0] + cx * v.zoom, v.offset[1] + cy * v.zoom];
    let everything = [f32::MIN, f32::MIN, f32::MAX, f32::MAX];
    // The checkerboard only shows through transparency: skip it under an opaque, full-canvas
    // bottom layer (a photo), which saves a full-canvas pass on software renderers.
    let covered = scene.layers.first().is_some_and(|l| {
        l.transform.integer_offset() == Some((0, 0))
            && l.opacity >= 1.0
            && l.blend == BlendMode::Normal
            && (l.pixels.width(), l.pixels.height()) == (v.canvas_w, v.canvas_h)
            && cache.get(&l.key).is_some_and(|c| c.filled && c.tiles.iter().all(|t| t.opaque))
    });
    if scene.checker && !covered {
        let (a, b) = (ndc(0.0, 0.0), ndc(v.canvas_w as f32, v.canvas_h as f32));
        let e = everything;
        let u = [
            a[0], a[1], b[0], b[1], 0., 0., 1., 1., 0., 0., 0., 0., 1.0, 4.0, CHECKER_PX, 0., e[0], e[1], e[2], e[3],
            tw, th, 0., 0.,
        ];
        push(&mut draws, Pass::Checker, u64::MAX, 0, true, u);
    }
    for l in &scene.layers {
        let t = l.transform;
        let Some(cached) = cache.get(&l.key).filter(|c| c.filled) else { continue };
        // Unscaled layers seen at 100 % or closer show their exact pixels; everything else is
        // filtered (bilinear, trilinear when shrinking).
        let nearest = t.scale_x == 1.0 && t.scale_y == 1.0 && v.zoom >= 1.0;
        let (lw, lh) = (l.pixels.width(), l.pixels.height());
        let (f0, f1) = (px(t.x, t.y), px(t.x + lw as f32 * t.scale_x, t.y + lh as f32 * t.scale_y));
        for (i, tile) in cached.tiles.iter().enumerate() {
            // The quad reaches one target pixel beyond the layer's outer edges so partly
            // covered edge pixels are drawn (with their coverage); inner tile seams are not
            // widened, so no pixel is drawn twice.
            let mut a = px(t.x + tile.x as f32 * t.scale_x, t.y + tile.y as f32 * t.scale_y);
            let mut b = px(t.x + (tile.x + tile.w) as f32 * t.scale_x, t.y + (tile.y + tile.h) as f32 * t.scale_y);
            let (sx, sy) = ((b[0] - a[0]) / tile.w as f32, (b[1] - a[1]) / tile.h as f32);
            let mut uv = [0.0f32, 0.0, 1.0, 1.0];
            if tile.x == 0 {
                a[0] -= 1.0;
                uv[0] -= 1.0 / (sx * tile.w as f32);
            }
            if tile.y == 0 {
                a[1] -= 1.0;
                uv[1] -= 1.0 / (sy * tile.h as f32);
            }
            if tile.x + tile.w == lw {
                b[0] += 1.0;
                uv[2] += 1.0 / (sx * tile.w as f32);
            }
            if tile.y + tile.h == lh {
                b[1] += 1.0;
                uv[3] += 1.0 / (sy * tile.h as f32);
            }
            let (a, b) = (to_ndc(a), to_ndc(b));
            if !visible(a, b) {
                continue;
            }
            let base = [
                a[0], a[1], b[0], b[1], uv[0], uv[1], uv[2], uv[3], 0., 0., 0., 0., l.opacity, 0., 0., 0., f0[0],
                f0[1], f1[0], f1[1], tw, th, 0., 0.,
            ];
            match l.blend {
                BlendMode::Normal => push(&mut draws, Pass::Normal, l.key, i, nearest, base),
                BlendMode::Multiply => {
                    let mut scale = base;
                    scale[13] = 1.0;
                    push(&mut draws, Pass::MultiplyScale, l.key, i, nearest, scale);
                    let mut add = base;
                    add[13] = 2.0;
                    push(&mut draws, Pass::MultiplyAdd, l.key, i, nearest, add);
                }
            }
        }
    }
    for m in &scene.masks {
        let Some(cached) = cache.get(&m.key).filter(|c| c.filled) else { continue };
        for (i, tile) in cached.tiles.iter().enumerate() {
            let a = ndc(tile.x as f32, tile.y as f32);
            let b = ndc((tile.x + tile.w) as f32, (tile.y + tile.h) as f32);
            if !visible(a, b) {
                continue;
            }
            let t = m.tint;
            let e = everything;
            let u = [
                a[0], a[1], b[0], b[1], 0., 0., 1., 1., t[0], t[1], t[2], t[3], 1.0, 3.0, 0., 0., e[0], e[1], e[2],
                e[3], tw, th, 0., 0.,
            ];
            push(&mut draws, Pass::Normal, m.key, i, v.zoom >= 1.0, u);
        }
    }
    (draws, uniforms)
}
