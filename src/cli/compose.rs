//! `layerdecomp compose`: a layered file from images, each layer's options after its `--layer`.

use std::path::PathBuf;

use anyhow::{anyhow, bail, Result};
use layerdecomp::document::{BlendMode, LayerKind, LayerStack, NewLayer, Transform};
use layerdecomp::io::ImportOptions;

use super::input::load;

struct LayerSpec {
    path: PathBuf,
    at: (f32, f32),
    scale: f32,
    opacity: f32,
    blend: BlendMode,
    name: Option<String>,
    kind: LayerKind,
    link: Option<String>,
    hidden: bool,
}

pub struct ComposePlan {
    background: PathBuf,
    layers: Vec<LayerSpec>,
    pub out: PathBuf,
}

impl ComposePlan {
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut background = None;
        let mut out = None;
        let mut layers: Vec<LayerSpec> = Vec::new();
        let mut it = args.iter();
        while let Some(flag) = it.next() {
            let mut value = || it.next().ok_or_else(|| anyhow!("{flag} needs a value"));
            match flag.as_str() {
                "--background" => background = Some(PathBuf::from(value()?)),
                "--out" | "-o" => out = Some(PathBuf::from(value()?)),
                "--layer" => layers.push(LayerSpec {
                    path: PathBuf::from(value()?),
                    at: (0.0, 0.0),
                    scale: 1.0,
                    opacity: 1.0,
                    blend: BlendMode::Normal,
                    name: None,
                    kind: LayerKind::Object,
                    link: None,
                    hidden: false,
                }),
                "--at" | "--opacity" | "--scale" | "--blend" | "--name" | "--kind" | "--link" | "--hidden" => {
                    let Some(l) = layers.last_mut() else { bail!("{flag} must follow a --layer") };
                    match flag.as_str() {
                        "--at" => l.at = parse_pair(value()?)?,
                        "--opacity" => l.opacity = parse_unit(value()?, "--opacity")?,
                        "--scale" => {
                            let v = value()?;
                            l.scale = v
                                .parse()
                                .ok()
                                .filter(|s: &f32| s.is_finite() && *s > 0.0)
                                .ok_or_else(|| anyhow!("--scale {v}: expected a positive number"))?;
                        }
                        "--blend" => {
                            let v = value()?;
                            l.blend = BlendMode::from_name(v)
                                .ok_or_else(|| anyhow!("--blend {v}: expected normal or multiply"))?;
                        }
                        "--name" => l.name = Some(value()?.clone()),
                        "--kind" => {
                            let v = value()?;
                            l.kind = LayerKind::from_name(v)
                                .filter(|k| *k != LayerKind::Background)
                                .ok_or_else(|| anyhow!("--kind {v}: expected object, shadow, reflection or effect"))?;
                        }
                        "--link" => l.link = Some(value()?.clone()),
                        _ => l.hidden = true,
                    }
                }
                other => bail!("compose: unknown argument {other} (see layerdecomp compose --help)"),
            }
        }
        Ok(Self {
            background: background.ok_or_else(|| anyhow!("compose needs --background IMG"))?,
            layers,
            out: out.ok_or_else(|| anyhow!("compose needs --out PATH (.psd, .ora or a directory)"))?,
        })
    }

    pub fn build(&self, opts: &ImportOptions) -> Result<LayerStack> {
        let bg = load(&self.background, opts)?;
        let mut stack = LayerStack::from_background(bg);
        for spec in &self.layers {
            let pixels = load(&spec.path, opts)?;
            let name = spec.name.clone().unwrap_or_else(|| {
                spec.path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "Layer".into())
            });
            let mut new = NewLayer::new(name, pixels)
                .transform(Transform { x: spec.at.0, y: spec.at.1, scale_x: spec.scale, scale_y: spec.scale })
                .opacity(spec.opacity)
                .blend(spec.blend)
                .visible(!spec.hidden)
                .kind(spec.kind);
            if let Some(target) = &spec.link {
                let id = stack
                    .by_name(target)
                    .map(|l| l.id)
                    .ok_or_else(|| anyhow!("--link {target}: no earlier layer has that name"))?;
                new = new.linked_to(id);
            }
            stack.push(new);
        }
        Ok(stack)
    }
}

fn parse_pair(v: &str) -> Result<(f32, f32)> {
    let parts: Vec<&str> = v.split(',').collect();
    match parts[..] {
        [x, y] => match (x.trim().parse::<f32>(), y.trim().parse::<f32>()) {
            (Ok(x), Ok(y)) if x.is_finite() && y.is_finite() => Ok((x, y)),
            _ => bail!("--at {v}: expected two numbers X,Y"),
        },
        _ => bail!("--at {v}: expected X,Y"),
    }
}

fn parse_unit(v: &str, flag: &str) -> Result<f32> {
    v.parse::<f32>()
        .ok()
        .filter(|o| (0.0..=1.0).contains(o))
        .ok_or_else(|| anyhow!("{flag} {v}: expected a number from 0 to 1"))
}
