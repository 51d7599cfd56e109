//! The wide generator: shadows and floors that the engine's own models do not describe — area
//! lights whose penumbra widens with distance, shadows across a material boundary, up a wall and
//! over a step, two lights, ambient occlusion at the contact, coloured bounce light, reflections
//! blurred with distance and fading with the viewing angle, dark objects on dark floors — and
//! controls: objects that cast no shadow on floors with shade or stains of their own. Detection
//! is tuned on one seed and reported on another (docs/BENCHMARKS.md).

use super::generate::{assemble, bilinear_plane, colour_object, make_floor, make_silhouette, Parts, Scene, Silhouette};
use super::{Sources, SynthCase, HEIGHT, WIDTH};
use crate::engine::Rng;
use crate::raster::{box_blur3, distance_sq_to, Mask, Rgb};

/// What a wide case varies. They cycle, so any 12 consecutive cases hold each once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Variation {
    AreaLight,
    MaterialBoundary,
    Wall,
    Step,
    TwoLights,
    Occlusion,
    BounceLight,
    BlurredReflection,
    DarkOnDark,
    ShadyFloor,
    StainBeside,
    StainAndShadow,
}

const CYCLE: [Variation; 12] = [
    Variation::AreaLight,
    Variation::ShadyFloor,
    Variation::MaterialBoundary,
    Variation::Wall,
    Variation::BlurredReflection,
    Variation::Step,
    Variation::StainBeside,
    Variation::TwoLights,
    Variation::Occlusion,
    Variation::BounceLight,
    Variation::DarkOnDark,
    Variation::StainAndShadow,
];

impl Variation {
    fn name(self) -> &'static str {
        match self {
            Variation::AreaLight => "area light",
            Variation::MaterialBoundary => "material boundary",
            Variation::Wall => "wall",
            Variation::Step => "step",
            Variation::TwoLights => "two lights",
            Variation::Occlusion => "ambient occlusion",
            Variation::BounceLight => "bounce light",
            Variation::BlurredReflection => "blurred reflection",
            Variation::DarkOnDark => "dark on dark",
            Variation::ShadyFloor => "shady floor, no shadow",
            Variation::StainBeside => "stain beside, no shadow",
            Variation::StainAndShadow => "stain and shadow",
        }
    }

    fn scene(self) -> Scene {
        match self {
            Variation::Occlusion => Scene::ContactShadow,
            Variation::BlurredReflection => Scene::Reflection,
            Variation::ShadyFloor | Variation::StainBeside => Scene::Plain,
            _ => Scene::CastShadow,
        }
    }
}

/// Keeps a wide case's random stream apart from the classic case with the same seed and index.
const WIDE_STREAM: u64 = 0x5749_4445;

