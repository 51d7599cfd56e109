//! `layerdecomp decompose`: the engine from the command line, with the same exporters as the
//! editor.

use std::borrow::Cow;
use std::path::Path;
use std::time::Instant;

use rayon::prelude::*;

use anyhow::{anyhow, bail, Context, Result};

use super::args::DecomposeArgs;
use super::input::{load, load_mask, parse_quality};
use layerdecomp::compositor::Placed;
use layerdecomp::engine::{
    decompose_with, describe_device, pick_device, select_subject, DecomposeRequest, Decomposition, PlacedLayer, Stages,
};
use layerdecomp::io::{self, ImportOptions, PngDepth};

pub fn run(args: &DecomposeArgs, opts: &ImportOptions) -> Result<()> {
    let quality = parse_quality(&args.quality)?;
    let read = Instant::now();
    // The brush is decoded beside the photo (on a 12 MP photo each takes a quarter second).
    let (image, brush) = rayon::join(
        || load(&args.input, opts),
        || args.mask.as_ref().map(|path| (path, load_mask(path, "mask", None, opts))),
    );
    let image = image?;
    let (w, h) = (image.width(), image.height());
    let (mask, mask_name) = match brush {
        Some((path, mask)) => {
            let mask = mask?;
            io::check_brush_size(path, "mask", (mask.width(), mask.height()), (w, h))?;
            if mask.is_empty() {
                bail!("{}: the mask is empty (no painted pixel)", path.display());
            }
            (mask, path.display().to_string())
        }
        None => {
            let mask = select_subject(&image, None).map_err(|e| anyhow!("{}: {e}", args.input.display()))?;
            if !args.quiet {
                eprintln!("subject selected: {} pixels ({})", mask.count(), describe_device(&pick_device()));
            }
            (mask, "the selected subject".to_string())
        }
    };
    let effect_hint =
        args.effects_mask.as_ref().map(|p| load_mask(p, "effects mask", Some((w, h)), opts)).transpose()?;
    let protect = args.protect.as_ref().map(|p| load_mask(p, "protect mask", Some((w, h)), opts)).transpose()?;
    log::debug!("reading the photo and its brushes {:.3} s", read.elapsed().as_secs_f64());

    let bar = (!args.quiet).then(|| {
        let bar = indicatif::ProgressBar::new(1000);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg:<36} [{bar:30}] {percent:>3}% {elapsed}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    });
    let on_progress = |p: layerdecomp::engine::Progress| {
        if let Some(bar) = &bar {
            bar.set_message(p.stage.name());
            bar.set_position((p.fraction * 1000.0) as u64);
        }
    };
    let mut request = DecomposeRequest::new(mask.clone());
    request.effect_hint = effect_hint;
    request.protect = protect;
    request.quality = quality;
    request.seed = args.seed;
    request.progress = Some(&on_progress);
    // The command line has the machine to itself: use every core.
    request.threads = std::thread::available_parallelism().ok().map(|n| n.get());
    let started = Instant::now();
    let result = decompose_with(&Stages::for_quality(quality), &image, &request);
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let decomposition = result.map_err(|e| anyhow!("{mask_name}: {e}"))?;
    let tw = Instant::now();
    write_outputs(&decomposition, &args.out)?;
    log::debug!("writing the layers {:.3} s", tw.elapsed().as_secs_f64());
    if let Some(sheet) = &args.sheet {
        let shift = (-(w as f32) * 0.25, h as f32 * 0.05);
        let img = layerdecomp::engine::contact_sheet(&image, &mask, &decomposition, shift, 0.5);
        io::write_png(&img, sheet, PngDepth::Eight)?;
    }
    for w in &decomposition.warnings {
        eprintln!("warning: {w}");
    }
    if !args.quiet {
        eprintln!(
            "decomposed {}×{} in {:.2} s on the {} → {}",
            w,
            h,
            started.elapsed().as_secs_f64(),
            describe_device(&pick_device()),
            args.out.display()
        );
        eprintln!("effects found (confidence): {}", decomposition.effects_summary());
    }
    Ok(())
}

/// Write a decomposition as a layered file (.psd/.ora) or a directory of PNGs. Layer PNGs are
/// 16-bit so that soft alpha keeps its colour; the background is 8-bit like the photo. A flat
/// image (.png, .jpg) would only give the photo back, so it is refused.
pub fn write_outputs(d: &Decomposition, out: &Path) -> Result<()> {
    match io::ExportFormat::from_path(out) {
        io::ExportFormat::PngDir => write_png_dir(d, out),
        format if format.is_layered() => Ok(io::export_as(&d.to_layer_stack(), format, out)?),
        _ => bail!("{}: a decomposition has layers: write a .psd, a .ora or a directory", out.display()),
    }
}

fn write_png_dir(d: &Decomposition, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create the directory", out.display()))?;
    let size = (d.background.width(), d.background.height());
    let effects: Vec<&PlacedLayer> = d.effects.iter().map(|e| &e.layer).collect();
    // Four large encodes, each on one core: side by side they take half the time (a 12 MP
    // decomposition's files: 1.27 s one after another).
    (0..4).into_par_iter().try_for_each(|k| match k {
        0 => io::write_png(&d.background, &out.join("background.png"), PngDepth::Eight),
        1 => io::write_png(&d.foreground, &out.join("foreground.png"), PngDepth::Sixteen),
        2 => io::write_placed_png(&placed(&[&d.object]), size, &out.join("object.png"), PngDepth::Sixteen),
        _ => io::write_placed_png(&placed(&effects), size, &out.join("effects.png"), PngDepth::Sixteen),
    })?;
    Ok(())
}

/// Layers as the compositor places them.
fn placed<'a>(layers: &[&'a PlacedLayer]) -> Vec<Placed<'a>> {
    layers.iter().map(|l| Placed { x: l.x, y: l.y, pixels: Cow::Borrowed(&l.pixels) }).collect()
}
