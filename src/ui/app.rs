//! The editor application: it wires the parts together and runs the frame loop. The document
//! changes only through `Editing` (actions from the tools and the layers panel); everything
//! else the user asks for arrives as a `Command`.
//!
//! Persisted state (the document, recent files, the recovery file) is kept apart from runtime
//! state (view, gesture, running jobs). The UI never blocks: decomposition, opening, saving,
//! exporting and autosaving run on threads and report through channels.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use eframe::egui::{self, Key, KeyboardShortcut, Modifiers};
use layerdecomp::io;
use layerdecomp::raster::Rect as PixelRect;

use super::actions::Action;
use super::brush::{from_engine_mask, to_engine_mask, BrushSettings};
use super::canvas::{install_gpu_compositor, Canvas, Overlay};
use super::commands::{Command, PathPurpose};
use super::dialogs::Dialogs;
use super::editing::Editing;
use super::files::{self, load_mask};
use super::history::EditorDocument;
use super::layers::LayersPanel;
use super::options::EditorOptions;
use super::panels::{self, Status};
use super::tasks::{DialogAnswer, TaskDone, Tasks};
use super::timing::{frame_log, FrameTiming};
use super::tools::{arrow_keys, pixel_rect, selection_bounds, Tool, ToolContext, Tools};
use super::worker::{DecomposeJob, JobInput, JobResult, SelectJob};

/// Where the document stands against its files.
struct Saved {
    /// The project file Ctrl+S writes (None until saved as a project).
    project_path: Option<PathBuf>,
    title: String,
    /// The document generation last saved / autosaved.
    generation: u64,
    autosaved_generation: u64,
    last_autosave: Instant,
    autosaving: bool,
    recent: Vec<PathBuf>,
    /// Close the window once the save in flight succeeds.
    close_after_save: bool,
    /// The user agreed to close with unsaved changes.
    allow_close: bool,
}

/// The editor.
pub struct EditorApp {
    editing: Editing,
    tools: Tools,
    brush: BrushSettings,
    canvas: Canvas,
    layers: LayersPanel,
    dialogs: Dialogs,
    tasks: Tasks,
    job: Option<DecomposeJob>,
    select_job: Option<SelectJob>,
    last_decompose: Option<Duration>,
    engine_device: &'static str,
    saved: Saved,
    options: EditorOptions,
    started: Instant,
    /// `--decompose` has started its run.
    auto_started: bool,
    /// Until then, frames count as part of the last decomposition (its layers being uploaded).
    settle_until: Option<Instant>,
    pub timing: FrameTiming,
}

impl EditorApp {
    /// An editor on `doc`. `cc` supplies the wgpu renderer (absent: CPU fallback).
    pub fn new(cc: &eframe::CreationContext<'_>, doc: EditorDocument, title: String, options: EditorOptions) -> Self {
        let gpu = install_gpu_compositor(cc.wgpu_render_state.as_ref(), &cc.egui_ctx);
        let device = layerdecomp::engine::pick_device();
        let saved = Saved {
            project_path: None,
            title,
            generation: 0,
            autosaved_generation: 0,
            last_autosave: Instant::now(),
            autosaving: false,
            recent: options.dirs.recent(),
            close_after_save: false,
            allow_close: false,
        };
        let mut app = Self {
            editing: Editing::new(doc, options.history_bytes),
            tools: Tools::default(),
            brush: BrushSettings::default(),
            canvas: Canvas::new(gpu),
            layers: LayersPanel::default(),
            dialogs: Dialogs::new(files::pending_recovery(&options.dirs)),
            tasks: Tasks::default(),
            job: None,
            select_job: None,
            last_decompose: None,
            engine_device: layerdecomp::engine::describe_device(&device),
            saved,
            options,
            started: Instant::now(),
            auto_started: false,
            settle_until: None,
            timing: FrameTiming::default(),
        };
        if !gpu {
            app.notify("No usable GPU adapter: the canvas is drawn by the CPU compositor (slower).", false);
        }
        if let Some(path) = app.options.object_mask.clone() {
            let size = (app.editing.doc().stack.width(), app.editing.doc().stack.height());
            match load_mask(&path, size.0, size.1) {
                Ok(m) => app.editing.set_object_mask(m),
                Err(e) => app.notify(e, true),
            }
        }
        app
    }

