#!/usr/bin/python3
"""PyTorch reference figures for lrscope's `make bench`.

Measures the seed study's ConvNet (conv 3->4 3x3, pool, conv 4->8 3x3, pool,
linear 288->32, linear 32->10; cross-entropy; SGD lr 0.01 momentum 0.9; batch
128) on real CIFAR-10 (binary layout) with PyTorch on the CPU:

  train_arith_img_s      training images/s, arithmetic only: the training set
                         pre-normalised in one tensor, batches of 128 in order
                         (last partial batch included), after ~20 warm-up
                         batches, timed over --epochs-arith epochs
  eval_img_s             test-set images/s under no_grad, batch 128
  eval_img_s_b1000       the same with batch 1000 (glibc malloc returns these
                         large buffers to the OS after each batch, so this is
                         page-fault bound and slower than batch 128)
  seed_pipeline_epoch_s  the seed's full pipeline: PIL Dataset + RandomCrop /
                         RandomHorizontalFlip / ToTensor / Normalize through a
                         DataLoader(num_workers=2, shuffle=True), one training
                         epoch ("seed_pipeline_train_s") plus a test pass with
                         the test transform ("seed_pipeline_test_s").  With
                         --pipeline-batches M only M batches are trained and the
                         epoch is extrapolated to 391 batches (the first batch,
                         which carries the worker start-up, is not scaled);
                         "seed_pipeline_extrapolated" says so.

Run with Debian's interpreter (python3-torch / python3-torchvision):

  /usr/bin/python3 tools/bench_torch.py --threads 2 --json

--json prints one JSON object with every figure on the last line of stdout.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

BATCH = 128
MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2023, 0.1994, 0.2010)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_DATA = os.path.join(REPO, "..", "shared", "datasets", "cifar-10-batches-bin")


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 4, 3), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(4, 8, 3), nn.ReLU(), nn.MaxPool2d(2, 2))
        self.classifier = nn.Sequential(
            nn.Linear(288, 32), nn.ReLU(), nn.Linear(32, 10))

    def forward(self, x):
        return self.classifier(torch.flatten(self.features(x), 1))


def load_cifar(data_dir, names):
    """uint8 images (N, 3, 32, 32) and int64 labels (N,) from binary batches."""
    paths = [os.path.join(data_dir, n) for n in names]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        sys.exit("bench_torch: missing CIFAR-10 file(s): " + ", ".join(missing))
    raw = np.concatenate([np.fromfile(p, dtype=np.uint8).reshape(-1, 3073) for p in paths])
    return raw[:, 1:].reshape(-1, 3, 32, 32), raw[:, 0].astype(np.int64)


def normalise(images):
    x = torch.from_numpy(images).float().div_(255)
    return (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)


def new_model():
    model = ConvNet()
    return model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)


def train_step(model, loss_fn, opt, x, y):
    opt.zero_grad()
    loss_fn(model(x), y).backward()
    opt.step()


def bench_train_arith(x, y, epochs):
    model, loss_fn, opt = new_model()
    model.train()
    for i in range(0, 20 * BATCH, BATCH):  # warm-up
        train_step(model, loss_fn, opt, x[i:i + BATCH], y[i:i + BATCH])
    t0 = time.perf_counter()
    for _ in range(epochs):
        for i in range(0, len(x), BATCH):
            train_step(model, loss_fn, opt, x[i:i + BATCH], y[i:i + BATCH])
    return epochs * len(x) / (time.perf_counter() - t0)


def bench_eval(model, x, batch):
    model.eval()
    with torch.no_grad():
        model(x[:batch])  # warm-up
        t0 = time.perf_counter()
        for i in range(0, len(x), batch):
            model(x[i:i + batch])
        return len(x) / (time.perf_counter() - t0)


class PILDataset(Dataset):
    """The seed's dataset: PIL images built from the uint8 arrays."""

    def __init__(self, images, labels, transform):
        self.images = np.ascontiguousarray(images.transpose(0, 2, 3, 1))  # NHWC
        self.labels = labels
        self.transform = transform

    def __len__(self):
        return len(self.labels)

    def __getitem__(self, i):
        return self.transform(Image.fromarray(self.images[i])), int(self.labels[i])


