//! The layers panel: thumbnails, visibility, names (double-click to rename), selection, and the
//! selected layer's opacity, blend mode, link, order and deletion. It returns actions; every
//! change is an undo step.

use std::collections::HashMap;
use std::sync::Arc;

use eframe::egui;
use layerdecomp::document::{BlendMode, Layer, LayerId, LayerKind, LayerStack};

use super::actions::{Action, LayerProperty};

const THUMB: f32 = 40.0;

/// The panel's own state: thumbnail textures and the name being edited.
#[derive(Default)]
pub struct LayersPanel {
    /// Per layer: the pixel buffer its thumbnail was made from, and the texture.
    thumbnails: HashMap<LayerId, (usize, egui::TextureHandle)>,
    rename: Option<(LayerId, String)>,
}

impl LayersPanel {
    /// Forget every thumbnail (a new document).
    pub fn clear(&mut self) {
        self.thumbnails.clear();
        self.rename = None;
    }

    fn thumbnail(&mut self, ctx: &egui::Context, layer: &Layer) -> egui::TextureHandle {
        let key = Arc::as_ptr(&layer.pixels) as usize;
        if let Some((k, tex)) = self.thumbnails.get(&layer.id) {
            if *k == key {
                return tex.clone();
            }
        }
        let (w, h) = (layer.pixels.width().max(1), layer.pixels.height().max(1));
        let f = (THUMB * 2.0 / w.max(h) as f32).min(1.0);
        let small = layerdecomp::compositor::sampled_thumbnail(
            &layer.pixels,
            ((w as f32 * f) as u32).max(1),
            ((h as f32 * f) as u32).max(1),
        );
        let rgba = small.to_straight_rgba8();
        let img =
            egui::ColorImage::from_rgba_unmultiplied([rgba.width() as usize, rgba.height() as usize], rgba.as_raw());
        let tex = ctx.load_texture(format!("thumb {}", layer.id.0), img, egui::TextureOptions::LINEAR);
        self.thumbnails.insert(layer.id, (key, tex.clone()));
        tex
    }

    /// The layer list (top first) and the selected layer's properties.
    pub fn show(&mut self, ui: &mut egui::Ui, stack: &LayerStack, selected: Option<LayerId>) -> Vec<Action> {
        let mut actions = Vec::new();
        ui.heading("Layers");
        let ids: Vec<LayerId> = stack.layers().iter().rev().map(|l| l.id).collect();
        self.thumbnails.retain(|id, _| ids.contains(id));
        egui::ScrollArea::vertical().max_height(ui.available_height() * 0.6).show(ui, |ui| {
            for id in ids {
                if let Some(layer) = stack.layer(id) {
                    self.layer_row(ui, layer, selected == Some(id), &mut actions);
                }
            }
        });
        ui.separator();
        match selected.and_then(|id| stack.layer(id)) {
            Some(layer) => self.properties(ui, stack, layer, &mut actions),
            None if selected.is_none() => {
                ui.label("Select a layer to edit it.");
            }
            None => {}
        }
        actions
    }

    fn layer_row(&mut self, ui: &mut egui::Ui, layer: &Layer, selected: bool, actions: &mut Vec<Action>) {
        let id = layer.id;
        let thumb = self.thumbnail(ui.ctx(), layer);
        ui.horizontal(|ui| {
            let mut visible = layer.visible;
            if ui.checkbox(&mut visible, "").on_hover_text(format!("Show {}", layer.name)).changed() {
                actions.push(Action::SetLayer { id, property: LayerProperty::Visible(visible) });
            }
            let size = thumb.size_vec2();
            ui.add(egui::Image::new(&thumb).fit_to_exact_size(size * (THUMB / size.x.max(size.y))));
            if layer.linked_to.is_some() {
                ui.label("linked").on_hover_text("Linked to its object: moves with it");
            }
            match &mut self.rename {
                Some((rid, text)) if *rid == id => {
                    let r = ui.add(egui::TextEdit::singleline(text).desired_width(110.0));
                    r.request_focus();
                    if r.lost_focus() || ui.input(|i| i.key_pressed(egui::Key::Enter)) {
                        let new = text.trim().to_string();
                        self.rename = None;
                        if !new.is_empty() && new != layer.name {
                            actions.push(Action::SetLayer { id, property: LayerProperty::Name(new) });
                        }
                    }
                }
                _ => {
                    let r = ui.selectable_label(selected, &layer.name);
                    if r.clicked() {
                        actions.push(Action::Select(Some(id)));
                    }
                    if r.double_clicked() {
                        self.rename = Some((id, layer.name.clone()));
                    }
                }
            }
        });
    }

    fn properties(&mut self, ui: &mut egui::Ui, stack: &LayerStack, layer: &Layer, actions: &mut Vec<Action>) {
        let id = layer.id;
        let set = |property| Action::SetLayer { id, property };
        ui.label(egui::RichText::new(&layer.name).strong());
        ui.label(match layer.kind {
            LayerKind::Background => "Background".to_string(),
            LayerKind::Object => "Object".to_string(),
            LayerKind::Effect(k) => format!("Effect: {k:?}"),
        });
        let mut opacity = layer.opacity;
        if ui.add(egui::Slider::new(&mut opacity, 0.0..=1.0).text("Opacity")).changed() {
            actions.push(set(LayerProperty::Opacity(opacity)));
        }
        let mut blend = layer.blend;
        egui::ComboBox::from_label("Blend").selected_text(blend.name()).show_ui(ui, |ui| {
            ui.selectable_value(&mut blend, BlendMode::Normal, BlendMode::Normal.name());
            ui.selectable_value(&mut blend, BlendMode::Multiply, BlendMode::Multiply.name());
        });
        if blend != layer.blend {
            actions.push(set(LayerProperty::Blend(blend)));
        }
        if layer.kind != LayerKind::Background {
            if let Some(link) = link_combo(ui, stack, layer) {
                actions.push(set(LayerProperty::LinkedTo(link)));
            }
        }
        ui.horizontal(|ui| {
            let idx = stack.index_of(id).unwrap_or(0);
            let top = stack.layers().len().saturating_sub(1);
            if ui.add_enabled(idx < top, egui::Button::new("Raise")).clicked() {
                actions.push(Action::Reorder { id, to: idx + 1 });
            }
            if ui.add_enabled(idx > 0, egui::Button::new("Lower")).clicked() {
                actions.push(Action::Reorder { id, to: idx - 1 });
            }
            if ui.button("Rename").clicked() {
                self.rename = Some((id, layer.name.clone()));
            }
            if ui.button("Delete").clicked() {
                actions.push(Action::Delete(id));
            }
        });
    }
}

/// The "Linked to" choice: another object, or none. `Some(new link)` when it changed.
fn link_combo(ui: &mut egui::Ui, stack: &LayerStack, layer: &Layer) -> Option<Option<LayerId>> {
    let objects: Vec<(LayerId, &str)> = stack
        .layers()
        .iter()
        .filter(|l| l.kind == LayerKind::Object && l.id != layer.id)
        .map(|l| (l.id, l.name.as_str()))
        .collect();
    let linked = layer.linked_to;
    let current = linked
        .and_then(|l| objects.iter().find(|(o, _)| *o == l))
        .map(|(_, n)| n.to_string())
        .unwrap_or_else(|| "none".into());
    let mut link = linked;
    egui::ComboBox::from_label("Linked to").selected_text(current).show_ui(ui, |ui| {
        ui.selectable_value(&mut link, None, "none");
        for (o, n) in &objects {
            ui.selectable_value(&mut link, Some(*o), *n);
        }
    });
    (link != linked).then_some(link)
}
