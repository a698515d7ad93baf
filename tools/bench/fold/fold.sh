#!/usr/bin/env bash
# A/B of Im2Col.fold (Sources/Engine/Kernels/Im2Col.swift) between a git revision and the working
# tree, in one process: both versions are compiled into one executable (-O -wmo, as the package's
# release build) and timed alternately, 41 rounds per shape, reporting median µs per call and the
# new/old ratio (median, 10th and 90th percentile). It first checks that both give bit-identical
# sums on every shape.
#
# Usage: tools/bench/fold/fold.sh [OLD_REV]   (default: HEAD~1)
source "$(dirname "${BASH_SOURCE[0]}")/../ab-common.sh" "$@"
git -C "$repo" show "$old_rev:Sources/Engine/Kernels/Im2Col.swift" | sed 's/^enum Im2Col/enum OldIm2Col/' > "$work/old.swift"
sed 's/^enum Im2Col/enum NewIm2Col/' "$repo/Sources/Engine/Kernels/Im2Col.swift" > "$work/new.swift"
# WindowGeometry and its error type, without the rest of the engine.
python3 -c '
import sys
s = open(sys.argv[1]).read()
print(s[s.index("public struct OperatorError"):], end="")
' "$repo/Sources/Engine/EngineError.swift" > "$work/error.swift"
cat "$repo/Sources/Engine/Kernels/VectorMemory.swift" "$repo/Sources/Engine/Operators/SpatialWindow.swift" \
    "$work/error.swift" "$here/bench.swift" > "$work/main.swift"
swiftc -O -wmo "$work/main.swift" "$ab_timing" "$work/old.swift" "$work/new.swift" -o "$work/fold"
"$work/fold"
