#!/usr/bin/env bash
# The main command: installs what is missing, builds in release mode and runs the main job on the
# built-in demo data. Today that is data preparation: the demo dataset (generated when VOCdevkit has
# no annotations), voc_annotation and kmeans_for_anchors; training joins when the train tool lands.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
swift build -c release
bin=.build/release
if ! ls VOCdevkit/VOC2007/Annotations/*.xml >/dev/null 2>&1; then
  "$bin/make_demo_dataset"
  classes=model_data/demo_classes.txt
else
  classes=${CLASSES_PATH:-model_data/voc_classes.txt}
fi
"$bin/voc_annotation" --classes-path "$classes"
"$bin/kmeans_for_anchors" --anchors-num 6 --output model_data/demo_tiny_anchors.txt
echo "Data ready: 2007_train.txt, 2007_val.txt, model_data/demo_tiny_anchors.txt, kmeans_for_anchors.png"
