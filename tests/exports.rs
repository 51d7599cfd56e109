//! Exports read back by independent readers: the `psd` crate and psd-tools for PSD, our reader
//! and the zip layout for OpenRaster, the image crate for PNG.

mod common;

use std::io::{Read, Write};
use std::path::Path;
use std::process::Command;

use common::{max_diff, three_layer_document};
use layerdecomp::compositor::place;
use layerdecomp::io::{self, ImportOptions};
use layerdecomp::{flatten, BlendMode, LayerStack, NewLayer, PremulImage};

/// A layer as full-canvas straight RGBA8, as a reader that places it would show it.
fn layer_canvas_rgba(doc: &LayerStack, i: usize) -> Vec<u8> {
    io::layer_on_canvas(doc, &doc.layers()[i]).to_straight_rgba8().into_raw()
}

#[test]
fn psd_is_read_back_by_the_psd_crate() {
    let doc = three_layer_document();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.psd");
    io::write_psd(&doc, &path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let file = ::psd::Psd::from_bytes(&bytes).expect("the psd crate reads our file");
    assert_eq!((file.width(), file.height()), (doc.width(), doc.height()));
    assert_eq!(file.layers().len(), 4);
    // The psd crate lists layers top first; we store them bottom first.
    for (i, (ours, theirs)) in doc.layers().iter().zip(file.layers().iter().rev()).enumerate() {
        assert_eq!(theirs.name(), ours.name, "layer {i} name");
        let placed = place(ours);
        // The psd crate stores bottom/right inclusive.
        let bounds = (theirs.layer_left(), theirs.layer_top(), theirs.layer_right() + 1, theirs.layer_bottom() + 1);
        let want =
            (placed.x, placed.y, placed.x + placed.pixels.width() as i32, placed.y + placed.pixels.height() as i32);
        assert_eq!(bounds, want, "layer {i} bounds");
        // The crate does not export its BlendMode type; its Debug name is what we can compare.
        let want_blend = match ours.blend {
            BlendMode::Normal => "Normal",
            BlendMode::Multiply => "Multiply",
        };
        assert_eq!(format!("{:?}", theirs.blend_mode()), want_blend, "layer {i} blend mode");
        assert_eq!(theirs.opacity(), (ours.opacity * 255.0).round() as u8, "layer {i} opacity");
        // Pixels: alpha everywhere, colour wherever the layer is not fully transparent.
        let got = theirs.rgba();
        let want = layer_canvas_rgba(&doc, i);
        for (p, (g, w)) in got.chunks(4).zip(want.chunks(4)).enumerate() {
            assert_eq!(g[3], w[3], "layer {i} alpha at pixel {p}");
            if w[3] > 0 {
                assert_eq!(&g[..3], &w[..3], "layer {i} colour at pixel {p}");
            }
        }
    }
}

#[test]
fn psd_is_composited_by_psd_tools_like_our_cpu_compositor() {
    let doc = three_layer_document();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.psd");
    let out = dir.path().join("psd-tools.png");
    io::write_psd(&doc, &path).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/psd_tools_read.py");
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let run = Command::new(&python).arg(&script).arg(&path).arg(&out).output().unwrap_or_else(|e| {
        panic!("cannot run {python}: {e}. The PSD tests need python3 with psd-tools (pip install psd-tools)")
    });
    assert!(
        run.status.success(),
        "psd-tools failed (pip install psd-tools):\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let listing = String::from_utf8_lossy(&run.stdout);
    for name in ["Background", "Shadow", "Ball", "Hidden note"] {
        assert!(listing.contains(&format!("\"name\": \"{name}\"")), "psd-tools lists {name}: {listing}");
    }
    assert!(listing.contains("MULTIPLY"), "psd-tools sees the Multiply shadow: {listing}");
    assert!(listing.contains("\"opacity\": 153"), "psd-tools sees 60 % opacity: {listing}");
    assert!(listing.contains("\"visible\": false"), "psd-tools sees the hidden layer: {listing}");
    assert!(listing.contains("[40, 38, 70, 50]"), "psd-tools sees the shadow's bounds: {listing}");

    let theirs = image::open(&out).unwrap().to_rgba8();
    let ours = flatten(&doc).to_straight_rgba8();
    assert_eq!(theirs.dimensions(), ours.dimensions());
    let diff = max_diff(theirs.as_raw(), ours.as_raw());
    assert!(diff <= 1, "psd-tools composite differs from ours by {diff} levels");
}

#[test]
fn psd_merged_image_is_our_flattened_image() {
    // Readers that ignore layers show the merged image section.
    let doc = three_layer_document();
    let bytes = io::encode_psd(&doc).unwrap();
    let file = ::psd::Psd::from_bytes(&bytes).unwrap();
    let ours = flatten(&doc).to_straight_rgba8();
    assert_eq!(max_diff(&file.rgba(), ours.as_raw()), 0);
}

#[test]
fn psd_info_lists_layers_with_unicode_names() {
    let mut doc = three_layer_document();
    let id = doc.layers()[2].id;
    doc.layer_mut(id).unwrap().name = "Ball — Kugel ⚽".into();
    let info = io::read_psd_info(&io::encode_psd(&doc).unwrap()).unwrap();
    let names: Vec<_> = info.layers.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Background", "Shadow", "Ball — Kugel ⚽", "Hidden note"]);
    assert_eq!(info.layers.iter().map(|l| l.visible).collect::<Vec<_>>(), [true, true, true, false]);
}

#[test]
fn psd_with_transparent_merged_image_records_its_alpha() {
    let mut doc = LayerStack::new(8, 8);
    doc.push(NewLayer::new("dot", PremulImage::filled(2, 2, [0.5, 0.0, 0.0, 0.5])).at(3.0, 3.0));
    let bytes = io::encode_psd(&doc).unwrap();
    assert_eq!(u16::from_be_bytes([bytes[12], bytes[13]]), 4, "four channels in the header");
    let file = ::psd::Psd::from_bytes(&bytes).unwrap();
    assert_eq!(file.layers()[0].rgba()[(3 * 8 + 3) * 4..][..4], [255, 0, 0, 128]);
}

fn scaled_document() -> LayerStack {
    let mut doc = three_layer_document();
    let ball = doc.by_name("Ball").unwrap().id;
    doc.scale_group(ball, 1.37, 40.0, 30.0);
    doc.translate_group(ball, 3.25, -1.5);
    doc
}

#[test]
fn ora_round_trips_losslessly() {
    let doc = scaled_document();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.ora");
    io::write_ora(&doc, &path).unwrap();
    let back = io::read_ora(&path, &ImportOptions::default()).unwrap();
    assert_eq!((back.width(), back.height()), (doc.width(), doc.height()));
    assert_eq!(back.layers().len(), doc.layers().len());
    let name_of = |s: &LayerStack, id| s.layer(id).map(|l| l.name.clone());
    for (a, b) in doc.layers().iter().zip(back.layers()) {
        assert_eq!(a.name, b.name);
        assert_eq!(a.transform, b.transform, "{}", a.name);
        assert_eq!(a.opacity, b.opacity, "{}", a.name);
        assert_eq!((a.blend, a.visible, a.kind), (b.blend, b.visible, b.kind), "{}", a.name);
        assert_eq!(a.pixels, b.pixels, "{} pixels", a.name);
        assert_eq!(a.linked_to.and_then(|id| name_of(&doc, id)), b.linked_to.and_then(|id| name_of(&back, id)));
    }
    assert_eq!(flatten(&doc), flatten(&back));
    // Moving the object still moves its shadow after the round trip.
    let ball = back.by_name("Ball").unwrap().id;
    let shadow = back.by_name("Shadow").unwrap().id;
    assert_eq!(back.group_of(ball), vec![ball, shadow]);
}

#[test]
fn ora_zip_layout_follows_the_spec() {
    let doc = scaled_document();
    let bytes = io::encode_ora(&doc).unwrap();
    // The mimetype is the very first entry, stored, so `file` and other tools can sniff it at
    // byte 30 of the archive.
    assert_eq!(&bytes[0..4], b"PK\x03\x04");
    assert_eq!(u16::from_le_bytes([bytes[8], bytes[9]]), 0, "mimetype is stored, not deflated");
    assert_eq!(&bytes[30..38], b"mimetype");
    assert_eq!(&bytes[38..54], b"image/openraster");
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
    assert_eq!(zip.by_index(0).unwrap().name().unwrap(), "mimetype");
    for entry in ["stack.xml", "mergedimage.png", "Thumbnails/thumbnail.png", "data/layer000.png"] {
        assert!(zip.by_name(entry).is_ok(), "missing {entry}");
    }
    let mut xml = String::new();
    zip.by_name("stack.xml").unwrap().read_to_string(&mut xml).unwrap();
    assert!(xml.contains("composite-op=\"svg:multiply\""), "{xml}");
    assert!(xml.contains("visibility=\"hidden\""), "{xml}");
    assert!(xml.contains("opacity=\"0.6\""), "{xml}");
    // Top layer first in stack.xml.
    assert!(xml.find("Hidden note").unwrap() < xml.find("Background").unwrap());
    let mut merged = Vec::new();
    zip.by_name("mergedimage.png").unwrap().read_to_end(&mut merged).unwrap();
    let merged = image::load_from_memory(&merged).unwrap().to_rgba8();
    assert_eq!(max_diff(merged.as_raw(), flatten(&doc).to_straight_rgba8().as_raw()), 0);
    let mut thumb = Vec::new();
    zip.by_name("Thumbnails/thumbnail.png").unwrap().read_to_end(&mut thumb).unwrap();
    let thumb = image::load_from_memory(&thumb).unwrap();
    // The 96-pixel-wide document is below the 256-pixel thumbnail limit: kept at its size.
    assert!(thumb.width() <= 256 && thumb.height() <= 256 && thumb.width() == 96);
}

#[test]
fn ora_layers_show_placed_pixels_to_other_readers() {
    // A reader that knows only OpenRaster places each `src` PNG at x, y: that must reproduce our
    // composite even for the scaled, fractionally placed layer.
    let doc = scaled_document();
    let bytes = io::encode_ora(&doc).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&bytes)).unwrap();
    let mut xml = String::new();
    zip.by_name("stack.xml").unwrap().read_to_string(&mut xml).unwrap();
    let stripped: String = xml
        .lines()
        .map(|l| {
            l.split(" layerdecomp:").next().unwrap().trim_end_matches("/>").to_string()
                + if l.contains("<layer") { "/>" } else { "" }
        })
        .collect::<Vec<_>>()
        .join("\n");
    assert!(!stripped.contains("layerdecomp:source"));
    let mut out = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for i in 0..zip.len() {
        let mut f = zip.by_index(i).unwrap();
        let name = f.name().unwrap().to_string();
        let mut data = Vec::new();
        f.read_to_end(&mut data).unwrap();
        out.start_file(name.as_str(), stored).unwrap();
        out.write_all(if name == "stack.xml" { stripped.as_bytes() } else { &data }).unwrap();
    }
    let plain = out.finish().unwrap().into_inner();
    let back = io::decode_ora(&plain, Path::new("plain.ora"), &ImportOptions::default()).unwrap();
    let diff = max_diff(flatten(&back).to_straight_rgba8().as_raw(), flatten(&doc).to_straight_rgba8().as_raw());
    assert!(diff <= 1, "{diff}");
    assert!(back.layers().iter().all(|l| l.transform.scale_x == 1.0));
}

