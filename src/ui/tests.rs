//! The real editor, driven headless by egui_kittest on a wgpu renderer (lavapipe in CI):
//! brush, decompose on the worker, move with the shadow, undo / redo, export, save / reopen.

use std::path::Path;
use std::time::{Duration, Instant};

use super::brush::BrushSettings;
use super::files::AppDirs;
use super::tools::Tool;
use super::{EditorApp, EditorOptions};
use eframe::egui::{self, Key, Modifiers, Pos2};
use egui_kittest::kittest::Queryable;
use egui_kittest::Harness;
use layerdecomp::engine::Stages;
use layerdecomp::LayerKind;

fn options(dir: &Path) -> EditorOptions {
    EditorOptions { dirs: AppDirs::in_dir(dir), ..Default::default() }
}

fn editor(opts: EditorOptions) -> Harness<'static, EditorApp> {
    std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    Harness::builder()
        .with_size(egui::vec2(1280.0, 860.0))
        .wgpu()
        .build_eframe(move |cc| EditorApp::with_sample(cc, opts).expect("the bundled sample opens"))
}

/// Step frames until the editor has no background work left.
fn settle(h: &mut Harness<'static, EditorApp>, limit: Duration) {
    let t0 = Instant::now();
    h.step();
    while h.state().is_busy() {
        assert!(t0.elapsed() < limit, "the editor was still busy after {limit:?}");
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
    h.step();
}

/// Press at `a`, move through `path`, release at the end.
fn drag(h: &mut Harness<'static, EditorApp>, a: Pos2, path: &[Pos2]) {
    h.hover_at(a);
    h.step();
    h.drag_at(a);
    h.step();
    for p in path {
        h.hover_at(*p);
        h.step();
    }
    h.drop_at(*path.last().unwrap_or(&a));
    h.step();
    h.step();
}

/// Brush a disc over the sample's ball (centre about (636, 354), radius about 126 px).
fn brush_the_ball(h: &mut Harness<'static, EditorApp>) {
    h.get_by_label_contains("Object brush").click();
    h.step();
    h.state_mut().set_brush(BrushSettings { radius: 60.0, hardness: 1.0 });
    for y in [270.0, 330.0, 390.0, 440.0] {
        let row: Vec<Pos2> =
            (0..=8).map(|i| h.state().canvas_to_screen(Pos2::new(520.0 + i as f32 * 30.0, y))).collect();
        drag(h, row[0], &row[1..]);
    }
}

#[test]
fn brush_decompose_move_undo_redo_export() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = editor(options(dir.path()));
    h.step();
    assert!(h.state().uses_gpu(), "the canvas should use the wgpu compositor");
    let before = h.state().document().stack.layers().len();
    assert_eq!(before, 1);

    brush_the_ball(&mut h);
    let painted = h.state().document().masks.object.pixels().filter(|p| p.0[0] >= 128).count();
    assert!(painted > 40_000, "the strokes painted {painted} mask pixels");
    assert_eq!(h.state().undo_steps(), 4, "one undo step per stroke");

    h.get_by_label("Decompose").click();
    h.step();
    assert!(h.state().is_busy(), "decomposition runs on the worker");
    settle(&mut h, Duration::from_secs(180));
    let doc = &h.state().document().stack;
    let kinds: Vec<LayerKind> = doc.layers().iter().map(|l| l.kind).collect();
    assert_eq!(kinds.first(), Some(&LayerKind::Background));
    let object = doc.by_name("Object").expect("an object layer").id;
    let shadow = doc.layers().iter().find(|l| matches!(l.kind, LayerKind::Effect(_))).expect("the ball's shadow layer");
    assert_eq!(shadow.linked_to, Some(object));
    let shadow = shadow.id;
    assert!(h.state().document().masks.object.pixels().all(|p| p.0[0] == 0), "masks are cleared by the decomposition");
    assert_eq!(h.state().tool(), Tool::Move);
    let t_obj = doc.layer(object).unwrap().transform;
    let t_sh = doc.layer(shadow).unwrap().transform;

    // Drag the ball by (dx, dy) screen points: the object and its shadow move by the same whole
    // number of canvas pixels.
    let grab = Pos2::new(t_obj.x + 100.0, t_obj.y + 100.0);
    let a = h.state().canvas_to_screen(grab);
    let (dx, dy) = (-150.0, 40.0);
    let steps: Vec<Pos2> = (1..=5).map(|i| a + egui::vec2(dx, dy) * (i as f32 / 5.0)).collect();
    drag(&mut h, a, &steps);
    let zoom = h.state().zoom();
    let (ex, ey) = ((dx / zoom).round(), (dy / zoom).round());
    let doc = &h.state().document().stack;
    let moved_obj = doc.layer(object).unwrap().transform;
    let moved_sh = doc.layer(shadow).unwrap().transform;
    assert_eq!((moved_obj.x - t_obj.x, moved_obj.y - t_obj.y), (ex, ey), "object moved by the drag");
    assert_eq!((moved_sh.x - t_sh.x, moved_sh.y - t_sh.y), (ex, ey), "the shadow follows its object");

    // The GPU canvas shows the moved document: rendered pixels match the CPU composite at the
    // moved ball's centre and where the ball was (now filled background).
    // Layer pixels are converted for upload on a thread; a few frames bring them up.
    for _ in 0..3 {
        h.render().expect("the frame renders with wgpu");
        std::thread::sleep(Duration::from_millis(150));
        h.step();
    }
    let rendered = h.render().expect("the frame renders with wgpu");
    if let Ok(p) = std::env::var("EDITOR_SHOT") {
        rendered.save(p).unwrap();
    }
    let ppp = h.ctx.pixels_per_point();
    let flat = layerdecomp::flatten(&h.state().document().stack);
    let obj_px = h.state().document().stack.layer(object).unwrap().pixels.clone();
    let centre = Pos2::new(moved_obj.x + obj_px.width() as f32 / 2.0, moved_obj.y + obj_px.height() as f32 / 2.0);
    let vacated = Pos2::new(t_obj.x + obj_px.width() as f32 * 0.8, t_obj.y + obj_px.height() as f32 * 0.3);
    for p in [centre, vacated] {
        let s = h.state().canvas_to_screen(p);
        let got = rendered.get_pixel((s.x * ppp) as u32, (s.y * ppp) as u32).0;
        let want = flat.get(p.x as u32, p.y as u32);
        for k in 0..3 {
            let w = layerdecomp::document::to_u8(want[k]) as i32;
            assert!((got[k] as i32 - w).abs() <= 16, "canvas at {p:?}: rendered {got:?}, composite {want:?}");
        }
    }

    // Undo puts both back; redo moves them again.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    let doc = &h.state().document().stack;
    assert_eq!(doc.layer(object).unwrap().transform, t_obj);
    assert_eq!(doc.layer(shadow).unwrap().transform, t_sh);
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.step();
    assert_eq!(h.state().document().stack.layer(object).unwrap().transform, moved_obj);
    // Undo twice more: the decomposition goes, the brushed mask comes back.
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    assert_eq!(h.state().document().stack.layers().len(), 1);
    assert!(h.state().document().masks.object.pixels().filter(|p| p.0[0] >= 128).count() > 40_000);
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.step();
    h.key_press_modifiers(Modifiers::COMMAND | Modifiers::SHIFT, Key::Z);
    h.step();
    assert_eq!(h.state().document().stack.layer(object).unwrap().transform, moved_obj);

    // Export PSD through the Export window (Ctrl+E).
    let psd_path = dir.path().join("out.psd");
    h.key_press_modifiers(Modifiers::COMMAND, Key::E);
    h.step();
    h.get_by_label("Export path").click();
    h.step();
    h.get_by_label("Export path").type_text(psd_path.to_str().unwrap());
    h.step();
    h.get_by_label("Export now").click();
    h.step();
    settle(&mut h, Duration::from_secs(60));
    let bytes = std::fs::read(&psd_path).expect("the PSD was written");
    let psd = psd::Psd::from_bytes(&bytes).expect("a readable PSD");
    let names: Vec<&str> = psd.layers().iter().map(|l| l.name()).collect();
    let doc = &h.state().document().stack;
    assert_eq!(names.len(), doc.layers().len(), "{names:?}");
    for l in doc.layers() {
        assert!(names.contains(&l.name.as_str()), "{} missing from {names:?}", l.name);
    }
    let obj_layer = psd.layer_by_name("Object").unwrap();
    // The PSD's object layer sits where it was moved to (its bounds start at or after the
    // transform's offset: fully transparent borders are trimmed).
    assert!(obj_layer.layer_left() as f32 >= moved_obj.x && obj_layer.layer_top() as f32 >= moved_obj.y);
    assert!((obj_layer.layer_left() as f32) < moved_obj.x + 60.0);
    assert!(h.state().notices().iter().all(|n| !n.error), "{:?}", h.state().notices());
}

