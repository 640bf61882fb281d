"""Set-up of the local build workers, done when this module is imported: import the readers
and run the NTU reader once on a tiny file, so the first parse task does not pay for loading the
compiled kernels from Numba's cache (0.44 s per process, against 2 ms for a later file).

The fork server imports it once, before it forks any worker (worker_start.PRELOAD), while the
build imports and discovers its files; each worker also lists it as Dask's `preload`, a no-op
there unless the server was started without it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import skelprep.build.tasks  # noqa: F401 (imported for its cost: the tasks' module and its imports)
from skelprep.readers.base import ReadOptions, SampleRef
from skelprep.readers.ntu import read_ntu

_BODY_INFO = "72057594037965210 0 1 1 1 1 0 0.05 0.1 2"


def _tiny_ntu_text(frames: int = 2) -> str:
    """A well-formed `.skeleton` text: one body, 25 distinct joints, `frames` frames."""
    lines = [str(frames)]
    for t in range(frames):
        lines += ["1", _BODY_INFO, "25"]
        for j in range(25):
            x, y, z = 0.01 * j + 0.001 * t, 0.04 * j, 3.0 + 0.002 * j
            lines.append(f"{x:.6f} {y:.6f} {z:.6f} 250.1 200.2 980.3 520.4 0.1 0.2 0.3 0.9 2")
    return "\n".join(lines) + "\n"


def warm_readers() -> None:
    """Read a tiny NTU file once: every compiled kernel of the NTU path is loaded.

    Where no temporary file can be written it does nothing (the first parse task then loads the
    kernels): an error here would end the fork server, and every worker start with it.
    """
    try:
        with tempfile.TemporaryDirectory(prefix="skelprep-warm-") as folder:
            path = Path(folder) / "S001C001P001R001A001.skeleton"
            path.write_text(_tiny_ntu_text())
            read_ntu(SampleRef(path.stem, path), ReadOptions())
    except OSError:
        return


warm_readers()
