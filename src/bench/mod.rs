//! The synthetic benchmark: `synth` builds cases, `run` decomposes and scores them.

pub mod canvas;
mod score;
mod seg;
mod shadows;
mod verdicts;

use std::path::{Path, PathBuf};
use std::time::Instant;

use layerdecomp::compositor::{composite_onto, Placed};
use layerdecomp::document::{BlendMode, PremulImage};
use layerdecomp::engine::{decompose_with, DecomposeRequest, Decomposition, Quality, Stages};
use layerdecomp::io::{self, ImportOptions};
use layerdecomp::raster::Rgb;
use layerdecomp::synth::{read_cases, Case, SCENES};
use score::{peer_prediction, score, Prediction, Scores};
use verdicts::{effect_verdicts, EffectVerdicts};

/// `layerdecomp bench`: the synthetic benchmark's options.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// A folder of cases written by `layerdecomp synth`.
    #[arg(required_unless_present_any = ["seg", "shadows"])]
    pub dir: Option<PathBuf>,
    /// Score the object cut on real photos instead: folders of photo.jpg, gt.png, brush.png.
    #[arg(long, value_name = "DIR", conflicts_with = "dir")]
    pub seg: Option<PathBuf>,
    /// Score shadow removal on real photos instead: folders of photo.jpg, gt.jpg (the scene
    /// without the shadow), shadow.png, brush.png and peers/ (published methods' results).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["dir", "seg"])]
    pub shadows: Option<PathBuf>,
    /// With --seg: which cut to score.
    #[arg(long, value_enum, default_value = "engine")]
    pub method: seg::SegMethod,
    /// With --seg or --shadows: only the first N photos.
    #[arg(long)]
    pub limit: Option<usize>,
    /// With --seg: score the engine's cut under each of these weights of the network's prior.
    #[arg(long, value_delimiter = ',')]
    pub prior_weights: Vec<f32>,
    /// With --seg: write each photo's alpha here (16-bit PNG, named after its folder), for
    /// `scripts/seg_peers.py --matting`.
    #[arg(long, value_name = "DIR")]
    pub save_alpha: Option<PathBuf>,
    /// With --seg and --prior-weights: keep the network's prior maps here and reuse them on the
    /// next run (fitting the fusion without re-running the network).
    #[arg(long, value_name = "DIR", requires = "prior_weights")]
    pub prior_cache: Option<PathBuf>,
    /// object: brush only the object; full: object and effects.
    #[arg(long, default_value = "object")]
    pub mask: String,
    /// Score a peer's backgrounds (DIR/case/peer-NAME-MODE/background.png) instead.
    #[arg(long)]
    pub peer: Option<String>,
    /// Write a contact sheet per case here.
    #[arg(long)]
    pub sheets: Option<PathBuf>,
    #[arg(long, default_value = "balanced")]
    pub quality: String,
    /// Skip shadow/reflection detection (to measure what effects cost).
    #[arg(long)]
    pub no_effects: bool,
    /// The engine's random seed (the fill's PatchMatch): scores under a few seeds show how
    /// much of a difference between two runs is the fill's luck.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Which brush the benchmark gives the engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrushMode {
    /// The object only: effects must be found.
    Object,
    /// Object and effects brushed.
    Full,
}

/// The object layer on a full canvas.
pub fn object_canvas(d: &Decomposition) -> PremulImage {
    let mut canvas = PremulImage::new(d.background.width(), d.background.height());
    composite_onto(
        &mut canvas,
        &Placed { x: d.object.x, y: d.object.y, pixels: std::borrow::Cow::Borrowed(&d.object.pixels) },
        1.0,
        BlendMode::Normal,
    );
    canvas
}

pub struct Row {
    pub case: String,
    pub scene: String,
    pub floor: String,
    /// What the wide generator varied; empty for classic cases.
    pub variation: String,
    pub scores: Scores,
    /// The engine's effect layers judged (none for a peer, which reports no effects).
    pub verdicts: Option<EffectVerdicts>,
    pub seconds: f64,
}

/// The engine's decomposition of `case`, brushed as `mode` says, with every core (a benchmark
/// measures the engine; the editor leaves one core free).
pub fn decompose_case(
    case: &Case,
    mode: BrushMode,
    quality: Quality,
    effects: bool,
    seed: u64,
) -> Result<Decomposition, String> {
    let mut req = DecomposeRequest::new(case.mask_object.clone());
    req.quality = quality;
    req.seed = seed;
    req.detect_effects = effects;
    req.threads = std::thread::available_parallelism().ok().map(|n| n.get());
    if mode == BrushMode::Full {
        req.effect_hint = Some(case.mask_full.clone());
    }
    decompose_with(&Stages::for_quality(quality), &case.truth.input.to_premul(), &req)
        .map_err(|e| format!("{}: {e}", case.name))
}