    pub fn is_dirty(&self) -> bool {
        self.editing.generation() != self.saved.generation || self.editing.in_transaction()
    }

    fn notify(&mut self, text: impl Into<String>, error: bool) {
        self.dialogs.notify(text, error);
    }

    /// Close the open undo step and drop the gesture in progress.
    fn end_gesture(&mut self) {
        self.editing.commit();
        self.tools.reset();
    }

    fn undo(&mut self, back: bool) {
        self.tools.reset();
        if let Some(label) = self.editing.undo(back) {
            self.notify(format!("{}: {label}", if back { "Undid" } else { "Redid" }), false);
        }
    }

    /// Replace the whole document (open, recover): a fresh history and view.
    fn set_document(&mut self, doc: EditorDocument, title: String, project: Option<PathBuf>) {
        self.tools.reset();
        self.editing.replace(doc);
        self.saved.project_path = project;
        self.saved.title = title;
        self.saved.generation = self.editing.generation();
        self.saved.autosaved_generation = self.editing.generation();
        self.canvas.view = Default::default();
        self.layers.clear();
    }

    // ----- Decomposition -----

    pub fn start_decompose(&mut self, ctx: &egui::Context) {
        if self.job.is_some() {
            return;
        }
        self.end_gesture();
        let Some(bg) = self.editing.background_index() else {
            self.notify("Nothing to decompose: the document has no full-size background layer.", true);
            return;
        };
        let doc = self.editing.doc();
        let object_mask = to_engine_mask(&doc.masks.object);
        let hint = |m: &image::GrayImage| Some(to_engine_mask(m)).filter(|m| !m.is_empty());
        if object_mask.is_empty() && hint(&doc.masks.effect_add).is_none() {
            let text = "Brush over the object first (Object brush, B), or over a shadow alone (Effect brush, H), \
                        then Decompose.";
            self.notify(text, true);
            return;
        }
        let input = JobInput {
            image: doc.stack.layers()[bg].pixels.clone(),
            object_mask,
            effect_hint: hint(&doc.masks.effect_add),
            protect: hint(&doc.masks.effect_remove),
            quality: self.options.quality,
            stages: self.options.stages.clone(),
        };
        let ctx = ctx.clone();
        self.job = Some(DecomposeJob::start(input, move || ctx.request_repaint()));
    }

    /// "Select subject": the network proposes the object's brush (on a thread), from the whole
    /// photo or from inside `area`.
    pub fn start_select(&mut self, ctx: &egui::Context, area: Option<PixelRect>) {
        if self.job.is_some() || self.select_job.is_some() {
            return;
        }
        self.end_gesture();
        let Some(bg) = self.editing.background_index() else {
            self.notify("Nothing to select in: the document has no full-size background layer.", true);
            return;
        };
        let image = self.editing.doc().stack.layers()[bg].pixels.clone();
        let ctx = ctx.clone();
        self.select_job = Some(SelectJob::start(image, area, move || ctx.request_repaint()));
    }

    fn poll_select(&mut self) {
        let Some(job) = &mut self.select_job else { return };
        let Some(result) = job.poll() else { return };
        let took = job.started.elapsed();
        self.select_job = None;
        match result {
            Ok(mask) => {
                self.editing.apply(Action::SetObjectMask(from_engine_mask(&mask)));
                self.editing.commit();
                self.tools.tool = Tool::ObjectBrush;
                let text = format!(
                    "Subject selected in {:.1} s: correct it with the brush (B) and eraser (E), then Decompose.",
                    took.as_secs_f32()
                );
                self.notify(text, false);
            }
            Err(e) => self.notify(format!("Select subject failed: {e}"), true),
        }
    }

