"""The phases of a build, as a table (`PHASES`) that `run.py` runs in order, and the DTW and
semantic steps themselves (parsing and compaction are in parse.py).

Each phase reads what the ones before it left on the `Build` and adds its own; `done` says
when a resumed build may skip it (the resume state is staging.py's). The Dask workers start
in the background before `discover` and are waited for in the first `cluster` phase; the
second `cluster` phase shuts them down. DTW distances are computed once per sample, even when
it trains in several splits; each split then averages over its own TRAIN samples only
(optionally the first N per class), so no test sample or label shapes the adjacency.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import zarr
from dask.distributed import Client, as_completed
from tqdm import tqdm

from skelprep.build import parse
from skelprep.build.params import BuildParams
from skelprep.build.run import BuildRequest
from skelprep.build.staging import (
    chunk_path,
    is_compacted,
    mark_compacted,
    staged_dtw,
    test_kill_hook,
)
from skelprep.build.tasks import dtw_chunk
from skelprep.errors import SkelprepError
from skelprep.readers import get_dataset
from skelprep.readers.base import DatasetSpec, Discovery, ReadOptions, SampleRef
from skelprep.semantic import class_means
from skelprep.semantic_store import write_semantic
from skelprep.store import write_splits


@dataclass
class Build:
    """A build in progress, the one object its phases and their helpers share: what was asked
    (`request`, with `params`, `raw` and `progress` at hand), where it is staged, the cluster,
    and what each phase leaves for the next ones."""

    request: BuildRequest
    partial: Path
    state: dict  # the resume state (staging.prepare)
    options: ReadOptions
    started: Callable[[], Client]  # waits for the cluster started in the background
    shutdown: Callable[[], None]  # closes it
    spec: DatasetSpec | None = None
    discovery: Discovery | None = None
    chunks: list[list[SampleRef]] = field(default_factory=list)
    client: Client | None = None
    summaries: list[dict] = field(default_factory=list)
    group: zarr.Group | None = None
    labels: np.ndarray | None = None
    used: dict[str, np.ndarray] = field(default_factory=dict)
    needed: np.ndarray | None = None
    distances: np.ndarray | None = None
    reader_notes: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)

    @property
    def params(self) -> BuildParams:
        return self.request.params

    @property
    def raw(self) -> Path:
        return self.request.raw

    @property
    def progress(self) -> bool:
        return self.request.progress


@dataclass(frozen=True)
class Phase:
    """One step of a build: its name in `stats.phase_seconds` (summed when it recurs), what it
    does, and when a resumed build skips it."""

    name: str
    does: str
    run: Callable[[Build], None]
    done: Callable[[Build], bool] = lambda build: False  # noqa: ARG005


def _discover(build: Build) -> None:
    params, raw = build.request.params, build.request.raw
    build.spec = get_dataset(params.dataset).resolve(raw, build.options)
    build.discovery = build.spec.discover(raw, build.options)
    if not build.discovery.refs:
        raise SkelprepError(
            f"raw directory {raw} holds no {params.dataset} sample files "
            f"({len(build.discovery.skipped)} left out by discovery)"
        )
    refs = sorted(build.discovery.refs, key=lambda ref: ref.name)
    size = params.chunk_size
    build.chunks = [refs[i : i + size] for i in range(0, len(refs), size)]


def _connect(build: Build) -> None:
    build.client = build.started()


def _compacted(build: Build) -> bool:
    return is_compacted(build.state)


def _parse(build: Build) -> None:
    build.summaries = parse.parse_all(build, build.chunks)


def _compact(build: Build) -> None:
    parse.compact(build, build.summaries)
    test_kill_hook("compacted", 1)
    build.state = mark_compacted(build.partial, build.state, build.summaries)


def _splits(build: Build) -> None:
    spec, params = build.spec, build.request.params
    group = zarr.open_group(str(build.partial), mode="r+", use_consolidated=False)
    labels = group["label"][:].astype(np.int64)
    names = group["sample"][:].tolist()
    meta = {f: group[f"meta/{f}"][:] for f in spec.meta_fields}
    splits = {} if params.unlabelled else spec.splits(meta, labels, names)
    write_splits(group, splits)
    build.reader_notes = spec.notes(meta, group["frames"][:]) if spec.notes else []
    build.group, build.labels = group, labels
    build.used = training_subsets(splits, labels, params.dtw_samples_per_class)


def _dtw(build: Build) -> None:
    build.needed = np.unique(np.concatenate([np.zeros(0, np.int64), *build.used.values()]))
    build.distances = pair_distances(build, build.needed)


def _disconnect(build: Build) -> None:
    build.shutdown()


def _semantic(build: Build) -> None:
    build.left_out = write_all_semantic(
        build.group,
        build.used,
        build.needed,
        build.distances,
        build.labels,
        len(build.discovery.classes),
        build.request.params,
    )


PHASES = (
    Phase("discover", "list the raw samples in name order, in chunks of --chunk-size", _discover),
    Phase("cluster", "wait for the Dask workers, started before discovery", _connect),
    Phase("parse", "stage each chunk: read, denoise, align, encode (Dask)", _parse, _compacted),
    Phase("compact", "staged chunks -> the per-sample arrays, in name order", _compact, _compacted),
    Phase("splits", "train/test indices from the labels and metadata", _splits),
    Phase("dtw", "joint-pair DTW of the training samples used (Dask, staged)", _dtw),
    Phase("cluster", "shut the workers down", _disconnect),
    Phase("semantic", "per split: class-mean distances and the adjacency rule", _semantic),
)


def training_subsets(
    splits: dict[str, tuple[np.ndarray, np.ndarray]], labels: np.ndarray, per_class: int
) -> dict[str, np.ndarray]:
    """Split -> the sorted training indices whose DTW distances shape its adjacency: all of
    them, or the first `per_class` (in store order) of each class when per_class > 0."""
    used = {}
    for name, (train, _) in splits.items():
        train = np.sort(np.asarray(train, dtype=np.int64))
        if per_class:
            keep = [train[labels[train] == c][:per_class] for c in np.unique(labels[train])]
            train = np.sort(np.concatenate(keep)) if keep else train
        used[name] = train
    return used


def pair_distances(build: Build, needed: np.ndarray) -> np.ndarray:
    """(len(needed), V, V) DTW distances of the stored samples `needed` (resuming staged chunks)."""
    partial, step = build.partial, build.params.chunk_size
    pieces = [needed[i : i + step] for i in range(0, len(needed), step)]
    results: dict[int, np.ndarray] = {}
    for k, indices in enumerate(pieces):
        found = staged_dtw(partial, k, indices)
        if found is not None:
            results[k] = found
    dtw = build.params.dtw_attrs()
    futures = {
        build.client.submit(
            dtw_chunk,
            partial,
            pieces[k],
            dtw,
            chunk_path(partial, "dtw", k),
            key=f"skelprep-dtw-{k}-{partial.name}",
            pure=False,
        ): k
        for k in range(len(pieces))
        if k not in results
    }
    initial = sum(len(pieces[k]) for k in results)
    with tqdm(
        total=len(needed), initial=initial, unit="sample", desc="dtw", disable=not build.progress
    ) as bar:
        for staged, future in enumerate(as_completed(futures), start=1):
            k = futures[future]
            future.result()
            results[k] = staged_dtw(partial, k, pieces[k])
            bar.update(len(pieces[k]))
            test_kill_hook("dtw", staged)
    if not pieces:
        return np.zeros((0, 0, 0))
    return np.concatenate([results[k] for k in range(len(pieces))])


def write_all_semantic(
    group: zarr.Group,
    used: dict[str, np.ndarray],
    needed: np.ndarray,
    distances: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    params: BuildParams,
) -> list[str]:
    """Write `semantic/<split>` for every split with training samples; returns those left out."""
    left_out = []
    for split, indices in used.items():
        if len(indices) == 0:
            left_out.append(split)
            continue
        rows = np.searchsorted(needed, indices)
        pair, mean = class_means(distances[rows], labels[indices], num_classes)
        write_semantic(
            group,
            split,
            pair,
            mean,
            params.rule,
            params.rule_params(),
            params.dtw_attrs(),
            len(indices),
        )
    return left_out
