"""The Dask tasks of a build; each runs in a worker process and stages its result on disk.

`parse_chunk` reads one chunk of raw samples (parse, select bodies, align, pad), `place_chunk`
fills one store chunk of `joints` from the staged chunks, and `dtw_chunk` computes the
joint-pair DTW distances of one chunk of stored samples. All three return only a small
summary: the arrays travel through the staging directory, never the scheduler.

The joints of a staged parse chunk are a small Zarr array beside its `.npz`, already encoded
as the store will hold them (same dtype, chunk shape and codec as the store's `joints`), so
compression runs once, in the parallel parse tasks. Compaction then places each store chunk:
when a staged array covers exactly one store chunk (no sample skipped before it shifted the
rows) its encoded chunk file is hard-linked into the store, bytes unchanged, by the
orchestrating process (`link_whole_chunks`); otherwise `place_chunk` decodes the rows from
the staged arrays and writes them. Linking, not moving, keeps the staged chunk intact, so an
interrupted compaction can simply run again.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import zarr

from skelprep.align import coordinate_dims, identity_transform
from skelprep.build.staging import SKIPPED_KEY, chunk_path, save_npz
from skelprep.dtw import joint_pair_distances, sample_series
from skelprep.errors import RawFormatError, skip_record
from skelprep.readers import get_dataset
from skelprep.readers.base import ReadOptions, SampleRef
from skelprep.store import joints_spec

META_PREFIX = "meta/"
MATRIX_KEY, OFFSET_KEY = "alignment/matrix", "alignment/offset"


def parse_chunk(
    dataset: str,
    raw: Path,
    options: ReadOptions,
    refs: list[SampleRef],
    target: Path,
    chunk_size: int,
) -> dict:
    """Read `refs` and stage the samples that parse in `target`; returns {count, skipped}.

    The joints go to a Zarr array beside it, encoded as the store's (`stage_joints`), the
    rest to the `.npz`, written last: its presence means the chunk is complete. A malformed
    file is recorded in `skipped` (file, line, reason), never raised: the strict policy is
    the orchestrator's decision, so the staged chunk is the same under both. An unlabelled
    build (`options.unlabelled`) stores every label as -1.
    """
    spec = get_dataset(dataset).resolve(Path(raw), options)
    samples, skipped = [], []
    for ref in refs:
        try:
            samples.append(spec.read(ref, options))
        except RawFormatError as error:
            skipped.append(skip_record(error.path, error.reason, error.line, root=raw))
    shape = (len(spec.channels), options.max_frames, spec.layout.num_joints, options.max_bodies)
    arrays = {
        "joints": np.stack([s.joints for s in samples]) if samples else np.zeros((0, *shape)),
        "frames": np.array([s.frames for s in samples], dtype=np.int32),
        "label": np.array([-1 if options.unlabelled else s.label for s in samples], np.int16),
        "sample": np.array([s.name for s in samples], dtype=str),
        "bodies_found": np.array([s.bodies_found for s in samples], dtype=np.int8),
        "bodies_kept": np.array([s.bodies_kept for s in samples], dtype=np.int8),
    }
    dims = coordinate_dims(spec.channels)
    transforms = [s.transform or identity_transform(dims) for s in samples]
    arrays[MATRIX_KEY] = np.array([m for m, _ in transforms]).reshape(-1, dims, dims)
    arrays[OFFSET_KEY] = np.array([o for _, o in transforms]).reshape(-1, dims)
    joints = arrays.pop("joints").astype(np.float32, copy=False)
    stage_joints(joints_path(target), joints, chunk_size)
    for field in spec.meta_fields:
        arrays[META_PREFIX + field] = np.array([s.meta[field] for s in samples], dtype=np.int16)
    save_npz(target, {**arrays, SKIPPED_KEY: np.array(json.dumps(skipped))})
    return {"count": len(samples), "skipped": skipped}


def load_parsed(partial: Path, chunks: int) -> dict[str, np.ndarray]:
    """The per-sample arrays of staged parse chunks 0..chunks-1 but `joints` (staged beside
    them), each concatenated in chunk order and keyed as the store's arrays (`meta/<field>`)."""
    parts: dict[str, list[np.ndarray]] = {}
    for k in range(chunks):
        with np.load(chunk_path(partial, "parse", k)) as staged:
            for key in staged.files:
                parts.setdefault(key, []).append(staged[key])
    parts.pop(SKIPPED_KEY, None)
    return {key: np.concatenate(values) for key, values in parts.items()}


def place_chunk(partial: Path, sources: list[tuple[int, int, int]], first_row: int) -> int:
    """Fill rows `first_row...` (one whole store chunk) of the partial store's `joints` from
    the (staged chunk, start, stop) slices `sources`, decoded and encoded again (the chunks
    `link_whole_chunks` could not link); returns the number of rows."""
    store = zarr.open_array(str(Path(partial) / "joints"), mode="r+")
    rows = sum(stop - start for _, start, stop in sources)
    parts = [open_staged(partial, j)[lo:hi] for j, lo, hi in sources]
    store[first_row : first_row + rows] = np.concatenate(parts)
    return rows


def dtw_chunk(store: Path, indices: np.ndarray, dtw: dict, target: Path) -> int:
    """DTW distance matrices (S, V, V) of the stored samples `indices`, staged in `target`.

    Reads body 0 of each sample from the partial store's `joints` (already compacted) and runs
    all joint pairs in one compiled call on this worker's core.
    """
    group = zarr.open_group(str(store), mode="r", use_consolidated=False)
    joints = group["joints"].get_orthogonal_selection((np.asarray(indices),))
    frames = group["frames"].get_orthogonal_selection((np.asarray(indices),))
    series, lengths = sample_series(joints, frames)
    distances = joint_pair_distances(
        series,
        lengths,
        radius=dtw["radius"],
        metric=dtw["metric"],
        diagonal_weight=dtw["diagonal_weight"],
        parallel=False,
    )
    save_npz(target, {"indices": np.asarray(indices, dtype=np.int64), "distances": distances})
    return len(indices)


# The staged joints of the parse chunks.

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
