//! Object segmentation from a rough brush: GrabCut (Rother et al. 2004) — colour GMMs for object
//! and surroundings, and a graph cut with contrast-sensitive smoothness — run inside the
//! brushed region (plus a margin for thin parts the brush missed), everything farther out held
//! to "background". Large regions are segmented at reduced size; the matting stage restores
//! the full-resolution edge.

use super::gmm::Gmm;
use super::maxflow::GraphBuilder;
use super::rng::Rng;
use super::Cancelled;
use crate::raster::{Mask, Plane, Rect, Rgb};

#[derive(Clone, Debug)]
/// How the object is cut out of the brush: GrabCut's colour models and graph cut.
pub struct SegmentParams {
    /// GrabCut rounds (fit models, cut).
    pub iterations: usize,
    /// Weight of the smoothness term.
    pub gamma: f32,
    /// Components per colour model.
    pub components: usize,
    /// How far outside the brush the object may still extend (thin parts the brush missed), px.
    pub margin: f32,
    /// Segment at a reduced size when the region has more pixels than this.
    pub max_pixels: usize,
    /// Weight of an object-probability prior (a saliency network's), when the cut is given one:
    /// labelling a pixel costs this times the prior's −ln p of that label, beside the colour
    /// models' cost.
    pub prior_weight: f32,
}

impl Default for SegmentParams {
    fn default() -> Self {
        Self { iterations: 4, gamma: 50.0, components: 5, margin: 6.0, max_pixels: 300_000, prior_weight: 16.0 }
    }
}

/// The colour models a cut is made with.
#[derive(Clone)]
struct ColourModels {
    object: Gmm,
    /// The surroundings as the photo shows them.
    surroundings: Gmm,
    /// The surroundings, and also as a shadow would show them: used in the lower half of the
    /// object, where the floor it stands on lies in its shadow (see `SHADOW_FACTORS`).
    shadowed: Gmm,
}

/// Every `SHADOWED_EVERY`-th sample of the surroundings also enters the shadowed model darkened
/// by each of `SHADOW_FACTORS` in turn (in the encoded values the cut compares; a shadow scales
/// them about evenly). Without it the dark floor right under a dark object — its contact
/// shadow — matches the object's colours better than the lit floor's, and the cut hands the
/// object a strip of shadow (up to 20 px on the synth set): the shadow is then cut out and
/// inpainted instead of relit, and the shadow model's contact line sits too low.
const SHADOWED_EVERY: usize = 2;
const SHADOW_FACTORS: [f32; 3] = [0.4, 0.55, 0.7];

/// The region of interest resampled to a grid of `gw × gh` cells.
struct Grid {
    img: Rgb,
    /// May be object.
    unknown: Vec<bool>,
    /// The brush (the initial object guess).
    brush: Vec<bool>,
    /// The object probability of each cell, when the cut has a prior.
    prior: Option<Vec<f32>>,
}

