//! The command line: the same engine and exporters as the editor, for scripts and tests.
//!
//! `anyhow` lives only here and in `main.rs`; the library returns typed errors.

use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use clap::{Parser, Subcommand};

use crate::document::{BlendMode, LayerKind, LayerStack, NewLayer, Transform};
use crate::io::{self, ImportOptions};

#[derive(Parser, Debug)]
#[command(name = "layerdecomp", version, about = "Peel a photo into editable layers.")]
pub struct Cli {
    /// Image or project to open in the editor (the bundled sample when omitted).
    pub file: Option<PathBuf>,

    /// Refuse images larger than this many megapixels.
    #[arg(long, global = true, default_value_t = io::DEFAULT_MAX_PIXELS as f64 / 1e6)]
    pub max_megapixels: f64,

    #[command(flatten)]
    pub editor: EditorArgs,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Options of the editor window (no subcommand).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct EditorArgs {
    /// Measure frame times; print the longest (overall and while decomposing) at exit.
    #[arg(long)]
    pub debug_timing: bool,
    /// Start with this PNG as the object mask (white = object).
    #[arg(long, value_name = "PNG")]
    pub object_mask: Option<PathBuf>,
    /// Start decomposing as soon as the window opens (needs a mask).
    #[arg(long)]
    pub decompose: bool,
    /// Close the window when that decomposition ends (scripted measurements).
    #[arg(long)]
    pub exit_after_decompose: bool,
    /// Seconds between autosaves of unsaved work to the recovery file.
    #[arg(long, default_value_t = 120)]
    pub autosave_secs: u64,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build a layered file (PSD, ORA, or a directory of PNGs) from images.
    #[command(after_help = COMPOSE_HELP)]
    Compose {
        /// --background IMG, then any number of --layer IMG each followed by its options.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, value_name = "ARGS")]
        args: Vec<String>,
    },
    /// List the layers of a PSD or OpenRaster file.
    Info {
        file: PathBuf,
    },
    /// Peel the brushed object (and its effects) off a photo.
    Decompose(DecomposeArgs),
    /// Build synthetic multi-layer cases with ground truth from real photographs.
    Synth {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 36)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Folder with the source photographs (scripts/fetch_sources.sh fills data/sources).
        #[arg(long, default_value = "data/sources")]
        sources: PathBuf,
    },
    /// Time the GPU canvas while dragging an object and its shadow over a large background.
    CanvasBench {
        #[arg(long, default_value_t = 6000)]
        width: u32,
        #[arg(long, default_value_t = 4000)]
        height: u32,
        #[arg(long, default_value_t = 200)]
        frames: usize,
        /// View size in pixels, WxH.
        #[arg(long, default_value = "1920x1080")]
        view: String,
        /// View zoom (0 = fit the canvas in the view).
        #[arg(long, default_value_t = 0.0)]
        zoom: f32,
    },
    /// Decompose every synthetic case in DIR and print a markdown table of scores.
    Bench {
        dir: PathBuf,
        /// object: brush only the object; full: object and effects.
        #[arg(long, default_value = "object")]
        mask: String,
        /// Score a peer's backgrounds (DIR/case/peer-NAME-MODE/background.png) instead.
        #[arg(long)]
        peer: Option<String>,
        /// Write a contact sheet per case here.
        #[arg(long)]
        sheets: Option<PathBuf>,
        #[arg(long, default_value = "balanced")]
        quality: String,
        /// Skip shadow/reflection detection (to measure what effects cost).
        #[arg(long)]
        no_effects: bool,
        /// The engine's random seed (the fill's PatchMatch): scores under a few seeds show how
        /// much of a difference between two runs is the fill's luck.
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
}

#[derive(clap::Args, Debug)]
pub struct DecomposeArgs {
    /// The photo.
    pub input: PathBuf,
    /// Brush over the object: white (or any non-black, or non-transparent) pixels mark it.
    #[arg(long)]
    pub mask: PathBuf,
    /// Brush over shadows/reflections to remove with the object.
    #[arg(long)]
    pub effects_mask: Option<PathBuf>,
    /// Pixels that must not change.
    #[arg(long)]
    pub protect: Option<PathBuf>,
    /// fast | balanced | best
    #[arg(long, default_value = "balanced")]
    pub quality: String,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Also write a contact sheet (input+brush | background | foreground | object moved) here.
    #[arg(long)]
    pub sheet: Option<PathBuf>,
    /// A .psd or .ora file, or a directory that receives background.png, foreground.png,
    /// object.png and effects.png.
    #[arg(long)]
    pub out: PathBuf,
}

const COMPOSE_HELP: &str = "\
Arguments:
  --background IMG     the bottom layer; sets the canvas size (required, first)
  --layer IMG          add a layer on top; the options below apply to the last --layer:
    --at X,Y           position of its top-left corner (default 0,0)
    --scale F          uniform scale (default 1)
    --opacity F        0..1 (default 1)
    --blend MODE       normal | multiply (default normal)
    --name NAME        layer name (default: the file name)
    --kind KIND        object | shadow | reflection | effect (default object)
    --link NAME        move with the layer called NAME (an effect with its object)
    --hidden           start hidden
  --out PATH           .psd, .ora, or a directory that receives one PNG per layer + flattened.png

Example:
  layerdecomp compose --background bg.png --layer shadow.png --at 120,80 --opacity 0.6 \\
      --blend multiply --name shadow --layer obj.png --at 100,40 --name cup --out out.psd";

impl Cli {
    pub fn editor_options(&self) -> crate::ui::EditorOptions {
        let e = &self.editor;
        crate::ui::EditorOptions {
            import: self.import_options(),
            debug_timing: e.debug_timing,
            object_mask: e.object_mask.clone(),
            decompose_on_start: e.decompose,
            exit_after_decompose: e.exit_after_decompose,
            autosave_every: std::time::Duration::from_secs(e.autosave_secs.max(5)),
            ..Default::default()
        }
    }

