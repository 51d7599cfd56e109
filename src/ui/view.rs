//! How the canvas maps to the screen: zoom and pan, and fitting the canvas in the window.

use eframe::egui::{vec2, Pos2, Rect, Vec2};

/// screen = rect.min + offset + canvas · zoom (points).
#[derive(Clone, Copy, Debug)]
pub struct CanvasView {
    pub zoom: f32,
    pub offset: Vec2,
    /// Follow the window: fit the whole canvas.
    pub fit: bool,
}

impl Default for CanvasView {
    fn default() -> Self {
        Self { zoom: 1.0, offset: Vec2::ZERO, fit: true }
    }
}

pub const MIN_ZOOM: f32 = 0.01;
pub const MAX_ZOOM: f32 = 64.0;

impl CanvasView {
    /// Refit the canvas to `rect` if the view follows the window.
    pub fn layout(&mut self, rect: Rect, w: u32, h: u32) {
        if self.fit {
            let margin = 16.0;
            self.zoom =
                ((rect.width() - margin) / w as f32).min((rect.height() - margin) / h as f32).clamp(MIN_ZOOM, MAX_ZOOM);
            self.offset = (rect.size() - vec2(w as f32, h as f32) * self.zoom) * 0.5;
        }
    }

    pub fn to_screen(self, rect: Rect, p: Pos2) -> Pos2 {
        rect.min + self.offset + p.to_vec2() * self.zoom
    }

    pub fn to_canvas(self, rect: Rect, p: Pos2) -> Pos2 {
        ((p - rect.min - self.offset) / self.zoom).to_pos2()
    }

    /// Zoom by `factor`, keeping the canvas point under `at` (screen) in place.
    pub fn zoom_at(&mut self, rect: Rect, at: Pos2, factor: f32) {
        let new = (self.zoom * factor).clamp(MIN_ZOOM, MAX_ZOOM);
        let anchor = at - rect.min;
        self.offset = anchor - (anchor - self.offset) * (new / self.zoom);
        self.zoom = new;
        self.fit = false;
    }

    /// 100 %: one canvas pixel per screen pixel, centred on `at`.
    pub fn actual_pixels(&mut self, rect: Rect, at: Pos2, ppp: f32) {
        let factor = (1.0 / ppp) / self.zoom;
        self.zoom_at(rect, at, factor);
    }

    /// Move the canvas by `delta` screen points.
    pub fn pan(&mut self, delta: Vec2) {
        self.offset += delta;
        self.fit = false;
    }
}
