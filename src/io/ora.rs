//! OpenRaster (`.ora`): a zip with `mimetype` first (stored), `stack.xml`, one PNG per layer,
//! `mergedimage.png` and `Thumbnails/thumbnail.png`. It is our candidate project format, so it is
//! also read back.
//!
//! Interoperability first: every layer's `src` PNG holds the layer as other programs must show it
//! (placed, scaled, at `x`/`y`). What OpenRaster cannot say (kind, links, a fractional or scaled
//! transform) goes in attributes of our own namespace; when a layer is not a whole-pixel
//! translation we also store its unscaled pixels (`layerdecomp:source`), so our document
//! round-trips exactly while GIMP and Krita still see the right picture.

use std::collections::HashMap;
use std::io::{Cursor, Read, Write};
use std::path::Path;

use quick_xml::events::Event;
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use super::import::{import_image_bytes, ImportOptions};
use super::png::{encode_png, PngDepth};
use super::{write_atomically, FileError};
use crate::compositor::{flatten, place, resized};
use crate::document::{BlendMode, LayerId, LayerKind, LayerStack, NewLayer, PremulImage, Transform};

const NS: &str = "urn:layerdecomp:openraster:1";
const THUMB_MAX: u32 = 256;

/// Encode a document as an OpenRaster file in memory.
pub fn encode_ora(stack: &LayerStack) -> Result<Vec<u8>, String> {
    encode_ora_with(stack, &[])
}

/// Encode a document with extra zip entries (the editor's project data: brushed masks). Other
/// programs ignore entries that stack.xml does not name.
pub fn encode_ora_with(stack: &LayerStack, extras: &[(String, Vec<u8>)]) -> Result<Vec<u8>, String> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(CompressionMethod::Stored);
    // PNGs are already compressed; deflating them again costs time for nothing.
    let png_opts = stored;
    let zerr = |e: zip::result::ZipError| e.to_string();
    let ioerr = |e: std::io::Error| e.to_string();

    zip.start_file("mimetype", stored).map_err(zerr)?;
    zip.write_all(b"image/openraster").map_err(ioerr)?;

    let mut xml = String::new();
    xml.push_str("<?xml version='1.0' encoding='UTF-8'?>\n");
    xml.push_str(&format!(
        "<image version=\"0.0.3\" w=\"{}\" h=\"{}\" xmlns:layerdecomp=\"{NS}\">\n<stack>\n",
        stack.width(),
        stack.height()
    ));
    // stack.xml lists the top layer first.
    for (i, layer) in stack.layers().iter().enumerate().rev() {
        let placed = place(layer);
        let src = format!("data/layer{i:03}.png");
        zip.start_file(src.as_str(), png_opts).map_err(zerr)?;
        zip.write_all(&encode_png(&placed.pixels, PngDepth::Eight)?).map_err(ioerr)?;
        let t = layer.transform;
        let mut extra = format!(
            " layerdecomp:id=\"{}\" layerdecomp:kind=\"{}\" layerdecomp:transform=\"{} {} {} {}\"",
            layer.id.0,
            layer.kind.name(),
            t.x,
            t.y,
            t.scale_x,
            t.scale_y
        );
        if let Some(link) = layer.linked_to {
            extra.push_str(&format!(" layerdecomp:linked-to=\"{}\"", link.0));
        }
        if t.integer_offset().is_none() {
            let source = format!("data/source/layer{i:03}.png");
            zip.start_file(source.as_str(), png_opts).map_err(zerr)?;
            zip.write_all(&encode_png(&layer.pixels, PngDepth::Eight)?).map_err(ioerr)?;
            extra.push_str(&format!(" layerdecomp:source=\"{source}\""));
        }
        xml.push_str(&format!(
            "<layer name=\"{}\" src=\"{src}\" x=\"{}\" y=\"{}\" opacity=\"{}\" visibility=\"{}\" composite-op=\"{}\"{extra}/>\n",
            quick_xml::escape::escape(layer.name.as_str()),
            placed.x,
            placed.y,
            layer.opacity,
            if layer.visible { "visible" } else { "hidden" },
            match layer.blend {
                BlendMode::Normal => "svg:src-over",
                BlendMode::Multiply => "svg:multiply",
            }
        ));
    }
    xml.push_str("</stack>\n</image>\n");
    zip.start_file("stack.xml", SimpleFileOptions::default()).map_err(zerr)?;
    zip.write_all(xml.as_bytes()).map_err(ioerr)?;

    for (name, bytes) in extras {
        zip.start_file(name.as_str(), png_opts).map_err(zerr)?;
        zip.write_all(bytes).map_err(ioerr)?;
    }
    let merged = flatten(stack);
    zip.start_file("mergedimage.png", png_opts).map_err(zerr)?;
    zip.write_all(&encode_png(&merged, PngDepth::Eight)?).map_err(ioerr)?;
    zip.start_file("Thumbnails/thumbnail.png", png_opts).map_err(zerr)?;
    zip.write_all(&encode_png(&thumbnail(stack), PngDepth::Eight)?).map_err(ioerr)?;
    Ok(zip.finish().map_err(zerr)?.into_inner())
}

