"""ONNX export of a trained model with a dynamic batch axis, and its check against PyTorch.

Route: torch's TorchScript-based exporter (``dynamo=False``) traces one forward pass. The ODE
blocks integrate with a fixed-grid torchdiffeq solver (rk4 by default), so the trace records
every solver stage as plain tensor ops: the exported graph is the unrolled integrator, with no
loop or torchdiffeq code left in it. An adaptive solver (dopri5) would be traced with the step
count of the example input only, so export refuses models whose ODE blocks are not fixed-step.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from stgnode.errors import StgnodeError
from stgnode.models.ode import FIXED_GRID_SOLVERS, ODEBlock

OPSET = 17
INPUT_NAME, OUTPUT_NAME = "skeleton", "logits"


def check_exportable(model: nn.Module) -> None:
    """Refuse a model whose ODE blocks use an adaptive solver (its trace would freeze the steps)."""
    adaptive = {m.method for m in model.modules() if isinstance(m, ODEBlock)} - FIXED_GRID_SOLVERS
    if adaptive:
        raise StgnodeError(
            f"cannot export ODE blocks solved with {sorted(adaptive)}: an adaptive solver's step "
            f"count depends on the input; use a fixed-grid method ({sorted(FIXED_GRID_SOLVERS)})"
        )


def export_onnx(
    model: nn.Module, example: torch.Tensor, path: str | Path, opset: int = OPSET
) -> Path:
    """Write `model` (put in eval mode) as ONNX at `path`, input (N, C, T, V, M) with N dynamic."""
    check_exportable(model)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model.eval()
    with torch.no_grad(), warnings.catch_warnings():
        # The shape checks in forward() become constants of the trace: expected, since the
        # exported graph is fixed to (C, T, V, M) anyway; only N stays dynamic.
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        torch.onnx.export(
            model,
            (example,),
            str(path),
            dynamo=False,
            opset_version=opset,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
        )
    return path


def onnx_max_abs_diff(path: str | Path, model: nn.Module, inputs: torch.Tensor) -> float:
    """Largest |ONNX Runtime output - PyTorch output| on `inputs` (CPU), both in eval mode."""
    import onnxruntime  # optional dependency: only needed to check an export

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (onnx_out,) = session.run([OUTPUT_NAME], {INPUT_NAME: inputs.cpu().numpy()})
    model.eval()
    with torch.no_grad():
        torch_out = model(inputs).cpu().numpy()
    if onnx_out.shape != torch_out.shape:
        raise ValueError(f"{path}: ONNX output shape {onnx_out.shape} != PyTorch {torch_out.shape}")
    return float(np.abs(onnx_out - torch_out).max())
