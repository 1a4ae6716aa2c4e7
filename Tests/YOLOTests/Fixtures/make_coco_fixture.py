"""Writes coco_case.txt: a random scene and the twelve figures pycocotools' COCOeval reports for it.

Run with pycocotools installed (pip install pycocotools): python3 make_coco_fixture.py
Lines: `gt image class x1 y1 x2 y2 difficult`, `dt image class x1 y1 x2 y2 score`, `stats v1 ... v12`.
Difficult boxes go to COCO as iscrowd=1, which is how our evaluator treats them.
"""
import random

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

rng = random.Random(2026)
images, classes = 14, 3
gts, dts = [], []
for image in range(images):
    for _ in range(rng.randint(0, 7)):
        side = rng.choice([rng.uniform(6, 30), rng.uniform(33, 95), rng.uniform(100, 220)])
        w, h = side * rng.uniform(0.6, 1.4), side * rng.uniform(0.6, 1.4)
        x1, y1 = round(rng.uniform(0, 300), 1), round(rng.uniform(0, 300), 1)
        box = (x1, y1, round(x1 + w, 1), round(y1 + h, 1))
        c = rng.randrange(classes)
        gts.append((image, c, *box, int(rng.random() < 0.12)))
        for _ in range(rng.choice([0, 1, 1, 1, 2])):   # missed, found, or found twice
            j = lambda v, s: round(v + rng.gauss(0, s), 1)
            bx = (j(box[0], w * 0.08), j(box[1], h * 0.08), j(box[2], w * 0.08), j(box[3], h * 0.08))
            if bx[2] > bx[0] and bx[3] > bx[1]:
                dts.append((image, c if rng.random() < 0.85 else rng.randrange(classes), *bx, round(rng.random(), 4)))
    for _ in range(rng.randint(0, 3)):   # false positives
        x1, y1, s = rng.uniform(0, 300), rng.uniform(0, 300), rng.uniform(5, 150)
        dts.append((image, rng.randrange(classes), round(x1, 1), round(y1, 1), round(x1 + s, 1), round(y1 + s * 0.8, 1),
                    round(rng.random(), 4)))
# Twelve confident false positives in the image and class of the first detection, so that its true
# positives fall outside the best 10 (AR@10 below AR@100).
image, c = dts[0][0], dts[0][1]
for _ in range(12):
    x1, y1 = rng.uniform(400, 500), rng.uniform(400, 500)
    dts.append((image, c, round(x1, 1), round(y1, 1), round(x1 + 20, 1), round(y1 + 20, 1), round(rng.uniform(0.95, 1), 4)))

coco = COCO()
coco.dataset = {
    "images": [{"id": i + 1} for i in range(images)],
    "categories": [{"id": c + 1, "name": str(c)} for c in range(classes)],
    "annotations": [{"id": n + 1, "image_id": g[0] + 1, "category_id": g[1] + 1, "iscrowd": g[6],
                     "bbox": [g[2], g[3], g[4] - g[2], g[5] - g[3]], "area": (g[4] - g[2]) * (g[5] - g[3])}
                    for n, g in enumerate(gts)],
}
coco.createIndex()
results = coco.loadRes([{"image_id": d[0] + 1, "category_id": d[1] + 1, "bbox": [d[2], d[3], d[4] - d[2], d[5] - d[3]],
                         "score": d[6]} for d in dts])
evaluation = COCOeval(coco, results, "bbox")
evaluation.evaluate()
evaluation.accumulate()
evaluation.summarize()
with open("coco_case.txt", "w") as f:
    for g in gts: f.write("gt %d %d %r %r %r %r %d\n" % g)
    for d in dts: f.write("dt %d %d %r %r %r %r %r\n" % d)
    f.write("stats " + " ".join(repr(float(v)) for v in evaluation.stats) + "\n")
