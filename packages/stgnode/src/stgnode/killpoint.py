"""TEST HOOK: a real SIGKILL of the training process at a named point, for kill-and-resume tests.

`STGNODE_TEST_KILL_AT=<point>:<n>` kills the process when `kill_point(point, n)` is reached:
`step:n` after the n-th optimiser step of the run (counted across resumes, so mid-epoch), `saved:n` after the n-th
epoch's `last.pt` temp file is written and before it is renamed. A real `kill -9`, so the tests
exercise exactly what an OOM kill or a pre-empted job does; unset, it costs one dict lookup.
"""

from __future__ import annotations

import os
import signal

KILL_ENV = "STGNODE_TEST_KILL_AT"


def kill_point(point: str, count: int) -> None:
    """SIGKILL this process when STGNODE_TEST_KILL_AT equals `point:count`."""
    if os.environ.get(KILL_ENV) == f"{point}:{count}":
        os.kill(os.getpid(), signal.SIGKILL)
