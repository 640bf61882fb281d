"""The EMA of the weights: its closed form, the meaning of its horizon, and a run that keeps it.

Oracles: a_n = d^n a_0 + (1 - d) sum_k d^(n - k) w_k for any sequence of weights w_k, and
1 - 1/e of a unit jump after one horizon (H epochs of S steps, d = 1 - 1 / (H S)).
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from stgnode import checkpoint as ckpt
from stgnode.config import merge_overrides
from stgnode.data import make_loader
from stgnode.distributed import DistContext
from stgnode.ema import WeightAverage
from stgnode.epoch import evaluate
from stgnode.train import run_training

CPU = DistContext(0, 1, 0, torch.device("cpu"))


def _net() -> nn.Module:
    return nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))


def _fill(net: nn.Module, value: float) -> None:
    with torch.no_grad():
        for tensor in net.state_dict().values():
            if tensor.is_floating_point():
                tensor.fill_(value)


def test_average_follows_its_closed_form():
    net = _net()
    _fill(net, 0.0)
    average = WeightAverage(net, horizon_epochs=2, steps_per_epoch=5)
    d = 1 - 1 / 10
    assert average.decay == pytest.approx(d)
    values = [3.0, -1.0, 0.5, 7.0, 2.0]
    for w in values:
        _fill(net, w)
        net[1].num_batches_tracked.fill_(int(w * 10))
        average.update()
    n = len(values)
    expected = (1 - d) * sum(d ** (n - 1 - k) * w for k, w in enumerate(values))  # a_0 = 0
    for name, tensor in average.state_dict().items():
        if name.endswith("num_batches_tracked"):
            assert tensor.item() == 20, "integer buffers are copied, not averaged"
        else:
            torch.testing.assert_close(tensor, torch.full_like(tensor, expected), msg=name)


def test_a_unit_jump_is_one_minus_one_over_e_after_one_horizon():
    net = _net()
    _fill(net, 0.0)
    average = WeightAverage(net, horizon_epochs=4, steps_per_epoch=250)
    _fill(net, 1.0)
    for _ in range(4 * 250):
        average.update()
    weight = average.module[0].weight
    torch.testing.assert_close(weight, torch.full_like(weight, 1 - math.exp(-1)), atol=2e-4, rtol=0)


def test_the_source_keeps_training_and_the_copy_does_not():
    net = _net()
    average = WeightAverage(net, horizon_epochs=1, steps_per_epoch=1)
    assert all(p.requires_grad for p in net.parameters())
    assert not any(p.requires_grad for p in average.module.parameters())
    assert all(
        a.data_ptr() != b.data_ptr()
        for a, b in zip(average.module.parameters(), net.parameters(), strict=True)
    )


@pytest.mark.parametrize(("horizon", "steps"), [(0, 10), (-1, 10), (2, 0)])
def test_empty_horizon_is_refused(horizon, steps):
    with pytest.raises(ValueError, match="positive horizon"):
        WeightAverage(_net(), horizon, steps)


def test_a_run_scores_and_keeps_its_average(store, tiny_config, tmp_path):
    """The checkpoint carries the average beside the trained weights; inference loads the
    average and reproduces the test top-1 the run recorded with it."""
    config = merge_overrides(tiny_config, ["train.epochs=3", "train.ema_epochs=1"])
    result = run_training(config, store, tmp_path, progress=False)
    state = ckpt.load_checkpoint(tmp_path / ckpt.LAST)
    assert state["ema"].keys() == state["model"].keys()
    assert not torch.equal(state["ema"]["classifier.weight"], state["model"]["classifier.weight"])
    model, _, _ = ckpt.load_for_inference(tmp_path)
    assert torch.equal(model.state_dict()["classifier.weight"], state["ema"]["classifier.weight"])
    scores = evaluate(model, make_loader(store, "xsub", "test", config, False), config, CPU)
    assert scores["top1"] == pytest.approx(result["test_top1"])
