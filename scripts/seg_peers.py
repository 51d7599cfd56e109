#!/usr/bin/env python3
"""Peers for `layerdecomp bench --seg`: OpenCV's GrabCut from the same loose brush, scored the
same way (the cut against gt.png: mIoU, share under IoU 0.8, error %), and — with --matting —
the soft edge of closed-form matting (pymatting) run on a trimap made from a cut (±8 px),
against the cut's own alpha saved by `layerdecomp bench --seg DIR --save-alpha ALPHA_DIR`.

    python3 scripts/seg_peers.py ../shared/realdata/seg-davis [--limit N]
    python3 scripts/seg_peers.py ../shared/realdata/seg-davis --matting ALPHA_DIR

Needs opencv-python-headless and numpy (and pymatting for --matting). The data stays outside
the repository (research terms).
"""
import argparse
import os
import time

import cv2
import numpy as np


def photo_path(d):
    """photo.jpg (real photos), else the lossless photo.png (scripts/synth_as_seg.py)."""
    for name in ("photo.jpg", "photo.png"):
        if os.path.exists(os.path.join(d, name)):
            return os.path.join(d, name)
    return None


def folders(root):
    out = []
    for name in sorted(os.listdir(root)):
        d = os.path.join(root, name)
        if photo_path(d) and all(os.path.exists(os.path.join(d, f)) for f in ("gt.png", "brush.png")):
            out.append(d)
    return out


def read_truth(d):
    """The ground truth as alpha in [0, 1]: 0/1 for real photos, the exact soft alpha for
    synthetic cases (8 or 16 bits)."""
    gt = cv2.imread(os.path.join(d, "gt.png"), cv2.IMREAD_UNCHANGED)
    if gt.ndim == 3:
        gt = gt[:, :, 0]
    return gt.astype(np.float64) / np.iinfo(gt.dtype).max


def score(cut, truth):
    inter = np.logical_and(cut, truth).sum()
    union = np.logical_or(cut, truth).sum()
    iou = 1.0 if union == 0 else inter / union
    return iou, 100.0 * np.not_equal(cut, truth).mean()


def grabcut(img, brush, iterations=5):
    mask = np.where(brush, cv2.GC_PR_FGD, cv2.GC_BGD).astype(np.uint8)
    bgd, fgd = np.zeros((1, 65), np.float64), np.zeros((1, 65), np.float64)
    cv2.grabCut(img, mask, None, bgd, fgd, iterations, cv2.GC_INIT_WITH_MASK)
    return np.isin(mask, (cv2.GC_FGD, cv2.GC_PR_FGD))


def edge_band(truth, width=8):
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * width + 1, 2 * width + 1))
    t = truth.astype(np.uint8)
    return cv2.dilate(t, k) > cv2.erode(t, k)


def matting_report(root, alpha_dir, limit):
    from pymatting import estimate_alpha_cf

    sad_ours, sad_cf = [], []
    for d in folders(root)[:limit]:
        name = os.path.basename(d)
        ours_path = os.path.join(alpha_dir, f"{name}.png")
        if not os.path.exists(ours_path):
            continue
        img = cv2.imread(photo_path(d))[:, :, ::-1].astype(np.float64) / 255
        truth = read_truth(d)
        ours = cv2.imread(ours_path, cv2.IMREAD_UNCHANGED).astype(np.float64) / 65535
        cut = (ours >= 0.5).astype(np.uint8)
        k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (17, 17))
        trimap = np.full(cut.shape, 0.5)
        trimap[cv2.erode(cut, k) > 0] = 1.0
        trimap[cv2.dilate(cut, k) == 0] = 0.0
        cf = estimate_alpha_cf(img, trimap)
        band = edge_band(truth >= 0.5)
        sad_ours.append(np.abs(ours - truth)[band].sum() / 1000)
        sad_cf.append(np.abs(cf - truth)[band].sum() / 1000)
        print(f"{name}: SAD over the edge band, ours {sad_ours[-1]:.2f}, closed-form on our trimap {sad_cf[-1]:.2f}", flush=True)
    print(f"\n{len(sad_ours)} photos: mean SAD (thousands) over the ground truth's ±8 px edge band: "
          f"our alpha {np.mean(sad_ours):.2f}, closed-form matting on a trimap from our cut {np.mean(sad_cf):.2f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root")
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--matting", metavar="ALPHA_DIR")
    args = ap.parse_args()
    if args.matting:
        matting_report(args.root, args.matting, args.limit)
        return
    cv2.setNumThreads(os.cpu_count())
    rows = []
    for d in folders(args.root)[:args.limit]:
        img = cv2.imread(photo_path(d))
        truth = read_truth(d) >= 0.5
        brush = cv2.imread(os.path.join(d, "brush.png"), cv2.IMREAD_GRAYSCALE) > 0
        t0 = time.perf_counter()
        cut = grabcut(img, brush)
        seconds = time.perf_counter() - t0
        iou, err = score(cut, truth)
        rows.append((iou, err, seconds))
        print(f"{os.path.basename(d)}: IoU {iou:.3f}, error {err:.2f} %, {seconds:.2f} s", flush=True)
    ious = np.array([r[0] for r in rows])
    print("\n| cut | mIoU | IoU < 0.8 | IoU < 0.3 | error % | s / photo |\n|---|---|---|---|---|---|")
    print(f"| OpenCV {cv2.__version__} GrabCut from the brush, 5 iterations | {ious.mean():.3f} | "
          f"{100 * (ious < 0.8).mean():.1f} % | {(ious < 0.3).sum()} | {np.mean([r[1] for r in rows]):.2f} | "
          f"{np.mean([r[2] for r in rows]):.2f} |")


if __name__ == "__main__":
    main()
