//! Files in and out: image import, PSD / OpenRaster / PNG export, OpenRaster import, and the
//! atomic write every exporter goes through. Straight alpha and integer depths live only here.

mod atomic;
mod error;
mod import;
mod jpeg;
mod ora;
mod packbits;
mod png;
mod psd;

use std::path::Path;

pub use atomic::{write_atomically, write_bytes_atomically};
pub use error::FileError;
pub use import::{
    check_brush_size, import_image, import_image_bytes, import_mask, ImportOptions, Imported, DEFAULT_MAX_PIXELS,
};
pub use jpeg::{write_jpeg, DEFAULT_JPEG_QUALITY};
pub use ora::{decode_ora, encode_ora, encode_ora_with, read_ora, read_ora_entries, write_ora};
pub use png::{export_png_layers, layer_on_canvas, write_placed_png, write_png, PngDepth};
pub use psd::{encode_psd, read_psd_info, write_psd, PsdInfo, PsdLayerInfo};

use crate::compositor::flatten;
use crate::document::LayerStack;

/// What an export writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// Photoshop document, one layer per document layer.
    Psd,
    /// OpenRaster, our project format.
    Ora,
    /// A directory of PNGs: one per layer (full canvas) and the flattened image.
    PngDir,
    /// The flattened image as one PNG.
    FlatPng,
    /// The flattened image over white as a JPEG of this quality (1–100).
    Jpeg(u8),
}

impl ExportFormat {
    /// By extension (any case): `.psd`, `.ora`, `.png`, `.jpg`/`.jpeg`; anything else is a
    /// directory of PNGs.
    pub fn from_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("psd") => ExportFormat::Psd,
            Some("ora") => ExportFormat::Ora,
            Some("png") => ExportFormat::FlatPng,
            Some("jpg" | "jpeg") => ExportFormat::Jpeg(DEFAULT_JPEG_QUALITY),
            _ => ExportFormat::PngDir,
        }
    }

    /// A name for menus and dialogs.
    pub fn label(self) -> &'static str {
        match self {
            ExportFormat::Psd => "Photoshop (PSD)",
            ExportFormat::Ora => "OpenRaster (ORA)",
            ExportFormat::PngDir => "PNG layers (folder)",
            ExportFormat::FlatPng => "Flattened PNG",
            ExportFormat::Jpeg(_) => "Flattened JPEG",
        }
    }

    /// The file extension, empty for a directory.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Psd => "psd",
            ExportFormat::Ora => "ora",
            ExportFormat::PngDir => "",
            ExportFormat::FlatPng => "png",
            ExportFormat::Jpeg(_) => "jpg",
        }
    }

    /// Whether it keeps the layers (rather than the flattened image only).
    pub fn is_layered(self) -> bool {
        matches!(self, ExportFormat::Psd | ExportFormat::Ora | ExportFormat::PngDir)
    }
}

/// Export a document to `path` in the format its name implies.
pub fn export(stack: &LayerStack, path: &Path) -> Result<(), FileError> {
    export_as(stack, ExportFormat::from_path(path), path)
}

/// Export a document's layers (or its flattened image) to `path` as `format`.
pub fn export_as(stack: &LayerStack, format: ExportFormat, path: &Path) -> Result<(), FileError> {
    match format {
        ExportFormat::Psd => write_psd(stack, path),
        ExportFormat::Ora => write_ora(stack, path),
        ExportFormat::PngDir => export_png_layers(stack, path, PngDepth::Eight).map(|_| ()),
        ExportFormat::FlatPng => write_png(&flatten(stack), path, PngDepth::Eight),
        ExportFormat::Jpeg(quality) => write_jpeg(&flatten(stack), path, quality),
    }
}
