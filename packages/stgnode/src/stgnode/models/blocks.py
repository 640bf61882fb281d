"""The building blocks: GCN-TCN (ST-GCN unit), ODE-TCN (STGODE arrangement) and their fusion.

A fused block runs the GCN-TCN branch and, unless the variant is plain ST-GCN, a second
branch on the same input, sums them with a residual connection and applies ReLU. The second
branch is temporal conv -> middle -> temporal conv, where the middle is the tensor ODE
(STG-NODE, STG-ODE*) or a plain graph convolution (STG-Semantic), chosen from `MIDDLES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from stgnode.config import ConfigError
from stgnode.models.gcn import SpatialGraphConv
from stgnode.models.ode import ODEBlock


@dataclass(frozen=True)
class BlockSettings:
    """Hyper-parameters shared by every block of a network."""

    temporal_kernel: int = 9
    branch_kernel: int = 9
    dropout: float = 0.0
    edge_importance: bool = True
    ode_method: str = "rk4"
    ode_step_size: float | None = None
    ode_t_end: float = 1.0
    ode_rtol: float = 1e-7
    ode_atol: float = 1e-9
    adjoint: bool = False


def frames_after(frames: int, kernel: int, stride: int) -> int:
    """Output length of a 'same'-padded temporal convolution with this stride."""
    pad = (kernel - 1) // 2
    return (frames + 2 * pad - kernel) // stride + 1


def temporal_conv(in_channels: int, out_channels: int, kernel: int, stride: int) -> nn.Sequential:
    """A kernel x 1 convolution over time (stride on time only) followed by BatchNorm."""
    if kernel % 2 != 1:
        raise ConfigError(f"temporal_kernel must be odd, got {kernel}")
    return nn.Sequential(
        nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size=(kernel, 1),
            stride=(stride, 1),
            padding=((kernel - 1) // 2, 0),
        ),
        nn.BatchNorm2d(out_channels),
    )


class GCNTCN(nn.Module):
    """ST-GCN's unit without its residual: graph conv, BN, ReLU, temporal conv (+BN), dropout."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        adjacency: np.ndarray,
        settings: BlockSettings,
    ) -> None:
        super().__init__()
        self.gcn = SpatialGraphConv(in_channels, out_channels, adjacency, settings.edge_importance)
        self.bn = nn.BatchNorm2d(out_channels)
        self.tcn = temporal_conv(out_channels, out_channels, settings.temporal_kernel, stride)
        self.dropout = nn.Dropout(settings.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, T, V) -> (N, C_out, T', V)."""
        return self.dropout(self.tcn(torch.relu(self.bn(self.gcn(x)))))


def _ode_middle(
    channels: int, frames: int, graph: np.ndarray, settings: BlockSettings
) -> nn.Module:
    return ODEBlock(
        channels,
        frames,
        graph,
        method=settings.ode_method,
        step_size=settings.ode_step_size,
        t_end=settings.ode_t_end,
        adjoint=settings.adjoint,
        rtol=settings.ode_rtol,
        atol=settings.ode_atol,
    )


def _gcn_middle(
    channels: int, frames: int, graph: np.ndarray, settings: BlockSettings
) -> nn.Module:
    return SpatialGraphConv(channels, channels, graph, edge_importance=False)


#: What sits between the two temporal convolutions of the second branch.
MIDDLES: dict[str, Callable[[int, int, np.ndarray, BlockSettings], nn.Module]] = {
    "ode": _ode_middle,
    "semantic-gcn": _gcn_middle,
}


class ODETCN(nn.Module):
    """Temporal conv (with the stride, +BN, ReLU) -> middle -> ReLU -> temporal conv (+BN).

    The middle (ODE or graph conv) runs at the block's output frame rate `frames`, so the
    ODE's temporal matrix Z is frames x frames. No dropout of its own: the block's dropout
    sits in the GCN-TCN branch as in ST-GCN's unit (a second one cost 6 % of the training
    step on CPU, where drawing the mask is slow, and gave no better accuracy; docs/results.md).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        frames: int,
        graph: np.ndarray,
        middle: str,
        settings: BlockSettings,
    ) -> None:
        super().__init__()
        if middle not in MIDDLES:
            raise ConfigError(f"unknown branch {middle!r}; known: {sorted(MIDDLES)}")
        k = settings.branch_kernel
        self.tcn_in = temporal_conv(in_channels, out_channels, k, stride)
        self.middle = MIDDLES[middle](out_channels, frames, graph, settings)
        self.tcn_out = temporal_conv(out_channels, out_channels, k, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, T, V) -> (N, C_out, T', V)."""
        return self.tcn_out(torch.relu(self.middle(torch.relu(self.tcn_in(x)))))


def residual_path(in_channels: int, out_channels: int, stride: int) -> nn.Module:
    """Identity when the shape is kept, else a strided 1x1 convolution with BatchNorm."""
    if in_channels == out_channels and stride == 1:
        return nn.Identity()
    return temporal_conv(in_channels, out_channels, 1, stride)


class FusedBlock(nn.Module):
    """ReLU(GCN-TCN(x) [+ second branch(x)] [+ residual(x)]), one of the network's layers.

    `branch` None gives ST-GCN's block; otherwise a key of `MIDDLES` over `branch_graph`.
    `residual=False` drops the residual (ST-GCN's first block).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        frames_out: int,
        spatial: np.ndarray,
        branch: str | None,
        branch_graph: np.ndarray | None,
        residual: bool,
        settings: BlockSettings,
    ) -> None:
        super().__init__()
        self.gcn_tcn = GCNTCN(in_channels, out_channels, stride, spatial, settings)
        self.second = None
        if branch is not None:
            if branch_graph is None:
                raise ValueError(f"branch {branch!r} needs a (V, V) graph")
            self.second = ODETCN(
                in_channels, out_channels, stride, frames_out, branch_graph, branch, settings
            )
        self.residual = residual_path(in_channels, out_channels, stride) if residual else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C_in, T, V) -> (N, C_out, T', V)."""
        y = self.gcn_tcn(x)
        if self.second is not None:
            y = y + self.second(x)
        if self.residual is not None:
            y = y + self.residual(x)
        return torch.relu(y)
