"""Phase 5 of a build: root attributes, consolidated metadata, and the atomic swap that makes
`<store>.partial` the store.

The previous store (if any) is renamed aside, the new one renamed in, and only then is the
old one deleted: at no moment is neither a complete old nor a complete new store on disk.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import zarr

from skelprep import SCHEMA, __version__
from skelprep.align import coordinate_dims
from skelprep.build.decide import ASIDE_MARK
from skelprep.build.params import BuildParams
from skelprep.readers.base import DatasetSpec


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
