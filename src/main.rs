//! The `layerdecomp` binary: the editor (no subcommand) and the command line, over the library's
//! engine and exporters. `anyhow` lives here; the library returns typed errors.

mod bench;
mod cli;
mod ui;

use std::process::ExitCode;

use clap::Parser;
use cli::Cli;

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let result =
        cli::run(&cli).and_then(
            |handled| {
                if handled {
                    Ok(())
                } else {
                    ui::run_editor(cli.file.clone(), cli.editor_options())
                }
            },
        );
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// The error and its causes in one line, each cause once: our file errors already name their
/// OS cause in their message, and anyhow's `{:#}` would repeat it.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if !line.contains(&text) {
            if !line.is_empty() {
                line.push_str(": ");
            }
            line.push_str(&text);
        }
    }
    line
}
