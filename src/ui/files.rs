//! The editor's files: opening images and projects, saving projects (OpenRaster plus our brushed
//! masks), exporting, the recent-files list and the crash-recovery file. Everything here is
//! UI-free so the editor can run it on a background thread.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use image::GrayImage;

use super::history::EditorDocument;
use layerdecomp::document::LayerStack;
use layerdecomp::io::{self, FileError, ImportOptions};

const MASK_PREFIX: &str = "layerdecomp/mask-";
const MASK_ROLES: [&str; 3] = ["object", "effect-add", "effect-remove"];

/// Open an image (as a one-layer document) or one of our projects (layers and masks).
pub fn open_document(path: &Path, opts: &ImportOptions) -> Result<EditorDocument, FileError> {
    let is_ora = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("ora"));
    if !is_ora {
        return Ok(EditorDocument::new(LayerStack::from_background(io::import_image(path, opts)?.image)));
    }
    let bytes = std::fs::read(path).map_err(|source| FileError::Read { path: path.into(), source })?;
    let stack = io::decode_ora(&bytes, path, opts)?;
    let mut doc = EditorDocument::new(stack);
    let corrupt = |detail: String| FileError::Corrupt { path: path.into(), format: "OpenRaster", detail };
    let limit = (doc.stack.width() as u64 * doc.stack.height() as u64).saturating_mul(2) + (1 << 20);
    for (name, png) in io::read_ora_entries(&bytes, MASK_PREFIX, limit).map_err(corrupt)? {
        let role = name.trim_start_matches(MASK_PREFIX).trim_end_matches(".png");
        let mask = image::load_from_memory_with_format(&png, image::ImageFormat::Png)
            .map_err(|e| corrupt(format!("{name}: {e}")))?
            .to_luma8();
        if mask.dimensions() != (doc.stack.width(), doc.stack.height()) {
            return Err(corrupt(format!(
                "{name} is {}×{} but the canvas is {}×{}",
                mask.width(),
                mask.height(),
                doc.stack.width(),
                doc.stack.height()
            )));
        }
        let slot = match role {
            "object" => &mut doc.masks.object,
            "effect-add" => &mut doc.masks.effect_add,
            "effect-remove" => &mut doc.masks.effect_remove,
            _ => continue,
        };
        *slot = Arc::new(mask);
    }
    Ok(doc)
}

fn encode_mask(mask: &GrayImage) -> Result<Vec<u8>, String> {
    let mut out = Cursor::new(Vec::new());
    mask.write_to(&mut out, image::ImageFormat::Png).map_err(|e| e.to_string())?;
    Ok(out.into_inner())
}

fn is_blank(mask: &GrayImage) -> bool {
    mask.as_raw().iter().all(|&v| v == 0)
}

/// Save the project: an OpenRaster file any editor opens, plus the brushed masks.
pub fn save_project(doc: &EditorDocument, path: &Path) -> Result<(), FileError> {
    let mut extras = Vec::new();
    let masks: [&GrayImage; 3] = [&doc.masks.object, &doc.masks.effect_add, &doc.masks.effect_remove];
    for (role, mask) in MASK_ROLES.iter().zip(masks) {
        if !is_blank(mask) {
            let png = encode_mask(mask)
                .map_err(|d| FileError::invalid(path, format!("cannot encode the {role} mask: {d}")))?;
            extras.push((format!("{MASK_PREFIX}{role}.png"), png));
        }
    }
    let bytes = io::encode_ora_with(&doc.stack, &extras)
        .map_err(|d| FileError::invalid(path, format!("cannot encode OpenRaster: {d}")))?;
    io::write_bytes_atomically(path, &bytes)
}

/// Where the editor keeps its small files (recent list, recovery file).
#[derive(Clone, Debug)]
pub struct AppDirs {
    pub config: PathBuf,
    pub state: PathBuf,
}

