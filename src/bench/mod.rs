//! The synthetic benchmark: `synth` builds cases, `run` decomposes and scores them.

pub mod canvas;
pub mod score;
pub mod synth;

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::compositor::{composite_onto, Placed};
use crate::document::{BlendMode, PremulImage};
use crate::engine::mask::Mask;
use crate::engine::raster::Rgb;
use crate::engine::{decompose, DecomposeRequest, Decomposition, Quality};
use crate::io::{self, ImportOptions};
use score::{peer_prediction, score, Prediction, Scores, Truth};
use synth::EffectType;

/// Which brush the benchmark gives the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrushMode {
    /// The object only: effects must be found.
    Object,
    /// Object and effects brushed.
    Full,
}

pub struct Case {
    pub name: String,
    pub dir: PathBuf,
    pub effect: EffectType,
    pub floor: String,
    pub truth: Truth,
    pub mask_object: Mask,
    pub mask_full: Mask,
}

fn load_rgb(path: &Path) -> Result<Rgb, String> {
    Ok(Rgb::from_premul(&io::import_image(path, &ImportOptions::default()).map_err(|e| e.to_string())?.image))
}

fn load_premul(path: &Path) -> Result<PremulImage, String> {
    Ok(io::import_image(path, &ImportOptions::default()).map_err(|e| e.to_string())?.image)
}

fn load_mask(path: &Path) -> Result<Mask, String> {
    Ok(Mask::from_image(&load_premul(path)?))
}

/// Every case directory under `dir`, in name order.
pub fn load_cases(dir: &Path) -> Result<Vec<Case>, String> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("input.png").exists())
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        return Err(format!("{}: no cases (make some with `layerdecomp synth --out {}`)", dir.display(), dir.display()));
    }
    dirs.into_iter()
        .map(|d| {
            let meta = std::fs::read_to_string(d.join("meta.txt")).unwrap_or_default();
            let field = |k: &str| meta.lines().find_map(|l| l.strip_prefix(&format!("{k}="))).unwrap_or("").to_string();
            Ok(Case {
                name: d.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
                effect: EffectType::from_name(&field("effect")).unwrap_or(EffectType::None),
                floor: field("floor"),
                truth: Truth {
                    input: load_rgb(&d.join("input.png"))?,
                    background: load_rgb(&d.join("background.png"))?,
                    object: load_premul(&d.join("object.png"))?,
                    effects: load_premul(&d.join("effects.png"))?,
                },
                mask_object: load_mask(&d.join("mask_object.png"))?,
                mask_full: load_mask(&d.join("mask_full.png"))?,
                dir: d,
            })
        })
        .collect()
}

/// The object layer on a full canvas.
pub fn object_canvas(d: &Decomposition) -> PremulImage {
    let mut canvas = PremulImage::new(d.background.width(), d.background.height());
    composite_onto(&mut canvas, &Placed { x: d.object.x, y: d.object.y, pixels: std::borrow::Cow::Borrowed(&d.object.pixels) }, 1.0, BlendMode::Normal);
    canvas
}

pub struct Row {
    pub case: String,
    pub effect: EffectType,
    pub floor: String,
    pub scores: Scores,
    pub seconds: f64,
}

impl Case {
    /// The engine's decomposition of this case, brushed as `mode` says, with every core (a
    /// benchmark measures the engine; the editor leaves one core free).
    pub fn decompose(&self, mode: BrushMode, quality: Quality, effects: bool, seed: u64) -> Result<Decomposition, String> {
        let mut req = DecomposeRequest::new(self.mask_object.clone());
        req.quality = quality;
        req.seed = seed;
        req.detect_effects = effects;
        req.threads = std::thread::available_parallelism().ok().map(|n| n.get());
        if mode == BrushMode::Full {
            req.effect_hint = Some(self.mask_full.clone());
        }
        decompose(&self.truth.input.to_premul(), &req).map_err(|e| format!("{}: {e}", self.name))
    }
}

