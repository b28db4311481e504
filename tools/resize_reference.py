#!/usr/bin/python3
"""resize_reference.py: writes the reference tests/test_predict.c checks
lrscope predict's image preparation against (src/data/resize.c): a few small
PNG images, and what torchvision 0.14 makes of each as a PIL image with

    Compose([Resize((32, 32)), ToTensor(), Normalize(CIFAR-10 mean, std)])

(Resize on a PIL image: Pillow's bilinear filter, antialiased when it shrinks).
Run once from the repository root and commit the output:

    /usr/bin/python3 tools/resize_reference.py

Writes tests/data/resize_<name>.png and tests/data/resize_reference.bin in
tests/tensor_file.h's format: one record per image, named <name>, shape
(3, 32, 32), float32. Needs Debian's python3-torch and python3-torchvision
(scripts/install-deps.sh --with-torch); the C test needs no Python.
"""
import struct

import numpy as np
from PIL import Image
from torchvision import transforms

MEAN = (0.4914, 0.4822, 0.4465)  # src/data/dataset.c, CIFAR-10
STD = (0.2023, 0.1994, 0.2010)

# name: (height, width, mode): shrink both sides, enlarge both, one side
# only, a grey image (made RGB as PIL's convert does), an odd large shrink.
CASES = {
    "shrink": (45, 37, "RGB"),
    "enlarge": (13, 20, "RGB"),
    "wide": (32, 77, "RGB"),
    "grey": (50, 29, "L"),
    "big": (121, 97, "RGB"),
}


def image(h, w, mode, seed):
    rng = np.random.default_rng(seed)
    c = 3 if mode == "RGB" else 1
    # smooth ramps plus noise: both the filter's weights and its rounding matter
    y, x = np.mgrid[0:h, 0:w]
    base = (x * 255.0 / max(w - 1, 1) * 0.6 + y * 255.0 / max(h - 1, 1) * 0.4)[..., None]
    px = np.clip(base + rng.integers(-60, 61, size=(h, w, c)), 0, 255).astype(np.uint8)
    return Image.fromarray(px[..., 0] if c == 1 else px, mode)


def main():
    tf = transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor(),
                             transforms.Normalize(MEAN, STD)])
    with open("tests/data/resize_reference.bin", "wb") as f:
        for seed, (name, (h, w, mode)) in enumerate(CASES.items()):
            img = image(h, w, mode, seed)
            img.save("tests/data/resize_%s.png" % name)
            back = Image.open("tests/data/resize_%s.png" % name).convert("RGB")
            t = tf(back).contiguous().numpy().astype("<f4")
            f.write(struct.pack("<I", len(name)) + name.encode())
            f.write(struct.pack("<I", 3) + b"".join(struct.pack("<I", d) for d in t.shape))
            f.write(t.tobytes())


if __name__ == "__main__":
    main()
