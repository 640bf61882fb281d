"""`build_store`: raw directory -> finished store, in phases that each resume after a kill.

First what the request leads to (finished.decide: reuse, re-threshold, or build); a build runs
the phases of phases.PHASES in order (discover, parse into `<store>.partial/staging`, compact
into the per-sample arrays, splits, DTW, semantic adjacency), skipping those a resumed build
has done, and finishes here: attrs, consolidated metadata, atomic rename of `<store>.partial`
to `<store>` (finished.py). Staged work is reused only when the content keys and the source
fingerprint match (staging.py).
"""

from __future__ import annotations

import shutil
import time
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from skelprep.build.finished import Action, apply_semantic, decide, restore_aside
from skelprep.build.params import BuildParams
from skelprep.build.staging import BuildLock, drop_state, prepare
from skelprep.errors import SkelprepError
from skelprep.fingerprint import source_fingerprint
from skelprep.store import describe_preparation, is_partial, partial_path

if TYPE_CHECKING:
    from skelprep.build.phases import Build


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
    """Run the phases (phases.PHASES) in order, skipping those a resumed build has done, then
    write the attrs and swap the finished `.partial` in as the store."""
    from skelprep.build.cluster import client_in_background
    from skelprep.build.phases import PHASES, Build

    params = request.params
    clock = PhaseClock(start)
    with ExitStack() as stack:
        started = stack.enter_context(client_in_background(request.scheduler, request.workers))
        state = prepare(partial, params.content_key(), source["fingerprint"])
        build = Build(request, partial, state, params.read_options(), started, stack.close)
        for phase in PHASES:
            if not phase.done(build):
                phase.run(build)
                clock.mark(phase.name)
    return _finish(build, source, lock, clock)


def _finish(build: Build, source: dict, lock: BuildLock, clock: PhaseClock) -> BuildResult:
    """Attrs, consolidated metadata, then the atomic swap of `.partial` for the store."""
    from skelprep.build import finished
    from skelprep.build.staging import test_kill_hook
    from skelprep.store import consolidate

    request, partial, group, labels = build.request, build.partial, build.group, build.labels
    skipped = [_entry(request.raw, s) for s in build.discovery.skipped]
    skipped += [entry for summary in build.state["summaries"] for entry in summary["skipped"]]
    seconds = time.perf_counter() - clock.start
    stats = finished.stats(group, skipped, seconds, clock.seconds)
    labelled = bool(len(labels)) and bool((labels >= 0).all())
    classes = build.discovery.classes
    attrs = finished.root_attrs(
        build.spec, classes, request.params, source, skipped, stats, labelled
    )
    group.attrs.put(attrs)
    shutil.rmtree(partial / "staging", ignore_errors=True)
    consolidate(partial)
    test_kill_hook("finalize", 1)
    drop_state(partial)
    lock.release_file()
    finished.swap_in(partial, request.out)
    notes = describe_preparation(attrs)
    notes += [f"split {s}: no training sample, no semantic adjacency" for s in build.left_out]
    notes += build.reader_notes
    return BuildResult(request.out, Action.BUILD, stats["seconds"], stats, skipped, notes=notes)


class PhaseClock:
    """Wall seconds per build phase (`stats.phase_seconds`), summed when a phase recurs."""

    def __init__(self, start: float) -> None:
        self.start = self.last = start
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
