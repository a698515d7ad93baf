#!/usr/bin/env bash
# Regenerates Sources/Engine/ONNX/Generated/onnx.pb.swift from Debian's onnx.proto.
#
# How the committed file was produced (run by hand; not part of the build or CI):
#   protoc            libprotoc 3.21.12        (Debian 12 package protobuf-compiler 3.21.12-3+deb12u1)
#   onnx.proto        /usr/include/onnx/onnx.proto from Debian 12 package libonnx-dev 1.12.0-2+b4
#                     (sha256 a96f50c0fe1ff9180b6025843d4f7efcf53b024c83db55a36cd24a1e44345182,
#                      declares `syntax = "proto2"; package onnx;` -> Swift types are prefixed `Onnx_`)
#   protoc-gen-swift  1.39.0, built from apple/swift-protobuf 1.39.0 (the same version the Engine
#                     target links as its SwiftProtobuf runtime; the two must stay in step)
#
# What it does:
#   1. Creates a throw-away SwiftPM package OUTSIDE the repository (default /work/scratch-protobuf,
#      override with SCRATCH_DIR=...) depending on swift-protobuf exact 1.39.0, and runs
#      `swift build -c release --product protoc-gen-swift` there (~2-10 minutes on 2 cores).
#   2. Runs protoc with that plugin:
#        protoc --plugin=protoc-gen-swift=$PLUGIN \
#               --proto_path=/usr/include/onnx \
#               --swift_opt=Visibility=Internal \
#               --swift_out=Sources/Engine/ONNX/Generated \
#               /usr/include/onnx/onnx.proto
#      Visibility=Internal is protoc-gen-swift's default; it is spelled out so the intent is visible.
#
# Prerequisites: apt-get install protobuf-compiler libonnx-dev ; a Swift toolchain on PATH.
# Usage: tools/onnx/generate-onnx-proto.sh   (from anywhere; paths are resolved from this script)
set -euo pipefail

SWIFT_PROTOBUF_VERSION="1.39.0"
EXPECTED_PROTOC="libprotoc 3.21.12"
EXPECTED_LIBONNX_DEV="1.12.0-2+b4"
PROTO_DIR="/usr/include/onnx"
PROTO_FILE="$PROTO_DIR/onnx.proto"

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="$REPO_ROOT/Sources/Engine/ONNX/Generated"
SCRATCH_DIR="${SCRATCH_DIR:-/work/scratch-protobuf}"

die() { echo "generate-onnx-proto: $*" >&2; exit 1; }
warn() { echo "generate-onnx-proto: warning: $*" >&2; }

command -v protoc >/dev/null || die "protoc not found (apt-get install protobuf-compiler)"
command -v swift >/dev/null || die "swift not found on PATH"
[ -f "$PROTO_FILE" ] || die "$PROTO_FILE not found (apt-get install libonnx-dev)"
case "$(cd "$SCRATCH_DIR" 2>/dev/null && pwd || echo "$SCRATCH_DIR")/" in
  "$REPO_ROOT"/*) die "SCRATCH_DIR must be outside the repository ($REPO_ROOT)";;
esac

# Version checks: a different protoc or onnx.proto is allowed but changes what gets committed.
protoc_version="$(protoc --version)"
[ "$protoc_version" = "$EXPECTED_PROTOC" ] || warn "protoc is '$protoc_version', the committed file used '$EXPECTED_PROTOC'"
libonnx_version="$(dpkg-query -W -f='${Version}' libonnx-dev 2>/dev/null || echo unknown)"
[ "$libonnx_version" = "$EXPECTED_LIBONNX_DEV" ] || warn "libonnx-dev is '$libonnx_version', the committed file used '$EXPECTED_LIBONNX_DEV'"

# 1. Build protoc-gen-swift in the scratch package.
mkdir -p "$SCRATCH_DIR/Sources/Dummy"
cat > "$SCRATCH_DIR/Package.swift" <<SWIFT
// swift-tools-version:6.0
import PackageDescription

// Scratch package whose only purpose is to build protoc-gen-swift from swift-protobuf $SWIFT_PROTOBUF_VERSION.
let package = Package(
    name: "scratch-protobuf",
    dependencies: [
        .package(url: "https://github.com/apple/swift-protobuf", exact: "$SWIFT_PROTOBUF_VERSION"),
    ],
    targets: [
        .target(name: "Dummy", dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")]),
    ]
)
SWIFT
echo 'import SwiftProtobuf' > "$SCRATCH_DIR/Sources/Dummy/Dummy.swift"
(cd "$SCRATCH_DIR" && nice -n 19 swift build -c release --product protoc-gen-swift)
PLUGIN="$(cd "$SCRATCH_DIR" && swift build -c release --product protoc-gen-swift --show-bin-path)/protoc-gen-swift"
plugin_version="$("$PLUGIN" --version)"
[ "$plugin_version" = "protoc-gen-swift $SWIFT_PROTOBUF_VERSION" ] || die "unexpected plugin version '$plugin_version'"

# 2. Generate.
mkdir -p "$OUT_DIR"
protoc --plugin=protoc-gen-swift="$PLUGIN" \
       --proto_path="$PROTO_DIR" \
       --swift_opt=Visibility=Internal \
       --swift_out="$OUT_DIR" \
       "$PROTO_FILE"
echo "generated $OUT_DIR/onnx.pb.swift ($(wc -l < "$OUT_DIR/onnx.pb.swift") lines) with $protoc_version, $plugin_version, libonnx-dev $libonnx_version"