/// Segment the object the brush marks. `protect` pixels are never object.
///
/// Coarse to fine: the full GrabCut runs on a small grid (≤ `max_pixels / 4` cells), then one
/// more cut at the working resolution decides only a band around the coarse boundary (a
/// "banded" graph cut), so large photos cost little more than small ones. With a `prior`, a cut
/// that keeps almost nothing of the brush gives way to the prior's own selection.
#[allow(clippy::too_many_arguments)]
pub fn segment(
    img: &Rgb,
    brush: &Mask,
    protect: Option<&Mask>,
    prior: Option<&Plane>,
    params: &SegmentParams,
    rng: &mut Rng,
    cancelled: &dyn Fn() -> bool,
) -> Result<Mask, Cancelled> {
    let (w, h) = (img.w, img.h);
    let mut unknown = brush.dilate(params.margin);
    if let Some(p) = protect {
        unknown = unknown.minus(p);
    }
    let Some(bounds) = unknown.bounds() else {
        return Ok(Mask::new(w as u32, h as u32));
    };
    // A ring of surroundings around the region supplies the background model.
    let ring = (((bounds.2 * bounds.3) as f32).sqrt() * 0.25).clamp(16.0, 64.0) as usize;
    let rect = Rect::grown(bounds, ring, w, h);
    let (x0, y0, rw, rh) = (rect.x0, rect.y0, rect.w(), rect.h());
    let region = Region { crop: img.crop(x0, y0, rw, rh), x0, y0, w, h, unknown: &unknown, brush, prior };
    let make_grid = |max_pixels: usize| region.grid(max_pixels);
    if cancelled() {
        return Err(Cancelled);
    }
    let fine = make_grid(params.max_pixels);
    if cancelled() {
        return Err(Cancelled);
    }
    let coarse = make_grid(params.max_pixels / 4);
    let (cw, ch) = (coarse.img.w, coarse.img.h);
    let (mut coarse_labels, mut models) =
        grabcut(&coarse.img, &coarse.cells(&coarse.brush, &vec![false; cw * ch]), None, params, rng, cancelled)?;
    // The brush is rough, but about equally rough all round: how far its edge typically lies
    // outside the object says how deep inside it the object must be. Small parts deeper than
    // twice that which the colour models gave away (grey coins on grey gravel, a black helmet
    // next to its dark reflection) are the object's; the cut is run again with them held.
    // A network that calls a piece background has looked at its shape, not its colour: it is
    // not taken back (on seg-davis the gaps between a walker's legs and the pram's wheels came
    // back as object: mIoU +0.004 without them).
    if let Some(mut deep) = deep_interior(&coarse.brush, &coarse_labels, cw, ch) {
        if let Some(p) = &coarse.prior {
            for i in 0..cw * ch {
                deep[i] = deep[i] && (coarse_labels[i] || p[i] >= 0.5);
            }
        }
        if (0..cw * ch).any(|i| deep[i] && !coarse_labels[i]) {
            let unknown: Vec<bool> = (0..cw * ch).map(|i| coarse.unknown[i] && !deep[i]).collect();
            let init: Vec<bool> = (0..cw * ch).map(|i| coarse_labels[i] || deep[i]).collect();
            let mut again = params.clone();
            again.iterations = 2;
            (coarse_labels, models) = grabcut(
                &coarse.img,
                &Cells { unknown: &unknown, ..coarse.cells(&init, &deep) },
                models.as_ref(),
                &again,
                rng,
                cancelled,
            )?;
        }
    }
    let (gw, gh) = (fine.img.w, fine.img.h);
    if cancelled() {
        return Err(Cancelled);
    }
    let labels = if (gw, gh) == (cw, ch) {
        coarse_labels
    } else {
        // Upsample the coarse labels; only a band around their boundary is cut again.
        let up: Vec<bool> = (0..gw * gh)
            .map(|i| {
                let (x, y) = (i % gw, i / gw);
                let cx = ((x as f32 + 0.5) / gw as f32 * cw as f32) as usize;
                let cy = ((y as f32 + 0.5) / gh as f32 * ch as f32) as usize;
                coarse_labels[cy.min(ch - 1) * cw + cx.min(cw - 1)]
            })
            .collect();
        let up_mask =
            Mask::from_bytes(gw as u32, gh as u32, up.iter().map(|&b| b as u8).collect()).expect("sizes match");
        let band_r = 3.0 * gw as f32 / cw as f32;
        let band = up_mask.dilate(band_r).minus(&up_mask.erode(band_r));
        let band_unknown: Vec<bool> = (0..gw * gh).map(|i| fine.unknown[i] && band.at(i)).collect();
        let fixed_fg: Vec<bool> = (0..gw * gh).map(|i| fine.unknown[i] && !band.at(i) && up[i]).collect();
        let mut refine = params.clone();
        refine.iterations = 1;
        let cells = Cells { unknown: &band_unknown, ..fine.cells(&up, &fixed_fg) };
        grabcut(&fine.img, &cells, models.as_ref(), &refine, rng, cancelled)?.0
    };
    let labels = keep_significant_components(&labels, gw, gh);
    let labels = fill_small_holes(&labels, gw, gh, 0.1, fine.prior.as_deref());

    // Back to image pixels: bilinear on the 0/1 labels, threshold at ½.
    let mut out = Mask::new(w as u32, h as u32);
    for y in 0..rh {
        let gyf = ((y as f32 + 0.5) / rh as f32 * gh as f32 - 0.5).clamp(0.0, (gh - 1) as f32);
        let (gy, fy) = (gyf.floor() as usize, gyf.fract());
        let gy1 = (gy + 1).min(gh - 1);
        for x in 0..rw {
            let gxf = ((x as f32 + 0.5) / rw as f32 * gw as f32 - 0.5).clamp(0.0, (gw - 1) as f32);
            let (gx, fx) = (gxf.floor() as usize, gxf.fract());
            let gx1 = (gx + 1).min(gw - 1);
            let l = |xx: usize, yy: usize| labels[yy * gw + xx] as u8 as f32;
            let v = (l(gx, gy) * (1.0 - fx) + l(gx1, gy) * fx) * (1.0 - fy)
                + (l(gx, gy1) * (1.0 - fx) + l(gx1, gy1) * fx) * fy;
            let (ix, iy) = ((x0 + x) as u32, (y0 + y) as u32);
            if v >= 0.5 && unknown.get(ix, iy) {
                out.set(ix, iy, true);
            }
        }
    }
    Ok(match prior {
        Some(p) if kept_too_little(&out, brush) => network_alone(p, brush, protect).unwrap_or(out),
        _ => out,
    })
}

