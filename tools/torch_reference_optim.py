#!/usr/bin/python3
"""Writes tests/data/torch_optim.bin: PyTorch 1.13's learning-rate schedules
and optimiser steps, for lrscope's tests/test_optim.c (no Python at test time).

Run with Debian's python3-torch:
    /usr/bin/python3 tools/torch_reference_optim.py [OUT]

Schedules: the rate of every optimiser step (and one-cycle's momentum) of
each case below, 300+ steps each, stepped the way lrscope steps them:
  - per-epoch schedulers (StepLR, MultiStepLR, ExponentialLR,
    CosineAnnealingLR) stepped once per epoch without an epoch argument
    (PyTorch's recursive forms), the rate repeated for the epoch's B steps;
  - CosineAnnealingWarmRestarts stepped before batch i of epoch e with
    scheduler.step(e + i / B);
  - OneCycleLR stepped after every batch (its lr and momentum/beta1);
  - a warm-up: SequentialLR([LinearLR, main], milestones=[W]) stepped per epoch
    (or per batch for a warm-up in steps, the main scheduler's per-epoch
    periods given in steps);
  - ReduceLROnPlateau fed a fixed metric series (stored too) after each epoch.
Optimisers: five steps of SGD/Adam/AdamW (foreach=False) on fixed parameters
and gradients, with per-step rates (and momentum/beta1 where cycled).

The case names and parameters are mirrored in tests/test_optim.c.

File format (little-endian): magic "LROPTREF", u32 version (1), then one
record per array until end of file:
    u32 name length, name bytes, u32 ndim, u32 dims[ndim], f64 data[prod(dims)]
"""
import math
import struct
import sys
import warnings

import torch
from torch.optim import SGD, Adam, AdamW
from torch.optim import lr_scheduler as S

warnings.filterwarnings("ignore")  # the step(epoch) deprecation warning


def write(f, name, values, dims=None):
    values = [float(v) for v in values]
    dims = dims or [len(values)]
    f.write(struct.pack("<I", len(name)) + name.encode())
    f.write(struct.pack("<I", len(dims)) + b"".join(struct.pack("<I", d) for d in dims))
    f.write(struct.pack("<%dd" % len(values), *values))


def sgd(lr, momentum=0.9):
    return SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=momentum)


def per_epoch(make, lr, epochs, B):
    opt = sgd(lr)
    sched = make(opt)
    out = []
    for _ in range(epochs):
        out += [opt.param_groups[0]["lr"]] * B
        opt.step()
        sched.step()
    return out


