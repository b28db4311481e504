"""Writes tests/data/torch_reference.bin: reference values from PyTorch for
lrscope's parity tests (tests/test_parity.c), so the C tests need no Python.

Run with Debian's python3-torch / python3-torchvision (PyTorch 1.13):
    /usr/bin/python3 tools/torch_reference.py [OUT]

What it records, for the seed ConvNet and a batch of 20 images (one full
16-image lane group and a partial one):
  - the initial parameters (PyTorch's default initialisation, seed 0),
  - three input batches and their labels,
  - logits and mean cross-entropy loss of batch 0, and every parameter
    gradient of that loss,
  - every parameter after three SGD(momentum 0.9) steps on batches 0, 1, 2
    with StepLR(step_size=2, gamma=0.5) stepped after each step, so the rate
    goes 0.1, 0.1, 0.05 (the steps cross a schedule boundary),
  - torchvision's training transform (RandomCrop(32, padding=4) with a fixed
    crop, optional horizontal flip, ToTensor, Normalize) on three images.

Then, for several small models on 3x12x12 inputs (MODELS below, in lrscope's
model language, so that every fused and unfused kernel path of
src/model/model.c runs at the model level), sharing three batches of 20
images (s.x0..s.x2, s.y0..s.y2):
  - mK.spec: the description, one character code per float,
  - mK.init, mK.grad, mK.final: all parameters flattened in lrscope's order
    (layer by layer, weight then bias): initial, gradient of batch 0's mean
    loss, and after three SGD(momentum 0.9, weight_decay 5e-4) steps with
    StepLR(step_size=2, gamma=0.5) from lr 0.1,
  - mK.logits0, mK.loss0.

File format (little-endian), one record per tensor until end of file:
    u32 name length, name bytes, u32 ndim, u32 dims[ndim], f32 data[prod(dims)]
"""
import struct
import sys

import torch
import torch.nn as nn
import torchvision.transforms.functional as TF
from PIL import Image

MEAN = (0.4914, 0.4822, 0.4465)
STD = (0.2023, 0.1994, 0.2010)


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3)
        self.conv2 = nn.Conv2d(4, 8, 3)
        self.fc1 = nn.Linear(288, 32)
        self.fc2 = nn.Linear(32, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2, 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2, 2)
        x = torch.flatten(x, 1)
        return self.fc2(torch.relu(self.fc1(x)))


# Which paths each model exercises (forward fusion: conv followed by relu;
# backward fusion: maxpool preceded by an in-place relu):
MODELS = [
    # conv+relu fused (first layer, and with an input gradient), maxpool+relu
    # backward fused, relu backward alone before a conv and a linear,
    # linear -> relu -> linear
    "conv:4:3,relu,maxpool:2,conv:6:3,relu,linear:16,relu,linear",
    # conv alone, maxpool backward alone (after a conv), relu forward alone
    # (after a maxpool), relu backward alone before a conv, conv -> maxpool ->
    # linear without relu
    "conv:4:3,maxpool:2,relu,conv:6:3,maxpool:2,linear",
    # maxpool+relu backward fused where the relu ran alone, maxpool -> linear,
    # linear -> relu -> linear, linear -> linear without relu
    "conv:4:3,maxpool:2,relu,maxpool:2,linear:16,relu,linear:12,linear",
    # conv -> conv without relu, then with it, conv -> linear without relu
    "conv:4:3,conv:6:3,relu,conv:4:3,linear",
    # linear only: the first layer is a linear one (no input gradient)
    "linear:8,relu,linear",
]
SMALL = (3, 12, 12)


def build(spec, in_shape, classes):
    """nn.Sequential for a model description, with PyTorch's default init."""
    c, h, w = in_shape
    layers, flat = [], False
    toks = spec.split(",")
    for i, tok in enumerate(toks):
        f = tok.split(":")
        if f[0] == "conv":
            layers.append(nn.Conv2d(c, int(f[1]), int(f[2])))
            c, h, w = int(f[1]), h - int(f[2]) + 1, w - int(f[2]) + 1
        elif f[0] == "relu":
            layers.append(nn.ReLU())
        elif f[0] == "maxpool":
            layers.append(nn.MaxPool2d(int(f[1]), int(f[1])))
            h, w = h // int(f[1]), w // int(f[1])
        elif f[0] == "linear":
            if not flat:
                layers.append(nn.Flatten(1))
                flat = True
            out = int(f[1]) if len(f) > 1 else classes
            layers.append(nn.Linear(c * h * w, out))
            c, h, w = out, 1, 1
        else:
            raise ValueError(tok)
    return nn.Sequential(*layers)


