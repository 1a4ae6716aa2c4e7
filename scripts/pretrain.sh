#!/usr/bin/env bash
# Makes the weights the demo fine-tunes from, as a user's own pretraining run would: generates the
# pretraining shapes (make_pretrain_dataset), splits them (voc_annotation), fits anchors at the
# training size (kmeans_for_anchors), trains YOLOv4-tiny from scratch with
# configs/pretrain_shapes.swift-config, then writes the best epoch's weights in half precision as
#   model_data/yolov4_tiny_pretrained_shapes.pth       the whole model (model_path)
#   model_data/CSPdarknet53_tiny_backbone_weights.pth  the backbone only (pretrained = True)
# Extra arguments go to train (e.g. --cfg-options UnFreeze_Epoch=5 for a quick try).
# Interrupted, it continues where it stopped: ./scripts/pretrain.sh --resume
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "Building (release)..."
swift build -c release 2>&1 | tail -1
bin="$PWD/.build/release"
start=$(date +%s)
if ! ls pretrain_data/VOCdevkit/VOC2007/Annotations/*.xml >/dev/null 2>&1; then
  "$bin/make_pretrain_dataset"
fi
(cd pretrain_data && "$bin/voc_annotation" --voc-path VOCdevkit --classes-path ../model_data/pretrain_classes.txt)
"$bin/kmeans_for_anchors" --anchors-num 6 --input-shape 224,224 --annotations pretrain_data/VOCdevkit/VOC2007/Annotations \
  --output model_data/pretrain_tiny_anchors.txt --plot pretrain_data/kmeans_for_anchors.png
"$bin/train" --config configs/pretrain_shapes.swift-config "$@"
"$bin/export_weights" --model-path pretrain_data/logs/best_epoch_weights.pth --half \
  --output model_data/yolov4_tiny_pretrained_shapes.pth
"$bin/export_weights" --model-path pretrain_data/logs/best_epoch_weights.pth --half --backbone-only \
  --output model_data/CSPdarknet53_tiny_backbone_weights.pth
echo "Pretraining done in $(( ($(date +%s) - start) / 60 )) min: model_data/yolov4_tiny_pretrained_shapes.pth and" \
  "model_data/CSPdarknet53_tiny_backbone_weights.pth"