#[test]
fn png_export_writes_every_layer_and_the_flattened_image() {
    let doc = scaled_document();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("layers");
    let files = io::export_png_layers(&doc, &out, io::PngDepth::Eight).unwrap();
    assert_eq!(files.len(), 5);
    for (i, f) in files.iter().take(4).enumerate() {
        let img = image::open(f).unwrap().to_rgba8();
        assert_eq!(img.dimensions(), (96, 64), "{}", f.display());
        assert_eq!(max_diff(img.as_raw(), &layer_canvas_rgba(&doc, i)), 0);
    }
    assert!(files[2].ends_with("02-Ball.png"));
    let flat = image::open(out.join("flattened.png")).unwrap().to_rgba8();
    assert_eq!(max_diff(flat.as_raw(), flatten(&doc).to_straight_rgba8().as_raw()), 0);
    // 16-bit output keeps what 8-bit rounds away.
    let files16 = io::export_png_layers(&doc, &dir.path().join("l16"), io::PngDepth::Sixteen).unwrap();
    let back = io::import_image(&files16[1], &ImportOptions::default()).unwrap();
    assert_eq!(back.source_bits, 16);
    let want = io::layer_on_canvas(&doc, &doc.layers()[1]);
    for (g, w) in back.image.pixels().iter().zip(want.pixels()) {
        for c in 0..4 {
            assert!((g[c] - w[c]).abs() < 2e-5, "16-bit PNG keeps the value: {g:?} vs {w:?}");
        }
    }
}

