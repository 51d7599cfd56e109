//! Fill a hole in a photo with the completion stage alone (for looking at fills):
//! cargo run --release --example fill -- PHOTO MASK OUT.png [AVOID] (AVOID: pixels not to copy)
use layerdecomp::engine::{Completer, CompletionParams, PatchMatchCompletion, Rng};
use layerdecomp::io::{import_image, import_mask, write_png, ImportOptions, PngDepth};
use layerdecomp::raster::{Mask, Rgb};

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let opts = ImportOptions::default();
    let img = import_image(args[1].as_ref(), &opts)?.image;
    let mask = import_mask(args[2].as_ref(), "mask", Some((img.width(), img.height())), &opts)?;
    let t = std::time::Instant::now();
    let out = PatchMatchCompletion(CompletionParams::default())
        .complete(
            &Rgb::from_premul(&img),
            &mask,
            &match args.get(4) {
                Some(a) => import_mask(a.as_ref(), "avoid", Some((img.width(), img.height())), &opts)?,
                None => Mask::new(img.width(), img.height()),
            },
            &Rng::new(0),
            &mut |_| {},
            &|| false,
        )
        .map_err(|_| anyhow::anyhow!("cancelled"))?;
    eprintln!("filled in {:.3} s", t.elapsed().as_secs_f64());
    write_png(&out.to_premul(), args[3].as_ref(), PngDepth::Eight)?;
    Ok(())
}
