"""Writes coco_map_out_case.txt: map_out/ files of a 40-image scene (14 images with difficult boxes)
and what pycocotools reports for them after the reference's map_out -> COCO conversion.

Run with pycocotools installed (pip install pycocotools): python3 make_coco_map_out_fixture.py
Lines: `gt ID NAME... left top right bottom [difficult]` and `dt ID NAME... score left top right bottom`
(the map_out/ lines, prefixed with the kind and the image id), then `stats v1 ... v12`.

The conversion is the reference's (get_map's COCO mode): difficult -> iscrowd, area = w*h - 10, image
ids from the file names; except that annotation ids start at 1: the reference numbers them from 0,
and pycocotools takes a match to id 0 for no match (`stats_id0` records what that gives here).
"""
import contextlib
import io
import random

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

rng = random.Random(7)
classes = ["dog", "potted plant", "car", "person", "bird"]
with_difficult = set(rng.sample(range(40), 14))
files = {}
for image in range(40):
    gts, dts = [], []
    for k in range(rng.randint(1, 7)):
        side = rng.choice([rng.uniform(4, 30), rng.uniform(33, 95), rng.uniform(100, 220)])
        w, h = side * rng.uniform(0.6, 1.4), side * rng.uniform(0.6, 1.4)
        x1, y1 = rng.randint(0, 300), rng.randint(0, 300)
        box = (x1, y1, int(x1 + w), int(y1 + h))
        c = rng.choice(classes)
        gts.append((c, *box, image in with_difficult and (k == 0 or rng.random() < 0.3)))
        for _ in range(rng.choice([0, 1, 1, 1, 2])):   # missed, found, or found twice
            j = lambda v, s: int(round(v + rng.gauss(0, s)))
            bx = (j(box[0], w * 0.08), j(box[1], h * 0.08), j(box[2], w * 0.08), j(box[3], h * 0.08))
            if bx[2] > bx[0] and bx[3] > bx[1]:
                dts.append((c if rng.random() < 0.85 else rng.choice(classes), round(rng.random(), 4), *bx))
    for _ in range(rng.randint(0, 3)):   # false positives
        x1, y1, s = rng.randint(0, 300), rng.randint(0, 300), rng.uniform(5, 150)
        dts.append((rng.choice(classes), round(rng.random(), 4), x1, y1, int(x1 + s), int(y1 + s * 0.8)))
    files["img_%03d" % image] = (["%s %d %d %d %d%s" % (*g[:5], " difficult" if g[5] else "") for g in gts],
                                 ["%s %s %d %d %d %d" % d for d in dts])


def evaluate(first_id):
    images, annotations, results = [], [], []
    for image_id, (gt_lines, dt_lines) in sorted(files.items()):
        images.append({"id": image_id, "file_name": image_id + ".jpg", "width": 1, "height": 1})
        for line in gt_lines:
            f = line.split()
            difficult = 1 if "difficult" in line else 0
            name, (l, t, r, b) = " ".join(f[:-5] if difficult else f[:-4]), map(float, f[-5:-1] if difficult else f[-4:])
            annotations.append({"id": first_id + len(annotations), "image_id": image_id, "iscrowd": difficult,
                                "category_id": classes.index(name) + 1, "bbox": [l, t, r - l, b - t],
                                "area": (r - l) * (b - t) - 10.0})
        for line in dt_lines:
            f = line.split()
            s, l, t, r, b = map(float, f[-5:])
            results.append({"image_id": image_id, "category_id": classes.index(" ".join(f[:-5])) + 1,
                            "bbox": [l, t, r - l, b - t], "score": s})
    coco = COCO()
    coco.dataset = {"images": images, "annotations": annotations,
                    "categories": [{"id": i + 1, "name": c, "supercategory": c} for i, c in enumerate(classes)]}
    with contextlib.redirect_stdout(io.StringIO()):
        coco.createIndex()
        evaluation = COCOeval(coco, coco.loadRes(results), "bbox")
        evaluation.evaluate()
        evaluation.accumulate()
        evaluation.summarize()
    return " ".join(repr(float(v)) for v in evaluation.stats)


with open("coco_map_out_case.txt", "w") as f:
    f.write("classes " + ",".join(classes) + "\n")
    for image_id, (gt_lines, dt_lines) in sorted(files.items()):
        for line in gt_lines: f.write("gt %s %s\n" % (image_id, line))
        for line in dt_lines: f.write("dt %s %s\n" % (image_id, line))
    f.write("stats " + evaluate(1) + "\n")
    f.write("stats_id0 " + evaluate(0) + "\n")
