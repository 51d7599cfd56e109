//! `layerdecomp info`: the layers of a PSD or OpenRaster file.

use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use layerdecomp::io::{self, ImportOptions};

/// A table of a PSD's or ORA's layers, top first as layer panels show them.
pub fn info(path: &Path, opts: &ImportOptions) -> Result<String> {
    let bytes = std::fs::read(path).with_context(|| format!("{}: cannot read the file", path.display()))?;
    struct Row {
        name: String,
        bounds: (i64, i64, i64, i64),
        opacity: f32,
        blend: String,
        visible: bool,
    }
    let (w, h, format, rows) = if bytes.starts_with(b"8BPS") {
        let psd =
            io::read_psd_info(&bytes).map_err(|d| anyhow!("{}: corrupt or unsupported PSD: {d}", path.display()))?;
        let rows = psd
            .layers
            .iter()
            .map(|l| Row {
                name: l.name.clone(),
                bounds: (l.left as i64, l.top as i64, (l.right - l.left) as i64, (l.bottom - l.top) as i64),
                opacity: l.opacity as f32 / 255.0,
                blend: match l.blend_key.as_str() {
                    "norm" => "normal".to_string(),
                    "mul " => "multiply".to_string(),
                    k => format!("'{k}'"),
                },
                visible: l.visible,
            })
            .collect::<Vec<_>>();
        (psd.width, psd.height, "PSD", rows)
    } else if bytes.starts_with(b"PK") {
        let stack = io::decode_ora(&bytes, path, opts)?;
        let rows = stack
            .layers()
            .iter()
            .map(|l| {
                let p = layerdecomp::compositor::place(l);
                Row {
                    name: l.name.clone(),
                    bounds: (p.x as i64, p.y as i64, p.pixels.width() as i64, p.pixels.height() as i64),
                    opacity: l.opacity,
                    blend: l.blend.name().to_string(),
                    visible: l.visible,
                }
            })
            .collect();
        (stack.width(), stack.height(), "OpenRaster", rows)
    } else {
        bail!("{}: not a PSD or OpenRaster file", path.display());
    };
    let mut out = format!("{}: {format}, {w}×{h}, {} layers (top first)\n", path.display(), rows.len());
    out.push_str(&format!(
        "{:<3} {:<24} {:>6} {:>6} {:>6} {:>6}  {:>7}  {:<9} {}\n",
        "#", "name", "x", "y", "w", "h", "opacity", "blend", "visible"
    ));
    for (i, r) in rows.iter().enumerate().rev() {
        let (x, y, bw, bh) = r.bounds;
        out.push_str(&format!(
            "{i:<3} {:<24} {x:>6} {y:>6} {bw:>6} {bh:>6}  {:>6.0}%  {:<9} {}\n",
            r.name,
            r.opacity * 100.0,
            r.blend,
            if r.visible { "yes" } else { "no" }
        ));
    }
    Ok(out)
}