/// A writer that fails like a full disk after `left` bytes.
struct FailAfter<'a> {
    inner: &'a mut dyn Write,
    left: usize,
}

impl Write for FailAfter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.left == 0 {
            return Err(std::io::Error::other("no space left on device (simulated)"));
        }
        let n = buf.len().min(self.left);
        self.left -= n;
        self.inner.write(&buf[..n])
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[test]
fn an_export_failing_midway_leaves_the_previous_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.psd");
    let first = three_layer_document();
    io::write_psd(&first, &path).unwrap();
    let before = std::fs::read(&path).unwrap();

    // The disk fills up halfway through writing a new version.
    let second = scaled_document();
    let bytes = io::encode_psd(&second).unwrap();
    assert_ne!(bytes, before);
    let err =
        io::write_atomically(&path, |w| FailAfter { inner: w, left: bytes.len() / 2 }.write_all(&bytes)).unwrap_err();
    assert!(err.to_string().contains("no space left"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before, "previous file untouched");

    // An export the format cannot hold fails before touching the file, with a clear message.
    let too_wide = LayerStack::from_background(PremulImage::new(40_000, 1));
    let err = io::write_psd(&too_wide, &path).unwrap_err().to_string();
    assert!(err.contains("30000") && err.contains("doc.psd"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), before);

    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
    // And the file still opens.
    assert!(::psd::Psd::from_bytes(&std::fs::read(&path).unwrap()).is_ok());
}
