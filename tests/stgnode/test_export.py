"""ONNX export: every variant's ONNX Runtime output matches PyTorch's, with a dynamic batch."""

from __future__ import annotations

import onnx
import pytest
import torch

from stgnode.export import INPUT_NAME, export_onnx, onnx_max_abs_diff
from stgnode.models import MODELS, build_model
from stgnode.store import model_context, open_store

WINDOW = 16
TINY = {"channels": [8, 16], "strides": [1, 2], "dropout": 0.0}


def tiny_model(store, name: str, **overrides) -> torch.nn.Module:
    """A small `name` model for the test store, BatchNorm statistics made non-trivial."""
    context = model_context(open_store(store), "xsub", semantic=True, stream="joint")
    model = build_model(name, **context, window=WINDOW, **{**TINY, **overrides})
    torch.manual_seed(0)
    for module in model.modules():
        if isinstance(module, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    return model.eval()


@pytest.mark.parametrize("name", sorted(MODELS))
def test_onnx_matches_pytorch_with_a_dynamic_batch(store, tmp_path, name) -> None:
    model = tiny_model(store, name)
    shape = (3, WINDOW, 12, 2)
    path = export_onnx(model, torch.randn(2, *shape), tmp_path / f"{name}.onnx")
    graph = onnx.load(str(path))
    onnx.checker.check_model(graph)
    assert max(o.version for o in graph.opset_import if o.domain in ("", "ai.onnx")) >= 17
    assert graph.graph.input[0].name == INPUT_NAME
    batch_dim = graph.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch_dim.dim_param == "batch" and not batch_dim.HasField("dim_value")
    for batch in (1, 5):  # neither is the traced batch of 2
        inputs = torch.randn(batch, *shape, generator=torch.Generator().manual_seed(batch))
        with torch.no_grad():
            reference = model(inputs)
        assert reference.abs().max() > 1e-3  # the comparison below is not between zeros
        assert onnx_max_abs_diff(path, model, inputs) < 1e-4


def test_ode_steps_are_unrolled_into_plain_ops(store, tmp_path) -> None:
    """Four rk4 steps put four times the operators of one step into the graph: no loop node."""
    counts = {}
    for steps in (1, 4):
        model = tiny_model(store, "stg-node", ode_step_size=1.0 / steps)
        path = export_onnx(model, torch.randn(2, 3, WINDOW, 12, 2), tmp_path / f"{steps}.onnx")
        ops = [node.op_type for node in onnx.load(str(path)).graph.node]
        assert "Loop" not in ops and "If" not in ops
        counts[steps] = len(ops)
    assert counts[4] > 2 * counts[1]


def test_adaptive_solver_is_refused(store, tmp_path) -> None:
    model = tiny_model(store, "stg-node", ode_method="dopri5")
    with pytest.raises(ValueError, match=r"cannot export ODE blocks solved with \['dopri5'\]"):
        export_onnx(model, torch.randn(1, 3, WINDOW, 12, 2), tmp_path / "x.onnx")
