#!/usr/bin/env python3
"""Render assets/sample.jpg: an orange ball on a wooden floor in front of a plaster wall, lit by
a soft sun from the upper left so it casts a visible soft shadow (plus a contact shadow).

Our own rendering, dedicated to the public domain (CC0). Needs numpy and Pillow.
Usage: python3 assets/render_sample.py [--no-object] [--out PATH] [--width W --height H]
`--no-object` renders the same scene without the ball (the ground-truth clean background).
"""
import argparse

import numpy as np
from PIL import Image


def normalize(v):
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def smoothstep(e0, e1, x):
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3 - 2 * t)


def value_noise(x, y, seed):
    """Smooth 2-D value noise from a hashed lattice (no external libraries)."""
    rng = np.random.default_rng(seed)
    table = rng.random((256, 256))
    xi, yi = np.floor(x).astype(int), np.floor(y).astype(int)
    xf, yf = x - xi, y - yi
    u, v = xf * xf * (3 - 2 * xf), yf * yf * (3 - 2 * yf)

    def at(i, j):
        return table[i % 256, j % 256]

    a = at(xi, yi) * (1 - u) + at(xi + 1, yi) * u
    b = at(xi, yi + 1) * (1 - u) + at(xi + 1, yi + 1) * u
    return a * (1 - v) + b * v


def fbm(x, y, seed, octaves=4):
    total, amp = 0.0, 0.5
    for o in range(octaves):
        total = total + amp * value_noise(x * 2 ** o, y * 2 ** o, seed + o)
        amp *= 0.5
    return total