    fn poll_job(&mut self) {
        let Some(job) = &mut self.job else { return };
        let Some((result, took)) = job.poll() else { return };
        self.job = None;
        match result {
            Ok(JobResult::ShadowRemoved(removal)) => {
                let gain = removal.gain;
                self.editing.apply(Action::ShadowRemoved(Box::new(removal)));
                self.last_decompose = Some(took);
                let text = format!(
                    "Shadow removed in {:.1} s (brightened ×{gain:.2}): it is its own layer (Multiply) above the \
                     background.",
                    took.as_secs_f32()
                );
                self.notify(text, false);
            }
            Ok(JobResult::Decomposed(d)) => {
                let t0 = Instant::now();
                let effects = d.effects_summary();
                for w in &d.warnings {
                    self.notify(format!("Decomposed, but {w}."), true);
                }
                self.editing.apply(Action::Decomposed(Box::new(d)));
                self.tools.tool = Tool::Move;
                self.last_decompose = Some(took);
                log::info!(
                    "decomposition took {:.2} s; result applied in {:.1} ms",
                    took.as_secs_f64(),
                    t0.elapsed().as_secs_f64() * 1e3
                );
                self.notify(
                    format!(
                        "Decomposed in {:.1} s: object, {effects}. Drag it with the Move tool.",
                        took.as_secs_f32()
                    ),
                    false,
                );
            }
            Err(e) if e == "Cancelled" => self.notify("Decomposition cancelled; nothing changed.", false),
            Err(e) => self.notify(format!("Decomposition failed: {e}"), true),
        }
        // Frames just after the result count too (new layers go up to the GPU then); scripted runs
        // close once those have been drawn.
        self.settle_until = Some(Instant::now() + Duration::from_secs(2));
    }

    // ----- Files -----

    /// Open an image or project (on a background thread).
    pub fn open(&mut self, path: PathBuf, ctx: &egui::Context) {
        let opts = self.options.import.clone();
        self.tasks.spawn(move || TaskDone::Opened(path.clone(), files::open_document(&path, &opts)), ctx);
    }

    /// Save the project to `path` (OpenRaster with our masks), in the background.
    pub fn save_project_to(&mut self, path: PathBuf, ctx: &egui::Context) {
        self.end_gesture();
        let doc = self.editing.doc().clone();
        let generation = self.editing.generation();
        self.tasks.spawn(move || TaskDone::Saved(path.clone(), generation, files::save_project(&doc, &path)), ctx);
    }

    /// Export the layers (or the composite), in the background.
    pub fn export_to(&mut self, path: PathBuf, format: io::ExportFormat, ctx: &egui::Context) {
        self.end_gesture();
        let stack = self.editing.doc().stack.clone();
        self.tasks.spawn(move || TaskDone::Exported(path.clone(), io::export_as(&stack, format, &path)), ctx);
    }

    fn poll_tasks(&mut self, ctx: &egui::Context) {
        for done in self.tasks.poll() {
            match done {
                TaskDone::Opened(path, Ok(doc)) if self.is_dirty() => {
                    // Never drop unsaved work silently: ask first.
                    self.dialogs.replace_prompt = Some((path, doc));
                }
                TaskDone::Opened(path, Ok(doc)) => self.show_opened(path, doc, ctx),
                TaskDone::Opened(_, Err(e)) => self.notify(e.to_string(), true),
                TaskDone::Saved(path, generation, Ok(())) => {
                    self.saved.generation = generation;
                    self.saved.project_path = Some(path.clone());
                    self.saved.recent = self.options.dirs.add_recent(&path);
                    files::discard_recovery(&self.options.dirs);
                    self.notify(format!("Saved {}", path.display()), false);
                    if self.saved.close_after_save && !self.is_dirty() {
                        self.saved.allow_close = true;
                        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    }
                }
                TaskDone::Saved(_, _, Err(e)) | TaskDone::Exported(_, Err(e)) => {
                    self.saved.close_after_save = false;
                    self.notify(e.to_string(), true)
                }
                TaskDone::Exported(path, Ok(())) => self.notify(format!("Exported {}", path.display()), false),
                TaskDone::Autosaved(result) => {
                    self.saved.autosaving = false;
                    if let Err(e) = result {
                        self.notify(format!("Autosave failed: {e}"), true);
                    }
                }
            }
        }
    }

