//! Where relighting loses PSNR on the synthetic cases: the current relighting, the same
//! relighting applied to the true shadow-free floor ("texture-only": what the lit-level
//! estimate alone costs), and the true shading box-blurred (what penumbra blur alone costs).
//! Finding (session 3): texture-only ≈ 26 dB, penumbra r3 ≈ 42 dB — the lit level, not the
//! penumbra, is the limit. Session 4 added "structure-only" (the same region relit on a flat
//! floor carrying the true shading: what the estimator loses without any texture) and the
//! error's split by true shadow coverage (umbra > 0.8, penumbra, tail < 0.2, missed = outside
//! the detected region). DUMP=caseNNN writes /tmp/oracle.png; ONLY=caseNNN runs one case. Dev aid.
use layerdecomp::bench::load_cases;
use layerdecomp::engine::effects::{detect_shadows, relight, EffectParams};
use layerdecomp::engine::mask::Mask;
use layerdecomp::engine::raster::{box_mean, Rgb};

thread_local! { static CLS: std::cell::RefCell<[(f64, usize); 4]> = const { std::cell::RefCell::new([(0.0, 0); 4]) }; }

thread_local! { static RES: std::cell::RefCell<[(f64, f64); 4]> = const { std::cell::RefCell::new([(0.0, 0.0); 4]) }; }