    pub fn import_options(&self) -> ImportOptions {
        ImportOptions { max_pixels: (self.max_megapixels * 1e6).max(1.0) as u64 }
    }
}

/// Run a subcommand. `Ok(false)` means there was none (the caller opens the editor).
pub fn run(cli: &Cli) -> Result<bool> {
    match &cli.command {
        None => Ok(false),
        Some(Command::Compose { args }) => {
            let plan = ComposePlan::parse(args)?;
            let stack = plan.build(&cli.import_options())?;
            io::export(&stack, &plan.out)?;
            eprintln!("wrote {} ({} layers)", plan.out.display(), stack.layers().len());
            Ok(true)
        }
        Some(Command::Info { file }) => {
            print!("{}", info(file, &cli.import_options())?);
            Ok(true)
        }
        Some(Command::Synth { out, count, seed, sources }) => {
            let src = crate::bench::synth::Sources::load(sources).map_err(|e| anyhow!(e))?;
            for i in 0..*count {
                let case = crate::bench::synth::generate(&src, *seed, i);
                crate::bench::synth::write_case(&case, &out.join(format!("case{i:03}")))?;
            }
            eprintln!("wrote {count} cases to {}", out.display());
            Ok(true)
        }
        Some(Command::CanvasBench { width, height, frames, view, zoom }) => {
            let (vw, vh) = view.split_once('x').and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?))).ok_or_else(|| anyhow!("--view must be WxH, e.g. 1920x1080"))?;
            let r = crate::bench::canvas::run(*width, *height, *frames, [vw, vh], *zoom).map_err(|e| anyhow!(e))?;
            print!("{}", r.report(*width, *height, [vw, vh]));
            Ok(true)
        }
        Some(Command::Bench { dir, mask, peer, sheets, quality, no_effects, seed }) => {
            let mode = match mask.as_str() {
                "object" => crate::bench::BrushMode::Object,
                "full" => crate::bench::BrushMode::Full,
                other => bail!("--mask {other}: expected object or full"),
            };
            let quality = crate::cli_decompose::parse_quality(quality)?;
            let cases = crate::bench::load_cases(dir).map_err(|e| anyhow!(e))?;
            let rows = crate::bench::run(&cases, mode, peer.as_deref(), sheets.as_deref(), quality, !*no_effects, *seed).map_err(|e| anyhow!(e))?;
            let who = peer.clone().unwrap_or_else(|| "layerdecomp".into());
            let effects = if *no_effects { ", effects off" } else { "" };
            print!("{}", crate::bench::table(&rows, &format!("{who}, --mask {}{effects}", crate::bench::mode_name(mode))));
            Ok(true)
        }
        Some(Command::Decompose(args)) => {
            crate::cli_decompose::run(args, &cli.import_options())?;
            Ok(true)
        }
    }
}

