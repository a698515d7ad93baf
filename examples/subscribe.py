#!/usr/bin/env python3
"""Subscribe to saliencyd's signed-map messages, turn them into numpy arrays, save PNGs.

    python3 examples/subscribe.py --endpoint tcp://127.0.0.1:5560 --out maps --count 10

Needs pyzmq, numpy and Pillow (`pip install pyzmq numpy Pillow`). docs/protocol.md specifies
the messages; in short, every message is

    frame 0   topic: saliency/<source> (maps) or saliency/error/<source> (error event)
    frame 1   UTF-8 JSON header, schema "saliencyd.maps/1" or "saliencyd.error/1"
    frame 2…  one frame per map listed in header["maps"]: H×W, row-major, little-endian,
              float32, float16, or uint8 scaled between the map's "min" and "max"

For each maps message this prints one line and writes `<out>/<source>-<seq>.<map>.png` per map
(sequential viridis-like colours for unsigned maps, blue–white–red around 0 for signed ones) and
`<out>/<source>-<seq>.json` with the header. Error events (rejected input) print one line too.
"""

import argparse
import json
import os
import sys
import time

import numpy as np
import zmq
from PIL import Image

MAPS_SCHEMA = "saliencyd.maps/1"
ERROR_SCHEMA = "saliencyd.error/1"
_DTYPES = {"float32": np.dtype("<f4"), "float16": np.dtype("<f2"), "uint8": np.dtype("u1")}


class MalformedMessage(ValueError):
    """A message that does not follow docs/protocol.md."""


def decode_map(description, frame):
    """One map frame as an H×W float32 array, following its header entry `description`.

    float32 and float16 frames are read as little-endian floats; a uint8 frame holds
    round(255·(v − min)/(max − min)), so v ≈ min + byte·(max − min)/255 (all bytes are 0 when
    max = min, which restores a constant map exactly).
    """
    name, dtype = description["name"], description["dtype"]
    height, width = int(description["height"]), int(description["width"])
    if dtype not in _DTYPES:
        raise MalformedMessage(f"map {name}: unknown dtype {dtype!r}")
    expected = height * width * _DTYPES[dtype].itemsize
    if len(frame) != expected:
        raise MalformedMessage(f"map {name}: {len(frame)} bytes, but {width}×{height} {dtype} needs {expected}")
    raw = np.frombuffer(frame, dtype=_DTYPES[dtype]).reshape(height, width)
    if dtype == "uint8":
        low, high = np.float32(description["min"]), np.float32(description["max"])
        return low + raw.astype(np.float32) * ((high - low) / np.float32(255))
    return raw.astype(np.float32)


def parse_message(frames):
    """A received multipart message as ("maps", topic, header, {name: array}) or
    ("error", topic, header, {})."""
    if len(frames) < 2:
        raise MalformedMessage(f"{len(frames)} frame(s); a message has a topic and a header")
    topic = bytes(frames[0]).decode("utf-8", errors="replace")
    try:
        header = json.loads(bytes(frames[1]))
    except ValueError as error:
        raise MalformedMessage(f"the header is not JSON: {error}") from None
    schema = header.get("schema") if isinstance(header, dict) else None
    if schema == ERROR_SCHEMA:
        return "error", topic, header, {}
    if schema != MAPS_SCHEMA:
        raise MalformedMessage(f"unknown schema {schema!r}")
    descriptions = header["maps"]
    if len(frames) != 2 + len(descriptions):
        raise MalformedMessage(f"the header lists {len(descriptions)} maps but {len(frames) - 2} map frames followed")
    maps = {d["name"]: decode_map(d, bytes(frame)) for d, frame in zip(descriptions, frames[2:])}
    return "maps", topic, header, maps


# Sequential: matplotlib's viridis at 9 anchors. Diverging: ColorBrewer RdBu, blue < 0 < red.
_VIRIDIS = np.array([[68, 1, 84], [71, 44, 122], [59, 81, 139], [44, 113, 142], [33, 144, 141],
                     [39, 173, 129], [92, 200, 99], [170, 220, 50], [253, 231, 37]], dtype=np.float32)
_RED_BLUE = np.array([[5, 48, 97], [33, 102, 172], [67, 147, 195], [146, 197, 222], [209, 229, 240],
                      [247, 247, 247], [253, 219, 199], [244, 165, 130], [214, 96, 77], [178, 24, 43],
                      [103, 0, 31]], dtype=np.float32)