impl AppDirs {
    /// `$XDG_CONFIG_HOME/layerdecomp` and `$XDG_STATE_HOME/layerdecomp` (with the usual fallbacks
    /// under `$HOME`); `LAYERDECOMP_HOME` puts both in one folder (tests, portable use).
    pub fn from_env() -> Self {
        if let Some(home) = std::env::var_os("LAYERDECOMP_HOME") {
            let p = PathBuf::from(home);
            return Self { config: p.clone(), state: p };
        }
        let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_else(std::env::temp_dir);
        let xdg = |var: &str, fallback: &str| {
            std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| home.join(fallback)).join("layerdecomp")
        };
        Self { config: xdg("XDG_CONFIG_HOME", ".config"), state: xdg("XDG_STATE_HOME", ".local/state") }
    }

    #[cfg(test)]
    pub fn in_dir(dir: &Path) -> Self {
        Self { config: dir.to_path_buf(), state: dir.to_path_buf() }
    }

    pub fn recovery_file(&self) -> PathBuf {
        self.state.join("recovery.ora")
    }

    fn recent_file(&self) -> PathBuf {
        self.config.join("recent.txt")
    }

    /// Recently opened files, newest first, that still exist.
    pub fn recent(&self) -> Vec<PathBuf> {
        std::fs::read_to_string(self.recent_file())
            .unwrap_or_default()
            .lines()
            .map(PathBuf::from)
            .filter(|p| p.exists())
            .collect()
    }

    /// Put `path` first in the recent list (at most ten entries).
    pub fn add_recent(&self, path: &Path) -> Vec<PathBuf> {
        let path = path.canonicalize().unwrap_or_else(|_| path.to_path_buf());
        let mut list = self.recent();
        list.retain(|p| p != &path);
        list.insert(0, path);
        list.truncate(10);
        let text: String = list.iter().map(|p| format!("{}\n", p.display())).collect();
        if std::fs::create_dir_all(&self.config).is_ok() {
            if let Err(e) = io::write_bytes_atomically(&self.recent_file(), text.as_bytes()) {
                log::warn!("cannot update the recent files list: {e}");
            }
        }
        list
    }
}

/// Write the recovery file (a project) for crash recovery.
pub fn autosave(doc: &EditorDocument, dirs: &AppDirs) -> Result<(), FileError> {
    std::fs::create_dir_all(&dirs.state).map_err(|e| FileError::write(&dirs.state, e))?;
    save_project(doc, &dirs.recovery_file())
}

/// The recovery file left by a session that did not end cleanly, if any.
pub fn pending_recovery(dirs: &AppDirs) -> Option<PathBuf> {
    let p = dirs.recovery_file();
    p.exists().then_some(p)
}

pub fn discard_recovery(dirs: &AppDirs) {
    let _ = std::fs::remove_file(dirs.recovery_file());
}

#[cfg(test)]
/// The masks as the project stores them (used by tests to compare round trips).
pub fn masks_equal(a: &super::history::Masks, b: &super::history::Masks) -> bool {
    a.all().iter().zip(b.all()).all(|(x, y)| x.as_raw() == y.as_raw())
}

/// A brush image of the canvas size, read as the CLI reads `--mask` (any non-black or
/// non-transparent pixel marks the object), as 0/255 coverage.
pub fn load_mask(path: &Path, w: u32, h: u32) -> Result<image::GrayImage, String> {
    let mask = io::import_mask(path, "mask", Some((w, h)), &ImportOptions::default()).map_err(|e| e.to_string())?;
    Ok(super::brush::from_engine_mask(&mask))
}

#[cfg(test)]
mod tests {
    use super::*;
    use layerdecomp::document::{NewLayer, PremulImage};

    #[test]
    fn project_round_trips_layers_links_and_masks() {
        let dir = tempfile::tempdir().unwrap();
        let mut stack = LayerStack::from_background(PremulImage::filled(40, 30, [0.5, 0.5, 0.5, 1.0]));
        let obj = stack.push(NewLayer::new("Ball", PremulImage::filled(8, 8, [0.8, 0.2, 0.1, 1.0])).at(3.0, 4.0));
        stack.push(
            NewLayer::new("Shadow", PremulImage::filled(10, 4, [0.0, 0.0, 0.0, 0.4]))
                .at(5.0, 12.0)
                .kind(layerdecomp::document::LayerKind::Effect(layerdecomp::document::EffectKind::Shadow))
                .linked_to(obj),
        );
        let mut doc = EditorDocument::new(stack);
        let mut m = GrayImage::new(40, 30);
        m.put_pixel(10, 10, image::Luma([200]));
        doc.masks.object = Arc::new(m);
        let path = dir.path().join("p.ora");
        save_project(&doc, &path).unwrap();
        let back = open_document(&path, &ImportOptions::default()).unwrap();
        assert!(masks_equal(&back.masks, &doc.masks));
        assert_eq!(back.stack.layers().len(), 3);
        let shadow = back.stack.by_name("Shadow").unwrap();
        let ball = back.stack.by_name("Ball").unwrap();
        assert_eq!(shadow.linked_to, Some(ball.id));
        assert_eq!(shadow.transform.x, 5.0);
    }
}
