"""The network: input BatchNorm over C*V*M, a stack of fused blocks, pooling, linear classifier.

Bodies are folded into the batch (as ST-GCN does), so each body of a sample runs through the
blocks separately; global average pooling over T, V and the bodies M gives one feature
vector per sample.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from stgnode.config import ConfigError
from stgnode.models.blocks import BlockSettings, FusedBlock, frames_after


class SkeletonNet(nn.Module):
    """(N, C, T, V, M) float32 -> logits (N, num_classes); every variant is this class.

    `spatial` is the (K, V, V) partition stack of the GCN-TCN branch; `branch` / `branch_graph`
    choose the second branch (see `stgnode.models.blocks.FusedBlock`). `window` fixes T,
    because the ODE's temporal matrices are sized to the frames each block sees. The first
    block has no residual, as in ST-GCN.
    """

    def __init__(
        self,
        *,
        num_classes: int,
        in_channels: int,
        num_bodies: int,
        window: int,
        spatial: np.ndarray,
        branch: str | None,
        branch_graph: np.ndarray | None,
        channels: Sequence[int],
        strides: Sequence[int],
        settings: BlockSettings,
    ) -> None:
        super().__init__()
        if len(channels) != len(strides) or not channels:
            raise ConfigError(
                f"channels ({len(channels)}) and strides ({len(strides)}) must be non-empty "
                "lists of the same length"
            )
        num_joints = spatial.shape[-1]
        self.window = window
        self.shape = (in_channels, window, num_joints, num_bodies)
        self.data_bn = nn.BatchNorm1d(in_channels * num_joints * num_bodies)
        blocks = []
        frames, width = window, in_channels
        for n, (out, stride) in enumerate(zip(channels, strides, strict=True)):
            frames = frames_after(frames, settings.temporal_kernel, stride)
            blocks.append(
                FusedBlock(
                    width, out, stride, frames, spatial, branch, branch_graph, n > 0, settings
                )
            )
            width = out
        self.blocks = nn.ModuleList(blocks)
        self.classifier = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Classify a batch of skeleton clips."""
        if tuple(x.shape[1:]) != self.shape:
            raise ValueError(
                f"expected input (N, C, T, V, M) with (C, T, V, M) = {self.shape}, "
                f"got {tuple(x.shape)}"
            )
        n, c, t, v, m = x.shape
        x = x.permute(0, 4, 3, 1, 2).reshape(n, m * v * c, t)  # ST-GCN's data_bn order M, V, C
        x = self.data_bn(x)
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).reshape(n * m, c, t, v)
        for block in self.blocks:
            x = block(x)
        features = x.view(n, m, x.shape[1], -1).mean(dim=(1, 3))
        return self.classifier(features)
