"""The real imagezmq package's ImageSender in its default REQ/REP mode against `saliencyd serve`
with a REP source: send_image (grey and BGR uint8 arrays), send_jpg (JPEG and PNG bytes),
garbage through send_jpg, and the signed-map messages that come out."""

import json

import imagezmq
import numpy as np
import pytest
import zmq
from PIL import Image

from conftest import Subscriber, free_port, jpeg_bytes, png_bytes, sync_output

SOURCE = "cam0"


@pytest.fixture
def make_rep(start_serve, zmq_context):
    """make_rep(*serve_args) → (serve, ImageSender in REQ/REP mode, subscriber already
    synchronised with the output, number of probe frames sent)."""
    opened = []

    def make(*args):
        port = free_port()
        serve = start_serve("--source", f"name={SOURCE},socket=rep,endpoint=tcp://127.0.0.1:{port}", *args)
        sender = imagezmq.ImageSender(connect_to=f"tcp://127.0.0.1:{port}")
        # imagezmq sets no timeouts (its users' hanging-sender complaint): a test must not hang.
        sender.zmq_socket.setsockopt(zmq.RCVTIMEO, 15000)
        sender.zmq_socket.setsockopt(zmq.LINGER, 0)
        subscriber = Subscriber(zmq_context, serve.output)
        opened.append((sender, subscriber))
        probe = np.zeros((28, 28), np.uint8)
        probes = sync_output(subscriber, lambda msg: _expect_ok(sender.send_image(msg, probe)))
        return serve, sender, subscriber, probes

    yield make
    for sender, subscriber in opened:
        subscriber.close()
        sender.close()


@pytest.fixture
def rep(make_rep):
    return make_rep()


def _expect_ok(reply):
    assert reply == b"OK", f"the REP source answered {reply!r}"


def _check_maps_message(message, *, msg, seq=None, expect_format=None):
    topic, header, frames = message
    assert topic == f"saliency/{SOURCE}"
    assert header["schema"] == "saliencyd.maps/1"
    assert header["source"] == SOURCE
    assert header["msg"] == msg
    if seq is not None:
        assert header["seq"] == seq
    assert header["model"]["name"] == "fashion-mnist-cnn"
    assert len(header["model"]["sha256"]) == 16
    assert header["input"] == {"width": 28, "height": 28, "channels": 1}
    if expect_format is not None:
        assert header["original"]["format"] == expect_format
    assert "sender_topic" not in header  # imagezmq sends no topic frame
    assert header["extra"] == {}  # imagezmq sends only msg (and dtype, shape)
    assert len(header["logits"]) == 10
    assert header["predicted"]["index"] == int(np.argmax(header["logits"]))
    assert 0 < header["predicted"]["score"] <= 1
    assert header["t_received"] <= header["t_started"] <= header["t_finished"]
    assert header["batch"] >= 1 and header["worker"] == 0
    names = [m["name"] for m in header["maps"]]
    assert names == ["vanilla", "positive", "negative", "active", "inactive"]
    assert len(frames) == len(names)
    for description, frame in zip(header["maps"], frames):
        assert description["dtype"] == "float32"
        assert (description["width"], description["height"]) == (28, 28)
        values = np.frombuffer(frame, "<f4")
        assert values.size == 28 * 28
        assert np.isclose(values.min(), description["min"]) and np.isclose(values.max(), description["max"])
    return header


def test_send_image_grey_arrays_predicts_every_sample(rep, fashion_samples):
    serve, sender, subscriber, probes = rep
    seq = probes  # the probes took seq 0…probes-1
    for path, klass, label, grey in fashion_samples:
        assert grey.dtype == np.uint8 and grey.shape == (28, 28)
        _expect_ok(sender.send_image(f"grey {path.name}", grey))
        header = _check_maps_message(subscriber.receive_where(lambda m: m[1].get("msg") == f"grey {path.name}"),
                                     msg=f"grey {path.name}", seq=seq, expect_format="uint8")
        assert header["original"] == {"width": 28, "height": 28, "channels": 1, "format": "uint8"}
        assert (header["predicted"]["index"], header["predicted"]["label"]) == (klass, label), path.name
        seq += 1
    received, published, dropped, rejected = serve.stop()
    assert (received, published, dropped, rejected) == (seq, seq, 0, 0)


