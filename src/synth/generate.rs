//! One case: a floor, an object with exact alpha, its effect on the floor, and two brushes.

use super::{Sources, SynthCase, HEIGHT, SCENES, WIDTH};
use crate::document::EffectKind;
use crate::engine::Rng;
use crate::raster::{box_blur3, Mask, Rgb};

/// The span of the random phases: 6.28, not τ, because every generated case depends on it.
#[allow(clippy::approx_constant)]
const PHASE_SPAN: f32 = 6.28;

pub(super) fn sample_mirror(t: &Rgb, u: f32, v: f32) -> [f32; 3] {
    let wrap = |x: f32, n: usize| -> f32 {
        let p = 2.0 * (n as f32 - 1.0);
        let m = x.rem_euclid(p);
        if m > n as f32 - 1.0 {
            p - m
        } else {
            m
        }
    };
    let (u, v) = (wrap(u, t.w), wrap(v, t.h));
    let (i, j) = (u.floor() as usize, v.floor() as usize);
    let (fu, fv) = (u - i as f32, v - j as f32);
    let (i1, j1) = ((i + 1).min(t.w - 1), (j + 1).min(t.h - 1));
    let (a, b, c, d) = (t.at(i, j), t.at(i1, j), t.at(i, j1), t.at(i1, j1));
    [0, 1, 2].map(|k| (a[k] * (1.0 - fu) + b[k] * fu) * (1.0 - fv) + (c[k] * (1.0 - fu) + d[k] * fu) * fv)
}

/// Floors: (name, texture index, tint, scale).
const FLOORS: [(&str, usize, [f32; 3], f32); 7] = [
    ("stone", 0, [0.95, 0.93, 0.9], 1.0),
    ("grass", 1, [0.55, 0.85, 0.35], 1.0),
    ("sand", 0, [1.05, 0.9, 0.68], 0.6),
    ("tiles", 2, [1.0, 0.7, 0.55], 0.8),
    ("wood", 3, [1.0, 1.0, 1.0], 1.0),
    ("carpet", 4, [0.75, 0.7, 0.95], 0.8),
    ("concrete", 5, [1.0, 1.0, 1.0], 0.8),
];

/// A floor (and its name), with a wall across its top part in some scenes (or at `force_wall`):
/// the wall's bottom row is returned.
pub(super) fn make_floor(
    src: &Sources,
    rng: &mut Rng,
    force_wall: Option<usize>,
) -> (Rgb, &'static str, Option<usize>) {
    let (name, ti, tint, base_scale) = FLOORS[rng.below(FLOORS.len())];
    let tex = &src.textures[ti].1;
    let (w, h) = (WIDTH, HEIGHT);
    // A gentle perspective: the horizon above the image, texture finer towards the top.
    let horizon = -(h as f32) * rng.range(0.6, 2.0);
    let s0 = base_scale * rng.range(0.7, 1.1);
    let (u0, v0) = (rng.range(0.0, 500.0), rng.range(0.0, 500.0));
    let angle = rng.range(-0.3, 0.3);
    let (ca, sa) = (angle.cos(), angle.sin());
    let brightness = rng.range(0.85, 1.1);
    // Some scenes have a wall: a straight horizontal structure the fill must continue.
    let drawn_wall = (rng.unit() < 0.35).then(|| (h as f32 * rng.range(0.12, 0.3)) as usize);
    let wall_at = force_wall.or(drawn_wall);
    let wall_colour = [rng.range(0.6, 0.9), rng.range(0.6, 0.85), rng.range(0.55, 0.8)];
    let mut out = Rgb::new(w, h);
    for y in 0..h {
        let depth = (h as f32 - horizon) / (y as f32 - horizon);
        for x in 0..w {
            let px = if wall_at.is_some_and(|wy| y < wy) {
                let n = sample_mirror(tex, x as f32 * 0.5 + 37.0, y as f32 * 0.5 + 91.0);
                let g = (n[0] + n[1] + n[2]) / 3.0;
                wall_colour.map(|c| c * (0.93 + 0.1 * g))
            } else {
                let (fx, fy) = ((x as f32 - w as f32 / 2.0) * depth, y as f32 * depth);
                let (u, v) = ((ca * fx - sa * fy) / s0 + u0, (sa * fx + ca * fy) / s0 + v0);
                let t = sample_mirror(tex, u, v);
                // Grey textures take the tint; colour ones are tinted gently.
                let grey = (t[0] - t[1]).abs() + (t[1] - t[2]).abs() < 0.02;
                [0, 1, 2].map(|c| {
                    (if grey { t[c] * tint[c] } else { t[c] * (0.7 + 0.3 * tint[c]) } * brightness).clamp(0.0, 1.0)
                })
            };
            out.px[y * w + x] = px;
        }
    }
    (out, name, wall_at)
}

