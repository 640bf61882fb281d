"""Writing helpers: create the per-sample arrays, stream rows into them in whole chunks, write
the splits, consolidate the metadata (always the last write of a build).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import zarr

from skelprep.store.schema import ARRAY_DTYPES, META_DTYPE, SPLIT_DTYPE, joints_codec


def create_sample_arrays(
    group: zarr.Group,
    num_samples: int,
    sample_shape: tuple[int, int, int, int],
    meta_fields: tuple[str, ...],
    chunk_size: int,
) -> None:
    """Create (overwriting) `joints`, the per-sample arrays and `meta/<field>` for N samples.

    `joints` is chunked (chunk_size, C, T, V, M) and Blosc-zstd compressed; the small 1-D arrays
    are one chunk each so a reader loads them with one read.
    """
    rows = max(num_samples, 1)
    for name, dtype in ARRAY_DTYPES.items():
        shape = (num_samples, *sample_shape) if name == "joints" else (num_samples,)
        chunks = (min(chunk_size, rows), *sample_shape) if name == "joints" else (rows,)
        extra = {"compressors": joints_codec()} if name == "joints" else {}
        group.create_array(name, shape=shape, dtype=dtype, chunks=chunks, overwrite=True, **extra)
    meta = group.require_group("meta")
    for field in meta_fields:
        meta.create_array(
            field, shape=(num_samples,), dtype=META_DTYPE, chunks=(rows,), overwrite=True
        )


class RowWriter:
    """Appends rows to the per-sample arrays, writing `joints` in whole chunks.

    Rows arrive in staged batches whose sizes do not match the store's chunks (skipped samples
    make them shorter); buffering to chunk boundaries compresses each chunk exactly once.
    """

    def __init__(self, group: zarr.Group, chunk_size: int, meta_fields: tuple[str, ...]) -> None:
        self.group = group
        self.chunk_size = chunk_size
        self.meta_fields = meta_fields
        self.offset = 0
        self.pending: list[dict[str, np.ndarray]] = []
        self.pending_rows = 0

    def append(self, rows: Mapping[str, np.ndarray]) -> None:
        """Queue a batch: keys are the ARRAY_DTYPES names plus `meta/<field>`."""
        count = len(rows["frames"])
        if count:
            self.pending.append(dict(rows))
            self.pending_rows += count
        while self.pending_rows >= self.chunk_size:
            self._flush(self.chunk_size)

    def close(self) -> int:
        """Write what is left; returns the number of rows written."""
        if self.pending_rows:
            self._flush(self.pending_rows)
        return self.offset

    def _flush(self, count: int) -> None:
        merged = {key: np.concatenate([b[key] for b in self.pending]) for key in self.pending[0]}
        start, stop = self.offset, self.offset + count
        for key, values in merged.items():
            self.group[key][start:stop] = values[:count]
        rest = {key: values[count:] for key, values in merged.items()}
        self.pending = [rest] if len(rest["frames"]) else []
        self.pending_rows -= count
        self.offset = stop


def write_splits(group: zarr.Group, splits: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Write `splits/<name>/train|test` as sorted int64 index arrays (overwriting)."""
    root = group.require_group("splits")
    for name, parts in splits.items():
        split = root.require_group(name)
        for part, indices in zip(("train", "test"), parts, strict=True):
            values = np.sort(np.asarray(indices, dtype=SPLIT_DTYPE))
            split.create_array(
                part,
                shape=values.shape,
                dtype=SPLIT_DTYPE,
                chunks=(max(len(values), 1),),
                overwrite=True,
            )[:] = values


def consolidate(store: Path) -> None:
    """Write the consolidated metadata (one read opens the whole store); call it last."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Consolidated metadata", category=UserWarning)
        # the build's state and lock files sit beside the arrays until the final rename
        warnings.filterwarnings(
            "ignore", message="Object at .* is not recognized", category=UserWarning
        )
        zarr.consolidate_metadata(str(store))
