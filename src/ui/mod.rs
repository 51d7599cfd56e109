//! The editor (eframe + egui).

mod viewer;

pub use viewer::run_editor;
