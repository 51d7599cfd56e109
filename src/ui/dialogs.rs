//! The editor's windows and prompts: the Export window, the typed-path prompt, the modal
//! questions (recover? discard unsaved changes? save before closing?) and the notices. Each
//! shows its state and returns what the user chose as `Command`s.

use std::path::PathBuf;

use eframe::egui::{self, Key};
use layerdecomp::io::{ExportFormat, DEFAULT_JPEG_QUALITY};

use super::commands::{Command, PathPurpose};
use super::history::EditorDocument;

/// A message shown to the user (errors stay until dismissed).
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

/// The dialogs' state.
pub struct Dialogs {
    notices: Vec<Notice>,
    /// The Export window is open.
    pub export_open: bool,
    export_format: ExportFormat,
    jpeg_quality: u8,
    pub export_path: String,
    /// A typed-path prompt: used when no system dialog answers (no desktop portal) or by choice.
    pub path_prompt: Option<(PathPurpose, String)>,
    /// The recovery file a crashed session left, offered at start.
    pub recovery_offer: Option<PathBuf>,
    /// A document opened while the current one has unsaved changes, waiting for the user's word.
    pub replace_prompt: Option<(PathBuf, EditorDocument)>,
    /// "Save changes before closing?" is showing.
    pub close_prompt: bool,
}

impl Dialogs {
    pub fn new(recovery_offer: Option<PathBuf>) -> Self {
        Self {
            notices: Vec::new(),
            export_open: false,
            export_format: ExportFormat::Psd,
            jpeg_quality: DEFAULT_JPEG_QUALITY,
            export_path: String::new(),
            path_prompt: None,
            recovery_offer,
            replace_prompt: None,
            close_prompt: false,
        }
    }

