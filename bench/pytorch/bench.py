"""The PyTorch side of bench/side_by_side.sh: images/s of inference (batch 1 and the batch) and of a
training step at the batch, for the models in yolo_models.py, with the threads given.

python3 bench.py --model yolov4-tiny --size 416 --batch 8 --threads 2 --repeats 3 [--check-keys DIR]

The training step is forward, a YOLO-style loss (BCE objectness over every cell, BCE classes and a
box regression on the cells that hold one of 4 objects per image), backward and SGD (Nesterov,
momentum 0.937, weight decay 5e-4), as model_benchmark's step is on the Swift side, whose loss (the
reference's, with target assignment and CIoU) does a little more work. Prints one JSON line."""
import argparse
import json
import resource
import time

import torch
import torch.nn.functional as F

import yolo_models


def yolo_style_loss(outputs, classes, generator):
    total = 0
    for out in outputs:
        b, _, h, w = out.shape
        p = out.view(b, 3, 5 + classes, h, w)
        obj_target = torch.zeros(b, 3, h, w)
        idx = torch.randint(0, 3 * h * w, (b, 4), generator=generator)
        obj_target.view(b, -1).scatter_(1, idx, 1.0)
        mask = obj_target.bool()
        total = total + F.binary_cross_entropy_with_logits(p[:, :, 4], obj_target)
        cls_target = torch.zeros(b, 3, classes, h, w)
        cls = p[:, :, 5:]
        total = total + F.binary_cross_entropy_with_logits(cls.permute(0, 1, 3, 4, 2)[mask],
                                                           cls_target.permute(0, 1, 3, 4, 2)[mask])
        box = torch.sigmoid(p[:, :, 0:2]).permute(0, 1, 3, 4, 2)[mask]
        wh = torch.exp(p[:, :, 2:4].clamp(max=4)).permute(0, 1, 3, 4, 2)[mask]
        total = total + ((box - 0.5) ** 2).sum() + ((wh - 1) ** 2).sum()
    return total


def median_seconds(repeats, body):
    body()   # warm-up
    samples = []
    for _ in range(max(repeats, 1)):
        start = time.perf_counter()
        body()
        samples.append(time.perf_counter() - start)
    return sorted(samples)[len(samples) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="yolov4-tiny")
    parser.add_argument("--size", type=int, default=416)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--classes", type=int, default=80)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--check-keys", help="folder of the reference key lists (20 classes)")
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    make = yolo_models.YOLOv4 if a.model == "yolov4" else yolo_models.YOLOv4Tiny
    if a.check_keys:
        name = "yolov4_state_dict_keys.txt" if a.model == "yolov4" else "yolov4_tiny_state_dict_keys.txt"
        yolo_models.check_keys(make(20), f"{a.check_keys}/{name}")
    torch.manual_seed(0)
    model = make(a.classes)
    result = {"model": a.model, "size": a.size, "batch": a.batch, "threads": torch.get_num_threads(),
              "torch": torch.__version__}
    model.eval()
    with torch.no_grad():
        for b in (1, a.batch):
            x = torch.rand(b, 3, a.size, a.size)
            result[f"inference_b{b}"] = b / median_seconds(a.repeats, lambda: model(x))
    model.train()
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.937, nesterov=True, weight_decay=5e-4)
    x = torch.rand(a.batch, 3, a.size, a.size)
    generator = torch.Generator().manual_seed(2)

    def step():
        optimizer.zero_grad()
        yolo_style_loss(model(x), a.classes, generator).backward()
        optimizer.step()

    result[f"train_b{a.batch}"] = a.batch / median_seconds(a.repeats, step)
    result["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
