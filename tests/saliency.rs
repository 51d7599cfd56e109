//! The U²-Netp port in candle computes what the original network computes: its output on two
//! 320×320 photos equals the one OpenCV's DNN module gives for the original ONNX file
//! (`scripts/u2netp_reference.py` made the references), within 1e-3.

use std::path::Path;

use candle_core::Device;
use layerdecomp::engine::SaliencyNet;
use layerdecomp::io::{import_image, ImportOptions};
use layerdecomp::raster::Rgb;

fn load_rgb(path: &Path) -> Rgb {
    Rgb::from_premul(&import_image(path, &ImportOptions::default()).expect("the test image").image)
}

/// The reference map: a 16-bit grey PNG of the sigmoid output.
fn load_reference(path: &Path) -> Vec<f32> {
    let img = image::open(path).expect("the reference map").to_luma16();
    img.pixels().map(|p| p.0[0] as f32 / 65535.0).collect()
}

#[test]
fn candle_u2netp_matches_the_onnx_reference() {
    let net = SaliencyNet::bundled(&Device::Cpu).expect("the bundled weights load");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/saliency");
    for name in ["sample", "coffee"] {
        let img = load_rgb(&dir.join(format!("{name}.png")));
        assert_eq!((img.w, img.h), (320, 320));
        let ours = net.forward(&img).expect("the network runs");
        let reference = load_reference(&dir.join(format!("{name}-u2netp.png")));
        let worst = ours.v.iter().zip(&reference).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        let mean = ours.v.iter().sum::<f32>() / ours.v.len() as f32;
        eprintln!("{name}: max |candle − OpenCV| = {worst:.2e}, mean saliency {mean:.3}");
        assert!(worst <= 1e-3, "{name}: candle's output differs from the reference by {worst}");
    }
}

#[test]
fn a_weights_file_that_does_not_fit_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.safetensors");
    let err = SaliencyNet::from_file(&missing, &Device::Cpu).err().expect("a missing file is an error");
    assert!(err.to_string().contains("none.safetensors"), "{err}");
    let bogus = dir.path().join("bogus.safetensors");
    std::fs::write(&bogus, b"not a safetensors file").unwrap();
    let err = SaliencyNet::from_file(&bogus, &Device::Cpu).err().expect("a corrupt file is an error");
    assert!(err.to_string().contains("bogus.safetensors"), "{err}");
}
