"""The store build: reuse or build `<store>` from a raw directory with Dask, atomically and
resumably (see run.py for the phases, staging.py for the `.partial` layout).

The names below load on first use (PEP 562), so that `skelprep build` can start its workers'
fork server (worker_start) before it imports zarr, Numba and the readers.
"""

from __future__ import annotations

import importlib

#: exported name -> the module that defines it
_EXPORTS = {
    "Action": "skelprep.build.finished",
    "BuildMismatch": "skelprep.build.finished",
    "BuildParams": "skelprep.build.params",
    "BuildRequest": "skelprep.build.run",
    "BuildResult": "skelprep.build.run",
    "build_store": "skelprep.build.run",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> object:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
