#!/usr/bin/python3
"""Writes tests/data/torch_layers.bin: PyTorch 1.13's values for the layers
of residual networks, read by tests/test_layers.c (no Python needed there).

    /usr/bin/python3 tools/torch_reference_layers.py [OUT]

Batches are of 20 images (one full 16-lane group and a partial one).
Layer by layer, with a random upstream gradient dy:
  - convA: Conv2d(3, 4, 3, stride=2, padding=1, bias=False) on 3x7x7,
  - convB: Conv2d(3, 5, 2, stride=1, padding=2) on 3x5x6,
  - addA: the option-A shortcut of a 4x7x7 tensor added to an 8x4x4 one
    (F.pad(s[:, :, ::2, ::2], (0, 0, 0, 0, 2, 2)), as akamaster's ResNets),
  - gap (mean over 5x5), avgpool (AvgPool2d(3, stride=2) on 2x7x7),
  - bnE: BatchNorm2d(3) in eval mode with given running statistics:
    x, y, dx and dweight, dbias.
Small models through the batch driver (train mode: whole-batch statistics):
  - bn2: Conv2d(3,4,3,p=1), BatchNorm2d(4), ReLU, Linear(144, 10) on 3x6x6,
  - bn1: Linear(48, 8), BatchNorm1d(8), ReLU, Linear(8, 10) on 3x4x4:
    init (parameters in lrscope's order), x0, y0, logits0, loss0, grad0,
    buf1 (running mean and var after one training forward), x1, buf2 (after
    a second, on x1), eval1 (logits of x1 in eval mode after that).
  - r8: ResNet-8 (He et al., option A, 1 block per stage, 16/32/64 channels,
    kaiming_normal_ as akamaster) on 3x16x16: init, buf0, x0..x2, y0..y2,
    logits0, loss0, grad0, and after three SGD(lr 0.1, momentum 0.9,
    weight_decay 5e-4) steps: final, buffinal, evalx0 (eval-mode logits of x0).
    The seed is the first from 1 whose three steps put no ReLU input within
    1e-6 of zero: a kink there lets float rounding flip a mask between two
    correct implementations and the trajectories part.

File format (little-endian), one record per tensor until end of file:
    u32 name length, name bytes, u32 ndim, u32 dims[ndim], f32 data[prod(dims)]
"""
import struct
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

N = 20


def write(f, name, t):
    t = t.detach().to(torch.float32).contiguous()
    dims = list(t.shape) if t.dim() else [1]
    f.write(struct.pack("<I", len(name)) + name.encode())
    f.write(struct.pack("<I", len(dims)) + b"".join(struct.pack("<I", d) for d in dims))
    f.write(t.numpy().astype("<f4").tobytes())


def flat(ts):
    return torch.cat([t.detach().reshape(-1) for t in ts])


def layer_case(f, name, fn, x, params):
    x = x.clone().requires_grad_(True)
    y = fn(x)
    dy = torch.randn_like(y)
    y.backward(dy)
    write(f, name + ".x", x)
    write(f, name + ".y", y)
    write(f, name + ".dy", dy)
    write(f, name + ".dx", x.grad)
    for pn, p in params:
        write(f, name + "." + pn, p)
        write(f, name + ".d" + pn, p.grad)


class Shortcut(nn.Module):
    def __init__(self, pad):
        super().__init__()
        self.pad = pad

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad), "constant", 0)


KINK = [float("inf")]  # the smallest |ReLU input| seen


