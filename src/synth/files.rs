//! Cases on disk: `DIR/caseNNN/{input,background,object,effects,mask_object,mask_full}.png` and
//! `meta.txt`, written by `write_case` and read back by `read_cases`.

use std::path::{Path, PathBuf};

use super::SynthCase;
use crate::document::{EffectKind, LayerKind};
use crate::io::{self, FileError, ImportOptions};
use crate::raster::{Mask, PremulImage, Rgb};

fn mask_image(m: &Mask) -> PremulImage {
    PremulImage::from_pixels(
        m.width(),
        m.height(),
        m.data()
            .iter()
            .map(|&b| {
                let v = b as f32;
                [v, v, v, 1.0]
            })
            .collect(),
    )
    .expect("sizes match")
}

/// Write a case as `DIR/caseNNN/{input,background,object,effects,mask_object,mask_full}.png` and
/// `meta.txt`.
pub fn write_case(case: &SynthCase, dir: &Path) -> Result<(), FileError> {
    std::fs::create_dir_all(dir).map_err(|e| FileError::write(dir, e))?;
    let png8 = io::PngDepth::Eight;
    io::write_png(&case.input.to_premul(), &dir.join("input.png"), png8)?;
    io::write_png(&case.background.to_premul(), &dir.join("background.png"), png8)?;
    io::write_png(&case.object_rgb.with_alpha(&case.object_alpha), &dir.join("object.png"), io::PngDepth::Sixteen)?;
    io::write_png(&case.effect_rgb.with_alpha(&case.effect_alpha), &dir.join("effects.png"), io::PngDepth::Sixteen)?;
    io::write_png(&mask_image(&case.mask_object), &dir.join("mask_object.png"), png8)?;
    io::write_png(&mask_image(&case.mask_full), &dir.join("mask_full.png"), png8)?;
    let kind = case.effect.map_or("none", |k| LayerKind::Effect(k).name());
    let mut meta = format!("effect={}\nkind={kind}\nfloor={}\n", case.scene, case.floor);
    if !case.variation.is_empty() {
        meta.push_str(&format!("variation={}\n", case.variation));
    }
    io::write_bytes_atomically(&dir.join("meta.txt"), meta.as_bytes())
}

/// The ground truth of a case, as read from its files.
pub struct Truth {
    /// The photo.
    pub input: Rgb,
    /// The clean floor.
    pub background: Rgb,
    /// The object layer, premultiplied, full canvas.
    pub object: PremulImage,
    /// The effect layer, premultiplied, full canvas.
    pub effects: PremulImage,
}

/// A case read back from its folder.
pub struct Case {
    /// The folder's name (`case007`).
    pub name: String,
    /// The folder.
    pub dir: PathBuf,
    /// The kind of the effect layer, if the scene has one.
    pub effect: Option<EffectKind>,
    /// Which of `SCENES` this is (`meta.txt`'s `effect`).
    pub scene: String,
    /// The floor's name.
    pub floor: String,
    /// What the wide generator varied (`meta.txt`'s `variation`); empty for classic cases.
    pub variation: String,
    /// Every layer of the truth.
    pub truth: Truth,
    /// The loose brush over the object alone.
    pub mask_object: Mask,
    /// The loose brush over the object and its effect.
    pub mask_full: Mask,
}

/// Every case folder under `dir` (those holding an `input.png`), in name order.
pub fn read_cases(dir: &Path) -> Result<Vec<Case>, FileError> {
    let entries = std::fs::read_dir(dir).map_err(|source| FileError::Read { path: dir.to_path_buf(), source })?;
    let mut dirs: Vec<PathBuf> =
        entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.join("input.png").exists()).collect();
    dirs.sort();
    if dirs.is_empty() {
        let hint = format!("no cases (make some with `layerdecomp synth --out {}`)", dir.display());
        return Err(FileError::invalid(dir, hint));
    }
    dirs.into_iter().map(|d| read_case(&d)).collect()
}

fn read_case(dir: &Path) -> Result<Case, FileError> {
    let opts = ImportOptions::default();
    let premul = |name: &str| io::import_image(&dir.join(name), &opts).map(|i| i.image);
    let rgb = |name: &str| premul(name).map(|img| Rgb::from_premul(&img));
    let meta = std::fs::read_to_string(dir.join("meta.txt")).unwrap_or_default();
    let field = |k: &str| meta.lines().find_map(|l| l.strip_prefix(k)?.strip_prefix('=')).unwrap_or("").to_string();
    let effect = match LayerKind::from_name(&field("kind")) {
        Some(LayerKind::Effect(kind)) => Some(kind),
        _ => None,
    };
    Ok(Case {
        name: dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        effect,
        scene: field("effect"),
        floor: field("floor"),
        variation: field("variation"),
        truth: Truth {
            input: rgb("input.png")?,
            background: rgb("background.png")?,
            object: premul("object.png")?,
            effects: premul("effects.png")?,
        },
        mask_object: io::import_mask(&dir.join("mask_object.png"), "mask", None, &opts)?,
        mask_full: io::import_mask(&dir.join("mask_full.png"), "mask", None, &opts)?,
        dir: dir.to_path_buf(),
    })
}
