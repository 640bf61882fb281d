"""Read and write a store's `semantic/<split>/` group (docs/store-format.md).

`write_semantic` is what the builder calls once per split after the DTW pass;
`recompute` is the `skelprep semantic` path: it re-thresholds the stored mean distances
with another rule or parameters, without reading raw files or running DTW again; `reapply`
does it for every split when `skelprep build` is asked for a store that differs only in its
rule.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import zarr

from skelprep.errors import StoreError
from skelprep.semantic import apply_rule, edge_count, rule_params, sparsity
from skelprep.store import consolidate


def _rule_attrs(adjacency: np.ndarray, rule: str, params: dict[str, Any]) -> dict[str, Any]:
    return {
        "rule": rule,
        "params": params,
        "edges": edge_count(adjacency),
        "sparsity": sparsity(adjacency),
    }


def write_semantic(
    root: zarr.Group,
    split: str,
    pair_distance: np.ndarray,
    distance: np.ndarray,
    rule: str,
    params: dict[str, Any],
    dtw_attrs: dict[str, Any],
    samples_used: int,
) -> None:
    """Write (replacing) `semantic/<split>`: distances, the rule's adjacency and its attrs.

    pair_distance (K, V, V) per-class means (NaN for a class without training sample),
    distance (V, V) the mean over the `samples_used` training samples; `dtw_attrs` records
    how the distances were computed ({radius, metric, diagonal_weight, series,
    samples_per_class}).
    """
    pair = np.asarray(pair_distance, dtype=np.float32)
    dist = np.asarray(distance, dtype=np.float32)
    if pair.ndim != 3 or dist.ndim != 2 or pair.shape[1:] != dist.shape:
        raise ValueError(
            f"need pair_distance (K, V, V) and distance (V, V), got {pair.shape} and {dist.shape}"
        )
    full = rule_params(rule, **params)
    adjacency = apply_rule(dist, rule, **full)
    group = root.require_group("semantic").require_group(split)
    for name, data in (("pair_distance", pair), ("distance", dist), ("adjacency", adjacency)):
        group.create_array(name, data=data, chunks=data.shape, overwrite=True)
    group.attrs.update(
        {
            **_rule_attrs(adjacency, rule, full),
            "dtw": dict(dtw_attrs),
            "samples_used": int(samples_used),
        }
    )


def open_semantic(store_path: str | Path, split: str, mode: str = "r") -> zarr.Group:
    """The `semantic/<split>` group of a store, or a StoreError naming what is missing."""
    path = Path(store_path)
    if not path.is_dir():
        raise StoreError(f"{path}: no store at this path")
    try:
        root = zarr.open_group(path, mode=mode, use_consolidated=False)
    except (FileNotFoundError, zarr.errors.GroupNotFoundError) as exc:
        raise StoreError(f"{path}: not a Zarr store ({exc})") from None
    if root.attrs.get("labelled") is False:
        raise StoreError(
            f"{path}: an unlabelled store has no splits and no semantic adjacency (it holds "
            "recordings to classify with `stgnode predict`)"
        )
    semantic = root.get("semantic")
    group = semantic.get(split) if isinstance(semantic, zarr.Group) else None
    if not isinstance(group, zarr.Group) or "distance" not in group:
        known = sorted(semantic.group_keys()) if isinstance(semantic, zarr.Group) else []
        raise StoreError(
            f"{path}: no semantic/{split}/distance in this store (splits with semantic "
            f"distances: {known or 'none'}); build the store with DTW distances first"
        )
    return group


def recompute(store_path: str | Path, split: str, rule: str, **params: Any) -> dict[str, Any]:
    """Re-threshold the stored `semantic/<split>/distance` with `rule`; rewrite adjacency.

    Updates the group's attrs (rule, params, edges, sparsity), re-consolidates the store's
    metadata, and returns a summary {store, split, rule, params, edges, sparsity, joints}.
    """
    full = rule_params(rule, **params)
    group = open_semantic(store_path, split, mode="r+")
    adjacency = apply_rule(group["distance"][...], rule, **full)
    group.create_array("adjacency", data=adjacency, chunks=adjacency.shape, overwrite=True)
    attrs = _rule_attrs(adjacency, rule, full)
    group.attrs.update(attrs)
    consolidate(Path(store_path))
    return {"store": str(store_path), "split": split, "joints": len(adjacency), **attrs}


def reapply(store_path: Path, rule: str, params: dict[str, Any], build_rule: dict) -> list[str]:
    """`recompute` every `semantic/<split>` of a store with `rule`, then record the rule in the
    root attrs `build.semantic` (`build_rule`); returns the splits updated."""
    root = zarr.open_group(str(store_path), mode="r+", use_consolidated=False)
    splits = sorted(root["semantic"].group_keys())
    for split in splits:
        recompute(store_path, split, rule, **params)
    root.attrs["build"] = {**root.attrs["build"], "semantic": build_rule}
    consolidate(store_path)
    return splits
