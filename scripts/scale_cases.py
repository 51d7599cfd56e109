#!/usr/bin/env python3
"""Scale synthetic cases (folders written by `layerdecomp synth`) to a large photo size, for the
large-photo timings and scores in docs/BENCHMARKS.md (`layerdecomp bench OUT` reads the result;
`decompose OUT/caseNNN/input.png --mask OUT/caseNNN/mask_object.png` times one).

    python3 scripts/scale_cases.py data/synth /tmp/big12 4000x3000 case000 case002 case004

Photos and layers are resized bicubically (the truth's layers stay consistent with the photo to
within resampling), brushes with nearest neighbour. Needs opencv-python-headless (PyPI).
"""
import os
import shutil
import sys

import cv2

LAYERS = ["input", "background", "object", "effects", "mask_object", "mask_full"]


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    src, dst, size, cases = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    w, h = (int(v) for v in size.split("x"))
    for case in cases:
        os.makedirs(os.path.join(dst, case), exist_ok=True)
        for name in LAYERS:
            img = cv2.imread(os.path.join(src, case, name + ".png"), cv2.IMREAD_UNCHANGED)
            if img is None:
                sys.exit(f"{src}/{case}/{name}.png: cannot read it")
            interp = cv2.INTER_NEAREST if name.startswith("mask") else cv2.INTER_CUBIC
            cv2.imwrite(os.path.join(dst, case, name + ".png"), cv2.resize(img, (w, h), interpolation=interp))
        shutil.copy(os.path.join(src, case, "meta.txt"), os.path.join(dst, case, "meta.txt"))
    print(f"wrote {len(cases)} cases at {w}x{h} to {dst}")


if __name__ == "__main__":
    main()
