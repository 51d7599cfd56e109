//! Relighting a large shadow at a working resolution: the shading is estimated on a grid
//! `step` times coarser (the photo box-averaged) and interpolated back to every pixel, which is
//! then divided by it at full size, so the floor keeps its full-resolution texture. Shading is
//! smooth except across a shadow's edge, and a large photo's penumbra spans many pixels.

use crate::engine::Cancelled;
use crate::raster::{sample_known, Mask, Rect, Rgb};

/// The shadow's region to relight, the object (no floor is seen there) and its solid part (what
/// casts the shadow), all over the whole photo.
pub(super) struct RelightMasks<'a> {
    pub region: &'a Mask,
    pub object: &'a Mask,
    pub silhouette: &'a Mask,
}

/// Shading over a crop: the log-deficit per channel at crop pixels (row-major in the crop), the
/// region's and, if extending, the floor beyond it the fitted model shades; and how well that
/// model explained the shadow.
pub(super) struct CropShading {
    pub shading: Vec<(usize, [f32; 3])>,
    pub model_quality: Option<f32>,
}

/// The full-size estimator, run on the coarse grid: shading over a crop of an image.
pub(super) type FullSizeShading<'a> = dyn Fn(&Rgb, &RelightMasks<'_>, &Rect) -> Result<CropShading, Cancelled> + 'a;

/// The shading of `rect`'s pixels, estimated every `step` pixels by `at_full_size` (see
/// `relight::crop_shading`).
pub(super) fn crop_shading(
    img: &Rgb,
    masks: &RelightMasks<'_>,
    rect: &Rect,
    step: usize,
    at_full_size: &FullSizeShading<'_>,
) -> Result<CropShading, Cancelled> {
    let (rw, rh) = (rect.w(), rect.h());
    let (sw, sh) = (rw.div_ceil(step), rh.div_ceil(step));
    let mut small = Rgb::new(sw, sh);
    // A coarse cell is region, or object, if any of its pixels is (an object pixel's colour
    // must not enter the floor's averages), and silhouette where most of its pixels are.
    let (mut region, mut object, mut solid) = (vec![0u8; sw * sh], vec![0u8; sw * sh], vec![0u8; sw * sh]);
    for sy in 0..sh {
        for sx in 0..sw {
            let (xa, xb) = (rect.x0 + sx * step, (rect.x0 + (sx + 1) * step).min(rect.x1));
            let (ya, yb) = (rect.y0 + sy * step, (rect.y0 + (sy + 1) * step).min(rect.y1));
            let (mut sum, mut n, mut solid_n) = ([0.0f32; 3], 0usize, 0usize);
            let c = sy * sw + sx;
            for y in ya..yb {
                for x in xa..xb {
                    let p = img.px[y * img.w + x];
                    sum = [sum[0] + p[0], sum[1] + p[1], sum[2] + p[2]];
                    n += 1;
                    let (x, y) = (x as u32, y as u32);
                    region[c] |= masks.region.get(x, y) as u8;
                    object[c] |= masks.object.get(x, y) as u8;
                    solid_n += masks.silhouette.get(x, y) as usize;
                }
            }
            small.px[c] = sum.map(|v| v / n as f32);
            solid[c] = (2 * solid_n > n) as u8;
        }
    }
    let as_mask = |v: Vec<u8>| Mask::from_bytes(sw as u32, sh as u32, v).expect("sizes match");
    let region_small = as_mask(region);
    let (object_small, solid_small) = (as_mask(object), as_mask(solid));
    let coarse = at_full_size(
        &small,
        &RelightMasks { region: &region_small, object: &object_small, silhouette: &solid_small },
        &Rect { x0: 0, y0: 0, x1: sw, y1: sh },
    )?;
    let mut known = vec![false; sw * sh];
    let mut value = vec![[0.0f32; 3]; sw * sh];
    for (i, d) in coarse.shading {
        known[i] = true;
        value[i] = d;
    }
    let mut shading = Vec::new();
    for y in 0..rh {
        for x in 0..rw {
            let (gx, gy) = ((rect.x0 + x) as u32, (rect.y0 + y) as u32);
            if masks.object.get(gx, gy) {
                continue;
            }
            // The region, and floor beyond it the fitted model extended the shadow to.
            let cell = (y / step) * sw + x / step;
            if !(masks.region.get(gx, gy) || (known[cell] && !region_small.at(cell))) {
                continue;
            }
            let (fx, fy) = ((x as f32 + 0.5) / step as f32 - 0.5, (y as f32 + 0.5) / step as f32 - 0.5);
            if let Some(d) = sample_known(&known, &value, (sw, sh), fx, fy) {
                shading.push((y * rw + x, d));
            }
        }
    }
    Ok(CropShading { shading, model_quality: coarse.model_quality })
}
