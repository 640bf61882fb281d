"""The training loop: one process (CPU or GPU) or one rank of a torchrun/DDP job.

`run_training(config, store, out_dir, resume)` trains the config's model on the train part of
the config's split, evaluates the test part, and (on rank 0 only) writes into `out_dir`:
`config.toml` (the resolved config), `metrics.jsonl` (one JSON object per epoch), `tb/`
(TensorBoard), and the checkpoints `last.pt` (every epoch) and `best.pt` (best test top-1).
A killed run continues exactly with `resume=True` from `last.pt`: data order and augmentation
are functions of (seed, epoch, sample), and the RNG, optimizer and scheduler states come back
from the checkpoint, so on CPU with `deterministic` the final weights are bit-identical.

With W ranks the config's batch size is the global batch (B / W per rank); gradients are
averaged by DDP and metrics summed over ranks. BatchNorm statistics are per rank unless
`train.sync_bn` on CUDA (SyncBatchNorm is GPU-only in torch); `train.accumulate = k` splits
each batch into k micro-batches, which reproduces W-rank per-rank BatchNorm on 1 process.
"""

from __future__ import annotations

import json
import os
import random
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from stgnode import checkpoint as ckpt
from stgnode.config import ConfigError, save_config
from stgnode.data import make_loader, set_epoch
from stgnode.distributed import (
    DistContext,
    broadcast_buffers,
    init_distributed,
    shutdown,
)
from stgnode.ema import WeightAverage
from stgnode.epoch import AMP_CHOICES, amp_mode, evaluate, native_bf16, train_epoch
from stgnode.schedule import make_scheduler
from stgnode.store import StoreInfo, model_context, open_store

OPTIMIZERS = {
    "sgd": lambda params, o: torch.optim.SGD(
        params,
        lr=o["lr"],
        momentum=o["momentum"],
        nesterov=o["nesterov"],
        weight_decay=o["weight_decay"],
    ),
}
METRICS_FILE = "metrics.jsonl"


