#!/usr/bin/env bash
# Regenerates Sources/ONNX/onnx_subset.pb.swift from onnx_subset.proto. Only needed after editing the
# .proto: the generated file is committed, so the build needs neither protoc nor the plugin.
# Needs protoc (Debian: protobuf-compiler) and protoc-gen-swift built from the swift-protobuf version
# Package.swift names, e.g.:
#   git clone https://github.com/apple/swift-protobuf /tmp/swift-protobuf && cd /tmp/swift-protobuf &&
#   git checkout 1.39.0 && swift build -c release --product protoc-gen-swift
set -euo pipefail
cd "$(dirname "$0")/.."
plugin="${PROTOC_GEN_SWIFT:-/tmp/swift-protobuf/.build/release/protoc-gen-swift}"
[ -x "$plugin" ] || { echo "generate_onnx_proto: no protoc-gen-swift at $plugin (set PROTOC_GEN_SWIFT)" >&2; exit 1; }
protoc --plugin=protoc-gen-swift="$plugin" --swift_opt=Visibility=Public --swift_out=Sources/ONNX \
  -I Sources/ONNX Sources/ONNX/onnx_subset.proto
echo "wrote Sources/ONNX/onnx_subset.pb.swift"
