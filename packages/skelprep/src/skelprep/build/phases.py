"""A build, as a table of phases (`PHASES`) that `build` runs in order over one `Build`, before
`finish` (in __init__.py) writes the attrs and swaps `<store>.partial` in as the store.

Each phase reads what the ones before it left on the `Build` and adds its own; `done` says
when a resumed build may skip it (the resume state is staging.py's). Parse, compaction and DTW
run one Dask task per chunk (tasks.py) on the cluster that the first `cluster` phase starts and
the second shuts down (cluster.py). Every array goes through the staging directory; this
process holds one chunk at a time, whatever the number of samples. DTW distances are computed
once per sample, even when it trains in several splits; each split then averages over its own
TRAIN samples only (optionally the first N per class), so no test sample or label shapes the
adjacency.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import zarr
from dask.distributed import Client

from skelprep import store
from skelprep.align import coordinate_dims
from skelprep.build import BuildRequest, BuildResult, finish, staging, tasks
from skelprep.build.cluster import dask_client, run_chunks
from skelprep.errors import SkelprepError, may_be_malformed, skip_location
from skelprep.fingerprint import code_fingerprint
from skelprep.readers import get_dataset
from skelprep.readers.base import DatasetSpec, Discovery, ReadOptions, SampleRef
from skelprep.semantic import ClassMeans
from skelprep.semantic_store import write_semantic
from skelprep.splits import training_subsets


@dataclass
class Build:
    """A build in progress, the one object its phases share: what was asked, where it is
    staged, the cluster, and what each phase leaves for the next ones."""

    request: BuildRequest
    partial: Path
    state: dict  # the resume state (staging.prepare)
    options: ReadOptions
    stack: ExitStack  # holds the cluster while it runs
    spec: DatasetSpec | None = None
    discovery: Discovery | None = None
    chunks: list[list[SampleRef]] = field(default_factory=list)  # raw samples per parse task
    client: Client | None = None
    summaries: list[dict] = field(default_factory=list)  # per parse chunk: {count, skipped}
    group: zarr.Group | None = None
    labels: np.ndarray | None = None
    used: dict[str, np.ndarray] = field(default_factory=dict)  # split -> its DTW samples
    dtw_chunks: list[np.ndarray] = field(default_factory=list)  # stored samples, per DTW task
    reader_notes: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # splits without a training sample

    def run_chunks(self, label: str, calls: dict[int, tuple], sizes: list[int], **kw: Any) -> None:
        """cluster.run_chunks on this build's cluster, its tasks named after its directory."""
        tag, progress = self.partial.name, self.request.progress
        run_chunks(self.client, label, calls, sizes, tag=tag, progress=progress, **kw)


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
    found = build.spec.discover(raw, build.options)
    if not found.refs:
        raise SkelprepError(
            f"raw directory {raw} holds no {params.dataset} sample files "
            f"({len(found.skipped)} left out by discovery)"
        )
    if params.strict:
        _strict_check(found.skipped)
    refs = sorted(found.refs, key=lambda ref: ref.name)
    size = params.chunk_size
    build.chunks = [refs[i : i + size] for i in range(0, len(refs), size)]
    build.discovery = replace(found, refs=[])  # the refs are in `chunks` until parsed


def _connect(build: Build) -> None:
    build.client = build.stack.enter_context(
        dask_client(build.request.scheduler, build.request.workers)
    )


def _compacted(build: Build) -> bool:
    return staging.is_compacted(build.state)


def _strict_check(skipped: list[dict]) -> None:
    """--strict: stop at the first malformed input among skip records (discovery's, or a parse
    chunk's); the chunks staged so far are kept."""
    malformed = [record for record in skipped if may_be_malformed(record)]
    if malformed:
        first = malformed[0]
        raise SkelprepError(
            f"{skip_location(first)}: {first['reason']}\n--strict stops at the first malformed "
            "file; the chunks already parsed are kept and a rerun resumes from them (without "
            "--strict the file is skipped and listed in the store's attrs `skipped`)"
        )


def _parse(build: Build) -> None:
    """Stage every raw chunk not staged yet (tasks.parse_chunk); under --strict, stop at the
    first chunk, staged before or now, that skipped a file (every file a parse skips is
    malformed)."""
    partial, params = build.partial, build.request.params
    check = _strict_check if params.strict else lambda skipped: None
    summaries = {k: staging.staged_parse(partial, k) for k in range(len(build.chunks))}
    for summary in filter(None, summaries.values()):
        check(summary["skipped"])
    head = (tasks.parse_chunk, build.spec.name, build.request.raw, build.options)
    calls = {
        k: (*head, refs, staging.chunk_path(partial, "parse", k), params.chunk_size)
        for k, refs in enumerate(build.chunks)
        if summaries[k] is None
    }

    def staged(k: int, summary: dict) -> None:
        summaries[k] = summary
        check(summary["skipped"])

    build.run_chunks("parse", calls, [len(refs) for refs in build.chunks], done=staged)
    build.summaries = [summaries[k] for k in range(len(build.chunks))]
    build.chunks = []  # the raw samples' paths: they grow with the set, no later phase reads them


