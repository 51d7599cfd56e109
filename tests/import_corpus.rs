//! Every file of `tests/corpus` either imports correctly or fails with a specific message; none
//! panics and none allocates more than a few megabytes (a counting allocator watches). This is its
//! own test binary so that no other test's allocations blur the measurement.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use layerdecomp::io::{import_image, FileError, ImportOptions, Imported};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Relaxed) + layout.size();
            PEAK.fetch_max(now, Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Relaxed);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn corpus(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(name)
}

/// Import a corpus file; returns the result and the peak bytes allocated during the import.
fn import(name: &str) -> (Result<Imported, FileError>, usize) {
    let base = CURRENT.load(Relaxed);
    PEAK.store(base, Relaxed);
    let result = import_image(&corpus(name), &ImportOptions::default());
    (result, PEAK.load(Relaxed).saturating_sub(base))
}

fn expect_error(name: &str, must_contain: &[&str]) {
    let (result, peak) = import(name);
    let msg = match result {
        Ok(i) => panic!("{name}: imported as {}×{}, expected an error", i.image.width(), i.image.height()),
        Err(e) => e.to_string(),
    };
    assert!(msg.contains(name), "{name}: the message names the file: {msg}");
    for needle in must_contain {
        assert!(msg.contains(needle), "{name}: expected \"{needle}\" in: {msg}");
    }
    assert!(!msg.contains('\n'), "{name}: one line: {msg}");
    assert!(peak < 16 << 20, "{name}: allocated {peak} bytes before failing");
}

fn expect_image(name: &str, w: u32, h: u32, bits: u8) -> Imported {
    let (result, peak) = import(name);
    let imported = result.unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!((imported.image.width(), imported.image.height()), (w, h), "{name} size");
    assert_eq!(imported.source_bits, bits, "{name} bit depth");
    assert!(peak < 16 << 20, "{name}: allocated {peak} bytes");
    imported
}

#[test]
fn corpus_imports_or_fails_clearly() {
    // Broken files.
    expect_error("truncated.png", &["truncated", "PNG"]);
    expect_error("corrupt.jpg", &["corrupt", "JPEG"]);
    expect_error("zero-size.png", &["PNG", "zero width or height"]);
    expect_error("huge-header.png", &["too large", "100000×100000", "10000.0 megapixels"]);
    expect_error("not-an-image.png", &["not an image"]);
    expect_error("empty.png", &["empty"]);
    expect_error("no-such-file.png", &["cannot read"]);

    // Grey 16-bit keeps its precision: pixel 1 of a 64-wide ramp is 1040/65535, which 8 bits
    // would round to 4/255.
    let g16 = expect_image("gray16.png", 64, 48, 16);
    let p = g16.image.get(1, 10);
    assert!((p[0] - 1040.0 / 65535.0).abs() < 1e-6 && p[0] == p[1] && p[1] == p[2] && p[3] == 1.0, "{p:?}");

    let g8 = expect_image("gray8.png", 64, 48, 8);
    let p = g8.image.get(5, 47);
    assert_eq!(p, [1.0, 1.0, 1.0, 1.0]);

    // RGBA 16-bit: alpha ramps from 0.25 (top) to 1.0 (bottom); colour is premultiplied inside.
    let rgba16 = expect_image("rgba16.png", 64, 48, 16);
    let top = rgba16.image.get(63, 0);
    assert!((top[3] - 0.25).abs() < 1e-4 && (top[0] - 0.25).abs() < 1e-4, "{top:?}");

    let rgba8 = expect_image("rgba8.png", 64, 48, 8);
    assert_eq!(rgba8.image.get(10, 0)[3], 0.0);
    assert_eq!(rgba8.image.get(10, 47)[3], 1.0);

    // The same gradient through WebP (lossless), TIFF and BMP.
    for name in ["rgb.webp", "rgb.tiff", "rgb.bmp"] {
        let img = expect_image(name, 64, 48, 8).image;
        let p = img.get(63, 0);
        assert_eq!(p, [1.0, 0.0, 0.0, 1.0], "{name}");
        let p = img.get(0, 47);
        assert_eq!(p, [0.0, 1.0, 1.0, 1.0], "{name}");
    }

    // EXIF orientation 6: stored 40×20 (red left, blue right), shown 20×40 with red on top.
    let rotated = expect_image("exif-rotated.jpg", 20, 40, 8).image;
    let (top, bottom) = (rotated.get(10, 5), rotated.get(10, 34));
    assert!(top[0] > 0.9 && top[2] < 0.1, "top is red: {top:?}");
    assert!(bottom[2] > 0.9 && bottom[0] < 0.1, "bottom is blue: {bottom:?}");

    // A non-sRGB profile: imported as sRGB, with a warning naming the profile.
    let p3 = expect_image("display-p3.png", 64, 48, 8);
    assert!(p3.warnings.iter().any(|w| w.contains("Display P3")), "{:?}", p3.warnings);
    assert!(expect_image("rgb.tiff", 64, 48, 8).warnings.is_empty());

    // A JPEG cut inside its scan data: decoders fill in the rest, and the user is told.
    let truncated = expect_image("truncated.jpg", 64, 48, 8);
    assert!(truncated.warnings.iter().any(|w| w.contains("truncated")), "{:?}", truncated.warnings);

    // The size limit is configurable.
    let err = import_image(&corpus("rgb.bmp"), &ImportOptions { max_pixels: 1000 }).unwrap_err().to_string();
    assert!(err.contains("too large") && err.contains("64×48"), "{err}");
}
