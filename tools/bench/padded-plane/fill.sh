#!/usr/bin/env bash
# A/B of PaddedPlane.fill (Sources/Engine/Kernels/PaddedPlane.swift) between a git revision and
# the working tree, in one process: both versions are compiled into one executable (-O -wmo, as
# the package's release build) and timed alternately, 41 rounds per shape, reporting median
# ns per plane and the new/old ratio (median, 10th and 90th percentile). It first checks that
# both fill every plane identically.
#
# Usage: tools/bench/padded-plane/fill.sh [OLD_REV]   (default: HEAD~1)
source "$(dirname "${BASH_SOURCE[0]}")/../ab-common.sh" "$@"
strip() {  # drop the window-geometry initialiser (it needs the engine's types) and rename the type
  python3 -c '
import sys
s = sys.stdin.read()
a = s.index("    /// The layout a window"); b = s.index("    init(rows: Int")
print((s[:a] + s[b:]).replace("struct PaddedPlane", "struct " + sys.argv[1]), end="")
' "$1"
}
git -C "$repo" show "$old_rev:Sources/Engine/Kernels/PaddedPlane.swift" | strip OldPlane > "$work/old.swift"
strip NewPlane < "$repo/Sources/Engine/Kernels/PaddedPlane.swift" > "$work/new.swift"
cat "$repo/Sources/Engine/Kernels/VectorMemory.swift" "$here/bench.swift" > "$work/main.swift"
swiftc -O -wmo "$work/main.swift" "$ab_timing" "$work/old.swift" "$work/new.swift" -o "$work/fill"
"$work/fill"
