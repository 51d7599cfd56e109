#!/usr/bin/env python3
"""Run the offline peers a user would pick instead — OpenCV's Telea and Navier-Stokes
inpainting (pip install opencv-python-headless) — on every synthetic case, write their
backgrounds to CASE/peer-NAME-MODE/background.png, then score them with the very same code as
our engine (`layerdecomp bench DIR --peer NAME`).

Usage: python3 scripts/bench_peers.py DIR [--mask object|full] [--radius 5] [--bin PATH]
"""
import argparse
import glob
import os
import subprocess
import sys
import time

import cv2
import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--mask", default="object", choices=["object", "full"])
    ap.add_argument("--radius", type=float, default=5.0)
    ap.add_argument("--bin", default="target/release/layerdecomp")
    args = ap.parse_args()
    cases = sorted(d for d in glob.glob(os.path.join(args.dir, "case*")) if os.path.isfile(os.path.join(d, "input.png")))
    if not cases:
        sys.exit(f"{args.dir}: no cases")
    peers = {"opencv-telea": cv2.INPAINT_TELEA, "opencv-ns": cv2.INPAINT_NS}
    seconds = {name: 0.0 for name in peers}
    for case in cases:
        img = cv2.imread(os.path.join(case, "input.png"), cv2.IMREAD_COLOR)
        mask = cv2.imread(os.path.join(case, f"mask_{args.mask}.png"), cv2.IMREAD_GRAYSCALE)
        mask = (mask > 0).astype(np.uint8) * 255
        for name, flag in peers.items():
            t = time.time()
            out = cv2.inpaint(img, mask, args.radius, flag)
            seconds[name] += time.time() - t
            dest = os.path.join(case, f"peer-{name}-{args.mask}")
            os.makedirs(dest, exist_ok=True)
            cv2.imwrite(os.path.join(dest, "background.png"), out)
    for name in peers:
        print(f"{name}: {seconds[name] / len(cases):.3f} s per case", file=sys.stderr)
        subprocess.run([args.bin, "bench", args.dir, "--mask", args.mask, "--peer", name], check=True)


if __name__ == "__main__":
    main()
