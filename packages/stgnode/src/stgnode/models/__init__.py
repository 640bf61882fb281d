"""The model registry: STG-NODE, its two ablations and the ST-GCN baseline, by name.

Every variant is a `SkeletonNet`; a variant is its fixed second branch (`branch`, and the
graph it runs over, `branch_graph`) plus default hyper-parameters that a config may override.
Everything about the skeleton (joints, bone edges, centre, semantic adjacency) comes in as
plain arguments read from the store; this package never imports skelprep.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import nn

from stgnode.config import ConfigError
from stgnode.graph import bone_adjacency, normalized_semantic, spatial_adjacency
from stgnode.models.blocks import BlockSettings
from stgnode.models.nets import SkeletonNet

#: Hyper-parameters every variant accepts as overrides, with the paper-size defaults.
COMMON_DEFAULTS: dict[str, Any] = {
    "channels": [64, 64, 64, 64, 128, 128, 128, 256, 256, 256],
    "strides": [1, 1, 1, 1, 2, 1, 1, 2, 1, 1],
    "dropout": 0.5,
    "temporal_kernel": 9,
    "branch_kernel": 9,
    "max_hop": 1,
    "edge_importance": True,
    "ode_method": "rk4",
    "ode_step_size": 1.0,
    "ode_t_end": 1.0,
    "ode_rtol": 1e-7,
    "ode_atol": 1e-9,
    "adjoint": False,
}

#: Keys that define a variant: fixed by the model name, never overridden.
VARIANT_KEYS = ("branch", "branch_graph")

#: Keys that shape a model's parameters and buffers: a checkpoint must match them.
STRUCTURAL_KEYS = (
    "num_classes",
    "in_channels",
    "num_joints",
    "num_bodies",
    "window",
    "channels",
    "strides",
    "temporal_kernel",
    "branch_kernel",
    "max_hop",
    "edge_importance",
)


@dataclass(frozen=True)
class ModelSpec:
    """A registered variant: the network class and its default config (variant keys included)."""

    cls: type[nn.Module]
    defaults: dict[str, Any] = field(default_factory=dict)


def _variant(branch: str | None, branch_graph: str | None) -> dict[str, Any]:
    return {**COMMON_DEFAULTS, "branch": branch, "branch_graph": branch_graph}


MODELS: dict[str, ModelSpec] = {
    "stg-node": ModelSpec(SkeletonNet, _variant("ode", "semantic")),
    "stg-semantic": ModelSpec(SkeletonNet, _variant("semantic-gcn", "semantic")),
    "stg-ode-star": ModelSpec(SkeletonNet, _variant("ode", "skeleton")),
    "st-gcn": ModelSpec(SkeletonNet, _variant(None, None)),
}


def _skeleton_graph(
    num_joints: int, edges: list[tuple[int, int]], semantic: np.ndarray | None
) -> np.ndarray:
    return normalized_semantic(bone_adjacency(num_joints, edges))


def _semantic_graph(
    num_joints: int, edges: list[tuple[int, int]], semantic: np.ndarray | None
) -> np.ndarray:
    if semantic is None:
        raise ValueError("this variant needs the store's semantic adjacency; got None")
    semantic = np.asarray(semantic)
    if semantic.shape != (num_joints, num_joints):
        raise ValueError(
            f"semantic adjacency has shape {semantic.shape}, expected ({num_joints}, {num_joints})"
        )
    return normalized_semantic(semantic)


#: How each `branch_graph` name becomes the second branch's normalised (V, V) graph.
BRANCH_GRAPHS: dict[str, Callable[..., np.ndarray]] = {
    "skeleton": _skeleton_graph,
    "semantic": _semantic_graph,
}


def resolve_config(name: str, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """The variant's defaults updated by `overrides`; unknown names and keys are refused."""
    if name not in MODELS:
        raise ConfigError(f"unknown model {name!r}; known: {sorted(MODELS)}")
    defaults = MODELS[name].defaults
    fixed = sorted(set(overrides) & set(VARIANT_KEYS))
    if fixed:
        raise ConfigError(f"{fixed} define the variant {name!r}; choose another model name")
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ConfigError(f"unknown model options {unknown}; known: {sorted(COMMON_DEFAULTS)}")
    return {**defaults, **overrides}


