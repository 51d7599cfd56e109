//! The command line: the same engine and exporters as the editor, for scripts and tests.
//!
//! `anyhow` lives only in the binary; the library returns typed errors.

mod args;
mod compose;
mod decompose;
mod info;
mod input;
mod remove_shadow;

use anyhow::{anyhow, Result};
use layerdecomp::io;

pub use args::Cli;
use args::Command;
use compose::ComposePlan;

/// Run a subcommand. `Ok(false)` means there was none (the caller opens the editor).
pub fn run(cli: &Cli) -> Result<bool> {
    let opts = cli.import_options();
    match &cli.command {
        None => return Ok(false),
        Some(Command::Compose { args }) => {
            let plan = ComposePlan::parse(args)?;
            let stack = plan.build(&opts)?;
            io::export(&stack, &plan.out)?;
            eprintln!("wrote {} ({} layers)", plan.out.display(), stack.layers().len());
        }
        Some(Command::Info { file }) => print!("{}", info::info(file, &opts)?),
        Some(Command::Synth { out, count, seed, wide, sources }) => {
            let src = layerdecomp::synth::Sources::load(sources).map_err(|e| anyhow!(e))?;
            for i in 0..*count {
                let case = if *wide {
                    layerdecomp::synth::generate_wide(&src, *seed, i)
                } else {
                    layerdecomp::synth::generate(&src, *seed, i)
                };
                layerdecomp::synth::write_case(&case, &out.join(format!("case{i:03}")))?;
            }
            eprintln!("wrote {count} cases to {}", out.display());
        }
        Some(Command::CanvasBench { width, height, frames, view, zoom }) => {
            let (vw, vh) = view
                .split_once('x')
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                .ok_or_else(|| anyhow!("--view must be WxH, e.g. 1920x1080"))?;
            let r = crate::bench::canvas::run(*width, *height, *frames, [vw, vh], *zoom).map_err(|e| anyhow!(e))?;
            print!("{}", r.report(*width, *height, [vw, vh]));
        }
        Some(Command::Bench(args)) => {
            let quality = input::parse_quality(&args.quality)?;
            print!("{}", crate::bench::run_command(args, quality)?);
        }
        Some(Command::Decompose(args)) => decompose::run(args, &opts)?,
        Some(Command::RemoveShadow(args)) => remove_shadow::run(args, &opts)?,
    }
    Ok(true)
}
