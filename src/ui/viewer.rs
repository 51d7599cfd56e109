//! The editor window. For now it opens a photo or project and shows its flattened layers with
//! fit-to-window and wheel zoom; brushing, decomposition and the GPU canvas come with the editor
//! issue.

use std::path::{Path, PathBuf};

use eframe::egui;

use crate::compositor::{flatten, resized};
use crate::document::LayerStack;
use crate::io::{self, ImportOptions};

/// The photo the editor opens when started without a file (rendered by `assets/render_sample.py`).
pub const SAMPLE_JPEG: &[u8] = include_bytes!("../../assets/sample.jpg");

/// Largest side of the preview texture; bigger documents are shown downsampled.
const PREVIEW_MAX_SIDE: u32 = 4096;

/// Open `file` (or the bundled sample) and run the editor until its window closes.
pub fn run_editor(file: Option<PathBuf>, opts: ImportOptions) -> anyhow::Result<()> {
    let (stack, title) = match &file {
        Some(path) => (open_document(path, &opts)?, path.display().to_string()),
        None => (
            LayerStack::from_background(io::import_image_bytes(SAMPLE_JPEG, Path::new("sample.jpg"), &opts)?.image),
            "sample.jpg".to_string(),
        ),
    };
    let options = eframe::NativeOptions {
        viewport: egui::ViewportBuilder::default().with_inner_size([1200.0, 800.0]).with_title(format!("layerdecomp — {title}")),
        ..Default::default()
    };
    eframe::run_native("layerdecomp", options, Box::new(move |_cc| Ok(Box::new(Viewer::new(stack, title)))))
        .map_err(|e| anyhow::anyhow!("cannot open the editor window: {e}"))
}

/// An image, or an OpenRaster project, as a document.
pub fn open_document(path: &Path, opts: &ImportOptions) -> Result<LayerStack, io::FileError> {
    let is_ora = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("ora"));
    if is_ora {
        io::read_ora(path, opts)
    } else {
        Ok(LayerStack::from_background(io::import_image(path, opts)?.image))
    }
}

struct Viewer {
    stack: LayerStack,
    title: String,
    texture: Option<egui::TextureHandle>,
    /// Screen points per document pixel; `None` = fit to the window.
    zoom: Option<f32>,
}

impl Viewer {
    fn new(stack: LayerStack, title: String) -> Self {
        Self { stack, title, texture: None, zoom: None }
    }

    fn preview(&self) -> egui::ColorImage {
        let (w, h) = (self.stack.width(), self.stack.height());
        let flat = flatten(&self.stack);
        let f = (PREVIEW_MAX_SIDE as f32 / w.max(h) as f32).min(1.0);
        let flat = if f < 1.0 { resized(&flat, ((w as f32 * f) as u32).max(1), ((h as f32 * f) as u32).max(1)) } else { flat };
        let rgba = flat.to_straight_rgba8();
        egui::ColorImage::from_rgba_unmultiplied([rgba.width() as usize, rgba.height() as usize], rgba.as_raw())
    }
}

impl eframe::App for Viewer {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        if self.texture.is_none() {
            self.texture = Some(ctx.load_texture("document", self.preview(), egui::TextureOptions::LINEAR));
        }
        if ctx.input(|i| i.modifiers.command && i.key_pressed(egui::Key::Num0)) {
            self.zoom = None;
        }
        if ctx.input(|i| i.modifiers.command && i.key_pressed(egui::Key::Num1)) {
            self.zoom = Some(1.0);
        }
        let (w, h) = (self.stack.width() as f32, self.stack.height() as f32);
        let mut shown_zoom = self.zoom.unwrap_or(1.0);
        egui::Panel::bottom("status").show(ui, |ui| {
            ui.horizontal(|ui| {
                ui.label(format!("{}  ·  {}×{} px  ·  {} layers", self.title, w, h, self.stack.layers().len()));
                ui.separator();
                ui.label(format!("zoom {:.0}%", shown_zoom * 100.0));
            });
        });
        egui::CentralPanel::default().show(ui, |ui| {
            let avail = ui.available_size();
            let fit = (avail.x / w).min(avail.y / h).min(1.0);
            let zoom = self.zoom.unwrap_or(fit);
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0 && ui.rect_contains_pointer(ui.max_rect()) {
                self.zoom = Some((zoom * (1.0 + scroll * 0.002)).clamp(0.02, 32.0));
            }
            shown_zoom = zoom;
            if let Some(tex) = &self.texture {
                egui::ScrollArea::both().show(ui, |ui| {
                    ui.add(egui::Image::new(tex).fit_to_exact_size(egui::vec2(w * zoom, h * zoom)));
                });
            }
        });
    }
}