#[test]
fn project_save_and_reopen_keeps_masks_and_undo_is_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path());
    // A tiny budget: the history must drop old steps rather than grow.
    opts.history_bytes = 3 * 1200 * 800;
    let mut h = editor(opts.clone());
    h.step();
    brush_the_ball(&mut h);
    assert!(h.state().undo_steps() <= 4);
    assert!(h.state().is_dirty());
    let path = dir.path().join("project.ora");
    let ctx = h.ctx.clone();
    h.state_mut().save_project_to(path.clone(), &ctx);
    settle(&mut h, Duration::from_secs(60));
    assert!(!h.state().is_dirty(), "saved");
    let saved_mask = h.state().document().masks.object.clone();

    let mut h2 = editor(opts);
    h2.step();
    let ctx = h2.ctx.clone();
    h2.state_mut().open(path.clone(), &ctx);
    settle(&mut h2, Duration::from_secs(60));
    assert!(
        h2.state().document().masks.object.as_raw() == saved_mask.as_raw(),
        "the brushed mask comes back with the project"
    );
    assert!(h2.state().notices().iter().all(|n| !n.error), "{:?}", h2.state().notices());

    // Opening something broken is a message, not a crash, and the document stays.
    let bad = dir.path().join("broken.png");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\n not really").unwrap();
    h2.state_mut().open(bad, &ctx);
    settle(&mut h2, Duration::from_secs(30));
    assert!(
        h2.state().notices().iter().any(|n| n.error && n.text.contains("broken.png")),
        "{:?}",
        h2.state().notices()
    );
    assert!(h2.state().document().masks.object.as_raw() == saved_mask.as_raw());

    // Opening over unsaved work asks first; "Keep editing" keeps it.
    h2.get_by_label_contains("Eraser").click();
    h2.step();
    let at = h2.state().canvas_to_screen(Pos2::new(636.0, 354.0));
    drag(&mut h2, at, &[at + egui::vec2(30.0, 0.0)]);
    assert!(h2.state().is_dirty());
    let erased = h2.state().document().masks.object.clone();
    h2.state_mut().open(path.clone(), &ctx);
    settle(&mut h2, Duration::from_secs(30));
    h2.get_by_label("Keep editing").click();
    h2.step();
    assert!(h2.state().document().masks.object.as_raw() == erased.as_raw(), "the unsaved edit is still there");
    h2.state_mut().open(path, &ctx);
    settle(&mut h2, Duration::from_secs(30));
    h2.get_by_label("Discard and open").click();
    h2.step();
    assert!(h2.state().document().masks.object.as_raw() == saved_mask.as_raw(), "the project replaced it on request");
}

