#!/usr/bin/env bash
# The main command: installs what is missing, builds in release mode and runs the main job.
# Today the main job is the tensor core's benchmark on YOLOv4-tiny's convolutions; it grows into
# demo-data generation and training as those parts land.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build -c release
.build/release/tensorcore_benchmark "$@"
