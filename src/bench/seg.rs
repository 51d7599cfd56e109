//! `layerdecomp bench --seg DIR`: the object cut on real photos with ground truth. Each folder
//! of DIR holds `photo.jpg`, `gt.png` (the object, 0/255) and `brush.png` (a loose brush over it),
//! as `../shared/realdata/seg-davis` does (or `photo.png`, as `scripts/synth_as_seg.py` writes
//! synthetic cases, whose `gt.png` is their exact soft alpha). The cut's alpha ≥ 0.5 is scored against the ground
//! truth: IoU (its mean, and the share of photos under 0.8), and the error rate (% of pixels
//! labelled wrongly, the GrabCut paper's figure).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use layerdecomp::engine::{
    cut_out, saliency_prior, shared_network, PriorGrabCut, Quality, SaliencyNet, SegmentParams, Stages,
};
use layerdecomp::io::{import_image, import_mask, ImportOptions};
use layerdecomp::raster::{Mask, Plane, Rgb};

/// Which cut is scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SegMethod {
    /// The engine's cut, as `decompose` makes it (colour models, brush and network).
    Engine,
    /// The classical cut: colour models and brush only.
    Classical,
    /// The peer: U²-Netp on the brush's box alone, ≥ 0.5, cut to the brush.
    Saliency,
}

/// One photo's scores.
struct SegRow {
    name: String,
    iou: f64,
    error: f64,
    seconds: f64,
}

/// A folder's photo: `photo.jpg`, else the lossless `photo.png`.
fn photo_path(folder: &Path) -> Option<PathBuf> {
    ["photo.jpg", "photo.png"].iter().map(|n| folder.join(n)).find(|p| p.exists())
}

/// The photo folders under `dir`, in name order.
fn folders(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read the folder", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| photo_path(p).is_some() && p.join("gt.png").exists() && p.join("brush.png").exists())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(anyhow!("{}: no folders with photo.jpg (or .png), gt.png and brush.png", dir.display()));
    }
    Ok(dirs)
}

/// The saliency peer: the network on the brush's bounding box, ≥ 0.5, inside the brush.
fn saliency_cut(net: &SaliencyNet, img: &Rgb, brush: &Mask) -> Result<Plane> {
    let (bx, by, bw, bh) = brush.bounds().ok_or_else(|| anyhow!("empty brush"))?;
    let crop = img.crop(bx as usize, by as usize, bw as usize, bh as usize);
    let p = net.saliency(&crop)?;
    let mut alpha = Plane::new(img.w, img.h);
    for y in 0..bh as usize {
        for x in 0..bw as usize {
            let (ix, iy) = (bx as usize + x, by as usize + y);
            if brush.get(ix as u32, iy as u32) {
                alpha.v[iy * img.w + ix] = p.v[y * bw as usize + x];
            }
        }
    }
    Ok(alpha)
}

/// The cache's name for a photo's prior: its folder and its brush's box (the network sees that
/// box), so a changed brush is not served a stale map.
fn prior_key(name: &str, brush: &Mask) -> String {
    let (x, y, w, h) = brush.bounds().unwrap_or_default();
    format!("{name}-{x}-{y}-{w}-{h}")
}

/// The network's prior for photo `key`: read from `cache` when it holds it (raw: width and
/// height as u32, then the values as f32, little-endian), else made and written there. The
/// network's passes are most of a cut's time; with the maps kept, fusion settings are scored
/// in minutes.
fn cached_prior(cache: Option<&Path>, key: &str, make: impl FnOnce() -> Result<Plane>) -> Result<Plane> {
    let Some(dir) = cache else { return make() };
    let path = dir.join(format!("{key}.prior"));
    if let Ok(bytes) = std::fs::read(&path) {
        let word = |i: usize| bytes.get(4 * i..4 * i + 4).map(|b| [b[0], b[1], b[2], b[3]]);
        if let (Some(w), Some(h)) = (word(0), word(1)) {
            let (w, h) = (u32::from_le_bytes(w) as usize, u32::from_le_bytes(h) as usize);
            if bytes.len() == 4 * (2 + w * h) {
                let v = (0..w * h).filter_map(|i| word(2 + i)).map(f32::from_le_bytes).collect();
                return Ok(Plane { w, h, v });
            }
        }
        return Err(anyhow!("{}: not a prior this bench wrote", path.display()));
    }
    let prior = make()?;
    std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    let mut bytes = Vec::with_capacity(4 * (2 + prior.v.len()));
    bytes.extend((prior.w as u32).to_le_bytes());
    bytes.extend((prior.h as u32).to_le_bytes());
    for v in &prior.v {
        bytes.extend(v.to_le_bytes());
    }
    std::fs::write(&path, bytes).with_context(|| format!("{}: cannot write", path.display()))?;
    Ok(prior)
}

/// `alpha` as a 16-bit grey PNG.
fn write_alpha(alpha: &Plane, path: &Path) -> Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    }
    let v: Vec<u16> = alpha.v.iter().map(|&a| (a.clamp(0.0, 1.0) * 65535.0).round() as u16).collect();
    let img = image::ImageBuffer::<image::Luma<u16>, _>::from_raw(alpha.w as u32, alpha.h as u32, v)
        .ok_or_else(|| anyhow!("alpha size"))?;
    img.save(path).with_context(|| format!("{}: cannot write", path.display()))
}

