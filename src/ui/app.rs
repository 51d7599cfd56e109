//! The editor application: state, the frame loop, menus, shortcuts and dialogs. The canvas
//! (`canvas`), the layers panel (`layers`), files (`files`) and the worker (`worker`) live beside.
//!
//! Persisted state (the document, recent files, the recovery file) is kept apart from runtime
//! state (view, gesture, running jobs). The UI never blocks: decomposition, opening, saving,
//! exporting and autosaving run on threads and report through channels.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, TryRecvError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use eframe::egui::{self, Key, KeyboardShortcut, Modifiers};

use super::brush::{to_engine_mask, BrushSettings};
use super::canvas::{install_gpu_compositor, CanvasView, EffectBrushMode, Gesture, Tool};
use super::files::{self, AppDirs, ExportKind};
use super::history::{valid_selection, EditorDocument, History, Masks, DEFAULT_HISTORY_BYTES};
use super::worker::{DecomposeJob, JobInput};
use crate::document::{LayerId, LayerKind, LayerStack};
use crate::engine::stages::Stages;
use crate::engine::Quality;
use crate::io::{FileError, ImportOptions};

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
            exit_after_decompose: false,
            autosave_every: Duration::from_secs(120),
            dirs: AppDirs::from_env(),
            stages: Arc::new(Stages::classical(Quality::Balanced)),
            quality: Quality::Balanced,
            history_bytes: DEFAULT_HISTORY_BYTES,
        }
    }
}

/// A message shown to the user (errors stay until dismissed).
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub text: String,
    pub error: bool,
}

enum TaskDone {
    Opened(PathBuf, Result<EditorDocument, FileError>),
    Saved(PathBuf, u64, Result<(), FileError>),
    Exported(PathBuf, Result<(), FileError>),
    Autosaved(Result<(), FileError>),
}

enum DialogPurpose {
    Open,
    SaveProject,
    Export(ExportKind),
}

/// Frame times, recorded with `--debug-timing`.
#[derive(Default)]
pub struct FrameTiming {
    pub frames: u64,
    /// Longest CPU time of one frame (egui's `cpu_usage`: UI code, tessellation and painting).
    pub longest_frame: Duration,
    /// The same, counted only while a decomposition runs.
    pub longest_frame_while_busy: Duration,
    pub busy_frames: u64,
    /// Longest wall-clock gap between two frames while a decomposition runs.
    pub longest_gap_while_busy: Duration,
    last_frame: Option<Instant>,
}

