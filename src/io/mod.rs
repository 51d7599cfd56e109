//! Files in and out: image import, PSD / OpenRaster / PNG export, OpenRaster import, and the
//! atomic write every exporter goes through. Straight alpha and integer depths live only here.

mod atomic;
mod error;
pub mod import;
pub mod ora;
mod packbits;
pub mod png;
pub mod psd;

use std::path::Path;

pub use atomic::{write_atomically, write_bytes_atomically};
pub use error::FileError;
pub use import::{import_image, import_image_bytes, ImportOptions, Imported, DEFAULT_MAX_PIXELS};
pub use ora::{decode_ora, encode_ora, encode_ora_with, read_ora, read_ora_entries, write_ora};
pub use png::{export_png_layers, write_png, PngDepth};
pub use psd::{read_psd_info, write_psd};

use crate::document::LayerStack;

/// The layered formats we export, chosen from the output path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    Psd,
    Ora,
    /// A directory of PNGs.
    PngDir,
}

impl ExportFormat {
    /// `.psd` and `.ora` by extension (any case); anything else is a directory of PNGs.
    pub fn from_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("psd") => ExportFormat::Psd,
            Some("ora") => ExportFormat::Ora,
            _ => ExportFormat::PngDir,
        }
    }
}

/// Export a document to `path` in the format its name implies.
pub fn export(stack: &LayerStack, path: &Path) -> Result<(), FileError> {
    match ExportFormat::from_path(path) {
        ExportFormat::Psd => write_psd(stack, path),
        ExportFormat::Ora => write_ora(stack, path),
        ExportFormat::PngDir => export_png_layers(stack, path, PngDepth::Eight).map(|_| ()),
    }
}
