//! `layerdecomp bench --shadows DIR`: a brushed shadow taken out of real photos, against the
//! same scene photographed without it. Each folder of DIR holds `photo.jpg` (with the shadow),
//! `gt.jpg` (without), `shadow.png` (where the shadow is), `brush.png` (a loose brush over it)
//! and `peers/NAME.jpg` (published methods' results), as `../shared/realdata/shadows-dev` does.
//!
//! Scored as the shadow-removal literature does: RMSE in CIE L\*a\*b\* over the shadow (S), the
//! lit rest (N) and all pixels (A); PSNR over the shadow (8-bit RGB); and the share of the
//! shadow's L\* deficit made up ("fixed": mean L\* gained over S ÷ mean L\* missing there).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{anyhow, Context, Result};
use layerdecomp::engine::{remove_shadow, CancelToken, Quality, Stages};
use layerdecomp::io::{import_image, import_mask, ImportOptions};
use layerdecomp::raster::Mask;
use layerdecomp::PremulImage;

/// The published methods whose results each folder's `peers/` holds.
const PEERS: [&str; 5] = ["guo12", "zhang15", "su10", "gong14", "gong17"];

/// One result's scores on one photo.
#[derive(Clone, Copy, Default)]
struct ShadowScores {
    rmse_shadow: f64,
    rmse_lit: f64,
    rmse_all: f64,
    psnr_shadow: f64,
    fixed: f64,
}

/// An image as 8-bit sRGB, the way it would be written out.
type Srgb8 = Vec<[u8; 3]>;

fn to_srgb8(img: &PremulImage) -> Srgb8 {
    img.to_straight_rgba8().pixels().map(|p| [p[0], p[1], p[2]]).collect()
}

/// CIE L\*a\*b\* (D65) of an 8-bit sRGB colour.
fn lab(p: [u8; 3]) -> [f64; 3] {
    let lin = p.map(|v| {
        let c = v as f64 / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    });
    let x = (0.4124564 * lin[0] + 0.3575761 * lin[1] + 0.1804375 * lin[2]) / 0.95047;
    let y = 0.2126729 * lin[0] + 0.7151522 * lin[1] + 0.0721750 * lin[2];
    let z = (0.0193339 * lin[0] + 0.119192 * lin[1] + 0.9503041 * lin[2]) / 1.08883;
    let f = |t: f64| if t > 216.0 / 24389.0 { t.cbrt() } else { (24389.0 / 27.0 * t + 16.0) / 116.0 };
    let (fx, fy, fz) = (f(x), f(y), f(z));
    [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
}

/// `result` against `truth` over `shadow` (and the rest); `photo` is what the shadow left.
fn score(
    result: &[[f64; 3]],
    result8: &Srgb8,
    truth: &[[f64; 3]],
    truth8: &Srgb8,
    photo: &[[f64; 3]],
    shadow: &Mask,
) -> ShadowScores {
    let (mut se, mut n) = ([0.0f64; 2], [0usize; 2]);
    let (mut sq8, mut gained, mut missing) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..result.len() {
        let d2: f64 = (0..3).map(|c| (result[i][c] - truth[i][c]).powi(2)).sum();
        let k = shadow.at(i) as usize;
        se[k] += d2;
        n[k] += 1;
        if shadow.at(i) {
            sq8 += (0..3).map(|c| (result8[i][c] as f64 - truth8[i][c] as f64).powi(2)).sum::<f64>();
            gained += result[i][0] - photo[i][0];
            missing += truth[i][0] - photo[i][0];
        }
    }
    let rmse = |e: f64, n: usize| if n == 0 { 0.0 } else { (e / n as f64).sqrt() };
    let mse8 = sq8 / (3 * n[1].max(1)) as f64;
    ShadowScores {
        rmse_shadow: rmse(se[1], n[1]),
        rmse_lit: rmse(se[0], n[0]),
        rmse_all: rmse(se[0] + se[1], n[0] + n[1]),
        psnr_shadow: 10.0 * (255.0 * 255.0 / mse8.max(1e-9)).log10(),
        fixed: if missing.abs() < 1e-9 { 0.0 } else { gained / missing },
    }
}

/// The photo folders under `dir`, in name order.
fn folders(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read the folder", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| ["photo.jpg", "gt.jpg", "shadow.png", "brush.png"].iter().all(|f| p.join(f).exists()))
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(anyhow!("{}: no folders with photo.jpg, gt.jpg, shadow.png and brush.png", dir.display()));
    }
    Ok(dirs)
}