/// The editor.
pub struct EditorApp {
    pub(super) doc: EditorDocument,
    pub(super) history: History,
    /// The open transaction: the document before the first change of the current action.
    pending: Option<(String, EditorDocument)>,
    /// Bumped whenever the document may have changed (previews key on it).
    edits: u64,
    /// Committed-change counter and its value when last saved / autosaved.
    generation: u64,
    saved_generation: u64,
    autosaved_generation: u64,
    pub(super) selected: Option<LayerId>,
    /// The project file Ctrl+S writes (None until saved as a project).
    project_path: Option<PathBuf>,
    title: String,
    pub(super) tool: Tool,
    pub(super) brush: BrushSettings,
    pub(super) effect_mode: EffectBrushMode,
    pub(super) gesture: Gesture,
    pub(super) view: CanvasView,
    pub(super) canvas_rect: egui::Rect,
    pub(super) cursor: Option<egui::Pos2>,
    pub(super) gpu: bool,
    pub(super) cpu_texture: Option<(u64, egui::TextureHandle)>,
    pub(super) blank_mask: Arc<image::GrayImage>,
    pub(super) job: Option<DecomposeJob>,
    last_decompose: Option<Duration>,
    engine_device: &'static str,
    tasks: Vec<Receiver<TaskDone>>,
    /// Open system file dialogs: what for, when asked, and the answer's channel.
    dialogs: Vec<(DialogPurpose, Instant, Receiver<Option<PathBuf>>)>,
    /// A document opened while the current one has unsaved changes, waiting for the user's word.
    replace_prompt: Option<(PathBuf, EditorDocument)>,
    /// A typed-path prompt: used when no system dialog answers (no desktop portal) or by choice.
    path_prompt: Option<(DialogPurpose, String)>,
    notices: Vec<Notice>,
    export_open: bool,
    pub(super) export_kind: ExportKind,
    pub(super) export_path: String,
    jpeg_quality: u8,
    pub(super) rename: Option<(LayerId, String)>,
    pub(super) thumbnails: std::collections::HashMap<LayerId, (usize, egui::TextureHandle)>,
    recent: Vec<PathBuf>,
    recovery_offer: Option<PathBuf>,
    last_autosave: Instant,
    autosaving: bool,
    close_prompt: bool,
    close_after_save: bool,
    allow_close: bool,
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
        let device = crate::engine::pick_device();
        let recovery_offer = files::pending_recovery(&options.dirs);
        let recent = options.dirs.recent();
        let blank_mask = doc.masks.object.clone();
        let mut app = Self {
            doc,
            history: History::new(options.history_bytes),
            pending: None,
            edits: 0,
            generation: 0,
            saved_generation: 0,
            autosaved_generation: 0,
            selected: None,
            project_path: None,
            title,
            tool: Tool::ObjectBrush,
            brush: BrushSettings::default(),
            effect_mode: EffectBrushMode::Add,
            gesture: Gesture::Ready,
            view: CanvasView::default(),
            canvas_rect: egui::Rect::NOTHING,
            cursor: None,
            gpu,
            cpu_texture: None,
            blank_mask,
            job: None,
            last_decompose: None,
            engine_device: crate::engine::device::describe(&device),
            tasks: Vec::new(),
            dialogs: Vec::new(),
            path_prompt: None,
            replace_prompt: None,
            notices: Vec::new(),
            export_open: false,
            export_kind: ExportKind::Psd,
            export_path: String::new(),
            jpeg_quality: 92,
            rename: None,
            thumbnails: Default::default(),
            recent,
            recovery_offer,
            last_autosave: Instant::now(),
            autosaving: false,
            close_prompt: false,
            close_after_save: false,
            allow_close: false,
            options,
            started: Instant::now(),
            auto_started: false,
            settle_until: None,
            timing: FrameTiming::default(),
        };
        if !gpu {
            app.notify("No usable GPU adapter: the canvas is drawn by the CPU compositor (slower).", false);
        }
        if let Some(mask) = app.options.object_mask.clone() {
            match load_mask(&mask, app.doc.stack.width(), app.doc.stack.height()) {
                Ok(m) => app.doc.masks.object = Arc::new(m),
                Err(e) => app.notify(e, true),
            }
        }
        app
    }

    /// The editor on the bundled sample photo.
    pub fn with_sample(cc: &eframe::CreationContext<'_>, options: EditorOptions) -> anyhow::Result<Self> {
        let img = crate::io::import_image_bytes(SAMPLE_JPEG, Path::new("sample.jpg"), &options.import)?.image;
        Ok(Self::new(cc, EditorDocument::new(LayerStack::from_background(img)), "sample.jpg".into(), options))
    }

    // ----- Read access for tests and the status bar -----

    pub fn document(&self) -> &EditorDocument {
        &self.doc
    }
    pub fn selected(&self) -> Option<LayerId> {
        self.selected
    }
    pub fn is_busy(&self) -> bool {
        self.job.is_some() || !self.tasks.is_empty()
    }
    pub fn notices(&self) -> &[Notice] {
        &self.notices
    }
    pub fn is_dirty(&self) -> bool {
        self.generation != self.saved_generation || self.pending.is_some()
    }
    pub fn uses_gpu(&self) -> bool {
        self.gpu
    }
    pub fn tool(&self) -> Tool {
        self.tool
    }
    pub fn brush(&self) -> BrushSettings {
        self.brush
    }
    pub fn set_brush(&mut self, brush: BrushSettings) {
        self.brush = brush;
    }
    pub fn undo_steps(&self) -> usize {
        self.history.undo_len()
    }
    pub fn last_decompose_time(&self) -> Option<Duration> {
        self.last_decompose
    }
    /// Screen position of canvas point `p` in the last frame.
    pub fn canvas_to_screen(&self, p: egui::Pos2) -> egui::Pos2 {
        self.view.to_screen(self.canvas_rect, p)
    }
    pub fn zoom(&self) -> f32 {
        self.view.zoom
    }

    pub(super) fn notify(&mut self, text: impl Into<String>, error: bool) {
        let text = text.into();
        if error {
            log::error!("{text}");
        }
        self.notices.push(Notice { text, error });
        if self.notices.len() > 5 {
            self.notices.remove(0);
        }
    }

    pub(super) fn doc_stamp(&self) -> u64 {
        self.edits
    }

    // ----- Undo -----

    /// Start (or continue) the current action's undo step.
    pub(super) fn begin_edit(&mut self, label: &str) {
        self.edits += 1;
        if self.pending.is_none() {
            self.pending = Some((label.to_string(), self.doc.clone()));
        }
    }

    /// Close the open undo step once the pointer is released.
    fn end_frame(&mut self, ctx: &egui::Context) {
        if self.pending.is_some() {
            self.edits += 1;
        }
        let pointer_down = ctx.input(|i| i.pointer.any_down());
        if pointer_down || !matches!(self.gesture, Gesture::Ready) {
            return;
        }
        self.commit_pending();
    }

    /// Commit the open undo step, unless the action changed nothing.
    fn commit_pending(&mut self) {
        if let Some((label, before)) = self.pending.take() {
            if !same_document(&before, &self.doc) {
                self.history.commit(label, before, &self.doc);
                self.generation += 1;
            }
        }
    }

    /// Apply a finished change as one undo step.
    pub(super) fn commit_now(&mut self, label: &str, before: EditorDocument) {
        self.edits += 1;
        self.history.commit(label, before, &self.doc);
        self.generation += 1;
    }

    pub fn undo(&mut self) {
        self.move_in_history(true);
    }

    pub fn redo(&mut self) {
        self.move_in_history(false);
    }

    fn move_in_history(&mut self, back: bool) {
        self.end_pending();
        let doc = std::mem::replace(&mut self.doc, EditorDocument::new(LayerStack::new(0, 0)));
        let moved = if back { self.history.undo(doc) } else { self.history.redo(doc) };
        self.doc = match moved {
            Ok((doc, label)) => {
                self.notify(format!("{}: {label}", if back { "Undid" } else { "Redid" }), false);
                self.generation += 1;
                doc
            }
            Err(doc) => doc,
        };
        self.edits += 1;
        self.selected = valid_selection(&self.doc.stack, self.selected);
    }

    fn end_pending(&mut self) {
        self.commit_pending();
        self.gesture = Gesture::Ready;
    }

    /// Replace the whole document (open, recover): a fresh history.
    fn set_document(&mut self, doc: EditorDocument, title: String, project: Option<PathBuf>) {
        self.end_pending();
        self.blank_mask = Arc::new(image::GrayImage::new(doc.stack.width(), doc.stack.height()));
        self.doc = doc;
        self.history = History::new(self.options.history_bytes);
        self.selected = None;
        self.project_path = project;
        self.title = title;
        self.view = CanvasView::default();
        self.thumbnails.clear();
        self.edits += 1;
        self.generation += 1;
        self.saved_generation = self.generation;
        self.autosaved_generation = self.generation;
    }

    // ----- Decomposition -----

    /// The bottom background layer, which decomposition works on.
    fn background_index(&self) -> Option<usize> {
        let (w, h) = (self.doc.stack.width(), self.doc.stack.height());
        self.doc.stack.layers().iter().position(|l| {
            l.kind == LayerKind::Background && l.transform.integer_offset() == Some((0, 0)) && l.pixels.width() == w && l.pixels.height() == h
        })
    }

    pub fn start_decompose(&mut self, ctx: &egui::Context) {
        if self.job.is_some() {
            return;
        }
        self.end_pending();
        let Some(bg) = self.background_index() else {
            self.notify("Nothing to decompose: the document has no full-size background layer.", true);
            return;
        };
        let object_mask = to_engine_mask(&self.doc.masks.object);
        if object_mask.is_empty() {
            self.notify("Brush over the object first (Object brush, B), then Decompose.", true);
            return;
        }
        let hint = |m: &image::GrayImage| Some(to_engine_mask(m)).filter(|m| !m.is_empty());
        let input = JobInput {
            image: self.doc.stack.layers()[bg].pixels.clone(),
            object_mask,
            effect_hint: hint(&self.doc.masks.effect_add),
            protect: hint(&self.doc.masks.effect_remove),
            quality: self.options.quality,
            stages: self.options.stages.clone(),
        };
        let ctx = ctx.clone();
        self.job = Some(DecomposeJob::start(input, move || ctx.request_repaint()));
    }

    fn poll_job(&mut self) {
        let Some(job) = &mut self.job else { return };
        let Some((result, took)) = job.poll() else { return };
        self.job = None;
        match result {
            Ok(d) => {
                let t0 = Instant::now();
                let Some(bg) = self.background_index() else { return };
                let before = self.doc.clone();
                let n = self.doc.stack.layers().iter().filter(|l| l.kind == LayerKind::Object).count();
                let name = if n == 0 { "Object".to_string() } else { format!("Object {}", n + 1) };
                let stack = &mut self.doc.stack;
                let bg_id = stack.layers()[bg].id;
                let mut d = d;
                let background = std::mem::replace(&mut d.background, crate::document::PremulImage::new(0, 0));
                if let Some(layer) = stack.layer_mut(bg_id) {
                    layer.pixels = Arc::new(background);
                }
                let effects = d.effects_summary();
                let object = d.add_layers_to(stack, bg, &name);
                self.doc.masks = Masks::empty(self.doc.stack.width(), self.doc.stack.height());
                self.blank_mask = self.doc.masks.object.clone();
                self.commit_now("Decompose", before);
                self.selected = Some(object);
                self.tool = Tool::Move;
                self.last_decompose = Some(took);
                log::info!("decomposition took {:.2} s; result applied in {:.1} ms", took.as_secs_f64(), t0.elapsed().as_secs_f64() * 1e3);
                self.notify(format!("Decomposed in {:.1} s: object, {effects}. Drag it with the Move tool.", took.as_secs_f32()), false);
            }
            Err(e) if e == "Cancelled" => self.notify("Decomposition cancelled; nothing changed.", false),
            Err(e) => self.notify(format!("Decomposition failed: {e}"), true),
        }
        // Frames just after the result count too (new layers go up to the GPU then); scripted runs
        // close once those have been drawn.
        self.settle_until = Some(Instant::now() + Duration::from_secs(2));
    }

    // ----- Files -----

    fn spawn_task(&mut self, work: impl FnOnce() -> TaskDone + Send + 'static, ctx: &egui::Context) {
        let (tx, rx) = channel();
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            let _ = tx.send(work());
            ctx.request_repaint();
        });
        self.tasks.push(rx);
    }

    /// Open an image or project (on a background thread).
    pub fn open(&mut self, path: PathBuf, ctx: &egui::Context) {
        let opts = self.options.import.clone();
        self.spawn_task(move || TaskDone::Opened(path.clone(), files::open_document(&path, &opts)), ctx);
    }

    /// Save the project to `path` (OpenRaster with our masks), in the background.
    pub fn save_project_to(&mut self, path: PathBuf, ctx: &egui::Context) {
        self.end_pending();
        let doc = self.doc.clone();
        let generation = self.generation;
        self.spawn_task(move || TaskDone::Saved(path.clone(), generation, files::save_project(&doc, &path)), ctx);
    }

    /// Export the layers (or the composite), in the background.
    pub fn export_to(&mut self, path: PathBuf, kind: ExportKind, ctx: &egui::Context) {
        self.end_pending();
        let stack = self.doc.stack.clone();
        self.spawn_task(move || TaskDone::Exported(path.clone(), files::export(&stack, kind, &path)), ctx);
    }

    fn poll_tasks(&mut self, ctx: &egui::Context) {
        let mut done = Vec::new();
        self.tasks.retain(|rx| match rx.try_recv() {
            Ok(d) => {
                done.push(d);
                false
            }
            Err(TryRecvError::Empty) => true,
            Err(TryRecvError::Disconnected) => false,
        });
        for d in done {
            match d {
                TaskDone::Opened(path, Ok(doc)) if self.is_dirty() => {
                    // Never drop unsaved work silently: ask first (see `modal_dialogs`).
                    self.replace_prompt = Some((path, doc));
                }
                TaskDone::Opened(path, Ok(doc)) => self.show_opened(path, doc, ctx),
                TaskDone::Opened(_, Err(e)) => self.notify(e.to_string(), true),
                TaskDone::Saved(path, generation, Ok(())) => {
                    self.saved_generation = generation;
                    self.project_path = Some(path.clone());
                    self.recent = self.options.dirs.add_recent(&path);
                    files::discard_recovery(&self.options.dirs);
                    self.notify(format!("Saved {}", path.display()), false);
                    if self.close_after_save && !self.is_dirty() {
                        self.allow_close = true;
                        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    }
                }
                TaskDone::Saved(_, _, Err(e)) | TaskDone::Exported(_, Err(e)) => {
                    self.close_after_save = false;
                    self.notify(e.to_string(), true)
                }
                TaskDone::Exported(path, Ok(())) => self.notify(format!("Exported {}", path.display()), false),
                TaskDone::Autosaved(result) => {
                    self.autosaving = false;
                    if let Err(e) = result {
                        self.notify(format!("Autosave failed: {e}"), true);
                    }
                }
            }
        }
    }

    fn show_opened(&mut self, path: PathBuf, doc: EditorDocument, ctx: &egui::Context) {
        let project = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("ora")).then(|| path.clone());
        self.recent = self.options.dirs.add_recent(&path);
        self.set_document(doc, path.display().to_string(), project);
        ctx.send_viewport_cmd(egui::ViewportCommand::Title(format!("layerdecomp — {}", self.title)));
        self.notify(format!("Opened {}", path.display()), false);
    }

    /// Ask for a path with the system dialog, on a thread (the dialog must not freeze the UI).
    fn ask_path(&mut self, purpose: DialogPurpose) {
        // The system dialog goes through the desktop portal on the session bus; without a bus
        // (a bare X server, a container) there is no dialog to wait for.
        if cfg!(target_os = "linux") && std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
            self.path_prompt = Some((purpose, String::new()));
            return;
        }
        let (tx, rx) = channel();
        let dialog = match &purpose {
            DialogPurpose::Open => rfd::FileDialog::new()
                .add_filter("Images and projects", &["png", "jpg", "jpeg", "webp", "tif", "tiff", "bmp", "gif", "ora"])
                .set_title("Open"),
            DialogPurpose::SaveProject => rfd::FileDialog::new().add_filter("layerdecomp project (OpenRaster)", &["ora"]).set_title("Save project"),
            DialogPurpose::Export(kind) => {
                let d = rfd::FileDialog::new().set_title("Export");
                if kind.extension().is_empty() {
                    d
                } else {
                    d.add_filter(kind.label(), &[kind.extension()])
                }
            }
        };
        let pick_folder = matches!(purpose, DialogPurpose::Export(ExportKind::PngLayers));
        let open = matches!(purpose, DialogPurpose::Open);
        std::thread::spawn(move || {
            let path = if open {
                dialog.pick_file()
            } else if pick_folder {
                dialog.pick_folder()
            } else {
                dialog.save_file()
            };
            let _ = tx.send(path);
        });
        self.dialogs.push((purpose, Instant::now(), rx));
    }

    fn poll_dialogs(&mut self, ctx: &egui::Context) {
        let mut answered = Vec::new();
        self.dialogs.retain_mut(|(purpose, asked, rx)| match rx.try_recv() {
            Ok(path) => {
                answered.push((std::mem::replace(purpose, DialogPurpose::Open), *asked, path));
                false
            }
            Err(TryRecvError::Empty) => true,
            Err(TryRecvError::Disconnected) => false,
        });
        for (purpose, asked, path) in answered {
            let Some(path) = path else {
                // An answer this quick is no dialog at all (no desktop portal): ask in the window.
                if asked.elapsed() < Duration::from_millis(300) {
                    self.notify("No system file dialog is available here: type the path instead.", false);
                    self.path_prompt = Some((purpose, String::new()));
                } else {
                    self.close_after_save = false;
                }
                continue;
            };
            self.use_path(purpose, path, ctx);
        }
    }

    fn use_path(&mut self, purpose: DialogPurpose, path: PathBuf, ctx: &egui::Context) {
        match purpose {
            DialogPurpose::Open => self.open(path, ctx),
            DialogPurpose::SaveProject => {
                let path = if path.extension().is_none() { path.with_extension("ora") } else { path };
                self.save_project_to(path, ctx);
            }
            DialogPurpose::Export(_) => self.export_path = path.display().to_string(),
        }
    }

    fn path_prompt_window(&mut self, ctx: &egui::Context) {
        let Some((purpose, text)) = &mut self.path_prompt else { return };
        let title = match purpose {
            DialogPurpose::Open => "Open file",
            DialogPurpose::SaveProject => "Save project as",
            DialogPurpose::Export(_) => "Export to",
        };
        let (mut go, mut cancel) = (false, false);
        egui::Window::new(title).collapsible(false).show(ctx, |ui| {
            let label = ui.label("Path");
            let r = ui.add(egui::TextEdit::singleline(text).desired_width(360.0)).labelled_by(label.id);
            if text.is_empty() && !r.has_focus() {
                r.request_focus();
            }
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(Key::Enter));
            ui.horizontal(|ui| {
                go = ui.add_enabled(!text.trim().is_empty(), egui::Button::new("OK")).clicked() || (enter && !text.trim().is_empty());
                cancel = ui.button("Cancel").clicked();
            });
        });
        if go {
            if let Some((purpose, text)) = self.path_prompt.take() {
                self.use_path(purpose, PathBuf::from(text.trim()), ctx);
            }
        } else if cancel {
            self.path_prompt = None;
            self.close_after_save = false;
        }
    }

    fn save(&mut self, ctx: &egui::Context, save_as: bool) {
        match (&self.project_path, save_as) {
            (Some(p), false) => self.save_project_to(p.clone(), ctx),
            _ => self.ask_path(DialogPurpose::SaveProject),
        }
    }

    fn autosave_tick(&mut self, ctx: &egui::Context) {
        // One autosave at a time, so an older snapshot can never overwrite a newer one.
        if self.autosaving {
            return;
        }
        let due = self.last_autosave.elapsed() >= self.options.autosave_every;
        if !due || self.generation == self.autosaved_generation || self.generation == self.saved_generation {
            if due {
                self.last_autosave = Instant::now();
            }
            return;
        }
        self.last_autosave = Instant::now();
        self.autosaved_generation = self.generation;
        let doc = self.doc.clone();
        let dirs = self.options.dirs.clone();
        self.autosaving = true;
        self.spawn_task(move || TaskDone::Autosaved(files::autosave(&doc, &dirs)), ctx);
    }

    // ----- Frame -----

    fn shortcuts(&mut self, ctx: &egui::Context) {
        let shortcut = |m: Modifiers, k: Key| KeyboardShortcut::new(m, k);
        let cmd_shift = Modifiers::COMMAND | Modifiers::SHIFT;
        let consume = |s: KeyboardShortcut| ctx.input_mut(|i| i.consume_shortcut(&s));
        if consume(shortcut(cmd_shift, Key::Z)) || consume(shortcut(Modifiers::COMMAND, Key::Y)) {
            self.redo();
        }
        if consume(shortcut(Modifiers::COMMAND, Key::Z)) {
            self.undo();
        }
        if consume(shortcut(cmd_shift, Key::S)) {
            self.save(ctx, true);
        }
        if consume(shortcut(Modifiers::COMMAND, Key::S)) {
            self.save(ctx, false);
        }
        if consume(shortcut(Modifiers::COMMAND, Key::O)) {
            self.ask_path(DialogPurpose::Open);
        }
        if consume(shortcut(Modifiers::COMMAND, Key::E)) {
            self.export_open = true;
        }
        if consume(shortcut(Modifiers::COMMAND, Key::Enter)) || consume(shortcut(Modifiers::COMMAND, Key::D)) {
            self.start_decompose(ctx);
        }
        if consume(shortcut(Modifiers::COMMAND, Key::Num0)) {
            self.view.fit = true;
        }
        if consume(shortcut(Modifiers::COMMAND, Key::Num1)) {
            let at = self.canvas_rect.center();
            self.view.actual_pixels(self.canvas_rect, at, ctx.pixels_per_point());
        }
        if ctx.egui_wants_keyboard_input() {
            return;
        }
        if ctx.input(|i| i.key_pressed(Key::Escape)) {
            if let Some(job) = &mut self.job {
                job.cancel();
            }
        }
        for tool in [Tool::ObjectBrush, Tool::Eraser, Tool::EffectBrush, Tool::Move] {
            if ctx.input(|i| i.modifiers.is_none() && i.key_pressed(tool.shortcut())) {
                self.tool = tool;
            }
        }
        if ctx.input(|i| i.key_pressed(Key::OpenBracket)) {
            self.brush.step_size(false);
        }
        if ctx.input(|i| i.key_pressed(Key::CloseBracket)) {
            self.brush.step_size(true);
        }
        if self.tool == Tool::Move {
            self.nudge(ctx);
        }
    }

    fn menu_bar(&mut self, ui: &mut egui::Ui) {
        egui::MenuBar::new().ui(ui, |ui| {
            ui.menu_button("File", |ui| {
                if ui.button("Open…  (Ctrl+O)").clicked() {
                    self.ask_path(DialogPurpose::Open);
                }
                if ui.button("Open path…").clicked() {
                    self.path_prompt = Some((DialogPurpose::Open, String::new()));
                }
                ui.menu_button("Open recent", |ui| {
                    if self.recent.is_empty() {
                        ui.label("(none)");
                    }
                    for p in self.recent.clone() {
                        if ui.button(p.display().to_string()).clicked() {
                            self.open(p, ui.ctx());
                        }
                    }
                });
                if ui.button("Save project  (Ctrl+S)").clicked() {
                    self.save(ui.ctx(), false);
                }
                if ui.button("Save project as…  (Ctrl+Shift+S)").clicked() {
                    self.save(ui.ctx(), true);
                }
                if ui.button("Export…  (Ctrl+E)").clicked() {
                    self.export_open = true;
                }
                ui.separator();
                if ui.button("Quit").clicked() {
                    ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
                }
            });
            ui.menu_button("Edit", |ui| {
                let undo = self.history.undo_label().map(|l| format!("Undo {l}  (Ctrl+Z)"));
                if ui.add_enabled(undo.is_some(), egui::Button::new(undo.unwrap_or_else(|| "Undo".into()))).clicked() {
                    self.undo();
                }
                let redo = self.history.redo_label().map(|l| format!("Redo {l}  (Ctrl+Shift+Z)"));
                if ui.add_enabled(redo.is_some(), egui::Button::new(redo.unwrap_or_else(|| "Redo".into()))).clicked() {
                    self.redo();
                }
                if ui.button("Clear brushed masks").clicked() {
                    self.clear_masks();
                }
            });
            ui.menu_button("View", |ui| {
                if ui.button("Fit  (Ctrl+0)").clicked() {
                    self.view.fit = true;
                }
                if ui.button("100 %  (Ctrl+1)").clicked() {
                    let at = self.canvas_rect.center();
                    self.view.actual_pixels(self.canvas_rect, at, ui.ctx().pixels_per_point());
                }
            });
        });
    }

    fn clear_masks(&mut self) {
        let before = self.doc.clone();
        self.doc.masks = Masks::empty(self.doc.stack.width(), self.doc.stack.height());
        self.blank_mask = self.doc.masks.object.clone();
        self.commit_now("Clear masks", before);
    }

    fn tools_panel(&mut self, ui: &mut egui::Ui) {
        ui.spacing_mut().slider_width = 90.0;
        ui.heading("Tools");
        for tool in [Tool::ObjectBrush, Tool::Eraser, Tool::EffectBrush, Tool::Move] {
            let text = format!("{}  ({:?})", tool.label(), tool.shortcut());
            if ui.selectable_label(self.tool == tool, text).on_hover_text(tool.label()).clicked() {
                self.tool = tool;
            }
        }
        ui.separator();
        if matches!(self.tool, Tool::ObjectBrush | Tool::Eraser | Tool::EffectBrush) {
            ui.add(egui::Slider::new(&mut self.brush.radius, BrushSettings::MIN_RADIUS..=BrushSettings::MAX_RADIUS).logarithmic(true).suffix(" px").text("Size"))
                .on_hover_text("Brush radius ([ and ])");
            ui.add(egui::Slider::new(&mut self.brush.hardness, 0.0..=1.0).text("Hardness"));
        }
        if self.tool == Tool::EffectBrush {
            ui.label("The object's effects:");
            ui.radio_value(&mut self.effect_mode, EffectBrushMode::Add, "Add (is its shadow/reflection)");
            ui.radio_value(&mut self.effect_mode, EffectBrushMode::Remove, "Remove (is not)");
        }
        if self.tool == Tool::Move {
            ui.label("Drag the object; its shadow follows. Corner handles scale; arrow keys nudge.");
        }
        ui.separator();
        match &mut self.job {
            None => {
                if ui.add_sized([ui.available_width(), 28.0], egui::Button::new("Decompose")).on_hover_text("Ctrl+Enter").clicked() {
                    let ctx = ui.ctx().clone();
                    self.start_decompose(&ctx);
                }
            }
            Some(job) => {
                let (stage, f) = job.progress.map(|p| (p.stage.name(), p.fraction)).unwrap_or(("Starting", 0.0));
                ui.add(egui::ProgressBar::new(f).text(format!("{stage} {:.0}%", f * 100.0)));
                ui.label(format!("{:.1} s", job.started.elapsed().as_secs_f32()));
                let label = if job.cancelling { "Cancelling…" } else { "Cancel" };
                if ui.button(label).on_hover_text("Esc").clicked() {
                    job.cancel();
                }
            }
        }
    }

    fn status_bar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let (w, h) = (self.doc.stack.width(), self.doc.stack.height());
            ui.label(format!("{w}×{h} px"));
            ui.separator();
            ui.label(format!("zoom {:.0}%", self.view.zoom * ui.ctx().pixels_per_point() * 100.0));
            ui.separator();
            match self.cursor {
                Some(c) if c.x >= 0.0 && c.y >= 0.0 && c.x < w as f32 && c.y < h as f32 => ui.label(format!("x {} y {}", c.x as u32, c.y as u32)),
                _ => ui.label("x – y –"),
            };
            ui.separator();
            ui.label(format!("engine: {}", self.engine_device));
            ui.label(if self.gpu { "canvas: GPU" } else { "canvas: CPU" });
            if let Some(t) = self.last_decompose {
                ui.separator();
                ui.label(format!("last decomposition {:.1} s", t.as_secs_f32()));
            }
            if self.options.debug_timing {
                ui.separator();
                ui.label(format!("longest frame {:.0} ms", self.timing.longest_frame.as_secs_f64() * 1000.0));
            }
            if self.is_dirty() {
                ui.separator();
                ui.label("unsaved changes");
            }
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
                        let color = if n.error { egui::Color32::from_rgb(255, 120, 110) } else { ui.visuals().text_color() };
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

    fn export_window(&mut self, ctx: &egui::Context) {
        if !self.export_open {
            return;
        }
        let mut open = true;
        let mut go = false;
        egui::Window::new("Export").open(&mut open).collapsible(false).show(ctx, |ui| {
            for kind in [ExportKind::Psd, ExportKind::Ora, ExportKind::PngLayers, ExportKind::FlatPng, ExportKind::Jpeg(self.jpeg_quality)] {
                let selected = std::mem::discriminant(&self.export_kind) == std::mem::discriminant(&kind);
                if ui.radio(selected, kind.label()).clicked() {
                    self.export_kind = kind;
                }
            }
            if let ExportKind::Jpeg(_) = self.export_kind {
                ui.add(egui::Slider::new(&mut self.jpeg_quality, 1..=100).text("JPEG quality"));
                self.export_kind = ExportKind::Jpeg(self.jpeg_quality);
            }
            ui.horizontal(|ui| {
                let label = ui.label("Export path");
                ui.add(egui::TextEdit::singleline(&mut self.export_path).desired_width(280.0)).labelled_by(label.id);
                if ui.button("Browse…").clicked() {
                    self.ask_path(DialogPurpose::Export(self.export_kind));
                }
            });
            go = ui.add_enabled(!self.export_path.trim().is_empty(), egui::Button::new("Export now")).clicked();
        });
        if go {
            let mut path = PathBuf::from(self.export_path.trim());
            let ext = self.export_kind.extension();
            if !ext.is_empty() && path.extension().is_none() {
                path.set_extension(ext);
            }
            self.export_to(path, self.export_kind, ctx);
            open = false;
        }
        self.export_open = open;
    }

    fn modal_dialogs(&mut self, ctx: &egui::Context) {
        if let Some(path) = self.recovery_offer.clone() {
            egui::Modal::new(egui::Id::unique("recover")).show(ctx, |ui| {
                ui.heading("Recover unsaved work?");
                ui.label("layerdecomp did not close normally last time. An autosaved copy of that document exists.");
                ui.horizontal(|ui| {
                    if ui.button("Recover").clicked() {
                        self.recovery_offer = None;
                        let opts = self.options.import.clone();
                        match files::open_document(&path, &opts) {
                            Ok(doc) => {
                                self.set_document(doc, "recovered document".into(), None);
                                // Recovered work is unsaved until the user saves it.
                                self.saved_generation = self.generation.wrapping_sub(1);
                            }
                            Err(e) => self.notify(format!("Cannot recover: {e}"), true),
                        }
                    }
                    if ui.button("Discard").clicked() {
                        self.recovery_offer = None;
                        files::discard_recovery(&self.options.dirs);
                    }
                });
            });
        }
        if let Some((path, _)) = &self.replace_prompt {
            let name = path.display().to_string();
            egui::Modal::new(egui::Id::unique("replace")).show(ctx, |ui| {
                ui.heading("Discard unsaved changes?");
                ui.label(format!("Opening {name} replaces the current document, which has unsaved changes."));
                ui.horizontal(|ui| {
                    if ui.button("Discard and open").clicked() {
                        if let Some((path, doc)) = self.replace_prompt.take() {
                            self.show_opened(path, doc, ctx);
                        }
                    }
                    if ui.button("Keep editing").clicked() {
                        self.replace_prompt = None;
                    }
                });
            });
        }
        if self.close_prompt {
            egui::Modal::new(egui::Id::unique("close")).show(ctx, |ui| {
                ui.heading("Save changes before closing?");
                ui.horizontal(|ui| {
                    if ui.button("Save").clicked() {
                        self.close_prompt = false;
                        self.close_after_save = true;
                        self.save(ctx, false);
                    }
                    if ui.button("Discard changes").clicked() {
                        self.close_prompt = false;
                        self.allow_close = true;
                        files::discard_recovery(&self.options.dirs);
                        ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                    }
                    if ui.button("Cancel").clicked() {
                        self.close_prompt = false;
                    }
                });
            });
        }
    }

    fn handle_close(&mut self, ctx: &egui::Context) {
        if !ctx.input(|i| i.viewport().close_requested()) {
            return;
        }
        if self.is_dirty() && !self.allow_close && !self.options.exit_after_decompose {
            ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.close_prompt = true;
        } else if !self.is_dirty() {
            files::discard_recovery(&self.options.dirs);
        }
    }

    fn dropped_files(&mut self, ctx: &egui::Context) {
        let dropped: Vec<PathBuf> = ctx.input(|i| i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).filter(|p| !p.as_os_str().is_empty()).collect());
        if let Some(path) = dropped.into_iter().next() {
            self.open(path, ctx);
        }
    }

    fn record_timing(&mut self, frame: &eframe::Frame) {
        let t = &mut self.timing;
        t.frames += 1;
        let cpu = Duration::from_secs_f32(frame.info().cpu_usage.unwrap_or(0.0).max(0.0));
        t.longest_frame = t.longest_frame.max(cpu);
        let now = Instant::now();
        if std::env::var_os("LAYERDECOMP_FRAME_LOG").is_some() {
            let gap = t.last_frame.map(|l| now - l).unwrap_or_default();
            eprintln!("frame {} cpu {:.1} ms gap {:.1} ms busy {}", t.frames, cpu.as_secs_f64() * 1e3, gap.as_secs_f64() * 1e3, self.job.is_some());
        }
        let settling = self.settle_until.is_some_and(|u| now < u);
        if self.job.is_some() || settling {
            t.busy_frames += 1;
            t.longest_frame_while_busy = t.longest_frame_while_busy.max(cpu);
            if let Some(last) = t.last_frame {
                t.longest_gap_while_busy = t.longest_gap_while_busy.max(now - last);
            }
        }
        t.last_frame = Some(now);
    }
}