def build_model(
    name: str,
    *,
    num_classes: int,
    in_channels: int,
    num_joints: int,
    num_bodies: int,
    edges: list[tuple[int, int]],
    centre: int,
    semantic_adjacency: np.ndarray | None,
    window: int,
    **overrides: Any,
) -> nn.Module:
    """Build variant `name` for inputs (N, in_channels, window, num_joints, num_bodies).

    `edges` (0-based bones) and `centre` give the spatial partition; `semantic_adjacency`
    (V, V) is required by the variants whose second branch runs over it (stg-node,
    stg-semantic) and ignored by the others. `overrides` are keys of `COMMON_DEFAULTS`.
    """
    cfg = resolve_config(name, overrides)
    settings = BlockSettings(
        temporal_kernel=cfg["temporal_kernel"],
        branch_kernel=cfg["branch_kernel"],
        dropout=cfg["dropout"],
        edge_importance=cfg["edge_importance"],
        ode_method=cfg["ode_method"],
        ode_step_size=cfg["ode_step_size"],
        ode_t_end=cfg["ode_t_end"],
        ode_rtol=cfg["ode_rtol"],
        ode_atol=cfg["ode_atol"],
        adjoint=cfg["adjoint"],
    )
    edges = [(int(a), int(b)) for a, b in edges]
    spatial = spatial_adjacency(num_joints, edges, centre, cfg["max_hop"])
    graph_name = cfg["branch_graph"]
    graph = None
    if graph_name is not None:
        graph = BRANCH_GRAPHS[graph_name](num_joints, edges, semantic_adjacency)
    model = MODELS[name].cls(
        num_classes=num_classes,
        in_channels=in_channels,
        num_bodies=num_bodies,
        window=window,
        spatial=spatial,
        branch=cfg["branch"],
        branch_graph=graph,
        channels=list(cfg["channels"]),
        strides=list(cfg["strides"]),
        settings=settings,
    )
    model.variant = name
    return model


def model_signature(model_name: str, config: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-able description a checkpoint must match to be loaded into this model.

    `config` holds `build_model`'s keyword arguments (num_classes, in_channels, num_joints,
    num_bodies, window, and where known edges, centre, semantic_adjacency) and any overrides;
    unset overrides take the variant's defaults. Solver settings, dropout and the adjoint
    switch are left out: they change how a model runs, not what its weights mean. The graph
    the second branch runs over is included as a SHA-256 of its float32 values.
    """
    overrides = {k: v for k, v in config.items() if k in COMMON_DEFAULTS}
    cfg = {**resolve_config(model_name, overrides), **config}
    missing = [k for k in STRUCTURAL_KEYS if k not in cfg]
    if missing:
        raise KeyError(f"model_signature needs {missing} in the config")
    signature: dict[str, Any] = {"variant": model_name}
    for key in (*STRUCTURAL_KEYS, *VARIANT_KEYS):
        value = cfg[key]
        signature[key] = [int(x) for x in value] if isinstance(value, list | tuple) else value
    if "edges" in cfg:
        signature["edges"] = sorted([int(a), int(b)] for a, b in cfg["edges"])
    if "centre" in cfg:
        signature["centre"] = int(cfg["centre"])
    if cfg["branch_graph"] == "semantic" and cfg.get("semantic_adjacency") is not None:
        semantic = np.ascontiguousarray(cfg["semantic_adjacency"], dtype=np.float32)
        signature["semantic_sha256"] = hashlib.sha256(semantic.tobytes()).hexdigest()
    return signature


__all__ = ["MODELS", "ModelSpec", "build_model", "model_signature", "resolve_config"]