/// A silhouette as exact coverage (4×4 supersampled), with the contact line at `base_y`.
pub(super) struct Silhouette {
    pub(super) alpha: Vec<f32>,
    pub(super) cx: f32,
    pub(super) base_y: f32,
    pub(super) rx: f32,
    pub(super) ry: f32,
    /// Whether it has a thin part (handle/antenna) a brush may miss.
    thin: bool,
}

pub(super) fn make_silhouette(rng: &mut Rng) -> Silhouette {
    let (w, h) = (WIDTH, HEIGHT);
    let ry = h as f32 * rng.range(0.12, 0.22);
    let rx = ry * rng.range(0.5, 1.3);
    let cx = w as f32 * rng.range(0.3, 0.7);
    let base_y = h as f32 * rng.range(0.55, 0.85);
    let cy = base_y - ry;
    let kind = rng.below(3);
    let harmonics: Vec<(f32, f32)> = (2..6).map(|_| (rng.range(0.0, 0.08), rng.range(0.0, PHASE_SPAN))).collect();
    let (sq, vase_f, vase_p) = (rng.range(2.5, 5.0), rng.range(1.0, 2.5), rng.range(0.0, 3.0));
    let thin = rng.unit() < 0.3;
    let (thin_x, thin_w, thin_len) = (rng.range(-0.3, 0.3), rng.range(2.0, 4.0), ry * rng.range(0.4, 0.8));
    let inside = |x: f32, y: f32| -> bool {
        let (dx, dy) = ((x - cx) / rx, (y - cy) / ry);
        let body = match kind {
            // Blob: a disc with a wobbly radius.
            0 => {
                let th = dy.atan2(dx);
                let r: f32 = 1.0
                    + harmonics
                        .iter()
                        .enumerate()
                        .map(|(k, (a, p))| a * ((k as f32 + 2.0) * th + p).cos())
                        .sum::<f32>();
                dx * dx + dy * dy <= r * r
            }
            // Rounded box (superellipse).
            1 => dx.abs().powf(sq) + dy.abs().powf(sq) <= 1.0,
            // Vase: width varies with height.
            _ => {
                let t = (dy + 1.0) / 2.0;
                (0.0..=1.0).contains(&t)
                    && dx.abs()
                        <= 0.45 + 0.4 * (std::f32::consts::PI * t * vase_f + vase_p).sin().abs() * (1.0 - 0.3 * t)
            }
        };
        // A thin antenna rising from the top.
        let antenna =
            thin && (x - (cx + thin_x * rx)).abs() <= thin_w / 2.0 && y < cy - ry * 0.6 && y > cy - ry - thin_len;
        (body || antenna) && y <= base_y
    };
    let mut alpha = vec![0.0f32; w * h];
    let x0 = (cx - rx * 1.4).max(0.0) as usize;
    let x1 = ((cx + rx * 1.4) as usize).min(w - 1);
    let y0 = (cy - ry * 1.2 - thin_len).max(0.0) as usize;
    let y1 = (base_y as usize + 1).min(h - 1);
    for y in y0..=y1 {
        for x in x0..=x1 {
            let mut n = 0;
            for sy in 0..4 {
                for sx in 0..4 {
                    if inside(x as f32 + (sx as f32 + 0.5) / 4.0, y as f32 + (sy as f32 + 0.5) / 4.0) {
                        n += 1;
                    }
                }
            }
            alpha[y * w + x] = n as f32 / 16.0;
        }
    }
    Silhouette { alpha, cx, base_y, rx, ry, thin }
}