/// Whether an action changed anything undo would restore.
fn same_document(a: &EditorDocument, b: &EditorDocument) -> bool {
    let la = a.stack.layers();
    let lb = b.stack.layers();
    la.len() == lb.len()
        && la.iter().zip(lb).all(|(x, y)| {
            x.id == y.id
                && Arc::ptr_eq(&x.pixels, &y.pixels)
                && x.name == y.name
                && x.transform == y.transform
                && x.opacity == y.opacity
                && x.blend == y.blend
                && x.visible == y.visible
                && x.kind == y.kind
                && x.linked_to == y.linked_to
        })
        && a.masks.all().iter().zip(b.masks.all()).all(|(x, y)| Arc::ptr_eq(x, y))
}

/// A brush image of the canvas size, read as the CLI reads `--mask` (any non-black or
/// non-transparent pixel marks the object), as 0/255 coverage.
pub fn load_mask(path: &Path, w: u32, h: u32) -> Result<image::GrayImage, String> {
    let img = crate::io::import_image(path, &ImportOptions::default()).map_err(|e| e.to_string())?.image;
    if (img.width(), img.height()) != (w, h) {
        return Err(format!("{}: the mask is {}×{} but the image is {w}×{h}", path.display(), img.width(), img.height()));
    }
    let mask = crate::engine::mask::Mask::from_image(&img);
    Ok(image::GrayImage::from_fn(w, h, |x, y| image::Luma([if mask.get(x, y) { 255 } else { 0 }])))
}

