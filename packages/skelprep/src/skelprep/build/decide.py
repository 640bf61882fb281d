"""Before any work: reuse a finished store, re-apply only the adjacency rule, or build.

A finished store is reused when its content keys (see params) and source fingerprint equal the
request; when only `semantic.*` keys differ, the new rule is applied to the stored distances
(sub-second, no DTW); any other difference is reported key by key and needs `--force`.
"""

from __future__ import annotations

import os
import shutil
from enum import Enum
from pathlib import Path

from skelprep.build.params import BuildParams, differences, is_semantic_only
from skelprep.errors import SkelprepError, StoreError
from skelprep.store import read_attrs
from skelprep.store.writer import consolidate

ASIDE_MARK = ".old-"


class Action(Enum):
    """What a build request leads to."""

    BUILD = "built"
    REUSE = "reused"
    SEMANTIC = "semantic rule re-applied"


class BuildMismatch(SkelprepError):
    """A finished store exists with other parameters or sources, and --force was not given."""


def restore_aside(out: Path) -> None:
    """Undo a swap interrupted between its two renames; drop old stores left aside.

    `finalize.swap_in` renames the previous store to `<out>.old-<pid>` just before the new one
    takes its name; if a kill fell between the two renames, the previous store is put back.
    """
    asides = sorted(out.parent.glob(f"{out.name}{ASIDE_MARK}*"))
    if asides and not out.exists():
        os.rename(asides.pop(), out)
    for aside in asides:
        shutil.rmtree(aside, ignore_errors=True)


def describe(diffs: list[tuple[str, object, object]]) -> str:
    """One line per differing key: stored value -> requested value."""
    return "\n".join(f"  {key}: stored {old!r}, requested {new!r}" for key, old, new in diffs)


def decide(out: Path, params: BuildParams, source: dict, force: bool) -> tuple[Action, list]:
    """(action, differences) for a request; raises BuildMismatch when --force is needed."""
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
    if not diffs:
        return Action.REUSE, []
    if force:
        return Action.BUILD, diffs
    rule_only = [(key.removeprefix("build."), old, new) for key, old, new in diffs]
    if is_semantic_only(rule_only) and "semantic" in _groups(out):
        return Action.SEMANTIC, rule_only
    raise BuildMismatch(
        f"{out} was built with other parameters or raw files:\n{describe(diffs)}\n"
        "rerun with --force to rebuild it (the current store is kept until the new one is complete)"
    )


def _groups(out: Path) -> set[str]:
    return {p.name for p in out.iterdir() if (p / "zarr.json").is_file()}


def apply_semantic(out: Path, params: BuildParams) -> list[str]:
    """Re-threshold every `semantic/<split>` of a finished store with the requested rule, then
    record the rule in attrs `build.semantic`; returns the splits updated."""
    import zarr

    from skelprep.semantic_store import recompute

    group = zarr.open_group(str(out), mode="r+", use_consolidated=False)
    splits = sorted(group["semantic"].group_keys())
    for split in splits:
        recompute(out, split, params.rule, **params.rule_params())
    build = dict(group.attrs["build"])
    build["semantic"] = params.to_attrs()["semantic"]
    group.attrs["build"] = build
    consolidate(out)
    return splits
