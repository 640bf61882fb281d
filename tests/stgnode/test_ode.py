"""The tensor ODE (Eq. 6) against closed forms: identity operators, matrix exponentials, solvers.

All in float64 on tiny shapes, so the checks are tight and fast.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.func import functional_call

from stgnode.graph import normalized_semantic
from stgnode.models.ode import ODEBlock, TensorODEFunc, tensor_ode_rhs

N, C, T, V = 1, 2, 3, 4


def random_graph(v: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((v, v)) < 0.5, 1)
    return normalized_semantic((upper | upper.T).astype(np.float32))


def randomise(block: ODEBlock, seed: int) -> None:
    """Move every parameter off its identity initialisation (spectra inside (0, 1))."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in block.named_parameters():
            if name.endswith("spectrum"):
                p.copy_(0.1 + 0.8 * torch.rand(p.shape, generator=gen, dtype=p.dtype))
            else:
                p.add_(0.3 * torch.randn(p.shape, generator=gen, dtype=p.dtype))


def vectorised_operator(func: TensorODEFunc) -> torch.Tensor:
    """The (CTV x CTV) matrix of the linear part of Eq. 6, built from Kronecker products.

    With f vectorised row-major over (C, T, V), right-multiplying the joint axis by a matrix
    B is I_C x I_T x B^T, and likewise for the other axes.
    """

    def stable(m: torch.nn.Module) -> torch.Tensor:
        u, d = m.basis.detach().double(), m.spectrum.detach().double()
        return u @ torch.diag(d.clamp(0, 1)) @ u.T

    eye_c, eye_t, eye_v = (torch.eye(n, dtype=torch.float64) for n in (C, T, V))
    a_minus_i = func.graph.double()  # the buffer holds A - I
    gate = torch.sigmoid(func.gate_logit.detach()).double()
    z, w = stable(func.temporal), stable(func.feature)
    graph = torch.kron(torch.kron(eye_c, eye_t), (torch.diag(gate) @ a_minus_i.T).contiguous())
    temporal = torch.kron(torch.kron(eye_c, (z - eye_t).T.contiguous()), eye_v)
    feature = torch.kron(torch.kron((w - eye_c).T.contiguous(), eye_t), eye_v)
    return graph + temporal + feature


def test_identity_operators_give_the_restart_term_exactly() -> None:
    func = TensorODEFunc(C, T, np.eye(V)).double()  # A = I, and Z = W = I at initialisation
    f = torch.randn(N, C, T, V, dtype=torch.float64)
    h0 = torch.randn(N, C, T, V, dtype=torch.float64)
    torch.testing.assert_close(tensor_ode_rhs(f, h0, func.operators()), h0, rtol=0, atol=1e-15)


@pytest.mark.parametrize(("method", "step"), [("rk4", None), ("rk4", 0.1), ("euler", 0.25)])
def test_identity_operators_integrate_to_a_straight_line(method: str, step: float | None) -> None:
    block = ODEBlock(C, T, np.eye(V), method=method, step_size=step, t_end=0.7).double()
    x = torch.randn(N, C, T, V, dtype=torch.float64)
    torch.testing.assert_close(block(x), x + 0.7 * x, rtol=1e-13, atol=1e-13)


def test_rhs_matches_the_vectorised_operator() -> None:
    block = ODEBlock(C, T, random_graph(V, 0)).double()
    randomise(block, 1)
    f = torch.randn(N, C, T, V, dtype=torch.float64)
    h0 = torch.randn(N, C, T, V, dtype=torch.float64)
    with torch.no_grad():
        got = tensor_ode_rhs(f, h0, block.func.operators()).reshape(-1)
    expected = vectorised_operator(block.func) @ f.reshape(-1) + h0.reshape(-1)
    torch.testing.assert_close(got, expected, rtol=1e-12, atol=1e-12)


