#!/usr/bin/env python3
"""Regenerate the import test corpus in this folder (small files, committed).
Needs numpy and Pillow. Run from anywhere: python3 tests/corpus/make_corpus.py"""
import io
import os
import struct
import zlib

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_bytes(width, height, bit_depth, color_type, raw_rows):
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    data = b"".join(b"\x00" + row for row in raw_rows)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(data)) + chunk(b"IEND", b"")


def gradient(w, h):
    x = np.linspace(0, 1, w)[None, :].repeat(h, 0)
    y = np.linspace(0, 1, h)[:, None].repeat(w, 1)
    return x, y


def main():
    w, h = 64, 48
    x, y = gradient(w, h)
    rgb = (np.stack([x, y, 1 - x], -1) * 255).round().astype(np.uint8)
    good = io.BytesIO()
    Image.fromarray(rgb).save(good, "PNG")
    good = good.getvalue()

    # Broken files.
    open(path("truncated.png"), "wb").write(good[: len(good) // 2])
    jpeg = io.BytesIO()
    Image.fromarray(rgb).save(jpeg, "JPEG", quality=90)
    jpeg = jpeg.getvalue()
    # Cut inside the entropy-coded data: decoders fill the rest, so this imports with a warning.
    open(path("truncated.jpg"), "wb").write(jpeg[: len(jpeg) * 2 // 3])
    # Corrupt the Huffman tables: no decoder can make pixels of this.
    bad = bytearray(jpeg)
    dht = bad.find(b"\xff\xc4")
    for i in range(dht + 5, dht + 40):
        bad[i] = 0xFF
    open(path("corrupt.jpg"), "wb").write(bytes(bad))
    open(path("zero-size.png"), "wb").write(png_bytes(0, 0, 8, 2, []))
    # A valid header claiming 100000×100000 pixels (30 GB of RGB) with one tiny IDAT.
    open(path("huge-header.png"), "wb").write(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\x00" * 301))
        + chunk(b"IEND", b"")
    )
    open(path("not-an-image.png"), "wb").write(b"This is a text file, not a picture.\n" * 4)
    open(path("empty.png"), "wb").write(b"")

    # Good files of every depth and layout.
    gray16 = (x * 65535).round().astype(">u2")
    open(path("gray16.png"), "wb").write(png_bytes(w, h, 16, 0, [gray16[r].tobytes() for r in range(h)]))
    Image.fromarray((y * 255).round().astype(np.uint8), "L").save(path("gray8.png"))
    rgba16 = np.stack([x, y, 1 - x, 0.25 + 0.75 * y], -1)
    rgba16 = (rgba16 * 65535).round().astype(">u2")
    open(path("rgba16.png"), "wb").write(png_bytes(w, h, 16, 6, [rgba16[r].tobytes() for r in range(h)]))
    rgba8 = np.dstack([rgb, (y * 255).round().astype(np.uint8)])
    Image.fromarray(rgba8, "RGBA").save(path("rgba8.png"))
    Image.fromarray(rgb).save(path("rgb.webp"), lossless=True)
    Image.fromarray(rgb).save(path("rgb.tiff"))
    Image.fromarray(rgb).save(path("rgb.bmp"))

    # EXIF orientation 6 (rotate 90° clockwise to display): stored 40×20, left half red, right
    # half blue; displayed 20×40 with red on top.
    stored = np.zeros((20, 40, 3), np.uint8)
    stored[:, :20] = [255, 0, 0]
    stored[:, 20:] = [0, 0, 255]
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(path("exif-rotated.jpg"), "JPEG", quality=95, exif=exif.tobytes())

    # A PNG carrying a (minimal) non-sRGB ICC profile: imported as sRGB with a warning.
    desc = b"Display P3\x00"
    tag = b"desc\x00\x00\x00\x00" + struct.pack(">I", len(desc)) + desc
    profile = bytearray(128) + struct.pack(">I", 1) + b"desc" + struct.pack(">II", 144, len(tag)) + tag
    struct.pack_into(">I", profile, 0, len(profile))
    Image.fromarray(rgb).save(path("display-p3.png"), icc_profile=bytes(profile))
    print("corpus written to", HERE)


if __name__ == "__main__":
    main()
