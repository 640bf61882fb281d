"""`skelprep validate`: check a store against every rule of docs/store-format.md.

The checks run in order (attrs, arrays, values, splits, semantic) and the first violation
raises StoreError naming the store, the array or attribute, and what is wrong. Arrays are read
chunk by chunk, so a large store is checked in bounded memory.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import zarr

from skelprep.errors import StoreError
from skelprep.store.open import open_store, read_attrs
from skelprep.store.schema import (
    ALIGNMENT_DTYPE,
    ALIGNMENT_SHAPES,
    ARRAY_DTYPES,
    LAYOUT_KEYS,
    META_DTYPE,
    REQUIRED_ATTRS,
    SEMANTIC_ARRAYS,
    SEMANTIC_ATTRS,
    SEMANTIC_DTYPE,
    SKIPPED_KEYS,
    SOURCE_KEYS,
    SPLIT_DTYPE,
    SPLIT_PARTS,
    STATS_KEYS,
)


class _Ctx:
    """What the checks share: the store path, its root group and attrs, N and the joints shape."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.attrs = read_attrs(path)
        self.group = open_store(path)

    def fail(self, what: str) -> None:
        raise StoreError(f"{self.path}: {what}")

    def array(self, name: str) -> zarr.Array:
        try:
            node = self.group[name]
        except KeyError:
            self.fail(f"missing array {name!r}")
        if not isinstance(node, zarr.Array):
            self.fail(f"{name!r} is a group, expected an array")
        return node

    @property
    def num_samples(self) -> int:
        return self.array("joints").shape[0]

    @property
    def labelled(self) -> bool:
        return bool(self.attrs.get("labelled", True))


def _check_attrs(ctx: _Ctx) -> None:
    for key, kind in REQUIRED_ATTRS.items():
        if key not in ctx.attrs:
            ctx.fail(f"missing root attribute {key!r}")
        if not isinstance(ctx.attrs[key], kind):
            ctx.fail(
                f"attribute {key!r} must be {kind.__name__}, got {type(ctx.attrs[key]).__name__}"
            )
    if not isinstance(ctx.attrs.get("skelprep_code", ""), str):
        ctx.fail(f"attribute 'skelprep_code' must be str, got {ctx.attrs['skelprep_code']!r}")
    for key, keys in (("layout", LAYOUT_KEYS), ("source", SOURCE_KEYS), ("stats", STATS_KEYS)):
        missing = [k for k in keys if k not in ctx.attrs[key]]
        if missing:
            ctx.fail(f"attribute {key!r} lacks {missing}")
    if ctx.attrs["num_classes"] != len(ctx.attrs["classes"]):
        ctx.fail(
            f"num_classes {ctx.attrs['num_classes']} != len(classes) {len(ctx.attrs['classes'])}"
        )
    for k, entry in enumerate(ctx.attrs["skipped"]):
        if not isinstance(entry, dict) or any(key not in entry for key in SKIPPED_KEYS):
            ctx.fail(f"skipped[{k}] must be an object with keys {list(SKIPPED_KEYS)}")
        if not isinstance(entry.get("malformed", False), bool):
            ctx.fail(f"skipped[{k}]['malformed'] must be a boolean, got {entry['malformed']!r}")


def _check_shapes(ctx: _Ctx) -> None:
    n = ctx.num_samples
    layout, channels = ctx.attrs["layout"], ctx.attrs["channels"]
    shape = ctx.array("joints").shape
    if len(shape) != 5:
        ctx.fail(f"joints must be 5-D (N, C, T, V, M), got shape {shape}")
    if shape[1] != len(channels) or shape[3] != len(layout["joints"]):
        ctx.fail(
            f"joints shape {shape} disagrees with {len(channels)} channels and "
            f"{len(layout['joints'])} layout joints"
        )
    for name, dtype in ARRAY_DTYPES.items():
        array = ctx.array(name)
        if name != "sample" and array.dtype != dtype:
            ctx.fail(f"array {name!r} has dtype {array.dtype}, expected {dtype}")
        if name == "sample" and array.dtype.kind not in "UT":
            ctx.fail(f"array 'sample' must hold strings, got dtype {array.dtype}")
        if array.shape[0] != n or (name != "joints" and array.ndim != 1):
            ctx.fail(f"array {name!r} has shape {array.shape}, expected ({n},...)")
    if "alignment" in ctx.group:  # written by skelprep since the alignment was recorded
        dims = ctx.array("alignment/offset").shape[1:2] or (0,)
        for name, axes in ALIGNMENT_SHAPES.items():
            array = ctx.array(name)
            expected = (n, *(dims[0] for _ in axes))
            if array.dtype != ALIGNMENT_DTYPE or array.shape != expected:
                ctx.fail(f"{name} must be float64 {expected}, got {array.dtype} {array.shape}")
    meta = ctx.group.get("meta")
    for field in [] if meta is None else list(meta.array_keys()):
        array = ctx.array(f"meta/{field}")
        if array.dtype != META_DTYPE or array.shape != (n,):
            ctx.fail(f"meta/{field} must be int16 ({n},), got {array.dtype} {array.shape}")


