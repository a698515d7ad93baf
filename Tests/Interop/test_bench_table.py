"""tools/bench/make_table.py on result files written here: the main table's ratios, and the
paired-rounds table compare.sh's ROUNDS adds (each round's ratios in order, the main runs as
round 0, their medians; a round missing its PyTorch file left out; no rounds table without
rounds)."""

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAKE_TABLE = REPO / "tools" / "bench" / "make_table.py"


def write(directory, name, values):
    (directory / name).write_text(json.dumps(values))


def saliencyd(gradient, jacobian):
    return {"classes": 10, "forward_ms": 10.0, "gradient_ms": gradient, "jacobian_ms": jacobian,
            "gflop_per_image": 3.6, "sgemm_gflops": 200.0}


def pytorch(saliency, jacobian, loop=None):
    result = {"input": [3, 224, 224], "batch": 1, "threads": 2, "classes": 10, "forward_ms": 20.0,
              "saliency_ms": saliency, "jacobian_ms": jacobian}
    if loop is not None:
        result["reference_loop_ms"] = loop
    return result


def render(directory, *cases):
    return subprocess.run([sys.executable, str(MAKE_TABLE), "--dir", str(directory), *cases],
                          capture_output=True, text=True, check=True).stdout


def test_paired_rounds_table(tmp_path):
    write(tmp_path, "resnet18-b1.saliencyd.json", saliencyd(30.0, 150.0))
    write(tmp_path, "resnet18-b1.pytorch.json", pytorch(60.0, 300.0, loop=600.0))
    # Rounds 1, 2 and 10 (numeric order, not text order), and 3 without its PyTorch file.
    for n, (grad, jac, a, c) in {1: (40.0, 160.0, 50.0, 400.0), 2: (21.0, 100.0, 70.0, 250.0),
                                 10: (33.0, 120.0, 55.0, 300.0)}.items():
        write(tmp_path, f"resnet18-b1.round{n}.saliencyd.json", saliencyd(grad, jac))
        write(tmp_path, f"resnet18-b1.round{n}.pytorch.json", pytorch(a, c))
    write(tmp_path, "resnet18-b1.round3.saliencyd.json", saliencyd(1.0, 1.0))
    out = render(tmp_path, "resnet18-b1")

    main_row = next(line for line in out.splitlines() if line.startswith("| resnet18 | 3×224×224"))
    cells = [cell.strip() for cell in main_row.strip("|").split("|")]
    # gradient ÷ (a), Jacobian ÷ (c), Jacobian ÷ (b), Jacobian ÷ roofline (3.6 × 11 / 200 s = 198 ms).
    assert cells[14:18] == ["0.50", "0.50", "0.25", "0.76"], cells

    rounds_row = next(line for line in out.splitlines() if line.startswith("| resnet18 | 1 | 4 |"))
    cells = [cell.strip() for cell in rounds_row.strip("|").split("|")]
    assert cells[3] == "0.50, 0.80, 0.30, 0.60", cells  # 30/60, 40/50, 21/70, 33/55
    assert cells[4] == "**0.55**", cells
    assert cells[5] == "0.50, 0.40, 0.40, 0.40", cells  # 150/300, 160/400, 100/250, 120/300
    assert cells[6] == "**0.40**", cells
    assert cells[7:11] == ["21.0–40.0", "50.0–70.0", "100–160", "250–400"], cells


def test_no_rounds_table_without_rounds(tmp_path):
    write(tmp_path, "resnet18-b1.saliencyd.json", saliencyd(30.0, 150.0))
    write(tmp_path, "resnet18-b1.pytorch.json", pytorch(60.0, 300.0))
    out = render(tmp_path, "resnet18-b1")
    assert "Paired rounds" not in out
    assert "| resnet18 | 3×224×224 |" in out
