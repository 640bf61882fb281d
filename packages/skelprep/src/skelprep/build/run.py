"""`build_store`: raw directory -> finished store, in phases that each resume after a kill.

1. parse: one Dask task per chunk of raw files stages its samples in `<store>.partial/staging`;
2. compact: staged chunks -> the per-sample arrays, in sample-name order;
3. splits from the compacted metadata;
4. DTW per training sample (Dask tasks, staged) -> semantic adjacency per split;
5. attrs, consolidated metadata, atomic rename of `<store>.partial` to `<store>`.
Staged work is reused only when the content keys and the source fingerprint match.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from skelprep.build.decide import Action, apply_semantic, decide, restore_aside
from skelprep.build.params import BuildParams
from skelprep.build.staging import BuildLock, drop_state, is_compacted, mark_compacted, prepare
from skelprep.errors import SkelprepError
from skelprep.fingerprint import source_fingerprint
from skelprep.store import describe_preparation, is_partial, partial_path

if TYPE_CHECKING:
    from dask.distributed import Client

    from skelprep.readers.base import DatasetSpec, ReadOptions


@dataclass
class BuildRequest:
    """A build: its parameters, where the raw files are and the store goes, how it runs."""

    params: BuildParams
    raw: Path
    out: Path
    force: bool = False
    scheduler: str | None = None
    workers: int = 2
    progress: bool = True


@dataclass(frozen=True)
class BuildContext:
    """What the phases of one build share: the cluster, the dataset, the request's parameters
    and where the work is staged (the `.partial` directory)."""

    client: Client
    spec: DatasetSpec
    raw: Path
    options: ReadOptions
    params: BuildParams
    partial: Path
    progress: bool


@dataclass
class BuildResult:
    """What a build did; `stats` and `skipped` are those of the store's attrs."""

    store: Path
    action: Action
    seconds: float
    stats: dict = field(default_factory=dict)
    skipped: list[dict] = field(default_factory=list)
    differences: list = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def build_store(request: BuildRequest) -> BuildResult:
    """Reuse, re-threshold or build the store of `request` (see the module docstring).

    Raises SkelprepError with a clear message on a missing raw directory, a parameter mismatch
    without --force, --strict and a malformed file, or a write error (disk full, read-only);
    the previous store is never touched by a failed build. `raw` and `out` are made absolute
    first: the tasks run in workers whose working directory may be another one (--scheduler).
    """
    start = time.perf_counter()
    request = replace(request, raw=Path(request.raw).absolute(), out=Path(request.out).absolute())
    params, raw, out = request.params, request.raw, request.out
    params.check()
    _known_dataset(params.dataset)
    if is_partial(out):
        raise SkelprepError(f"--out {out}: a '.partial' name is reserved for unfinished builds")
    if not raw.is_dir():
        raise SkelprepError(
            f"raw directory {raw} does not exist (--raw, default data/raw/<dataset>)"
        )
    source = source_fingerprint(raw)
    if source["file_count"] == 0:
        raise SkelprepError(f"raw directory {raw} holds no files")
    restore_aside(out)
    action, diffs = decide(out, params, source, request.force)
    if action is Action.REUSE:
        return BuildResult(out, action, time.perf_counter() - start)
    if action is Action.SEMANTIC:
        splits = apply_semantic(out, params)
        return BuildResult(
            out, action, time.perf_counter() - start, differences=diffs, notes=splits
        )
    partial = partial_path(out)
    try:
        partial.mkdir(parents=True, exist_ok=True)
        with BuildLock(partial) as lock:
            result = _build(request, source, partial, lock, start)
    except OSError as exc:
        where = exc.filename or partial
        raise SkelprepError(
            f"cannot write {where}: {exc.strerror or exc}. The build stopped; the previous "
            f"store {out} is untouched and the work staged in {partial} resumes on a rerun"
        ) from None
    result.differences = diffs
    return result


def _known_dataset(name: str) -> None:
    from skelprep.readers import get_dataset

    try:
        get_dataset(name)
    except KeyError as exc:
        raise SkelprepError(exc.args[0]) from None


