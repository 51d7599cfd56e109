#!/usr/bin/env bash
# Fetch the real photographs the synthetic data set is built from into data/sources/ (not
# committed). They come from the scikit-image wheel on PyPI (its bundled sample data); see
# data/SOURCES.md for each image's origin and licence.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=data/sources
mkdir -p "$dest"
if [ -f "$dest/.complete" ]; then
    echo "sources already in $dest"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$tmp" "scikit-image==0.26.0"
python3 - "$tmp" "$dest" <<'PY'
import glob, sys, zipfile
tmp, dest = sys.argv[1], sys.argv[2]
wheel = glob.glob(tmp + "/scikit_image-*.whl")[0]
names = ["astronaut.png", "brick.png", "grass.png", "gravel.png", "coffee.png", "chelsea.png",
         "rocket.jpg", "motorcycle_left.png", "camera.png", "coins.png", "hubble_deep_field.jpg"]
with zipfile.ZipFile(wheel) as z:
    for n in names:
        with z.open("skimage/data/" + n) as src, open(dest + "/" + n, "wb") as out:
            out.write(src.read())
print("extracted", len(names), "photos into", dest)
PY
touch "$dest/.complete"
