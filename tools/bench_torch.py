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

With --model resnet20 it measures instead He et al.'s CIFAR ResNet-20 (option
A shortcuts, as akamaster/pytorch_resnet_cifar10; cross-entropy; SGD lr 0.1
momentum 0.9 weight decay 1e-4; batch 128) on random inputs, arithmetic only,
as bench/bench_resnet.c measures lrscope: train_img_s (forward, backward, SGD
step) and eval_img_s (no_grad, eval mode), each also per CPU second x threads
(train_img_cpu_s, eval_img_cpu_s: what the cores give on a shared machine),
and the process's peak RSS (maxrss_mb).

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


class BasicBlock(nn.Module):
    """akamaster's BasicBlock, option A: the shortcut subsamples by 2 and
    zero-pads planes // 4 channels on each side."""

    def __init__(self, in_planes, planes, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.pad = planes // 4 if stride != 1 or in_planes != planes else 0

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        s = x if not self.pad else nn.functional.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))
        return torch.relu(out + s)


class ResNet(nn.Module):
    def __init__(self, n=3, classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for planes, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                layers.append(BasicBlock(cin, planes, stride if i == 0 else 1))
                cin = planes
        self.layers = nn.Sequential(*layers)
        self.linear = nn.Linear(64, classes)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        out = self.layers(torch.relu(self.bn1(self.conv1(x))))
        out = nn.functional.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def bench_resnet(seconds):
    """ResNet-20 train and eval images/s (wall and per CPU second) on random data."""
    import resource
    model = ResNet()
    loss_fn = nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4)
    x = torch.randn(BATCH, 3, 32, 32)
    y = torch.randint(0, 10, (BATCH,))
    res = {}
    for mode in ("train", "eval"):
        model.train(mode == "train")
        def step():
            if mode == "train":
                train_step(model, loss_fn, opt, x, y)
            else:
                with torch.no_grad():
                    model(x)
        for _ in range(3):  # warm-up
            step()
        n, t0, c0 = 0, time.perf_counter(), time.process_time()
        while time.perf_counter() - t0 < seconds / 2:
            step()
            n += 1
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        res[mode + "_img_s"] = n * BATCH / wall
        res[mode + "_img_cpu_s"] = n * BATCH * torch.get_num_threads() / cpu
    res["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return res


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
    ap.add_argument("--model", choices=("seed", "resnet20"), default="seed",
                    help="seed: the seed ConvNet on CIFAR-10 (default); resnet20: ResNet-20 on random inputs")
    ap.add_argument("--seconds", type=float, default=20, help="resnet20: seconds of timing (train + eval)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    if args.model == "resnet20":
        res = {"torch_version": torch.__version__, "threads": torch.get_num_threads(), "batch_size": BATCH,
               "model": "resnet20"}
        res.update(bench_resnet(args.seconds))
        for k in ("train_img_s", "eval_img_s", "train_img_cpu_s", "eval_img_cpu_s", "maxrss_mb"):
            print("%-22s %10.1f" % (k, res[k]))
        if args.json:
            print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()}))
        return
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
