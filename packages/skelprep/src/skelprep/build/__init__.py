"""The store build: `build_store` turns a raw dataset directory into `<store>` (schema in
docs/store-format.md), or finds that the store it would build is already there.

Read in this order:
- here: what a request leads to (`decide`: reuse the store, re-apply only the adjacency rule
  to its stored distances, or build), and how a build ends (`finish`: the root attrs, the
  consolidated metadata, the swap of the new store in);
- phases.py: a build, as a table of phases run in order (discover, cluster, parse, compact,
  splits, DTW, semantic), each skipped when a resumed build has done it;
- staging.py: `<store>.partial`, where a build writes: the resume state, the staged chunks,
  the lock, the atomic swap in as `<store>`;
- tasks.py: every function the Dask workers run;
- cluster.py: where they run (a local cluster or `--scheduler`) and the workers' set-up;
- params.py: the build parameters, each declared once.

The reuse path loads neither Dask nor any compiled kernel: phases.py is imported only when a
build runs.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from skelprep import SCHEMA, __version__
from skelprep.build.params import BuildParams, differences, is_semantic_only
from skelprep.build.staging import BuildLock, restore_aside, swap_in
from skelprep.errors import (
    SkelprepError,
    StoreError,
    may_be_malformed,
    skip_location,
    skip_record,
)
from skelprep.fingerprint import code_fingerprint, source_fingerprint
from skelprep.semantic_store import reapply
from skelprep.store import consolidate, describe_preparation, is_partial, partial_path, read_attrs

if TYPE_CHECKING:
    from skelprep.build.phases import Build
    from skelprep.readers.base import DatasetSpec

__all__ = ["Action", "BuildMismatch", "BuildParams", "BuildRequest", "BuildResult", "build_store"]


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


class Action(Enum):
    """What a build request leads to."""

    BUILD = "built"
    REUSE = "reused"
    SEMANTIC = "semantic rule re-applied"


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


class BuildMismatch(SkelprepError):
    """A finished store exists with other parameters or sources, and --force was not given."""


def build_store(request: BuildRequest) -> BuildResult:
    """Reuse, re-threshold or build the store of `request` (see `decide`).

    Raises SkelprepError with a clear message on a missing raw directory, a parameter mismatch
    without --force, --strict and a malformed file, or a write error (disk full, read-only);
    the previous store is never touched by a failed build. `raw` and `out` are made absolute
    first: the tasks run in workers whose working directory may be another one (--scheduler).
    """
    start = time.perf_counter()
    request = replace(request, raw=Path(request.raw).absolute(), out=Path(request.out).absolute())
    params, raw, out = request.params, request.raw, request.out
    params.check()
    from skelprep.readers import get_dataset  # loads Numba: not for `skelprep build --help`

    get_dataset(params.dataset)  # an unknown name stops here, before anything is written
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
    if action is Action.SEMANTIC:
        build_rule = params.to_attrs()["semantic"]
        splits = reapply(out, params.rule, params.rule_params(), build_rule)
        return BuildResult(
            out, action, time.perf_counter() - start, differences=diffs, notes=splits
        )
    if action is Action.REUSE:
        notes = other_code(out, diffs)
        return BuildResult(out, action, time.perf_counter() - start, differences=diffs, notes=notes)
    from skelprep.build import phases  # Dask and the compiled readers: only for a build

    partial = partial_path(out)
    try:
        partial.mkdir(parents=True, exist_ok=True)
        with BuildLock(partial) as lock:
            result = phases.build(request, source, partial, lock, start)
    except OSError as exc:
        where = exc.filename or partial
        raise SkelprepError(
            f"cannot write {where}: {exc.strerror or exc}. The build stopped; the previous "
            f"store {out} is untouched and the work staged in {partial} resumes on a rerun"
        ) from None
    result.differences = diffs
    return result


def other_code(out: Path, diffs: list[tuple[str, object, object]]) -> list[str]:
    """The warning on reusing the store at `out` when `decide` found it written by other
    skelprep code (its one difference then; the reuse stands: the parameters and raw files
    match, and a rebuild may take minutes)."""
    if not diffs:
        return []
    ((_, stored, current),) = diffs
    by = f"skelprep code {stored[:12]}" if stored else "skelprep code that did not record itself"
    return [
        f"{out} was written by {by}, not by this skelprep ({current[:12]}): a reader, "
        "alignment or DTW change between the two is not in it; --force rebuilds it with this code"
    ]


def describe(diffs: list[tuple[str, object, object]]) -> str:
    """One line per differing key: stored value -> requested value."""
    return "\n".join(f"  {key}: stored {old!r}, requested {new!r}" for key, old, new in diffs)


def decide(out: Path, params: BuildParams, source: dict, force: bool) -> tuple[Action, list]:
    """(action, differences) for a request; raises BuildMismatch when --force is needed.

    A finished store is reused when its content keys (params.py) and source fingerprint equal
    the request's; when only `semantic.*` keys differ, the new rule is applied to the stored
    distances (sub-second, no DTW); any other difference is reported key by key and needs
    `--force`. A store written by other skelprep code is reused with a warning, or rebuilt
    under `--force`. `--strict` (a policy, not content) is not a difference, but it keeps only
    a store built under it or one that skipped no malformed input: a store built without it may
    hold a malformed file's absence, so it refuses, naming those files, and with `--force`
    rebuilds.
    """
    if not out.exists():
        return Action.BUILD, []
    try:
        attrs = read_attrs(out)
    except StoreError as exc:
        if force:
            return Action.BUILD, []
        raise BuildMismatch(
            f"{exc}\n{out} exists but is not a usable store; --force replaces it"
        ) from None
    stored = {"build": attrs["build"], "source": {"fingerprint": attrs["source"]["fingerprint"]}}
    requested = {"build": params.to_attrs(), "source": {"fingerprint": source["fingerprint"]}}
    diffs = differences(stored, requested)
    malformed = [record for record in attrs["skipped"] if may_be_malformed(record)]
    if params.strict and malformed and not attrs["build"].get("strict"):
        if force:  # rebuilt under --strict, which stops at the first malformed file
            return Action.BUILD, diffs
        raise BuildMismatch(strict_refusal(out, malformed))
    if not diffs:
        written_by, current = attrs.get("skelprep_code"), code_fingerprint()
        if written_by == current:
            return Action.REUSE, []
        # written by other code: --force rebuilds it with this code, else reused with a warning
        return Action.BUILD if force else Action.REUSE, [("skelprep_code", written_by, current)]
    if force:
        return Action.BUILD, diffs
    rule_only = [(key.removeprefix("build."), old, new) for key, old, new in diffs]
    if is_semantic_only(rule_only) and (out / "semantic" / "zarr.json").is_file():
        return Action.SEMANTIC, rule_only
    raise BuildMismatch(
        f"{out} was built with other parameters or raw files:\n{describe(diffs)}\n"
        "rerun with --force to rebuild it (the current store is kept until the new one is complete)"
    )


def strict_refusal(out: Path, malformed: list[dict]) -> str:
    """Why --strict does not reuse a store built without it that skipped malformed input (or
    inputs of unknown kind, from a store built before the flag existed): which ones."""
    named = [skip_location(record) for record in malformed]
    more = f" and {len(named) - 3} more" if len(named) > 3 else ""
    return (
        f"{out} was built without --strict and skipped {len(named)} raw file(s) that may be "
        f"malformed: {', '.join(named[:3])}{more} (the reasons are in its attrs `skipped`); "
        "--strict reuses only a store built under it or one that skipped no malformed input\n"
        "rerun with --force to rebuild it under --strict: it stops at the first malformed file "
        "(files on an official missing list are not malformed) and keeps the current store "
        "until it is done"
    )


def stats(
    found: np.ndarray, kept: np.ndarray, skipped: int, seconds: float, phases: dict[str, float]
) -> dict:
    """The attrs `stats`: samples, skipped, histogram of the bodies found per sample, bodies
    dropped, seconds (and per phase, up to the metadata write: `phase_seconds`)."""
    found, kept = found.astype(np.int64), kept.astype(np.int64)
    values, counts = np.unique(found, return_counts=True)
    return {
        "samples": int(len(found)),
        "skipped": skipped,
        "bodies_found_hist": {str(v): int(c) for v, c in zip(values, counts, strict=True)},
        "bodies_dropped": int((found - kept).sum()),
        "seconds": round(seconds, 3),
        "phase_seconds": dict(phases),
    }


def root_attrs(
    spec: DatasetSpec,
    classes: list[str],
    params: BuildParams,
    source: dict,
    skipped: list[dict],
    stats_: dict,
    labelled: bool,
) -> dict:
    """Every root attribute of docs/store-format.md."""
    from skelprep.align import alignment_attrs  # loads Numba: only when a store is built

    return {
        "schema": SCHEMA,
        "dataset": spec.name,
        "layout": spec.layout.to_attrs(),
        "labelled": labelled,
        "alignment": alignment_attrs(spec, params.align, params.align_heading),
        "classes": list(classes),
        "num_classes": len(classes),
        "channels": list(spec.channels),
        "build": params.to_attrs(),
        "source": source,
        "skipped": skipped,
        "stats": stats_,
        "skelprep_version": __version__,
        "skelprep_code": code_fingerprint(),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def finish(
    build: Build, source: dict, lock: BuildLock, phase_seconds: dict[str, float], start: float
) -> BuildResult:
    """The end of a build: the root attrs (with `stats` up to here), consolidated metadata,
    then the atomic swap of `<store>.partial` in as the store (staging.swap_in)."""
    request, group, discovery, raw = build.request, build.group, build.discovery, build.request.raw
    skipped = [
        skip_record(s["file"], s["reason"], s["line"], root=raw, malformed=s["malformed"])
        for s in discovery.skipped
    ]
    skipped += [entry for summary in build.state["summaries"] for entry in summary["skipped"]]
    found, kept = group["bodies_found"][:], group["bodies_kept"][:]
    seconds = time.perf_counter() - start
    totals = stats(found, kept, len(skipped), seconds, phase_seconds)
    labelled = bool(len(build.labels)) and bool((build.labels >= 0).all())
    params = request.params
    attrs = root_attrs(build.spec, discovery.classes, params, source, skipped, totals, labelled)
    group.attrs.put(attrs)
    shutil.rmtree(build.partial / "staging", ignore_errors=True)
    consolidate(build.partial)
    swap_in(build.partial, request.out, lock)
    notes = describe_preparation(attrs)
    notes += [f"split {s}: no training sample, no semantic adjacency" for s in build.left_out]
    notes += build.reader_notes
    return BuildResult(request.out, Action.BUILD, totals["seconds"], totals, skipped, notes=notes)