/// The mean of each score over the photos.
fn mean(rows: &[ShadowScores]) -> ShadowScores {
    let n = rows.len().max(1) as f64;
    let sum = |f: fn(&ShadowScores) -> f64| rows.iter().map(f).sum::<f64>() / n;
    ShadowScores {
        rmse_shadow: sum(|s| s.rmse_shadow),
        rmse_lit: sum(|s| s.rmse_lit),
        rmse_all: sum(|s| s.rmse_all),
        psnr_shadow: sum(|s| s.psnr_shadow),
        fixed: sum(|s| s.fixed),
    }
}

/// Score every folder of `dir`: the photo untouched, each peer, and ours; the markdown report.
/// A photo the engine refuses counts as left untouched, and is named.
pub fn run(dir: &Path, limit: Option<usize>) -> Result<String> {
    let opts = ImportOptions::default();
    let stages = Stages::classical(Quality::Balanced);
    let mut untouched = Vec::new();
    let mut ours = Vec::new();
    let mut peers: Vec<Vec<ShadowScores>> = PEERS.iter().map(|_| Vec::new()).collect();
    let (mut failures, mut seconds) = (Vec::new(), 0.0f64);
    for folder in folders(dir)?.into_iter().take(limit.unwrap_or(usize::MAX)) {
        let name = folder.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let photo = import_image(&folder.join("photo.jpg"), &opts)?.image;
        let size = Some((photo.width(), photo.height()));
        let truth = import_image(&folder.join("gt.jpg"), &opts)?.image;
        if (truth.width(), truth.height()) != (photo.width(), photo.height()) {
            return Err(anyhow!("{name}: gt.jpg is not the photo's size"));
        }
        let shadow = import_mask(&folder.join("shadow.png"), "shadow", size, &opts)?;
        let brush = import_mask(&folder.join("brush.png"), "brush", size, &opts)?;
        let (photo8, truth8) = (to_srgb8(&photo), to_srgb8(&truth));
        let (photo_lab, truth_lab): (Vec<_>, Vec<_>) =
            (photo8.iter().map(|&p| lab(p)).collect(), truth8.iter().map(|&p| lab(p)).collect());
        let judge = |result8: &Srgb8| {
            let result_lab: Vec<[f64; 3]> = result8.iter().map(|&p| lab(p)).collect();
            score(&result_lab, result8, &truth_lab, &truth8, &photo_lab, &shadow)
        };
        untouched.push(judge(&photo8));
        for (peer, rows) in PEERS.iter().zip(peers.iter_mut()) {
            let path = folder.join("peers").join(format!("{peer}.jpg"));
            if let Ok(img) = import_image(&path, &opts) {
                if (img.image.width(), img.image.height()) == (photo.width(), photo.height()) {
                    rows.push(judge(&to_srgb8(&img.image)));
                }
            }
        }
        let started = Instant::now();
        let result = remove_shadow(&stages, &photo, &brush, &CancelToken::new());
        seconds += started.elapsed().as_secs_f64();
        let s = match result {
            Ok(removal) => judge(&to_srgb8(&removal.background)),
            Err(e) => {
                failures.push(format!("{name} ({e})"));
                judge(&photo8)
            }
        };
        let best_peer = peers.iter().filter_map(|rows| rows.last()).map(|p| p.rmse_shadow).fold(f64::MAX, f64::min);
        eprintln!(
            "{name}: RMSE S {:.2} N {:.2} A {:.2}, PSNR S {:.2}, fixed {:.2} (untouched S {:.2}, best peer S {:.2})",
            s.rmse_shadow,
            s.rmse_lit,
            s.rmse_all,
            s.psnr_shadow,
            s.fixed,
            untouched.last().map_or(0.0, |u| u.rmse_shadow),
            best_peer
        );
        ours.push(s);
    }
    let row = |label: String, s: ShadowScores| {
        format!(
            "| {label} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
            s.rmse_shadow, s.rmse_lit, s.rmse_all, s.psnr_shadow, s.fixed
        )
    };
    let n = ours.len();
    let mut out =
        format!("| method ({n} photos) | RMSE S | RMSE N | RMSE A | PSNR S | fixed |\n|---|---|---|---|---|---|\n");
    out += &row("the photo untouched".into(), mean(&untouched));
    for (peer, rows) in PEERS.iter().zip(&peers) {
        let note = if rows.len() == n { String::new() } else { format!(" ({} photos)", rows.len()) };
        out += &row(format!("{peer}{note}"), mean(rows));
    }
    out += &row(format!("layerdecomp remove-shadow ({:.2} s / photo)", seconds / n.max(1) as f64), mean(&ours));
    out += &format!(
        "\nFailures (scored as the photo untouched): {}\n",
        if failures.is_empty() { "none".to_string() } else { failures.join(", ") }
    );
    Ok(out)
}