pub(super) fn bilinear_plane(v: &[f32], w: usize, h: usize, x: f32, y: f32) -> f32 {
    if x < 0.0 || y < 0.0 || x > (w - 1) as f32 || y > (h - 1) as f32 {
        return 0.0;
    }
    let (i, j) = (x.floor() as usize, y.floor() as usize);
    let (fx, fy) = (x - i as f32, y - j as f32);
    let (i1, j1) = ((i + 1).min(w - 1), (j + 1).min(h - 1));
    (v[j * w + i] * (1.0 - fx) + v[j * w + i1] * fx) * (1.0 - fy)
        + (v[j1 * w + i] * (1.0 - fx) + v[j1 * w + i1] * fx) * fy
}

/// Generate case `index` of the set with `seed`.
pub fn generate(src: &Sources, seed: u64, index: usize) -> SynthCase {
    let mut rng = Rng::new(seed).fork(index as u64 + 1);
    // Effects cycle so any 36 consecutive cases hold ≥ 15 cast shadows, ≥ 5 reflections and
    // ≥ 4 without effect.
    let effect = [
        Scene::CastShadow,
        Scene::Reflection,
        Scene::CastShadow,
        Scene::Plain,
        Scene::CastShadow,
        Scene::ContactShadow,
    ][index % 6];
    let (background, floor, _) = make_floor(src, &mut rng, None);
    let sil = make_silhouette(&mut rng);
    let object_rgb = colour_object(src, &sil, &mut rng);
    // The floor with the object's effect on it.
    let mut floor_fx = background.clone();
    match effect {
        Scene::CastShadow | Scene::ContactShadow => {
            add_shadow(&mut floor_fx, &sil, effect == Scene::CastShadow, &mut rng)
        }
        Scene::Reflection => add_reflection(&mut floor_fx, &sil, &object_rgb, &mut rng),
        Scene::Plain => {}
    }
    assemble(Parts { background, floor_fx, sil, object_rgb, scene: effect, floor, variation: "" }, &mut rng)
}

/// What a case is made of before the truth's layers are derived from it.
pub(super) struct Parts {
    /// The clean floor (its own shading and stains included: they are not the object's).
    pub background: Rgb,
    /// The floor with the object's effect on it.
    pub floor_fx: Rgb,
    pub sil: Silhouette,
    pub object_rgb: Rgb,
    pub scene: Scene,
    pub floor: &'static str,
    pub variation: &'static str,
}

/// The case: quantised like a photo file, the effect layer the minimal-alpha unmixing of the
/// effected floor over the clean one, the object composited, and the two brushes.
pub(super) fn assemble(parts: Parts, rng: &mut Rng) -> SynthCase {
    let Parts { background, floor_fx, sil, object_rgb, scene, floor, variation } = parts;
    let (w, h) = (WIDTH, HEIGHT);
    let q = |v: f32| (v * 255.0).round().clamp(0.0, 255.0) / 255.0;
    let background = Rgb { w, h, px: background.px.iter().map(|p| p.map(q)).collect() };
    let floor_fx = Rgb { w, h, px: floor_fx.px.iter().map(|p| p.map(q)).collect() };
    let prior = crate::raster::Plane::new(w, h);
    let (effect_alpha, effect_colour) = crate::engine::unmix(&floor_fx, &background, &prior);
    let effect_rgb = Rgb { w, h, px: effect_colour };
    let input = Rgb {
        w,
        h,
        px: (0..w * h)
            .map(|i| {
                let a = sil.alpha[i];
                [0, 1, 2].map(|c| q(a * object_rgb.px[i][c] + (1.0 - a) * floor_fx.px[i][c]))
            })
            .collect(),
    };

    let (mask_object, mask_full) = brushes(&sil, &effect_alpha, rng);
    SynthCase {
        input,
        background,
        object_rgb,
        object_alpha: sil.alpha,
        effect_rgb,
        effect_alpha,
        mask_object,
        mask_full,
        effect: scene.layer_kind(),
        scene: scene.name(),
        floor,
        variation,
    }
}

