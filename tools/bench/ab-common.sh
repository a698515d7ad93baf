# Sourced by the in-process A/B scripts (padded-plane/fill.sh, fold/fold.sh), with their arguments:
# strict mode, `here` (the calling script's folder), `repo`, `old_rev` (the first argument,
# default HEAD~1), a scratch folder `work` removed on exit, and `ab_timing`, the Swift file with
# the alternating timer both benchmarks link.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
old_rev=${1:-HEAD~1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ab_timing="$repo/tools/bench/ABTiming.swift"