    fn show_opened(&mut self, path: PathBuf, doc: EditorDocument, ctx: &egui::Context) {
        let project = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("ora")).then(|| path.clone());
        self.saved.recent = self.options.dirs.add_recent(&path);
        self.set_document(doc, path.display().to_string(), project);
        ctx.send_viewport_cmd(egui::ViewportCommand::Title(format!("layerdecomp — {}", self.saved.title)));
        self.notify(format!("Opened {}", path.display()), false);
    }

    fn poll_dialogs(&mut self, ctx: &egui::Context) {
        for answer in self.tasks.poll_dialogs() {
            match answer {
                DialogAnswer::Picked(purpose, path) => self.run_command(Command::UsePath(purpose, path), ctx),
                DialogAnswer::NoDialog(purpose) => {
                    self.notify("No system file dialog is available here: type the path instead.", false);
                    self.dialogs.path_prompt = Some((purpose, String::new()));
                }
                DialogAnswer::Cancelled => self.saved.close_after_save = false,
            }
        }
    }

    fn autosave_tick(&mut self, ctx: &egui::Context) {
        // One autosave at a time, so an older snapshot can never overwrite a newer one.
        if self.saved.autosaving {
            return;
        }
        let generation = self.editing.generation();
        let due = self.saved.last_autosave.elapsed() >= self.options.autosave_every;
        if !due || generation == self.saved.autosaved_generation || generation == self.saved.generation {
            if due {
                self.saved.last_autosave = Instant::now();
            }
            return;
        }
        self.saved.last_autosave = Instant::now();
        self.saved.autosaved_generation = generation;
        let doc = self.editing.doc().clone();
        let dirs = self.options.dirs.clone();
        self.saved.autosaving = true;
        self.tasks.spawn(move || TaskDone::Autosaved(files::autosave(&doc, &dirs)), ctx);
    }

    // ----- Commands -----

    fn run_commands(&mut self, commands: Vec<Command>, ctx: &egui::Context) {
        for command in commands {
            self.run_command(command, ctx);
        }
    }

    fn run_command(&mut self, command: Command, ctx: &egui::Context) {
        match command {
            Command::AskPath(purpose) => {
                if !self.tasks.ask_path(purpose) {
                    self.dialogs.path_prompt = Some((purpose, String::new()));
                }
            }
            Command::PromptPath(purpose) => self.dialogs.path_prompt = Some((purpose, String::new())),
            Command::UsePath(PathPurpose::Open, path) => self.open(path, ctx),
            Command::UsePath(PathPurpose::SaveProject, path) => {
                let path = if path.extension().is_none() { path.with_extension("ora") } else { path };
                self.save_project_to(path, ctx);
            }
            Command::UsePath(PathPurpose::Export(_), path) => self.dialogs.export_path = path.display().to_string(),
            Command::NoPath => self.saved.close_after_save = false,
            Command::Open(path) => self.open(path, ctx),
            Command::ShowOpened(path, doc) => self.show_opened(path, *doc, ctx),
            Command::Save { save_as } => match (&self.saved.project_path, save_as) {
                (Some(p), false) => self.save_project_to(p.clone(), ctx),
                _ => self.run_command(Command::AskPath(PathPurpose::SaveProject), ctx),
            },
            Command::ShowExport => self.dialogs.export_open = true,
            Command::Export(path, format) => self.export_to(path, format, ctx),
            Command::Undo => self.undo(true),
            Command::Redo => self.undo(false),
            Command::ClearMasks => self.editing.apply(Action::ClearMasks),
            Command::Decompose => self.start_decompose(ctx),
            Command::SelectSubject(area) => self.start_select(ctx, area),
            Command::CancelJob => {
                if let Some(job) = &mut self.job {
                    job.cancel();
                }
                if self.select_job.take().is_some() {
                    self.notify("Select subject cancelled; nothing changed.", false);
                }
            }
            Command::Recover(path) => match files::open_document(&path, &self.options.import) {
                Ok(doc) => {
                    self.set_document(doc, "recovered document".into(), None);
                    // Recovered work is unsaved until the user saves it.
                    self.saved.generation = self.editing.generation().wrapping_sub(1);
                }
                Err(e) => self.notify(format!("Cannot recover: {e}"), true),
            },
            Command::DiscardRecovery => files::discard_recovery(&self.options.dirs),
            Command::SaveAndClose => {
                self.saved.close_after_save = true;
                self.run_command(Command::Save { save_as: false }, ctx);
            }
            Command::DiscardAndClose => {
                self.saved.allow_close = true;
                files::discard_recovery(&self.options.dirs);
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
            Command::FitView => self.canvas.view.fit = true,
            Command::ActualPixels => {
                let rect = self.canvas.rect;
                self.canvas.view.actual_pixels(rect, rect.center(), ctx.pixels_per_point());
            }
        }
    }

    // ----- Frame -----

    fn shortcuts(&mut self, ctx: &egui::Context) {
        let cmd_shift = Modifiers::COMMAND | Modifiers::SHIFT;
        let consume = |m: Modifiers, k: Key| ctx.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(m, k)));
        let mut commands = Vec::new();
        if consume(cmd_shift, Key::Z) || consume(Modifiers::COMMAND, Key::Y) {
            commands.push(Command::Redo);
        }
        let table = [
            (Modifiers::COMMAND, Key::Z, Command::Undo),
            (cmd_shift, Key::S, Command::Save { save_as: true }),
            (Modifiers::COMMAND, Key::S, Command::Save { save_as: false }),
            (Modifiers::COMMAND, Key::O, Command::AskPath(PathPurpose::Open)),
            (Modifiers::COMMAND, Key::E, Command::ShowExport),
            (Modifiers::COMMAND, Key::Num0, Command::FitView),
            (Modifiers::COMMAND, Key::Num1, Command::ActualPixels),
        ];
        for (m, k, command) in table {
            if consume(m, k) {
                commands.push(command);
            }
        }
        if consume(Modifiers::COMMAND, Key::Enter) || consume(Modifiers::COMMAND, Key::D) {
            commands.push(Command::Decompose);
        }
        self.run_commands(commands, ctx);
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        if ctx.input(|i| i.key_pressed(Key::Escape)) {
            self.run_command(Command::CancelJob, ctx);
        }
        for tool in Tool::ALL {
            if ctx.input(|i| i.modifiers.is_none() && i.key_pressed(tool.shortcut())) {
                self.tools.tool = tool;
            }
        }
        if ctx.input(|i| i.key_pressed(Key::OpenBracket)) {
            self.brush.step_size(false);
        }
        if ctx.input(|i| i.key_pressed(Key::CloseBracket)) {
            self.brush.step_size(true);
        }
        let (dx, dy) = ctx.input(arrow_keys);
        let actions = self.tools.nudge(dx, dy, &tool_context(&self.editing, self.brush, self.canvas.view.zoom));
        self.editing.apply_all(actions);
    }

    /// The canvas: the pointer drives the active tool, whose actions change the document, then
    /// the document is drawn.
    fn canvas_panel(&mut self, ui: &mut egui::Ui) {
        let size = (self.editing.doc().stack.width(), self.editing.doc().stack.height());
        let can_edit = self.job.is_none() && self.select_job.is_none();
        if let Some(event) = self.canvas.input(ui, size, self.tools.is_idle(), can_edit) {
            let cx = tool_context(&self.editing, self.brush, self.canvas.view.zoom);
            let actions = self.tools.pointer(event, &cx);
            self.editing.apply_all(actions);
            if let Some(area) = self.tools.take_subject_box().and_then(|b| pixel_rect(b, size)) {
                self.start_select(ui.ctx(), Some(area));
            }
        }
        let overlay = Overlay {
            brush_radius: self.tools.tool.paints().then_some(self.brush.radius),
            selection: (self.tools.tool == Tool::Move)
                .then(|| selection_bounds(&self.editing.doc().stack, self.editing.selected()))
                .flatten(),
            subject_box: self.tools.dragged_box(),
        };
        self.canvas.paint(ui, &self.editing, &overlay);
    }

    /// Commit the open undo step once the pointer is released and no gesture goes on.
    fn end_frame(&mut self, ctx: &egui::Context) {
        self.editing.touch();
        if !ctx.input(|i| i.pointer.any_down()) && self.tools.is_idle() {
            self.editing.commit();
        }
    }

    fn handle_close(&mut self, ctx: &egui::Context) {
        if !ctx.input(|i| i.viewport().close_requested()) {
            return;
        }
        if self.is_dirty() && !self.saved.allow_close && !self.options.exit_after_decompose {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.dialogs.close_prompt = true;
        } else if !self.is_dirty() {
            files::discard_recovery(&self.options.dirs);
        }
    }

    fn dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).filter(|p| !p.as_os_str().is_empty()).collect()
        });
        if let Some(path) = dropped.into_iter().next() {
            self.open(path, ctx);
        }
    }

    /// Scripted runs: `--decompose` starts once the photo is on screen, as a user's would, and
    /// `--exit-after-decompose` closes once the result has been drawn.
    fn scripted_run(&mut self, ctx: &egui::Context) {
        let scripted = self.options.decompose_on_start || self.options.select_subject_on_start;
        if scripted && !self.auto_started {
            if self.started.elapsed() > Duration::from_millis(1500) {
                self.auto_started = true;
                if self.options.select_subject_on_start {
                    self.start_select(ctx, None);
                } else {
                    self.start_decompose(ctx);
                }
            } else {
                ctx.request_repaint_after(Duration::from_millis(100));
            }
        }
        if self.settle_until.is_some_and(|until| Instant::now() >= until) {
            self.settle_until = None;
            if self.options.exit_after_decompose {
                ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            }
        }
    }

    fn schedule_repaint(&self, ctx: &egui::Context) {
        if frame_log() {
            // Logging every frame's timing: draw continuously.
            ctx.request_repaint();
        } else if self.job.is_some() || self.select_job.is_some() {
            // The elapsed time ticks five times a second; progress wakes the UI itself. Few
            // frames leave the CPU to the engine (`--debug-timing` measures this very pacing).
            ctx.request_repaint_after(Duration::from_millis(200));
        } else if !self.tasks.is_empty() || self.settle_until.is_some() {
            ctx.request_repaint_after(Duration::from_millis(100));
        } else {
            ctx.request_repaint_after(self.options.autosave_every);
        }
    }

    fn status(&self, ppp: f32) -> Status<'_> {
        let stack = &self.editing.doc().stack;
        Status {
            size: (stack.width(), stack.height()),
            zoom: self.canvas.view.zoom * ppp,
            cursor: self.canvas.cursor,
            engine_device: self.engine_device,
            gpu_canvas: self.canvas.gpu,
            last_decompose: self.last_decompose,
            longest_frame: self.options.debug_timing.then_some(self.timing.longest_frame),
            dirty: self.is_dirty(),
        }
    }
}

