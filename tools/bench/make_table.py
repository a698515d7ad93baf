#!/usr/bin/env python3
"""Render the saliencyd-vs-PyTorch benchmark table (Markdown) for compare.sh.

Reads, for every CASE given, ``DIR/CASE.pytorch.json`` (output of
pytorch_reference.py) and, if present, ``DIR/CASE.saliencyd.json`` (output of
``saliencyd bench --json``), and prints one Markdown document: machine, date,
the commands that produced the files, the table, and how every derived column
is defined.  Paired rounds (``DIR/CASE.roundR.{saliencyd,pytorch}.json``,
compare.sh's ROUNDS) add a second table: each round's gradient and Jacobian
ratios, the main runs as round 0, and their medians.  Uses only the standard
library.

Usage:
  make_table.py --dir DIR --commands DIR/commands.txt CASE [CASE ...]
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
from pathlib import Path

# A p90/p10 ratio above this flags a timing as noisy in the notes.
NOISY_SPREAD = 1.5


def machine() -> dict:
    """CPU model name and core counts from lscpu (falls back to os.cpu_count)."""
    info = {"model_name": platform.processor() or "unknown", "cpus": os.cpu_count()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return info
    fields = {}
    for line in out.splitlines():
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    info["model_name"] = fields.get("Model name", info["model_name"])
    info["cpus"] = fields.get("CPU(s)", info["cpus"])
    info["cores_per_socket"] = fields.get("Core(s) per socket")
    info["threads_per_core"] = fields.get("Thread(s) per core")
    info["sockets"] = fields.get("Socket(s)")
    return info


def fmt_ms(v: float | None) -> str:
    if v is None:
        return "—"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    return f"{v:.2f}"


def fmt_mb(v: float | None) -> str:
    return "—" if v is None else f"{v:.0f}"


def ratio(a: float | None, b: float | None) -> str:
    if a is None or b is None or b == 0:
        return "—"
    r = a / b
    return f"{r:.2f}" if r >= 0.1 else f"{r:.3f}"


def load(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.exists() else None


def paired_rounds(directory: Path, case: str, sd: dict | None, pt: dict) -> list[tuple[dict, dict]]:
    """The case's paired (saliencyd, PyTorch) results: the main runs, then rounds 1, 2, … in order
    (a round missing either file is left out)."""
    pairs = [(sd, pt)] if sd else []
    numbers = sorted(int(m.group(1)) for f in directory.glob(f"{case}.round*.saliencyd.json")
                     if (m := re.fullmatch(re.escape(case) + r"\.round(\d+)\.saliencyd\.json", f.name)))
    for n in numbers:
        round_sd = load(directory / f"{case}.round{n}.saliencyd.json")
        round_pt = load(directory / f"{case}.round{n}.pytorch.json")
        if round_sd and round_pt:
            pairs.append((round_sd, round_pt))
    return pairs


def round_ratios(pairs: list[tuple[dict, dict]], sd_key: str, pt_key: str) -> list[float]:
    return [s[sd_key] / p[pt_key] for s, p in pairs
            if s.get(sd_key) is not None and p.get(pt_key)]


def rounds_row(name: str, batch: str, pairs: list[tuple[dict, dict]]) -> list[str]:
    """One row of the paired-rounds table: per-round ratios, their medians, the time ranges."""
    grad = round_ratios(pairs, "gradient_ms", "saliency_ms")
    jac = round_ratios(pairs, "jacobian_ms", "jacobian_ms")

    def listed(values: list[float]) -> str:
        return ", ".join(f"{v:.2f}" for v in values) if values else "—"

    def median(values: list[float]) -> str:
        return f"**{statistics.median(values):.2f}**" if values else "—"

    def span(values: list[float]) -> str:
        return f"{fmt_ms(min(values))}–{fmt_ms(max(values))}" if values else "—"

    return [name, batch, str(len(pairs)), listed(grad), median(grad), listed(jac), median(jac),
            span([s["gradient_ms"] for s, _ in pairs if s.get("gradient_ms") is not None]),
            span([p["saliency_ms"] for _, p in pairs if p.get("saliency_ms") is not None]),
            span([s["jacobian_ms"] for s, _ in pairs if s.get("jacobian_ms") is not None]),
            span([p["jacobian_ms"] for _, p in pairs if p.get("jacobian_ms") is not None])]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--commands", type=Path, default=None)
    ap.add_argument("cases", nargs="+")
    args = ap.parse_args()

    m = machine()
    rows, notes, first_pt, sd_kernels, sd_gemm = [], [], None, {}, {}
    round_rows = []
    for case in args.cases:
        pt = load(args.dir / f"{case}.pytorch.json")
        sd = load(args.dir / f"{case}.saliencyd.json")
        if pt is None:
            raise SystemExit(f"missing {args.dir / (case + '.pytorch.json')}")
        first_pt = first_pt or pt
        if sd and sd.get("blas_core"):
            sd_kernels.setdefault(sd["blas_core"], []).append(sd.get("sgemm_gflops") or 0.0)
        if sd and sd.get("gemm_kernels"):
            sd_gemm.setdefault(sd["gemm_kernels"], []).append(sd.get("engine_gemm_gflops") or 0.0)
        classes = (sd or pt)["classes"]
        gflop = sd.get("gflop_per_image") if sd else None
        gflop_src = ""
        if gflop is None and pt.get("gflop_per_image") is not None:
            gflop, gflop_src = pt["gflop_per_image"], "†"
        roofline = None
        if sd and sd.get("gflop_per_image") and sd.get("sgemm_gflops"):
            roofline = sd["gflop_per_image"] * (1 + classes) / sd["sgemm_gflops"] * 1000.0
        sd_fwd = sd.get("forward_ms") if sd else None
        sd_grad = sd.get("gradient_ms") if sd else None
        sd_jac = sd.get("jacobian_ms") if sd else None
        name = case.rsplit("-b", 1)[0]
        rows.append([
            name, "×".join(map(str, pt["input"])), str(pt["batch"]), str(pt["threads"]), str(classes),
            f"{gflop:.3g}{gflop_src}" if gflop is not None else "—",
            fmt_ms(sd_fwd), fmt_ms(sd_grad), fmt_ms(sd_jac),
            fmt_ms(pt["forward_ms"]), fmt_ms(pt["saliency_ms"]),
            fmt_ms(pt.get("reference_loop_ms")), fmt_ms(pt["jacobian_ms"]),
            fmt_ms(roofline),
            ratio(sd_grad, pt["saliency_ms"]), ratio(sd_jac, pt["jacobian_ms"]),
            ratio(sd_jac, pt.get("reference_loop_ms")), ratio(sd_jac, roofline),
            fmt_mb(sd.get("peak_resident_mb") if sd else None), fmt_mb(pt.get("peak_rss_mb")),
        ])
        if pt.get("jacobian_method", "").startswith("torch.func"):
            notes.append(f"{case}: (c) used {pt['jacobian_method']} (is_grads_batched failed)")
        load_avg = pt.get("loadavg_1min")
        if load_avg and max(load_avg) > float(pt["threads"]) + 0.5:
            notes.append(f"{case}: 1-min load average {load_avg[0]:.1f}→{load_avg[1]:.1f} during the "
                         f"PyTorch run (> threads): the machine was busy, treat as noisy")
        for who, res in (("PyTorch", pt), ("saliencyd", sd)):
            wide = [k[:-len("_ms_spread")] for k, v in sorted((res or {}).items())
                    if k.endswith("_ms_spread") and v and v[0] > 0 and v[1] / v[0] > NOISY_SPREAD]
            if wide:
                notes.append(f"{case}: {who} p90/p10 > {NOISY_SPREAD} for {', '.join(wide)}: noisy")
        if sd is None:
            notes.append(f"{case}: no saliencyd result (PyTorch half only)")
        pairs = paired_rounds(args.dir, case, sd, pt)
        if len(pairs) > 1:
            round_rows.append(rounds_row(name, str(pt["batch"]), pairs))

    header = ["model", "input", "B", "T", "K", "GFLOP/img",
              "sd fwd", "sd grad", "sd Jac",
              "pt fwd", "pt (a) grad", "pt (b) loop", "pt (c) Jac",
              "roofline Jac", "sd grad ÷ (a)", "sd Jac ÷ (c)", "sd Jac ÷ (b)", "sd Jac ÷ roofline",
              "sd peak MiB", "pt peak MiB"]
    align = ["---"] * 6 + ["---:"] * (len(header) - 6)

    pt0 = first_pt or {}
    out = ["# saliencyd vs PyTorch: forward, gradient and Jacobian timings", ""]
    cores = m.get("cores_per_socket")
    out.append(f"- machine: {m['model_name']}, {m['cpus']} CPUs"
               + (f" ({m.get('sockets')} socket × {cores} cores × {m.get('threads_per_core')} threads)"
                  if cores else ""))
    out.append(f"- date: {datetime.datetime.now().astimezone().isoformat(timespec='seconds')}")
    out.append(f"- PyTorch {pt0.get('torch')} (BLAS {pt0.get('blas_info')}, oneDNN "
               f"{'yes' if pt0.get('mkldnn_available') else 'no'}, CPU capability "
               f"{pt0.get('cpu_capability')}); env "
               + ", ".join(f"{k}={'unset' if v is None else v}" for k, v in (pt0.get("env") or {}).items())
               if pt0 else "")
    for core, rates in sd_kernels.items():
        out.append(f"- saliencyd: OpenBLAS {core} kernels, sgemm {min(rates):.0f}–{max(rates):.0f} GFLOP/s "
                   f"(measured before each model)")
    for kernels, rates in sd_gemm.items():
        who = {"avx512": "saliencyd's own AVX-512 kernels",
               "avx2": "saliencyd's own AVX2 kernels"}.get(kernels, "OpenBLAS")
        out.append(f"- saliencyd's products (GEMM) on {who}: {min(rates):.0f}–{max(rates):.0f} GFLOP/s "
                   f"as the engine runs them (1024³, a band of rows per thread; `engine_gemm_gflops`); "
                   f"the roofline stays OpenBLAS's sgemm")
    out += ["", "| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    out += [
        "",
        "All times are per image, in milliseconds: the median over the repeats (after warm-up) of",
        "the time for one batch of B images divided by B (p10/p90 spreads are in the JSON files).",
        "B = batch, T = threads (saliencyd `--threads`, PyTorch `torch.set_num_threads`), K = classes.",
        "",
        "- **sd fwd / sd grad / sd Jac**: `saliencyd bench` — forward only; forward + one input",
        "  gradient (predicted class) + its maps (vanilla, positive, negative); forward + whole",
        "  Jacobian (all K classes, one batched backward) + the five maps. PyTorch's columns time",
        "  the gradients only, without maps.",
        "- **pt fwd**: PyTorch forward under `torch.no_grad()`.",
        "- **pt (a) grad**: PyTorch autograd saliency — forward, then",
        "  `logits[range(B), argmax].sum().backward()` (one backward for the batch).",
        "- **pt (b) loop**: the paper's reference code — per image, one forward+backward for the",
        "  prediction and one forward+backward per class (K+1 pairs, batch size 1).",
        "- **pt (c) Jac**: one batched forward, then one `torch.autograd.grad(logits, x,",
        "  grad_outputs=identity cotangents, is_grads_batched=True)`.",
        "- **roofline Jac** = gflop_per_image × (1 + K) / sgemm_gflops × 1000 ms: one forward plus K",
        "  input-gradient backward passes, each counted as costing one forward's FLOPs, at",
        "  saliencyd's measured SGEMM rate (`gflop_per_image` and `sgemm_gflops` from `saliencyd bench`).",
        "- **Ratios** are time ratios, saliencyd ÷ reference: below 1 means saliencyd is faster",
        "  (for the roofline: how many times slower than the roofline saliencyd runs).",
        "- **sd / pt peak MiB**: each process's peak resident memory (`getrusage`'s `ru_maxrss`)",
        "  when its timings were done: saliencyd's `bench` (model, derived weights, workspace,",
        "  the 1024³ sgemm check) and the PyTorch script (torch, the model, all its timed passes,",
        "  the paper's loop included); `—` where a JSON file predates the field.",
    ]
    if round_rows:
        out += ["", "Paired rounds (the main runs above as round 0, then compare.sh's ROUNDS: saliencyd",
                "bench and pytorch_reference.py --skip-loop back to back, round after round):", "",
                "| model | B | rounds | sd grad ÷ (a) by round | median | sd Jac ÷ (c) by round | median "
                "| sd grad ms | pt (a) ms | sd Jac ms | pt (c) ms |",
                "|---|---|---:|---|---:|---|---:|---:|---:|---:|---:|"]
        out += ["| " + " | ".join(r) + " |" for r in round_rows]
    if any(r[5].endswith("†") for r in rows):
        out.append("- † GFLOP/img from PyTorch's `torch.utils.flop_counter` (no saliencyd result).")
    if notes:
        out += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    if args.commands and args.commands.exists():
        out += ["", "Commands:", "", "```"] + args.commands.read_text().rstrip("\n").splitlines() + ["```"]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
