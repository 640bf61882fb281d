"""Spatial graph convolution over a stack of partition adjacencies (ST-GCN's `ConvTemporalGraphical`).

One 1x1 convolution produces K feature maps, one per partition; each is aggregated over the
joints by its adjacency (optionally scaled by a learnable edge-importance mask) and the K
results are summed. With K = 1 and a normalised semantic adjacency it is the plain graph
convolution of the STG-Semantic ablation.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class SpatialGraphConv(nn.Module):
    """(N, C_in, T, V) -> (N, C_out, T, V): sum_k (W_k x) A_k, with A_k (V, V) fixed buffers.

    `adjacency` is (K, V, V) in the convention of `stgnode.graph`: row = sending joint,
    column = receiving joint. `edge_importance` adds ST-GCN's learnable mask M (initialised
    to ones) so the effective graph is A * M.
    """

    def __init__(
        self, in_channels: int, out_channels: int, adjacency: np.ndarray, edge_importance: bool
    ) -> None:
        super().__init__()
        a = torch.as_tensor(np.asarray(adjacency), dtype=torch.float32)
        if a.ndim == 2:
            a = a.unsqueeze(0)
        if a.ndim != 3 or a.shape[1] != a.shape[2]:
            raise ValueError(f"adjacency must be (K, V, V) or (V, V), got {tuple(a.shape)}")
        self.partitions = a.shape[0]
        self.out_channels = out_channels
        self.register_buffer("adjacency", a)
        self.conv = nn.Conv2d(in_channels, out_channels * self.partitions, kernel_size=1)
        self.importance = nn.Parameter(torch.ones_like(a)) if edge_importance else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Mix channels per partition, then aggregate each partition over its graph."""
        n, _, t, v = x.shape
        y = self.conv(x).view(n, self.partitions, self.out_channels, t, v)
        graph = self.adjacency if self.importance is None else self.adjacency * self.importance
        return torch.einsum("nkctv,kvw->nctw", y, graph)
