"""Makes the image fixtures of Tests/PipelineTests/Images and PIL's expected pixels.

Run from anywhere with the project's torch venv (pillow, numpy):

    /work/venv-torch/bin/python Tests/Fixtures/images/make_images.py

Every `<name>.u8` file holds the raw pixels PIL decodes from `<name>` (after `convert("RGB")` or
`convert("L")`), `H×W×C` interleaved, row-major, no header. The dimensions are in the Swift tests.
`resized-<W>x<H>.u8` is `photo.png` resized by PIL (`Image.resize((W, H), BILINEAR)`, uint8 RGB);
`resized-<W>x<H>.f32` is `gray.png` as float32 (mode "F") resized the same way, little-endian.
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent
WIDTH, HEIGHT = 64, 48
RESIZES = [(32, 24), (25, 19), (72, 54), (80, 30)]


def photo() -> Image.Image:
    """A photo-like RGB image: a smooth two-axis gradient, a disc, a bar and some grain."""
    y, x = np.mgrid[0:HEIGHT, 0:WIDTH].astype(np.float64)
    rgb = np.stack([255 * x / (WIDTH - 1), 255 * y / (HEIGHT - 1), 128 + 100 * np.sin(x / 7 + y / 5)], -1)
    rgb += np.random.default_rng(7).normal(0, 6, rgb.shape)
    image = Image.fromarray(np.clip(rgb, 0, 255).round().astype(np.uint8))
    draw = ImageDraw.Draw(image)
    draw.ellipse((8, 6, 30, 28), fill=(250, 240, 40))
    draw.rectangle((38, 20, 58, 42), fill=(20, 30, 160))
    draw.line((0, 47, 63, 10), fill=(255, 255, 255), width=2)
    return image


def save_pixels(image: Image.Image, name: str) -> None:
    (HERE / name).write_bytes(np.asarray(image).tobytes())


def main() -> None:
    rgb = photo()
    gray = rgb.convert("L")

    rgb.save(HERE / "photo.png")
    save_pixels(rgb, "photo.png.u8")
    save_pixels(gray, "photo.gray.u8")  # PIL's convert("L") of photo.png, also gray.png's pixels
    gray.save(HERE / "gray.png")

    rgb.save(HERE / "photo.jpg", quality=90)  # baseline, 4:2:0
    rgb.save(HERE / "progressive.jpg", quality=85, progressive=True)
    gray.save(HERE / "gray.jpg", quality=90)
    for name in ["photo.jpg", "progressive.jpg", "gray.jpg"]:
        with Image.open(HERE / name) as decoded:
            save_pixels(decoded.convert("L" if decoded.mode == "L" else "RGB"), name + ".u8")
    rgb.convert("CMYK").save(HERE / "cmyk.jpg", quality=90)
    jpeg = (HERE / "photo.jpg").read_bytes()
    (HERE / "truncated.jpg").write_bytes(jpeg[: len(jpeg) * 3 // 5])

    # RGBA: alpha falls from 255 at the top to 0 at the bottom; PIL's convert("RGB") drops it.
    alpha = np.repeat(np.linspace(255, 0, HEIGHT).round().astype(np.uint8)[:, None], WIDTH, 1)
    rgba = rgb.copy()
    rgba.putalpha(Image.fromarray(alpha))
    rgba.save(HERE / "rgba.png")
    save_pixels(rgba.convert("RGB"), "rgba.png.u8")

    palette = rgb.quantize(16)
    palette.save(HERE / "palette.png")
    save_pixels(palette.convert("RGB"), "palette.png.u8")

    # 16-bit grey (no gAMA chunk): v·257 plus an offset that exercises the rounding to 8 bits.
    wide = np.asarray(gray).astype(np.uint32) * 257 + (np.arange(WIDTH * HEIGHT).reshape(HEIGHT, WIDTH) % 257)
    wide = np.clip(wide, 0, 65535).astype(np.uint16)
    Image.fromarray(wide).save(HERE / "gray16.png")
    (HERE / "gray16.png.u8").write_bytes(((wide.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8).tobytes())

    rgb.save(HERE / "photo.gif")  # a real image in a format the decoder does not read

    floats = Image.fromarray(np.asarray(gray).astype(np.float32))
    for width, height in RESIZES:
        save_pixels(rgb.resize((width, height), Image.Resampling.BILINEAR), f"resized-{width}x{height}.u8")
        resized = np.asarray(floats.resize((width, height), Image.Resampling.BILINEAR), dtype="<f4")
        (HERE / f"resized-{width}x{height}.f32").write_bytes(resized.tobytes())


if __name__ == "__main__":
    main()