/// What a cut that kept almost nothing of the brush gives instead: it found no object its
/// colours could hold, and the prior's own answer inside the brush (≥ ½, never protected)
/// stands in for it, if that holds more.
fn network_alone(prior: &Plane, brush: &Mask, protect: Option<&Mask>) -> Option<Mask> {
    let alone = Mask::from_fn(brush.width(), brush.height(), |x, y| {
        brush.get(x, y) && prior.at(x as usize, y as usize) >= 0.5 && !protect.is_some_and(|m| m.get(x, y))
    });
    if kept_too_little(&alone, brush) {
        return None;
    }
    log::warn!("the colour cut kept almost nothing of the brush; the network's selection stands in");
    Some(alone)
}

/// Brush cells deeper inside the brush than twice its typical looseness (the median distance
/// from the brush's edge to the object found), plus a cell, where the object was found or in
/// small pieces it was not; `None` when nothing was found.
fn deep_interior(brush: &[bool], labels: &[bool], w: usize, h: usize) -> Option<Vec<bool>> {
    let to_mask =
        |v: &[bool]| Mask::from_bytes(w as u32, h as u32, v.iter().map(|&b| b as u8).collect()).expect("sizes match");
    let (brush_m, labels_m) = (to_mask(brush), to_mask(labels));
    if labels_m.is_empty() {
        return None;
    }
    let to_object = crate::raster::distance_sq_to(&labels_m, true);
    let mut gaps: Vec<f32> = (0..w * h)
        .filter(|&i| {
            let (x, y) = (i % w, i / w);
            brush[i]
                && (x == 0
                    || y == 0
                    || x + 1 == w
                    || y + 1 == h
                    || !brush[i - 1]
                    || !brush[i + 1]
                    || !brush[i - w]
                    || !brush[i + w])
        })
        .map(|i| to_object[i].sqrt())
        .collect();
    if gaps.is_empty() {
        return None;
    }
    let k = gaps.len() / 2;
    let looseness = *gaps.select_nth_unstable_by(k, f32::total_cmp).1;
    let depth = crate::raster::distance_sq_to(&brush_m, false);
    let limit = 2.0 * looseness + 1.0;
    let deep: Vec<bool> = depth.iter().map(|&d| d > limit * limit).collect();
    // Only small pieces: a large deep stretch of background (the gap under a chair, the hole of
    // a ring brushed over) is the user painting over floor, not the object.
    let area = labels.iter().filter(|&&b| b).count();
    let given_away = to_mask(&(0..w * h).map(|i| deep[i] && !labels[i]).collect::<Vec<bool>>());
    let mut out: Vec<bool> = (0..w * h).map(|i| deep[i] && labels[i]).collect();
    for piece in given_away.components() {
        if (piece.len() as f32) < MAX_RECLAIMED * area as f32 {
            for i in piece {
                out[i] = true;
            }
        }
    }
    Some(out)
}

/// The largest piece deep inside the brush that is taken back for the object, as a share of
/// the object's area.
const MAX_RECLAIMED: f32 = 0.1;

/// The part of the photo a cut works in, with what it needs to lay grids over it.
struct Region<'a> {
    crop: Rgb,
    /// The crop's top-left corner in the photo, and the photo's size.
    x0: usize,
    y0: usize,
    w: usize,
    h: usize,
    unknown: &'a Mask,
    brush: &'a Mask,
    prior: Option<&'a Plane>,
}

impl Region<'_> {
    /// The region resampled to at most `max_pixels` cells.
    fn grid(&self, max_pixels: usize) -> Grid {
        let (rw, rh) = (self.crop.w, self.crop.h);
        let scale = ((max_pixels as f32 / (rw * rh) as f32).sqrt()).min(1.0);
        let (gw, gh) = (((rw as f32 * scale).round() as usize).max(1), ((rh as f32 * scale).round() as usize).max(1));
        let gimg = if (gw, gh) == (rw, rh) { self.crop.clone() } else { self.crop.shrink_to(gw, gh) };
        // The photo pixel under the centre of cell i.
        let at = |i: usize| -> (usize, usize) {
            let x = self.x0 + (((i % gw) as f32 + 0.5) / gw as f32 * rw as f32) as usize;
            let y = self.y0 + (((i / gw) as f32 + 0.5) / gh as f32 * rh as f32) as usize;
            (x.min(self.w - 1), y.min(self.h - 1))
        };
        let sample = |m: &Mask, i: usize| {
            let (x, y) = at(i);
            m.get(x as u32, y as u32)
        };
        let unknown: Vec<bool> = (0..gw * gh).map(|i| sample(self.unknown, i)).collect();
        let brush = (0..gw * gh).map(|i| unknown[i] && sample(self.brush, i)).collect();
        let prior = self.prior.map(|p| {
            (0..gw * gh)
                .map(|i| {
                    let (x, y) = at(i);
                    p.at(x, y)
                })
                .collect()
        });
        Grid { img: gimg, unknown, brush, prior }
    }
}

