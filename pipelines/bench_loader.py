"""`just bench-loader`: can the store-backed loader keep STG-NODE's training step fed?

Measured on the same machine and the same store (the demo store, built with `skelprep synth`
and `skelprep build` exactly as `just demo` does, reused when present):
- loader: samples/s of one training epoch of the demo config's train loader (chunk-aware
  sampler, augmentation, the config's stream), with 0 and with 2 worker processes;
- step: samples/s of forward + backward + SGD step of `stg-node` with the demo config, on
  batches already in memory (so loading is not counted).
Prints both and the ratios against the goals: loader >= 3x the step rate and >= 2,000 samples/s.
"""

from __future__ import annotations

import argparse
import platform
import time

import torch
import torch.nn.functional as F
from _run import REPO, ensure_demo_store

from stgnode.checkpoint import build_run_model, needs_semantic
from stgnode.config import load_config, merge_overrides
from stgnode.data import make_loader, set_epoch
from stgnode.store import model_context, open_store

GOAL_RATIO, GOAL_RATE = 3.0, 2000.0


def loader_rate(store: str, config: dict, workers: int, epochs: int) -> float:
    """Samples/s of full training epochs of the train loader (worker start-up included)."""
    loader = make_loader(
        store,
        config["data"]["split"],
        "train",
        merge_overrides(config, [f"data.num_workers={workers}"]),
        True,
    )
    samples, start = 0, time.perf_counter()
    for epoch in range(epochs):
        set_epoch(loader, epoch)
        for x, _, _ in loader:
            samples += len(x)
    return samples / (time.perf_counter() - start)


def step_rate(store: str, config: dict, steps: int) -> float:
    """Samples/s of forward + backward + optimizer step of the config's model on cached batches."""
    info = open_store(store)
    split = config["data"]["split"]
    model = build_run_model(
        config,
        model_context(
            info, split, needs_semantic(config["model"]["name"]), config["data"]["stream"]
        ),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
    loader = make_loader(
        info, split, "train", merge_overrides(config, ["data.num_workers=0"]), True
    )
    set_epoch(loader, 0)
    batches = [(x, y) for x, y, _ in loader][: steps + 2]
    model.train()
    samples, start = 0, 0.0
    for i, (x, y) in enumerate(batches):
        if i == 2:  # two warm-up steps
            samples, start = 0, time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
        samples += len(x)
    return samples / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="use this store instead of the demo store")
    parser.add_argument("--config", default="demo")
    parser.add_argument("--epochs", type=int, default=3, help="loader epochs per measurement")
    parser.add_argument("--steps", type=int, default=10, help="timed training steps")
    args = parser.parse_args()
    store = args.store or str(REPO / ensure_demo_store())
    config = load_config(args.config)
    info = open_store(store)
    print(f"\nstore {store}: joints {info.shape}, chunks of {info.chunk}; config {args.config}: "
          f"window {config['data']['window']}, batch {config['train']['batch_size']}, model {config['model']['name']}")  # fmt: skip
    print(
        f"machine: {platform.machine()} {torch.get_num_threads()} torch threads, {platform.processor() or ''}"
    )
    steps = step_rate(store, config, args.steps)
    print(
        f"\n{'what':<28}{'samples/s':>12}{'x step rate':>14}  goals (>= {GOAL_RATIO:g}x, >= {GOAL_RATE:,.0f}/s)"
    )
    print(f"{'train step (fwd+bwd+sgd)':<28}{steps:>12.0f}{1.0:>14.2f}")
    for workers in (0, 2):
        rate = loader_rate(store, config, workers, args.epochs)
        ok = "met" if rate >= GOAL_RATIO * steps and rate >= GOAL_RATE else "NOT met"
        print(f"{f'loader, {workers} workers':<28}{rate:>12.0f}{rate / steps:>14.2f}  {ok}")


if __name__ == "__main__":
    main()
