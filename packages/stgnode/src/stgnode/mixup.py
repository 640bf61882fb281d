"""Input mixup for the training pass (Zhang et al., "mixup: Beyond Empirical Risk Minimization").

A batch x with labels y is mixed with a shuffled copy of itself,

    x' = lam * x + (1 - lam) * x[perm],     lam ~ Beta(alpha, alpha), one lam per batch,

and trained on the same mix of the two cross-entropies, lam * CE(f(x'), y) + (1 - lam) *
CE(f(x'), y[perm]), which is the cross-entropy against the mixed one-hot target. The stores'
3-D coordinates are aligned (the first frame's origin joint at 0, the up bone along +z), so a
mix is a body between two aligned poses at every frame; every stream (bone, motion) is linear in
the coordinates, so mixing the stream's input equals the stream of the mixed coordinates.

`train.mixup` is alpha; 0 (the default) turns it off without drawing any random number, so runs
without it are unchanged. The draws come from torch's global generator, which checkpoints
capture, so a resumed run mixes as the uninterrupted one would.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def mix_batch(
    x: torch.Tensor, y: torch.Tensor, alpha: float
) -> tuple[torch.Tensor, torch.Tensor, float]:
    """(mixed x, the partner labels y[perm], lam); with `alpha` 0, (x, y, 1.0) untouched."""
    if alpha <= 0:
        return x, y, 1.0
    lam = float(torch.distributions.Beta(alpha, alpha).sample())
    perm = torch.randperm(x.shape[0], device=x.device)
    return lam * x + (1.0 - lam) * x[perm], y[perm], lam


def mixed_cross_entropy(
    logits: torch.Tensor,
    y: torch.Tensor,
    y_other: torch.Tensor,
    lam: float,
    label_smoothing: float = 0.0,
) -> torch.Tensor:
    """lam * CE(logits, y) + (1 - lam) * CE(logits, y_other); plain CE when lam is 1."""
    loss = F.cross_entropy(logits, y, label_smoothing=label_smoothing)
    if lam == 1.0:
        return loss
    other = F.cross_entropy(logits, y_other, label_smoothing=label_smoothing)
    return lam * loss + (1.0 - lam) * other
