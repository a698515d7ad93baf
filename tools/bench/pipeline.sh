#!/usr/bin/env bash
# End-to-end pipeline benchmark: saliencyd send → serve → tap on loopback, against the engine
# alone (saliencyd bench) for the same model, batch and threads, in one run.
#
#   tools/bench/pipeline.sh [MODEL] [COUNT] [BATCH] [WORKERS] [THREADS] [INPUT...]
#
# THREADS is each worker's engine thread team (`--worker-threads`; OpenBLAS one thread per call),
# the same threading as `saliencyd bench --threads` (its default `--parallel engine`).
# Defaults: the bundled model, 400 frames, batch 8, 1 worker, 2 threads, the bundled
# samples (models/samples/samples.npy, replayed in a loop). The source is PULL with `block`
# (lossless, so serve runs flat out); every frame gets all five maps (the whole Jacobian).
# Prints one JSON object: the pipeline's frames/s and latency percentiles (tap's receipt minus
# serve's t_received), the engine's frames/s from `bench` (WORKERS × 1000 / jacobian_ms: W
# independent workspaces of T threads each, as serve runs them, when W × T ≤ cores), and the
# pipeline's overhead = 1 − pipeline frames/s ÷ engine frames/s. send and tap run on the same
# machine and their CPU time counts against the pipeline.
set -euo pipefail
BIN=${BIN:-.build/release/saliencyd}
MODEL=${1:-models/fashion-mnist-cnn.onnx}
COUNT=${2:-400}
BATCH=${3:-8}
WORKERS=${4:-1}
BLAS=${5:-2}
shift $(( $# < 5 ? $# : 5 ))
INPUTS=("$@")
[ ${#INPUTS[@]} -gt 0 ] || INPUTS=(models/samples/samples.npy)
EXTRA=${EXTRA:-}   # e.g. EXTRA="--input-size 224x224"

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# shellcheck disable=SC2086
"$BIN" serve --model "$MODEL" $EXTRA --source "name=bench,socket=pull,endpoint=tcp://127.0.0.1:*,queue_capacity=$((2 * BATCH))" \
  --output tcp://127.0.0.1:* --workers "$WORKERS" --worker-threads "$BLAS" --blas-threads 1 --max-batch "$BATCH" --status-interval 0 --metrics-address 127.0.0.1:0 \
  --maps vanilla,positive,negative,active,inactive 2> "$work/serve.log" &
serve=$!
for _ in $(seq 1 600); do grep -q "ready:" "$work/serve.log" && break; sleep 0.1; done
source=$(grep -o 'source bench: PULL bound to tcp://[0-9.:]*' "$work/serve.log" | awk '{print $NF}')
output=$(grep -o 'ready: maps on tcp://[0-9.:]*' "$work/serve.log" | awk '{print $NF}')
[ -n "$source" ] && [ -n "$output" ] || { cat "$work/serve.log" >&2; exit 1; }

"$BIN" tap --endpoint "$output" --count "$COUNT" --summary --idle-timeout 300 > "$work/tap.json" &
tap=$!
sleep 0.5
"$BIN" send --socket push --endpoint "$source" --loop --count "$COUNT" --settle 0 "${INPUTS[@]}" > /dev/null
wait "$tap"
kill -TERM "$serve" 2>/dev/null || true
wait "$serve" 2>/dev/null || true

# shellcheck disable=SC2086
"$BIN" bench --model "$MODEL" $EXTRA --batch "$BATCH" --threads "$BLAS" --repeats 10 --json > "$work/bench.json"

python3 - "$work/tap.json" "$work/bench.json" "$MODEL" "$BATCH" "$WORKERS" "$BLAS" <<'PY'
import json, sys
tap = json.load(open(sys.argv[1])); bench = json.load(open(sys.argv[2]))
engine_fps = int(sys.argv[5]) * 1000.0 / bench["jacobian_ms"]
out = {
    "model": sys.argv[3], "batch": int(sys.argv[4]), "workers": int(sys.argv[5]), "threads": int(sys.argv[6]),
    "frames": tap["messages"], "pipeline_fps": tap["frames_per_second"],
    "latency_ms": tap["latency_ms"], "compute_ms_p50": tap["compute_ms_p50"], "queue_ms_p50": tap["queue_ms_p50"],
    "mean_batch": tap["mean_batch"], "engine_jacobian_ms": bench["jacobian_ms"], "engine_fps": engine_fps,
    "overhead": 1 - tap["frames_per_second"] / engine_fps, "blas_core": bench.get("blas_core"),
}
print(json.dumps(out))
PY