def test_rk4_matches_the_matrix_exponential() -> None:
    """df/dt = L f + h0, f(0) = h0: exp of the augmented [[L, h0], [0, 0]] applied to [h0; 1]."""
    t_end = 0.8
    block = ODEBlock(C, T, random_graph(V, 2), step_size=0.02, t_end=t_end).double()
    randomise(block, 3)
    # Its own generator: drawn from the global one, x depended on the tests run before.
    x = torch.randn(N, C, T, V, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    size = C * T * V
    augmented = torch.zeros(size + 1, size + 1, dtype=torch.float64)
    augmented[:size, :size] = vectorised_operator(block.func)
    augmented[:size, size] = x.reshape(-1)
    start = torch.cat([x.reshape(-1), torch.ones(1, dtype=torch.float64)])
    expected = (torch.linalg.matrix_exp(t_end * augmented) @ start)[:size]
    with torch.no_grad():
        got = block(x).reshape(-1)
    # rk4's global error at step 0.02 is of order 0.02**4 = 1.6e-7 times the solution's
    # fourth derivative: a few 1e-8 here, depending on x.
    torch.testing.assert_close(got, expected, rtol=5e-8, atol=5e-8)
    # A single rk4 step is visibly less accurate: the tolerance above is not vacuous.
    coarse = ODEBlock(C, T, random_graph(V, 2), step_size=t_end, t_end=t_end).double()
    coarse.load_state_dict(block.state_dict())
    with torch.no_grad():
        assert (coarse(x).reshape(-1) - expected).abs().max() > 1e-6


def test_clamp_keeps_the_spectrum_in_the_unit_interval() -> None:
    func = TensorODEFunc(C, T, np.eye(V)).double()
    with torch.no_grad():
        func.feature.spectrum.copy_(torch.tensor([3.0, -2.0]))
    torch.testing.assert_close(func.feature(), torch.diag(torch.tensor([1.0, 0.0]).double()))


def test_rk4_and_dopri5_agree() -> None:
    graph = random_graph(V, 4)
    fixed = ODEBlock(C, T, graph, method="rk4", step_size=0.01, t_end=1.0).double()
    randomise(fixed, 5)
    adaptive = ODEBlock(C, T, graph, method="dopri5", t_end=1.0, rtol=1e-9, atol=1e-9).double()
    adaptive.load_state_dict(fixed.state_dict())
    x = torch.randn(2, C, T, V, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(fixed(x), adaptive(x), rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("adjoint", [False, True])
def test_gradcheck_input_and_parameters(adjoint: bool) -> None:
    block = ODEBlock(C, T, random_graph(V, 6), step_size=0.05, t_end=0.5, adjoint=adjoint).double()
    randomise(block, 7)
    names = [name for name, _ in block.named_parameters()]
    params = tuple(p.detach().clone().requires_grad_(True) for p in block.parameters())
    x = torch.randn(N, C, T, V, dtype=torch.float64, requires_grad=True)

    def run(x: torch.Tensor, *values: torch.Tensor) -> torch.Tensor:
        return functional_call(block, dict(zip(names, values, strict=True)), (x,))

    # The adjoint solves the continuous adjoint ODE backwards on the same grid: its gradient
    # differs from the discrete one by the solver error, hence the looser tolerance there.
    tol = {"atol": 1e-5, "rtol": 1e-4} if adjoint else {"atol": 1e-7, "rtol": 1e-6}
    assert torch.autograd.gradcheck(run, (x, *params), **tol)


def test_adjoint_and_direct_gradients_agree() -> None:
    graph = random_graph(V, 8)
    direct = ODEBlock(C, T, graph, step_size=0.05, t_end=0.5).double()
    randomise(direct, 9)
    adjoint = ODEBlock(C, T, graph, step_size=0.05, t_end=0.5, adjoint=True).double()
    adjoint.load_state_dict(direct.state_dict())
    x = torch.randn(N, C, T, V, dtype=torch.float64)
    grads = []
    for block in (direct, adjoint):
        xi = x.clone().requires_grad_(True)
        (block(xi) ** 2).sum().backward()
        grads.append([xi.grad, *(p.grad for p in block.parameters())])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)


def test_wrong_frame_count_is_refused() -> None:
    block = ODEBlock(C, T, np.eye(V))
    with pytest.raises(ValueError, match="built for 3 frames got 5"):
        block(torch.zeros(1, C, 5, V))


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"t_end": 0.0}, "t_end"), ({"step_size": -1.0}, "step_size")]
)
def test_bad_solver_settings_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ODEBlock(C, T, np.eye(V), **kwargs)