def flat(ts):
    return torch.cat([t.detach().reshape(-1) for t in ts])


def write_models(f):
    g = torch.Generator().manual_seed(2)
    xs = [torch.randn(20, *SMALL, generator=g) for _ in range(3)]
    ys = [torch.randint(0, 10, (20,), generator=g) for _ in range(3)]
    for i in range(3):
        write(f, f"s.x{i}", xs[i])
        write(f, f"s.y{i}", ys[i])
    loss_fn = nn.CrossEntropyLoss()
    for k, spec in enumerate(MODELS):
        torch.manual_seed(100 + k)
        model = build(spec, SMALL, 10)
        write(f, f"m{k}.spec", torch.tensor([float(ord(ch)) for ch in spec]))
        write(f, f"m{k}.init", flat(model.parameters()))
        logits = model(xs[0])
        loss = loss_fn(logits, ys[0])
        loss.backward()
        write(f, f"m{k}.logits0", logits)
        write(f, f"m{k}.loss0", loss.reshape(1))
        write(f, f"m{k}.grad", flat(p.grad for p in model.parameters()))
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        for i in range(3):
            opt.zero_grad()
            loss_fn(model(xs[i]), ys[i]).backward()
            opt.step()
            sched.step()
        write(f, f"m{k}.final", flat(model.parameters()))


def write(f, name, t):
    t = torch.as_tensor(t).detach().to(torch.float32).contiguous()
    dims = list(t.shape)
    f.write(struct.pack("<I", len(name)) + name.encode())
    f.write(struct.pack("<I", len(dims)) + b"".join(struct.pack("<I", d) for d in dims))
    f.write(t.numpy().astype("<f4").tobytes())


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/torch_reference.bin"
    torch.manual_seed(0)
    model = ConvNet()
    names = [n for n, _ in model.named_parameters()]
    batches = [torch.randn(20, 3, 32, 32) for _ in range(3)]
    labels = [torch.randint(0, 10, (20,)) for _ in range(3)]
    loss_fn = nn.CrossEntropyLoss()

    with open(out, "wb") as f:
        for n, p in model.named_parameters():
            write(f, "init." + n, p)
        for i in range(3):
            write(f, f"x{i}", batches[i])
            write(f, f"y{i}", labels[i])

        logits = model(batches[0])
        loss = loss_fn(logits, labels[0])
        loss.backward()
        write(f, "logits0", logits)
        write(f, "loss0", loss.reshape(1))
        for n, p in model.named_parameters():
            write(f, "grad." + n, p.grad)

        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        lrs = []
        for i in range(3):
            opt.zero_grad()
            lrs.append(opt.param_groups[0]["lr"])
            loss_fn(model(batches[i]), labels[i]).backward()
            opt.step()
            sched.step()
        write(f, "lrs", torch.tensor(lrs))
        for n, p in model.named_parameters():
            write(f, "final." + n, p)

        # torchvision's transform with fixed draws: (top, left, flip)
        g = torch.Generator().manual_seed(1)
        for k, (top, left, flip) in enumerate([(0, 0, 0), (8, 3, 1), (5, 8, 0)]):
            img = torch.randint(0, 256, (32, 32, 3), dtype=torch.uint8, generator=g)
            pil = Image.fromarray(img.numpy())
            pil = TF.pad(pil, 4, fill=0)
            pil = TF.crop(pil, top, left, 32, 32)
            if flip:
                pil = TF.hflip(pil)
            t = TF.normalize(TF.to_tensor(pil), MEAN, STD)
            write(f, f"aug{k}.image", img.permute(2, 0, 1))  # (C, H, W) bytes
            write(f, f"aug{k}.draw", torch.tensor([top, left, flip]))
            write(f, f"aug{k}.out", t)
        write_models(f)
    print("wrote", out, "parameters:", ", ".join(names))


if __name__ == "__main__":
    main()
