"""The model registry: every variant on both skeletons, shapes, one training step, the contract.

Narrow widths and short clips keep it fast; the structure (10 blocks, strides, branches) is
the paper's. Skeletons are literals (tests/stgnode/skeletons.py), never imported from skelprep.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stgnode.config import ConfigError
from stgnode.graph import bone_adjacency, normalized_semantic, spatial_adjacency
from stgnode.models import MODELS, build_model, model_signature
from stgnode.models.ode import ODEBlock
from tests.stgnode.skeletons import LAYOUTS, NTU25_EDGES

NARROW = [8, 8, 8, 8, 16, 16, 16, 16, 16, 16]


def semantic(v: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    upper = np.triu(rng.random((v, v)) < 0.3, 1)
    return (upper | upper.T | np.eye(v, dtype=bool)).astype(np.float32)


def make(name: str, layout: str = "ntu25", bodies: int = 2, window: int = 31, **overrides):
    v, edges, centre = LAYOUTS[layout]
    overrides = {"channels": NARROW, "dropout": 0.0, **overrides}
    return build_model(
        name,
        num_classes=5,
        in_channels=3,
        num_joints=v,
        num_bodies=bodies,
        edges=edges,
        centre=centre,
        semantic_adjacency=semantic(v),
        window=window,
        **overrides,
    )


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("layout", sorted(LAYOUTS))
@pytest.mark.parametrize("bodies", [1, 2])
def test_logits_shape_and_odd_window(name: str, layout: str, bodies: int) -> None:
    torch.manual_seed(0)
    model = make(name, layout, bodies).eval()
    v = LAYOUTS[layout][0]
    with torch.no_grad():
        logits = model(torch.randn(3, 3, 31, v, bodies))
    assert logits.shape == (3, 5) and torch.isfinite(logits).all()
    odes = [m for m in model.modules() if isinstance(m, ODEBlock)]
    if MODELS[name].defaults["branch"] == "ode":
        # Strides 2 at blocks 5 and 8: 31 -> 16 -> 8 frames, each block's Z sized to match.
        assert [m.frames for m in odes] == [31] * 4 + [16] * 3 + [8] * 3
    else:
        assert odes == []


def test_variants_differ_in_their_second_branch() -> None:
    blocks = {name: make(name).blocks for name in MODELS}
    assert all(b.second is None for b in blocks["st-gcn"])
    assert all(isinstance(b.second.middle, ODEBlock) for b in blocks["stg-node"])
    assert not any(isinstance(b.second.middle, ODEBlock) for b in blocks["stg-semantic"])
    # Semantic graph for stg-node, the skeleton's own bones for stg-ode-star.
    node_graph = blocks["stg-node"][0].second.middle.func.graph + torch.eye(25)
    star_graph = blocks["stg-ode-star"][0].second.middle.func.graph + torch.eye(25)
    expected_star = normalized_semantic(bone_adjacency(25, NTU25_EDGES))
    torch.testing.assert_close(node_graph, torch.from_numpy(normalized_semantic(semantic(25))))
    torch.testing.assert_close(star_graph, torch.from_numpy(expected_star))
    sem_graph = blocks["stg-semantic"][0].second.middle.adjacency[0]
    torch.testing.assert_close(sem_graph, torch.from_numpy(normalized_semantic(semantic(25))))
    # Every variant's GCN-TCN uses ST-GCN's spatial partition; the first block has no residual.
    spatial = torch.from_numpy(spatial_adjacency(25, NTU25_EDGES, 20))
    for stack in blocks.values():
        torch.testing.assert_close(stack[0].gcn_tcn.gcn.adjacency, spatial)
        assert stack[0].residual is None and stack[4].residual is not None


@pytest.mark.parametrize("name", sorted(MODELS))
def test_one_batch_is_learned(name: str) -> None:
    torch.manual_seed(0)
    model = make(name, channels=[8, 8, 16, 16], strides=[1, 2, 1, 2], window=15)
    x = torch.randn(6, 3, 15, 25, 2)
    y = torch.arange(6) % 5
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(8):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.7 * losses[0], losses
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_adjoint_model_trains_too() -> None:
    torch.manual_seed(0)
    model = make("stg-node", channels=[8, 8], strides=[1, 2], window=9, adjoint=True)
    x = torch.randn(2, 3, 9, 25, 2)
    torch.nn.functional.cross_entropy(model(x), torch.tensor([0, 1])).backward()
    gate = model.blocks[0].second.middle.func.gate_logit
    assert gate.grad is not None and gate.grad.abs().sum() > 0


def test_full_width_defaults_match_the_paper() -> None:
    defaults = MODELS["stg-node"].defaults
    assert defaults["channels"] == [64, 64, 64, 64, 128, 128, 128, 256, 256, 256]
    assert defaults["strides"] == [1, 1, 1, 1, 2, 1, 1, 2, 1, 1]
    model = make("st-gcn", channels=defaults["channels"], window=300)
    # ST-GCN on NTU (60 classes there, 5 here): 3.1 M parameters in its paper's code.
    params = sum(p.numel() for p in model.parameters())
    assert params == 3_098_982 - (60 - 5) * (256 + 1)


def test_wrong_input_shape_is_refused() -> None:
    model = make("st-gcn")
    with pytest.raises(ValueError, match=r"\(C, T, V, M\) = \(3, 31, 25, 2\)"):
        model(torch.zeros(1, 3, 30, 25, 2))


@pytest.mark.parametrize(
    ("name", "overrides", "error", "message"),
    [
        ("stg-nod", {}, ConfigError, "unknown model 'stg-nod'"),
        ("stg-node", {"chanels": [8]}, ConfigError, "unknown model options \\['chanels'\\]"),
        ("stg-node", {"branch": None}, ConfigError, "define the variant"),
        ("stg-node", {"channels": [8, 8], "strides": [1]}, ConfigError, "same length"),
        ("st-gcn", {"temporal_kernel": 4}, ConfigError, "must be odd"),
    ],
)
def test_bad_requests_are_refused(name, overrides, error, message) -> None:
    with pytest.raises(error, match=message):
        make(name, **overrides)


def test_semantic_adjacency_needed_only_where_used() -> None:
    common = dict(num_classes=5, in_channels=3, num_joints=25, num_bodies=1, edges=NTU25_EDGES)
    common |= dict(centre=20, semantic_adjacency=None, window=9, channels=[8], strides=[1])
    for name in ("stg-node", "stg-semantic"):
        with pytest.raises(ValueError, match="semantic adjacency"):
            build_model(name, **common)
    for name in ("stg-ode-star", "st-gcn"):
        assert build_model(name, **common)(torch.zeros(2, 3, 9, 25, 1)).shape == (2, 5)
    with pytest.raises(ValueError, match=r"shape \(3, 3\)"):
        build_model("stg-node", **(common | {"semantic_adjacency": np.eye(3)}))


def test_signature_tells_checkpoints_apart() -> None:
    base = dict(num_classes=60, in_channels=3, num_joints=25, num_bodies=2, window=300)
    base |= dict(edges=NTU25_EDGES, centre=20, semantic_adjacency=semantic(25))
    sig = model_signature("stg-node", base)
    assert sig == model_signature("stg-node", base | {"dropout": 0.1, "adjoint": True})
    assert sig["channels"] == MODELS["stg-node"].defaults["channels"]
    assert sig["branch"] == "ode" and sig["branch_graph"] == "semantic"
    for change in (
        {"num_classes": 120},
        {"channels": NARROW},
        {"window": 64},
        {"semantic_adjacency": semantic(25, seed=1)},
        {"centre": 1},
    ):
        assert model_signature("stg-node", base | change) != sig, change
    assert model_signature("stg-ode-star", base)["variant"] == "stg-ode-star"
    # The semantic graph does not enter the signature of variants that ignore it.
    star = model_signature("stg-ode-star", base)
    assert star == model_signature("stg-ode-star", base | {"semantic_adjacency": semantic(25, 1)})
    with pytest.raises(KeyError, match="window"):
        model_signature("st-gcn", {k: v for k, v in base.items() if k != "window"})
