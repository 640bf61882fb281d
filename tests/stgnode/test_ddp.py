"""Real 2-process DDP training (gloo on CPU, a real process group on a localhost port).

Checks that both ranks end with identical parameters and that they equal a 1-process run with
the same global batch. BatchNorm: torch's SyncBatchNorm is GPU-only, so on CPU each rank
normalises its own half batch; the 1-process reference reproduces exactly that by splitting
each global batch into 2 micro-batches (`train.accumulate=2`), the same data order and
augmentation (functions of seed, epoch and sample) and dropout 0. Only parameters are
compared: running BatchNorm statistics are buffers that each rank updates from its own half.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

from stgnode.config import merge_overrides
from stgnode.distributed import init_distributed, shutdown
from stgnode.train import run_training, train_model

WORLD = 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rank(rank: int, port: int, config: dict, store: str, out: str) -> None:
    """One rank, with the environment torchrun would give it."""
    os.environ.update(
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(WORLD),
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
    )
    torch.set_num_threads(1)
    ctx = init_distributed("cpu")
    try:
        net, result = train_model(config, store, Path(out) / "run", False, False, ctx)
    finally:
        shutdown(ctx)
    torch.save(
        {"params": {k: v.detach() for k, v in net.named_parameters()}, "result": result},
        Path(out) / f"rank{rank}.pt",
    )


@pytest.fixture
def ddp_config(tiny_config: dict) -> dict:
    """The shared tiny config, one epoch, no warm-up, and an EMA of the weights (evaluated on
    every rank from rank 0's buffers; it leaves the trained parameters compared here alone)."""
    return merge_overrides(
        tiny_config, ["train.epochs=1", "schedule.warmup_epochs=0", "train.ema_epochs=1"]
    )


@pytest.mark.slow
def test_two_gloo_ranks_match_each_other_and_one_process(store, ddp_config, tmp_path):
    mp.spawn(
        _rank, args=(free_port(), ddp_config, str(store), str(tmp_path)), nprocs=WORLD, join=True
    )
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(WORLD)]
    names = list(ranks[0]["params"])
    for name in names:
        assert torch.equal(ranks[0]["params"][name], ranks[1]["params"][name]), (
            f"ranks differ in {name}"
        )
    assert ranks[0]["result"]["test_top1"] == ranks[1]["result"]["test_top1"]

    single = merge_overrides(ddp_config, ["train.accumulate=2"])
    ctx = init_distributed("cpu")
    net, result = train_model(single, store, tmp_path / "single", False, False, ctx)
    initial = dict(
        train_model(
            merge_overrides(single, ["train.epochs=0"]), store, tmp_path / "init", False, False, ctx
        )[0].named_parameters()
    )
    moved = 0
    for name, param in net.named_parameters():
        torch.testing.assert_close(param, ranks[0]["params"][name], rtol=1e-4, atol=1e-5, msg=name)
        moved += not torch.equal(param, initial[name])
    assert moved > len(names) // 2, (
        "training did not change the weights: the comparison proves nothing"
    )
    assert result["samples_per_s"] > 0 and ranks[0]["result"]["epoch"] == result["epoch"] == 1
    # only rank 0 wrote the run directory
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [
        "best.pt",
        "config.toml",
        "last.pt",
        "metrics.jsonl",
    ]


def test_global_batch_must_divide_over_ranks(store, ddp_config, tmp_path):
    """A global batch that does not split over the ranks is refused before training."""
    from stgnode.data import make_loader

    with pytest.raises(ValueError, match="not divisible by 3 ranks"):
        make_loader(
            store, "xsub", "train", merge_overrides(ddp_config, ["train.batch_size=16"]), True, 0, 3
        )
    with pytest.raises(ValueError, match="not divisible by 1 ranks x 3 micro-batches"):
        run_training(
            merge_overrides(ddp_config, ["train.accumulate=3"]), store, tmp_path, progress=False
        )