/// Decompose (or read a peer's background for) every case and score it.
pub fn run(cases: &[Case], mode: BrushMode, peer: Option<&str>, sheets: Option<&Path>, quality: Quality, effects: bool, seed: u64) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for case in cases {
        let brush = match mode {
            BrushMode::Object => &case.mask_object,
            BrushMode::Full => &case.mask_full,
        };
        let started = Instant::now();
        let pred = match peer {
            Some(name) => {
                let bg = load_rgb(&case.dir.join(format!("peer-{name}-{}", mode_name(mode))).join("background.png"))?;
                peer_prediction(&case.truth.input, brush, bg)
            }
            None => {
                let input = case.truth.input.to_premul();
                let d = case.decompose(mode, quality, effects, seed)?;
                if let Some(dir) = sheets {
                    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                    let shift = (-(input.width() as f32) * 0.25, 0.0);
                    let sheet = crate::engine::sheet::contact_sheet(&input, brush, &d, shift, 0.5);
                    io::write_png(&sheet, &dir.join(format!("{}.png", case.name)), io::PngDepth::Eight).map_err(|e| e.to_string())?;
                }
                Prediction { background: Rgb::from_premul(&d.background), object: object_canvas(&d), foreground: d.foreground }
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        rows.push(Row { case: case.name.clone(), effect: case.effect, floor: case.floor.clone(), scores: score(&case.truth, &pred), seconds });
    }
    Ok(rows)
}

pub fn mode_name(mode: BrushMode) -> &'static str {
    match mode {
        BrushMode::Object => "object",
        BrushMode::Full => "full",
    }
}

fn fmt(v: Option<f64>, digits: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.digits$}"),
        _ => "–".into(),
    }
}

fn mean(vals: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let v: Vec<f64> = vals.flatten().filter(|x| x.is_finite()).collect();
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// The markdown table: one row per case, a mean row, and per-effect means.
pub fn table(rows: &[Row], title: &str) -> String {
    let mut out = format!("### {title}\n\n");
    out.push_str("| case | effect | floor | hole PSNR | texture | effect PSNR | residual | α MAE | α MAE fx | obj α MAE | fg PSNR | recomp PSNR | s |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    let line = |name: &str, effect: &str, floor: &str, rs: &[&Row]| -> String {
        let m = |f: &dyn Fn(&Row) -> Option<f64>| mean(rs.iter().map(|r| f(r)));
        format!(
            "| {name} | {effect} | {floor} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            fmt(m(&|r| Some(r.scores.hole_psnr)), 2),
            fmt(m(&|r| Some(r.scores.texture_ratio)), 2),
            fmt(m(&|r| r.scores.effect_psnr), 2),
            fmt(m(&|r| r.scores.residual_effect), 3),
            fmt(m(&|r| Some(r.scores.alpha_mae)), 4),
            fmt(m(&|r| r.scores.alpha_mae_effect), 3),
            fmt(m(&|r| Some(r.scores.object_alpha_mae)), 4),
            fmt(m(&|r| Some(r.scores.fg_psnr)), 2),
            fmt(m(&|r| Some(r.scores.recomposition_psnr)), 2),
            fmt(m(&|r| Some(r.seconds)), 3),
        )
    };
    for r in rows {
        out.push_str(&line(&r.case, r.effect.name(), &r.floor, &[r]));
    }
    let all: Vec<&Row> = rows.iter().collect();
    out.push_str(&line("**mean**", "all", "", &all));
    for e in [EffectType::CastShadow, EffectType::ContactShadow, EffectType::Reflection, EffectType::None] {
        let sel: Vec<&Row> = rows.iter().filter(|r| r.effect == e).collect();
        if !sel.is_empty() {
            out.push_str(&line(&format!("mean ({})", sel.len()), e.name(), "", &sel));
        }
    }
    let mut secs: Vec<f64> = rows.iter().map(|r| r.seconds).collect();
    secs.sort_by(f64::total_cmp);
    if !secs.is_empty() {
        out.push_str(&format!("\nmedian seconds per case: {:.3}\n", secs[secs.len() / 2]));
    }
    out
}
