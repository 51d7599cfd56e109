#!/usr/bin/env python3
"""Independent PSD reader for the tests: open a PSD with psd-tools, composite it from its layers
(not from the merged preview), save the composite as PNG and print the layers as JSON.
Usage: psd_tools_read.py IN.psd OUT.png"""
import json
import sys

from psd_tools import PSDImage

psd = PSDImage.open(sys.argv[1])
image = psd.composite(ignore_preview=True)
image.convert("RGBA").save(sys.argv[2])
layers = [
    {
        "name": layer.name,
        "bbox": list(layer.bbox),
        "blend": str(layer.blend_mode),
        "opacity": layer.opacity,
        "visible": layer.visible,
    }
    for layer in psd
]
print(json.dumps({"width": psd.width, "height": psd.height, "layers": layers}))
