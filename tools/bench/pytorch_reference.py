#!/usr/bin/env python3
"""PyTorch reference timings for `saliencyd bench`.

Builds the same architecture as the model saliencyd is benchmarked on, in
PyTorch (float32, eval mode, CPU, ``torch.set_num_threads(T)``), and times,
per image, four ways of getting at input gradients.  Prints ONE JSON object to
stdout (diagnostics go to stderr).

Timed variants (each repeat processes one batch of B images; the batch time is
divided by B; medians and p10/p90 are over ``--repeats`` repeats after
``--warmup`` untimed ones):

  forward_ms         forward only, under ``torch.no_grad()``.
  saliency_ms        (a) plain autograd saliency: ``x.requires_grad_()``,
                     forward, ``logits[range(B), argmax].sum().backward()``
                     -- one backward pass for the whole batch.
  reference_loop_ms  (b) the paper's reference code: image by image, one
                     forward+backward for the predicted class, then one
                     forward+backward per class k = 0..K-1 (K+1 pairs per
                     image, batch size 1 each).
  jacobian_ms        (c) the best PyTorch offers for d logits / d input: one
                     batched forward, then ONE ``torch.autograd.grad`` call
                     with identity cotangents and ``is_grads_batched=True``
                     (falls back to ``torch.func.vmap(vjp_fn)`` if that raises;
                     ``jacobian_method`` records which was used).

The Jacobian from (c) is checked once, before timing, against the per-class
gradients of (b) for the first image (``jacobian_check_max_abs_diff``).

Models (random weights unless ``--onnx`` is given; timing does not depend on
the values):

  resnet18, mobilenet_v2, efficientnet_b0
      torchvision constructors with ``num_classes=K``; default input 3x224x224.
  paper-cnn
      the paper's CNN (same layout as tools/train/train_default_model.py and
      models/fashion-mnist-cnn.onnx): conv 7x7/2 p3 (C->32), ReLU, max-pool
      3/2 p1, then three blocks [conv3x3 p1, ReLU, conv3x3/2 p1, ReLU,
      conv3x3 p1, ReLU] with 32, 64, 128 channels, global average pool,
      linear 128->K; default input 1x28x28.  ``--onnx
      models/fashion-mnist-cnn.onnx`` loads the bundled weights (the
      initializer names match this module's state_dict).

Export mode (``--export-onnx PATH``) writes the model with random weights as
ONNX (TorchScript exporter, opset 17, dynamic batch axis) for ``saliencyd
bench`` and exits without timing anything.

Examples:
  /work/venv-torch/bin/python tools/bench/pytorch_reference.py \
      --model resnet18 --batch 1 --threads 2 --repeats 10
  /work/venv-torch/bin/python tools/bench/pytorch_reference.py \
      --model paper-cnn --onnx models/fashion-mnist-cnn.onnx --batch 64
  /work/venv-torch/bin/python tools/bench/pytorch_reference.py \
      --model resnet18 --export-onnx /tmp/saliencyd-bench/resnet18.onnx
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
import warnings
from typing import Callable

import torch
import torch.nn as nn

TORCHVISION_MODELS = ("resnet18", "mobilenet_v2", "efficientnet_b0")
MODELS = TORCHVISION_MODELS + ("paper-cnn",)

# Environment variables worth recording next to the numbers.  OPENBLAS_* are
# set on some machines for saliencyd's (old) OpenBLAS; PyTorch uses MKL /
# oneDNN and ignores them, but they are recorded so a table row is complete.
RECORDED_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS",
                "OMP_NUM_THREADS", "MKL_NUM_THREADS")


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------

class PaperCNN(nn.Module):
    """The paper's small CNN.  Module indices match the bundled ONNX model's
    initializer names (``features.0.weight``, ..., ``classifier.bias``)."""

    def __init__(self, in_channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(in_channels, 32, 7, stride=2, padding=3),
                                   nn.ReLU(), nn.MaxPool2d(3, stride=2, padding=1)]
        c_in = 32
        for c_out in (32, 64, 128):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(),
                       nn.Conv2d(c_out, c_out, 3, stride=2, padding=1), nn.ReLU(),
                       nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU()]
            c_in = c_out
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_in, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.pool(self.features(x)), 1))


def export_onnx(model: nn.Module, shape: tuple[int, int, int], path: str) -> None:
    """TorchScript exporter, opset 17, dynamic batch axis (the convention of
    tools/train/train_default_model.py and tools/fixtures/make_fixtures.py)."""
    import contextlib
    import io

    dummy = torch.zeros(1, *shape)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (dummy,), path, dynamo=False, opset_version=17,
                          input_names=["input"], output_names=["logits"],
                          dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})


def load_onnx_weights(model: nn.Module, path: str) -> None:
    """Copy ONNX initializers into ``model`` by name (shapes must match)."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(path).graph
    tensors = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in graph.initializer}
    state = model.state_dict()
    missing = [k for k in state if k not in tensors]
    if missing:
        raise SystemExit(f"--onnx {path}: no initializer for {missing}")
    model.load_state_dict({k: tensors[k] for k in state})


