"""An exponential moving average (EMA) of a model's weights, the model that is evaluated and kept.

After every optimizer step t the averaged copy moves towards the trained weights w_t,

    a_t = d * a_{t-1} + (1 - d) * w_t,     a_0 = w_0,     d = 1 - 1 / (H * S),

where S is the number of optimizer steps per epoch and H = `train.ema_epochs` the horizon in
epochs: the weight of a step decays by e after H epochs, whatever the dataset's size, so one
value means the same on a 227-sequence and a 40,000-sequence training part. BatchNorm's
running statistics are averaged the same way (they are floats and follow the weights they were
measured with); integer buffers (BatchNorm's batch counter) are copied.

The trained weights stay in the optimizer's model (a resumed run continues from them); the
average is what the training loop evaluates and what checkpoints offer for inference
(`stgnode.checkpoint.load_for_inference`). `train.ema_epochs = 0` (the default) keeps no copy
and changes nothing.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


class WeightAverage:
    """The EMA of `source`'s parameters and buffers; `module` is the averaged copy (eval only)."""

    def __init__(self, source: nn.Module, horizon_epochs: float, steps_per_epoch: int) -> None:
        if horizon_epochs <= 0 or steps_per_epoch <= 0:
            raise ValueError(
                f"an EMA needs a positive horizon and steps per epoch, got {horizon_epochs} "
                f"epochs of {steps_per_epoch} steps"
            )
        self.source = source
        self.decay = 1.0 - 1.0 / (horizon_epochs * steps_per_epoch)
        self.module = copy.deepcopy(source).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self) -> None:
        """One step of the average towards the source's current weights and buffers."""
        current = self.source.state_dict()
        for name, averaged in self.module.state_dict().items():
            if averaged.is_floating_point():
                averaged.lerp_(current[name], 1.0 - self.decay)
            else:
                averaged.copy_(current[name])

    def state_dict(self) -> dict[str, torch.Tensor]:
        """The averaged weights, keyed like the source model's own state dict."""
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Put back averaged weights saved by `state_dict` (a resumed run)."""
        self.module.load_state_dict(state)
