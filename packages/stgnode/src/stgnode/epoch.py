"""One epoch: the train pass and the evaluation pass of the training loop (`stgnode.train`).

Both run under the config's mixed precision (`train.amp`) and keep their loss and top-1/top-5
sums on the device (`Totals`), summed over the ranks of a DDP job at the end of the pass, so a
pass reads them back once, not once per batch (the progress bar on a terminal reads them every
10 steps).
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from stgnode.distributed import DistContext, all_reduce_sum
from stgnode.ema import WeightAverage
from stgnode.killpoint import kill_point
from stgnode.mixup import mix_batch, mixed_cross_entropy

AMP_DTYPES: dict[str, torch.dtype | None] = {
    "none": None,
    "bf16": torch.bfloat16,
    "fp16": torch.float16,
}
#: `train.amp` values besides the keys of AMP_DTYPES: "auto" is bf16 where it is native, else none.
AMP_CHOICES = (*AMP_DTYPES, "auto")

#: Whether a device type computes bf16 in hardware. A CPU without avx512_bf16 or AMX emulates
#: it: the NW-UCLA training step took 3.6 s under bf16 against 0.42 s in float32 on an AVX2-only
#: EPYC, where a CPU with avx512_bf16 runs it 1.45x faster than float32 (docs/results.md).
NATIVE_BF16: dict[str, Callable[[], bool]] = {
    "cpu": lambda: torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported(),
    "cuda": lambda: torch.cuda.is_bf16_supported(including_emulation=False),
}


def native_bf16(device: torch.device) -> bool:
    """True where `device` computes bf16 natively (so bf16 autocast is faster than float32)."""
    probe = NATIVE_BF16.get(device.type)
    return bool(probe and probe())


def amp_mode(config: dict[str, Any], device: torch.device) -> str:
    """The config's `train.amp` with "auto" resolved on `device`: bf16 if native, else none."""
    amp = config["train"]["amp"]
    if amp == "auto":
        return "bf16" if native_bf16(device) else "none"
    return amp


def autocast(config: dict[str, Any], device: torch.device) -> contextlib.AbstractContextManager:
    """The config's `train.amp` autocast on `device` (a no-op for "none")."""
    dtype = AMP_DTYPES[amp_mode(config, device)]
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=dtype)


class Totals:
    """Running sums of loss, top-1 and top-5 hits and sample count, kept on the device."""

    def __init__(self, device: torch.device) -> None:
        self.sums = torch.zeros(4, dtype=torch.float64, device=device)

    def add(self, logits: torch.Tensor, labels: torch.Tensor, loss: torch.Tensor) -> None:
        k = min(5, logits.shape[1])
        top = logits.topk(k, dim=1).indices
        hits = top == labels[:, None]
        n = labels.numel()
        self.sums += torch.stack(
            [
                loss.detach().double() * n,
                hits[:, 0].sum(),
                hits.any(1).sum(),
                torch.tensor(n, device=labels.device),
            ]
        )

    def reduce(self, ctx: DistContext) -> dict[str, float]:
        loss, top1, top5, n = all_reduce_sum(self.sums.tolist(), ctx)
        n = max(n, 1.0)
        return {"loss": loss / n, "top1": top1 / n, "top5": top5 / n, "samples": n}


def train_epoch(
    model: nn.Module,
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    scheduler: torch.optim.lr_scheduler.LRScheduler,
    scaler: torch.amp.GradScaler,
    config: dict[str, Any],
    ctx: DistContext,
    desc: str,
    progress: bool,
    average: WeightAverage | None = None,
) -> dict[str, float]:
    """One pass over the train loader; returns loss, top-1/5, samples and samples/s over all ranks.

    `average`, when given, takes one EMA step after every optimizer step (`stgnode.ema`).
    """
    model.train()
    totals, accumulate = Totals(ctx.device), config["train"]["accumulate"]
    smoothing, alpha = config["train"]["label_smoothing"], config["train"]["mixup"]
    start = time.perf_counter()
    # The bar redraws itself with carriage returns: only on a terminal. In a batch job's log
    # (stderr a file) it would be thousands of lines; the per-epoch line of `stgnode.train` stays.
    show_bar = progress and ctx.is_main and sys.stderr.isatty()
    bar = tqdm(loader, desc=desc, disable=not show_bar, leave=False, dynamic_ncols=True)
    for step, (x, y, _) in enumerate(bar):
        x, y = x.to(ctx.device, non_blocking=True), y.to(ctx.device, non_blocking=True)
        optimizer.zero_grad(set_to_none=True)
        for j, (xj, yj) in enumerate(zip(x.chunk(accumulate), y.chunk(accumulate), strict=True)):
            last = j == accumulate - 1
            sync = contextlib.nullcontext() if last or not ctx.distributed else model.no_sync()
            xj, y_other, lam = mix_batch(xj, yj, alpha)
            with sync:
                with autocast(config, ctx.device):
                    logits = model(xj)
                loss = mixed_cross_entropy(logits.float(), yj, y_other, lam, smoothing)
                scaler.scale(loss / accumulate).backward()
            # under mixup the training top-1 counts hits on the first of the two mixed labels
            totals.add(logits.detach().float(), yj, loss)
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        if average is not None:
            average.update()
        kill_point("step", scheduler.last_epoch)
        if show_bar and step % 10 == 0:
            loss_sum, top1, _, n = totals.sums.tolist()
            rate = n * ctx.world / (time.perf_counter() - start)
            bar.set_postfix(loss=f"{loss_sum / n:.3f}", acc=f"{top1 / n:.1%}", sps=f"{rate:.0f}")
    stats = totals.reduce(ctx)
    stats["seconds"] = time.perf_counter() - start
    stats["samples_per_s"] = stats["samples"] / stats["seconds"]
    return stats


@torch.no_grad()
def evaluate(
    model: nn.Module, loader: Iterable, config: dict[str, Any], ctx: DistContext
) -> dict[str, float]:
    """Loss and top-1/top-5 of `model` over the test loader, summed over all ranks."""
    model.eval()
    totals = Totals(ctx.device)
    for x, y, _ in loader:
        x, y = x.to(ctx.device, non_blocking=True), y.to(ctx.device, non_blocking=True)
        with autocast(config, ctx.device):
            logits = model(x)
        totals.add(logits.float(), y, F.cross_entropy(logits.float(), y))
    return totals.reduce(ctx)
