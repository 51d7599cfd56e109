use std::process::ExitCode;

use clap::Parser;
use layerdecomp::cli::{self, Cli};

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let result = cli::run(&cli).and_then(|handled| {
        if handled {
            Ok(())
        } else {
            layerdecomp::ui::run_editor(cli.file.clone(), cli.editor_options())
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
