"""examples/subscribe.py against a running serve, and the map encodings (f32, f16, u8) as
docs/protocol.md specifies them, decoded by the example's own functions."""

import importlib.util
import json
import subprocess
import sys
import time

import imagezmq
import numpy as np
import pytest
import zmq
from PIL import Image

from conftest import REPO, Subscriber, free_port, sync_output

ALL_MAPS = "vanilla,positive,negative,active,inactive,signed"
SUBSCRIBE_PY = REPO / "examples" / "subscribe.py"


def load_example():
    spec = importlib.util.spec_from_file_location("subscribe_example", SUBSCRIBE_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def example():
    return load_example()


def start_with_sender(start_serve, zmq_context, *args):
    port = free_port()
    serve = start_serve("--source", f"name=cam0,socket=rep,endpoint=tcp://127.0.0.1:{port}", *args)
    sender = imagezmq.ImageSender(connect_to=f"tcp://127.0.0.1:{port}")
    sender.zmq_socket.setsockopt(zmq.RCVTIMEO, 15000)
    sender.zmq_socket.setsockopt(zmq.LINGER, 0)
    return serve, sender


def collect_maps(start_serve, zmq_context, example, encoding, images):
    """Serves with every map in `encoding`; returns [(header, {name: float32 array})] per image."""
    serve, sender = start_with_sender(start_serve, zmq_context, "--maps", ALL_MAPS, "--encoding", encoding)
    subscriber = Subscriber(zmq_context, serve.output)
    probe = np.zeros((28, 28), np.uint8)
    sync_output(subscriber, lambda msg: sender.send_image(msg, probe))
    results = []
    for index, image in enumerate(images):
        assert sender.send_image(f"img{index}", image) == b"OK"
        sub = subscriber.socket
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert sub.poll(15000), "no maps message"
            frames = sub.recv_multipart()
            kind, topic, header, maps = example.parse_message(frames)
            if header.get("msg") == f"img{index}":
                break
        assert kind == "maps" and topic == "saliency/cam0"
        assert [m["name"] for m in header["maps"]] == ALL_MAPS.split(",")
        assert {m["dtype"] for m in header["maps"]} == {{"f32": "float32", "f16": "float16", "u8": "uint8"}[encoding]}
        results.append((header, maps))
    subscriber.close()
    sender.close()
    serve.stop()
    return results


def test_map_encodings_restore_the_f32_maps(start_serve, zmq_context, example, fashion_samples):
    images = [grey for _, _, _, grey in fashion_samples[:3]]
    reference = collect_maps(start_serve, zmq_context, example, "f32", images)
    half = collect_maps(start_serve, zmq_context, example, "f16", images)
    byte = collect_maps(start_serve, zmq_context, example, "u8", images)
    for (ref_header, ref), (f16_header, f16), (u8_header, u8) in zip(reference, half, byte):
        assert ref_header["logits"] == f16_header["logits"] == u8_header["logits"]
        # What the map names mean, for a 1-channel model (docs/protocol.md): signed is the
        # gradient of the predicted class; vanilla |g|, positive max(g, 0), negative max(-g, 0).
        g = ref["signed"]
        assert g.min() < 0 < g.max()
        np.testing.assert_allclose(ref["vanilla"], np.abs(g), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(ref["positive"], np.maximum(g, 0), rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(ref["negative"], np.maximum(-g, 0), rtol=1e-6, atol=1e-7)
        for name in ("active", "inactive"):
            assert np.all((ref[name] == 0) | np.isclose(ref[name], ref["vanilla"]))
        for description in ref_header["maps"]:
            values = ref[description["name"]]
            assert values.min() == np.float32(description["min"]) and values.max() == np.float32(description["max"])
        for (name, values), u8_description, f16_description in zip(ref.items(), u8_header["maps"], f16_header["maps"]):
            # The header's min and max are the map's range before encoding, whatever the encoding.
            assert (u8_description["min"], u8_description["max"]) == (f16_description["min"], f16_description["max"])
            np.testing.assert_allclose(u8_description["min"], values.min(), rtol=1e-6)
            np.testing.assert_allclose(u8_description["max"], values.max(), rtol=1e-6)
            np.testing.assert_allclose(f16[name], values.astype(np.float16).astype(np.float32), rtol=0, atol=0)
            step = (values.max() - values.min()) / 255
            assert np.abs(u8[name] - values).max() <= step / 2 * 1.001 + 1e-7, name


def test_decode_map_follows_the_documented_encodings(example):
    values = np.array([[-2.0, -0.5, 0.0], [0.25, 1.0, 3.0]], np.float32)
    low, high = float(values.min()), float(values.max())
    description = {"name": "signed", "width": 3, "height": 2, "min": low, "max": high}
    f32 = example.decode_map(dict(description, dtype="float32"), values.astype("<f4").tobytes())
    np.testing.assert_array_equal(f32, values)
    f16 = example.decode_map(dict(description, dtype="float16"), values.astype("<f2").tobytes())
    np.testing.assert_array_equal(f16, values)
    encoded = np.rint(255 * (values - low) / (high - low)).astype(np.uint8)
    u8 = example.decode_map(dict(description, dtype="uint8"), encoded.tobytes())
    assert np.abs(u8 - values).max() <= (high - low) / 255 / 2 + 1e-6
    constant = example.decode_map({"name": "x", "width": 2, "height": 1, "min": 0.5, "max": 0.5, "dtype": "uint8"}, b"\0\0")
    np.testing.assert_array_equal(constant, [[0.5, 0.5]])
    with pytest.raises(example.MalformedMessage):
        example.decode_map(dict(description, dtype="float32"), b"\0" * 5)
    rgb = example.colorize(np.array([[-1.0, 0.0, 1.0]]), signed=True)
    assert rgb[0, 0, 2] > rgb[0, 0, 0]  # negative: blue
    assert rgb[0, 1].min() > 240  # zero: near white
    assert rgb[0, 2, 0] > rgb[0, 2, 2]  # positive: red


def test_subscribe_example_receives_and_writes_pngs(start_serve, zmq_context, tmp_path, fashion_samples):
    serve, sender = start_with_sender(start_serve, zmq_context, "--maps", "vanilla,signed,active", "--encoding", "u8")
    out = tmp_path / "maps"
    count = 6
    process = subprocess.Popen(
        [sys.executable, str(SUBSCRIBE_PY), "--endpoint", serve.output, "--out", str(out), "--count", str(count),
         "--idle-timeout", "60"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # subscribe.py misses what was published before its subscription arrived: keep sending
    # (two good frames, then garbage) until it has its `count` messages.
    sent = 0
    deadline = time.monotonic() + 60
    try:
        while process.poll() is None and time.monotonic() < deadline:
            path, klass, label, grey = fashion_samples[sent % len(fashion_samples)]
            if sent % 3 == 2:
                assert sender.send_jpg(f"bad {sent}", b"not an image").startswith(b"ERROR corrupt_image")
            else:
                assert sender.send_image(f"good {sent}", grey) == b"OK"
            sent += 1
            time.sleep(0.15)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
        sender.close()
    assert process.returncode == 0, f"subscribe.py exited {process.returncode}\n{stdout}\n{stderr}"
    lines = stdout.strip().splitlines()
    assert len(lines) == count, stdout
    maps_lines = [line for line in lines if " ERROR " not in line]
    error_lines = [line for line in lines if " ERROR corrupt_image: " in line]
    assert len(maps_lines) + len(error_lines) == count, stdout
    assert maps_lines and error_lines, stdout
    for line in maps_lines:
        assert line.startswith("cam0 seq "), line
        seq = int(line.split()[2].rstrip(":"))
        stem = out / f"cam0-{seq:06d}"
        header = json.loads((stem.with_suffix(".json")).read_text())
        assert header["seq"] == seq and header["schema"] == "saliencyd.maps/1"
        assert header["predicted"]["label"] in line
        for name in ("vanilla", "signed", "active"):
            png = Image.open(f"{stem}.{name}.png")
            assert png.mode == "RGB" and png.size == (224, 224)  # 28×28 enlarged 8 times
    serve.stop()