def bench_seed_pipeline(train, test, max_batches):
    normalize = transforms.Normalize(MEAN, STD)
    train_tf = transforms.Compose([transforms.RandomCrop(32, padding=4),
                                   transforms.RandomHorizontalFlip(),
                                   transforms.ToTensor(), normalize])
    test_tf = transforms.Compose([transforms.ToTensor(), normalize])
    train_loader = DataLoader(PILDataset(*train, train_tf), batch_size=BATCH,
                              shuffle=True, num_workers=2)
    test_loader = DataLoader(PILDataset(*test, test_tf), batch_size=BATCH,
                             shuffle=False, num_workers=2)
    full = len(train_loader)
    n = full if max_batches <= 0 else min(max_batches, full)

    model, loss_fn, opt = new_model()
    model.train()
    t0 = time.perf_counter()
    for b, (x, y) in enumerate(train_loader):  # iterator creation starts the workers
        train_step(model, loss_fn, opt, x, y)
        if b == 0:
            t_first = time.perf_counter() - t0
        if b + 1 == n:
            break
    train_s = time.perf_counter() - t0
    if n < full:  # scale the steady-state batches, not the start-up
        train_s = t_first + (train_s - t_first) * (full - 1) / max(n - 1, 1)

    model.eval()
    t0 = time.perf_counter()
    with torch.no_grad():
        for x, _ in test_loader:
            model(x)
    test_s = time.perf_counter() - t0
    return train_s, test_s, n < full


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    ap.add_argument("--data", default=DEFAULT_DATA, help="cifar-10-batches-bin folder")
    ap.add_argument("--epochs-arith", type=int, default=2, help="timed epochs for train_arith")
    ap.add_argument("--pipeline-batches", type=int, default=0,
                    help="train only M batches in the seed pipeline and extrapolate (0 = full epoch)")
    ap.add_argument("--json", action="store_true", help="print a JSON object on the last line")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    train = load_cifar(args.data, ["data_batch_%d.bin" % i for i in range(1, 6)])
    test = load_cifar(args.data, ["test_batch.bin"])
    res = {"torch_version": torch.__version__, "threads": torch.get_num_threads(),
           "batch_size": BATCH}
    print("torch %s, %d thread(s), batch %d, %d train / %d test images"
          % (res["torch_version"], res["threads"], BATCH, len(train[1]), len(test[1])))

    x_train, y_train = normalise(train[0]), torch.from_numpy(train[1])
    x_test = normalise(test[0])
    res["train_arith_img_s"] = bench_train_arith(x_train, y_train, args.epochs_arith)
    print("train_arith_img_s      %10.1f images/s (%d epochs, pre-normalised tensor)"
          % (res["train_arith_img_s"], args.epochs_arith))
    model = new_model()[0]
    res["eval_img_s"] = bench_eval(model, x_test, BATCH)
    res["eval_img_s_b1000"] = bench_eval(model, x_test, 1000)
    print("eval_img_s             %10.1f images/s (batch %d)" % (res["eval_img_s"], BATCH))
    print("eval_img_s_b1000       %10.1f images/s (batch 1000)" % res["eval_img_s_b1000"])

    train_s, test_s, extrapolated = bench_seed_pipeline(train, test, args.pipeline_batches)
    res.update(seed_pipeline_train_s=train_s, seed_pipeline_test_s=test_s,
               seed_pipeline_epoch_s=train_s + test_s, seed_pipeline_extrapolated=extrapolated)
    note = " (extrapolated from %d batches)" % args.pipeline_batches if extrapolated else ""
    print("seed_pipeline_train_s  %10.2f s%s" % (train_s, note))
    print("seed_pipeline_test_s   %10.2f s" % test_s)
    print("seed_pipeline_epoch_s  %10.2f s (train + test)" % (train_s + test_s))
    if args.json:
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()}))


if __name__ == "__main__":
    main()
