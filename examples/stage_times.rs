//! Print when each stage of a decomposition starts, with the stages the CLI and the editor run
//! (the saliency network's cut among them), and the longest stretch without a progress report:
//! cargo run --release --example stage_times -- PHOTO MASK
//! (with `RUST_LOG=debug`, the stages' own timings too)
use layerdecomp::engine::{decompose_with, DecomposeRequest, Progress, Quality, Stages};
use layerdecomp::io::{import_image, import_mask, ImportOptions};
use std::time::Instant;

/// What the progress callback has seen: the stage last reported, when the last report came, and
/// the longest stretch between two reports (seconds, and the stage that ended it).
struct Seen {
    stage: Option<String>,
    last: f64,
    longest: (f64, String),
}

fn main() {
    env_logger::init();
    let a: Vec<String> = std::env::args().collect();
    let img = import_image(a[1].as_ref(), &ImportOptions::default()).unwrap().image;
    let mask =
        import_mask(a[2].as_ref(), "mask", Some((img.width(), img.height())), &ImportOptions::default()).unwrap();
    let stages = Stages::for_quality(Quality::Balanced);
    let t = Instant::now();
    let seen = std::sync::Mutex::new(Seen { stage: None, last: 0.0, longest: (0.0, String::new()) });
    let cb = |p: Progress| {
        let mut s = seen.lock().unwrap();
        let now = t.elapsed().as_secs_f64();
        let stage = format!("{:?}", p.stage);
        if now - s.last > s.longest.0 {
            s.longest = (now - s.last, format!("{stage} at {:.0} %", 100.0 * p.fraction));
        }
        s.last = now;
        if s.stage.as_deref() != Some(&stage) {
            eprintln!("{now:>7.3} s  {stage}");
            s.stage = Some(stage);
        }
    };
    let mut req = DecomposeRequest::new(mask);
    req.progress = Some(&cb);
    req.threads = Some(2);
    decompose_with(&stages, &img, &req).unwrap();
    let s = seen.lock().unwrap();
    eprintln!(
        "{:>7.3} s  done; longest stretch without progress {:.2} s (ended by {})",
        t.elapsed().as_secs_f64(),
        s.longest.0,
        s.longest.1
    );
}