struct LayerSpec {
    path: PathBuf,
    at: (f32, f32),
    scale: f32,
    opacity: f32,
    blend: BlendMode,
    name: Option<String>,
    kind: LayerKind,
    link: Option<String>,
    hidden: bool,
}

struct ComposePlan {
    background: PathBuf,
    layers: Vec<LayerSpec>,
    out: PathBuf,
}

impl ComposePlan {
    fn parse(args: &[String]) -> Result<Self> {
        let mut background = None;
        let mut out = None;
        let mut layers: Vec<LayerSpec> = Vec::new();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
            match flag.as_str() {
                "--background" => background = Some(PathBuf::from(value()?)),
                "--out" | "-o" => out = Some(PathBuf::from(value()?)),
                "--layer" => layers.push(LayerSpec {
                    path: PathBuf::from(value()?),
                    at: (0.0, 0.0),
                    scale: 1.0,
                    opacity: 1.0,
                    blend: BlendMode::Normal,
                    name: None,
                    kind: LayerKind::Object,
                    link: None,
                    hidden: false,
                }),
                "--at" | "--opacity" | "--scale" | "--blend" | "--name" | "--kind" | "--link" | "--hidden" => {
                    let Some(l) = layers.last_mut() else { bail!("{flag} must follow a --layer") };
                    match flag.as_str() {
                        "--at" => l.at = parse_pair(value()?)?,
                        "--opacity" => l.opacity = parse_unit(value()?, "--opacity")?,
                        "--scale" => {
                            let v = value()?;
                            l.scale = v.parse().ok().filter(|s: &f32| s.is_finite() && *s > 0.0).ok_or_else(|| anyhow!("--scale {v}: expected a positive number"))?;
                        }
                        "--blend" => {
                            let v = value()?;
                            l.blend = BlendMode::from_name(v).ok_or_else(|| anyhow!("--blend {v}: expected normal or multiply"))?;
                        }
                        "--name" => l.name = Some(value()?.clone()),
                        "--kind" => {
                            let v = value()?;
                            l.kind = LayerKind::from_name(v).filter(|k| *k != LayerKind::Background).ok_or_else(|| anyhow!("--kind {v}: expected object, shadow, reflection or effect"))?;
                        }
                        "--link" => l.link = Some(value()?.clone()),
                        _ => l.hidden = true,
                    }
                }
                other => bail!("compose: unknown argument {other} (see layerdecomp compose --help)"),
            }
        }
        Ok(Self {
            background: background.ok_or_else(|| anyhow!("compose needs --background IMG"))?,
            layers,
            out: out.ok_or_else(|| anyhow!("compose needs --out PATH (.psd, .ora or a directory)"))?,
        })
    }

    fn build(&self, opts: &ImportOptions) -> Result<LayerStack> {
        let bg = load(&self.background, opts)?;
        let mut stack = LayerStack::from_background(bg);
        for spec in &self.layers {
            let pixels = load(&spec.path, opts)?;
            let name = spec.name.clone().unwrap_or_else(|| {
                spec.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "Layer".into())
            });
            let mut new = NewLayer::new(name, pixels)
                .transform(Transform { x: spec.at.0, y: spec.at.1, scale_x: spec.scale, scale_y: spec.scale })
                .opacity(spec.opacity)
                .blend(spec.blend)
                .visible(!spec.hidden)
                .kind(spec.kind);
            if let Some(target) = &spec.link {
                let id = stack.by_name(target).map(|l| l.id).ok_or_else(|| anyhow!("--link {target}: no earlier layer has that name"))?;
                new = new.linked_to(id);
            }
            stack.push(new);
        }
        Ok(stack)
    }
}

