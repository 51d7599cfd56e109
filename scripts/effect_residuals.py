#!/usr/bin/env python3
"""Where a synthetic set's effect residual comes from: shadow the engine did not touch, or shadow
it relit too little.

The bench's residual is the mean predicted / true background luminance over the visible effect
(effect alpha > 0.1, outside the object's hole grown 8 px); 1.0 means the effect is gone. This
splits each case's effect region into the pixels the engine changed (relit) and those it left as
the photo shows them, gives the residual of each part, the residual the case would have if the
untouched part came back perfect, and the relit part's residual by depth of the true shadow.

    ./target/release/layerdecomp synth --wide --out /tmp/wide-tune --count 48 --seed 101
    for c in /tmp/wide-tune/case*; do
        ./target/release/layerdecomp decompose $c/input.png --mask $c/mask_object.png \
            --out /tmp/wide-tune-out/$(basename $c) --quiet
    done
    python3 scripts/effect_residuals.py /tmp/wide-tune /tmp/wide-tune-out
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

# A pixel counts as changed when its luminance moved by more than this (of 1.0).
CHANGED = 0.01
# Depth bins of the true effect alpha for the relit part.
DEPTHS = [0.1, 0.25, 0.4, 0.55, 1.01]
BAND = 0.05


def load(path):
    return np.asarray(Image.open(path).convert("RGBA")).astype(np.float64) / 255.0


def luminance(rgb):
    return 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]


def ratio(pred, true, where):
    return pred[where].mean() / true[where].mean() if where.any() else float("nan")


def main(cases, outputs):
    overall, if_fixed = [], []
    by_depth = {k: [0.0, 0.0, 0] for k in range(len(DEPTHS) - 1)}
    for case in sorted(p for p in Path(cases).iterdir() if (p / "meta.txt").exists()):
        meta = dict(line.split("=", 1) for line in (case / "meta.txt").read_text().splitlines() if "=" in line)
        if meta.get("effect", "none") == "none":
            continue
        photo = luminance(load(case / "input.png")[..., :3])
        truth = luminance(load(case / "background.png")[..., :3])
        effect = load(case / "effects.png")[..., 3]
        hole = ndimage.binary_dilation(load(case / "object.png")[..., 3] > 0, iterations=8)
        pred = luminance(load(Path(outputs) / case.name / "background.png")[..., :3])
        region = (effect > 0.1) & ~hole
        if not region.any():
            continue
        changed = np.abs(pred - photo) > CHANGED
        touched, untouched = region & changed, region & ~changed
        fixed = pred.copy()
        fixed[untouched] = truth[untouched]
        overall.append(ratio(pred, truth, region))
        if_fixed.append(ratio(fixed, truth, region))
        for k in by_depth:
            sel = touched & (effect >= DEPTHS[k]) & (effect < DEPTHS[k + 1])
            by_depth[k][0] += pred[sel].sum()
            by_depth[k][1] += truth[sel].sum()
            by_depth[k][2] += int(sel.sum())
        print(
            f"{case.name} {meta.get('variation', meta['effect']):<22} touched {touched.sum() / region.sum():4.0%}"
            f"  residual {overall[-1]:.3f}  relit part {ratio(pred, truth, touched):.3f}"
            f"  untouched part {ratio(pred, truth, untouched):.3f}  untouched made perfect {if_fixed[-1]:.3f}"
        )
    in_band = lambda values: np.mean(np.abs(np.array(values) - 1.0) <= BAND)
    print(f"\nresidual within 1 ± {BAND}: {in_band(overall):.0%} of {len(overall)} cases; "
          f"{in_band(if_fixed):.0%} if every untouched effect pixel came back perfect")
    for k, (p, t, n) in by_depth.items():
        if n:
            print(f"relit part, true effect alpha {DEPTHS[k]:.2f}–{min(DEPTHS[k + 1], 1.0):.2f}: residual {p / t:.3f} ({n} px)")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
