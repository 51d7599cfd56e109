//! The editor's document and its undo history.
//!
//! Undo keeps whole-document snapshots. That is cheap because a snapshot shares every pixel buffer
//! it did not change with its neighbours (`Arc`s, copied on write): a move stores a few numbers,
//! a stroke one copy of one mask, a decomposition its new layers. The history is bounded by the
//! memory its snapshots hold *beyond* what the current document holds, not by a count.

use std::collections::HashSet;
use std::sync::Arc;

use image::GrayImage;

use layerdecomp::document::{LayerId, LayerStack};

/// The brushed masks, one byte of coverage per canvas pixel.
#[derive(Clone, Debug)]
pub struct Masks {
    /// What the user marked as the object (object brush, eraser).
    pub object: Arc<GrayImage>,
    /// Regions the user marked as the object's shadow / reflection (effect brush, add).
    pub effect_add: Arc<GrayImage>,
    /// Regions the user marked as *not* an effect of the object (effect brush, remove).
    pub effect_remove: Arc<GrayImage>,
}

impl Masks {
    pub fn empty(width: u32, height: u32) -> Self {
        let blank = Arc::new(GrayImage::new(width, height));
        Self { object: blank.clone(), effect_add: blank.clone(), effect_remove: blank }
    }

    pub fn all(&self) -> [&Arc<GrayImage>; 3] {
        [&self.object, &self.effect_add, &self.effect_remove]
    }
}

/// What undo restores: the layers and the masks.
#[derive(Clone, Debug)]
pub struct EditorDocument {
    pub stack: LayerStack,
    pub masks: Masks,
}

impl EditorDocument {
    pub fn new(stack: LayerStack) -> Self {
        let masks = Masks::empty(stack.width(), stack.height());
        Self { stack, masks }
    }

    /// Every pixel buffer of the document with its size in bytes, keyed by address.
    fn buffers(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let layers =
            self.stack.layers().iter().map(|l| (Arc::as_ptr(&l.pixels) as usize, l.pixels.pixels().len() * 16));
        let masks = self.masks.all().into_iter().map(|m| (Arc::as_ptr(m) as usize, m.as_raw().len()));
        layers.chain(masks)
    }
}

struct Step {
    label: String,
    doc: EditorDocument,
}

/// Undo and redo stacks of document snapshots.
pub struct History {
    undo: Vec<Step>,
    redo: Vec<Step>,
    /// Bytes the snapshots may hold beyond the current document.
    budget: usize,
}

/// Default memory bound of the undo history.
pub const DEFAULT_HISTORY_BYTES: usize = 1536 << 20;

impl History {
    pub fn new(budget: usize) -> Self {
        Self { undo: Vec::new(), redo: Vec::new(), budget }
    }

    /// Record that the document changed from `before` to `current` (one user action).
    pub fn commit(&mut self, label: impl Into<String>, before: EditorDocument, current: &EditorDocument) {
        self.undo.push(Step { label: label.into(), doc: before });
        self.redo.clear();
        self.trim(current);
    }

    /// Step back: returns the document to show, taking `current` onto the redo stack.
    pub fn undo(&mut self, current: EditorDocument) -> Result<(EditorDocument, String), EditorDocument> {
        Self::shift(&mut self.undo, &mut self.redo, current)
    }

    pub fn redo(&mut self, current: EditorDocument) -> Result<(EditorDocument, String), EditorDocument> {
        Self::shift(&mut self.redo, &mut self.undo, current)
    }

    /// Take the last step of `from` as the document to show; `current` goes onto `to` under the
    /// same label. With nothing to take, `current` comes back as the error.
    fn shift(
        from: &mut Vec<Step>,
        to: &mut Vec<Step>,
        current: EditorDocument,
    ) -> Result<(EditorDocument, String), EditorDocument> {
        let Some(step) = from.pop() else { return Err(current) };
        to.push(Step { label: step.label.clone(), doc: current });
        Ok((step.doc, step.label))
    }

    pub fn undo_label(&self) -> Option<&str> {
        self.undo.last().map(|s| s.label.as_str())
    }

    pub fn redo_label(&self) -> Option<&str> {
        self.redo.last().map(|s| s.label.as_str())
    }

    #[cfg(test)]
    pub fn undo_len(&self) -> usize {
        self.undo.len()
    }

    /// Bytes held by snapshots and not by `current`.
    pub fn extra_bytes(&self, current: &EditorDocument) -> usize {
        let mut seen: HashSet<usize> = current.buffers().map(|(p, _)| p).collect();
        let mut total = 0;
        for step in self.undo.iter().chain(&self.redo) {
            for (p, bytes) in step.doc.buffers() {
                if seen.insert(p) {
                    total += bytes;
                }
            }
        }
        total
    }

    /// Drop the oldest steps until the history fits its budget (the last step always stays).
    fn trim(&mut self, current: &EditorDocument) {
        while self.undo.len() > 1 && self.extra_bytes(current) > self.budget {
            self.undo.remove(0);
        }
    }
}

/// Remember a selection only while its layer exists.
pub fn valid_selection(stack: &LayerStack, selected: Option<LayerId>) -> Option<LayerId> {
    selected.filter(|id| stack.layer(*id).is_some())
}

#[cfg(test)]
mod tests {
    use super::*;
    use layerdecomp::document::{NewLayer, PremulImage};

    #[test]
    fn history_is_bounded_by_memory_and_shares_unchanged_pixels() {
        let stack = LayerStack::from_background(PremulImage::filled(100, 100, [1.0; 4]));
        let mut doc = EditorDocument::new(stack);
        // 100×100 RGBA f32 = 160 000 bytes per layer; budget for two extra layers.
        let mut h = History::new(330_000);
        // Moves share all pixels: any number of them costs nothing.
        for _ in 0..50 {
            let before = doc.clone();
            doc.stack.layer_mut(LayerId(1)).unwrap().transform.x += 1.0;
            h.commit("Move", before, &doc);
        }
        assert_eq!(h.undo_len(), 50);
        assert_eq!(h.extra_bytes(&doc), 0);
        // Each new layer that is later removed keeps 160 kB alive in the history.
        for i in 0..5 {
            let before = doc.clone();
            let id = doc.stack.push(NewLayer::new(format!("l{i}"), PremulImage::filled(100, 100, [0.5; 4])));
            h.commit("Add", before, &doc);
            let before = doc.clone();
            doc.stack.remove(id);
            h.commit("Delete", before, &doc);
            assert!(h.extra_bytes(&doc) <= 330_000, "history holds {} bytes", h.extra_bytes(&doc));
        }
        assert!(h.undo_len() < 60, "old steps were dropped to stay in budget");
        // Undo then redo returns the same document.
        let x = doc.stack.layers()[0].transform.x;
        let (back, label) = h.undo(doc).ok().unwrap();
        assert_eq!(label, "Delete");
        assert_eq!(back.stack.layers().len(), 2);
        let (fwd, _) = h.redo(back).ok().unwrap();
        assert_eq!(fwd.stack.layers().len(), 1);
        assert_eq!(fwd.stack.layers()[0].transform.x, x);
    }
}
