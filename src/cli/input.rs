//! What every subcommand reads the same way: images (warnings printed), brushes, quality names.

use std::path::Path;

use anyhow::{anyhow, Result};
use layerdecomp::document::PremulImage;
use layerdecomp::engine::Quality;
use layerdecomp::io::{self, ImportOptions};
use layerdecomp::raster::Mask;

/// An image, with its import warnings (a colour profile we do not convert) on stderr.
pub fn load(path: &Path, opts: &ImportOptions) -> Result<PremulImage> {
    let imported = io::import_image(path, opts)?;
    for w in &imported.warnings {
        eprintln!("warning: {}: {w}", path.display());
    }
    Ok(imported.image)
}

/// A brush, of the image's size if given; `what` names it in the error ("mask", "effects mask").
pub fn load_mask(path: &Path, what: &str, size: Option<(u32, u32)>, opts: &ImportOptions) -> Result<Mask> {
    Ok(io::import_mask(path, what, size, opts)?)
}

/// `fast`, `balanced` or `best`.
pub fn parse_quality(name: &str) -> Result<Quality> {
    Quality::from_name(name).ok_or_else(|| anyhow!("--quality {name}: expected fast, balanced or best"))
}
