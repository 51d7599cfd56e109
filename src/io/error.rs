//! `FileError`: every way reading or writing a file can fail, each naming the file and the problem
//! in one line a designer can act on.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("{}: cannot read the file: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },

    #[error("{}: not an image in a supported format (PNG, JPEG, WebP, TIFF, BMP)", path.display())]
    UnsupportedFormat { path: PathBuf },

    #[error("{}: corrupt or truncated {format} file: {detail}", path.display())]
    Corrupt { path: PathBuf, format: &'static str, detail: String },

    #[error("{}: the image has no pixels ({width}×{height})", path.display())]
    Empty { path: PathBuf, width: u32, height: u32 },

    #[error(
        "{}: image too large: {width}×{height} is {:.1} megapixels, the limit is {:.1} (raise it with --max-megapixels)",
        path.display(), *width as f64 * *height as f64 / 1e6, *limit_pixels as f64 / 1e6
    )]
    TooLarge { path: PathBuf, width: u64, height: u64, limit_pixels: u64 },

    #[error("{}: {detail}", path.display())]
    Invalid { path: PathBuf, detail: String },

    #[error("{}: cannot write the file: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
}

impl FileError {
    pub fn invalid(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        FileError::Invalid { path: path.into(), detail: detail.into() }
    }

    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FileError::Write { path: path.into(), source }
    }
}