def render(width, height, with_object, ss=2):
    W, H = width * ss, height * ss
    cam = np.array([0.0, 1.25, -4.2])
    target = np.array([0.0, 0.45, 0.6])
    fwd = normalize(target - cam)
    right = normalize(np.cross(np.array([0.0, 1.0, 0.0]), fwd))
    up = np.cross(fwd, right)
    fov = np.radians(38)
    px = (np.arange(W) + 0.5) / W * 2 - 1
    py = 1 - (np.arange(H) + 0.5) / H * 2
    sx, sy = np.meshgrid(px * np.tan(fov / 2) * W / H, py * np.tan(fov / 2))
    dirs = normalize(fwd + sx[..., None] * right + sy[..., None] * up)

    sun = normalize(np.array([-0.55, 0.75, -0.35]))  # towards the light, upper left, from the camera side
    sun_radius = 0.06  # angular radius: a soft penumbra
    sun_col = np.array([1.0, 0.93, 0.82]) * 1.9
    sky_col = np.array([0.55, 0.62, 0.75]) * 0.55
    centre, radius = np.array([0.15, 0.55, 0.7]), 0.55
    wall_z = 2.6

    t_floor = np.where(dirs[..., 1] < -1e-6, -cam[1] / np.minimum(dirs[..., 1], -1e-6), np.inf)
    t_wall = np.where(dirs[..., 2] > 1e-6, (wall_z - cam[2]) / np.maximum(dirs[..., 2], 1e-6), np.inf)
    oc = cam - centre
    b = np.sum(dirs * oc, axis=-1)
    disc = b * b - (np.dot(oc, oc) - radius * radius)
    t_ball = np.where(disc > 0, -b - np.sqrt(np.maximum(disc, 0)), np.inf)
    if not with_object:
        t_ball[:] = np.inf
    t = np.minimum(np.minimum(t_floor, t_wall), t_ball)
    hit = cam + dirs * t[..., None]
    img = np.zeros((H, W, 3))

    def sun_visibility(p, n):
        """Fraction of the sun disc not hidden by the ball (disc overlap approximation)."""
        if not with_object:
            return np.ones(p.shape[:-1])
        to_c = centre - p
        d = np.linalg.norm(to_c, axis=-1)
        ang_ball = np.arcsin(np.clip(radius / d, 0, 1))
        ang = np.arccos(np.clip(np.sum(normalize(to_c) * sun, axis=-1), -1, 1))
        occluded = smoothstep(ang_ball + sun_radius, ang_ball - sun_radius, ang)
        return 1 - occluded

    def ambient_occlusion(p, n):
        if not with_object:
            return np.ones(p.shape[:-1])
        to_c = centre - p
        d2 = np.sum(to_c * to_c, axis=-1)
        cos = np.clip(np.sum(normalize(to_c) * n, axis=-1), 0, 1)
        return 1 - 0.85 * cos * np.clip(radius * radius / d2, 0, 1)

    # Floor: planks running away from the camera, each with its own tone and grain.
    m = (t == t_floor) & np.isfinite(t)
    if m.any():
        p = hit[m]
        plank_w = 0.32
        plank = np.floor(p[:, 0] / plank_w)
        seam_x = np.abs(p[:, 0] / plank_w - np.round(p[:, 0] / plank_w))
        end = np.floor(p[:, 2] / 1.7 + (plank % 3) * 0.37)
        seam_z = np.abs(p[:, 2] / 1.7 + (plank % 3) * 0.37 - np.round(p[:, 2] / 1.7 + (plank % 3) * 0.37))
        rng = np.random.default_rng(7)
        tones = rng.uniform(0.8, 1.15, 4096)
        tone = tones[((plank * 31 + end * 7) % 4096).astype(int)]
        grain = fbm(p[:, 0] * 40 + plank * 13.1, p[:, 2] * 3, 11)
        rings = 0.5 + 0.5 * np.sin((p[:, 0] * 90 + grain * 14 + plank * 5.0))
        base = np.array([0.55, 0.36, 0.2])
        albedo = base * tone[:, None] * (0.82 + 0.18 * rings[:, None]) * (0.9 + 0.2 * grain[:, None])
        seam = np.minimum(smoothstep(0.0, 0.012, seam_x), smoothstep(0.0, 0.004, seam_z))
        albedo = albedo * (0.45 + 0.55 * seam[:, None])
        n = np.array([0.0, 1.0, 0.0])
        vis = sun_visibility(p, n)
        ao = ambient_occlusion(p, n)
        light = sun_col * (sun[1] * vis)[:, None] + sky_col * ao[:, None]
        img[m] = albedo * light

    # Wall: warm plaster with a soft mottle and a skirting board.
    m = (t == t_wall) & np.isfinite(t)
    if m.any():
        p = hit[m]
        mottle = fbm(p[:, 0] * 6, p[:, 1] * 6, 23)
        albedo = np.array([0.78, 0.74, 0.66]) * (0.92 + 0.12 * mottle)[:, None]
        skirting = p[:, 1] < 0.12
        albedo[skirting] = np.array([0.85, 0.84, 0.8])
        n = np.array([0.0, 0.0, -1.0])
        vis = sun_visibility(p, n)
        cos = max(float(np.dot(n, sun)), 0.0)
        light = sun_col * (cos * vis)[:, None] * 0.9 + sky_col * ambient_occlusion(p, n)[:, None] * 1.1
        img[m] = albedo * light

    # Ball: glossy orange with a soft highlight.
    m = (t == t_ball) & np.isfinite(t)
    if m.any():
        p = hit[m]
        n = normalize(p - centre)
        stripe = smoothstep(0.02, 0.035, np.abs(n[:, 1] * 0.8 + n[:, 0] * 0.6))
        albedo = np.array([0.85, 0.33, 0.07]) * (0.35 + 0.65 * stripe[:, None])
        lam = np.clip(n @ sun, 0, 1)
        sky = 0.5 + 0.5 * n[:, 1]
        # The floor bounces a little warm light onto the ball's underside.
        bounce = np.clip(-n[:, 1], 0, 1)[:, None] * np.array([0.25, 0.16, 0.09])
        h = normalize(sun - dirs[m])
        spec = np.clip(np.sum(n * h, axis=-1), 0, 1) ** 60 * 0.9
        img[m] = albedo * (sun_col * lam[:, None] + sky_col * sky[:, None] + bounce) + spec[:, None]

    # Tone map, downsample, vignette, grain, sRGB.
    img = img / (1 + img * 0.35)
    img = img.reshape(height, ss, width, ss, 3).mean(axis=(1, 3))
    yy, xx = np.mgrid[0:height, 0:width]
    r2 = ((xx / width - 0.5) ** 2 + (yy / height - 0.5) ** 2) * 2
    img *= (1 - 0.25 * r2)[..., None]
    img += np.random.default_rng(5).normal(0, 0.006, img.shape)
    img = np.clip(img, 0, 1) ** (1 / 2.2)
    return (img * 255 + 0.5).astype(np.uint8)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-object", action="store_true")
    ap.add_argument("--out", default=None)
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--height", type=int, default=800)
    args = ap.parse_args()
    out = args.out or ("assets/sample-background.jpg" if args.no_object else "assets/sample.jpg")
    pixels = render(args.width, args.height, not args.no_object)
    image = Image.fromarray(pixels)
    if out.lower().endswith((".jpg", ".jpeg")):
        image.save(out, quality=92)
    else:
        image.save(out)
    print("wrote", out)


if __name__ == "__main__":
    main()
