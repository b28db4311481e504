#!/usr/bin/python3
"""Writes the seed corpora of the fuzz harnesses into fuzz/corpus/NAME/: a few
small valid inputs each (and a few near-valid ones). Run from the repository
root after `make` (the metrics, study and weights seeds come from a real
2-epoch study of build/lrscope on a tiny generated data set):
    /usr/bin/python3 fuzz/make_corpus.py
Needs Debian's python3-pil for the PNG and JPEG seeds."""
import gzip
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile

from PIL import Image

SEP = b"--FILE--"
ROOT = "fuzz/corpus"


def put(name, seed, data):
    d = os.path.join(ROOT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, seed), "wb") as f:
        f.write(data)


def cifar_records(n, label_bytes, classes, salt):
    out = bytearray()
    for k in range(n):
        out += bytes((k + i) % classes for i in range(label_bytes))
        out += bytes((k * 31 + j * 7 + salt) & 0xFF for j in range(3072))
    return bytes(out)


def idx(magic, dims, payload):
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + payload


def image(fmt, size, mode):
    im = Image.new(mode, size)
    im.putdata([tuple((x * 40 + c * 90) & 0xFF for c in range(len(mode))) if len(mode) > 1 else (x * 40) & 0xFF
                for x in range(size[0] * size[1])])
    b = io.BytesIO()
    im.save(b, fmt)
    return b.getvalue()


def main():
    # Overwrites its own seeds; the inputs of past crashes, kept by hand, stay.
    # model descriptions: first byte picks the input shape
    specs = ["conv:4:3,relu,maxpool:2,conv:8:3,relu,maxpool:2,linear:32,relu,linear",
             "conv:4:3,maxpool:2,relu,conv:6:3,maxpool:2,linear",
             "conv:4:3,conv:6:3,relu,conv:4:3,linear", "linear:8,relu,linear", "linear",
             "conv:2:5,maxpool:3,linear:4,linear"]
    for i, s in enumerate(specs):
        put("model", f"spec{i}", bytes([i % 4]) + s.encode())

    # cifar10: 5 train batches + test batch of 1-2 records, and names
    meta = b"\n".join(n.encode() for n in ["plane", "car", "bird", "cat", "deer", "dog", "frog",
                                           "horse", "ship", "truck"]) + b"\n"
    for n in (1, 2):
        parts = [cifar_records(n, 1, 10, b) for b in range(6)] + [meta]
        put("cifar10", f"records{n}", SEP.join(parts))
    put("cifar10", "no_meta", SEP.join(cifar_records(1, 1, 10, b) for b in range(6)))

    # cifar100: first byte 0 fine / 1 coarse; train, test, fine and coarse names
    fine = b"\n".join(b"f%d" % i for i in range(100)) + b"\n"
    coarse = b"\n".join(b"c%d" % i for i in range(20)) + b"\n"
    for mode in (0, 1):
        parts = [cifar_records(2, 2, 20, 0), cifar_records(1, 2, 20, 5), fine, coarse]
        put("cifar100", f"mode{mode}", bytes([mode]) + SEP.join(parts))

    # mnist: 2 training images and 1 test image of 4x4, raw and gzipped
    tr = idx(0x803, [2, 4, 4], bytes(range(32)))
    trl = idx(0x801, [2], bytes([3, 7]))
    te = idx(0x803, [1, 4, 4], bytes(range(100, 116)))
    tel = idx(0x801, [1], bytes([9]))
    put("mnist", "raw", SEP.join([tr, trl, te, tel]))
    put("mnist", "gzip", SEP.join(gzip.compress(x, mtime=0) for x in [tr, trl, te, tel]))

    # image folders: 3x2 images, PNG and JPEG, colour and grey
    for mode in ("RGB", "L"):
        parts = [image("PNG", (3, 2), mode), image("JPEG", (3, 2), mode), image("PNG", (3, 2), mode),
                 image("JPEG", (3, 2), mode)]
        put("image_folder", f"{mode.lower()}", SEP.join(parts))
    put("image_folder", "rgba_png", SEP.join([image("PNG", (3, 2), "RGBA")] * 4))

    # metrics, study, weights: from a real study
    tmp = tempfile.mkdtemp()
    try:
        data = os.path.join(tmp, "d")
        os.makedirs(data)
        for b in range(1, 6):
            with open(os.path.join(data, f"data_batch_{b}.bin"), "wb") as f:
                f.write(cifar_records(20, 1, 10, b))
        with open(os.path.join(data, "test_batch.bin"), "wb") as f:
            f.write(cifar_records(20, 1, 10, 9))
        out = os.path.join(tmp, "s")
        subprocess.run(["build/lrscope", "run", "--data", data, "--out", out, "--epochs", "2",
                        "--eval-interval", "2", "--lrs", "0.1,0.01", "--quiet", "--no-report",
                        "--model", "conv:2:5,relu,maxpool:4,linear"], check=True)
        run = os.path.join(out, "runs", "lr=0.1", "seed-1")
        rd = lambda p: open(p, "rb").read()
        metrics = rd(os.path.join(run, "metrics.csv"))
        put("metrics", "real", metrics)
        put("metrics", "crlf_nan", metrics.replace(b"\n", b"\r\n").rstrip(b"\r\n")
            + b"\r\n3,0.1,nan,0.1,0.1,,,,0.5\r\n")
        put("study", "real", SEP.join([rd(os.path.join(out, "study.json")), rd(os.path.join(run, "run.json")),
                                       metrics]))
        put("study", "no_run_json", rd(os.path.join(out, "study.json")) + SEP + SEP + metrics)
        put("weights", "small", rd(os.path.join(run, "weights.lrsw")))
    finally:
        shutil.rmtree(tmp)

    # study files (YAML)
    put("study_file", "readme", b"""name: lr-vs-momentum
dataset: cifar10
epochs: 30
seeds: 5                 # or a list: [1, 2, 7]
base:
  batch_size: 128
  momentum: 0.9
  schedule: step
  step_size: 5
  gamma: 0.5
grid:
  lr: {logspace: [1.0e-4, 1.0, 9]}
  momentum: [0.0, 0.9]
""")
    put("study_file", "small", b"epochs: 2\nseeds: [1, 2, 7]\ngrid:\n  lr: [0.1, 0.01]\n"
        b"  weight_decay: {linspace: [0, 0.001, 3]}\n")
    put("study_file", "flow", b"{name: x, lr: 0.05, base: {momentum: 0.0}}\n")
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(ROOT) for f in fs)
    print(f"wrote {ROOT}: {total} bytes")


if __name__ == "__main__":
    sys.exit(main())