impl Grid {
    /// The grid's cells for a cut starting from `init`, with `fixed_fg` held as object.
    fn cells<'a>(&'a self, init: &'a [bool], fixed_fg: &'a [bool]) -> Cells<'a> {
        Cells { unknown: &self.unknown, init, fixed_fg, prior: self.prior.as_deref() }
    }
}

/// What a GrabCut run decides over: cells outside `unknown` are fixed (object where `fixed_fg`,
/// background elsewhere); `init` starts the unknown ones; `prior` is an object probability.
struct Cells<'a> {
    unknown: &'a [bool],
    init: &'a [bool],
    fixed_fg: &'a [bool],
    prior: Option<&'a [f32]>,
}

/// GrabCut rounds over the unknown cells. `models` skip the model fitting. Returns the labels
/// and the last models.
fn grabcut(
    img: &Rgb,
    cells: &Cells<'_>,
    models: Option<&ColourModels>,
    params: &SegmentParams,
    rng: &mut Rng,
    cancelled: &dyn Fn() -> bool,
) -> Result<(Vec<bool>, Option<ColourModels>), Cancelled> {
    let (unknown, init, fixed_fg) = (cells.unknown, cells.init, cells.fixed_fg);
    let (w, h) = (img.w, img.h);
    let mut fg: Vec<bool> = (0..w * h).map(|i| if unknown[i] { init[i] } else { fixed_fg[i] }).collect();
    let contrast = EdgeContrast::new(img, init, fixed_fg);
    // Node index of each unknown cell.
    let mut node = vec![u32::MAX; w * h];
    let mut count = 0usize;
    for i in 0..w * h {
        if unknown[i] {
            node[i] = count as u32;
            count += 1;
        }
    }
    let mut last_models = models.cloned();
    if count == 0 {
        return Ok((fg, last_models));
    }
    for _round in 0..params.iterations {
        if cancelled() {
            return Err(Cancelled);
        }
        let models = match models {
            Some(m) => m.clone(),
            None => match fit_models(&img.px, &fg, params, rng) {
                Some(m) => m,
                None => break,
            },
        };
        let g = graph(img, cells, (&node, count), &models, &contrast, params);
        let Some((_, side)) = g.cut(cancelled) else { return Err(Cancelled) };
        let mut changed = 0usize;
        for i in 0..w * h {
            if unknown[i] {
                let new = side[node[i] as usize];
                changed += (new != fg[i]) as usize;
                fg[i] = new;
            }
        }
        last_models = Some(models);
        if changed * 1000 < count {
            break;
        }
    }
    Ok((fg, last_models))
}

/// The least share of the brush a cut keeps: less is a cut that found nothing (a loose brush
/// still holds its object over most of its area).
const MIN_BRUSH_SHARE: f64 = 0.05;

/// Whether a cut kept less of `brush` than any object it could hold would fill.
pub(crate) fn kept_too_little(cut: &Mask, brush: &Mask) -> bool {
    (cut.count() as f64) < MIN_BRUSH_SHARE * brush.count() as f64
}

/// The least probability a prior gives a label (so no label is ever impossible). Low, so that
/// where the network is sure it outweighs the colour models (whose −ln p run to tens on a
/// multi-coloured object); where it is unsure (p near ½) colour decides. On seg-davis 0.001
/// beat 0.01 at every weight.
const PRIOR_FLOOR: f32 = 0.001;

/// Neighbours each pixel links to, with the inverse of their distance.
const NEIGHBOURS: [(isize, isize, f32); 4] =
    [(1, 0, 1.0), (0, 1, 1.0), (1, 1, std::f32::consts::FRAC_1_SQRT_2), (-1, 1, std::f32::consts::FRAC_1_SQRT_2)];

/// What the smoothness term needs: each colour's shading-free form, the contrast scales β of
/// both (Rother et al.: from the mean squared difference of neighbours), and the row where the
/// object's lower half (the floor's side, where its shadow may lie) begins.
struct EdgeContrast {
    unshaded: Vec<[f32; 3]>,
    beta: f32,
    beta_chroma: f32,
    low: f32,
}