impl eframe::App for EditorApp {
    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        if self.options.debug_timing {
            self.record_timing(frame);
        }
        // A scripted `--decompose` starts once the photo is on screen, as a user's would.
        if self.options.decompose_on_start && !self.auto_started && self.started.elapsed() > Duration::from_millis(1500) {
            self.auto_started = true;
            self.start_decompose(&ctx);
        }
        if self.options.decompose_on_start && !self.auto_started {
            ctx.request_repaint_after(Duration::from_millis(100));
        }
        self.poll_job();
        if let Some(until) = self.settle_until {
            if Instant::now() >= until {
                self.settle_until = None;
                if self.options.exit_after_decompose {
                    ctx.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
        }
        self.poll_tasks(&ctx);
        self.poll_dialogs(&ctx);
        self.dropped_files(&ctx);
        self.handle_close(&ctx);
        self.shortcuts(&ctx);

        egui::Panel::top("menu").show(ui, |ui| self.menu_bar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.status_bar(ui));
        egui::Panel::left("tools").resizable(false).exact_size(215.0).show(ui, |ui| self.tools_panel(ui));
        egui::Panel::right("layers").default_size(240.0).show(ui, |ui| self.layers_ui(ui));
        egui::CentralPanel::default().frame(egui::Frame::NONE).show(ui, |ui| self.canvas_ui(ui));

        self.export_window(&ctx);
        self.path_prompt_window(&ctx);
        self.modal_dialogs(&ctx);
        self.notices_ui(&ctx);
        self.end_frame(&ctx);
        self.autosave_tick(&ctx);

        let measuring = self.job.is_some() || self.settle_until.is_some();
        if (measuring && self.options.debug_timing) || std::env::var_os("LAYERDECOMP_FRAME_LOG").is_some() {
            // Measure frame pacing while the engine runs: draw continuously.
            ctx.request_repaint();
        } else if self.job.is_some() {
            // The elapsed time ticks; progress wakes the UI itself. Few frames leave the CPU to
            // the engine.
            ctx.request_repaint_after(Duration::from_millis(250));
        } else if !self.tasks.is_empty() || !self.dialogs.is_empty() || self.settle_until.is_some() {
            ctx.request_repaint_after(Duration::from_millis(100));
        } else {
            ctx.request_repaint_after(self.options.autosave_every);
        }
    }

    fn on_exit(&mut self) {
        if let Some(job) = &mut self.job {
            job.cancel();
        }
        if self.options.debug_timing {
            let t = &self.timing;
            println!(
                "frame timing: {} frames, longest {:.1} ms; while decomposing and 2 s after: {} frames, longest {:.1} ms, longest gap between frames {:.1} ms; last decomposition {:.2} s",
                t.frames,
                t.longest_frame.as_secs_f64() * 1e3,
                t.busy_frames,
                t.longest_frame_while_busy.as_secs_f64() * 1e3,
                t.longest_gap_while_busy.as_secs_f64() * 1e3,
                self.last_decompose.map(|d| d.as_secs_f64()).unwrap_or(0.0),
            );
        }
    }
}