/// The object's colour: a crop of a photograph, shaded like a lit dome.
pub(super) fn colour_object(src: &Sources, sil: &Silhouette, rng: &mut Rng) -> Rgb {
    let (w, h) = (WIDTH, HEIGHT);
    let (_, photo) = &src.photos[rng.below(src.photos.len())];
    let (ox, oy) = (rng.range(0.0, photo.w as f32), rng.range(0.0, photo.h as f32));
    let oscale = rng.range(0.4, 1.0);
    let light = rng.range(0.0, std::f32::consts::TAU);
    let (lx, ly) = (light.cos(), light.sin());
    let cy = sil.base_y - sil.ry;
    let mut object_rgb = Rgb::new(w, h);
    for i in 0..w * h {
        if sil.alpha[i] <= 0.0 {
            continue;
        }
        let (x, y) = ((i % w) as f32, (i / w) as f32);
        let c = sample_mirror(photo, ox + x * oscale, oy + y * oscale);
        let (nx, ny) = (((x - sil.cx) / sil.rx).clamp(-1.0, 1.0), ((y - cy) / sil.ry).clamp(-1.0, 1.0));
        let nz = (1.0 - (nx * nx + ny * ny).min(1.0)).sqrt();
        let shade = (0.55 + 0.45 * (0.5 * (nx * lx + ny * ly) + 0.7 * nz).max(0.0)).min(1.1);
        object_rgb.px[i] = c.map(|v| (v * shade).clamp(0.0, 1.0));
    }

    object_rgb
}

/// A cast shadow (the silhouette projected from the contact line by a light, softer with
/// distance) with a contact shadow, or the contact shadow alone.
fn add_shadow(floor: &mut Rgb, sil: &Silhouette, cast_shadow: bool, rng: &mut Rng) {
    let (w, h) = (WIDTH, HEIGHT);
    let mut shadow = vec![0.0f32; w * h];
    let mut height = vec![0.0f32; w * h];
    if cast_shadow {
        let ky = if rng.unit() < 0.5 { rng.range(0.15, 0.45) } else { -rng.range(0.15, 0.35) };
        let kx = rng.range(-1.2, 1.2);
        for y in 0..h {
            let hgt = (sil.base_y - y as f32) / ky;
            if hgt < 0.0 {
                continue;
            }
            for x in 0..w {
                let (sx, sy) = (x as f32 - hgt * kx, sil.base_y - hgt);
                shadow[y * w + x] = bilinear_plane(&sil.alpha, w, h, sx, sy);
                height[y * w + x] = hgt;
            }
        }
    }
    // Contact shadow: a soft dark ellipse along the contact line.
    let base_w = sil.rx * rng.range(0.7, 1.0);
    let base_h = rng.range(5.0, 12.0);
    let mut contact = vec![0.0f32; w * h];
    for y in 0..h {
        for x in 0..w {
            let (dx, dy) = ((x as f32 - sil.cx) / base_w, (y as f32 - sil.base_y) / base_h);
            contact[y * w + x] = if dx * dx + dy * dy <= 1.0 { 1.0 } else { 0.0 };
        }
    }
    let contact = box_blur3(&contact, w, h, 3);
    // Penumbra grows with the height of the shadow-casting point.
    let soft = rng.range(0.02, 0.08);
    let levels: Vec<(f32, Vec<f32>)> =
        [1usize, 3, 6, 12].iter().map(|&r| (r as f32, box_blur3(&shadow, w, h, r))).collect();
    let darkness = rng.range(0.35, 0.7);
    let tint = if rng.unit() < 0.4 { [1.0, 0.95, 0.82] } else { [1.0, 1.0, 1.0] };
    for i in 0..w * h {
        let want = 1.0 + height[i] * soft;
        let mut s = levels[levels.len() - 1].1[i];
        for k in 0..levels.len() - 1 {
            let (r0, r1) = (levels[k].0, levels[k + 1].0);
            if want <= r1 {
                let t = ((want - r0) / (r1 - r0)).clamp(0.0, 1.0);
                s = levels[k].1[i] * (1.0 - t) + levels[k + 1].1[i] * t;
                break;
            }
        }
        let cast = s * (1.0 - darkness);
        let touch = contact[i] * 0.55;
        let dark = 1.0 - (1.0 - cast) * (1.0 - touch);
        floor.px[i] = [0, 1, 2].map(|c| floor.px[i][c] * (1.0 - dark * tint[c]));
    }
}