/// The flattened image shrunk to fit 256×256 (the box-filtered CPU compositor does the work).
fn thumbnail(stack: &LayerStack) -> PremulImage {
    let (w, h) = (stack.width(), stack.height());
    let f = (THUMB_MAX as f32 / w.max(h) as f32).min(1.0);
    let (tw, th) = (((w as f32 * f).round() as u32).max(1), ((h as f32 * f).round() as u32).max(1));
    resized(&flatten(stack), tw, th)
}

/// The entries of an OpenRaster file whose names start with `prefix` (at most `limit` bytes each).
pub fn read_ora_entries(bytes: &[u8], prefix: &str, limit: u64) -> Result<Vec<(String, Vec<u8>)>, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a readable zip: {e}"))?;
    let names: Vec<String> =
        zip.file_names().filter_map(|n| n.ok()).filter(|n| n.starts_with(prefix)).map(|n| n.to_string()).collect();
    let mut out = Vec::new();
    for name in names {
        let mut f = zip.by_name(&name).map_err(|e| format!("entry {name}: {e}"))?;
        if f.size() > limit {
            return Err(format!("entry {name} is implausibly large ({} bytes)", f.size()));
        }
        let mut buf = Vec::new();
        f.read_to_end(&mut buf).map_err(|e| format!("entry {name}: {e}"))?;
        out.push((name, buf));
    }
    Ok(out)
}

/// Write a document as an OpenRaster file, atomically.
pub fn write_ora(stack: &LayerStack, path: &Path) -> Result<(), FileError> {
    let bytes = encode_ora(stack).map_err(|d| FileError::invalid(path, format!("cannot encode OpenRaster: {d}")))?;
    write_atomically(path, |w| w.write_all(&bytes))
}

/// Read an OpenRaster file.
pub fn read_ora(path: &Path, opts: &ImportOptions) -> Result<LayerStack, FileError> {
    let bytes = std::fs::read(path).map_err(|source| FileError::Read { path: path.into(), source })?;
    decode_ora(&bytes, path, opts)
}

struct LayerEntry {
    attrs: HashMap<String, String>,
}