def _build(
    request: BuildRequest, source: dict, partial: Path, lock: BuildLock, start: float
) -> BuildResult:
    import numpy as np
    import zarr

    from skelprep.build import finalize, parse, semantic_phase
    from skelprep.build.cluster import client_in_background
    from skelprep.build.staging import test_kill_hook
    from skelprep.readers import get_dataset
    from skelprep.store import consolidate, write_splits

    params, raw = request.params, Path(request.raw)
    options = params.read_options()
    clock = PhaseClock(start)
    with client_in_background(request.scheduler, request.workers) as started:
        state = prepare(partial, params.content_key(), source["fingerprint"])
        spec = get_dataset(params.dataset).resolve(raw, options)
        discovery = spec.discover(raw, options)
        if not discovery.refs:
            raise SkelprepError(
                f"raw directory {raw} holds no {params.dataset} sample files "
                f"({len(discovery.skipped)} left out by discovery)"
            )
        refs = sorted(discovery.refs, key=lambda ref: ref.name)
        chunks = [refs[i : i + params.chunk_size] for i in range(0, len(refs), params.chunk_size)]
        clock.mark("discover")
        context = BuildContext(started(), spec, raw, options, params, partial, request.progress)
        clock.mark("cluster")
        if not is_compacted(state):
            summaries = parse.parse_all(context, chunks)
            clock.mark("parse")
            parse.compact(context, summaries)
            clock.mark("compact")
            test_kill_hook("compacted", 1)
            state = mark_compacted(partial, state, summaries)
        group = zarr.open_group(str(partial), mode="r+", use_consolidated=False)
        labels = group["label"][:].astype(np.int64)
        names = group["sample"][:].tolist()
        meta = {f: group[f"meta/{f}"][:] for f in spec.meta_fields}
        splits = {} if params.unlabelled else spec.splits(meta, labels, names)
        write_splits(group, splits)
        reader_notes = spec.notes(meta, group["frames"][:]) if spec.notes else []
        clock.mark("splits")
        used = semantic_phase.training_subsets(splits, labels, params.dtw_samples_per_class)
        needed = np.unique(np.concatenate([np.zeros(0, np.int64), *used.values()]))
        distances = semantic_phase.pair_distances(context, needed)
        clock.mark("dtw")
    clock.mark("cluster")  # its shutdown
    classes = discovery.classes
    left_out = semantic_phase.write_all_semantic(
        group, used, needed, distances, labels, len(classes), params
    )
    skipped = [_entry(raw, s) for s in discovery.skipped]
    skipped += [entry for summary in state["summaries"] for entry in summary["skipped"]]
    clock.mark("semantic")
    stats = finalize.stats(group, skipped, time.perf_counter() - start, clock.seconds)
    labelled = bool(len(labels)) and bool((labels >= 0).all())
    attrs = finalize.root_attrs(spec, classes, params, source, skipped, stats, labelled)
    group.attrs.put(attrs)
    shutil.rmtree(partial / "staging", ignore_errors=True)
    consolidate(partial)
    test_kill_hook("finalize", 1)
    drop_state(partial)
    lock.release_file()
    finalize.swap_in(partial, request.out)
    notes = describe_preparation(attrs)
    notes += [f"split {s}: no training sample, no semantic adjacency" for s in left_out]
    notes += reader_notes
    return BuildResult(
        Path(request.out), Action.BUILD, stats["seconds"], stats, skipped, notes=notes
    )


class PhaseClock:
    """Wall seconds per build phase (`stats.phase_seconds`), summed when a phase recurs."""

    def __init__(self, start: float) -> None:
        self.last = start
        self.seconds: dict[str, float] = {}

    def mark(self, phase: str) -> None:
        """Charge the time since the previous mark to `phase`."""
        now = time.perf_counter()
        self.seconds[phase] = round(self.seconds.get(phase, 0.0) + now - self.last, 3)
        self.last = now


def _entry(raw: Path, skip: dict) -> dict:
    """A discovery record in the attrs form {file (relative to the raw root), line, reason}."""
    from skelprep.build.tasks import relative_name
    from skelprep.errors import skip_record

    return skip_record(relative_name(raw, skip["file"]), skip["reason"], skip.get("line"))
