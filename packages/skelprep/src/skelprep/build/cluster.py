"""Where a build's Dask tasks run, how its local workers are set up, and how the phases run
one task per chunk on them (`run_chunks`).

The cluster is a local one of single-threaded worker processes (text parsing holds the GIL, so
threads would not use a second core), or an existing `dask.distributed` cluster at
`--scheduler tcp://host:port`, which must answer within CONNECT_TIMEOUT seconds; the workers of
a remote cluster must see the raw and output paths (a shared filesystem) and have skelprep
installed (docs/cluster.md).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dask
from dask.distributed import Client, Future, LocalCluster, as_completed
from distributed.comm import connect
from tqdm import tqdm

from skelprep.build.staging import test_kill_hook
from skelprep.errors import SkelprepError

CONNECT_TIMEOUT = 5

#: Tasks submitted ahead per worker thread: enough that no worker waits for its next task, few
#: enough that the scheduler, which keeps each task's arguments until it is done, holds a
#: bounded number of them rather than every chunk of the set.
QUEUED_PER_THREAD = 4

#: How local workers are started. A spawned worker ends with a full interpreter shutdown that
#: the build waits for; one forked from multiprocessing's fork server ends at once
#: (docs/results.md, Build). The server is a fresh single-threaded process, so unlike `fork` no
#: lock held by one of this process's threads is inherited.
WORKER_START = "forkserver"

#: The environment of the local workers. Dask's nanny sets MALLOC_TRIM_THRESHOLD_=65536 so that
#: long-lived workers hand memory back; a parse task allocates and frees arrays of a few MiB per
#: file, and with that setting (and the default mmap threshold) each one comes back as fresh
#: pages to fault in, which makes a parse task markedly slower than with both thresholds at
#: 256 MiB (docs/results.md, Build). A build worker lives for one build, so holding on to freed
#: memory costs little. One BLAS thread, as the nanny sets: a build worker is one thread, one per
#: core. glibc reads its malloc settings when a process starts, so they must be in the fork
#: server's environment: the nanny sets "pre-spawn" variables in this process just before it
#: starts a worker, and the first start launches the server (test_build.py checks a worker's
#: start-up environment).
WORKER_ENVIRON = {
    "MALLOC_TRIM_THRESHOLD_": str(256 * 2**20),
    "MALLOC_MMAP_THRESHOLD_": str(256 * 2**20),
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


#: How many entries Dask's developer logs keep (the scheduler's transitions, each worker's
#: stimuli, the messages each connection sent; Dask's default is 1,000). Each entry of the last
#: two holds a task with its arguments (a parse task's are 64 sample paths), so at the default
#: every process of a build grows with the set until its logs are full (docs/results.md,
#: Build). The build reads none of them; a few entries are kept for debugging.
DASK_LOG_LENGTH = 10


async def _probe(address: str) -> None:
    """Connect to `address` and finish Dask's handshake within CONNECT_TIMEOUT seconds in all:
    a port that accepts TCP but never speaks the protocol raises TimeoutError, never hangs."""
    comm = await asyncio.wait_for(connect(address, timeout=CONNECT_TIMEOUT), CONNECT_TIMEOUT)
    await comm.close()


def _connect(scheduler: str) -> Client:
    """A Client of the cluster at `scheduler`, or SkelprepError when it does not answer."""
    try:
        asyncio.run(_probe(scheduler))  # a silent peer would hang Client's handshake
        return Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s")
    except (OSError, TimeoutError, ValueError) as exc:
        reason = str(exc) or type(exc).__name__  # asyncio's TimeoutError has no message
        raise SkelprepError(
            f"dask scheduler {scheduler} did not answer within {CONNECT_TIMEOUT} s ({reason}); "
            "start one with `dask scheduler` or omit --scheduler for a local cluster"
        ) from None


@contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[Client]:
    """A distributed Client for the build; a local cluster is shut down on exit."""
    logs = {"distributed.admin.low-level-log-length": DASK_LOG_LENGTH}
    if scheduler:
        with dask.config.set(logs):
            client = _connect(scheduler)
        with client:
            yield client
        return
    if workers < 1:
        raise SkelprepError(f"--workers must be >= 1, got {workers}")
    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **WORKER_ENVIRON}
    settings = {
        **logs,
        "distributed.nanny.pre-spawn-environ": environ,
        "distributed.worker.multiprocessing-method": WORKER_START,
    }
    with (
        dask.config.set(settings),
        LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # its small HTTP server on a free port, never a clash
            silence_logs=logging.CRITICAL,  # task errors are reported by the build
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


def run_chunks(
    client: Client,
    label: str,
    calls: dict[int, tuple],
    sizes: Sequence[int],
    *,
    tag: str,
    progress: bool,
    done: Callable[[int, Any], None] = lambda chunk, result: None,
) -> None:
    """Run one task per chunk, `calls` {chunk: (function, *arguments)}, on the cluster, in
    chunk order, with QUEUED_PER_THREAD tasks per worker thread submitted at a time (the
    threads are counted again every second, so a cluster that grows gets more).

    `sizes` gives the samples of every chunk, those of chunks not in `calls` (done by an
    earlier run) included: they start the progress bar `label`. As each task finishes, the next
    is submitted, its chunk's samples advance the bar, the test kill hook `label:n` fires at
    the n-th, and `done(chunk, result)` runs; tasks still queued are cancelled when this
    returns or raises (`done` may raise, e.g. under --strict). Task keys name the phase, the
    chunk and `tag`.
    """
    todo = iter(calls.items())
    futures: dict[Future, int] = {}
    running = as_completed()
    threads, counted = 1, -1.0

    def submit() -> None:
        nonlocal threads, counted
        if time.monotonic() - counted > 1:  # workers may have joined (an adaptive cluster)
            threads, counted = max(1, sum(client.nthreads().values())), time.monotonic()
        for chunk, (function, *args) in itertools.islice(
            todo, max(0, QUEUED_PER_THREAD * threads - len(futures))
        ):
            key = f"skelprep-{label}-{chunk}-{tag}"
            future = client.submit(function, *args, key=key, pure=False)
            futures[future] = chunk
            running.add(future)

    submit()
    initial = sum(size for chunk, size in enumerate(sizes) if chunk not in calls)
    bar = tqdm(total=sum(sizes), initial=initial, unit="sample", desc=label, disable=not progress)
    try:
        for finished, future in enumerate(running, start=1):
            chunk = futures.pop(future)
            submit()
            result = future.result()
            bar.update(sizes[chunk])
            test_kill_hook(label, finished)
            done(chunk, result)
    finally:
        for future in futures:
            future.cancel()
        bar.close()
