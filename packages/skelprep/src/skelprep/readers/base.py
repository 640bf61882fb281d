"""Shared dataclasses of the reader registry: what to read, what comes back, how a dataset is described.

Every reader returns the same `Sample` shape so that the builder, the store and the tests treat
all datasets alike; a `DatasetSpec` bundles discovery, reading and the official splits.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from skelprep.layouts import Layout
from skelprep.read_options import ReadOptions

FLOAT32_MAX = float(np.finfo(np.float32).max)
"""Largest magnitude a raw value may have: the store keeps float32, which turns more into inf."""


@dataclass(frozen=True)
class SampleRef:
    """One sample to read: a whole file, or row `index` of an array file."""

    name: str
    path: Path
    index: int | None = None


@dataclass
class Sample:
    """One sample ready to store.

    `joints` is float32 (C, max_frames, V, M), zero past `frames` and for absent bodies.
    `transform` = (matrix (D, D), offset (D,)) is the alignment applied to its D coordinate
    channels, aligned = matrix @ (raw - offset); None when the sample was not aligned.
    """

    name: str
    label: int
    joints: np.ndarray
    frames: int
    meta: dict[str, int]
    bodies_found: int
    bodies_kept: int
    transform: tuple[np.ndarray, np.ndarray] | None = None


@dataclass
class Discovery:
    """The samples found in a raw directory, the files left out (with why) and the class names."""

    refs: list[SampleRef]
    skipped: list[dict]
    classes: list[str]


SplitFn = Callable[
    [dict[str, np.ndarray], np.ndarray, list[str]], dict[str, tuple[np.ndarray, np.ndarray]]
]


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset in the registry: layout, channel names, metadata fields, discover/read/splits.

    `for_raw` is set for datasets whose layout depends on the data (stgcn-npy, folder); call
    `spec.resolve(raw, options)` before building to get the spec that matches a raw directory.
    `aligns` is False for readers that keep their source's normalisation (Kinetics JSON).
    """

    name: str
    layout: Layout
    channels: tuple[str, ...]
    meta_fields: tuple[str, ...]
    discover: Callable[[Path, ReadOptions], Discovery]
    read: Callable[[SampleRef, ReadOptions], Sample]
    splits: SplitFn
    for_raw: Callable[[DatasetSpec, Path, ReadOptions], DatasetSpec] | None = field(
        default=None, repr=False
    )
    aligns: bool = True
    # Extra build-summary lines from the built store's (meta arrays, frames) (nwucla's counts).
    notes: Callable[[dict[str, np.ndarray], np.ndarray], list[str]] | None = field(
        default=None, repr=False
    )

    def resolve(self, raw: Path, options: ReadOptions = ReadOptions()) -> DatasetSpec:
        """The spec for this raw directory (itself, unless the layout is read from the data)."""
        return self if self.for_raw is None else self.for_raw(self, Path(raw), options)