fn main() {
    let dir = std::env::args().nth(1).unwrap_or_else(|| "data/synth".into());
    let mut sums = [0.0f64; 5];
    let mut n = 0;
    for c in load_cases(dir.as_ref()).unwrap() {
        let (w, h) = (c.truth.input.w as u32, c.truth.input.h as u32);
        let objm = Mask::alpha_above(&c.truth.object, 0.0);
        let obj = objm.dilate(2.0);
        let sil = Mask::alpha_above(&c.truth.object, 0.5);
        let fx = Mask::alpha_above(&c.truth.effects, 0.1).minus(&objm.dilate(8.0));
        if fx.count() < 50 || c.effect.name() == "reflection" { continue; }
        if let Ok(o) = std::env::var("ONLY") { if o != c.name { continue; } }
        let img = &c.truth.input;
        let tb = &c.truth.background;
        let (region, _) = detect_shadows(img, &obj, &EffectParams::default()).unwrap_or((Mask::new(w, h), 0.0));
        let psnr = |b: &Rgb| {
            let (mut s, mut k) = (0.0f64, 0.0f64);
            for i in 0..b.px.len() { if fx.at(i) { for ch in 0..3 { s += ((b.px[i][ch] - tb.px[i][ch]) as f64).powi(2); } k += 3.0; } }
            10.0 * (k / s.max(1e-12)).log10()
        };
        let cur = relight(img, &region, &obj, &sil);
        let tex = relight(tb, &region, &obj, &sil);
        let (wu, hu) = (w as usize, h as usize);
        let strue: Vec<Vec<f32>> = (0..3).map(|ch| img.px.iter().zip(&tb.px).map(|(a, b)| ((a[ch] + 0.01) / (b[ch] + 0.01)).min(1.0)).collect()).collect();
        let blurred = |r: usize| {
            let planes: Vec<Vec<f32>> = strue.iter().map(|p| box_mean(p, wu, hu, r).v).collect();
            Rgb { w: wu, h: hu, px: (0..wu * hu).map(|i| [0, 1, 2].map(|ch| ((img.px[i][ch] + 0.01) / planes[ch][i].max(0.05) - 0.01).clamp(0.0, 1.0))).collect() }
        };
        if std::env::var("DUMP").ok().as_deref() == Some(c.name.as_str()) {
            let s_map = |b: &Rgb| Rgb { w: wu, h: hu, px: (0..wu * hu).map(|i| { let v = ((img.px[i][1] + 0.01) / (b.px[i][1] + 0.01)).min(1.0); [v, v, v] }).collect() };
            let mut sheet = Rgb::new(wu * 2, hu * 2);
            let err = Rgb { w: wu, h: hu, px: (0..wu * hu).map(|i| { let e = if fx.at(i) { (0..3).map(|ch| (cur.px[i][ch] - tb.px[i][ch]).abs()).sum::<f32>() * 3.0 } else { 0.0 }; [e.min(1.0), if region.at(i) {0.15} else {0.0}, 0.0] }).collect() };
            for (k, im) in [s_map(tb), s_map(&cur), err, cur.clone()].iter().enumerate() {
                for y in 0..hu { for x in 0..wu { sheet.px[(y + (k / 2) * hu) * wu * 2 + x + (k % 2) * wu] = im.px[y * wu + x]; } }
            }
            layerdecomp::io::write_png(&sheet.to_premul(), "/tmp/oracle.png".as_ref(), layerdecomp::io::PngDepth::Eight).unwrap();
        }
        {
            let (mut sin, mut sout, mut kin, mut kout) = (0.0f64, 0.0f64, 0usize, 0usize);
            for i in 0..cur.px.len() { if fx.at(i) { let e: f64 = (0..3).map(|ch| ((cur.px[i][ch] - tb.px[i][ch]) as f64).powi(2)).sum(); if region.at(i) { sin += e; kin += 1 } else { sout += e; kout += 1 } } }
            let tot = (kin + kout) as f64 * 3.0;
            print!("[in {kin} px mse-share {:.4} | out {kout} px mse-share {:.4}] ", sin / tot, sout / tot);
        }
        {
            let st: Vec<f32> = (0..cur.px.len()).map(|i| (img.px[i][1] + 0.001) / (tb.px[i][1] + 0.001)).collect();
            let smin = (0..cur.px.len()).filter(|&i| fx.at(i)).map(|i| st[i]).fold(1.0f32, f32::min);
            let (mut a, mut b, mut k) = (0.0f64, 0.0f64, 0);
            for i in 0..cur.px.len() { if fx.at(i) && region.at(i) && st[i] < 1.0 - 0.8 * (1.0 - smin.max(0.2)) { a += (img.px[i][1] / tb.px[i][1].max(0.01)) as f64; b += (img.px[i][1] / cur.px[i][1].max(0.01)) as f64; k += 1; } }
            print!("umbra px {k} true s {:.3} est s {:.3} ", a / k as f64, b / k as f64);
        }
        {
            let st: Vec<f32> = (0..cur.px.len()).map(|i| (img.px[i][1] + 0.001) / (tb.px[i][1] + 0.001)).collect();
            let smin = (0..cur.px.len()).filter(|&i| fx.at(i)).map(|i| st[i]).fold(1.0f32, f32::min).max(0.2);
            let mut cls = [(0.0f64, 0usize); 4];
            let mut lum_ratio = [(0.0f64, 0.0f64); 4];
            for i in 0..cur.px.len() {
                if !fx.at(i) { continue; }
                let m = (1.0 - st[i]) / (1.0 - smin);
                let k = if !region.at(i) { 3 } else if m > 0.8 { 0 } else if m > 0.2 { 1 } else { 2 };
                cls[k].0 += (0..3).map(|ch| ((cur.px[i][ch] - tb.px[i][ch]) as f64).powi(2)).sum::<f64>();
                cls[k].1 += 1;
                let l = |p: [f32; 3]| (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) as f64;
                lum_ratio[k].0 += l(cur.px[i]);
                lum_ratio[k].1 += l(tb.px[i]);
            }
            let tot: usize = cls.iter().map(|c| c.1).sum();
            RES.with(|r| { let mut r = r.borrow_mut(); for k in 0..4 { r[k].0 += lum_ratio[k].0; r[k].1 += lum_ratio[k].1; } });
            for (k, name) in ["umbra", "penum", "tail", "missed"].iter().enumerate() { CLS.with(|c| { let mut c = c.borrow_mut(); c[k].0 += cls[k].0 / (3.0 * tot as f64); c[k].1 += cls[k].1; }); print!("{name} {} {:.5} ", cls[k].1, cls[k].0 / (3.0 * tot as f64)); }
        }
        {
            let n = tb.px.len() as f32;
            let mean = [0, 1, 2].map(|ch| tb.px.iter().map(|p| p[ch]).sum::<f32>() / n);
            let flat = Rgb { w: wu, h: hu, px: (0..wu * hu).map(|i| [0, 1, 2].map(|ch| if objm.at(i) { img.px[i][ch] } else { mean[ch] * ((img.px[i][ch] + 0.002) / (tb.px[i][ch] + 0.002)).min(1.0) })).collect() };
            let fr = relight(&flat, &region, &obj, &sil);
            let (mut s, mut k) = (0.0f64, 0.0f64);
            for i in 0..fr.px.len() { if fx.at(i) { for ch in 0..3 { s += ((fr.px[i][ch] - mean[ch]) as f64).powi(2); } k += 3.0; } }
            print!("structure-only {:.1} ", 10.0 * (k / s.max(1e-12)).log10());
        }
        let v = [psnr(&cur), psnr(&tex), psnr(&blurred(1)), psnr(&blurred(3)), psnr(img)];
        println!("{} {:<15} {:<9} current {:5.1}  texture-only {:5.1}  penumbra r1 {:5.1} r3 {:5.1}  input {:5.1}", c.name, c.effect.name(), c.floor, v[0], v[1], v[2], v[3], v[4]);
        for k in 0..5 { sums[k] += v[k]; }
        n += 1;
    }
    RES.with(|r| println!("luminance ratio predicted/true (umbra, penumbra, tail, missed): {:?}", r.borrow().map(|(a, b)| a / b.max(1e-9))));
    CLS.with(|c| println!("class mse-share sums (umbra, penumbra, tail, missed): {:?}", c.borrow()));
    println!("mean: {:?}", sums.map(|s| s / n as f64));
}
