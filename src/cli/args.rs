//! The command line's grammar: the editor's options and the subcommands (clap).

use std::path::PathBuf;

use clap::{Parser, Subcommand};
use layerdecomp::io::{self, ImportOptions};

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
    /// Run "Select subject" as soon as the window opens.
    #[arg(long)]
    pub select_subject: bool,
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
    Info { file: PathBuf },
    /// Peel the brushed object (and its effects) off a photo.
    Decompose(DecomposeArgs),
    /// Take a brushed shadow out of a photo on its own (no object): the clean photo, and the
    /// shadow as its own Multiply layer.
    RemoveShadow(RemoveShadowArgs),
    /// Build synthetic multi-layer cases with ground truth from real photographs.
    Synth {
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 36)]
        count: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The wide generator: shadows the engine's models do not describe (area lights, walls,
        /// steps, two lights, occlusion, bounce light, blurred reflections) and no-shadow
        /// controls on shaded or stained floors. Tune on one seed, report another.
        #[arg(long)]
        wide: bool,
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
    Bench(crate::bench::BenchArgs),
}

#[derive(clap::Args, Debug)]
pub struct DecomposeArgs {
    /// The photo.
    pub input: PathBuf,
    /// Brush over the object: white (or any non-black, or non-transparent) pixels mark it.
    #[arg(long, required_unless_present = "auto_mask")]
    pub mask: Option<PathBuf>,
    /// No brush: select the photo's subject with the saliency network ("Select subject").
    #[arg(long, conflicts_with = "mask")]
    pub auto_mask: bool,
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

#[derive(clap::Args, Debug)]
pub struct RemoveShadowArgs {
    /// The photo.
    pub input: PathBuf,
    /// Brush over the shadow (loosely; any share of the photo): white pixels mark it.
    #[arg(long)]
    pub mask: PathBuf,
    /// A directory that receives background.png and shadow.png (the Multiply layer), a layered
    /// .psd or .ora (Background, then Shadow in Multiply), or a flat .png / .jpg (the clean
    /// photo alone).
    #[arg(long)]
    pub out: PathBuf,
    /// Print nothing but errors.
    #[arg(long)]
    pub quiet: bool,
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
  --out PATH           .psd, .ora, a directory that receives one PNG per layer + flattened.png,
                       or a flattened .png / .jpg

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
            select_subject_on_start: e.select_subject,
            exit_after_decompose: e.exit_after_decompose,
            autosave_every: std::time::Duration::from_secs(e.autosave_secs.max(5)),
            ..Default::default()
        }
    }

    pub fn import_options(&self) -> ImportOptions {
        ImportOptions { max_pixels: (self.max_megapixels * 1e6).max(1.0) as u64 }
    }
}