def seed_everything(seed: int, deterministic: bool) -> None:
    """Seed python, numpy and torch; with `deterministic`, forbid nondeterministic kernels."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (seed the global state third-party code may use)
    torch.manual_seed(seed)
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True)
        torch.backends.cudnn.benchmark = False


def check_options(config: dict[str, Any], ctx: DistContext) -> None:
    """Refuse option combinations that cannot run, before any work starts."""
    train = config["train"]
    if train["amp"] not in AMP_CHOICES:
        raise ConfigError(f"train.amp must be one of {list(AMP_CHOICES)}, got {train['amp']!r}")
    if train["amp"] == "fp16" and ctx.device.type != "cuda":
        raise ConfigError(
            "--amp fp16 needs CUDA (fp16 autocast + GradScaler); on CPU use bf16, auto or none"
        )
    if train["amp"] == "bf16" and not native_bf16(ctx.device):
        warnings.warn(
            f"train.amp = bf16 on a {ctx.device.type} without native bf16 (no avx512_bf16 or "
            "AMX on a CPU): it is emulated and can be several times slower than float32; "
            "--amp auto uses bf16 only where it is native",
            stacklevel=2,
        )
    if not 0.0 <= train["label_smoothing"] < 1.0:
        raise ConfigError(
            f"train.label_smoothing must be in [0, 1), got {train['label_smoothing']}"
        )
    if train["mixup"] < 0:
        raise ConfigError(f"train.mixup (alpha) must be >= 0, got {train['mixup']}")
    if train["ema_epochs"] < 0:
        raise ConfigError(f"train.ema_epochs must be >= 0 (0 is off), got {train['ema_epochs']}")
    if config["optim"]["name"] not in OPTIMIZERS:
        raise ConfigError(
            f"unknown optimizer {config['optim']['name']!r}; known: {sorted(OPTIMIZERS)}"
        )
    parts = ctx.world * train["accumulate"]
    if train["batch_size"] % parts:
        raise ConfigError(
            f"global batch {train['batch_size']} is not divisible by {ctx.world} ranks x "
            f"{train['accumulate']} micro-batches"
        )


def store_record(info: StoreInfo, split: str, context: dict[str, Any]) -> dict[str, Any]:
    """What a checkpoint keeps about its store (so inference never needs the store)."""
    return {
        "path": str(info.path),
        "dataset": info.dataset,
        "classes": list(info.classes),
        "layout": info.layout,
        "channels": list(info.channels),
        "frames": info.shape[2],
        "alignment": info.attrs.get("alignment"),
        "fingerprint": info.fingerprint,
        "split": split,
        "train_samples": info.part_digest(split, "train"),
        "context": context,
    }


def _keep_metrics_until(path: Path, epoch: int) -> None:
    """Drop lines of epochs after `epoch` (written by a run killed before its checkpoint)."""
    if path.exists():
        lines = [line for line in path.read_text().splitlines() if line.strip()]
        kept = [line for line in lines if json.loads(line)["epoch"] <= epoch]
        path.write_text("".join(line + "\n" for line in kept))


def _last_record(path: Path) -> dict[str, Any]:
    lines = path.read_text().splitlines() if path.exists() else []
    return json.loads(lines[-1]) if lines else {}


def run_training(
    config: dict[str, Any],
    store: str | Path,
    out_dir: str | Path,
    resume: bool = False,
    progress: bool = True,
) -> dict[str, Any]:
    """Train per `config` on `store`, writing the run into `out_dir`; return the last epoch's record.

    Reads torchrun's environment: launched by torchrun it is one rank of a DDP job.
    `resume=True` continues from `out_dir/last.pt` when it exists (a fresh start otherwise); a
    run directory that already has a checkpoint is refused without `resume`.
    """
    ctx = init_distributed(config["train"]["device"])
    try:
        return train_model(config, store, Path(out_dir), resume, progress, ctx)[1]
    finally:
        shutdown(ctx)


def train_model(
    config: dict[str, Any],
    store: str | Path,
    run_dir: Path,
    resume: bool,
    progress: bool,
    ctx: DistContext,
) -> tuple[nn.Module, dict[str, Any]]:
    """`run_training` inside an initialised `ctx`; also returns this rank's trained model."""
    check_options(config, ctx)
    if progress and ctx.is_main and config["train"]["amp"] == "auto":
        print(f"train.amp = auto: {amp_mode(config, ctx.device)} on this {ctx.device.type}")
    # Denormal floats (the ODE's decaying modes and small gradients produce them) make x86
    # CPU arithmetic tens of times slower; flushing them to zero changes no result that matters.
    torch.set_flush_denormal(True)
    train_cfg, split = config["train"], config["data"]["split"]
    seed_everything(train_cfg["seed"], train_cfg["deterministic"])
    info = open_store(store)
    info.require_labels("train")
    semantic = ckpt.needs_semantic(config["model"]["name"])
    context = model_context(info, split, semantic, config["data"]["stream"])
    signature = ckpt.run_signature(config, context)
    train_loader = make_loader(info, split, "train", config, True, ctx.rank, ctx.world)
    test_loader = make_loader(info, split, "test", config, False, ctx.rank, ctx.world)
    net = ckpt.build_run_model(config, context).to(ctx.device)
    optimizer = OPTIMIZERS[config["optim"]["name"]](net.parameters(), config["optim"])
    scheduler = make_scheduler(
        optimizer, config["schedule"], len(train_loader), train_cfg["epochs"]
    )
    scaler = torch.amp.GradScaler(ctx.device.type, enabled=train_cfg["amp"] == "fp16")
    start_epoch, best = 0, -1.0
    last_path = run_dir / ckpt.LAST
    if last_path.exists() and not resume:
        raise ckpt.CheckpointError(
            f"{run_dir} already holds a run ({last_path}); pass --resume or another --out"
        )
    if resume and last_path.exists():
        state = ckpt.load_checkpoint(last_path)
        ckpt.check_compatible(state, signature, config, last_path)
        ckpt.check_schedule_kept(state, config, len(train_loader), last_path)
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        scaler.load_state_dict(state["scaler"])
        ckpt.restore_rng(state["rng"])
        start_epoch, best = state["epoch"], state["best_top1"]
    average = None
    if train_cfg["ema_epochs"] > 0:
        average = WeightAverage(net, train_cfg["ema_epochs"], len(train_loader))
        if start_epoch:
            average.load_state_dict(state["ema"])
    scored = net if average is None else average.module  # the weights evaluated and kept
    model: nn.Module = net
    if ctx.distributed:
        if ctx.device.type == "cuda" and train_cfg["sync_bn"]:
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = DistributedDataParallel(
            model, device_ids=[ctx.device] if ctx.device.type == "cuda" else None
        )
    if train_cfg["compile"]:
        model = torch.compile(model)
    writer = None
    if ctx.is_main:
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(config, run_dir / "config.toml")
        _keep_metrics_until(run_dir / METRICS_FILE, start_epoch)
        if train_cfg["tensorboard"]:
            from torch.utils.tensorboard import SummaryWriter

            writer = SummaryWriter(str(run_dir / "tb"), purge_step=start_epoch + 1)
    epochs, record = train_cfg["epochs"], None
    for epoch in range(start_epoch, epochs):
        set_epoch(train_loader, epoch)
        lr = optimizer.param_groups[0]["lr"]
        train = train_epoch(
            model,
            train_loader,
            optimizer,
            scheduler,
            scaler,
            config,
            ctx,
            f"epoch {epoch + 1}/{epochs}",
            progress,
            average,
        )
        record: dict[str, Any] = {
            "epoch": epoch + 1,
            "lr": lr,
            "train_loss": train["loss"],
            "train_top1": train["top1"],
        }
        if (epoch + 1) % train_cfg["eval_every"] == 0 or epoch + 1 == epochs:
            broadcast_buffers(scored, ctx)  # every rank evaluates rank 0's BatchNorm statistics
            test = evaluate(scored, test_loader, config, ctx)
            record.update(test_loss=test["loss"], test_top1=test["top1"], test_top5=test["top5"])
        record.update(samples_per_s=train["samples_per_s"], seconds=train["seconds"])
        if not ctx.is_main:
            continue
        improved = record.get("test_top1", -1.0) > best
        best = max(best, record.get("test_top1", -1.0))
        _log(run_dir, writer, record, progress)
        state = {
            "model": net.state_dict(),
            **({} if average is None else {"ema": average.state_dict()}),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "scaler": scaler.state_dict(),
            "rng": ckpt.capture_rng(),
            "epoch": epoch + 1,
            "config": config,
            "signature": signature,
            "store": store_record(info, split, context),
            "best_top1": best,
            "metrics": record,
        }
        ckpt.save_checkpoint(last_path, state)
        if improved:
            ckpt.save_checkpoint(run_dir / ckpt.BEST, state)
    if writer is not None:
        writer.close()
    last = record if record is not None else _last_record(run_dir / METRICS_FILE)
    return net, {**last, "best_top1": best, "run_dir": str(run_dir)}


def _log(run_dir: Path, writer, record: dict[str, Any], progress: bool) -> None:
    """Append the epoch's record to metrics.jsonl and TensorBoard, and print a summary line."""
    with open(run_dir / METRICS_FILE, "a") as handle:
        handle.write(json.dumps(record) + "\n")
    if writer is not None:
        for key, value in record.items():
            if key != "epoch":
                writer.add_scalar(key.replace("_", "/", 1), value, record["epoch"])
        writer.flush()
    if progress:
        test = (
            f"  test loss {record['test_loss']:.3f} top-1 {record['test_top1']:.1%}"
            if "test_top1" in record
            else ""
        )
        print(
            f"epoch {record['epoch']}: train loss {record['train_loss']:.3f} top-1 {record['train_top1']:.1%}"
            f"{test}  {record['samples_per_s']:.0f} samples/s",
            flush=True,
        )