/// Generate case `index` of the wide set with `seed`.
pub fn generate_wide(src: &Sources, seed: u64, index: usize) -> SynthCase {
    let mut rng = Rng::new(seed).fork(WIDE_STREAM).fork(index as u64 + 1);
    let variation = CYCLE[index % CYCLE.len()];
    let sil = make_silhouette(&mut rng);
    let object_height = 2.0 * sil.ry;
    let mut light = Light::random(&mut rng, variation);
    let surface = match variation {
        // The shadow reaches the wall at 30–80 % of the object's height.
        Variation::Wall => Surface {
            wall: Some((sil.base_y - rng.range(0.3, 0.8) * object_height * light.ky, rng.range(0.6, 1.0))),
            step: None,
        },
        Variation::Step => Surface {
            wall: None,
            step: Some(Step {
                y: sil.base_y - rng.range(0.2, 0.6) * object_height * light.ky,
                rise: rng.range(0.1, 0.3) * object_height,
                riser: rng.range(4.0, 14.0),
                shade: rng.range(0.65, 0.85),
            }),
        },
        _ => Surface::default(),
    };
    let (mut background, floor, _) = make_floor(src, &mut rng, surface.wall.map(|(y, _)| y.max(0.0) as usize));
    let mut object_rgb = colour_object(src, &sil, &mut rng);
    match variation {
        Variation::MaterialBoundary => {
            let (other, _, _) = make_floor(src, &mut rng, None);
            join_materials(&mut background, &other, &sil, &light, &mut rng);
        }
        Variation::DarkOnDark => {
            let floor_gain = rng.range(0.3, 0.5);
            let object_gain = rng.range(0.2, 0.4);
            background.px.iter_mut().for_each(|p| *p = p.map(|v| v * floor_gain));
            object_rgb.px.iter_mut().for_each(|p| *p = p.map(|v| v * object_gain));
        }
        Variation::ShadyFloor => shade_patches(&mut background, &mut rng),
        Variation::StainBeside | Variation::StainAndShadow => {
            // The stain on the side the shadow does not fall on.
            let side = if light.kx > 0.0 { -1.0 } else { 1.0 };
            stain_beside(&mut background, &sil, side, &mut rng)
        }
        _ => {}
    }
    if let Some(step) = &surface.step {
        for y in 0..HEIGHT {
            if (y as f32) < step.y && (y as f32) >= step.y - step.riser {
                for p in &mut background.px[y * WIDTH..(y + 1) * WIDTH] {
                    *p = p.map(|v| v * step.shade);
                }
            }
        }
    }
    if variation == Variation::BounceLight {
        light.bounce = Some(bounce_colour(&object_rgb, &sil));
    }
    let mut floor_fx = background.clone();
    match variation.scene() {
        Scene::CastShadow => {
            let mut darkening = light.darkening(&sil, &surface);
            if variation == Variation::TwoLights {
                let mut second = Light::random(&mut rng, variation);
                second.kx = -light.kx.signum() * rng.range(0.3, 1.2);
                let other = second.darkening(&sil, &surface);
                for (d, o) in darkening.iter_mut().zip(&other) {
                    *d = [0, 1, 2].map(|c| 1.0 - (1.0 - d[c]) * (1.0 - o[c]));
                }
            }
            let contact = contact_ellipse(&sil, rng.range(0.3, 0.5), &mut rng);
            for ((p, d), k) in floor_fx.px.iter_mut().zip(&darkening).zip(&contact) {
                *p = [0, 1, 2].map(|c| p[c] * (1.0 - d[c]) * (1.0 - k));
            }
        }
        Scene::ContactShadow => {
            let occlusion = ambient_occlusion(&sil, &mut rng);
            for (p, k) in floor_fx.px.iter_mut().zip(&occlusion) {
                *p = p.map(|v| v * (1.0 - k));
            }
        }
        Scene::Reflection => blurred_reflection(&mut floor_fx, &sil, &object_rgb, &mut rng),
        Scene::Plain => {}
    }
    assemble(
        Parts { background, floor_fx, sil, object_rgb, scene: variation.scene(), floor, variation: variation.name() },
        &mut rng,
    )
}

/// A light casting the object's shadow: the image offset of a point's shadow per unit of its
/// height (`kx`, `ky`; `ky` > 0 casts it away from the camera), how dark the shadow's core is,
/// how fast its penumbra widens with height, and a per-channel weight of the darkening (sky fill
/// makes shadows bluer; bounce light from the object tints them its colour near it).
struct Light {
    kx: f32,
    ky: f32,
    darkness: f32,
    soft: f32,
    tint: [f32; 3],
    bounce: Option<[f32; 3]>,
}

/// Where a shadow falls besides the plain floor: a wall whose bottom row is at `wall.0` (a
/// shadow climbs it at `wall.1` image rows per unit of height), or a step up.
#[derive(Default)]
struct Surface {
    wall: Option<(f32, f32)>,
    step: Option<Step>,
}

/// A step up at row `y` (its riser `riser` rows tall, shaded by `shade`), raising the floor
/// beyond it by `rise` (in the object's height units).
struct Step {
    y: f32,
    rise: f32,
    riser: f32,
    shade: f32,
}