def _check_values(ctx: _Ctx) -> None:
    joints = ctx.array("joints")
    t_max = joints.shape[2]
    frames = ctx.array("frames")[:]
    if frames.size and (frames.min() < 1 or frames.max() > t_max):
        k = int(np.flatnonzero((frames < 1) | (frames > t_max))[0])
        ctx.fail(f"frames[{k}] = {frames[k]} outside 1..{t_max}")
    label = ctx.array("label")[:]
    classes = ctx.attrs["num_classes"]
    if not ctx.labelled:
        if (label != -1).any():
            k = int(np.flatnonzero(label != -1)[0])
            ctx.fail(f"unlabelled store, but label[{k}] = {label[k]} (expected -1)")
    elif label.size and (label.min() < 0 or label.max() >= classes):
        k = int(np.flatnonzero((label < 0) | (label >= classes))[0])
        ctx.fail(f"label[{k}] = {label[k]} outside 0..{classes - 1}")
    names = ctx.array("sample")[:].tolist()
    if len(set(names)) != len(names):
        ctx.fail("array 'sample' holds duplicate sample ids")
    step = joints.chunks[0]
    for start in range(0, joints.shape[0], step):
        block = joints[start : start + step]
        if not np.isfinite(block).all():
            ctx.fail(f"joints has a non-finite value in rows {start}..{start + len(block) - 1}")
        past = np.arange(t_max)[None, :] >= frames[start : start + len(block), None]
        tail = np.abs(block).max(axis=(1, 3, 4))  # (rows, T)
        if (tail * past).any():
            k = start + int(np.flatnonzero((tail * past).any(axis=1))[0])
            ctx.fail(f"joints[{k}] is not zero past frames[{k}] = {frames[k]}")


def _check_splits(ctx: _Ctx) -> None:
    n = ctx.num_samples
    splits = ctx.group.get("splits")
    names = [] if splits is None else list(splits.group_keys())
    if not ctx.labelled:
        if names:
            ctx.fail(f"unlabelled store with splits {names}")
        return
    if not names:
        ctx.fail("no splits/ group with at least one split")
    for name in splits.group_keys():
        parts = {}
        for part in SPLIT_PARTS:
            where = f"splits/{name}/{part}"
            values = ctx.array(where)[:]
            if values.dtype != SPLIT_DTYPE:
                ctx.fail(f"{where} has dtype {values.dtype}, expected int64")
            if values.size and (values.min() < 0 or values.max() >= n):
                ctx.fail(f"{where} holds indices outside 0..{n - 1}")
            if (np.diff(values) <= 0).any():
                ctx.fail(f"{where} is not strictly increasing (sorted, no repeats)")
            parts[part] = values
        if np.intersect1d(parts["train"], parts["test"]).size:
            ctx.fail(f"splits/{name}: train and test share samples")


def _check_semantic(ctx: _Ctx) -> None:
    semantic = ctx.group.get("semantic")
    if semantic is None:
        return
    v = len(ctx.attrs["layout"]["joints"])
    k = ctx.attrs["num_classes"]
    splits = set(ctx.group["splits"].group_keys()) if "splits" in ctx.group else set()
    shapes = {"pair_distance": (k, v, v), "distance": (v, v), "adjacency": (v, v)}
    for name in semantic.group_keys():
        if name not in splits:
            ctx.fail(f"semantic/{name} has no matching split splits/{name}")
        attrs = dict(semantic[name].attrs)
        missing = [key for key in SEMANTIC_ATTRS if key not in attrs]
        if missing:
            ctx.fail(f"semantic/{name} lacks attributes {missing}")
        for array_name in SEMANTIC_ARRAYS:
            where = f"semantic/{name}/{array_name}"
            array = ctx.array(where)
            if array.dtype != SEMANTIC_DTYPE or array.shape != shapes[array_name]:
                ctx.fail(
                    f"{where} must be float32 {shapes[array_name]}, got {array.dtype} {array.shape}"
                )
        adjacency = ctx.array(f"semantic/{name}/adjacency")[:]
        if not np.isin(adjacency, (0.0, 1.0)).all():
            ctx.fail(f"semantic/{name}/adjacency holds values other than 0 and 1")
        if not np.array_equal(adjacency, adjacency.T):
            ctx.fail(f"semantic/{name}/adjacency is not symmetric")
        if not (np.diag(adjacency) == 1).all():
            ctx.fail(f"semantic/{name}/adjacency lacks a unit diagonal (self-loops)")


CHECKS: dict[str, Callable[[_Ctx], None]] = {
    "attributes": _check_attrs,
    "arrays": _check_shapes,
    "values": _check_values,
    "splits": _check_splits,
    "semantic": _check_semantic,
}
"""Check name -> check, run in this order; each raises StoreError at its first violation."""


def validate_store(path: Path) -> list[str]:
    """Check `path` against the schema; returns the names of the checks passed.

    Raises StoreError naming the first violation (a `.partial` directory or another schema
    version is refused before any check runs).
    """
    ctx = _Ctx(Path(path))
    for check in CHECKS.values():
        check(ctx)
    return list(CHECKS)