def colorize(values, signed):
    """An H×W map as an H×W×3 uint8 RGB image: min–max scaled through viridis, or (signed)
    divided by its largest |value| and coloured blue (negative) – white (0) – red (positive)."""
    values = np.nan_to_num(np.asarray(values, dtype=np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    if signed:
        scale = float(np.abs(values).max()) if values.size else 0.0
        t = (values / scale + 1) / 2 if scale > 0 else np.full(values.shape, 0.5, np.float32)
        anchors = _RED_BLUE
    else:
        low, high = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
        t = (values - low) / (high - low) if high > low else np.zeros(values.shape, np.float32)
        anchors = _VIRIDIS
    position = np.clip(t, 0, 1) * (len(anchors) - 1)
    lower = np.minimum(position.astype(np.int64), len(anchors) - 2)
    fraction = (position - lower)[..., None]
    rgb = anchors[lower] + (anchors[lower + 1] - anchors[lower]) * fraction
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)


def save_png(values, path, signed, zoom):
    image = Image.fromarray(colorize(values, signed))
    if zoom > 1:
        image = image.resize((image.width * zoom, image.height * zoom), Image.Resampling.NEAREST)
    image.save(path)


def _safe(text):
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text))


def handle(frames, out, zoom, received_ns=None):
    """Parses, saves and describes one message received at `received_ns` (Unix ns); returns
    the line to print."""
    kind, topic, header, maps = parse_message(frames)
    if kind == "error":
        msg = f" msg {json.dumps(header['msg'])}" if "msg" in header else ""
        return f"{header['source']} seq {header['seq']}: ERROR {header['reason']}: {header['detail']}{msg}  [{topic}]"
    stem = os.path.join(out, f"{_safe(header['source'])}-{int(header['seq']):06d}")
    with open(stem + ".json", "w", encoding="utf-8") as file:
        json.dump(header, file, indent=1, sort_keys=True)
    for name, values in maps.items():
        save_png(values, f"{stem}.{_safe(name)}.png", signed=name == "signed" or float(values.min()) < 0, zoom=zoom)
    predicted = header["predicted"]
    latency_ms = ((received_ns or time.time_ns()) - int(header["t_received"])) / 1e6
    ranges = ", ".join(f"{name} {values.min():.3g}…{values.max():.3g}" for name, values in maps.items())
    return (f"{header['source']} seq {header['seq']}: {predicted['label']} (class {predicted['index']}, "
            f"{predicted['score']:.3f})  latency {latency_ms:.1f} ms (queue {header['queue_ms']:.1f}, "
            f"compute {header['compute_ms']:.1f}, batch {header['batch']})  msg {json.dumps(header['msg'])}  "
            f"maps [{ranges}] → {stem}.*.png")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--endpoint", default="tcp://127.0.0.1:5560", help="serve's output endpoint (default: %(default)s)")
    parser.add_argument("--out", default="maps", help="folder for the PNGs and headers (default: %(default)s)")
    parser.add_argument("--count", type=int, default=0, help="exit after this many messages, error events included (default: run until interrupted)")
    parser.add_argument("--topic", default="saliency/", help="topic prefix to subscribe to (default: %(default)s)")
    parser.add_argument("--socket", choices=["sub", "pull"], default="sub", help="sub for a PUB output (default), pull for PUSH")
    parser.add_argument("--idle-timeout", type=float, default=0, help="exit with status 1 after this many seconds without a message (default: never)")
    parser.add_argument("--zoom", type=int, default=0, help="enlarge each PNG this many times (default: until it is at least 224 pixels)")
    args = parser.parse_args(argv)

    os.makedirs(args.out, exist_ok=True)
    context = zmq.Context()
    socket = context.socket(zmq.SUB if args.socket == "sub" else zmq.PULL)
    socket.setsockopt(zmq.LINGER, 0)
    if args.socket == "sub":
        socket.setsockopt(zmq.SUBSCRIBE, args.topic.encode())
    socket.connect(args.endpoint)
    print(f"subscribed to {args.endpoint} ({args.topic!r}); writing to {args.out}", file=sys.stderr, flush=True)
    received = 0
    last = time.monotonic()
    try:
        while args.count <= 0 or received < args.count:
            if not socket.poll(200):
                if args.idle_timeout > 0 and time.monotonic() - last > args.idle_timeout:
                    print(f"no message for {args.idle_timeout} s after {received} message(s)", file=sys.stderr)
                    return 1
                continue
            frames = socket.recv_multipart(copy=True)
            received_ns = time.time_ns()
            last = time.monotonic()
            received += 1
            try:
                header = json.loads(frames[1]) if len(frames) > 1 else {}
                size = max((int(m["width"]) for m in header.get("maps", [])), default=0) if isinstance(header, dict) else 0
                zoom = args.zoom if args.zoom > 0 else max(1, -(-224 // size)) if size else 1
                print(handle(frames, args.out, zoom, received_ns), flush=True)
            except (MalformedMessage, ValueError, KeyError, TypeError) as error:
                print(f"malformed message: {error}", file=sys.stderr, flush=True)
    except KeyboardInterrupt:
        pass
    finally:
        socket.close()
        context.term()
    return 0


if __name__ == "__main__":
    sys.exit(main())
