"""Open a finished store read-only, refusing what is not one: a missing path, a `.partial`
directory (an unfinished build), a directory that is no Zarr group, another schema version.
"""

from __future__ import annotations

import json
from pathlib import Path

import zarr

from skelprep.errors import StoreError
from skelprep.store.schema import PARTIAL_SUFFIX, SCHEMA


def partial_path(store: Path) -> Path:
    """The directory a build of `store` writes into before it is renamed: `<store>.partial`."""
    store = Path(store)
    return store.with_name(store.name + PARTIAL_SUFFIX)


def is_partial(path: Path) -> bool:
    """True for a `*.partial` directory, which is never a finished store."""
    return Path(path).name.endswith(PARTIAL_SUFFIX)


def read_attrs(store: Path) -> dict:
    """Root attrs of `store` read straight from its `zarr.json` (cheap: no array is opened).

    Raises StoreError when the path is not a finished store of this schema.
    """
    store = Path(store)
    if is_partial(store):
        raise StoreError(
            f"{store} is an unfinished build (a '{PARTIAL_SUFFIX}' directory), not a store; "
            "rerun `skelprep build` to resume it"
        )
    meta = store / "zarr.json"
    if not store.is_dir():
        raise StoreError(f"{store}: no such store directory")
    if not meta.is_file():
        raise StoreError(f"{store} is not a Zarr v3 group (no zarr.json)")
    try:
        doc = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise StoreError(f"{meta}: unreadable group metadata ({exc})") from None
    if doc.get("node_type") != "group":
        raise StoreError(f"{store} is a Zarr array, not a store group")
    attrs = doc.get("attributes", {})
    schema = attrs.get("schema")
    if schema != SCHEMA:
        raise StoreError(
            f"{store} has schema {schema!r}; this skelprep reads only {SCHEMA!r} "
            "(rebuild it with this version, `skelprep build --force`)"
        )
    return attrs


def open_store(store: Path) -> zarr.Group:
    """The root group of a finished store, read-only (checks schema first, see read_attrs)."""
    read_attrs(store)
    return zarr.open_group(str(store), mode="r")


def describe_preparation(attrs: dict) -> list[str]:
    """Two lines saying how the samples were prepared: layout and alignment, labels.

    Shared by `skelprep info` and the build summary, so both say the same thing.
    """
    layout = attrs["layout"]
    alignment = attrs.get("alignment")
    if alignment is None:
        how = "alignment not recorded (store written before skelprep recorded it)"
    elif alignment["applied"]:
        how = (
            f"aligned {alignment['kind']}: origin {alignment['origin']!r} at 0, "
            f"up bone {' -> '.join(alignment['up'])}"
            + (f", across {' -> '.join(alignment['across'])}" if alignment.get("across") else "")
        )
    else:
        how = f"not aligned ({alignment['reason']})"
    labels = (
        f"{attrs['num_classes']} classes"
        if attrs.get("labelled", True)
        else "unlabelled (every label -1, no splits): classify it with `stgnode predict`"
    )
    return [
        f"layout     {layout['name']} ({len(layout['joints'])} joints), {how}",
        f"labels     {labels}",
    ]