def per_batch_sequential(make, lr, steps):
    opt = sgd(lr)
    sched = make(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def restarts(lr, T_0, T_mult, eta_min, epochs, B, warmup=None):
    """CosineAnnealingWarmRestarts at e + i/B; after a LinearLR warm-up of
    (start_factor, steps) per batch when given, its clock restarting at 0."""
    opt_w = sgd(lr)
    lin = S.LinearLR(opt_w, start_factor=warmup[0], total_iters=warmup[1]) if warmup else None
    opt = sgd(lr)
    sched = S.CosineAnnealingWarmRestarts(opt, T_0=T_0, T_mult=T_mult, eta_min=eta_min)
    n0 = warmup[1] if warmup else 0
    out = []
    for s in range(epochs * B):
        if s < n0:
            out.append(opt_w.param_groups[0]["lr"])
            opt_w.step()
            lin.step()
            continue
        k = s - n0
        sched.step(k // B + (k % B) / B)
        out.append(opt.param_groups[0]["lr"])
    return out


def onecycle(epochs, B, adam=False, **kw):
    p = [torch.zeros(1, requires_grad=True)]
    opt = Adam(p, lr=0.1) if adam else SGD(p, lr=0.1, momentum=0.9)
    sched = S.OneCycleLR(opt, epochs=epochs, steps_per_epoch=B, **kw)
    lrs, moms = [], []
    for _ in range(epochs * B):
        g = opt.param_groups[0]
        lrs.append(g["lr"])
        moms.append(g["betas"][0] if adam else g["momentum"])
        opt.step()
        sched.step()
    # one more step is allowed (the rate after the last batch); a second raises
    try:
        sched.step()
        raise SystemExit("OneCycleLR did not raise past its end")
    except ValueError:
        pass
    return lrs, moms


def plateau(metric, lr, warmup_epochs=0, start_factor=1.0, **kw):
    opt = sgd(lr)
    sched = S.ReduceLROnPlateau(opt, **kw)
    opt_w = sgd(lr)
    lin = S.LinearLR(opt_w, start_factor=start_factor, total_iters=warmup_epochs) if warmup_epochs else None
    out = []
    for e, m in enumerate(metric):
        if e < warmup_epochs:  # the plateau starts after the warm-up, fed from then on
            out.append(opt_w.param_groups[0]["lr"])
            opt_w.step()
            lin.step()
            continue
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step(m)
    return out


def metric_series(n, acc, seed):
    g = torch.Generator().manual_seed(seed)
    noise = torch.randn(n, generator=g, dtype=torch.float64).tolist()
    out = []
    for e in range(n):
        if acc:
            v = 0.9 - 0.8 * math.exp(-e / 50) + 0.01 * noise[e]
        else:
            v = 2.0 * math.exp(-e / 40) + 0.3 + 0.02 * noise[e]
        if 100 <= e < 140:
            v = out[-1]  # an exact plateau: equal values are not improvements
        out.append(round(v, 6))
    return out


def schedules(f):
    cases = {}
    cases["step_7"] = per_epoch(lambda o: S.StepLR(o, 7, 0.9), 0.1, 320, 1)
    cases["step_30"] = per_epoch(lambda o: S.StepLR(o, 30, 0.1), 0.5, 320, 2)
    cases["multistep"] = per_epoch(lambda o: S.MultiStepLR(o, [30, 80, 81, 200], 0.3), 0.2, 320, 1)
    cases["exponential"] = per_epoch(lambda o: S.ExponentialLR(o, 0.98), 0.1, 320, 1)
    cases["cosine_default"] = per_epoch(lambda o: S.CosineAnnealingLR(o, 320), 0.1, 320, 1)
    cases["cosine_periodic"] = per_epoch(lambda o: S.CosineAnnealingLR(o, 100, 0.001), 0.05, 330, 1)
    cases["cosine_short"] = per_epoch(lambda o: S.CosineAnnealingLR(o, 7, 0.01), 0.3, 320, 1)
    cases["restarts_mult2"] = restarts(0.1, 10, 2, 1e-4, 50, 7)
    cases["restarts_mult1"] = restarts(0.1, 5, 1, 0.0, 30, 13)
    cases["restarts_mult3"] = restarts(0.2, 2, 3, 0.001, 64, 5)
    for name, (epochs, B, adam, kw) in {
        "onecycle_cos": (32, 10, False, dict(max_lr=0.1)),
        "onecycle_linear": (20, 16, False, dict(max_lr=0.5, pct_start=0.25, anneal_strategy="linear",
                                                div_factor=10.0, final_div_factor=100.0,
                                                base_momentum=0.8, max_momentum=0.9)),
        "onecycle_three": (30, 11, False, dict(max_lr=0.1, three_phase=True)),
        "onecycle_three_linear_adam": (40, 8, True, dict(max_lr=0.003, pct_start=0.2, three_phase=True,
                                                         anneal_strategy="linear")),
    }.items():
        lrs, moms = onecycle(epochs, B, adam, **kw)
        cases[name] = lrs
        write(f, name + ".momentum", moms)
    cases["warmup_cosine"] = per_epoch(
        lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, total_iters=5), S.CosineAnnealingLR(o, 315)], [5]),
        0.1, 320, 1)
    cases["warmup_step"] = per_epoch(
        lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.25, total_iters=3), S.StepLR(o, 10, 0.5)], [3]),
        0.1, 320, 1)
    # a warm-up of 25 steps, then StepLR(4 epochs) of 10 batches, per batch
    cases["warmup_steps_step"] = per_batch_sequential(
        lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.01, total_iters=25), S.StepLR(o, 40, 0.7)], [25]),
        0.1, 320)
    cases["warmup_steps_restarts"] = restarts(0.1, 3, 2, 0.0, 40, 9, warmup=(0.2, 30))

    loss, acc = metric_series(320, False, 5), metric_series(320, True, 6)
    for name, (metric, kw) in {
        "plateau_min_rel": (loss, dict(mode="min", factor=0.5, patience=3, threshold=1e-2,
                                       threshold_mode="rel", cooldown=2, min_lr=1e-4)),
        "plateau_min_abs": (loss, dict(mode="min", factor=0.3, patience=5, threshold=0.01,
                                       threshold_mode="abs")),
        "plateau_max_rel": (acc, dict(mode="max", factor=0.5, patience=2, threshold=1e-3,
                                      threshold_mode="rel", cooldown=1, min_lr=0.003)),
        "plateau_max_abs": (acc, dict(mode="max", factor=0.7, patience=4, threshold=0.005,
                                      threshold_mode="abs", min_lr=0.01, eps=1e-3)),
        "plateau_defaults": (loss, dict()),
    }.items():
        cases[name] = plateau(metric, 0.1, **kw)
        write(f, name + ".metric", metric)
    cases["warmup_plateau"] = plateau(loss, 0.1, warmup_epochs=4, start_factor=0.5, mode="min",
                                      factor=0.5, patience=2)
    write(f, "warmup_plateau.metric", loss)
    for name, lrs in cases.items():
        assert len(lrs) >= 300, name
        write(f, name + ".lr", lrs)
    return len(cases)


