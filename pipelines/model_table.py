"""Parameters and forward FLOPs per sample of every registered variant at NTU input size.

Input (C, T, V, M) = (3, 300, 25, 2) with the paper's full width, counted with
`torch.utils.flop_counter.FlopCounterMode` (matmuls and convolutions; a FLOP is one multiply
or one add, so a multiply-accumulate counts 2). The ODE is integrated by torchdiffeq with plain
torch ops, so every right-hand-side evaluation of every solver step is counted (rk4: 4 per
step). The semantic adjacency is a fixed random symmetric 0/1 graph: the cost of the dense
graph products does not depend on its values.

    python pipelines/model_table.py [--window 300] [--bodies 2] [--classes 60]
"""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from skelprep.layouts import NTU25
from stgnode.models import MODELS, build_model


def random_semantic(num_joints: int, density: float = 0.3, seed: int = 0) -> np.ndarray:
    """A reproducible symmetric 0/1 (V, V) graph with self-loops, standing in for a store's."""
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((num_joints, num_joints)) < density, k=1)
    return (upper | upper.T | np.eye(num_joints, dtype=bool)).astype(np.float32)


def ntu_model(name: str, *, window: int, bodies: int, classes: int, **overrides: Any) -> nn.Module:
    """Variant `name` on the NTU 25-joint skeleton for (3, window, 25, bodies) inputs."""
    return build_model(
        name,
        num_classes=classes,
        in_channels=3,
        num_joints=NTU25.num_joints,
        num_bodies=bodies,
        edges=list(NTU25.edges),
        centre=NTU25.centre,
        semantic_adjacency=random_semantic(NTU25.num_joints),
        window=window,
        **overrides,
    )


def forward_flops(model: nn.Module, sample: torch.Tensor) -> int:
    """FLOPs of one forward pass of `model` on `sample` (eval mode, no autograd)."""
    model.eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(sample)
    return counter.get_total_flops()


def main() -> None:
    """Print the markdown table of parameters and GFLOPs per variant."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--window", type=int, default=300)
    parser.add_argument("--bodies", type=int, default=2)
    parser.add_argument("--classes", type=int, default=60)
    args = parser.parse_args()
    torch.manual_seed(0)
    sample = torch.randn(1, 3, args.window, NTU25.num_joints, args.bodies)
    print(f"input (C, T, V, M) = (3, {args.window}, 25, {args.bodies}), {args.classes} classes\n")
    print("| variant | parameters | GFLOPs / sample | ratio to st-gcn |")
    print("|---|---:|---:|---:|")
    rows = {}
    for name in MODELS:
        model = ntu_model(name, window=args.window, bodies=args.bodies, classes=args.classes)
        params = sum(p.numel() for p in model.parameters())
        rows[name] = (params, forward_flops(model, sample))
    for name, (params, flops) in rows.items():
        ratio = flops / rows["st-gcn"][1]
        print(f"| {name} | {params:,} | {flops / 1e9:.2f} | {ratio:.2f} |")


if __name__ == "__main__":
    main()
