//! `layerdecomp remove-shadow`: a brushed shadow taken out on its own, with the same engine and
//! exporters as the editor.

use std::time::Instant;

use anyhow::{anyhow, bail, Context, Result};

use super::args::RemoveShadowArgs;
use super::input::{load, load_mask};
use layerdecomp::engine::{remove_shadow, CancelToken, Quality, Stages};
use layerdecomp::io::{self, ExportFormat, ImportOptions, PngDepth};
use layerdecomp::LayerStack;

pub fn run(args: &RemoveShadowArgs, opts: &ImportOptions) -> Result<()> {
    let image = load(&args.input, opts)?;
    let (w, h) = (image.width(), image.height());
    let brush = load_mask(&args.mask, "shadow mask", Some((w, h)), opts)?;
    if brush.is_empty() {
        bail!("{}: the mask is empty (no painted pixel)", args.mask.display());
    }
    let started = Instant::now();
    let removal = remove_shadow(&Stages::classical(Quality::Balanced), &image, &brush, &CancelToken::new())
        .map_err(|e| anyhow!("{}: {e}", args.mask.display()))?;
    let format = ExportFormat::from_path(&args.out);
    match format {
        ExportFormat::PngDir => {
            std::fs::create_dir_all(&args.out)
                .with_context(|| format!("{}: cannot create the directory", args.out.display()))?;
            io::write_png(&removal.background, &args.out.join("background.png"), PngDepth::Eight)?;
            io::write_png(&removal.shadow, &args.out.join("shadow.png"), PngDepth::Sixteen)?;
        }
        ExportFormat::Psd | ExportFormat::Ora => io::export_as(&removal.to_layer_stack(), format, &args.out)?,
        ExportFormat::FlatPng | ExportFormat::Jpeg(_) => {
            io::export_as(&LayerStack::from_background(removal.background.clone()), format, &args.out)?
        }
    }
    if !args.quiet {
        eprintln!(
            "shadow removed from {w}×{h} in {:.2} s (brightened ×{:.2}) → {}",
            started.elapsed().as_secs_f64(),
            removal.gain,
            args.out.display()
        );
    }
    Ok(())
}