    #[cfg(test)]
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }

    /// Show a message (the last five stay).
    pub fn notify(&mut self, text: impl Into<String>, error: bool) {
        let text = text.into();
        if error {
            log::error!("{text}");
        }
        self.notices.push(Notice { text, error });
        if self.notices.len() > 5 {
            self.notices.remove(0);
        }
    }

    /// Every window and prompt that is open.
    pub fn show(&mut self, ctx: &egui::Context) -> Vec<Command> {
        let mut commands = Vec::new();
        self.export_window(ctx, &mut commands);
        self.path_prompt_window(ctx, &mut commands);
        self.recovery_modal(ctx, &mut commands);
        self.replace_modal(ctx, &mut commands);
        self.close_modal(ctx, &mut commands);
        self.notices_ui(ctx);
        commands
    }

    fn export_window(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        if !self.export_open {
            return;
        }
        let mut open = true;
        let mut go = false;
        egui::Window::new("Export").open(&mut open).collapsible(false).show(ctx, |ui| {
            let formats = [
                ExportFormat::Psd,
                ExportFormat::Ora,
                ExportFormat::PngDir,
                ExportFormat::FlatPng,
                ExportFormat::Jpeg(self.jpeg_quality),
            ];
            for format in formats {
                let selected = std::mem::discriminant(&self.export_format) == std::mem::discriminant(&format);
                if ui.radio(selected, format.label()).clicked() {
                    self.export_format = format;
                }
            }
            if let ExportFormat::Jpeg(_) = self.export_format {
                ui.add(egui::Slider::new(&mut self.jpeg_quality, 1..=100).text("JPEG quality"));
                self.export_format = ExportFormat::Jpeg(self.jpeg_quality);
            }
            ui.horizontal(|ui| {
                let label = ui.label("Export path");
                ui.add(egui::TextEdit::singleline(&mut self.export_path).desired_width(280.0)).labelled_by(label.id);
                if ui.button("Browse…").clicked() {
                    commands.push(Command::AskPath(PathPurpose::Export(self.export_format)));
                }
            });
            go = ui.add_enabled(!self.export_path.trim().is_empty(), egui::Button::new("Export now")).clicked();
        });
        if go {
            let mut path = PathBuf::from(self.export_path.trim());
            let ext = self.export_format.extension();
            if !ext.is_empty() && path.extension().is_none() {
                path.set_extension(ext);
            }
            commands.push(Command::Export(path, self.export_format));
            open = false;
        }
        self.export_open = open;
    }

    fn path_prompt_window(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let Some((purpose, text)) = &mut self.path_prompt else { return };
        let (mut go, mut cancel) = (false, false);
        egui::Window::new(purpose.title()).collapsible(false).show(ctx, |ui| {
            let label = ui.label("Path");
            let r = ui.add(egui::TextEdit::singleline(text).desired_width(360.0)).labelled_by(label.id);
            if text.is_empty() && !r.has_focus() {
                r.request_focus();
            }
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            ui.horizontal(|ui| {
                go = ui.add_enabled(!text.trim().is_empty(), egui::Button::new("OK")).clicked()
                    || (enter && !text.trim().is_empty());
                cancel = ui.button("Cancel").clicked();
            });
        });
        if go {
            if let Some((purpose, text)) = self.path_prompt.take() {
                commands.push(Command::UsePath(purpose, PathBuf::from(text.trim())));
            }
        } else if cancel {
            self.path_prompt = None;
            commands.push(Command::NoPath);
        }
    }

    fn recovery_modal(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let Some(path) = self.recovery_offer.clone() else { return };
        egui::Modal::new(egui::Id::unique("recover")).show(ctx, |ui| {
            ui.heading("Recover unsaved work?");
            ui.label("layerdecomp did not close normally last time. An autosaved copy of that document exists.");
            ui.horizontal(|ui| {
                if ui.button("Recover").clicked() {
                    self.recovery_offer = None;
                    commands.push(Command::Recover(path.clone()));
                }
                if ui.button("Discard").clicked() {
                    self.recovery_offer = None;
                    commands.push(Command::DiscardRecovery);
                }
            });
        });
    }

    fn replace_modal(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        let Some((path, _)) = &self.replace_prompt else { return };
        let name = path.display().to_string();
        egui::Modal::new(egui::Id::unique("replace")).show(ctx, |ui| {
            ui.heading("Discard unsaved changes?");
            ui.label(format!("Opening {name} replaces the current document, which has unsaved changes."));
            ui.horizontal(|ui| {
                if ui.button("Discard and open").clicked() {
                    if let Some((path, doc)) = self.replace_prompt.take() {
                        commands.push(Command::ShowOpened(path, Box::new(doc)));
                    }
                }
                if ui.button("Keep editing").clicked() {
                    self.replace_prompt = None;
                }
            });
        });
    }

    fn close_modal(&mut self, ctx: &egui::Context, commands: &mut Vec<Command>) {
        if !self.close_prompt {
            return;
        }
        egui::Modal::new(egui::Id::unique("close")).show(ctx, |ui| {
            ui.heading("Save changes before closing?");
            ui.horizontal(|ui| {
                if ui.button("Save").clicked() {
                    self.close_prompt = false;
                    commands.push(Command::SaveAndClose);
                }
                if ui.button("Discard changes").clicked() {
                    self.close_prompt = false;
                    commands.push(Command::DiscardAndClose);
                }
                if ui.button("Cancel").clicked() {
                    self.close_prompt = false;
                }
            });
        });
    }

    fn notices_ui(&mut self, ctx: &egui::Context) {
        if self.notices.is_empty() {
            return;
        }
        let mut dismiss = None;
        egui::Area::new(egui::Id::unique("notices")).anchor(egui::Align2::LEFT_BOTTOM, [12.0, -36.0]).show(ctx, |ui| {
            for (i, n) in self.notices.iter().enumerate() {
                egui::Frame::popup(ui.style()).show(ui, |ui| {
                    ui.horizontal(|ui| {
                        let color =
                            if n.error { egui::Color32::from_rgb(255, 120, 110) } else { ui.visuals().text_color() };
                        ui.colored_label(color, &n.text);
                        if ui.small_button("Dismiss").clicked() {
                            dismiss = Some(i);
                        }
                    });
                });
            }
        });
        if let Some(i) = dismiss {
            self.notices.remove(i);
        }
    }
}
