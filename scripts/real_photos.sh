#!/usr/bin/env bash
# Decompose real photographs with real shadows, brushing only the object, and write contact
# sheets to docs/real-*.png. Sources (all from package registries, see data/SOURCES.md):
#   coffee.png, motorcycle_left.png: the scikit-image wheel (PyPI), via scripts/fetch_sources.sh
#   orange.jpg: OpenCV's sample data in Debian's opencv-doc package (apt-get download)
# The brushes are rough ellipses/polygons drawn by hand, as a user would brush.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -f data/sources/coffee.png ] || bash scripts/fetch_sources.sh
mkdir -p data/real
if [ ! -f data/real/orange.jpg ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download opencv-doc >/dev/null)
    dpkg-deb --fsys-tarfile "$tmp"/opencv-doc_*.deb | tar -xO ./usr/share/doc/opencv-doc/examples/data/orange.jpg > data/real/orange.jpg
    rm -rf "$tmp"
fi
cp data/sources/coffee.png data/sources/motorcycle_left.png data/real/
python3 - <<'PY'
from PIL import Image, ImageDraw
def brush(src, out, shapes):
    w, h = Image.open(src).size
    m = Image.new("L", (w, h), 0)
    d = ImageDraw.Draw(m)
    for kind, pts in shapes:
        (d.ellipse if kind == "ellipse" else d.polygon)(pts, fill=255)
    m.save(out)
brush("data/real/coffee.png", "data/real/coffee-brush.png", [("ellipse", [55, 0, 500, 410])])
brush("data/real/motorcycle_left.png", "data/real/motorcycle-brush.png", [("polygon", [
    (85, 195), (145, 145), (350, 145), (400, 105), (470, 88), (565, 105), (605, 180), (655, 268),
    (695, 380), (685, 462), (600, 468), (540, 428), (350, 448), (315, 445), (250, 408), (125, 398),
    (105, 300), (85, 240)])])
brush("data/real/orange.jpg", "data/real/orange-brush.png", [("ellipse", [28, 45, 472, 512])])
PY
cargo build --release
for name in coffee:coffee.png motorcycle:motorcycle_left.png orange:orange.jpg; do
    n=${name%%:*}; f=${name#*:}
    ./target/release/layerdecomp decompose "data/real/$f" --mask "data/real/$n-brush.png" \
        --out "data/real/$n-out" --sheet "docs/real-$n.png"
done
