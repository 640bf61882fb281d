"""How the local workers of a build start: forked from a fork server that `skelprep build`
starts before it imports anything heavy.

Every local Dask worker is forked from multiprocessing's fork server (WORKER_START). Left to the
LocalCluster, that server would start only after the command's own imports, the fingerprint and
the scheduler; it imports distributed, and then each worker would import the readers and load
their compiled kernels itself (mostly Numba's first load, which imports scipy to look for a
BLAS). Started first (`start_fork_server`), the server does all of that once, on the other
core, while the command imports, fingerprints and discovers, and every worker is forked ready,
so parsing starts sooner (figures in docs/results.md, section Build).

Standard library only: this module is imported before the heavy ones.
"""

from __future__ import annotations

import multiprocessing
import os
from multiprocessing import forkserver

#: How local workers are started. A spawned worker ends with a full interpreter shutdown that
#: the build waits for; one forked from the fork server ends at once (docs/results.md, Build).
#: The fork server is a fresh single-threaded process (unlike `fork`, no lock of this
#: process's threads is inherited).
WORKER_START = "forkserver"

#: The workers' set-up: importing it loads the readers' compiled kernels.
WORKER_SETUP = "skelprep.build.worker_setup"

#: Modules the fork server imports before it forks a worker: distributed (what Dask preloads
#: itself), and the workers' set-up.
PRELOAD = ["distributed", WORKER_SETUP]

#: The environment of the fork server and so of every worker forked from it (glibc reads its
#: malloc settings when the server starts). Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 so
#: that long-lived workers hand memory back; a parse task allocates and frees arrays of a few
#: MiB per file, and with that setting (and the default mmap threshold) each one comes back as
#: fresh pages to fault in, which makes a parse task markedly slower than with both thresholds
#: at 256 MiB (docs/results.md, Build). A build worker lives for one build, so holding on to
#: freed memory costs nothing. One BLAS thread, as the nanny sets: a build worker is one
#: thread, one per core.
WORKER_ENVIRON = {
    "MALLOC_TRIM_THRESHOLD_": str(256 * 2**20),
    "MALLOC_MMAP_THRESHOLD_": str(256 * 2**20),
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


def start_fork_server() -> None:
    """Start the fork server now, unless one runs: it returns at once and the server imports
    PRELOAD in the background. WORKER_ENVIRON is set for the server only; this process's
    environment is left as it was."""
    multiprocessing.get_context(WORKER_START).set_forkserver_preload(PRELOAD)
    saved = {key: os.environ.get(key) for key in WORKER_ENVIRON}
    os.environ.update(WORKER_ENVIRON)
    try:
        forkserver.ensure_running()
    finally:
        for key, value in saved.items():
            if value is None:
                del os.environ[key]
            else:
                os.environ[key] = value