struct PanickingSegmenter;

impl layerdecomp::engine::Segmenter for PanickingSegmenter {
    fn segment(
        &self,
        _img: &layerdecomp::raster::Rgb,
        _brush: &layerdecomp::raster::Mask,
        _protect: Option<&layerdecomp::raster::Mask>,
        _rng: &mut layerdecomp::engine::Rng,
        _cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<layerdecomp::raster::Mask, layerdecomp::engine::Cancelled> {
        panic!("segmenter exploded on purpose");
    }
}

#[test]
fn an_engine_panic_becomes_a_message_and_the_document_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path());
    let mut stages = Stages::classical(Default::default());
    stages.segmenter = Box::new(PanickingSegmenter);
    opts.stages = std::sync::Arc::new(stages);
    let mut h = editor(opts);
    h.step();
    brush_the_ball(&mut h);
    let layers_before = h.state().document().stack.layers().len();
    let undo_before = h.state().undo_steps();
    h.get_by_label("Decompose").click();
    settle(&mut h, Duration::from_secs(60));
    assert_eq!(h.state().document().stack.layers().len(), layers_before);
    assert_eq!(h.state().undo_steps(), undo_before);
    let msg = h.state().notices().iter().find(|n| n.error).expect("an error message");
    assert!(msg.text.contains("crashed") && msg.text.contains("exploded on purpose"), "{}", msg.text);

    // Decompose with no mask: a clear message.
    let mut h = editor(options(dir.path()));
    h.step();
    h.get_by_label("Decompose").click();
    h.step();
    assert!(h.state().notices().iter().any(|n| n.error && n.text.contains("Brush over the object")));
}