OPT_CASES = {
    # name: (class, per-step lrs, per-step momentum/beta1 or None, kwargs)
    "sgd_plain": (SGD, "sgd", None, dict(momentum=0.0)),
    "sgd_plain_wd": (SGD, "sgd", None, dict(momentum=0.0, weight_decay=0.05)),
    "sgd_momentum": (SGD, "sgd", None, dict(momentum=0.9)),
    "sgd_dampening": (SGD, "sgd", None, dict(momentum=0.9, dampening=0.3)),
    "sgd_nesterov": (SGD, "sgd", None, dict(momentum=0.9, nesterov=True)),
    "sgd_weight_decay": (SGD, "sgd", None, dict(momentum=0.9, weight_decay=0.01)),
    "sgd_nesterov_wd": (SGD, "sgd", None, dict(momentum=0.8, nesterov=True, weight_decay=0.005)),
    "sgd_cycled": (SGD, "sgd", [0.95, 0.9, 0.85, 0.9, 0.95], dict(momentum=0.9)),
    "adam": (Adam, "adam", None, dict()),
    "adam_wd": (Adam, "adam", None, dict(weight_decay=0.01)),
    "adam_amsgrad": (Adam, "adam", None, dict(amsgrad=True)),
    "adam_amsgrad_wd": (Adam, "adam", None, dict(amsgrad=True, weight_decay=0.02)),
    "adam_betas_eps": (Adam, "adam", None, dict(betas=(0.8, 0.99), eps=1e-6)),
    "adamw": (AdamW, "adam", None, dict(weight_decay=0.01)),
    "adamw_amsgrad": (AdamW, "adam", None, dict(weight_decay=0.1, amsgrad=True)),
    "adamw_cycled": (AdamW, "adam", [0.95, 0.9, 0.85, 0.9, 0.95], dict(weight_decay=0.05)),
}
LRS = {"sgd": [0.1, 0.05, 0.2, 0.1, 0.01], "adam": [1e-3, 2e-3, 5e-4, 1e-3, 3e-2]}


def optimisers(f):
    n, steps = 50, 5
    g = torch.Generator().manual_seed(7)
    p0 = torch.randn(n, generator=g)
    p0[:2] = 0.0
    scales = [1.0, 3.0, 0.1, 0.2, 2.0]  # the second moment falls and rises: amsgrad matters
    grads = torch.stack([torch.randn(n, generator=g) * s for s in scales])
    grads[:, 2:4] = 0.0
    write(f, "opt.p0", p0.tolist())
    write(f, "opt.grads", grads.flatten().tolist(), [steps, n])
    for name, (cls, family, cycled, kw) in OPT_CASES.items():
        p = p0.clone().requires_grad_(True)
        opt = cls([p], lr=LRS[family][0], foreach=False, **kw)
        out = []
        for s in range(steps):
            group = opt.param_groups[0]
            group["lr"] = LRS[family][s]
            if cycled:
                if family == "sgd":
                    group["momentum"] = cycled[s]
                else:
                    group["betas"] = (cycled[s], group["betas"][1])
            p.grad = grads[s].clone()
            opt.step()
            out += p.detach().tolist()
        write(f, "opt." + name, out, [steps, n])
    write(f, "opt.lrs.sgd", LRS["sgd"])
    write(f, "opt.lrs.adam", LRS["adam"])
    return len(OPT_CASES)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data/torch_optim.bin"
    with open(out, "wb") as f:
        f.write(b"LROPTREF" + struct.pack("<I", 1))
        ns = schedules(f)
        no = optimisers(f)
    print("wrote", out, "schedules:", ns, "optimisers:", no, "torch", torch.__version__)


if __name__ == "__main__":
    main()