impl EdgeContrast {
    fn new(img: &Rgb, init: &[bool], fixed_fg: &[bool]) -> Self {
        let (w, h, px) = (img.w, img.h, &img.px);
        // Each colour divided by its own brightness (plus a little, so near-black noise does not
        // dominate): a shadow, which scales a colour, leaves it unchanged.
        let unshaded: Vec<[f32; 3]> = px
            .iter()
            .map(|p| {
                let m = (p[0] + p[1] + p[2]) / 3.0 + 0.02;
                p.map(|v| v / m)
            })
            .collect();
        let (mut sum, mut sum_chroma, mut n) = (0.0f64, 0.0f64, 0usize);
        for y in 0..h {
            for x in 0..w {
                for &(dx, dy, _) in &NEIGHBOURS {
                    let (nx, ny) = (x as isize + dx, y as isize + dy);
                    if nx >= 0 && (nx as usize) < w && (ny as usize) < h {
                        let (i, j) = (y * w + x, ny as usize * w + nx as usize);
                        sum += diff2(&px[i], &px[j]) as f64;
                        sum_chroma += diff2(&unshaded[i], &unshaded[j]) as f64;
                        n += 1;
                    }
                }
            }
        }
        let beta_of = |sum: f64| if sum > 0.0 { (n as f64 / (2.0 * sum)) as f32 } else { 0.0 };
        let low = {
            let mut rows = (0..w * h).filter(|&i| init[i] || fixed_fg[i]).map(|i| i / w);
            let first = rows.next().unwrap_or(0);
            let last = rows.next_back().unwrap_or(first);
            (first + last) as f32 / 2.0
        };
        Self { unshaded, beta: beta_of(sum), beta_chroma: beta_of(sum_chroma), low }
    }

    /// The contrast of the edge between pixels `i` (row `y`) and `j` (row `ny`). In the lower
    /// half a shadow's outer edge is a strong colour edge the cut would gladly follow, handing
    /// the object the shadow inside it: there an edge counts by the mean of its colour and its
    /// shading-free contrast, so a change of brightness alone is only half an edge.
    fn contrast(&self, px: &[[f32; 3]], (i, y): (usize, usize), (j, ny): (usize, usize)) -> f32 {
        if y as f32 >= self.low && ny as f32 >= self.low {
            0.5 * (self.beta * diff2(&px[i], &px[j]) + self.beta_chroma * diff2(&self.unshaded[i], &self.unshaded[j]))
        } else {
            self.beta * diff2(&px[i], &px[j])
        }
    }
}

/// The object's, the surroundings' and the shadowed surroundings' colour models from the
/// current labels; `None` when a side has too few samples.
fn fit_models(px: &[[f32; 3]], fg: &[bool], params: &SegmentParams, rng: &mut Rng) -> Option<ColourModels> {
    let fg_samples: Vec<[f32; 3]> = (0..px.len()).filter(|&i| fg[i]).map(|i| px[i]).collect();
    let bg_samples: Vec<[f32; 3]> = (0..px.len()).filter(|&i| !fg[i]).map(|i| px[i]).collect();
    let mut with_shadow = bg_samples.clone();
    with_shadow.extend(
        bg_samples.iter().step_by(SHADOWED_EVERY).zip(SHADOW_FACTORS.iter().cycle()).map(|(p, &s)| p.map(|v| v * s)),
    );
    let fit = |samples: &[[f32; 3]], rng: &mut Rng| Gmm::fit(samples, params.components, 20_000, rng);
    match (fit(&fg_samples, rng), fit(&bg_samples, rng), fit(&with_shadow, rng)) {
        (Some(object), Some(surroundings), Some(shadowed)) => Some(ColourModels { object, surroundings, shadowed }),
        _ => None,
    }
}

