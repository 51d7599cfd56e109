//! The command line as a user runs it: the real binary, real files, exit codes and messages.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{image_from, max_diff};
use layerdecomp::io::{self, ImportOptions};

fn layerdecomp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_layerdecomp")).args(args).output().expect("run the binary")
}

fn write_png(path: &Path, img: &layerdecomp::PremulImage) {
    io::write_png(img, path, io::PngDepth::Eight).unwrap();
}

/// Background, shadow and object PNGs in `dir`.
fn inputs(dir: &Path) -> (String, String, String) {
    let bg = dir.join("bg.png");
    let shadow = dir.join("shadow.png");
    let obj = dir.join("obj.png");
    write_png(&bg, &image_from(80, 60, |x, y| [(x * 3) as u8, (y * 4) as u8, 150, 255]));
    write_png(&shadow, &image_from(20, 8, |_, y| [40, 40, 40, (100 + y * 15) as u8]));
    write_png(&obj, &image_from(16, 16, |x, _| [250, (x * 15) as u8, 10, 255]));
    let s = |p: std::path::PathBuf| p.to_string_lossy().into_owned();
    (s(bg), s(shadow), s(obj))
}

#[test]
fn compose_then_info_for_psd_ora_and_png() {
    let dir = tempfile::tempdir().unwrap();
    let (bg, shadow, obj) = inputs(dir.path());
    for out in ["out.psd", "out.ora", "pngs"] {
        let out = dir.path().join(out).to_string_lossy().into_owned();
        let run = layerdecomp(&[
            "compose",
            "--background",
            &bg,
            "--layer",
            &obj,
            "--at",
            "30,20",
            "--name",
            "cup",
            "--layer",
            &shadow,
            "--at",
            "28,34",
            "--opacity",
            "0.6",
            "--blend",
            "multiply",
            "--name",
            "shadow",
            "--kind",
            "shadow",
            "--link",
            "cup",
            "--layer",
            &obj,
            "--at",
            "1,1",
            "--name",
            "draft",
            "--hidden",
            "--out",
            &out,
        ]);
        assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
        if out.ends_with("pngs") {
            let flat = image::open(Path::new(&out).join("flattened.png")).unwrap().to_rgba8();
            assert_eq!(flat.dimensions(), (80, 60));
            assert!(Path::new(&out).join("02-shadow.png").exists());
            continue;
        }
        let info = layerdecomp(&["info", &out]);
        assert!(info.status.success(), "{}", String::from_utf8_lossy(&info.stderr));
        let text = String::from_utf8_lossy(&info.stdout);
        assert!(text.contains("80×60, 4 layers"), "{text}");
        let shadow_line = text.lines().find(|l| l.contains("shadow")).unwrap();
        assert!(
            shadow_line.contains("28")
                && shadow_line.contains("34")
                && shadow_line.contains("60%")
                && shadow_line.contains("multiply"),
            "{shadow_line}"
        );
        let draft_line = text.lines().find(|l| l.contains("draft")).unwrap();
        assert!(draft_line.trim_end().ends_with("no"), "{draft_line}");
        // Top first: draft above shadow above cup above the background.
        let pos = |n: &str| text.find(n).unwrap();
        assert!(pos("draft") < pos("shadow") && pos("shadow") < pos("cup") && pos("cup") < pos("Background"), "{text}");
    }
    // The ORA keeps the link made with --link.
    let doc = io::read_ora(&dir.path().join("out.ora"), &ImportOptions::default()).unwrap();
    let cup = doc.by_name("cup").unwrap().id;
    assert_eq!(doc.by_name("shadow").unwrap().linked_to, Some(cup));
    // The PSD and the ORA flatten to the same picture.
    let psd_doc = ::psd::Psd::from_bytes(&std::fs::read(dir.path().join("out.psd")).unwrap()).unwrap();
    assert_eq!(max_diff(&psd_doc.rgba(), layerdecomp::flatten(&doc).to_straight_rgba8().as_raw()), 0);
}