def build_model(name: str, channels: int, classes: int) -> nn.Module:
    if name == "paper-cnn":
        return PaperCNN(channels, classes)
    import torchvision.models as tvm

    if channels != 3:
        raise SystemExit(f"{name}: torchvision models take 3 input channels, got {channels}")
    return getattr(tvm, name)(weights=None, num_classes=classes)


def parse_input(text: str) -> tuple[int, int, int]:
    try:
        c, h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected CxHxW, e.g. 3x224x224, got {text!r}")
    return c, h, w


# --------------------------------------------------------------------------
# The four timed operations.  Each takes the batch x (B,C,H,W) and returns
# something so the work cannot be optimised away.
# --------------------------------------------------------------------------

def op_forward(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return model(x)


def op_saliency(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(a) one forward + one backward for the predicted class of every image."""
    x = x.detach().requires_grad_(True)
    logits = model(x)
    pred = logits.argmax(dim=1)
    logits[torch.arange(x.shape[0]), pred].sum().backward()
    return x.grad


def op_reference_loop(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(b) the paper's reference code: per image, one forward+backward for the
    prediction, then one forward+backward per class.  Returns (B,K,C,H,W)."""
    out = []
    for i in range(x.shape[0]):
        xi = x[i:i + 1].detach().clone().requires_grad_(True)
        logits = model(xi)
        logits[0, logits.argmax(dim=1).item()].backward()
        per_class = []
        for k in range(logits.shape[1]):
            xi.grad = None
            logits = model(xi)
            logits[0, k].backward()
            per_class.append(xi.grad[0])
        out.append(torch.stack(per_class))
    return torch.stack(out)


def cotangents(batch: int, classes: int) -> torch.Tensor:
    """(K,B,K) identity cotangents: slice k selects logit k of every image."""
    return torch.eye(classes).unsqueeze(1).expand(classes, batch, classes).contiguous()


def jacobian_is_grads_batched(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    x = x.detach().requires_grad_(True)
    logits = model(x)
    (jac,) = torch.autograd.grad(logits, x, grad_outputs=cotangents(*logits.shape),
                                 is_grads_batched=True)
    return jac.transpose(0, 1)  # (B,K,C,H,W)


def jacobian_vmap_vjp(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    from torch.func import vjp, vmap

    logits, vjp_fn = vjp(model, x.detach())
    (jac,) = vmap(vjp_fn)(cotangents(*logits.shape))
    return jac.transpose(0, 1)


# --------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------

def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 100])."""
    s = sorted(values)
    pos = (len(s) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return s[lo] + (s[hi] - s[lo]) * (pos - lo)


def time_per_image(fn: Callable[[], object], batch: int, warmup: int,
                   repeats: int) -> dict:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000.0 / batch)
    return {"median": statistics.median(samples),
            "spread": [percentile(samples, 10), percentile(samples, 90)],
            "samples": samples}


def forward_gflop(model: nn.Module, shape: tuple[int, ...]) -> float | None:
    """Forward GFLOP per image (multiply-add = 2 FLOPs, convs/matmuls only),
    from torch.utils.flop_counter; None if unavailable."""
    try:
        from torch.utils.flop_counter import FlopCounterMode
    except ImportError:
        return None
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, *shape))
    return counter.get_total_flops() / 1e9


# --------------------------------------------------------------------------
# Build information
# --------------------------------------------------------------------------

def build_info() -> dict:
    parallel = torch.__config__.parallel_info().splitlines()
    config = torch.__config__.show()
    blas = next((line.split("BLAS_INFO=")[1].split(",")[0]
                 for line in config.replace(" ", ",").split(",") if "BLAS_INFO=" in line), None)
    try:
        capability = torch.backends.cpu.get_cpu_capability()
    except AttributeError:
        capability = None
    return {
        "parallel_info": [ln.strip() for ln in parallel
                          if any(w in ln.lower() for w in ("thread", "parallel backend"))],
        "blas_info": blas,
        "mkl_available": torch.backends.mkl.is_available(),
        "mkldnn_available": torch.backends.mkldnn.is_available(),
        "openmp_available": torch.backends.openmp.is_available(),
        "cpu_capability": capability,
    }


# --------------------------------------------------------------------------

def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, choices=MODELS)
    ap.add_argument("--input", type=parse_input, default=None,
                    help="CxHxW (default 3x224x224; 1x28x28 for paper-cnn)")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2, help="untimed repeats first (default 2)")
    ap.add_argument("--loop-repeats", type=int, default=None,
                    help="repeats for the reference loop (b), which is K+1 times slower "
                         "(default: --repeats)")
    ap.add_argument("--onnx", default=None,
                    help="paper-cnn only: load weights from this ONNX file "
                         "(e.g. models/fashion-mnist-cnn.onnx)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--export-onnx", metavar="PATH", default=None,
                    help="only export the model (random weights, seed --seed) to PATH "
                         "as ONNX (opset 17, dynamic batch) and exit; used by compare.sh")
    ap.add_argument("--skip-loop", action="store_true",
                    help="do not time the reference loop (b)")
    args = ap.parse_args()

    if args.input is None:
        args.input = (1, 28, 28) if args.model == "paper-cnn" else (3, 224, 224)
    if args.onnx and args.model != "paper-cnn":
        ap.error("--onnx is only supported for paper-cnn")
    if min(args.batch, args.threads, args.repeats, args.classes) < 1 or args.warmup < 0:
        ap.error("--batch, --threads, --repeats, --classes must be >= 1; --warmup >= 0")
    loop_repeats = args.loop_repeats or args.repeats

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    model = build_model(args.model, args.input[0], args.classes).float().eval()
    if args.onnx:
        load_onnx_weights(model, args.onnx)
    if args.export_onnx:
        export_onnx(model, args.input, args.export_onnx)
        print(f"exported {args.model} {'x'.join(map(str, args.input))} -> {args.export_onnx}",
              file=sys.stderr)
        return 0
    for p in model.parameters():
        p.requires_grad_(False)  # gradients w.r.t. the input only
    x = torch.rand(args.batch, *args.input)
    load_before = os.getloadavg()[0]

    # Pick the Jacobian method and check it against the reference loop once.
    jacobian_method, jac_fn, jac_warnings = "autograd.grad(is_grads_batched=True)", jacobian_is_grads_batched, []
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            jac = jac_fn(model, x[:1])
        jac_warnings = sorted({str(w.message).splitlines()[0][:200] for w in caught})
    except Exception as exc:  # noqa: BLE001 -- any failure means "fall back"
        print(f"is_grads_batched failed ({type(exc).__name__}: {exc}); using vmap(vjp)",
              file=sys.stderr)
        jacobian_method, jac_fn = "torch.func.vmap(vjp)", jacobian_vmap_vjp
        jac = jac_fn(model, x[:1])
    ref = op_reference_loop(model, x[:1])
    check = (jac - ref).abs().max().item()
    scale = ref.abs().max().item()

    t_forward = time_per_image(lambda: op_forward(model, x), args.batch, args.warmup, args.repeats)
    t_saliency = time_per_image(lambda: op_saliency(model, x), args.batch, args.warmup, args.repeats)
    t_jacobian = time_per_image(lambda: jac_fn(model, x), args.batch, args.warmup, args.repeats)
    t_loop = None if args.skip_loop else time_per_image(
        lambda: op_reference_loop(model, x), args.batch, min(args.warmup, 1), loop_repeats)

    result = {
        "tool": "pytorch_reference",
        "model": args.model,
        "weights": args.onnx or "random",
        "batch": args.batch,
        "threads": args.threads,
        "torch_threads": torch.get_num_threads(),
        "input": list(args.input),
        "classes": args.classes,
        "repeats": args.repeats,
        "warmup": args.warmup,
        "forward_ms": t_forward["median"],
        "saliency_ms": t_saliency["median"],
        "reference_loop_ms": t_loop["median"] if t_loop else None,
        "jacobian_ms": t_jacobian["median"],
        "forward_ms_spread": t_forward["spread"],
        "saliency_ms_spread": t_saliency["spread"],
        "reference_loop_ms_spread": t_loop["spread"] if t_loop else None,
        "reference_loop_repeats": loop_repeats if t_loop else 0,
        "jacobian_ms_spread": t_jacobian["spread"],
        "jacobian_method": jacobian_method,
        "jacobian_warnings": jac_warnings,
        "jacobian_check_max_abs_diff": check,
        "jacobian_check_max_abs": scale,
        "gflop_per_image": forward_gflop(model, args.input),
        "torch": torch.__version__,
        **build_info(),
        "python": platform.python_version(),
        # 1-minute load average before and after timing: the benchmark shares
        # the machine, and numbers taken under load are not comparable.
        "loadavg_1min": [load_before, os.getloadavg()[0]],
        # Peak resident memory of this process (torch, the model, the timed passes), MiB.
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "env": {k: os.environ.get(k) for k in RECORDED_ENV},
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
