#!/usr/bin/env bash
# The main command: installs what is missing, builds in release mode, and fine-tunes YOLOv4-tiny on
# the built-in demo data from the project's pretrained weights with train.swift-config (the backbone
# frozen first, then everything): generates the demo dataset when VOCdevkit has no annotations, runs
# voc_annotation and kmeans_for_anchors, trains, draws the detections on two validation images with
# predict at its default confidence, and prints where everything is and how to continue the run.
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

# Two validation images through predict at its default confidence (0.5).
val=VOCdevkit/VOC2007/ImageSets/Main/val.txt
images=()
for id in $(head -n 2 "$val"); do images+=("VOCdevkit/VOC2007/JPEGImages/$id.jpg"); done
echo
echo "predict on two validation images (confidence 0.5):"
"$bin/predict" --model-path logs/best_epoch_weights.pth --dir-save img_out "${images[@]}"
echo "Drawn images: $(for i in "${images[@]}"; do printf 'img_out/%s.png ' "$(basename "${i%.*}")"; done)"
# Epochs done: one line per epoch in the newest loss folder's epoch_loss.txt (extra --cfg-options included).
epochs=$(wc -l < "$(ls -d logs/loss_* | sort | tail -n 1)/epoch_loss.txt")
cat <<EOT

To continue training from logs/:
  the reference's way:  .build/release/train --cfg-options "model_path='logs/last_epoch_weights.pth'" Init_Epoch=$epochs UnFreeze_Epoch=$((epochs + 20))
                        (model_path the weights to start from, Init_Epoch the epochs already done; the learning-rate
                        schedule and the frozen phase follow Init_Epoch)
  or exactly where it stopped, optimizer state included:  .build/release/train --resume --cfg-options UnFreeze_Epoch=$((epochs + 20))
EOT