def test_send_image_bgr_array_is_read_as_bgr(rep, fashion_samples):
    """A 3-channel uint8 array is BGR by default (OpenCV's order): a sample put in the red
    channel alone must give what its red-weighted grey (0.299·R) gives, not 0.114·R."""
    serve, sender, subscriber, probes = rep
    path, klass, label, grey = fashion_samples[0]

    def logits(msg, image, sender_method=sender.send_image):
        _expect_ok(sender_method(msg, image))
        _, header, _ = subscriber.receive_where(lambda m: m[1].get("msg") == msg)
        return np.array(header["logits"]), header

    # Grey replicated into three channels: exactly the grey result (order does not matter).
    grey_logits, _ = logits("grey", grey)
    bgr_logits, header = logits("bgr-grey", np.ascontiguousarray(np.stack([grey] * 3, axis=-1)))
    assert header["original"] == {"width": 28, "height": 28, "channels": 3, "format": "uint8"}
    assert header["predicted"]["label"] == label
    np.testing.assert_allclose(bgr_logits, grey_logits, atol=1e-3)

    # The sample in the red channel only: BGR layout puts red last.
    red_only = np.zeros((28, 28, 3), np.uint8)
    red_only[..., 2] = grey
    red_logits, _ = logits("red-only", red_only)
    as_red = (grey.astype(np.float32) / 255 * 0.299).astype("<f4")   # what BGR reading gives
    as_blue = (grey.astype(np.float32) / 255 * 0.114).astype("<f4")  # what RGB reading would give
    right, _ = logits("ref-red", as_red)
    wrong, _ = logits("ref-blue", as_blue)
    assert np.abs(red_logits - right).max() < 0.25 * np.abs(wrong - right).max()
    assert np.abs(red_logits - right).max() < np.abs(red_logits - wrong).max()
    serve.stop()


def test_send_jpg_jpeg_and_png_bytes(rep, fashion_samples):
    serve, sender, subscriber, probes = rep
    correct = 0
    for path, klass, label, grey in fashion_samples:
        _expect_ok(sender.send_jpg(f"jpeg {path.name}", jpeg_bytes(grey)))
        header = _check_maps_message(subscriber.receive_where(lambda m: m[1].get("msg") == f"jpeg {path.name}"),
                                     msg=f"jpeg {path.name}", expect_format="jpeg")
        assert header["original"] == {"width": 28, "height": 28, "channels": 1, "format": "jpeg"}
        correct += header["predicted"]["label"] == label
    # JPEG at quality 95 changes a few pixel values; the labels must survive for (nearly) all.
    assert correct >= len(fashion_samples) - 1

    path, klass, label, grey = fashion_samples[1]
    colour = np.ascontiguousarray(np.stack([grey] * 3, axis=-1))
    _expect_ok(sender.send_jpg("png", png_bytes(colour)))  # PNG through send_jpg: sniffed
    header = _check_maps_message(subscriber.receive_where(lambda m: m[1].get("msg") == "png"), msg="png",
                                 expect_format="png")
    assert header["original"] == {"width": 28, "height": 28, "channels": 3, "format": "png"}
    assert header["predicted"]["label"] == label

    # A larger JPEG is resized to the model input.
    big = np.asarray(Image.fromarray(grey).resize((112, 112), Image.Resampling.BILINEAR))
    _expect_ok(sender.send_jpg("big", jpeg_bytes(big)))
    header = _check_maps_message(subscriber.receive_where(lambda m: m[1].get("msg") == "big"), msg="big")
    assert header["original"]["width"] == 112 and header["original"]["height"] == 112
    assert header["predicted"]["label"] == label
    received, published, dropped, rejected = serve.stop()
    assert received == published == probes + len(fashion_samples) + 2 and dropped == rejected == 0


def test_garbage_jpg_is_rejected_with_error_reply_and_event(rep, fashion_samples):
    serve, sender, subscriber, probes = rep
    reply = sender.send_jpg("broken", b"\xff\xd8\xff\xe0 this is not really a JPEG" * 4)
    assert reply.startswith(b"ERROR corrupt_image"), reply
    reply = sender.send_jpg("not-an-image", b"garbage bytes")
    assert reply.startswith(b"ERROR corrupt_image: "), reply
    assert b"not a JPEG or PNG image" in reply

    events = []
    for expected_msg, expected_seq in (("broken", probes), ("not-an-image", probes + 1)):
        topic, header, frames = subscriber.receive_where(lambda m: m[0].startswith("saliency/error/"))
        assert topic == f"saliency/error/{SOURCE}"
        assert frames == []
        assert header["schema"] == "saliencyd.error/1"
        assert header["source"] == SOURCE
        assert header["msg"] == expected_msg
        assert header["seq"] == expected_seq
        assert header["reason"] == "corrupt_image"
        assert isinstance(header["detail"], str) and header["detail"]
        assert isinstance(header["t_received"], int)
        events.append(header)

    # The source goes on: the next good frame is computed, with the next seq.
    path, klass, label, grey = fashion_samples[2]
    _expect_ok(sender.send_image("after", grey))
    _, header, _ = subscriber.receive_where(lambda m: m[1].get("msg") == "after")
    assert header["seq"] == probes + 2 and header["predicted"]["label"] == label
    assert serve.stop() == (probes + 3, probes + 1, 0, 2)


