"""The real imagezmq package's ImageSender in PUB/SUB mode (`REQ_REP=False`: the sender's PUB
binds, serve's SUB source connects to it) against `saliencyd serve`."""

import time

import imagezmq
import numpy as np
import pytest
import zmq

from conftest import Subscriber, free_port, jpeg_bytes, sync_output

SOURCE = "cam"


@pytest.fixture
def pubsub(start_serve, zmq_context):
    port = free_port()
    # As imagezmq's PUB/SUB users do: the camera binds (imagezmq's docs write tcp://*:PORT;
    # loopback is enough here), the hub connects.
    sender = imagezmq.ImageSender(connect_to=f"tcp://127.0.0.1:{port}", REQ_REP=False)
    sender.zmq_socket.setsockopt(zmq.LINGER, 0)
    serve = start_serve("--source", f"name={SOURCE},socket=sub,endpoint=tcp://127.0.0.1:{port}")
    assert f"source {SOURCE}: SUB connected to tcp://127.0.0.1:{port}, policy latest" in serve.log()
    subscriber = Subscriber(zmq_context, serve.output)
    probe = np.zeros((28, 28), np.uint8)
    # Frames published before serve's subscription reaches the sender are lost (PUB/SUB):
    # probe until one comes out at the other end.
    probes = sync_output(subscriber, lambda msg: sender.send_image(msg, probe))
    yield serve, sender, subscriber, probes
    subscriber.close()
    sender.close()


def test_pubsub_send_image_and_send_jpg(pubsub, fashion_samples):
    serve, sender, subscriber, probes = pubsub
    last_seq = -1
    sent = 0
    for path, klass, label, grey in fashion_samples:
        for kind in ("array", "bgr", "jpg"):
            msg = f"{kind} {path.name}"
            if kind == "array":
                assert sender.send_image(msg, grey) is None  # PUB/SUB: no reply
            elif kind == "bgr":
                sender.send_image(msg, np.ascontiguousarray(np.stack([grey] * 3, axis=-1)))
            else:
                sender.send_jpg(msg, jpeg_bytes(grey))
            sent += 1
            # One frame at a time: the SUB source's default policy (latest, queue 4) keeps only
            # the newest frames under overload, and this test wants every one.
            topic, header, frames = subscriber.receive_where(lambda m: m[1].get("msg") == msg)
            assert topic == f"saliency/{SOURCE}"
            assert header["schema"] == "saliencyd.maps/1"
            assert header["source"] == SOURCE
            assert header["seq"] > last_seq  # per-source order, gaps only for probes
            last_seq = header["seq"]
            assert header["original"]["format"] == {"array": "uint8", "bgr": "uint8", "jpg": "jpeg"}[kind]
            assert header["original"]["channels"] == (3 if kind == "bgr" else 1)
            assert len(frames) == len(header["maps"]) == 5
            if kind != "jpg":
                assert header["predicted"]["label"] == label, msg
    assert last_seq >= sent  # probes came first
    time.sleep(0.2)
    received, published, dropped, rejected = serve.stop()
    assert received == published + dropped + rejected
    assert published >= sent + 1 and rejected == 0


def test_pubsub_garbage_jpg_gives_error_event(pubsub, fashion_samples):
    serve, sender, subscriber, probes = pubsub
    sender.send_jpg("garbage", b"definitely not an image")
    topic, header, frames = subscriber.receive_where(lambda m: m[0].startswith("saliency/error/"))
    assert topic == f"saliency/error/{SOURCE}"
    assert frames == []
    assert header["schema"] == "saliencyd.error/1"
    assert header["source"] == SOURCE and header["msg"] == "garbage"
    assert header["reason"] == "corrupt_image"
    path, klass, label, grey = fashion_samples[3]
    sender.send_image("good", grey)
    _, good, _ = subscriber.receive_where(lambda m: m[1].get("msg") == "good")
    assert good["seq"] == header["seq"] + 1
    assert good["predicted"]["label"] == label
    received, published, dropped, rejected = serve.stop()
    assert rejected == 1 and received == published + dropped + rejected
