#!/usr/bin/env bash
# The test command: installs what is missing (and NVRTC, so CUDA kernels are compile-checked without a
# GPU), then builds and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/fetch_nvrtc.sh
swift build --build-tests
swift test --skip-build --disable-swift-testing