def test_raw_protocol_cases_through_the_same_socket(rep):
    """What imagezmq's SerializingSocket puts on the wire, and the cases it cannot produce but
    other senders do: a leading topic frame, extra header keys, float32, wrong sizes."""
    serve, sender, subscriber, probes = rep
    socket = sender.zmq_socket
    grey = np.arange(28 * 28, dtype=np.uint8).reshape(28, 28)

    def request(frames):
        socket.send_multipart(frames)
        return socket.recv()

    header = {"msg": "extra", "dtype": "uint8", "shape": [28, 28], "id": 7, "t_capture": 1.5, "tags": ["a"]}
    assert request([b"cams/front", json.dumps(header).encode(), grey.tobytes()]) == b"OK"
    _, out, _ = subscriber.receive_where(lambda m: m[1].get("msg") == "extra")
    assert out["extra"] == {"id": 7, "t_capture": 1.5, "tags": ["a"]}
    assert out["sender_topic"] == "cams/front"

    floats = (grey.astype(np.float32) / 255).astype("<f4")
    header = {"msg": "f32", "dtype": "float32", "shape": [28, 28]}
    assert request([json.dumps(header).encode(), floats.tobytes()]) == b"OK"
    _, out, _ = subscriber.receive_where(lambda m: m[1].get("msg") == "f32")
    assert out["original"]["format"] == "float32"

    cases = [
        ([b"only one frame"], "frame_count"),
        ([b"{not json", grey.tobytes()], "header_not_json"),
        ([json.dumps({"dtype": "uint8", "shape": [28, 28]}).encode(), grey.tobytes()], "header_missing_key"),
        ([json.dumps({"msg": "f64", "dtype": "float64", "shape": [28, 28]}).encode(), b"\0" * 28 * 28 * 8], "header_invalid"),
        ([json.dumps({"msg": "short", "dtype": "uint8", "shape": [28, 28]}).encode(), grey.tobytes()[:-1]], "size_mismatch"),
        ([json.dumps({"msg": "wide", "dtype": "uint8", "shape": [1, 9000]}).encode(), b"\0" * 9000], "too_large"),
    ]
    nan = floats.copy()
    nan[0, 0] = np.nan
    cases.append(([json.dumps({"msg": "nan", "dtype": "float32", "shape": [28, 28]}).encode(), nan.tobytes()], "non_finite"))
    for frames, reason in cases:
        reply = request(frames)
        assert reply.startswith(f"ERROR {reason}: ".encode()), (reason, reply)
        topic, event, _ = subscriber.receive_where(lambda m: m[0].startswith("saliency/error/"))
        assert event["reason"] == reason
    assert serve.stop() == (probes + 2 + len(cases), probes + 2, 0, len(cases))


def test_oversized_send_image_is_rejected_as_payload_too_large(make_rep, fashion_samples):
    serve, sender, subscriber, probes = make_rep("--max-payload-bytes", "100000")
    big = np.zeros((200, 200, 3), np.uint8)  # 120000 bytes: over the limit, under 4× it
    reply = sender.send_image("big", big)
    assert reply.startswith(b"ERROR payload_too_large: "), reply
    topic, event, _ = subscriber.receive_where(lambda m: m[0].startswith("saliency/error/"))
    assert topic == f"saliency/error/{SOURCE}"
    assert (event["reason"], event["msg"], event["seq"]) == ("payload_too_large", "big", probes)
    path, klass, label, grey = fashion_samples[4]
    _expect_ok(sender.send_image("small", grey))
    _, header, _ = subscriber.receive_where(lambda m: m[1].get("msg") == "small")
    assert header["seq"] == probes + 1 and header["predicted"]["label"] == label
    assert serve.stop() == (probes + 2, probes + 1, 0, 1)
