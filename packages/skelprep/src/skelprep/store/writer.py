"""Writing helpers: create the per-sample arrays, plan their chunk-aligned writes, write the
splits, consolidate the metadata (always the last write of a build).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import zarr

from skelprep.store.schema import (
    ALIGNMENT_DTYPE,
    ALIGNMENT_SHAPES,
    ARRAY_DTYPES,
    META_DTYPE,
    SPLIT_DTYPE,
    joints_codec,
)


def joints_spec(num_samples: int, sample_shape: tuple[int, ...], chunk_rows: int) -> dict:
    """Keyword arguments of `create_array` for a `joints` array: shape, dtype, chunking along N
    (`chunk_rows` samples per chunk) and codec. The store and the build's staged chunks both use
    it, so a staged chunk file is byte for byte a store chunk."""
    return {
        "shape": (num_samples, *sample_shape),
        "dtype": ARRAY_DTYPES["joints"],
        "chunks": (chunk_rows, *sample_shape),
        "compressors": joints_codec(),
    }


def create_sample_arrays(
    group: zarr.Group,
    num_samples: int,
    sample_shape: tuple[int, int, int, int],
    meta_fields: tuple[str, ...],
    chunk_size: int,
    dims: int,
) -> None:
    """Create (overwriting) `joints`, the per-sample arrays, `meta/<field>` and the alignment
    transforms `alignment/matrix` (N, dims, dims) and `alignment/offset` (N, dims) for N samples.

    `joints` is chunked (chunk_size, C, T, V, M) and Blosc-zstd compressed; the small arrays
    are one chunk each so a reader loads them with one read.
    """
    rows = max(num_samples, 1)
    group.create_array(
        "joints", overwrite=True, **joints_spec(num_samples, sample_shape, min(chunk_size, rows))
    )
    for name, dtype in ARRAY_DTYPES.items():
        if name != "joints":
            group.create_array(
                name, shape=(num_samples,), dtype=dtype, chunks=(rows,), overwrite=True
            )
    for name, shape in ALIGNMENT_SHAPES.items():
        full = (num_samples, *(dims for _ in shape))
        group.create_array(
            name, shape=full, dtype=ALIGNMENT_DTYPE, chunks=(rows, *full[1:]), overwrite=True
        )
    meta = group.require_group("meta")
    for field in meta_fields:
        meta.create_array(
            field, shape=(num_samples,), dtype=META_DTYPE, chunks=(rows,), overwrite=True
        )


def chunk_sources(counts: list[int], chunk_size: int) -> list[list[tuple[int, int, int]]]:
    """Which rows of which staged batch fill each store chunk, when batch k holds counts[k] rows.

    Batches arrive in row order but shorter than a chunk wherever samples were skipped; the
    result has one entry per store chunk, a list of (batch, start, stop) slices that together
    make its rows. Each chunk is then written (and compressed) exactly once, by one writer, so
    chunks can be written in parallel.
    """
    offsets = np.concatenate([[0], np.cumsum(counts, dtype=np.int64)])
    total = int(offsets[-1])
    plan = []
    for first in range(0, total, chunk_size):
        last = min(first + chunk_size, total)
        parts = []
        for k, count in enumerate(counts):
            lo, hi = max(first, int(offsets[k])), min(last, int(offsets[k]) + count)
            if lo < hi:
                parts.append((k, lo - int(offsets[k]), hi - int(offsets[k])))
        plan.append(parts)
    return plan


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
