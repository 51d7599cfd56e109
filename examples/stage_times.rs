//! Print when each stage of a decomposition starts, with the stages the CLI and the editor run
//! (the saliency network's cut among them): cargo run --release --example stage_times -- PHOTO MASK
use layerdecomp::engine::{decompose_with, DecomposeRequest, Progress, Quality, Stages};
use layerdecomp::io::{import_image, ImportOptions};
use layerdecomp::raster::Mask;
use std::time::Instant;
fn main() {
    let a: Vec<String> = std::env::args().collect();
    let img = import_image(a[1].as_ref(), &ImportOptions::default()).unwrap().image;
    let mask = Mask::from_image(&import_image(a[2].as_ref(), &ImportOptions::default()).unwrap().image);
    let stages = Stages::for_quality(Quality::Balanced);
    let t = Instant::now();
    let last = std::sync::Mutex::new(None);
    let cb = |p: Progress| {
        let mut l = last.lock().unwrap();
        if *l != Some(p.stage) {
            eprintln!("{:>7.3} s  {:?}", t.elapsed().as_secs_f64(), p.stage);
            *l = Some(p.stage);
        }
    };
    let mut req = DecomposeRequest::new(mask);
    req.progress = Some(&cb);
    req.threads = Some(2);
    decompose_with(&stages, &img, &req).unwrap();
    eprintln!("{:>7.3} s  done", t.elapsed().as_secs_f64());
}