/// The object mirrored below its contact line, fading with distance, blended over the floor.
pub(super) fn add_reflection(floor: &mut Rgb, sil: &Silhouette, object_rgb: &Rgb, rng: &mut Rng) {
    let (w, h) = (WIDTH, HEIGHT);
    let strength = rng.range(0.25, 0.5);
    let fade = sil.ry * rng.range(0.6, 1.4);
    let mut ra = vec![0.0f32; w * h];
    let mut rc = Rgb::new(w, h);
    for y in (sil.base_y as usize)..h {
        let src_y = 2.0 * sil.base_y - y as f32;
        let f = (-(y as f32 - sil.base_y) / fade).exp() * strength;
        for x in 0..w {
            let a = bilinear_plane(&sil.alpha, w, h, x as f32, src_y);
            if a > 0.0 {
                let sy = src_y.round().clamp(0.0, (h - 1) as f32) as usize;
                ra[y * w + x] = a * f;
                rc.px[y * w + x] = object_rgb.px[sy * w + x].map(|v| v * 0.9);
            }
        }
    }
    let ra = box_blur3(&ra, w, h, 1);
    for ((px, &a), r) in floor.px.iter_mut().zip(&ra).zip(&rc.px) {
        *px = [0, 1, 2].map(|c| a * r[c] + (1.0 - a) * px[c]);
    }
}

/// The two brushes: the object dilated by 4–16 px with a wobbly edge (sometimes missing thin
/// parts), and the object with its effect.
fn brushes(sil: &Silhouette, effect_alpha: &[f32], rng: &mut Rng) -> (Mask, Mask) {
    let (w, h) = (WIDTH, HEIGHT);
    let cy = sil.base_y - sil.ry;
    let solid = Mask::from_bytes(w as u32, h as u32, sil.alpha.iter().map(|&a| (a > 0.5) as u8).collect())
        .expect("sizes match");
    let core = if sil.thin && rng.unit() < 0.6 { solid.erode(3.0).dilate(3.0) } else { solid.clone() };
    let over = rng.range(4.0, 16.0);
    let wobble = rng.range(0.0, over * 0.4);
    let phase = rng.range(0.0, PHASE_SPAN);
    let dist = crate::raster::distance_sq_to(&core, true);
    let mask_object = Mask::from_fn(w as u32, h as u32, |x, y| {
        let th = (y as f32 - cy).atan2(x as f32 - sil.cx);
        let r = over + wobble * (3.0 * th + phase).sin();
        dist[(y as usize) * w + x as usize] <= r * r
    });
    let any = Mask::from_bytes(
        w as u32,
        h as u32,
        (0..w * h).map(|i| (sil.alpha[i] > 0.0 || effect_alpha[i] > 0.1) as u8).collect(),
    )
    .expect("sizes match");
    let mask_full = any.dilate(6.0).union(&mask_object);

    (mask_object, mask_full)
}

/// What the generator puts on the floor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Scene {
    CastShadow,
    ContactShadow,
    Reflection,
    Plain,
}

impl Scene {
    fn name(self) -> &'static str {
        SCENES[self as usize]
    }

    fn layer_kind(self) -> Option<EffectKind> {
        match self {
            Scene::CastShadow | Scene::ContactShadow => Some(EffectKind::Shadow),
            Scene::Reflection => Some(EffectKind::Reflection),
            Scene::Plain => None,
        }
    }
}