impl Light {
    fn random(rng: &mut Rng, variation: Variation) -> Self {
        let away = matches!(variation, Variation::Wall | Variation::Step) || rng.unit() < 0.5;
        let ky = if away { rng.range(0.2, 0.45) } else { -rng.range(0.15, 0.35) };
        let kx = rng.range(-1.2, 1.2);
        let (darkness, soft) = match variation {
            // An overcast sky or a softbox: the penumbra is most of the shadow far from the contact.
            Variation::AreaLight => (rng.range(0.3, 0.6), rng.range(0.1, 0.3)),
            Variation::TwoLights => (rng.range(0.2, 0.45), rng.range(0.02, 0.1)),
            _ => (rng.range(0.3, 0.7), rng.range(0.02, 0.1)),
        };
        let tint = if rng.unit() < 0.5 { [1.0, 0.95, rng.range(0.7, 0.9)] } else { [1.0, 1.0, 1.0] };
        Self { kx, ky, darkness, soft, tint, bounce: None }
    }

    /// Where each floor pixel's shadow ray meets the object: the height of the object point it
    /// sees and that point's horizontal offset, or `None` where no point of the object casts here.
    fn source(&self, y: f32, base_y: f32, surface: &Surface) -> Option<(f32, f32)> {
        let on_floor = |y: f32| (base_y - y) / self.ky;
        let height = match (&surface.wall, &surface.step) {
            (&Some((wall_y, climb)), _) if self.ky > 0.0 && y < wall_y => {
                let at_wall = on_floor(wall_y);
                let height = at_wall + (wall_y - y) / climb;
                // On the wall the shadow rises almost straight up.
                return Some((height, at_wall * self.kx + (height - at_wall) * self.kx * 0.3));
            }
            (_, Some(step)) if self.ky > 0.0 && y < step.y => {
                if y >= step.y - step.riser {
                    on_floor(step.y) + step.rise * (step.y - y) / step.riser
                } else {
                    on_floor(y + step.riser) + step.rise
                }
            }
            _ => on_floor(y),
        };
        (height >= 0.0).then_some((height, height * self.kx))
    }

    /// The shadow's darkening of each pixel, per channel: the silhouette projected onto the
    /// floor (and wall, and step), its penumbra widening with the height of the casting point.
    fn darkening(&self, sil: &Silhouette, surface: &Surface) -> Vec<[f32; 3]> {
        let (w, h) = (WIDTH, HEIGHT);
        let mut hard = vec![0.0f32; w * h];
        let mut height = vec![0.0f32; w * h];
        for y in 0..h {
            let Some((hgt, shift)) = self.source(y as f32, sil.base_y, surface) else { continue };
            for x in 0..w {
                hard[y * w + x] = bilinear_plane(&sil.alpha, w, h, x as f32 - shift, sil.base_y - hgt);
                height[y * w + x] = hgt;
            }
        }
        let radii = [1usize, 3, 6, 12, 24, 40];
        let levels: Vec<Vec<f32>> = radii.iter().map(|&r| box_blur3(&hard, w, h, r)).collect();
        let near = self.bounce.map(|_| distance_sq_to(&solid(sil), true));
        (0..w * h)
            .map(|i| {
                let want = (1.0 + height[i] * self.soft).min(radii[radii.len() - 1] as f32);
                let k = radii.iter().position(|&r| want <= r as f32).unwrap_or(radii.len() - 1).max(1);
                let (r0, r1) = (radii[k - 1] as f32, radii[k] as f32);
                let t = ((want - r0) / (r1 - r0)).clamp(0.0, 1.0);
                let s = levels[k - 1][i] * (1.0 - t) + levels[k][i] * t;
                let mut tint = self.tint;
                if let (Some(colour), Some(near)) = (self.bounce, &near) {
                    let reach = (-near[i].sqrt() / 40.0).exp();
                    tint = [0, 1, 2].map(|c| tint[c] * (1.0 - 0.4 * colour[c] * reach));
                }
                tint.map(|t| s * self.darkness * t)
            })
            .collect()
    }
}

fn solid(sil: &Silhouette) -> Mask {
    Mask::from_bytes(WIDTH as u32, HEIGHT as u32, sil.alpha.iter().map(|&a| (a > 0.5) as u8).collect())
        .expect("sizes match")
}