def relu(x):
    KINK[0] = min(KINK[0], x.detach().abs().min().item())
    return F.relu(x)


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.short = Shortcut((cout - cin) // 2) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        out = relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return relu(out + self.short(x))


class ResNet8(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.blocks = nn.Sequential(Block(16, 16, 1), Block(16, 32, 2), Block(32, 64, 2))
        self.linear = nn.Linear(64, 10)
        for m in self.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(m.weight)

    def forward(self, x):
        out = relu(self.bn1(self.conv1(x)))
        out = self.blocks(out)
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def buffers(model):
    return flat([t for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)
                 for t in (m.running_mean, m.running_var)])


def small_model(f, name, model, shape):
    x0, x1 = torch.randn(N, *shape), torch.randn(N, *shape)
    y0 = torch.randint(0, 10, (N,))
    write(f, name + ".init", flat(model.parameters()))
    model.train()
    logits = model(x0)
    loss = F.cross_entropy(logits, y0)
    loss.backward()
    write(f, name + ".x0", x0)
    write(f, name + ".y0", y0.float())
    write(f, name + ".logits0", logits)
    write(f, name + ".loss0", loss.reshape(1))
    write(f, name + ".grad0", flat([p.grad for p in model.parameters()]))
    write(f, name + ".buf1", buffers(model))
    with torch.no_grad():
        model(x1)
    write(f, name + ".x1", x1)
    write(f, name + ".buf2", buffers(model))
    model.eval()
    with torch.no_grad():
        write(f, name + ".eval1", model(x1))


def resnet8_run(seed):
    torch.manual_seed(seed)
    KINK[0] = float("inf")
    model = ResNet8()
    rec = {"r8.init": flat(model.parameters()), "r8.buf0": buffers(model)}
    xs = [torch.randn(N, 3, 16, 16) for _ in range(3)]
    ys = [torch.randint(0, 10, (N,)) for _ in range(3)]
    for i in range(3):
        rec["r8.x%d" % i] = xs[i]
        rec["r8.y%d" % i] = ys[i].float()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    model.train()
    for i in range(3):
        opt.zero_grad()
        logits = model(xs[i])
        loss = F.cross_entropy(logits, ys[i])
        loss.backward()
        if i == 0:
            rec["r8.logits0"] = logits
            rec["r8.loss0"] = loss.reshape(1)
            rec["r8.grad0"] = flat([p.grad for p in model.parameters()])
        opt.step()
    kink = KINK[0]
    rec["r8.final"] = flat(model.parameters())
    rec["r8.buffinal"] = buffers(model)
    model.eval()
    with torch.no_grad():
        rec["r8.evalx0"] = model(xs[0])
    return rec, kink


def resnet8(f):
    for seed in range(1, 100):
        rec, kink = resnet8_run(seed)
        if kink > 1e-6:
            break
    for name, t in rec.items():
        write(f, name, t)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/torch_layers.bin"
    torch.manual_seed(0)
    torch.set_num_threads(1)
    with open(out, "wb") as f:
        conv = nn.Conv2d(3, 4, 3, stride=2, padding=1, bias=False)
        layer_case(f, "convA", conv, torch.randn(N, 3, 7, 7), [("w", conv.weight)])
        conv = nn.Conv2d(3, 5, 2, stride=1, padding=2)
        layer_case(f, "convB", conv, torch.randn(N, 3, 5, 6), [("w", conv.weight), ("b", conv.bias)])
        s = torch.randn(N, 4, 7, 7, requires_grad=True)
        a = torch.randn(N, 8, 4, 4)
        layer_case(f, "addA", lambda t: t + Shortcut(2)(s), a, [("s", s)])
        layer_case(f, "gap", lambda t: F.adaptive_avg_pool2d(t, 1), torch.randn(N, 3, 5, 5), [])
        layer_case(f, "avgpool", nn.AvgPool2d(3, stride=2), torch.randn(N, 2, 7, 7), [])
        bn = nn.BatchNorm2d(3)
        with torch.no_grad():
            bn.weight.copy_(torch.rand(3) + 0.5)
            bn.bias.copy_(torch.randn(3))
            bn.running_mean.copy_(torch.randn(3))
            bn.running_var.copy_(torch.rand(3) + 0.5)
        bn.eval()
        write(f, "bnE.rm", bn.running_mean)
        write(f, "bnE.rv", bn.running_var)
        layer_case(f, "bnE", bn, torch.randn(N, 3, 4, 5), [("w", bn.weight), ("b", bn.bias)])
        small_model(f, "bn2", nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                                            nn.Flatten(), nn.Linear(144, 10)), (3, 6, 6))
        small_model(f, "bn1", nn.Sequential(nn.Flatten(), nn.Linear(48, 8), nn.BatchNorm1d(8), nn.ReLU(),
                                            nn.Linear(8, 10)), (3, 4, 4))
        resnet8(f)


if __name__ == "__main__":
    main()
