//! The real photographs the cases are built from (see data/SOURCES.md).

use std::path::{Path, PathBuf};

use crate::io::{self, ImportOptions};
use crate::raster::Rgb;

/// A part of a photograph: x, y, width, height.
type Crop = (usize, usize, usize, usize);

/// The photographs the data is built from (see data/SOURCES.md).
pub struct Sources {
    pub(super) textures: Vec<(String, Rgb)>,
    pub(super) photos: Vec<(String, Rgb)>,
}

impl Sources {
    /// The textures and photographs in `dir` (`scripts/fetch_sources.sh` fills `data/sources`).
    pub fn load(dir: &Path) -> Result<Self, String> {
        let load = |name: &str| -> Result<Rgb, String> {
            let path: PathBuf = dir.join(name);
            let img = io::import_image(&path, &ImportOptions::default())
                .map_err(|e| format!("{e} (run scripts/fetch_sources.sh to fetch the source photos)"))?;
            Ok(Rgb::from_premul(&img.image))
        };
        // Floors: whole textures, or the part of a photograph that is a surface (the wooden
        // table beside the coffee cup, the cat's forehead fur, the garage's concrete floor).
        let crops: [(&str, Option<Crop>); 6] = [
            ("gravel.png", None),
            ("grass.png", None),
            ("brick.png", None),
            ("coffee.png", Some((480, 0, 120, 400))),
            ("chelsea.png", Some((120, 0, 160, 70))),
            ("motorcycle_left.png", Some((0, 450, 741, 50))),
        ];
        let textures = crops
            .iter()
            .map(|(n, crop)| {
                let img = load(n)?;
                let img = match crop {
                    Some((x, y, w, h)) if x + w <= img.w && y + h <= img.h => img.crop(*x, *y, *w, *h),
                    Some(_) => return Err(format!("{n}: smaller than expected")),
                    None => img,
                };
                Ok((n.to_string(), img))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let photos = [
            "astronaut.png",
            "coffee.png",
            "rocket.jpg",
            "chelsea.png",
            "motorcycle_left.png",
            "hubble_deep_field.jpg",
            "coins.png",
        ]
        .iter()
        .map(|n| Ok((n.to_string(), load(n)?)))
        .collect::<Result<Vec<_>, String>>()?;
        Ok(Self { textures, photos })
    }
}
