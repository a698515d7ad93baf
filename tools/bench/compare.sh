#!/usr/bin/env bash
# Benchmark saliencyd against PyTorch, back to back, and write a Markdown table.
#
# Usage: tools/bench/compare.sh [--pytorch-only] [MODEL ...]
#
#   MODEL   resnet18 | mobilenet_v2 | efficientnet_b0 | paper-cnn
#           (default: all four).  paper-cnn is the bundled model
#           models/fashion-mnist-cnn.onnx (1x28x28); PyTorch rebuilds it with
#           the same layout and loads its weights.  The torchvision models are
#           exported on the fly (random weights, num_classes=10, 3x224x224,
#           opset 17, TorchScript exporter) to $BENCH_DIR/<model>.onnx.
#   --pytorch-only
#           skip saliencyd (table has PyTorch columns only); for testing this
#           script before `saliencyd bench` exists.
#
# For every model and batch size it runs, one right after the other,
#   $SALIENCYD bench --model M.onnx --batch B --threads T --repeats R --json
#   $PYTHON tools/bench/pytorch_reference.py --model ... --batch B --threads T --repeats R
# saving $BENCH_DIR/<model>-b<B>.{saliencyd,pytorch}.json, then prints the
# table (tools/bench/make_table.py) to stdout and to $BENCH_DIR/table.md.
#
# Environment (defaults in brackets):
#   SALIENCYD     saliencyd binary                     [.build/release/saliencyd]
#   PYTHON        Python with torch + torchvision      [/work/venv-torch/bin/python]
#   BENCH_DIR     output directory                     [/tmp/saliencyd-bench]
#   THREADS       threads for both sides               [2]
#   REPEATS       timed repeats                        [10]
#   LOOP_REPEATS  repeats of PyTorch's per-class loop  [$REPEATS]
#   BATCHES       batch sizes for the torchvision models        [1]
#   CNN_BATCHES   batch sizes for the bundled model (paper-cnn) [1 16 64]
#   ROUNDS        extra paired rounds per case           [0]
#
# Paired rounds (ROUNDS=N): after each case's two runs, N more rounds of the
# same saliencyd bench, then pytorch_reference.py --skip-loop (no paper's loop),
# saved as $BENCH_DIR/<case>.round<R>.{saliencyd,pytorch}.json. On a shared,
# noisy machine the speed moves within minutes; a ratio taken from two runs
# seconds apart, repeated, is steadier than one run of each. The table then
# adds, per case, the gradient and Jacobian ratios of every round (the main
# runs as round 0) and their medians.
#
# OPENBLAS_* variables in the environment are passed through untouched (they
# tune saliencyd's OpenBLAS; PyTorch uses MKL/oneDNN and records them only).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

SALIENCYD=${SALIENCYD:-.build/release/saliencyd}
PYTHON=${PYTHON:-/work/venv-torch/bin/python}
BENCH_DIR=${BENCH_DIR:-/tmp/saliencyd-bench}
THREADS=${THREADS:-2}
REPEATS=${REPEATS:-10}
LOOP_REPEATS=${LOOP_REPEATS:-$REPEATS}
BATCHES=${BATCHES:-1}
CNN_BATCHES=${CNN_BATCHES:-1 16 64}
ROUNDS=${ROUNDS:-0}
BUNDLED_MODEL=models/fashion-mnist-cnn.onnx

die() { echo "compare.sh: $*" >&2; exit 1; }

pytorch_only=0
models=()
for arg in "$@"; do
    case $arg in
        --pytorch-only) pytorch_only=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        resnet18|mobilenet_v2|efficientnet_b0|paper-cnn) models+=("$arg") ;;
        *) die "unknown model or option '$arg' (models: resnet18 mobilenet_v2 efficientnet_b0 paper-cnn)" ;;
    esac
done
[ ${#models[@]} -gt 0 ] || models=(resnet18 mobilenet_v2 efficientnet_b0 paper-cnn)

"$PYTHON" -c 'import torch, torchvision' 2>/dev/null \
    || die "$PYTHON cannot import torch and torchvision (set PYTHON=...)"
if [ "$pytorch_only" -eq 0 ]; then
    [ -x "$SALIENCYD" ] || die "no saliencyd binary at '$SALIENCYD' (build with 'swift build -c release' or set SALIENCYD=...)"
    # Unknown subcommands make swift-argument-parser print the top-level help,
    # so look for 'bench' in the SUBCOMMANDS list rather than at exit codes.
    if ! "$SALIENCYD" --help 2>&1 | grep -Eq '^[[:space:]]+bench([[:space:]]|$)'; then
        die "'$SALIENCYD' has no 'bench' subcommand (this build predates 'saliencyd bench'); rebuild it, or run with --pytorch-only for the PyTorch half"
    fi
fi

mkdir -p "$BENCH_DIR"
commands="$BENCH_DIR/commands.txt"
: >"$commands"
cases=()

# Run a command, logging it (one line, shell-quoted) to commands.txt.
run_logged() {
    local out=$1; shift
    printf '%q ' "$@" | sed 's/ $//' >>"$commands"
    printf ' > %s\n' "$out" >>"$commands"
    echo "+ $* > $out" >&2
    "$@" >"$out"
}

for model in "${models[@]}"; do
    if [ "$model" = paper-cnn ]; then
        onnx=$BUNDLED_MODEL
        batches=$CNN_BATCHES
        ref_args=(--model paper-cnn --onnx "$BUNDLED_MODEL" --input 1x28x28 --classes 10)
    else
        onnx=$BENCH_DIR/$model.onnx
        batches=$BATCHES
        ref_args=(--model "$model" --input 3x224x224 --classes 10)
        if [ ! -s "$onnx" ]; then
            run_logged /dev/null "$PYTHON" tools/bench/pytorch_reference.py \
                "${ref_args[@]}" --export-onnx "$onnx"
        fi
    fi
    for batch in $batches; do
        case_name=$model-b$batch
        if [ "$pytorch_only" -eq 0 ]; then
            run_logged "$BENCH_DIR/$case_name.saliencyd.json" "$SALIENCYD" bench --model "$onnx" \
                --batch "$batch" --threads "$THREADS" --repeats "$REPEATS" --json
        else
            rm -f "$BENCH_DIR/$case_name.saliencyd.json"
        fi
        run_logged "$BENCH_DIR/$case_name.pytorch.json" "$PYTHON" tools/bench/pytorch_reference.py \
            "${ref_args[@]}" --batch "$batch" --threads "$THREADS" --repeats "$REPEATS" \
            --loop-repeats "$LOOP_REPEATS"
        rm -f "$BENCH_DIR/$case_name".round*.json
        if [ "$pytorch_only" -eq 0 ]; then
            for round in $(seq 1 "$ROUNDS"); do
                run_logged "$BENCH_DIR/$case_name.round$round.saliencyd.json" "$SALIENCYD" bench --model "$onnx" \
                    --batch "$batch" --threads "$THREADS" --repeats "$REPEATS" --json
                run_logged "$BENCH_DIR/$case_name.round$round.pytorch.json" "$PYTHON" tools/bench/pytorch_reference.py \
                    "${ref_args[@]}" --batch "$batch" --threads "$THREADS" --repeats "$REPEATS" --skip-loop
            done
        fi
        cases+=("$case_name")
    done
done

"$PYTHON" tools/bench/make_table.py --dir "$BENCH_DIR" --commands "$commands" "${cases[@]}" \
    | tee "$BENCH_DIR/table.md"