fn score(alpha: &Plane, truth: &Mask) -> (f64, f64) {
    let (mut inter, mut union, mut wrong) = (0usize, 0usize, 0usize);
    for (i, &a) in alpha.v.iter().enumerate() {
        let (ours, theirs) = (a >= 0.5, truth.at(i));
        inter += (ours && theirs) as usize;
        union += (ours || theirs) as usize;
        wrong += (ours != theirs) as usize;
    }
    let iou = if union == 0 { 1.0 } else { inter as f64 / union as f64 };
    (iou, 100.0 * wrong as f64 / alpha.v.len() as f64)
}

/// Score every photo of `dir` and return the markdown report. With `prior_weights`, the engine's
/// cut is scored once per weight of the network's prior (the network runs once per photo): how
/// the weight was fitted.
pub fn run(
    dir: &Path,
    method: SegMethod,
    limit: Option<usize>,
    prior_weights: &[f32],
    save_alpha: Option<&Path>,
    prior_cache: Option<&Path>,
) -> Result<String> {
    let variants: Vec<Option<f32>> = if method == SegMethod::Engine && !prior_weights.is_empty() {
        prior_weights.iter().map(|&w| Some(w)).collect()
    } else {
        vec![None]
    };
    let mut rows: Vec<Vec<SegRow>> = variants.iter().map(|_| Vec::new()).collect();
    let net = match method {
        SegMethod::Classical => None,
        _ => Some(shared_network().ok_or_else(|| anyhow!("the saliency network does not load"))?),
    };
    let opts = ImportOptions::default();
    for folder in folders(dir)?.into_iter().take(limit.unwrap_or(usize::MAX)) {
        let photo_file = photo_path(&folder).ok_or_else(|| anyhow!("{}: the photo went away", folder.display()))?;
        let photo = import_image(&photo_file, &opts)?.image;
        let size = Some((photo.width(), photo.height()));
        let truth = import_mask(&folder.join("gt.png"), "ground truth", size, &opts)?;
        let brush = import_mask(&folder.join("brush.png"), "brush", size, &opts)?;
        let name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let started = Instant::now();
        let prior = match (&net, variants[0]) {
            (Some(net), Some(_)) => Some(cached_prior(prior_cache, &prior_key(&name, &brush), || {
                Ok(saliency_prior(net, &Rgb::from_premul(&photo), &brush, &|| false)?)
            })?),
            _ => None,
        };
        let shared_seconds = started.elapsed().as_secs_f64();
        for (variant, out) in variants.iter().zip(rows.iter_mut()) {
            let started = Instant::now();
            let alpha = match (method, variant, &net, &prior) {
                (SegMethod::Saliency, _, Some(net), _) => saliency_cut(net, &Rgb::from_premul(&photo), &brush)?,
                (SegMethod::Classical, ..) => cut_out(&Stages::classical(Quality::Balanced), &photo, &brush, 0)?,
                (_, Some(weight), _, Some(prior)) => {
                    let mut stages = Stages::classical(Quality::Balanced);
                    let params = SegmentParams { prior_weight: *weight, ..Default::default() };
                    stages.segmenter = Box::new(PriorGrabCut { params, prior: prior.clone() });
                    cut_out(&stages, &photo, &brush, 0)?
                }
                _ => cut_out(&Stages::for_quality(Quality::Balanced), &photo, &brush, 0)?,
            };
            let seconds = shared_seconds + started.elapsed().as_secs_f64();
            if let Some(out_dir) = save_alpha {
                write_alpha(&alpha, &out_dir.join(format!("{name}.png")))?;
            }
            let (iou, error) = score(&alpha, &truth);
            let label = variant.map(|w| format!(" (prior weight {w})")).unwrap_or_default();
            eprintln!("{name}{label}: IoU {iou:.3}, error {error:.2} %, {seconds:.2} s");
            out.push(SegRow { name: name.clone(), iou, error, seconds });
        }
    }
    let mut text = String::new();
    for (variant, rows) in variants.iter().zip(&rows) {
        let label = variant.map(|w| format!(", prior weight {w}")).unwrap_or_default();
        text.push_str(&report(rows, &format!("{method:?} cut{label}")));
    }
    Ok(text)
}

fn report(rows: &[SegRow], title: &str) -> String {
    let n = rows.len().max(1) as f64;
    let miou = rows.iter().map(|r| r.iou).sum::<f64>() / n;
    let bad = rows.iter().filter(|r| r.iou < 0.8).count();
    let worst: Vec<String> = {
        let mut sorted: Vec<&SegRow> = rows.iter().collect();
        sorted.sort_by(|a, b| a.iou.total_cmp(&b.iou));
        sorted.iter().take(5).map(|r| format!("{} {:.2}", r.name, r.iou)).collect()
    };
    let mut out = format!("### {title}, {} photos\n\n", rows.len());
    out.push_str("| mIoU | IoU < 0.8 | IoU < 0.3 | error % | s / photo |\n|---|---|---|---|---|\n");
    out.push_str(&format!(
        "| {miou:.3} | {:.1} % | {} | {:.2} | {:.2} |\n\nworst: {}\n",
        100.0 * bad as f64 / n,
        rows.iter().filter(|r| r.iou < 0.3).count(),
        rows.iter().map(|r| r.error).sum::<f64>() / n,
        rows.iter().map(|r| r.seconds).sum::<f64>() / n,
        worst.join(", "),
    ));
    out
}