/// Decompose (or read a peer's background for) every case and score it.
pub fn run(
    cases: &[Case],
    mode: BrushMode,
    peer: Option<&str>,
    sheets: Option<&Path>,
    quality: Quality,
    effects: bool,
    seed: u64,
) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    for case in cases {
        let brush = match mode {
            BrushMode::Object => &case.mask_object,
            BrushMode::Full => &case.mask_full,
        };
        let started = Instant::now();
        let mut verdicts = None;
        let pred = match peer {
            Some(name) => {
                let path = case.dir.join(format!("peer-{name}-{}", mode_name(mode))).join("background.png");
                let bg = Rgb::from_premul(
                    &io::import_image(&path, &ImportOptions::default()).map_err(|e| e.to_string())?.image,
                );
                peer_prediction(&case.truth.input, brush, bg)
            }
            None => {
                let input = case.truth.input.to_premul();
                let d = decompose_case(case, mode, quality, effects, seed)?;
                if let Some(dir) = sheets {
                    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                    let shift = (-(input.width() as f32) * 0.25, 0.0);
                    let sheet = layerdecomp::engine::contact_sheet(&input, brush, &d, shift, 0.5);
                    io::write_png(&sheet, &dir.join(format!("{}.png", case.name)), io::PngDepth::Eight)
                        .map_err(|e| e.to_string())?;
                }
                verdicts = Some(effect_verdicts(&case.truth, &d.effects));
                Prediction {
                    background: Rgb::from_premul(&d.background),
                    object: object_canvas(&d),
                    foreground: d.foreground,
                }
            }
        };
        let seconds = started.elapsed().as_secs_f64();
        rows.push(Row {
            case: case.name.clone(),
            scene: case.scene.clone(),
            floor: case.floor.clone(),
            variation: case.variation.clone(),
            scores: score(&case.truth, &pred),
            verdicts,
            seconds,
        });
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
        out.push_str(&line(&r.case, &r.scene, &r.floor, &[r]));
    }
    let all: Vec<&Row> = rows.iter().collect();
    out.push_str(&line("**mean**", "all", "", &all));
    for scene in SCENES {
        let sel: Vec<&Row> = rows.iter().filter(|r| r.scene == scene).collect();
        if !sel.is_empty() {
            out.push_str(&line(&format!("mean ({})", sel.len()), scene, "", &sel));
        }
    }
    let mut variations: Vec<&str> = rows.iter().map(|r| r.variation.as_str()).filter(|v| !v.is_empty()).collect();
    variations.sort();
    variations.dedup();
    for variation in variations {
        let sel: Vec<&Row> = rows.iter().filter(|r| r.variation == variation).collect();
        out.push_str(&line(&format!("mean ({})", sel.len()), &sel[0].scene, variation, &sel));
    }
    let cases: Vec<verdicts::CaseSummary<'_>> = rows
        .iter()
        .map(|r| verdicts::CaseSummary {
            case: &r.case,
            scene: &r.scene,
            residual: r.scores.residual_effect,
            verdicts: r.verdicts.as_ref(),
        })
        .collect();
    out.push_str(&verdicts::summary(&cases));
    let mut secs: Vec<f64> = rows.iter().map(|r| r.seconds).collect();
    secs.sort_by(f64::total_cmp);
    if !secs.is_empty() {
        out.push_str(&format!("\nmedian seconds per case: {:.3}\n", secs[secs.len() / 2]));
    }
    out
}

/// `layerdecomp bench DIR`: decompose (or read a peer's result for) every case and return the
/// markdown table.
pub fn run_command(args: &BenchArgs, quality: Quality) -> anyhow::Result<String> {
    if let Some(dir) = &args.shadows {
        return shadows::run(dir, args.limit);
    }
    if let Some(dir) = &args.seg {
        return seg::run(
            dir,
            args.method,
            args.limit,
            &args.prior_weights,
            args.save_alpha.as_deref(),
            args.prior_cache.as_deref(),
        );
    }
    let dir = args.dir.as_deref().ok_or_else(|| anyhow::anyhow!("bench needs a folder of synthetic cases"))?;
    let mode = match args.mask.as_str() {
        "object" => BrushMode::Object,
        "full" => BrushMode::Full,
        other => anyhow::bail!("--mask {other}: expected object or full"),
    };
    let cases = read_cases(dir)?;
    let effects = !args.no_effects;
    let rows = run(&cases, mode, args.peer.as_deref(), args.sheets.as_deref(), quality, effects, args.seed)
        .map_err(|e| anyhow::anyhow!(e))?;
    let who = args.peer.clone().unwrap_or_else(|| "layerdecomp".into());
    let effects = if effects { "" } else { ", effects off" };
    Ok(table(&rows, &format!("{who}, --mask {}{effects}", mode_name(mode))))
}
