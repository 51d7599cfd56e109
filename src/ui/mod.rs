//! The editor (eframe + egui, canvas drawn by the wgpu compositor).
//!
//! * `app`: state, frame loop, menus, shortcuts, dialogs.
//! * `canvas`: view, tools (state machines), GPU paint callback / CPU fallback.
//! * `layers`: the layers panel.
//! * `brush`: strokes as samples, rasterised with tiny-skia.
//! * `history`: the document snapshot type and memory-bounded undo.
//! * `worker`: decomposition on a thread with progress and cancel.
//! * `files`: open / save project / export / recent files / recovery.

mod app;
pub mod brush;
mod canvas;
pub mod files;
pub mod history;
mod layers;
mod worker;

use std::path::PathBuf;

pub use app::{load_mask, EditorApp, EditorOptions, Notice, SAMPLE_JPEG};
pub use canvas::{EffectBrushMode, Tool};
pub use files::{AppDirs, ExportKind};
pub use history::{EditorDocument, Masks};

use eframe::egui;

/// Open `file` (or the bundled sample) and run the editor until its window closes.
pub fn run_editor(file: Option<PathBuf>, options: EditorOptions) -> anyhow::Result<()> {
    let (doc, title) = match &file {
        Some(path) => (files::open_document(path, &options.import)?, path.display().to_string()),
        None => {
            let img = crate::io::import_image_bytes(SAMPLE_JPEG, std::path::Path::new("sample.jpg"), &options.import)?.image;
            (EditorDocument::new(crate::document::LayerStack::from_background(img)), "sample.jpg".to_string())
        }
    };
    if let Some(path) = &file {
        options.dirs.add_recent(path);
    }
    let native = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default()
            .with_inner_size([1280.0, 860.0])
            .with_title(format!("layerdecomp — {title}"))
            .with_drag_and_drop(true),
        renderer: eframe::Renderer::Wgpu,
        ..Default::default()
    };
    eframe::run_native("layerdecomp", native, Box::new(move |cc| Ok(Box::new(EditorApp::new(cc, doc, title, options)))))
        .map_err(|e| anyhow::anyhow!("cannot open the editor window: {e}"))
}
