//! The document under edit: the one place where actions change it, each inside an undo
//! transaction, and where undo and redo happen.
//!
//! A transaction opens at an action's first change (named by the gesture's `Begin` or by the
//! action itself) and is committed by the frame loop once the pointer is released, so one stroke,
//! one drag or one slider drag is one undo step; an action that changed nothing leaves none.

use std::sync::Arc;

use image::GrayImage;
use layerdecomp::document::{EffectKind, LayerId, LayerKind, LayerStack, PremulImage};
use layerdecomp::engine::{Decomposition, ShadowRemoval};

use super::actions::{Action, LayerProperty};
use super::brush::{stamp, MaskTarget};
use super::history::{valid_selection, EditorDocument, History, Masks};

/// The document, its history, the open transaction and the selection.
pub struct Editing {
    doc: EditorDocument,
    history: History,
    history_bytes: usize,
    /// The open transaction: the document before its first change, and its name.
    pending: Option<(String, EditorDocument)>,
    /// Bumped whenever the document may have changed (previews key on it).
    edits: u64,
    /// Bumped by every committed change, undo and redo (saved state keys on it).
    generation: u64,
    selected: Option<LayerId>,
    /// The buffer every unpainted mask shares, so "nothing painted" is a pointer comparison.
    blank_mask: Arc<GrayImage>,
}

impl Editing {
    pub fn new(doc: EditorDocument, history_bytes: usize) -> Self {
        let blank_mask = doc.masks.object.clone();
        Self {
            doc,
            history: History::new(history_bytes),
            history_bytes,
            pending: None,
            edits: 0,
            generation: 0,
            selected: None,
            blank_mask,
        }
    }

    pub fn doc(&self) -> &EditorDocument {
        &self.doc
    }

    pub fn history(&self) -> &History {
        &self.history
    }

    pub fn selected(&self) -> Option<LayerId> {
        self.selected
    }

    /// Changes whenever the document may have changed.
    pub fn stamp(&self) -> u64 {
        self.edits
    }

    /// Changes with every committed change, undo and redo.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// A transaction is open (the current action has not been committed yet).
    pub fn in_transaction(&self) -> bool {
        self.pending.is_some()
    }

    /// Whether `mask` has anything painted on it.
    pub fn is_painted(&self, mask: &Arc<GrayImage>) -> bool {
        // Masks share one blank buffer until painted: a pointer comparison answers quickly.
        !Arc::ptr_eq(mask, &self.blank_mask) || mask.as_raw().iter().any(|&v| v != 0)
    }

    /// Replace the whole document (open, recover): a fresh history, nothing selected.
    pub fn replace(&mut self, doc: EditorDocument) {
        self.commit();
        self.blank_mask = Arc::new(GrayImage::new(doc.stack.width(), doc.stack.height()));
        self.doc = doc;
        self.history = History::new(self.history_bytes);
        self.selected = None;
        self.edits += 1;
        self.generation += 1;
    }

    /// Set the object mask without an undo step (a mask given at start-up).
    pub fn set_object_mask(&mut self, mask: GrayImage) {
        self.doc.masks.object = Arc::new(mask);
        self.edits += 1;
    }

    pub fn apply_all(&mut self, actions: impl IntoIterator<Item = Action>) {
        for action in actions {
            self.apply(action);
        }
    }