pub(crate) fn load(path: &Path, opts: &ImportOptions) -> Result<crate::document::PremulImage> {
    let imported = io::import_image(path, opts)?;
    for w in &imported.warnings {
        eprintln!("warning: {}: {w}", path.display());
    }
    Ok(imported.image)
}

fn parse_pair(v: &str) -> Result<(f32, f32)> {
    let parts: Vec<&str> = v.split(',').collect();
    match parts[..] {
        [x, y] => match (x.trim().parse::<f32>(), y.trim().parse::<f32>()) {
            (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => Ok((x, y)),
            _ => bail!("--at {v}: expected two numbers X,Y"),
        },
        _ => bail!("--at {v}: expected X,Y"),
    }
}

fn parse_unit(v: &str, flag: &str) -> Result<f32> {
    v.parse::<f32>().ok().filter(|o| (0.0..=1.0).contains(o)).ok_or_else(|| anyhow!("{flag} {v}: expected a number from 0 to 1"))
}

/// A table of a PSD's or ORA's layers, top first as layer panels show them.
pub fn info(path: &Path, opts: &ImportOptions) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read the file", path.display()))?;
    struct Row {
        name: String,
        bounds: (i64, i64, i64, i64),
        opacity: f32,
        blend: String,
        visible: bool,
    }
    let (w, h, format, rows) = if bytes.starts_with(b"8BPS") {
        let psd = io::read_psd_info(&bytes).map_err(|d| anyhow!("{}: corrupt or unsupported PSD: {d}", path.display()))?;
        let rows = psd
            .layers
            .iter()
            .map(|l| Row {
                name: l.name.clone(),
                bounds: (l.left as i64, l.top as i64, (l.right - l.left) as i64, (l.bottom - l.top) as i64),
                opacity: l.opacity as f32 / 255.0,
                blend: match l.blend_key.as_str() {
                    "norm" => "normal".to_string(),
                    "mul " => "multiply".to_string(),
                    k => format!("'{k}'"),
                },
                visible: l.visible,
            })
            .collect::<Vec<_>>();
        (psd.width, psd.height, "PSD", rows)
    } else if bytes.starts_with(b"PK") {
        let stack = io::ora::decode_ora(&bytes, path, opts)?;
        let rows = stack
            .layers()
            .iter()
            .map(|l| {
                let p = crate::compositor::place(l);
                Row {
                    name: l.name.clone(),
                    bounds: (p.x as i64, p.y as i64, p.pixels.width() as i64, p.pixels.height() as i64),
                    opacity: l.opacity,
                    blend: l.blend.name().to_string(),
                    visible: l.visible,
                }
            })
            .collect();
        (stack.width(), stack.height(), "OpenRaster", rows)
    } else {
        bail!("{}: not a PSD or OpenRaster file", path.display());
    };
    let mut out = format!("{}: {format}, {w}×{h}, {} layers (top first)\n", path.display(), rows.len());
    out.push_str(&format!("{:<3} {:<24} {:>6} {:>6} {:>6} {:>6}  {:>7}  {:<9} {}\n", "#", "name", "x", "y", "w", "h", "opacity", "blend", "visible"));
    for (i, r) in rows.iter().enumerate().rev() {
        let (x, y, bw, bh) = r.bounds;
        out.push_str(&format!(
            "{i:<3} {:<24} {x:>6} {y:>6} {bw:>6} {bh:>6}  {:>6.0}%  {:<9} {}\n",
            r.name,
            r.opacity * 100.0,
            r.blend,
            if r.visible { "yes" } else { "no" }
        ));
    }
    Ok(out)
}
