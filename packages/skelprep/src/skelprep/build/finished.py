"""The finished store: what a request does with it (`decide`: reuse it, re-apply only the
adjacency rule, or build anew), and how a new one is finished (`stats`, `root_attrs`) and
installed (`swap_in`).

A finished store is reused when its content keys (see params) and source fingerprint equal the
request; when only `semantic.*` keys differ, the new rule is applied to the stored distances
(sub-second, no DTW); any other difference is reported key by key and needs `--force`.
A new store replaces the previous one by renames: the previous store is renamed aside, the new
one renamed in, and only then is the old one deleted, so at no moment is neither a complete
old nor a complete new store on disk. The reuse path imports no compiled kernels.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from skelprep import SCHEMA, __version__
from skelprep.build.params import BuildParams, differences, is_semantic_only
from skelprep.errors import SkelprepError, StoreError
from skelprep.store import read_attrs
from skelprep.store.writer import consolidate

if TYPE_CHECKING:
    import zarr

    from skelprep.readers.base import DatasetSpec

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

    `swap_in` renames the previous store to `<out>.old-<pid>` just before the new one
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


def stats(group: zarr.Group, skipped: list[dict], seconds: float, phases: dict[str, float]) -> dict:
    """The attrs `stats`: samples, skipped, bodies found histogram, bodies dropped, seconds
    (and per phase, up to the metadata write: `phase_seconds`)."""
    found = group["bodies_found"][:].astype(np.int64)
    kept = group["bodies_kept"][:].astype(np.int64)
    values, counts = np.unique(found, return_counts=True)
    return {
        "samples": int(len(found)),
        "skipped": len(skipped),
        "bodies_found_hist": {str(v): int(c) for v, c in zip(values, counts, strict=True)},
        "bodies_dropped": int((found - kept).sum()),
        "seconds": round(seconds, 3),
        "phase_seconds": dict(phases),
    }


ALIGNMENT_KINDS = {3: "rigid-3d", 2: "planar-2d"}
"""Coordinate channels -> the name of the alignment applied to them (skelprep.align)."""


def alignment_attrs(spec: DatasetSpec, align: bool) -> dict:
    """The attrs `alignment`: whether the samples were aligned, how, or why not."""
    from skelprep.align import coordinate_dims  # compiled kernels: not on the reuse path

    dims = coordinate_dims(spec.channels)
    if not align:
        return {"applied": False, "reason": "--no-align"}
    if not spec.aligns:
        return {"applied": False, "reason": f"the {spec.name} reader keeps its source's values"}
    if not dims:
        reason = f"channels {list(spec.channels)} name no x, y[, z] coordinates"
        return {"applied": False, "reason": reason}
    layout = spec.layout
    return {
        "applied": True,
        "kind": ALIGNMENT_KINDS[dims],
        "origin": layout.joints[layout.origin],
        "up": [layout.joints[j] for j in layout.up],
        "across": [layout.joints[j] for j in layout.across] if dims == 3 else None,
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
    return {
        "schema": SCHEMA,
        "dataset": spec.name,
        "layout": spec.layout.to_attrs(),
        "labelled": labelled,
        "alignment": alignment_attrs(spec, params.align),
        "classes": list(classes),
        "num_classes": len(classes),
        "channels": list(spec.channels),
        "build": params.to_attrs(),
        "source": source,
        "skipped": skipped,
        "stats": stats_,
        "skelprep_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def swap_in(partial: Path, out: Path) -> None:
    """Rename `partial` to `out`, replacing a previous store only once the new one is in place."""
    if not out.exists():
        os.rename(partial, out)
        return
    aside = out.with_name(f"{out.name}{ASIDE_MARK}{os.getpid()}")
    os.rename(out, aside)
    os.rename(partial, out)
    shutil.rmtree(aside)