/// The graph of one GrabCut round: unary costs of the unknown cells from the colour models,
/// pairwise costs from the contrast (a fixed neighbour's turned into a terminal cost).
fn graph(
    img: &Rgb,
    cells: &Cells<'_>,
    (node, count): (&[u32], usize),
    models: &ColourModels,
    contrast: &EdgeContrast,
    params: &SegmentParams,
) -> GraphBuilder {
    let (w, h, px) = (img.w, img.h, &img.px);
    let (unknown, fixed_fg, gamma) = (cells.unknown, cells.fixed_fg, params.gamma);
    let mut g = GraphBuilder::new(count);
    for y in 0..h {
        for x in 0..w {
            let i = y * w + x;
            if unknown[i] {
                let c = &px[i];
                // Source side = object: labelling background costs the background's −ln p.
                let bg = if y as f32 >= contrast.low { &models.shadowed } else { &models.surroundings };
                let (mut to_bg, mut to_fg) = (bg.cost(c), models.object.cost(c));
                if let Some(prior) = cells.prior {
                    let p = prior[i].clamp(PRIOR_FLOOR, 1.0 - PRIOR_FLOOR);
                    to_bg += params.prior_weight * -(1.0 - p).ln();
                    to_fg += params.prior_weight * -p.ln();
                }
                g.add_terminal(node[i] as usize, to_bg, to_fg);
            }
            for &(dx, dy, inv_dist) in &NEIGHBOURS {
                let (nx, ny) = (x as isize + dx, y as isize + dy);
                if nx < 0 || nx as usize >= w || ny as usize >= h {
                    continue;
                }
                let j = ny as usize * w + nx as usize;
                let wgt = gamma * inv_dist * (-contrast.contrast(px, (i, y), (j, ny as usize))).exp();
                let fixed_cost = |g: &mut GraphBuilder, node_i: usize, other: usize| {
                    if fixed_fg[other] {
                        g.add_terminal(node_i, wgt, 0.0)
                    } else {
                        g.add_terminal(node_i, 0.0, wgt)
                    }
                };
                match (unknown[i], unknown[j]) {
                    (true, true) => g.add_edge(node[i] as usize, node[j] as usize, wgt, wgt),
                    (true, false) => fixed_cost(&mut g, node[i] as usize, j),
                    (false, true) => fixed_cost(&mut g, node[j] as usize, i),
                    (false, false) => {}
                }
            }
        }
    }
    g
}

fn diff2(a: &[f32; 3], b: &[f32; 3]) -> f32 {
    (a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)
}

/// Drop object specks: keep 8-connected components of at least 5 % of the largest one's area.
fn keep_significant_components(labels: &[bool], w: usize, h: usize) -> Vec<bool> {
    let mut comp = vec![u32::MAX; w * h];
    let mut sizes = Vec::new();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if !labels[start] || comp[start] != u32::MAX {
            continue;
        }
        let id = sizes.len() as u32;
        let mut size = 0usize;
        comp[start] = id;
        stack.push(start);
        while let Some(i) = stack.pop() {
            size += 1;
            let (x, y) = ((i % w) as isize, (i / w) as isize);
            for dy in -1..=1isize {
                for dx in -1..=1isize {
                    let (nx, ny) = (x + dx, y + dy);
                    if nx < 0 || ny < 0 || nx as usize >= w || ny as usize >= h {
                        continue;
                    }
                    let j = ny as usize * w + nx as usize;
                    if labels[j] && comp[j] == u32::MAX {
                        comp[j] = id;
                        stack.push(j);
                    }
                }
            }
        }
        sizes.push(size);
    }
    let largest = sizes.iter().copied().max().unwrap_or(0);
    let keep: Vec<bool> = sizes.iter().map(|&s| s * 20 >= largest).collect();
    comp.iter().map(|&c| c != u32::MAX && keep[c as usize]).collect()
}