fn expect_failure(args: &[&str], needles: &[&str]) {
    let run = layerdecomp(args);
    assert!(!run.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&run.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for n in needles {
        assert!(err.contains(n), "expected \"{n}\" in: {err}");
    }
    // Each cause said once (anyhow's chain would repeat what our file errors already say).
    if let Some(os) = err.find("(os error") {
        assert!(!err[os + 1..].contains("(os error"), "cause repeated: {err}");
    }
}

#[test]
fn bad_input_gives_one_clear_line_and_a_nonzero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let (bg, _, obj) = inputs(dir.path());
    let out = dir.path().join("o.psd").to_string_lossy().into_owned();
    let corpus =
        |n: &str| Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus").join(n).to_string_lossy().into_owned();
    expect_failure(&["compose", "--background", "missing.png", "--out", &out], &["missing.png", "cannot read"]);
    expect_failure(
        &["compose", "--background", &corpus("truncated.png"), "--out", &out],
        &["truncated.png", "truncated"],
    );
    expect_failure(
        &["compose", "--background", &bg, "--layer", &corpus("huge-header.png"), "--out", &out],
        &["huge-header.png", "too large"],
    );
    expect_failure(&["compose", "--background", &bg, "--opacity", "0.5", "--out", &out], &["--opacity", "--layer"]);
    expect_failure(
        &["compose", "--background", &bg, "--layer", &obj, "--opacity", "7", "--out", &out],
        &["--opacity 7"],
    );
    expect_failure(&["compose", "--background", &bg, "--layer", &obj, "--blend", "screen", "--out", &out], &["screen"]);
    expect_failure(&["compose", "--background", &bg, "--layer", &obj, "--at", "3", "--out", &out], &["--at 3"]);
    expect_failure(&["compose", "--background", &bg], &["--out"]);
    expect_failure(&["info", &bg], &["not a PSD or OpenRaster"]);
    expect_failure(&["info", &corpus("not-an-image.png")], &["not a PSD or OpenRaster"]);
    assert!(!Path::new(&out).exists(), "no output written by failed runs");
    // A truncated PSD is reported, not a panic.
    let psd = dir.path().join("t.psd");
    let ok = layerdecomp(&["compose", "--background", &bg, "--layer", &obj, "--out", &psd.to_string_lossy()]);
    assert!(ok.status.success());
    let bytes = std::fs::read(&psd).unwrap();
    std::fs::write(&psd, &bytes[..60]).unwrap();
    expect_failure(&["info", &psd.to_string_lossy()], &["t.psd", "truncated"]);
}

#[test]
fn remove_shadow_writes_a_relit_background_and_a_multiply_layer_or_says_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
    // A grey floor with a band of shadow (half as bright) down its left part.
    let floor = |x: u32, y: u32| 150.0 + 20.0 * ((x as f32 * 0.8).sin() * (y as f32 * 0.6).cos());
    let photo = image_from(120, 80, |x, y| {
        let v = (floor(x, y) * if x < 60 { 0.5 } else { 1.0 }) as u8;
        [v, v, v, 255]
    });
    write_png(&dir.path().join("photo.png"), &photo);
    write_png(
        &dir.path().join("brush.png"),
        &image_from(120, 80, |x, _| if x < 72 { [255; 4] } else { [0, 0, 0, 255] }),
    );
    write_png(&dir.path().join("empty.png"), &image_from(120, 80, |_, _| [0, 0, 0, 255]));
    let run = layerdecomp(&["remove-shadow", &p("photo.png"), "--mask", &p("brush.png"), "--out", &p("out")]);
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let opts = ImportOptions::default();
    let bg = io::import_image(&dir.path().join("out/background.png"), &opts).unwrap().image;
    let lum = |x: u32, y: u32| bg.get(x, y)[0] * 255.0;
    assert!((lum(30, 40) - floor(30, 40)).abs() < 25.0, "relit: {} against {}", lum(30, 40), floor(30, 40));
    let shadow = io::import_image(&dir.path().join("out/shadow.png"), &opts).unwrap().image;
    assert!(shadow.get(30, 40)[3] > 0.3 && shadow.get(100, 40)[3] == 0.0, "the shadow layer is where the shadow is");
    // Layered: the shadow is a Multiply layer above the background.
    let ok = layerdecomp(&["remove-shadow", &p("photo.png"), "--mask", &p("brush.png"), "--out", &p("out.ora")]);
    assert!(ok.status.success());
    let info = String::from_utf8_lossy(&layerdecomp(&["info", &p("out.ora")]).stdout).into_owned();
    assert!(info.contains("Shadow") && info.to_lowercase().contains("multiply"), "{info}");
    expect_failure(&["remove-shadow", &p("photo.png"), "--mask", &p("empty.png"), "--out", &p("o")], &["empty"]);
    // Plain lit floor brushed: there is no shadow, and it says so.
    let lit = image_from(120, 80, |x, y| {
        let v = floor(x, y) as u8;
        [v, v, v, 255]
    });
    write_png(&dir.path().join("lit.png"), &lit);
    let square =
        image_from(
            120,
            80,
            |x, y| if (30..70).contains(&x) && (20..60).contains(&y) { [255; 4] } else { [0, 0, 0, 255] },
        );
    write_png(&dir.path().join("square.png"), &square);
    expect_failure(&["remove-shadow", &p("lit.png"), "--mask", &p("square.png"), "--out", &p("o2")], &["no shadow"]);
}
