"""The `joints` of a staged parse chunk, already encoded as the store will hold them.

A parse task writes its samples' joints as a small Zarr array beside its `.npz` (same dtype,
chunk shape and codec as the store's `joints`), so compression runs once, in the parallel
parse tasks. Compaction then places each store chunk: when a staged array covers exactly one
store chunk (no sample skipped before it shifted the rows) its encoded chunk file is
hard-linked into the store, bytes unchanged, by the orchestrating process; otherwise a Dask
task decodes the rows from the staged arrays and writes them. Linking, not moving, keeps the
staged chunk intact, so an interrupted compaction can simply run again.
"""

from __future__ import annotations

import json
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


def open_staged(partial: Path, chunk: int) -> zarr.Array:
    """The staged joints of parse chunk `chunk`, read-only."""
    return zarr.open_array(str(_staged_path(partial, chunk)), mode="r")


def stage_joints(target: Path, joints: np.ndarray, chunk_size: int) -> None:
    """Write `joints` (S, C, T, V, M) float32 at `target`, encoded like the store's `joints`.

    Written under a temporary name and renamed, so the array is complete or absent (a
    leftover from a killed task is replaced).
    """
    temp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    shutil.rmtree(temp, ignore_errors=True)
    spec = joints_spec(len(joints), joints.shape[1:], chunk_size)
    # write_empty_chunks: skip zarr's scan of every chunk for "all fill value": a staged chunk
    # holds samples, so the scan finds nothing and costs about as long as the encoding itself
    # (docs/results.md, Build)
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


def _rows(array: Path) -> int:
    return json.loads((array / "zarr.json").read_text())["shape"][0]


#: The metadata that must match for an encoded chunk file to be reused in another array.
LAYOUT_KEYS = ("data_type", "chunk_grid", "chunk_key_encoding", "codecs", "fill_value")


def _layout(array: Path) -> dict:
    meta = json.loads((array / "zarr.json").read_text())
    return {key: meta.get(key) for key in LAYOUT_KEYS}


def link_whole_chunks(partial: Path, plan: list[list[tuple[int, int, int]]]) -> list[int]:
    """Hard-link into the partial store's `joints` every chunk that one staged chunk fills
    exactly, with the same layout (`LAYOUT_KEYS`); returns the store chunks left
    for `tasks.place_chunk`. Runs in the orchestrating process: a link costs no compute."""
    joints = Path(partial) / "joints"
    store = zarr.open_array(str(joints), mode="r")
    layout = _layout(joints)
    left = []
    for c, sources in enumerate(plan):
        k, start, stop = sources[0]
        staged = _staged_path(partial, k)
        whole = len(sources) == 1 and start == 0 and stop == _rows(staged)  # all of one chunk
        if not (whole and _layout(staged) == layout):
            left.append(c)
            continue
        index = (c,) + (0,) * (store.ndim - 1)
        key = store.metadata.encode_chunk_key
        encoded = staged / key((0,) * store.ndim)
        if encoded.is_file():  # absent when the staged chunk holds no sample
            _link(encoded, joints / key(index))
    return left