/// The object's mean colour, its brightest channel 1: the colour its bounce light carries.
fn bounce_colour(object_rgb: &Rgb, sil: &Silhouette) -> [f32; 3] {
    let mut sum = [0.0f32; 3];
    for (p, &a) in object_rgb.px.iter().zip(&sil.alpha) {
        for c in 0..3 {
            sum[c] += p[c] * a;
        }
    }
    let top = sum.iter().cloned().fold(1e-6, f32::max);
    sum.map(|v| v / top)
}

/// A soft dark ellipse along the contact line, `strength` dark at its middle.
fn contact_ellipse(sil: &Silhouette, strength: f32, rng: &mut Rng) -> Vec<f32> {
    let (w, h) = (WIDTH, HEIGHT);
    let (half_w, half_h) = (sil.rx * rng.range(0.7, 1.0), rng.range(4.0, 10.0));
    let disc: Vec<f32> = (0..w * h)
        .map(|i| {
            let (dx, dy) = (((i % w) as f32 - sil.cx) / half_w, ((i / w) as f32 - sil.base_y) / half_h);
            (dx * dx + dy * dy <= 1.0) as u8 as f32
        })
        .collect();
    box_blur3(&disc, w, h, 3).into_iter().map(|v| v * strength).collect()
}

/// Ambient occlusion where the object meets the floor: darkening falling off exponentially with
/// the distance from the object, on the floor around its lower part only.
fn ambient_occlusion(sil: &Silhouette, rng: &mut Rng) -> Vec<f32> {
    let (strength, reach) = (rng.range(0.35, 0.7), rng.range(4.0, 20.0));
    let dist = distance_sq_to(&solid(sil), true);
    let floor_from = sil.base_y - 0.3 * sil.ry;
    (0..WIDTH * HEIGHT)
        .map(|i| {
            let y = (i / WIDTH) as f32;
            // Fades in over a few rows above the floor line so no horizontal edge is drawn.
            let on_floor = ((y - floor_from) / (0.2 * sil.ry)).clamp(0.0, 1.0);
            strength * (-dist[i].sqrt() / reach).exp() * on_floor * (sil.alpha[i] < 1.0) as u8 as f32
        })
        .collect()
}

/// Two floors meeting along a straight line across the object's shadow.
fn join_materials(floor: &mut Rgb, other: &Rgb, sil: &Silhouette, light: &Light, rng: &mut Rng) {
    let angle = rng.range(0.0, std::f32::consts::PI);
    let (nx, ny) = (angle.cos(), angle.sin());
    let height = rng.range(0.2, 0.8) * 2.0 * sil.ry;
    let (px, py) = (sil.cx + height * light.kx, sil.base_y - height * light.ky);
    for (i, p) in floor.px.iter_mut().enumerate() {
        let d = ((i % WIDTH) as f32 - px) * nx + ((i / WIDTH) as f32 - py) * ny;
        let t = (d + 0.5).clamp(0.0, 1.0);
        *p = [0, 1, 2].map(|c| p[c] * (1.0 - t) + other.px[i][c] * t);
    }
}

/// Soft shade from things outside the picture (foliage, a lamp post): neutral darkening that
/// looks like a shadow but is not the object's.
fn shade_patches(floor: &mut Rgb, rng: &mut Rng) {
    let (w, h) = (WIDTH, HEIGHT);
    let mut cover = vec![0.0f32; w * h];
    for _ in 0..(6 + rng.below(7)) {
        let (cx, cy) = (rng.range(0.0, w as f32), rng.range(0.0, h as f32));
        let (rx, ry) = (rng.range(30.0, 150.0), rng.range(20.0, 100.0));
        for (i, c) in cover.iter_mut().enumerate() {
            let (dx, dy) = (((i % w) as f32 - cx) / rx, ((i / w) as f32 - cy) / ry);
            if dx * dx + dy * dy <= 1.0 {
                *c = 1.0;
            }
        }
    }
    let cover = box_blur3(&cover, w, h, rng.range(4.0, 16.0) as usize);
    let darkness = rng.range(0.25, 0.5);
    for (p, c) in floor.px.iter_mut().zip(&cover) {
        *p = p.map(|v| v * (1.0 - darkness * c));
    }
}

