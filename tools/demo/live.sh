#!/usr/bin/env bash
# The live demo `make run` starts: saliencyd serve on the bundled model, a replay of the bundled
# samples into it (as an imagezmq sender would), and saliencyd tap printing the maps as they are
# published; serve prints a status line (frames/s, queue, drops) every second.
#
#   tools/demo/live.sh [BIN]     BIN defaults to .build/release/saliencyd
#   RATE=30 DURATION=20 tools/demo/live.sh    frames/s of the replay; stop after N seconds (default: Ctrl-C)
#
# Maps of the first messages are saved to out/live/ (.npy and .png per map).
set -euo pipefail
BIN=${1:-.build/release/saliencyd}
RATE=${RATE:-25}
DURATION=${DURATION:-0}
SOURCE=tcp://127.0.0.1:5555
OUTPUT=tcp://127.0.0.1:5560
mkdir -p out/live

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 0' INT TERM

LOG=out/live/serve.log
: > "$LOG"
"$BIN" serve --source "name=demo,socket=rep,endpoint=$SOURCE" --output "$OUTPUT" --status-interval 1 2> >(tee "$LOG" >&2) &
pids+=($!)
# Wait until serve has loaded the model and bound its sockets (it logs "ready:").
for _ in $(seq 1 300); do
  if grep -q "ready:" "$LOG"; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then echo "saliencyd serve exited; see above" >&2; exit 1; fi
  sleep 0.1
done
"$BIN" tap --endpoint "$OUTPUT" --save out/live --count 20 >/dev/null &
pids+=($!)
"$BIN" tap --endpoint "$OUTPUT" &
pids+=($!)
sleep 0.3
echo "replaying the bundled samples at $RATE frames/s into $SOURCE; maps published on $OUTPUT (Ctrl-C stops)" >&2
"$BIN" send --endpoint "$SOURCE" --loop --rate "$RATE" --settle 0 models/samples/samples.npy >/dev/null &
pids+=($!)
if [ "$DURATION" -gt 0 ]; then sleep "$DURATION"; else wait; fi
