"""Writes the small image fixtures the Vision tests decode, with Pillow (another tool than ours).
Run once in a throwaway environment:  python3 -m venv /tmp/v && /tmp/v/bin/pip install pillow &&
/tmp/v/bin/python make_fixtures.py. The tests never need Pillow."""
from PIL import Image
import io

def solid_halves(mode, size, left, right):
    im = Image.new(mode, size, left)
    im.paste(right, (size[0] // 2, 0, size[0], size[1]))
    return im

# Progressive colour JPEG, 16x8: left half red, right half blue.
solid_halves("RGB", (16, 8), (255, 0, 0), (0, 0, 255)).save("progressive.jpg", quality=95, progressive=True)
# Baseline greyscale JPEG, uniform 100.
Image.new("L", (8, 8), 100).save("grey.jpg", quality=95)
# CMYK JPEG (Pillow writes Adobe-style inverted CMYK): pure magenta + yellow ink = red.
Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save("cmyk.jpg", quality=95)
# EXIF orientation 6 (rotate 90 clockwise to view): stored 16x8, left half red, right half blue.
exif = Image.Exif()
exif[0x0112] = 6
solid_halves("RGB", (16, 8), (255, 0, 0), (0, 0, 255)).save("exif_orientation6.jpg", quality=95, exif=exif)
# Palette PNG: two colours, top row green.
p = Image.new("P", (4, 4), 0)
p.putpalette([10, 20, 30, 0, 200, 0] + [0] * 762)
for x in range(4):
    p.putpixel((x, 0), 1)
p.save("palette.png")
# 16-bit greyscale PNG at half scale: 0x8080 -> 128 in 8 bits.
Image.new("I;16", (4, 4), 0x8080).save("grey16.png")
# RGBA PNG, fully transparent pixels that still carry colour (10, 20, 30).
Image.new("RGBA", (4, 4), (10, 20, 30, 0)).save("rgba.png")
# Grey + alpha PNG.
Image.new("LA", (4, 4), (77, 128)).save("grey_alpha.png")
# A truncated JPEG: the first half of a larger image.
buffer = io.BytesIO()
Image.new("RGB", (64, 64), (1, 2, 3)).save(buffer, format="JPEG", quality=95)
open("truncated.jpg", "wb").write(buffer.getvalue()[: len(buffer.getvalue()) // 2])

# Reference values from OpenCV 4.x (HSV) and Pillow (resampling) for the conversion tests.
import json
import numpy as np
import cv2
rng = np.random.RandomState(5)
colours = np.concatenate([rng.randint(0, 256, (60, 3)),
                          [[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128],
                           [255, 254, 0], [1, 2, 3]]]).astype(np.uint8)
hsv = cv2.cvtColor(colours.reshape(1, -1, 3), cv2.COLOR_RGB2HSV).reshape(-1, 3)
back = cv2.cvtColor(hsv.reshape(1, -1, 3), cv2.COLOR_HSV2RGB).reshape(-1, 3)
source = rng.randint(0, 256, (5, 6, 3)).astype(np.uint8)
resized = {}
for name, flt in (("bicubic", Image.BICUBIC), ("bilinear", Image.BILINEAR)):
    for (w, h) in ((4, 3), (9, 7), (3, 8)):
        resized[f"{name}_{w}x{h}"] = np.asarray(Image.fromarray(source).resize((w, h), flt)).reshape(-1).tolist()
json.dump({"rgb": colours.reshape(-1).tolist(), "hsv": hsv.reshape(-1).tolist(), "hsv_back": back.reshape(-1).tolist(),
           "resize_source": source.reshape(-1).tolist(), "resize_source_size": [6, 5], "resized": resized},
          open("reference_values.json", "w"))
