#!/usr/bin/env bash
# The main command: installs what is missing, builds in release mode, and trains YOLOv4-tiny on the
# built-in demo data with train.swift-config: generates the demo dataset when VOCdevkit has no
# annotations, runs voc_annotation and kmeans_for_anchors, trains, and prints the final mAP and
# where the logs and weights are.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "Building (release)..."
swift build -c release 2>&1 | tail -1
bin=.build/release
if ! ls VOCdevkit/VOC2007/Annotations/*.xml >/dev/null 2>&1; then
  "$bin/make_demo_dataset"
fi
"$bin/voc_annotation" --classes-path model_data/demo_classes.txt
# Anchors are pixels at the training input size (train.swift-config: input_shape = [224, 224]).
"$bin/kmeans_for_anchors" --anchors-num 6 --input-shape 224,224 --output model_data/demo_tiny_anchors.txt
"$bin/train" "$@"