/// What the editor's tests drive and read.
#[cfg(test)]
impl EditorApp {
    /// The editor on the bundled sample photo.
    pub fn with_sample(cc: &eframe::CreationContext<'_>, options: EditorOptions) -> anyhow::Result<Self> {
        let img =
            io::import_image_bytes(super::options::SAMPLE_JPEG, std::path::Path::new("sample.jpg"), &options.import)?
                .image;
        Ok(Self::new(
            cc,
            EditorDocument::new(layerdecomp::document::LayerStack::from_background(img)),
            "sample.jpg".into(),
            options,
        ))
    }

    pub fn document(&self) -> &EditorDocument {
        self.editing.doc()
    }
    pub fn selected(&self) -> Option<layerdecomp::document::LayerId> {
        self.editing.selected()
    }
    pub fn is_busy(&self) -> bool {
        self.job.is_some() || self.select_job.is_some() || self.tasks.busy()
    }
    pub fn notices(&self) -> &[super::dialogs::Notice] {
        self.dialogs.notices()
    }
    pub fn uses_gpu(&self) -> bool {
        self.canvas.gpu
    }
    pub fn tool(&self) -> Tool {
        self.tools.tool
    }
    pub fn set_brush(&mut self, brush: BrushSettings) {
        self.brush = brush;
    }
    pub fn undo_steps(&self) -> usize {
        self.editing.history().undo_len()
    }
    /// Screen position of canvas point `p` in the last frame.
    pub fn canvas_to_screen(&self, p: egui::Pos2) -> egui::Pos2 {
        self.canvas.view.to_screen(self.canvas.rect, p)
    }
    pub fn zoom(&self) -> f32 {
        self.canvas.view.zoom
    }
}

