"""The `joints` of a staged parse chunk, already encoded as the store will hold them.

A parse task writes its samples' joints as a small Zarr array beside its `.npz` (same dtype,
chunk shape and codec as the store's `joints`), so compression runs once, in the parallel
parse tasks. Compaction then places each store chunk: when a staged array covers exactly one
store chunk (no sample skipped before it shifted the rows) its encoded chunk file is
hard-linked into the store, bytes unchanged; otherwise the rows are decoded from the staged
arrays and written. Linking, not moving, keeps the staged chunk intact, so an interrupted
compaction can simply run again.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import zarr

from skelprep.build.staging import chunk_path
from skelprep.store import joints_spec

SUFFIX = ".joints.zarr"


def joints_path(staged: Path) -> Path:
    """The joints array beside the staged parse chunk `staged` (its `.npz`)."""
    return staged.with_name(staged.stem + SUFFIX)


def _staged_path(partial: Path, chunk: int) -> Path:
    return joints_path(chunk_path(partial, "parse", chunk))


def _staged(partial: Path, chunk: int) -> zarr.Array:
    return zarr.open_array(str(_staged_path(partial, chunk)), mode="r")


def stage_joints(target: Path, joints: np.ndarray, chunk_size: int) -> None:
    """Write `joints` (S, C, T, V, M) float32 at `target`, encoded like the store's `joints`.

    Written under a temporary name and renamed, so the array is complete or absent (a
    leftover from a killed task is replaced).
    """
    temp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    spec = joints_spec(len(joints), joints.shape[1:], chunk_size)
    # write_empty_chunks: skip zarr's scan of every chunk for "all fill value" (a staged chunk
    # holds samples): 35 -> 19 ms per 64-sample chunk, of which the encoding itself is 16 ms
    array = zarr.create_array(str(temp), zarr_format=3, config={"write_empty_chunks": True}, **spec)
    if len(joints):
        array[:] = joints
    shutil.rmtree(target, ignore_errors=True)
    os.replace(temp, target)


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    try:
        os.link(source, target)
    except OSError:  # a filesystem without hard links: copy the bytes instead
        shutil.copyfile(source, target)


def place_chunk(partial: Path, sources: list[tuple[int, int, int]], first_row: int) -> int:
    """Fill rows `first_row...` (one whole store chunk) of the partial store's `joints` from
    the (staged chunk, start, stop) slices `sources`; returns the number of rows."""
    store = zarr.open_array(str(Path(partial) / "joints"), mode="r+")
    (k, start, stop), rows = sources[0], sum(stop - start for _, start, stop in sources)
    staged = _staged(partial, k)
    whole = len(sources) == 1 and start == 0 and stop == staged.shape[0]
    same = (staged.chunks, staged.metadata.codecs, staged.metadata.fill_value) == (
        store.chunks,
        store.metadata.codecs,
        store.metadata.fill_value,
    )
    if whole and same:
        index = (first_row // store.chunks[0],) + (0,) * (store.ndim - 1)
        encoded = _staged_path(partial, k) / staged.metadata.encode_chunk_key((0,) * staged.ndim)
        if encoded.is_file():  # absent when the staged chunk holds no sample
            _link(encoded, Path(partial) / "joints" / store.metadata.encode_chunk_key(index))
        return rows
    parts = [_staged(partial, j)[lo:hi] for j, lo, hi in sources]
    store[first_row : first_row + rows] = np.concatenate(parts)
    return rows
