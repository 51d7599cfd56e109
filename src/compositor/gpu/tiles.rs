//! The tile cache: each layer (or mask) as tiles with box-filtered mip chains, their content
//! hashes (only changed tiles are uploaded), and the conversion to upload bytes, which may run on
//! a background thread.

use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, Weak};

use eframe::wgpu;
use rayon::prelude::*;

use crate::document::{to_u8, PremulImage};

pub(super) struct Tile {
    pub(super) x: u32,
    pub(super) y: u32,
    pub(super) w: u32,
    pub(super) h: u32,
    pub(super) hash: u64,
    pub(super) opaque: bool,
    pub(super) texture: wgpu::Texture,
    pub(super) nearest: wgpu::BindGroup,
    pub(super) linear: wgpu::BindGroup,
}

pub(super) enum Source {
    Layer(Arc<PremulImage>),
    Mask(Arc<image::GrayImage>),
}

impl Source {
    pub(super) fn size(&self) -> (u32, u32) {
        match self {
            Source::Layer(p) => (p.width(), p.height()),
            Source::Mask(m) => m.dimensions(),
        }
    }
    pub(super) fn format(&self) -> wgpu::TextureFormat {
        match self {
            Source::Layer(_) => wgpu::TextureFormat::Rgba8Unorm,
            Source::Mask(_) => wgpu::TextureFormat::R8Unorm,
        }
    }
    /// The tile's texels (8-bit, premultiplied), row-major without padding.
    pub(super) fn tile_bytes(&self, x: u32, y: u32, w: u32, h: u32) -> Vec<u8> {
        match self {
            Source::Layer(p) => {
                let mut out = vec![0u8; (w * h * 4) as usize];
                out.par_chunks_mut((w * 4) as usize).enumerate().for_each(|(r, line)| {
                    let row = &p.row(y + r as u32)[x as usize..(x + w) as usize];
                    for (dst, px) in line.chunks_exact_mut(4).zip(row) {
                        for c in 0..4 {
                            dst[c] = to_u8(px[c]);
                        }
                    }
                });
                out
            }
            Source::Mask(m) => {
                let mut out = Vec::with_capacity((w * h) as usize);
                let stride = m.width() as usize;
                for r in y..y + h {
                    let start = r as usize * stride + x as usize;
                    out.extend_from_slice(&m.as_raw()[start..start + w as usize]);
                }
                out
            }
        }
    }
}

/// What a cached texture was made from, held weakly so the document stays the sole owner of its
/// pixels (and can mutate them in place while a stroke is painted).
pub(super) enum Origin {
    Layer(Weak<PremulImage>),
    Mask(Weak<image::GrayImage>),
    None,
}

impl Origin {
    pub(super) fn of(source: &Source) -> Self {
        match source {
            Source::Layer(a) => Origin::Layer(Arc::downgrade(a)),
            Source::Mask(a) => Origin::Mask(Arc::downgrade(a)),
        }
    }
    /// Still the same, unmodified buffer. A buffer mutated in place (`Arc::make_mut` on a sole
    /// owner) no longer upgrades, so it counts as changed.
    pub(super) fn is(&self, source: &Source) -> bool {
        match (self, source) {
            (Origin::Layer(w), Source::Layer(a)) => w.upgrade().is_some_and(|w| Arc::ptr_eq(&w, a)),
            (Origin::Mask(w), Source::Mask(a)) => w.upgrade().is_some_and(|w| Arc::ptr_eq(&w, a)),
            _ => false,
        }
    }
}

/// Tile texels ready to upload: the mip chain (level 0 first), content hash and opacity.
pub(super) struct TileData {
    pub(super) hash: u64,
    pub(super) opaque: bool,
    pub(super) mips: Vec<(u32, u32, Vec<u8>)>,
}

/// Convert `source` into tiles; tiles whose hash equals `known` come back as `None` (unchanged).
pub(super) fn prepare_tiles(source: &Source, rects: &[(u32, u32, u32, u32)], known: &[u64]) -> Vec<Option<TileData>> {
    let channels = if matches!(source, Source::Mask(_)) { 1 } else { 4 };
    rects
        .iter()
        .zip(known)
        .map(|(&(x, y, w, h), &old)| {
            let bytes = source.tile_bytes(x, y, w, h);
            let hash = hash_bytes(&bytes);
            if hash == old {
                return None;
            }
            let opaque = channels == 4 && bytes.chunks_exact(4).all(|p| p[3] == 255);
            let mut mips = Vec::new();
            let (mut lw, mut lh, mut data) = (w, h, bytes);
            loop {
                let next = (lw > 1 || lh > 1).then(|| halve(&data, lw, lh, channels));
                mips.push((lw, lh, data));
                match next {
                    Some((d, nw, nh)) => (data, lw, lh) = (d, nw, nh),
                    None => break,
                }
            }
            Some(TileData { hash, opaque, mips })
        })
        .collect()
}

/// Pixels being converted for upload on a background thread.
pub(super) struct Pending {
    pub(super) origin: Origin,
    // A Mutex only to make the compositor `Sync` (egui keeps it in shared callback resources).
    pub(super) rx: Mutex<Receiver<Vec<Option<TileData>>>>,
}

pub(super) struct Cached {
    pub(super) origin: Origin,
    pub(super) pending: Option<Pending>,
    /// Some content has been uploaded (until then the layer is not drawn).
    pub(super) filled: bool,
    pub(super) size: (u32, u32),
    pub(super) format: wgpu::TextureFormat,
    pub(super) tiles: Vec<Tile>,
    pub(super) used: bool,
}

fn hash_bytes(bytes: &[u8]) -> u64 {
    // FNV-1a over 8-byte words: only needs to tell "changed" from "unchanged".
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        h = (h ^ u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])).wrapping_mul(0x100_0000_01b3);
    }
    for &b in chunks.remainder() {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    h ^ bytes.len() as u64
}

/// Halve an 8-bit image with a box filter (premultiplied values average correctly).
fn halve(src: &[u8], w: u32, h: u32, channels: usize) -> (Vec<u8>, u32, u32) {
    let (nw, nh) = ((w / 2).max(1), (h / 2).max(1));
    let mut out = vec![0u8; nw as usize * nh as usize * channels];
    for y in 0..nh {
        for x in 0..nw {
            for c in 0..channels {
                let mut sum = 0u32;
                let mut n = 0u32;
                for (dx, dy) in [(0, 0), (1, 0), (0, 1), (1, 1)] {
                    let (sx, sy) = ((2 * x + dx).min(w - 1), (2 * y + dy).min(h - 1));
                    sum += src[(sy as usize * w as usize + sx as usize) * channels + c] as u32;
                    n += 1;
                }
                out[(y as usize * nw as usize + x as usize) * channels + c] = ((sum + n / 2) / n) as u8;
            }
        }
    }
    (out, nw, nh)
}
