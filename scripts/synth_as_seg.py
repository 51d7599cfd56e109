#!/usr/bin/env python3
"""Lay synthetic cases (`layerdecomp synth --out SYNTH`) out as `layerdecomp bench --seg` and
`scripts/seg_peers.py` read real photos: per case `photo.png` (the input, lossless), `gt.png`
(the object's exact alpha, 16 bits) and `brush.png` (the case's object brush). Then the soft edge
is compared with closed-form matting on exact alpha:

    layerdecomp synth --out /tmp/synth --count 36 --seed 1
    python3 scripts/synth_as_seg.py /tmp/synth /tmp/synth-seg
    layerdecomp bench --seg /tmp/synth-seg --save-alpha /tmp/synth-alpha
    python3 scripts/seg_peers.py /tmp/synth-seg --matting /tmp/synth-alpha

Needs opencv-python-headless and numpy.
"""
import argparse
import os
import shutil

import cv2


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("synth")
    ap.add_argument("out")
    args = ap.parse_args()
    made = 0
    for name in sorted(os.listdir(args.synth)):
        case = os.path.join(args.synth, name)
        needed = [os.path.join(case, f) for f in ("input.png", "object.png", "mask_object.png")]
        if not all(os.path.exists(p) for p in needed):
            continue
        obj = cv2.imread(needed[1], cv2.IMREAD_UNCHANGED)
        if obj is None or obj.ndim != 3 or obj.shape[2] != 4:
            raise SystemExit(f"{needed[1]}: expected an RGBA image")
        dst = os.path.join(args.out, name)
        os.makedirs(dst, exist_ok=True)
        shutil.copyfile(needed[0], os.path.join(dst, "photo.png"))
        cv2.imwrite(os.path.join(dst, "gt.png"), obj[:, :, 3])
        shutil.copyfile(needed[2], os.path.join(dst, "brush.png"))
        made += 1
    if made == 0:
        raise SystemExit(f"{args.synth}: no synthetic cases (input.png, object.png, mask_object.png)")
    print(f"{made} cases laid out under {args.out}")


if __name__ == "__main__":
    main()
