//! `layerdecomp bench --seg DIR`: the object cut on real photos with ground truth. Each folder
//! of DIR holds `photo.jpg`, `gt.png` (the object, 0/255) and `brush.png` (a loose brush over it),
//! as `../shared/realdata/seg-davis` does. The cut's alpha ≥ 0.5 is scored against the ground
//! truth: IoU (its mean, and the share of photos under 0.8), and the error rate (% of pixels
//! labelled wrongly, the GrabCut paper's figure).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use layerdecomp::engine::{cut_out, pick_device, SaliencyNet, Stages};
use layerdecomp::io::{import_image, import_mask, ImportOptions};
use layerdecomp::raster::{Mask, Plane, Rgb};

/// Which cut is scored.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum SegMethod {
    /// The engine's cut, as `decompose` makes it.
    Engine,
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

/// The photo folders under `dir`, in name order.
fn folders(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read the folder", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("photo.jpg").exists() && p.join("gt.png").exists() && p.join("brush.png").exists())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(anyhow!("{}: no folders with photo.jpg, gt.png and brush.png", dir.display()));
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

/// Score every photo of `dir` and return the markdown report.
pub fn run(dir: &Path, method: SegMethod, limit: Option<usize>) -> Result<String> {
    let stages = Stages::classical(Default::default());
    let net = match method {
        SegMethod::Saliency => Some(SaliencyNet::bundled(&pick_device())?),
        SegMethod::Engine => None,
    };
    let opts = ImportOptions::default();
    let mut rows = Vec::new();
    for folder in folders(dir)?.into_iter().take(limit.unwrap_or(usize::MAX)) {
        let photo = import_image(&folder.join("photo.jpg"), &opts)?.image;
        let size = Some((photo.width(), photo.height()));
        let truth = import_mask(&folder.join("gt.png"), "ground truth", size, &opts)?;
        let brush = import_mask(&folder.join("brush.png"), "brush", size, &opts)?;
        let started = Instant::now();
        let alpha = match &net {
            Some(net) => saliency_cut(net, &Rgb::from_premul(&photo), &brush)?,
            None => cut_out(&stages, &photo, &brush, 0)?,
        };
        let seconds = started.elapsed().as_secs_f64();
        let (iou, error) = score(&alpha, &truth);
        let name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        eprintln!("{name}: IoU {iou:.3}, error {error:.2} %, {seconds:.2} s");
        rows.push(SegRow { name, iou, error, seconds });
    }
    Ok(report(&rows, method))
}

fn report(rows: &[SegRow], method: SegMethod) -> String {
    let n = rows.len().max(1) as f64;
    let miou = rows.iter().map(|r| r.iou).sum::<f64>() / n;
    let bad = rows.iter().filter(|r| r.iou < 0.8).count();
    let worst: Vec<String> = {
        let mut sorted: Vec<&SegRow> = rows.iter().collect();
        sorted.sort_by(|a, b| a.iou.total_cmp(&b.iou));
        sorted.iter().take(5).map(|r| format!("{} {:.2}", r.name, r.iou)).collect()
    };
    let mut out = format!("### {method:?} cut, {} photos\n\n", rows.len());
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