/// Decode an OpenRaster file held in memory; `path` names it in errors.
pub fn decode_ora(bytes: &[u8], path: &Path, opts: &ImportOptions) -> Result<LayerStack, FileError> {
    let corrupt = |detail: String| FileError::Corrupt { path: path.into(), format: "OpenRaster", detail };
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| corrupt(format!("not a readable zip: {e}")))?;
    let mut read_entry = |name: &str, limit: u64| -> Result<Vec<u8>, FileError> {
        let mut f = zip.by_name(name).map_err(|_| corrupt(format!("missing entry {name}")))?;
        if f.size() > limit {
            return Err(corrupt(format!("entry {name} is implausibly large ({} bytes)", f.size())));
        }
        let mut buf = Vec::with_capacity(f.size() as usize);
        f.read_to_end(&mut buf).map_err(|e| corrupt(format!("entry {name}: {e}")))?;
        Ok(buf)
    };
    let mimetype = read_entry("mimetype", 1024)?;
    if mimetype.trim_ascii() != b"image/openraster" {
        return Err(corrupt("mimetype is not image/openraster".into()));
    }
    let xml = read_entry("stack.xml", 64 << 20)?;
    let xml = String::from_utf8(xml).map_err(|_| corrupt("stack.xml is not UTF-8".into()))?;
    let (w, h, entries) = parse_stack_xml(&xml).map_err(|d| corrupt(format!("stack.xml: {d}")))?;
    if w == 0 || h == 0 {
        return Err(FileError::Empty { path: path.into(), width: w, height: h });
    }
    if w as u64 * h as u64 > opts.max_pixels {
        return Err(FileError::TooLarge {
            path: path.into(),
            width: w as u64,
            height: h as u64,
            limit_pixels: opts.max_pixels,
        });
    }
    let png_limit = opts.max_pixels.saturating_mul(8).saturating_add(1 << 20);
    let mut stack = LayerStack::new(w, h);
    let mut id_map: HashMap<u64, LayerId> = HashMap::new();
    let mut links: Vec<(LayerId, u64)> = Vec::new();
    // stack.xml lists the top layer first; the document stores bottom first.
    for entry in entries.iter().rev() {
        let a = &entry.attrs;
        let get = |k: &str| a.get(k).map(String::as_str);
        let src = get("src").ok_or_else(|| corrupt("a layer has no src".into()))?;
        let num = |k: &str, default: f32| -> Result<f32, FileError> {
            match get(k) {
                None => Ok(default),
                Some(v) => {
                    v.trim().parse::<f32>().map_err(|_| corrupt(format!("layer {src}: {k}=\"{v}\" is not a number")))
                }
            }
        };
        let (x, y) = (num("x", 0.0)?, num("y", 0.0)?);
        let name = get("name").unwrap_or("Layer").to_string();
        let blend = match get("composite-op").unwrap_or("svg:src-over") {
            "svg:src-over" => BlendMode::Normal,
            "svg:multiply" => BlendMode::Multiply,
            other => {
                return Err(FileError::invalid(
                    path,
                    format!(
                        "layer \"{name}\": blend mode {other} is not supported (only svg:src-over and svg:multiply)"
                    ),
                ));
            }
        };
        let source = get("layerdecomp:source").unwrap_or(src);
        let png = read_entry(source, png_limit)?;
        let pixels = import_image_bytes(&png, &path.join(source), opts)?.image;
        // A layer with our unscaled source is placed by our transform; any other layer is its
        // `src` PNG at x, y, as OpenRaster defines it.
        let transform = if get("layerdecomp:source").is_some() {
            let v: Vec<f32> =
                get("layerdecomp:transform").unwrap_or("").split_whitespace().filter_map(|s| s.parse().ok()).collect();
            match v[..] {
                [x, y, scale_x, scale_y] => Transform { x, y, scale_x, scale_y },
                _ => return Err(corrupt(format!("layer {src}: layerdecomp:transform must be four numbers"))),
            }
        } else {
            Transform::at(x, y)
        };
        let kind = get("layerdecomp:kind").and_then(LayerKind::from_name).unwrap_or(LayerKind::Object);
        let new = NewLayer::new(name, pixels)
            .transform(transform)
            .opacity(num("opacity", 1.0)?)
            .blend(blend)
            .visible(get("visibility") != Some("hidden"))
            .kind(kind);
        let id = stack.push(new);
        if let Some(old) = get("layerdecomp:id").and_then(|v| v.parse().ok()) {
            id_map.insert(old, id);
        }
        if let Some(link) = get("layerdecomp:linked-to").and_then(|v| v.parse().ok()) {
            links.push((id, link));
        }
    }
    for (id, old) in links {
        if let (Some(target), Some(layer)) = (id_map.get(&old).copied(), stack.layer_mut(id)) {
            layer.linked_to = Some(target);
        }
    }
    Ok(stack)
}

/// Canvas size and the `layer` elements in file order (nested stacks are flattened in order).
fn parse_stack_xml(xml: &str) -> Result<(u32, u32, Vec<LayerEntry>), String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let (mut w, mut h) = (None, None);
    let mut entries = Vec::new();
    loop {
        match reader.read_event().map_err(|e| e.to_string())? {
            Event::Start(e) | Event::Empty(e) => {
                let mut attrs = HashMap::new();
                for a in e.attributes() {
                    let a = a.map_err(|e| e.to_string())?;
                    let key = a.key.into_inner().to_string();
                    let value =
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0).map_err(|e| e.to_string())?.into_owned();
                    attrs.insert(key, value);
                }
                match e.name().into_inner() {
                    "image" => {
                        let dim = |k: &str| attrs.get(k).and_then(|v| v.trim().parse::<u32>().ok());
                        w = dim("w");
                        h = dim("h");
                    }
                    "layer" => entries.push(LayerEntry { attrs }),
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    match (w, h) {
        (Some(w), Some(h)) => Ok((w, h, entries)),
        _ => Err("the image element has no valid w and h".into()),
    }
}
