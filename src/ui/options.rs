//! How the editor starts: its options (from the command line or a test) and the bundled sample.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use layerdecomp::engine::{Quality, Stages};
use layerdecomp::io::ImportOptions;

use super::files::AppDirs;
use super::history::DEFAULT_HISTORY_BYTES;

/// The photo the editor opens when started without a file (rendered by `assets/render_sample.py`).
pub const SAMPLE_JPEG: &[u8] = include_bytes!("../../assets/sample.jpg");

/// How the editor starts.
#[derive(Clone)]
pub struct EditorOptions {
    pub import: ImportOptions,
    /// Record frame times and print them at exit (and show them in the status bar).
    pub debug_timing: bool,
    /// Load this PNG as the object mask at start (scripted runs, measurements).
    pub object_mask: Option<PathBuf>,
    /// Start decomposing as soon as the window opens.
    pub decompose_on_start: bool,
    /// Run "Select subject" as soon as the window opens.
    pub select_subject_on_start: bool,
    /// Close the window when the first decomposition ends (scripted runs).
    pub exit_after_decompose: bool,
    pub autosave_every: Duration,
    pub dirs: AppDirs,
    pub stages: Arc<Stages>,
    pub quality: Quality,
    pub history_bytes: usize,
}

impl Default for EditorOptions {
    fn default() -> Self {
        Self {
            import: ImportOptions::default(),
            debug_timing: false,
            object_mask: None,
            decompose_on_start: false,
            select_subject_on_start: false,
            exit_after_decompose: false,
            autosave_every: Duration::from_secs(120),
            dirs: AppDirs::from_env(),
            stages: Arc::new(Stages::for_quality(Quality::Balanced)),
            quality: Quality::Balanced,
            history_bytes: DEFAULT_HISTORY_BYTES,
        }
    }
}