def _compact(build: Build) -> None:
    """The staged chunks -> the per-sample arrays of the partial store, in chunk order (=
    sample-name order); safe to repeat: the arrays are recreated. The small arrays are
    concatenated here; each store chunk of `joints` is a hard link to its staged chunk where
    the rows line up (tasks.link_whole_chunks), else one Dask task rewrites it (place_chunk)."""
    partial, spec, options = build.partial, build.spec, build.options
    chunk_size, summaries = build.request.params.chunk_size, build.summaries
    group = zarr.open_group(str(partial), mode="a", use_consolidated=False)
    counts = [s["count"] for s in summaries]
    shape = (len(spec.channels), options.max_frames, spec.layout.num_joints, options.max_bodies)
    dims = coordinate_dims(spec.channels)
    store.create_sample_arrays(group, sum(counts), shape, spec.meta_fields, chunk_size, dims)
    for key, values in tasks.load_parsed(partial, len(summaries)).items():
        if len(values) != sum(counts):
            raise SkelprepError(
                f"{partial}: staged {key} holds {len(values)} rows, expected {sum(counts)}"
            )
        group[key][:] = values
    plan = store.chunk_sources(counts, chunk_size)
    left = tasks.link_whole_chunks(partial, plan)
    calls = {c: (tasks.place_chunk, partial, plan[c], c * chunk_size) for c in left}
    build.run_chunks("compact", calls, [sum(b - a for _, a, b in part) for part in plan])
    staging.test_kill_hook("compacted", 1)
    build.state = staging.mark_compacted(partial, build.state, summaries)


def _splits(build: Build) -> None:
    spec, params = build.spec, build.request.params
    group = zarr.open_group(str(build.partial), mode="r+", use_consolidated=False)
    labels = group["label"][:].astype(np.int64)
    meta = {f: group[f"meta/{f}"][:] for f in spec.meta_fields}
    splits = {} if params.unlabelled else spec.splits(meta, labels, group["sample"][:].tolist())
    store.write_splits(group, splits)
    build.reader_notes = spec.notes(meta, group["frames"][:]) if spec.notes else []
    build.group, build.labels = group, labels
    build.used = training_subsets(splits, labels, params.dtw_samples_per_class)


def _dtw(build: Build) -> None:
    """Stage the DTW distances of every sample some split uses, in chunks of stored samples."""
    partial, params = build.partial, build.request.params
    needed = np.unique(np.concatenate([np.zeros(0, np.int64), *build.used.values()]))
    step = params.chunk_size
    build.dtw_chunks = [needed[i : i + step] for i in range(0, len(needed), step)]
    dtw = params.dtw_attrs()
    calls = {
        k: (tasks.dtw_chunk, partial, indices, dtw, staging.chunk_path(partial, "dtw", k))
        for k, indices in enumerate(build.dtw_chunks)
        if not staging.staged_dtw(partial, k, indices)
    }
    build.run_chunks("dtw", calls, [len(indices) for indices in build.dtw_chunks])


def _disconnect(build: Build) -> None:
    build.stack.close()


def _semantic(build: Build) -> None:
    """Per split with training samples: class-mean distances, summed over the staged DTW
    chunks one at a time in chunk order, then the adjacency rule; `semantic/<split>`."""
    params, labels, used = build.request.params, build.labels, build.used
    rule, rule_params, dtw = params.rule, params.rule_params(), params.dtw_attrs()
    means, member = {}, {}  # split -> its class means, and whether each sample is in it
    for split, indices in used.items():
        if len(indices):
            means[split] = ClassMeans(len(build.discovery.classes))
            member[split] = np.zeros(len(labels), dtype=bool)
            member[split][indices] = True
        else:
            build.left_out.append(split)
    for k, indices in enumerate(build.dtw_chunks):
        distances = staging.load_dtw(build.partial, k)
        for split, split_means in means.items():
            rows = member[split][indices]
            split_means.add(distances[rows], labels[indices[rows]])
    for split, split_means in means.items():
        pair, mean = split_means.means()
        write_semantic(build.group, split, pair, mean, rule, rule_params, dtw, len(used[split]))


PHASES = (
    Phase("discover", "list the raw samples in name order, in chunks of --chunk-size", _discover),
    Phase("cluster", "start the Dask cluster, or connect to --scheduler", _connect),
    Phase("parse", "stage each chunk: read, denoise, align, encode (Dask)", _parse, _compacted),
    Phase("compact", "staged chunks -> the per-sample arrays, in name order", _compact, _compacted),
    Phase("splits", "train/test indices from the labels and metadata", _splits),
    Phase("dtw", "joint-pair DTW of the training samples used (Dask, staged)", _dtw),
    Phase("cluster", "shut the cluster down", _disconnect),
    Phase("semantic", "per split: class-mean distances and the adjacency rule", _semantic),
)


def build(
    request: BuildRequest, source: dict, partial: Path, lock: staging.BuildLock, start: float
) -> BuildResult:
    """Run the phases in order, skipping those a resumed build has done, timing each
    (`stats.phase_seconds`: the time since the previous phase ran, summed when one recurs);
    then `finish`."""
    params, seconds, last = request.params, {}, start
    with ExitStack() as stack:
        code = code_fingerprint()
        state = staging.prepare(partial, params.content_key(), source["fingerprint"], code)
        run = Build(request, partial, state, params.read_options(), stack)
        for phase in PHASES:
            if not phase.done(run):
                phase.run(run)
                now = time.perf_counter()
                seconds[phase.name] = round(seconds.get(phase.name, 0.0) + now - last, 3)
                last = now
    return finish(run, source, lock, seconds, start)
