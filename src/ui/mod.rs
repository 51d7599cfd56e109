//! The editor (eframe + egui, canvas drawn by the wgpu compositor).
//!
//! Input flows one way: pointer and key events go to the active tool (`tools`, state machines)
//! and the layers panel (`layers`), which return `actions`; `editing` applies them to the
//! document inside undo transactions (`history`). Menus, shortcuts and `dialogs` return
//! `commands`, which `app` (the frame loop) carries out. `canvas` draws the document (wgpu
//! compositor or CPU fallback) in a `view`; `brush` rasterises strokes with tiny-skia; `worker`
//! runs the engine on a thread and `tasks` the file work; `files` reads and writes projects.

mod actions;
mod app;
mod brush;
mod canvas;
mod commands;
mod dialogs;
mod editing;
mod files;
mod history;
mod layers;
mod options;
mod panels;
mod tasks;
#[cfg(test)]
mod tests;
mod timing;
mod tools;
mod view;
mod worker;

use std::path::PathBuf;

pub use app::EditorApp;
pub use history::EditorDocument;
pub use options::{EditorOptions, SAMPLE_JPEG};

use eframe::egui;

/// Open `file` (or the bundled sample) and run the editor until its window closes.
pub fn run_editor(file: Option<PathBuf>, options: EditorOptions) -> anyhow::Result<()> {
    let (doc, title) = match &file {
        Some(path) => (files::open_document(path, &options.import)?, path.display().to_string()),
        None => {
            let img =
                layerdecomp::io::import_image_bytes(SAMPLE_JPEG, std::path::Path::new("sample.jpg"), &options.import)?
                    .image;
            (EditorDocument::new(layerdecomp::document::LayerStack::from_background(img)), "sample.jpg".to_string())
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
