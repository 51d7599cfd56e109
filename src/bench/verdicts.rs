//! Whether the effects the engine reports are there: each effect layer's confidence against
//! whether the layer is right, and the effect alpha put where the truth has none (what a
//! no-shadow control must keep near zero).

use layerdecomp::engine::EffectLayer;
use layerdecomp::raster::Mask;
use layerdecomp::synth::Truth;

/// One case's part in the summary.
pub struct CaseSummary<'a> {
    pub case: &'a str,
    pub scene: &'a str,
    pub residual: Option<f64>,
    pub verdicts: Option<&'a EffectVerdicts>,
}

/// One case's effect layers judged against its truth.
#[derive(Clone, Debug, Default)]
pub struct EffectVerdicts {
    /// Each effect layer's confidence, and whether it is right: at least half its alpha lies on
    /// the true effect (alpha > 0.02, grown 4 px for the penumbra's tail).
    pub layers: Vec<(f32, bool)>,
    /// The effect layers' alpha where the truth has no effect, as a share of the image's pixels.
    pub stray_alpha: f64,
}

pub fn effect_verdicts(truth: &Truth, effects: &[EffectLayer]) -> EffectVerdicts {
    let (w, h) = (truth.input.w, truth.input.h);
    let true_effect =
        Mask::from_bytes(w as u32, h as u32, truth.effects.pixels().iter().map(|p| (p[3] > 0.02) as u8).collect())
            .expect("sizes")
            .dilate(4.0);
    let mut stray = 0.0f64;
    let layers = effects
        .iter()
        .map(|fx| {
            let (mut on, mut off) = (0.0f64, 0.0f64);
            let pixels = &fx.layer.pixels;
            for (i, p) in pixels.pixels().iter().enumerate() {
                let (x, y) =
                    (fx.layer.x + (i as u32 % pixels.width()) as i32, fx.layer.y + (i as u32 / pixels.width()) as i32);
                if x < 0 || y < 0 || x >= w as i32 || y >= h as i32 || p[3] <= 0.0 {
                    continue;
                }
                if true_effect.get(x as u32, y as u32) {
                    on += p[3] as f64;
                } else {
                    off += p[3] as f64;
                }
            }
            stray += off;
            (fx.confidence, on > 0.0 && on >= off)
        })
        .collect();
    EffectVerdicts { layers, stray_alpha: stray / (w * h) as f64 }
}

/// What the verdicts add up to over a set: the controls' stray alpha, how many effect cases
/// come back with their residual within 1 ± 0.05, and the precision of the effects reported at
/// 50 % confidence or more.
pub fn summary(rows: &[CaseSummary<'_>]) -> String {
    let judged: Vec<(&CaseSummary<'_>, &EffectVerdicts)> = rows.iter().filter_map(|r| Some((r, r.verdicts?))).collect();
    if judged.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n");
    let controls: Vec<(&str, f64)> =
        judged.iter().filter(|(r, _)| r.scene == "none").map(|(r, v)| (r.case, 100.0 * v.stray_alpha)).collect();
    if !controls.is_empty() {
        let worst = controls.iter().map(|c| c.1).fold(0.0, f64::max);
        let over: Vec<String> =
            controls.iter().filter(|c| c.1 >= 0.5).map(|(name, a)| format!("{name} {a:.2} %")).collect();
        out.push_str(&format!(
            "no-effect controls ({}): effect alpha {:.3} % of the image on average, {worst:.3} % at most; at 0.5 % or more: {}\n",
            controls.len(),
            controls.iter().map(|c| c.1).sum::<f64>() / controls.len() as f64,
            if over.is_empty() { "none".to_string() } else { over.join(", ") },
        ));
    }
    let residuals: Vec<f64> = rows.iter().filter_map(|r| r.residual).collect();
    if !residuals.is_empty() {
        let within = residuals.iter().filter(|&&r| (r - 1.0).abs() <= 0.05).count();
        out.push_str(&format!(
            "residual within 1 ± 0.05: {within} of {} effect cases ({:.0} %)\n",
            residuals.len(),
            100.0 * within as f64 / residuals.len() as f64
        ));
    }
    let confident: Vec<bool> =
        judged.iter().flat_map(|(_, v)| v.layers.iter().filter(|(c, _)| *c >= 0.5).map(|&(_, right)| right)).collect();
    let all: usize = judged.iter().map(|(_, v)| v.layers.len()).sum();
    let right = confident.iter().filter(|&&r| r).count();
    out.push_str(&format!(
        "effects reported at ≥ 50 % confidence: {} of {all} layers, {right} right (precision {})\n",
        confident.len(),
        if confident.is_empty() { "–".to_string() } else { format!("{:.2}", right as f64 / confident.len() as f64) },
    ));
    out
}
