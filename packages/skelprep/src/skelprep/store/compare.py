"""Content digest of a store: one sha256 per array plus the attrs, without the keys that
record when and how fast a build ran (`created`, `stats.seconds`, `stats.phase_seconds`).

Why: two builds of the same raw files with the same parameters must give the same store
whether they ran in one go, resumed after a kill, or ran on a remote Dask cluster; comparing
digests says so without holding two stores in memory.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import zarr

VOLATILE: dict[str, tuple[str, ...] | None] = {
    "created": None,
    "stats": ("seconds", "phase_seconds"),
}
"""Root attribute -> the sub-keys that vary between identical builds (None: the whole key)."""


def _array_digest(array: zarr.Array) -> str:
    digest = hashlib.sha256(f"{array.dtype}{array.shape}{array.chunks}".encode())
    step = array.chunks[0] if array.ndim else 1
    for start in range(0, max(array.shape[0] if array.ndim else 1, 1), step):
        block = np.asarray(array[start : start + step] if array.ndim else array[()])
        data = "\0".join(block.tolist()) if block.dtype.kind in "UTO" else block.tobytes()
        digest.update(data.encode() if isinstance(data, str) else data)
    return digest.hexdigest()


def content_digest(store: Path) -> dict[str, str]:
    """{"attrs:<group>": digest, "<array path>": digest} over every group and array."""
    root = zarr.open_group(str(store), mode="r")
    out = {}
    for path, node in [("", root), *root.members(max_depth=None)]:
        if isinstance(node, zarr.Array):
            out[path] = _array_digest(node)
        attrs = dict(node.attrs)
        if path == "":
            for key, sub in VOLATILE.items():
                if sub is None:
                    attrs.pop(key, None)
                elif key in attrs:
                    attrs[key] = {k: v for k, v in attrs[key].items() if k not in sub}
        text = json.dumps(attrs, sort_keys=True)
        out[f"attrs:{path}"] = hashlib.sha256(text.encode()).hexdigest()
    return out