/// What the tools see of the document and the settings.
fn tool_context(editing: &Editing, brush: BrushSettings, zoom: f32) -> ToolContext<'_> {
    ToolContext { stack: &editing.doc().stack, selected: editing.selected(), brush, zoom }
}

impl eframe::App for EditorApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        if self.options.debug_timing {
            let cpu = Duration::from_secs_f32(frame.info().cpu_usage.unwrap_or(0.0).max(0.0));
            let busy = self.job.is_some() || self.settle_until.is_some_and(|u| Instant::now() < u);
            self.timing.record(cpu, busy);
        }
        self.scripted_run(&ctx);
        self.poll_job();
        self.poll_select();
        self.poll_tasks(&ctx);
        self.poll_dialogs(&ctx);
        self.dropped_files(&ctx);
        self.handle_close(&ctx);
        self.shortcuts(&ctx);

        let ppp = ctx.pixels_per_point();
        let menu = egui::Panel::top("menu")
            .show(ui, |ui| panels::menu_bar(ui, &self.saved.recent, self.editing.history()))
            .inner;
        egui::Panel::bottom("status").show(ui, |ui| panels::status_bar(ui, &self.status(ppp)));
        let tools = egui::Panel::left("tools")
            .resizable(false)
            .exact_size(215.0)
            .show(ui, |ui| {
                panels::tools_panel(ui, &mut self.tools, &mut self.brush, self.job.as_ref(), self.select_job.as_ref())
            })
            .inner;
        let (stack, selected) = (&self.editing.doc().stack, self.editing.selected());
        let layer_actions =
            egui::Panel::right("layers").default_size(240.0).show(ui, |ui| self.layers.show(ui, stack, selected)).inner;
        self.editing.apply_all(layer_actions);
        egui::CentralPanel::default().frame(egui::Frame::NONE).show(ui, |ui| self.canvas_panel(ui));
        self.run_commands(menu, &ctx);
        self.run_commands(tools, &ctx);
        let dialog_commands = self.dialogs.show(&ctx);
        self.run_commands(dialog_commands, &ctx);
        self.end_frame(&ctx);
        self.autosave_tick(&ctx);
        self.schedule_repaint(&ctx);
    }

    fn on_exit(&mut self) {
        if let Some(job) = &mut self.job {
            job.cancel();
        }
        if self.options.debug_timing {
            println!("{}", self.timing.report(self.last_decompose));
        }
    }
}