/// A segmenter that waits until it is cancelled (at most 30 s).
struct SlowSegmenter;

impl layerdecomp::engine::Segmenter for SlowSegmenter {
    fn segment(
        &self,
        _img: &layerdecomp::raster::Rgb,
        brush: &layerdecomp::raster::Mask,
        _protect: Option<&layerdecomp::raster::Mask>,
        _rng: &mut layerdecomp::engine::Rng,
        cancelled: &(dyn Fn() -> bool + Sync),
    ) -> Result<layerdecomp::raster::Mask, layerdecomp::engine::Cancelled> {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(30) {
            if cancelled() {
                return Err(layerdecomp::engine::Cancelled);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(brush.clone())
    }
}

#[test]
fn cancel_stops_the_worker_and_leaves_the_document() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path());
    let mut stages = Stages::classical(Default::default());
    stages.segmenter = Box::new(SlowSegmenter);
    opts.stages = std::sync::Arc::new(stages);
    let mut h = editor(opts);
    h.step();
    brush_the_ball(&mut h);
    h.get_by_label("Decompose").click();
    h.step();
    h.step();
    assert!(h.state().is_busy());
    let t0 = Instant::now();
    h.get_by_label("Cancel").click();
    settle(&mut h, Duration::from_secs(10));
    assert!(t0.elapsed() < Duration::from_secs(5), "cancel took {:?}", t0.elapsed());
    assert_eq!(h.state().document().stack.layers().len(), 1);
    assert!(h.state().notices().iter().any(|n| !n.error && n.text.contains("cancelled")), "{:?}", h.state().notices());
}

#[test]
fn without_a_gpu_the_cpu_compositor_draws_the_canvas_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    let opts = options(dir.path());
    // No `.wgpu()`: the app gets no wgpu render state, as on a machine without a usable adapter.
    let mut h = Harness::builder()
        .with_size(egui::vec2(1280.0, 860.0))
        .build_eframe(move |cc| EditorApp::with_sample(cc, opts).unwrap());
    h.step();
    assert!(!h.state().uses_gpu());
    assert!(h.state().notices().iter().any(|n| n.text.contains("CPU compositor")));
    brush_the_ball(&mut h);
    assert!(h.state().document().masks.object.pixels().any(|p| p.0[0] == 255));
}

#[test]
fn autosave_writes_a_recovery_file_that_the_next_start_offers() {
    let dir = tempfile::tempdir().unwrap();
    let mut opts = options(dir.path());
    opts.autosave_every = Duration::from_millis(0);
    let mut h = editor(opts.clone());
    h.step();
    brush_the_ball(&mut h);
    let recovery = AppDirs::in_dir(dir.path()).recovery_file();
    let t0 = Instant::now();
    while !recovery.exists() {
        assert!(t0.elapsed() < Duration::from_secs(30), "no recovery file was written");
        h.step();
        std::thread::sleep(Duration::from_millis(20));
    }
    // Let the last autosave (the one after the final stroke) finish.
    for _ in 0..20 {
        settle(&mut h, Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(20));
    }
    let painted = h.state().document().masks.object.clone();
    drop(h);

    // The "crashed" session left its recovery file: the next start offers it.
    let mut h2 = editor(opts);
    h2.step();
    h2.get_by_label("Recover").click();
    h2.step();
    h2.step();
    let got = h2.state().document().masks.object.pixels().filter(|p| p.0[0] > 0).count();
    let want = painted.pixels().filter(|p| p.0[0] > 0).count();
    eprintln!("recovered {got} painted pixels of {want}; notices {:?}", h2.state().notices());
    assert!(h2.state().document().masks.object.as_raw() == painted.as_raw(), "the brushed mask was recovered");
    assert!(h2.state().is_dirty(), "recovered work is unsaved");
}