/// A dark stain (wet patch, oil, rust) touching the object's foot on one side: part of the
/// floor, not the object's effect.
fn stain_beside(floor: &mut Rgb, sil: &Silhouette, side: f32, rng: &mut Rng) {
    let (w, h) = (WIDTH, HEIGHT);
    let (rx, ry) = (sil.rx * rng.range(0.4, 0.9), rng.range(10.0, 30.0));
    let (cx, cy) = (sil.cx + side * (sil.rx * 0.8 + rx * 0.7), sil.base_y + rng.range(-0.5, 0.5) * ry);
    let wobble: Vec<(f32, f32)> =
        (2..5).map(|_| (rng.range(0.0, 0.15), rng.range(0.0, std::f32::consts::TAU))).collect();
    let mut cover = vec![0.0f32; w * h];
    for (i, c) in cover.iter_mut().enumerate() {
        let (dx, dy) = (((i % w) as f32 - cx) / rx, ((i / w) as f32 - cy) / ry);
        let th = dy.atan2(dx);
        let r = 1.0 + wobble.iter().enumerate().map(|(k, (a, p))| a * ((k as f32 + 2.0) * th + p).cos()).sum::<f32>();
        *c = (dx * dx + dy * dy <= r * r) as u8 as f32;
    }
    let cover = box_blur3(&cover, w, h, 2);
    let darkness = rng.range(0.3, 0.6);
    // Half the stains change the floor's colour too (rust, oil's sheen), half only darken it.
    let tint = if rng.unit() < 0.5 { [0.8, 1.0, 1.2] } else { [1.0, 1.0, 1.0] };
    for (p, c) in floor.px.iter_mut().zip(&cover) {
        *p = [0, 1, 2].map(|k| (p[k] * (1.0 - darkness * c * tint[k])).clamp(0.0, 1.0));
    }
}

/// The object mirrored below its contact line: blurred more the farther from the contact (a
/// glossy, not mirror-flat, floor) and weaker towards the bottom of the picture, where the floor
/// is seen from above (Fresnel: a surface reflects more at grazing angles).
fn blurred_reflection(floor: &mut Rgb, sil: &Silhouette, object_rgb: &Rgb, rng: &mut Rng) {
    let (w, h) = (WIDTH, HEIGHT);
    let strength = rng.range(0.3, 0.6);
    let fade = sil.ry * rng.range(0.6, 1.4);
    let gloss = rng.range(0.03, 0.15);
    let mut alpha = vec![0.0f32; w * h];
    let mut premul = [vec![0.0f32; w * h], vec![0.0f32; w * h], vec![0.0f32; w * h]];
    for y in (sil.base_y as usize)..h {
        let src_y = 2.0 * sil.base_y - y as f32;
        let sy = src_y.round().clamp(0.0, (h - 1) as f32) as usize;
        let grazing = ((h as f32 - y as f32) / (h as f32 - sil.base_y).max(1.0)).clamp(0.0, 1.0);
        let f = (-(y as f32 - sil.base_y) / fade).exp() * strength * (0.35 + 0.65 * grazing);
        for x in 0..w {
            let a = bilinear_plane(&sil.alpha, w, h, x as f32, src_y) * f;
            alpha[y * w + x] = a;
            for (c, plane) in premul.iter_mut().enumerate() {
                plane[y * w + x] = a * object_rgb.px[sy * w + x][c] * 0.9;
            }
        }
    }
    let radii = [1usize, 3, 6, 12];
    let levels: Vec<(Vec<f32>, [Vec<f32>; 3])> =
        radii.iter().map(|&r| (box_blur3(&alpha, w, h, r), premul.clone().map(|p| box_blur3(&p, w, h, r)))).collect();
    for (i, px) in floor.px.iter_mut().enumerate() {
        let d = ((i / w) as f32 - sil.base_y).max(0.0);
        let want = (1.0 + d * gloss).min(12.0);
        let k = radii.iter().position(|&r| want <= r as f32).unwrap_or(radii.len() - 1);
        let (a, p) = (&levels[k].0, &levels[k].1);
        *px = [0, 1, 2].map(|c| p[c][i] + (1.0 - a[i]) * px[c]);
    }
}
