"""Where the build's Dask tasks run: a local cluster of single-threaded worker processes (text
parsing holds the GIL, so threads would not use a second core), or an existing
`dask.distributed` cluster at `--scheduler tcp://host:port`, which must answer within
CONNECT_TIMEOUT seconds. Workers of a remote cluster must see the raw and output paths (a
shared filesystem).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager

import dask
from dask.distributed import Client, LocalCluster
from distributed.comm import connect

from skelprep.build.worker_start import (
    WORKER_ENVIRON,
    WORKER_SETUP,
    WORKER_START,
    start_fork_server,
)
from skelprep.errors import SkelprepError

CONNECT_TIMEOUT = 5

#: Imported by every local worker as it starts, which loads the readers' compiled kernels: a
#: no-op in a worker forked from a fork server that preloaded it (worker_start), the set-up
#: itself when the LocalCluster started the server.
WORKER_PRELOAD = [WORKER_SETUP]


async def _probe(address: str) -> None:
    """Connect to `address` and finish Dask's handshake within CONNECT_TIMEOUT seconds in all:
    a port that accepts TCP but never speaks the protocol raises TimeoutError, never hangs."""
    comm = await asyncio.wait_for(connect(address, timeout=CONNECT_TIMEOUT), CONNECT_TIMEOUT)
    await comm.close()


@contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator[Client]:
    """A distributed Client for the build; the local cluster is shut down on exit."""
    if scheduler:
        try:
            asyncio.run(_probe(scheduler))  # a silent peer would hang Client's handshake
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT}s")
        except (OSError, TimeoutError, ValueError) as exc:
            reason = str(exc) or type(exc).__name__  # asyncio's TimeoutError has no message
            raise SkelprepError(
                f"dask scheduler {scheduler} did not answer within {CONNECT_TIMEOUT} s ({reason}); "
                "start one with `dask scheduler` or omit --scheduler for a local cluster"
            ) from None
        with client:
            yield client
        return
    if workers < 1:
        raise SkelprepError(f"--workers must be >= 1, got {workers}")
    environ = {**dask.config.get("distributed.nanny.pre-spawn-environ", {}), **WORKER_ENVIRON}
    settings = {
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
            preload=WORKER_PRELOAD,
        ) as cluster,
        Client(cluster) as client,
    ):
        yield client


@contextmanager
def client_in_background(scheduler: str | None, workers: int) -> Iterator[Callable[[], Client]]:
    """`dask_client` started in a thread, so the caller's own work (discovery) overlaps the
    workers' start-up; yields a function that waits for the client and returns it.

    On exit the start is waited for (a cluster still starting is closed, never leaked) and the
    client and its local cluster are shut down; a start-up error is raised by the function.
    """
    if not scheduler:  # here, not in the thread: it sets os.environ for a moment
        start_fork_server()  # a no-op when `skelprep build` started it already
    context = contextvars.copy_context()  # Client's context variable: set and reset in it
    stack = ExitStack()
    with ThreadPoolExecutor(1, thread_name_prefix="cluster") as pool:
        started = pool.submit(context.run, stack.enter_context, dask_client(scheduler, workers))
        try:
            yield started.result
        finally:
            started.exception()  # wait for it, then close what was started
            context.run(stack.close)
