//! The layers panel: thumbnails, visibility, names (double-click to rename), selection, and the
//! selected layer's opacity, blend mode, link, order and deletion. Every change is an undo step.

use std::sync::Arc;

use eframe::egui;

use super::app::EditorApp;
use crate::document::{BlendMode, LayerId, LayerKind};

const THUMB: f32 = 40.0;

impl EditorApp {
    fn thumbnail(&mut self, ctx: &egui::Context, id: LayerId) -> Option<egui::TextureHandle> {
        let layer = self.doc.stack.layer(id)?;
        let key = Arc::as_ptr(&layer.pixels) as usize;
        if let Some((k, tex)) = self.thumbnails.get(&id) {
            if *k == key {
                return Some(tex.clone());
            }
        }
        let (w, h) = (layer.pixels.width().max(1), layer.pixels.height().max(1));
        let f = (THUMB * 2.0 / w.max(h) as f32).min(1.0);
        let small = crate::compositor::sampled_thumbnail(&layer.pixels, ((w as f32 * f) as u32).max(1), ((h as f32 * f) as u32).max(1));
        let rgba = small.to_straight_rgba8();
        let img = egui::ColorImage::from_rgba_unmultiplied([rgba.width() as usize, rgba.height() as usize], rgba.as_raw());
        let tex = ctx.load_texture(format!("thumb {}", id.0), img, egui::TextureOptions::LINEAR);
        self.thumbnails.insert(id, (key, tex.clone()));
        Some(tex)
    }

    /// Set a layer property as one undo step (no step when nothing changes).
    fn edit_layer(&mut self, id: LayerId, label: &str, f: impl FnOnce(&mut crate::document::Layer)) {
        self.begin_edit(label);
        if let Some(l) = self.doc.stack.layer_mut(id) {
            f(l);
        }
    }

    pub(super) fn layers_ui(&mut self, ui: &mut egui::Ui) {
        ui.heading("Layers");
        let ctx = ui.ctx().clone();
        let ids: Vec<LayerId> = self.doc.stack.layers().iter().rev().map(|l| l.id).collect();
        self.thumbnails.retain(|id, _| ids.contains(id));
        egui::ScrollArea::vertical().max_height(ui.available_height() * 0.6).show(ui, |ui| {
            for id in ids {
                let Some(layer) = self.doc.stack.layer(id) else { continue };
                let (name, mut visible, linked) = (layer.name.clone(), layer.visible, layer.linked_to.is_some());
                let selected = self.selected == Some(id);
                let thumb = self.thumbnail(&ctx, id);
                ui.horizontal(|ui| {
                    if ui.checkbox(&mut visible, "").on_hover_text(format!("Show {name}")).changed() {
                        self.edit_layer(id, "Layer visibility", |l| l.visible = visible);
                    }
                    if let Some(t) = thumb {
                        let size = t.size_vec2();
                        let s = THUMB / size.x.max(size.y);
                        ui.add(egui::Image::new(&t).fit_to_exact_size(size * s));
                    }
                    if linked {
                        ui.label("linked").on_hover_text("Linked to its object: moves with it");
                    }
                    match &mut self.rename {
                        Some((rid, text)) if *rid == id => {
                            let r = ui.add(egui::TextEdit::singleline(text).desired_width(110.0));
                            r.request_focus();
                            if r.lost_focus() || ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                                let new = text.trim().to_string();
                                self.rename = None;
                                if !new.is_empty() && new != name {
                                    self.edit_layer(id, "Rename layer", |l| l.name = new);
                                }
                            }
                        }
                        _ => {
                            let r = ui.selectable_label(selected, &name);
                            if r.clicked() {
                                self.selected = Some(id);
                            }
                            if r.double_clicked() {
                                self.rename = Some((id, name.clone()));
                            }
                        }
                    }
                });
            }
        });
        ui.separator();
        self.layer_properties(ui);
    }

    fn layer_properties(&mut self, ui: &mut egui::Ui) {
        let Some(id) = self.selected else {
            ui.label("Select a layer to edit it.");
            return;
        };
        let Some(layer) = self.doc.stack.layer(id) else { return };
        let (mut opacity, mut blend, kind, linked, name) = (layer.opacity, layer.blend, layer.kind, layer.linked_to, layer.name.clone());
        ui.label(egui::RichText::new(&name).strong());
        ui.label(match kind {
            LayerKind::Background => "Background".to_string(),
            LayerKind::Object => "Object".to_string(),
            LayerKind::Effect(k) => format!("Effect: {k:?}"),
        });
        if ui.add(egui::Slider::new(&mut opacity, 0.0..=1.0).text("Opacity")).changed() {
            self.edit_layer(id, "Layer opacity", |l| l.opacity = opacity);
        }
        egui::ComboBox::from_label("Blend").selected_text(blend.name()).show_ui(ui, |ui| {
            ui.selectable_value(&mut blend, BlendMode::Normal, BlendMode::Normal.name());
            ui.selectable_value(&mut blend, BlendMode::Multiply, BlendMode::Multiply.name());
        });
        if blend != layer_blend(self, id) {
            self.edit_layer(id, "Blend mode", |l| l.blend = blend);
        }
        if kind != LayerKind::Background {
            let objects: Vec<(LayerId, String)> =
                self.doc.stack.layers().iter().filter(|l| l.kind == LayerKind::Object && l.id != id).map(|l| (l.id, l.name.clone())).collect();
            let current = linked.and_then(|l| objects.iter().find(|(o, _)| *o == l)).map(|(_, n)| n.clone()).unwrap_or_else(|| "none".into());
            let mut link = linked;
            egui::ComboBox::from_label("Linked to").selected_text(current).show_ui(ui, |ui| {
                ui.selectable_value(&mut link, None, "none");
                for (o, n) in &objects {
                    ui.selectable_value(&mut link, Some(*o), n);
                }
            });
            if link != linked {
                self.edit_layer(id, "Link layer", |l| l.linked_to = link);
            }
        }
        ui.horizontal(|ui| {
            let idx = self.doc.stack.index_of(id).unwrap_or(0);
            let top = self.doc.stack.layers().len().saturating_sub(1);
            if ui.add_enabled(idx < top, egui::Button::new("Raise")).clicked() {
                self.begin_edit("Reorder layer");
                self.doc.stack.reorder(id, idx + 1);
            }
            if ui.add_enabled(idx > 0, egui::Button::new("Lower")).clicked() {
                self.begin_edit("Reorder layer");
                self.doc.stack.reorder(id, idx - 1);
            }
            if ui.button("Rename").clicked() {
                self.rename = Some((id, name.clone()));
            }
            if ui.button("Delete").clicked() {
                self.begin_edit("Delete layer");
                self.doc.stack.remove(id);
                self.selected = None;
            }
        });
    }
}

fn layer_blend(app: &EditorApp, id: LayerId) -> BlendMode {
    app.doc.stack.layer(id).map(|l| l.blend).unwrap_or(BlendMode::Normal)
}