#[test]
fn nudge_scale_handles_and_layer_properties_are_undoable() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = editor(options(dir.path()));
    h.step();
    brush_the_ball(&mut h);
    h.get_by_label("Decompose").click();
    settle(&mut h, Duration::from_secs(180));
    let doc = &h.state().document().stack;
    let object = doc.by_name("Object").unwrap().id;
    let shadow = doc.layers().iter().find(|l| l.linked_to == Some(object)).unwrap().id;
    let t0 = doc.layer(object).unwrap().transform;
    let s0 = doc.layer(shadow).unwrap().transform;

    // Arrow keys nudge the object and its shadow (Shift: 10 px).
    for _ in 0..3 {
        h.key_press(Key::ArrowRight);
        h.step();
    }
    h.key_press_modifiers(Modifiers::SHIFT, Key::ArrowDown);
    h.step();
    let t1 = h.state().document().stack.layer(object).unwrap().transform;
    assert_eq!((t1.x - t0.x, t1.y - t0.y), (3.0, 10.0));
    let s1 = h.state().document().stack.layer(shadow).unwrap().transform;
    assert_eq!((s1.x - s0.x, s1.y - s0.y), (3.0, 10.0));

    // Dragging the bottom-right handle outward scales both about the top-left corner.
    let obj = h.state().document().stack.layer(object).unwrap().pixels.clone();
    let corner = Pos2::new(t1.x + obj.width() as f32, t1.y + obj.height() as f32);
    let a = h.state().canvas_to_screen(corner);
    drag(&mut h, a, &[a + egui::vec2(20.0, 20.0), a + egui::vec2(40.0, 40.0)]);
    let t2 = h.state().document().stack.layer(object).unwrap().transform;
    let s2 = h.state().document().stack.layer(shadow).unwrap().transform;
    assert!(t2.scale_x > 1.05 && (t2.scale_x - t2.scale_y).abs() < 1e-6, "uniform scale up: {t2:?}");
    assert!((t2.x - t1.x).abs() < 1e-3 && (t2.y - t1.y).abs() < 1e-3, "the opposite corner stays: {t2:?}");
    assert!((s2.scale_x - t2.scale_x).abs() < 1e-6, "the shadow scales with its object");

    // Deleting the shadow in the layers panel is one undo step, like the scale before it.
    let steps = h.state().undo_steps();
    h.get_by_label("Shadow").click();
    h.step();
    assert_eq!(h.state().selected(), Some(shadow));
    h.get_by_label("Delete").click();
    h.step();
    h.step();
    assert!(h.state().document().stack.layer(shadow).is_none());
    assert_eq!(h.state().undo_steps(), steps + 1);
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    assert!(h.state().document().stack.layer(shadow).is_some(), "undo brings the deleted layer back");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    assert_eq!(h.state().document().stack.layer(object).unwrap().transform, t1, "undo reverts the scale");
}

#[test]
fn select_subject_proposes_the_ball_as_one_undoable_brush() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = editor(options(dir.path()));
    h.step();
    h.get_by_label("Select subject").click();
    h.step();
    assert!(h.state().is_busy(), "the network runs on a worker");
    settle(&mut h, Duration::from_secs(120));
    let mask = h.state().document().masks.object.clone();
    let painted = mask.pixels().filter(|p| p.0[0] >= 128).count();
    // The sample's ball: centre about (636, 354), radius about 126 px (≈ 50 000 px).
    assert!((35_000..90_000).contains(&painted), "the proposed brush covers {painted} pixels");
    assert_eq!(mask.get_pixel(636, 354).0[0], 255, "the ball's centre is brushed");
    assert_eq!(mask.get_pixel(100, 100).0[0], 0, "the wall is not");
    assert_eq!(h.state().undo_steps(), 1, "one undo step");
    assert_eq!(h.state().tool(), Tool::ObjectBrush, "ready to correct it");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    assert!(h.state().document().masks.object.pixels().all(|p| p.0[0] == 0), "undo takes it back");
}

