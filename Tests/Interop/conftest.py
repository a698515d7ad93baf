"""Fixtures for the interop tests: a `saliencyd serve` started and stopped per test on free
loopback ports, a subscriber on its output, and the bundled Fashion-MNIST samples.

The binary is $SALIENCYD_BIN (default .build/debug/saliencyd in the repository).
"""

import io
import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import zmq
from PIL import Image

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "models" / "samples"
LABELS = (REPO / "models" / "fashion-mnist-cnn.labels.txt").read_text().splitlines()
READY_TIMEOUT = 60.0
RECEIVE_TIMEOUT = 15.0


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def samples():
    """[(file, class index, label, 28×28 uint8 array)] from models/samples/labels.txt
    (`<dataset index>\t<class>\t<label>`, file `<dataset index>-<slug>.png`)."""
    found = []
    for line in (SAMPLES / "labels.txt").read_text().splitlines():
        if not line.strip():
            continue
        index, klass, label = line.split("\t")
        (path,) = SAMPLES.glob(f"{index}-*.png")
        found.append((path, int(klass), label, np.asarray(Image.open(path).convert("L"))))
    return found


def jpeg_bytes(array, quality=95):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


def png_bytes(array):
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format="PNG")
    return buffer.getvalue()


class Serve:
    """One `saliencyd serve` process; its stderr goes to a file that `ready` and `stop` read."""

    STOPPED = re.compile(r"stopped: received (\d+), published (\d+), dropped (\d+), rejected (\d+)")

    def __init__(self, binary, log_path, args):
        self.output_port = free_port()
        self.output = f"tcp://127.0.0.1:{self.output_port}"
        self.command = [str(binary), "serve", "--output", self.output, "--status-interval", "0",
                        "--workers", "1", "--metrics-address", "127.0.0.1:0", *args]
        self.log_path = log_path
        self.log_file = open(log_path, "w")
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL, stdout=self.log_file,
                                        stderr=subprocess.STDOUT, cwd=REPO)
        self.counts = None

    def log(self):
        return Path(self.log_path).read_text(errors="replace")

    def wait_ready(self, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "ready:" in self.log():
                return
            if self.process.poll() is not None:
                pytest.fail(f"saliencyd serve exited with {self.process.returncode} before it was ready:\n"
                            f"{' '.join(self.command)}\n{self.log()}")
            time.sleep(0.05)
        pytest.fail(f"saliencyd serve was not ready within {timeout} s:\n{self.log()}")

    def stop(self, timeout=30.0):
        """SIGINT (drains, exits 0); returns (received, published, dropped, rejected)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                pytest.fail(f"saliencyd serve did not stop within {timeout} s after SIGINT:\n{self.log()}")
        self.log_file.close()
        log = self.log()
        assert self.process.returncode == 0, f"saliencyd serve exited with {self.process.returncode}:\n{log}"
        match = self.STOPPED.search(log)
        assert match, f"no 'stopped:' line in the log:\n{log}"
        self.counts = tuple(int(group) for group in match.groups())
        return self.counts

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        if not self.log_file.closed:
            self.log_file.close()


class Subscriber:
    """A SUB socket on serve's output that collects every message (all topics under the prefix)."""

    def __init__(self, context, endpoint, topic=b"saliency/"):
        self.socket = context.socket(zmq.SUB)
        self.socket.setsockopt(zmq.LINGER, 0)
        self.socket.setsockopt(zmq.SUBSCRIBE, topic)
        self.socket.connect(endpoint)

    def receive(self, timeout=RECEIVE_TIMEOUT):
        """One message as (topic, header dict, [map frames]), or None after `timeout` seconds."""
        if not self.socket.poll(int(timeout * 1000)):
            return None
        frames = self.socket.recv_multipart()
        return frames[0].decode(), json.loads(frames[1]), frames[2:]

    def receive_where(self, predicate, timeout=RECEIVE_TIMEOUT, skip_probes=True):
        """The first message that satisfies `predicate` within `timeout`; messages of
        `sync_output` probes are skipped, anything else that does not match fails the test."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            message = self.receive(left)
            if message is None:
                break
            if skip_probes and is_probe(message):
                continue
            assert predicate(message), f"unexpected message: {message[0]} {json.dumps(message[1])[:600]}"
            return message
        pytest.fail(f"no matching message within {timeout} s")

    def close(self):
        self.socket.close()


PROBE = "probe"


def is_probe(message):
    msg = message[1].get("msg")
    return isinstance(msg, str) and msg.startswith(PROBE)


def sync_output(subscriber, send_probe, timeout=20.0):
    """Sends probe frames (msg "probe-N") through `send_probe(msg)` until one comes out on
    `subscriber`: afterwards the subscription is known to be in place (a SUB that connects
    misses what was published before its subscription reached the PUB). Returns the probe count."""
    deadline = time.monotonic() + timeout
    sent = 0
    while time.monotonic() < deadline:
        send_probe(f"{PROBE}-{sent}")
        sent += 1
        message = subscriber.receive(0.3)
        while message is not None:
            if is_probe(message):
                return sent
            message = subscriber.receive(0.05)
    pytest.fail(f"no probe came out of saliencyd within {timeout} s ({sent} sent)")


@pytest.fixture(scope="session")
def saliencyd_bin():
    binary = Path(os.environ.get("SALIENCYD_BIN", REPO / ".build" / "debug" / "saliencyd"))
    if not binary.is_absolute():
        binary = REPO / binary
    if not os.access(binary, os.X_OK):
        pytest.fail(f"no saliencyd binary at {binary}: build it (swift build) or set SALIENCYD_BIN")
    return binary


@pytest.fixture
def zmq_context():
    context = zmq.Context()
    yield context
    context.destroy(linger=0)


@pytest.fixture
def start_serve(saliencyd_bin, tmp_path):
    """start_serve(*args) → a ready Serve; every serve still running at teardown is killed."""
    started = []

    def start(*args):
        serve = Serve(saliencyd_bin, tmp_path / f"serve-{len(started)}.log", [str(a) for a in args])
        started.append(serve)
        serve.wait_ready()
        return serve

    yield start
    for serve in started:
        serve.kill()


@pytest.fixture(scope="session")
def fashion_samples():
    return samples()
