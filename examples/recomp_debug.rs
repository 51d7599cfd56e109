use layerdecomp::bench::{load_cases, object_canvas};
use layerdecomp::engine::{decompose, DecomposeRequest};
use layerdecomp::document::*;
use layerdecomp::io::*;
fn main() {
    let cases = load_cases("data/synth".as_ref()).unwrap();
    let c = &cases[0];
    let input = c.truth.input.to_premul();
    let mut req = DecomposeRequest::new(c.mask_object.clone());
    req.effect_hint = Some(c.mask_full.clone());
    let d = decompose(&input, &req).unwrap();
    let _ = object_canvas(&d);
    let fg: Vec<[f32; 4]> = c.truth.object.pixels().iter().zip(c.truth.effects.pixels()).map(|(o, e)| [0, 1, 2, 3].map(|k| o[k] + (1.0 - o[3]) * e[k])).collect();
    let tfg = PremulImage::from_pixels(960, 640, fg).unwrap();
    write_png(&tfg, "/tmp/truth_fg.png".as_ref(), PngDepth::Eight).unwrap();
    write_png(&d.foreground, "/tmp/our_fg.png".as_ref(), PngDepth::Eight).unwrap();
    write_png(&c.truth.object, "/tmp/truth_obj.png".as_ref(), PngDepth::Eight).unwrap();
}
