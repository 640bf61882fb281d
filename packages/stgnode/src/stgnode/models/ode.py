"""The tensor ODE of STG-NODE (Eq. 6, in the STGODE arrangement) and its integrator block.

On a block's hidden tensor f (N, C, T, V):

    df/dt = g * (f x_V (A - I)) + f x_T (Z - I) + f x_C (W - I) + H0

with A the normalised (V, V) graph (fixed buffer), g = sigmoid(alpha) a learnable per-joint
gate on the graph term, Z (T x T) and W (C x C) learnable, and H0 = f(0) the restart term.
`x_V` contracts the joint axis as a graph convolution does (`out[.., w] = sum_v f[.., v] A[v, w]`),
`x_T` and `x_C` likewise over frames and channels. Z and W are parametrised as
U diag(clamp(d, 0, 1)) U^T (U and d learnable, U = I and d = 1 at start, orthogonality not
enforced), as in STGODE (Fang et al., KDD 2021), which keeps the spectrum of W, Z in [0, 1]
while U stays near-orthogonal, so the linear part stays dissipative.
H0 is kept in the autograd graph (STGODE detaches it), so gradients reach the block's input
through both the initial value and the restart term; with the adjoint method the operators
and H0 are handed to `odeint_adjoint` as `adjoint_params`, which routes the same gradients.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torchdiffeq import odeint, odeint_adjoint

from stgnode.config import ConfigError

#: torchdiffeq solvers on a fixed grid, the ones that take `step_size`.
FIXED_GRID_SOLVERS = frozenset(
    {"euler", "midpoint", "heun2", "heun3", "rk4", "explicit_adams", "implicit_adams"}
)


class StableMatrix(nn.Module):
    """A learnable (n, n) matrix U diag(clamp(d, 0, 1)) U^T, the identity at initialisation."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.basis = nn.Parameter(torch.eye(size))
        self.spectrum = nn.Parameter(torch.ones(size))

    def forward(self) -> torch.Tensor:
        """The current matrix."""
        return (self.basis * self.spectrum.clamp(0.0, 1.0)) @ self.basis.T


class Operators(NamedTuple):
    """The linear parts of the right-hand side, built once per solve (not per evaluation).

    Stored in the orientation each product needs, so an evaluation is three matrix products
    with no transposed copies of the state (see `tensor_ode_rhs`).
    """

    graph: torch.Tensor  # (V, V) (A - I) diag(g): right-multiplies f over joints
    temporal: torch.Tensor  # (T, T) (Z - I)^T: left-multiplies each (T, V) slice
    feature: torch.Tensor  # (C, C) (W - I)^T: left-multiplies each (C, T*V) slice


def tensor_ode_rhs(f: torch.Tensor, h0: torch.Tensor, ops: Operators) -> torch.Tensor:
    """Eq. 6: g * (f x_V (A-I)) + f x_T (Z-I) + f x_C (W-I) + H0 for f of shape (N, C, T, V).

    Three fused multiply-adds on views of the contiguous state: the channel term as a
    batched product over N, the frame term over N*C, the joint term as one (N*C*T, V) x
    (V, V) product. The small matrices are expanded (stride 0, no copy) rather than
    broadcast by `@`, which would copy a transposed state for every evaluation (the training
    step's figures are in docs/results.md, section Model).
    """
    n, c, t, v = f.shape
    channel = ops.feature.expand(n, c, c)
    out = torch.baddbmm(h0.reshape(n, c, t * v), channel, f.reshape(n, c, t * v))
    frame = ops.temporal.expand(n * c, t, t)
    out = torch.baddbmm(out.view(n * c, t, v), frame, f.reshape(n * c, t, v))
    return torch.addmm(out.view(-1, v), f.reshape(-1, v), ops.graph).view(n, c, t, v)


class TensorODEFunc(nn.Module):
    """Holds the parameters of Eq. 6 for a fixed (C, T, V) and builds its `Operators`."""

    def __init__(self, channels: int, frames: int, adjacency: np.ndarray) -> None:
        super().__init__()
        a = torch.as_tensor(np.asarray(adjacency), dtype=torch.float32)
        if a.ndim != 2 or a.shape[0] != a.shape[1]:
            raise ValueError(f"ODE adjacency must be (V, V), got {tuple(a.shape)}")
        self.register_buffer("graph", a - torch.eye(a.shape[0]))
        self.gate_logit = nn.Parameter(torch.full((a.shape[0],), 0.8))
        self.temporal = StableMatrix(frames)
        self.feature = StableMatrix(channels)

    def operators(self) -> Operators:
        """Evaluate the parametrisations once for the coming solve."""
        eye_t = torch.eye(self.temporal.basis.shape[0], device=self.graph.device)
        eye_c = torch.eye(self.feature.basis.shape[0], device=self.graph.device)
        return Operators(
            graph=self.graph * torch.sigmoid(self.gate_logit),
            temporal=(self.temporal() - eye_t.to(self.graph.dtype)).T,
            feature=(self.feature() - eye_c.to(self.graph.dtype)).T,
        )


class ODEBlock(nn.Module):
    """Integrate Eq. 6 from f(0) = x over [0, t_end] and return f(t_end), same shape as x.

    `method` is any torchdiffeq solver; `step_size` applies to the fixed-grid ones (None:
    one step over the whole interval), `rtol`/`atol` to the adaptive ones. `adjoint=True`
    uses `odeint_adjoint` (memory constant in the number of steps, one extra backward solve).
    """

    def __init__(
        self,
        channels: int,
        frames: int,
        adjacency: np.ndarray,
        *,
        method: str = "rk4",
        step_size: float | None = None,
        t_end: float = 1.0,
        adjoint: bool = False,
        rtol: float = 1e-7,
        atol: float = 1e-9,
    ) -> None:
        super().__init__()
        if t_end <= 0:
            raise ConfigError(f"ode_t_end must be > 0, got {t_end}")
        if step_size is not None and step_size <= 0:
            raise ConfigError(f"ode_step_size must be > 0 or None, got {step_size}")
        self.func = TensorODEFunc(channels, frames, adjacency)
        self.frames = frames
        self.method = method
        fixed_step = method in FIXED_GRID_SOLVERS and step_size is not None
        self.options = {"step_size": step_size} if fixed_step else {}
        self.t_end = t_end
        self.adjoint = adjoint
        self.rtol, self.atol = rtol, atol

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(N, C, T, V) -> (N, C, T, V), the ODE state at t_end."""
        if x.shape[2] != self.frames:
            raise ValueError(
                f"ODE block built for {self.frames} frames got {x.shape[2]} "
                "(the model's window must equal the input's T)"
            )
        ops = self.func.operators()
        h0 = x

        def field(_t: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
            return tensor_ode_rhs(f, h0, ops)

        times = torch.tensor([0.0, self.t_end], dtype=x.dtype, device=x.device)
        common = dict(method=self.method, options=self.options, rtol=self.rtol, atol=self.atol)
        if self.adjoint:
            params = (h0, *ops)
            return odeint_adjoint(field, x, times, adjoint_params=params, **common)[-1]
        return odeint(field, x, times, **common)[-1]
