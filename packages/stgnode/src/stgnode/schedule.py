"""Learning-rate schedules, set every optimisation step (a `LambdaLR` over a factor of the base lr).

All schedules start with a linear warm-up: the factor grows from `warmup_start` to 1 over the
first `warmup_epochs` epochs (counted in steps). After it:
- `cosine`: half a cosine from 1 down to `min_factor` at the last step of the run;
- `step`: 1, multiplied by `gamma` at the start of each epoch listed in `milestones`.
The factor depends only on the step count, so the scheduler's state is that count, restored
exactly on resume.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from stgnode.config import ConfigError

Schedule = Callable[[int], float]


def _cosine(progress: float, epoch: float, config: dict) -> float:
    low = config["min_factor"]
    return low + (1 - low) * 0.5 * (1 + math.cos(math.pi * progress))


def _step(progress: float, epoch: float, config: dict) -> float:
    return config["gamma"] ** sum(epoch >= m for m in config["milestones"])


# name -> factor after warm-up, from (fraction of the post-warm-up steps done, epoch, config)
AFTER_WARMUP: dict[str, Callable[[float, float, dict], float]] = {"cosine": _cosine, "step": _step}


def lr_factor(config: dict, steps_per_epoch: int, epochs: int) -> Schedule:
    """The factor of the base lr at each step for the `[schedule]` table `config`."""
    name = config["name"]
    if name not in AFTER_WARMUP:
        raise ConfigError(f"unknown schedule {name!r}; known: {sorted(AFTER_WARMUP)}")
    after = AFTER_WARMUP[name]
    warmup = config["warmup_epochs"] * steps_per_epoch
    total = max(epochs * steps_per_epoch, 1)
    start = config["warmup_start"]

    def factor(step: int) -> float:
        if step < warmup:
            return start + (1 - start) * step / warmup
        progress = (step - warmup) / max(total - 1 - warmup, 1)
        return after(min(progress, 1.0), step / steps_per_epoch, config)

    return factor


def make_scheduler(
    optimizer: torch.optim.Optimizer, config: dict, steps_per_epoch: int, epochs: int
) -> torch.optim.lr_scheduler.LambdaLR:
    """A per-step `LambdaLR` for `optimizer` following the `[schedule]` table `config`."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_factor(config, steps_per_epoch, epochs))