/// Make object any background pocket fully enclosed by the object and smaller than `max_frac`
/// of the object's area: highlights and dark stripes on an object look like the surroundings to
/// the colour models, but a pocket the surroundings cannot reach is part of the object. Larger
/// pockets (the hole of a ring, the gap under a chair) stay background, and so do pockets an
/// object-probability `prior` calls background on average (the gap between an arm and a body).
fn fill_small_holes(labels: &[bool], w: usize, h: usize, max_frac: f32, prior: Option<&[f32]>) -> Vec<bool> {
    let area = labels.iter().filter(|&&b| b).count();
    let mut seen = vec![false; w * h];
    let mut out = labels.to_vec();
    let mut stack = Vec::new();
    for start in 0..w * h {
        if labels[start] || seen[start] {
            continue;
        }
        // Flood one background pocket (4-connected), noting whether it reaches the border.
        let mut pocket = Vec::new();
        let mut touches_border = false;
        seen[start] = true;
        stack.push(start);
        while let Some(i) = stack.pop() {
            pocket.push(i);
            let (x, y) = (i % w, i / w);
            if x == 0 || y == 0 || x == w - 1 || y == h - 1 {
                touches_border = true;
            }
            let mut visit = |j: usize| {
                if !labels[j] && !seen[j] {
                    seen[j] = true;
                    stack.push(j);
                }
            };
            if x > 0 {
                visit(i - 1);
            }
            if x + 1 < w {
                visit(i + 1);
            }
            if y > 0 {
                visit(i - w);
            }
            if y + 1 < h {
                visit(i + w);
            }
        }
        let salient = prior.is_none_or(|p| pocket.iter().map(|&i| p[i]).sum::<f32>() >= 0.5 * pocket.len() as f32);
        if !touches_border && salient && (pocket.len() as f32) < max_frac * area as f32 {
            for i in pocket {
                out[i] = true;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_disc_inside_an_overshooting_brush() {
        let (w, h) = (120, 90);
        let mut rng = Rng::new(3);
        let mut img = Rgb::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let noise = 0.03 * rng.normal();
                let (dx, dy) = (x as f32 - 60.0, y as f32 - 45.0);
                img.px[y * w + x] = if dx * dx + dy * dy < 400.0 {
                    [0.8 + noise, 0.3, 0.2]
                } else {
                    // A textured, two-tone background.
                    if (x / 8 + y / 8) % 2 == 0 {
                        [0.2, 0.5 + noise, 0.3]
                    } else {
                        [0.3, 0.35, 0.6 + noise]
                    }
                };
            }
        }
        let brush = Mask::from_fn(w as u32, h as u32, |x, y| {
            let (dx, dy) = (x as f32 - 62.0, y as f32 - 44.0);
            dx * dx + dy * dy < 34.0 * 34.0
        });
        let seg = segment(&img, &brush, None, None, &SegmentParams::default(), &mut rng, &|| false).unwrap();
        let truth = Mask::from_fn(w as u32, h as u32, |x, y| {
            let (dx, dy) = (x as f32 - 60.0, y as f32 - 45.0);
            dx * dx + dy * dy < 400.0
        });
        let wrong = (0..w * h).filter(|&i| seg.at(i) != truth.at(i)).count();
        assert!(wrong < 40, "{wrong} pixels wrong");
    }

    /// A dark plate carrying grey coins, on grey gravel, brushed tightly: the coins at the
    /// plate's edge look like the gravel to the colour models, but they lie deeper inside the
    /// brush than the brush is loose anywhere, so they are the object's.
    #[test]
    fn keeps_object_parts_coloured_like_the_floor_deep_inside_a_tight_brush() {
        let (w, h) = (160, 120);
        let mut rng = Rng::new(5);
        let plate = |x: f32, y: f32| (40.0..120.0).contains(&x) && (30.0..90.0).contains(&y);
        let coins = [(107.0f32, 45.0f32), (107.0, 75.0), (60.0, 60.0)];
        let coin = |x: f32, y: f32| coins.iter().any(|&(cx, cy)| (x - cx).powi(2) + (y - cy).powi(2) < 11.0f32.powi(2));
        let mut img = Rgb::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let (xf, yf) = (x as f32, y as f32);
                // Gravel: grey cells of varying brightness, and the coins are that grey too.
                let cell = (((x / 5) * 7 + (y / 5) * 13) % 5) as f32 / 5.0;
                let grey = 0.4 + 0.3 * cell + 0.03 * rng.normal();
                img.px[y * w + x] =
                    if plate(xf, yf) && !coin(xf, yf) { [0.12, 0.12, 0.13] } else { [grey, grey, grey * 0.98] };
            }
        }
        let object = Mask::from_fn(w as u32, h as u32, |x, y| plate(x as f32, y as f32));
        let brush = object.dilate(4.0);
        let seg = segment(&img, &brush, None, None, &SegmentParams::default(), &mut rng, &|| false).unwrap();
        let coin_px: Vec<usize> = (0..w * h).filter(|&i| coin((i % w) as f32, (i / w) as f32)).collect();
        let kept = coin_px.iter().filter(|&&i| seg.at(i)).count() as f32 / coin_px.len() as f32;
        assert!(kept > 0.95, "only {:.0} % of the coins kept", kept * 100.0);
        let wrong = (0..w * h).filter(|&i| seg.at(i) != object.at(i)).count();
        assert!(wrong < 150, "{wrong} pixels wrong");
    }

    /// A frame brushed over whole, its large opening included: the opening's floor stays
    /// background, however deep inside the brush it lies.
    #[test]
    fn a_large_opening_deep_inside_the_brush_stays_background() {
        let (w, h) = (160, 120);
        let mut rng = Rng::new(6);
        let frame = |x: f32, y: f32| {
            (30.0..130.0).contains(&x)
                && (20.0..100.0).contains(&y)
                && !((45.0..115.0).contains(&x) && (35.0..100.0).contains(&y))
        };
        let mut img = Rgb::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let grey = 0.55 + 0.03 * rng.normal();
                img.px[y * w + x] = if frame(x as f32, y as f32) { [0.7, 0.2, 0.1] } else { [grey, grey, grey] };
            }
        }
        let object = Mask::from_fn(w as u32, h as u32, |x, y| frame(x as f32, y as f32));
        let brush = Mask::from_fn(w as u32, h as u32, |x, y| (26..134).contains(&x) && (16..104).contains(&y));
        let seg = segment(&img, &brush, None, None, &SegmentParams::default(), &mut rng, &|| false).unwrap();
        let wrong = (0..w * h).filter(|&i| seg.at(i) != object.at(i)).count();
        assert!(wrong < 150, "{wrong} pixels wrong");
    }

    /// A ring whose small hole shows the floor. Colour alone fills the hole (a pocket the
    /// surroundings cannot reach is taken for part of the object); a prior that calls the hole
    /// background keeps it open, both against that rule and against taking back deep pieces.
    #[test]
    fn a_hole_the_prior_calls_background_stays_open() {
        let (w, h) = (120, 120);
        let mut rng = Rng::new(8);
        let r2 = |x: usize, y: usize| (x as f32 - 60.0).powi(2) + (y as f32 - 60.0).powi(2);
        let ring = Mask::from_fn(w as u32, h as u32, |x, y| (64.0..1600.0).contains(&r2(x as usize, y as usize)));
        let hole = Mask::from_fn(w as u32, h as u32, |x, y| r2(x as usize, y as usize) < 64.0);
        let mut img = Rgb::new(w, h);
        for (i, p) in img.px.iter_mut().enumerate() {
            let t = 0.03 * rng.normal();
            // The ring is spotted with the floor's own colour, so colour alone cannot tell the
            // hole from a spot.
            let spot = ((i % w) / 5 + (i / w) / 5) % 4 == 0;
            *p = if ring.at(i) && !spot { [0.7 + t, 0.25, 0.2] } else { [0.5 + t, 0.5, 0.45] };
        }
        let brush = ring.dilate(6.0);
        let cut = |prior: Option<&Plane>, rng: &mut Rng| {
            segment(&img, &brush, None, prior, &SegmentParams::default(), rng, &|| false).unwrap()
        };
        let open = |seg: &Mask| (0..w * h).filter(|&i| hole.at(i) && !seg.at(i)).count();
        let colour_only = cut(None, &mut rng);
        assert!(open(&colour_only) < 20, "colour alone left {} hole pixels open", open(&colour_only));
        let prior = Plane { w, h, v: (0..w * h).map(|i| if ring.at(i) { 0.95 } else { 0.05 }).collect() };
        let with_prior = cut(Some(&prior), &mut rng);
        assert!(open(&with_prior) > 150, "only {} of {} hole pixels left open", open(&with_prior), hole.count());
        let wrong = (0..w * h).filter(|&i| with_prior.at(i) != ring.at(i)).count();
        assert!(wrong < 120, "{wrong} pixels wrong");
    }

    /// A dark object on a light floor, its soft contact shadow right under it and brushed with
    /// it: the shadowed floor is darker than the lit floor, but it is still floor. (Without the
    /// shadowed surroundings model the cut took 648 of the shadow's pixels.)
    #[test]
    fn the_contact_shadow_under_a_dark_object_stays_floor() {
        let (w, h) = (160, 120);
        let mut rng = Rng::new(7);
        let object = Mask::from_fn(w as u32, h as u32, |x, y| (50..110).contains(&x) && (20..80).contains(&y));
        // A soft contact shadow: darkest at the base, fading out over 14 px down and 8 px beyond
        // the sides.
        let darkness = |x: usize, y: usize| -> f32 {
            if y < 80 {
                return 0.0;
            }
            let down = 1.0 - (y - 80) as f32 / 14.0;
            let side = 1.0 - ((50.0 - x as f32).max(x as f32 - 109.0).max(0.0) / 8.0);
            0.6 * down.clamp(0.0, 1.0) * side.clamp(0.0, 1.0)
        };
        let shadow = |x: usize, y: usize| darkness(x, y) > 0.2;
        let mut img = Rgb::new(w, h);
        for y in 0..h {
            for x in 0..w {
                let i = y * w + x;
                let t = 0.04 * rng.normal();
                let floor = [0.75 + t, 0.68 + t, 0.55 + t];
                img.px[i] =
                    if object.at(i) { [0.15 + 0.5 * t, 0.18, 0.3] } else { floor.map(|v| v * (1.0 - darkness(x, y))) };
            }
        }
        let brush = object.dilate(14.0);
        let seg = segment(&img, &brush, None, None, &SegmentParams::default(), &mut rng, &|| false).unwrap();
        let taken = (0..w * h).filter(|&i| seg.at(i) && shadow(i % w, i / w)).count();
        assert!(taken < 40, "{taken} shadow pixels taken as object");
        let wrong = (0..w * h).filter(|&i| seg.at(i) != object.at(i)).count();
        assert!(wrong < 150, "{wrong} pixels wrong");
    }
}