    /// Perform one action.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Begin(label) => self.open(label),
            Action::Select(id) => self.selected = id,
            Action::ClearMasks => {
                self.commit();
                let before = self.doc.clone();
                self.doc.masks = Masks::empty(self.doc.stack.width(), self.doc.stack.height());
                self.blank_mask = self.doc.masks.object.clone();
                self.commit_step("Clear masks", before);
            }
            Action::Decomposed(result) => self.add_decomposition(*result),
            Action::ShadowRemoved(removal) => self.add_shadow_removal(*removal),
            change => {
                self.open(change.label());
                self.change(change);
            }
        }
    }

    fn open(&mut self, label: &str) {
        self.edits += 1;
        if self.pending.is_none() {
            self.pending = Some((label.to_string(), self.doc.clone()));
        }
    }

    fn change(&mut self, action: Action) {
        let stack = &mut self.doc.stack;
        match action {
            Action::Paint { target, erase, brush, dabs } => {
                let masks = &mut self.doc.masks;
                let mask = match target {
                    MaskTarget::Object => &mut masks.object,
                    MaskTarget::EffectAdd => &mut masks.effect_add,
                    MaskTarget::EffectRemove => &mut masks.effect_remove,
                };
                let mask = Arc::make_mut(mask);
                for d in dabs {
                    stamp(mask, d, brush, erase);
                }
            }
            Action::Translate { root, dx, dy } => {
                stack.translate_group(root, dx, dy);
            }
            Action::Scale { root, factor, anchor } => {
                stack.scale_group(root, factor, anchor[0], anchor[1]);
            }
            Action::SetLayer { id, property } => {
                if let Some(l) = stack.layer_mut(id) {
                    match property {
                        LayerProperty::Visible(v) => l.visible = v,
                        LayerProperty::Opacity(o) => l.opacity = o,
                        LayerProperty::Blend(b) => l.blend = b,
                        LayerProperty::Name(n) => l.name = n,
                        LayerProperty::LinkedTo(o) => l.linked_to = o,
                    }
                }
            }
            Action::SetObjectMask(mask) => self.doc.masks.object = Arc::new(mask),
            Action::Reorder { id, to } => {
                stack.reorder(id, to);
            }
            Action::Delete(id) => {
                stack.remove(id);
                self.selected = None;
            }
            Action::Begin(_)
            | Action::Select(_)
            | Action::ClearMasks
            | Action::Decomposed(_)
            | Action::ShadowRemoved(_) => {}
        }
    }

    /// Keep previews fresh while a transaction is open (its changes arrive over many frames).
    pub fn touch(&mut self) {
        if self.pending.is_some() {
            self.edits += 1;
        }
    }

    /// Commit the open transaction, unless it changed nothing.
    pub fn commit(&mut self) {
        if let Some((label, before)) = self.pending.take() {
            if !same_document(&before, &self.doc) {
                self.history.commit(label, before, &self.doc);
                self.generation += 1;
            }
        }
    }

    fn commit_step(&mut self, label: &str, before: EditorDocument) {
        self.edits += 1;
        self.history.commit(label, before, &self.doc);
        self.generation += 1;
    }

    /// Step back (or forward) in the history; the step's name if there was one.
    pub fn undo(&mut self, back: bool) -> Option<String> {
        self.commit();
        let doc = std::mem::replace(&mut self.doc, EditorDocument::new(LayerStack::new(0, 0)));
        let moved = if back { self.history.undo(doc) } else { self.history.redo(doc) };
        let label = match moved {
            Ok((doc, label)) => {
                self.doc = doc;
                self.generation += 1;
                Some(label)
            }
            Err(doc) => {
                self.doc = doc;
                None
            }
        };
        self.edits += 1;
        self.selected = valid_selection(&self.doc.stack, self.selected);
        label
    }

    /// The bottom background layer, which decomposition works on.
    pub fn background_index(&self) -> Option<usize> {
        let stack = &self.doc.stack;
        let (w, h) = (stack.width(), stack.height());
        stack.layers().iter().position(|l| {
            l.kind == LayerKind::Background
                && l.transform.integer_offset() == Some((0, 0))
                && l.pixels.width() == w
                && l.pixels.height() == h
        })
    }

    /// The clean background replaces the photo, the object and its effects go above it, the
    /// brushed masks are cleared, and the object is selected: one undo step.
    fn add_decomposition(&mut self, mut d: Decomposition) {
        let name = numbered(&self.doc.stack, LayerKind::Object, "Object");
        let background = std::mem::replace(&mut d.background, PremulImage::new(0, 0));
        self.land_result("Decompose", background, |stack, bg| d.add_layers_to(stack, bg, &name));
    }

    /// The clean background replaces the old one; the shadow goes just above it (Multiply).
    fn add_shadow_removal(&mut self, mut removal: ShadowRemoval) {
        let name = numbered(&self.doc.stack, LayerKind::Effect(EffectKind::Shadow), "Shadow");
        let background = std::mem::replace(&mut removal.background, PremulImage::new(0, 0));
        self.land_result("Remove shadow", background, |stack, bg| removal.add_layer_to(stack, bg, &name));
    }

    /// An engine result as one undo step: its clean `background` replaces the old one, `add`
    /// puts its layers above it (stack position given) and returns the one to select, and the
    /// brushed masks are cleared.
    fn land_result(
        &mut self,
        label: &str,
        background: PremulImage,
        add: impl FnOnce(&mut LayerStack, usize) -> LayerId,
    ) {
        self.commit();
        let Some(bg) = self.background_index() else { return };
        let before = self.doc.clone();
        let stack = &mut self.doc.stack;
        let bg_id = stack.layers()[bg].id;
        if let Some(layer) = stack.layer_mut(bg_id) {
            layer.pixels = Arc::new(background);
        }
        let selected = add(stack, bg);
        self.doc.masks = Masks::empty(self.doc.stack.width(), self.doc.stack.height());
        self.blank_mask = self.doc.masks.object.clone();
        self.commit_step(label, before);
        self.selected = Some(selected);
    }
}

/// `base`, or "`base` N" when the stack already holds N − 1 layers of `kind`.
fn numbered(stack: &LayerStack, kind: LayerKind, base: &str) -> String {
    let n = stack.layers().iter().filter(|l| l.kind == kind).count();
    if n == 0 {
        base.to_string()
    } else {
        format!("{base} {}", n + 1)
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
