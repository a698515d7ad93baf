"""Regenerates docs/figures/maps.png: three Fashion-MNIST test images and their six maps.

Run from the repository root after `swift build` (needs Pillow, e.g. the tools venv):
    .build/debug/saliencyd explain --format png --out /tmp/maps-figure \
        models/samples/0-ankle-boot.png models/samples/4-shirt.png models/samples/2-trouser.png
    python tools/docs/make_maps_figure.py /tmp/maps-figure
"""
import sys

from PIL import Image, ImageDraw

METHODS = ["vanilla", "positive", "negative", "active", "inactive", "signed"]
STEMS = ["0-ankle-boot", "4-shirt", "2-trouser"]
SIZE, PAD, TOP = 6 * 28, 6, 22


def main(folder: str) -> None:
    width = (len(METHODS) + 1) * (SIZE + PAD)
    figure = Image.new("RGB", (width, TOP + len(STEMS) * (SIZE + PAD)), "white")
    draw = ImageDraw.Draw(figure)
    for column, name in enumerate(["input"] + METHODS):
        draw.text((column * (SIZE + PAD) + SIZE // 2 - 20, 4), name, fill="black")
    for row, stem in enumerate(STEMS):
        tiles = [Image.open(f"models/samples/{stem}.png").convert("RGB")]
        tiles += [Image.open(f"{folder}/{stem}.{method}.png") for method in METHODS]
        for column, tile in enumerate(tiles):
            figure.paste(tile.resize((SIZE, SIZE), Image.NEAREST), (column * (SIZE + PAD), TOP + row * (SIZE + PAD)))
    figure.save("docs/figures/maps.png")


if __name__ == "__main__":
    main(sys.argv[1])
