"""Read-only access to a skelprep store (schema `skelprep.store/1`, see docs/store-format.md).

stgnode never imports skelprep: the layout, classes, splits and semantic adjacency a training
run needs are all read from the store here. Anything missing or of another schema is refused
with a message that names the store and what is wrong, before any training starts.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import zarr

from stgnode import STORE_SCHEMA
from stgnode.errors import StgnodeError
from stgnode.transforms import stream_channels

REQUIRED_ARRAYS = ("joints", "frames", "label")
REQUIRED_ATTRS = ("schema", "layout", "classes")


class StoreError(StgnodeError):
    """A store that cannot be used: wrong schema, missing array, split or semantic adjacency."""


@dataclass(frozen=True)
class StoreInfo:
    """What a run needs to know about a store, read once from its root attrs and array shapes.

    `shape` is the shape (N, C, T, V, M) of `joints`; `chunk` is its chunk length along N.
    """

    path: Path
    dataset: str
    layout: dict[str, Any]
    classes: tuple[str, ...]
    channels: tuple[str, ...]
    shape: tuple[int, int, int, int, int]
    chunk: int
    splits: tuple[str, ...]
    fingerprint: str
    attrs: dict[str, Any] = field(repr=False, compare=False)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def labelled(self) -> bool:
        """False for a store of recordings to classify (labels -1, no splits)."""
        return bool(self.attrs.get("labelled", True))

    def require_labels(self, command: str) -> None:
        """Refuse an unlabelled store for `command` (train, evaluate), saying what to run."""
        if not self.labelled:
            raise StoreError(
                f"store {self.path} is unlabelled (recordings to classify: labels -1, no "
                f"splits), so `stgnode {command}` cannot use it; classify it with "
                f"`stgnode predict RUN --store {self.path}`, or build a labelled store to "
                f"{command} on"
            )

    @property
    def edges(self) -> list[tuple[int, int]]:
        return [(int(a), int(b)) for a, b in self.layout["edges"]]

    @property
    def centre(self) -> int:
        return int(self.layout["centre"])

    def group(self) -> zarr.Group:
        """Open the store's root group read-only (cheap; call it where the arrays are read)."""
        return zarr.open_group(str(self.path), mode="r")

    def _check_split(self, split: str) -> None:
        if split not in self.splits:
            raise StoreError(
                f"store {self.path} has no split {split!r}; it has {list(self.splits) or 'none'}"
            )

    def split_indices(self, split: str, part: str) -> np.ndarray:
        """Sorted int64 sample indices of `splits/<split>/<part>` (part: train or test)."""
        self._check_split(split)
        try:
            indices = np.asarray(self.group()[f"splits/{split}/{part}"][:], dtype=np.int64)
        except KeyError:
            raise StoreError(f"store {self.path} has no array splits/{split}/{part}") from None
        if indices.size and (indices.min() < 0 or indices.max() >= self.shape[0]):
            raise StoreError(
                f"store {self.path}: splits/{split}/{part} holds indices outside [0, {self.shape[0]})"
            )
        return indices

    def sample_ids(self, indices: np.ndarray) -> np.ndarray:
        """The `sample` ids (str) of the samples at `indices`."""
        try:
            return np.array([str(v) for v in self.group()["sample"][:][indices]], dtype=str)
        except KeyError:
            raise StoreError(f"store {self.path} has no `sample` array of sample ids") from None

    def part_digest(self, split: str, part: str) -> str | None:
        """sha256 of the sorted sample ids of `split`'s `part` (None for a store without a
        `sample` array): names the samples a run trained on, whichever build holds them."""
        if "sample" not in self.group():
            return None
        ids = sorted(self.sample_ids(self.split_indices(split, part)))
        return hashlib.sha256("\n".join(ids).encode()).hexdigest()

    def semantic(self, split: str) -> np.ndarray:
        """The (V, V) float32 semantic adjacency of `split`, computed by skelprep from its train part."""
        self._check_split(split)
        try:
            adjacency = np.asarray(self.group()[f"semantic/{split}/adjacency"][:], dtype=np.float32)
        except KeyError:
            raise StoreError(
                f"store {self.path} has no semantic adjacency for split {split!r} "
                f"(semantic/{split}/adjacency); compute it with `skelprep semantic {self.path} "
                f"--split {split}`"
            ) from None
        v = self.shape[3]
        if adjacency.shape != (v, v):
            raise StoreError(
                f"store {self.path}: semantic/{split}/adjacency has shape {adjacency.shape}, "
                f"expected ({v}, {v})"
            )
        return adjacency


def open_store(path: str | Path) -> StoreInfo:
    """Open a skelprep store read-only and check its schema, required arrays and attrs."""
    path = Path(path)
    if path.name.endswith(".partial"):
        raise StoreError(f"{path} is an unfinished build (*.partial), not a store")
    if not path.is_dir():
        raise StoreError(f"store {path} does not exist (build it with `skelprep build`)")
    try:
        root = zarr.open_group(str(path), mode="r")
    except Exception as exc:  # zarr raises several types for a directory that is not a group
        raise StoreError(f"{path} is not a Zarr group: {exc}") from None
    attrs = dict(root.attrs)
    schema = attrs.get("schema")
    if schema != STORE_SCHEMA:
        raise StoreError(
            f"store {path} has schema {schema!r}; this stgnode reads only {STORE_SCHEMA!r} "
            "(rebuild the store with a matching skelprep)"
        )
    missing = [k for k in REQUIRED_ATTRS if k not in attrs]
    missing += [k for k in REQUIRED_ARRAYS if k not in root]
    if missing:
        raise StoreError(f"store {path} lacks {', '.join(missing)}")
    joints = root["joints"]
    if joints.ndim != 5:
        raise StoreError(f"store {path}: joints has shape {joints.shape}, expected (N, C, T, V, M)")
    splits = tuple(sorted(root["splits"].group_keys())) if "splits" in root else ()
    return StoreInfo(
        path=path,
        dataset=str(attrs.get("dataset", "unknown")),
        layout=dict(attrs["layout"]),
        classes=tuple(attrs["classes"]),
        channels=tuple(attrs.get("channels", ("x", "y", "z"))),
        shape=tuple(int(s) for s in joints.shape),
        chunk=int(joints.chunks[0]),
        splits=splits,
        fingerprint=str(attrs.get("source", {}).get("fingerprint", "")),
        attrs=attrs,
    )


def model_context(info: StoreInfo, split: str, semantic: bool, stream: str) -> dict[str, Any]:
    """The store-derived keyword arguments of `stgnode.models.build_model`, as plain data.

    Saved in every checkpoint so that a trained model can be rebuilt without the store.
    `semantic=False` (variants that do not use it) gives `semantic_adjacency=None`; `stream`
    sets the input width (`joint+motion` doubles the store's channels).
    """
    _, c, _, v, m = info.shape
    return {
        "num_classes": info.num_classes,
        "in_channels": stream_channels(stream, c),
        "num_joints": v,
        "num_bodies": m,
        "edges": [list(e) for e in info.edges],
        "centre": info.centre,
        "semantic_adjacency": info.semantic(split).tolist() if semantic else None,
    }
