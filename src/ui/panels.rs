//! The menu bar, the tools panel and the status bar. They edit UI state (the active tool, the
//! brush) directly and return the rest as `Command`s.

use std::path::PathBuf;
use std::time::Duration;

use eframe::egui;

use super::brush::BrushSettings;
use super::commands::{Command, PathPurpose};
use super::history::History;
use super::tools::{EffectBrushMode, Tool, Tools};
use super::worker::{DecomposeJob, SelectJob};

/// A menu entry that issues `command` when clicked.
fn item(ui: &mut egui::Ui, text: &str, enabled: bool, command: Command, out: &mut Vec<Command>) {
    if ui.add_enabled(enabled, egui::Button::new(text)).clicked() {
        out.push(command);
    }
}

pub fn menu_bar(ui: &mut egui::Ui, recent: &[PathBuf], history: &History) -> Vec<Command> {
    let mut out = Vec::new();
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            item(ui, "Open…  (Ctrl+O)", true, Command::AskPath(PathPurpose::Open), &mut out);
            item(ui, "Open path…", true, Command::PromptPath(PathPurpose::Open), &mut out);
            ui.menu_button("Open recent", |ui| {
                if recent.is_empty() {
                    ui.label("(none)");
                }
                for p in recent {
                    item(ui, &p.display().to_string(), true, Command::Open(p.clone()), &mut out);
                }
            });
            item(ui, "Save project  (Ctrl+S)", true, Command::Save { save_as: false }, &mut out);
            item(ui, "Save project as…  (Ctrl+Shift+S)", true, Command::Save { save_as: true }, &mut out);
            item(ui, "Export…  (Ctrl+E)", true, Command::ShowExport, &mut out);
            ui.separator();
            if ui.button("Quit").clicked() {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            }
        });
        ui.menu_button("Edit", |ui| {
            let undo = history.undo_label().map(|l| format!("Undo {l}  (Ctrl+Z)"));
            item(ui, undo.as_deref().unwrap_or("Undo"), undo.is_some(), Command::Undo, &mut out);
            let redo = history.redo_label().map(|l| format!("Redo {l}  (Ctrl+Shift+Z)"));
            item(ui, redo.as_deref().unwrap_or("Redo"), redo.is_some(), Command::Redo, &mut out);
            item(ui, "Clear brushed masks", true, Command::ClearMasks, &mut out);
        });
        ui.menu_button("View", |ui| {
            item(ui, "Fit  (Ctrl+0)", true, Command::FitView, &mut out);
            item(ui, "100 %  (Ctrl+1)", true, Command::ActualPixels, &mut out);
        });
    });
    out
}

/// The tools, the active tool's options, and Decompose (or the running job's progress).
pub fn tools_panel(
    ui: &mut egui::Ui,
    tools: &mut Tools,
    brush: &mut BrushSettings,
    job: Option<&DecomposeJob>,
    selecting: Option<&SelectJob>,
) -> Vec<Command> {
    let mut out = Vec::new();
    ui.spacing_mut().slider_width = 90.0;
    ui.heading("Tools");
    for tool in Tool::ALL {
        let text = format!("{}  ({:?})", tool.label(), tool.shortcut());
        if ui.selectable_label(tools.tool == tool, text).on_hover_text(tool.label()).clicked() {
            tools.tool = tool;
        }
    }
    ui.separator();
    if tools.tool.paints() {
        let size = egui::Slider::new(&mut brush.radius, BrushSettings::MIN_RADIUS..=BrushSettings::MAX_RADIUS)
            .logarithmic(true)
            .suffix(" px")
            .text("Size");
        ui.add(size).on_hover_text("Brush radius ([ and ])");
        ui.add(egui::Slider::new(&mut brush.hardness, 0.0..=1.0).text("Hardness"));
    }
    if tools.tool == Tool::EffectBrush {
        ui.label("The object's effects:");
        ui.radio_value(&mut tools.effect_mode, EffectBrushMode::Add, "Add (is its shadow/reflection)");
        ui.radio_value(&mut tools.effect_mode, EffectBrushMode::Remove, "Remove (is not)");
    }
    if tools.tool == Tool::Move {
        ui.label("Drag the object; its shadow follows. Corner handles scale; arrow keys nudge.");
    }
    if tools.tool == Tool::SubjectBox {
        ui.label("Drag a box around the object: the network selects the subject inside it.");
    }
    ui.separator();
    match selecting {
        None => {
            let select = egui::Button::new("Select subject");
            let hint = "Propose the object's brush from the photo's subject (a pretrained network)";
            if ui.add_enabled(job.is_none(), select).on_hover_text(hint).clicked() {
                out.push(Command::SelectSubject(None));
            }
        }
        Some(s) => {
            // No spinner: it asks for a frame every frame, and on a software renderer each frame
            // takes CPU from the network; the elapsed time ticks four times a second instead.
            ui.label(format!("Selecting subject… {:.1} s", s.started.elapsed().as_secs_f32()));
            if ui.button("Cancel").on_hover_text("Esc").clicked() {
                out.push(Command::CancelJob);
            }
        }
    }
    match job {
        None => {
            let decompose = egui::Button::new("Decompose");
            let r = ui.add_enabled_ui(selecting.is_none(), |ui| ui.add_sized([ui.available_width(), 28.0], decompose));
            if r.inner.on_hover_text("Ctrl+Enter").clicked() {
                out.push(Command::Decompose);
            }
        }
        Some(job) => {
            let (stage, f) = job.progress.map(|p| (p.stage.name(), p.fraction)).unwrap_or(("Starting", 0.0));
            ui.add(egui::ProgressBar::new(f).text(format!("{stage} {:.0}%", f * 100.0)));
            ui.label(format!("{:.1} s", job.started.elapsed().as_secs_f32()));
            let label = if job.cancelling { "Cancelling…" } else { "Cancel" };
            if ui.button(label).on_hover_text("Esc").clicked() {
                out.push(Command::CancelJob);
            }
        }
    }
    out
}

/// What the status bar shows.
pub struct Status<'a> {
    pub size: (u32, u32),
    /// Screen pixels per canvas pixel.
    pub zoom: f32,
    pub cursor: Option<egui::Pos2>,
    pub engine_device: &'a str,
    pub gpu_canvas: bool,
    pub last_decompose: Option<Duration>,
    /// Shown with `--debug-timing`.
    pub longest_frame: Option<Duration>,
    pub dirty: bool,
}

pub fn status_bar(ui: &mut egui::Ui, s: &Status<'_>) {
    ui.horizontal(|ui| {
        let (w, h) = s.size;
        ui.label(format!("{w}×{h} px"));
        ui.separator();
        ui.label(format!("zoom {:.0}%", s.zoom * 100.0));
        ui.separator();
        match s.cursor {
            Some(c) if c.x >= 0.0 && c.y >= 0.0 && c.x < w as f32 && c.y < h as f32 => {
                ui.label(format!("x {} y {}", c.x as u32, c.y as u32))
            }
            _ => ui.label("x – y –"),
        };
        ui.separator();
        ui.label(format!("engine: {}", s.engine_device));
        ui.label(if s.gpu_canvas { "canvas: GPU" } else { "canvas: CPU" });
        if let Some(t) = s.last_decompose {
            ui.separator();
            ui.label(format!("last decomposition {:.1} s", t.as_secs_f32()));
        }
        if let Some(t) = s.longest_frame {
            ui.separator();
            ui.label(format!("longest frame {:.0} ms", t.as_secs_f64() * 1000.0));
        }
        if s.dirty {
            ui.separator();
            ui.label("unsaved changes");
        }
    });
}
