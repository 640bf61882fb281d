"""The click commands of `stgnode` (one module each, loaded lazily by stgnode.cli) and the
options several of them share."""

from __future__ import annotations

import click

checkpoint_option = click.option(
    "--checkpoint",
    type=click.Choice(["best", "last"]),
    default="last",
    show_default=True,
    help="Which checkpoint of a run directory (ignored when RUN is a .pt file). `best` was "
    "chosen on the test split, so its score is optimistic; `last` is the honest figure.",
)
"""`--checkpoint last|best` of evaluate, export and predict (keys of evaluate.CHECKPOINTS)."""

views_option = click.option(
    "--views",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Test-time augmentation: average the logits of the plain test transform and VIEWS - 1 "
    "random temporal crops as in the run's training (a fixed random stream; no rotation).",
)
"""`--views K` of evaluate and predict: the same clips of a sample in both."""
