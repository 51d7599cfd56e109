//! `FileError`: every way reading or writing a file can fail, each naming the file and the problem
//! in one line a designer can act on.

use std::path::PathBuf;

/// Every way reading or writing a file can fail; each message names the file and the problem.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file could not be read.
    #[error("{}: cannot read the file: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },

    /// Not an image format we read.
    #[error("{}: not an image in a supported format (PNG, JPEG, WebP, TIFF, BMP)", path.display())]
    UnsupportedFormat {
        /// The file.
        path: PathBuf,
    },

    /// A known format, but broken.
    #[error("{}: corrupt or truncated {format} file: {detail}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// The format it claims to be.
        format: &'static str,
        /// What is wrong.
        detail: String,
    },

    /// An image without pixels.
    #[error("{}: the image has no pixels ({width}×{height})", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
        /// Its width.
        width: u32,
        /// Its height.
        height: u32,
    },

    /// An image above the size limit, refused before any pixel is decoded.
    #[error(
        "{}: image too large: {width}×{height} is {:.1} megapixels, the limit is {:.1} (raise it with --max-megapixels)",
        path.display(), *width as f64 * *height as f64 / 1e6, *limit_pixels as f64 / 1e6
    )]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its width.
        width: u64,
        /// Its height.
        height: u64,
        /// The limit, in pixels.
        limit_pixels: u64,
    },

    /// Content we cannot use, for the reason `detail` gives.
    #[error("{}: {detail}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },

    /// The file could not be written.
    #[error("{}: cannot write the file: {source}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
}

impl FileError {
    /// The file's content is wrong in a way `detail` says.
    pub fn invalid(path: impl Into<PathBuf>, detail: impl Into<String>) -> Self {
        FileError::Invalid { path: path.into(), detail: detail.into() }
    }

    /// The file could not be written.
    pub fn write(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FileError::Write { path: path.into(), source }
    }
}