#[test]
fn a_dragged_box_selects_the_subject_inside_it_and_a_click_selects_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = editor(options(dir.path()));
    h.step();
    h.key_press(Key::W);
    h.step();
    assert_eq!(h.state().tool(), Tool::SubjectBox);

    // A click is not a box: nothing starts.
    let c = h.state().canvas_to_screen(Pos2::new(300.0, 300.0));
    drag(&mut h, c, &[c + egui::vec2(1.0, 1.0)]);
    assert!(!h.state().is_busy(), "a click starts no selection");

    // A box over the ball's left half (centre about (636, 354), radius about 126 px): the
    // whole photo's subject would be all of the ball.
    let (b0, b1) = (Pos2::new(480.0, 200.0), Pos2::new(640.0, 500.0));
    let (a, b) = (h.state().canvas_to_screen(b0), h.state().canvas_to_screen(b1));
    drag(&mut h, a, &[a.lerp(b, 0.5), b]);
    settle(&mut h, Duration::from_secs(120));
    let mask = h.state().document().masks.object.clone();
    let painted = mask.pixels().filter(|p| p.0[0] >= 128).count();
    assert!((12_000..45_000).contains(&painted), "the proposed brush covers {painted} pixels");
    assert_eq!(mask.get_pixel(580, 354).0[0], 255, "the ball's left half is brushed");
    let outside =
        mask.enumerate_pixels().filter(|(x, y, p)| p.0[0] >= 128 && (*x < 470 || *x > 650 || *y < 190 || *y > 510));
    assert_eq!(outside.count(), 0, "nothing beyond the box (and the brush's few pixels of margin)");
    assert_eq!(h.state().undo_steps(), 1, "one undo step");
}

#[test]
fn the_effect_brush_alone_removes_a_shadow_as_its_own_multiply_layer() {
    let dir = tempfile::tempdir().unwrap();
    let mut h = editor(options(dir.path()));
    h.step();
    let bg = h.state().document().stack.layers()[0].pixels.clone();
    // The ball's cast shadow lies right of it on the floor, about (700–860, 465–510).
    h.key_press(Key::H);
    h.step();
    h.state_mut().set_brush(BrushSettings { radius: 28.0, hardness: 1.0 });
    for y in [470.0, 495.0] {
        let row: Vec<Pos2> =
            (0..=6).map(|i| h.state().canvas_to_screen(Pos2::new(740.0 + i as f32 * 22.0, y))).collect();
        drag(&mut h, row[0], &row[1..]);
    }
    let steps = h.state().undo_steps();
    h.key_press_modifiers(Modifiers::COMMAND, Key::D);
    h.step();
    settle(&mut h, Duration::from_secs(120));
    let doc = h.state().document();
    let layers = doc.stack.layers();
    assert_eq!(layers.len(), 2, "background and the shadow");
    assert_eq!(layers[1].kind, LayerKind::Effect(layerdecomp::EffectKind::Shadow));
    assert_eq!(layers[1].blend, layerdecomp::BlendMode::Multiply);
    let luma = |p: [f32; 4]| p[0] + p[1] + p[2];
    let (before, after) = (luma(bg.get(800, 488)), luma(layers[0].pixels.get(800, 488)));
    assert!(after > 1.3 * before, "the floor under the shadow is relit: {before} → {after}");
    assert!(layers[1].pixels.get(800, 488)[3] > 0.2, "the shadow layer holds the shadow there");
    assert_eq!(layers[1].pixels.get(100, 100)[3], 0.0, "and nothing on the wall");
    assert_eq!(h.state().undo_steps(), steps + 1, "one undo step");
    h.key_press_modifiers(Modifiers::COMMAND, Key::Z);
    h.step();
    assert_eq!(h.state().document().stack.layers().len(), 1, "undo takes it back");
}
