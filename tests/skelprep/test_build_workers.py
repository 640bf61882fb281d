"""The local workers of a build (skelprep.build.cluster), started in a fresh interpreter: they
are forked from multiprocessing's fork server and began life with the build's environment
(glibc reads its malloc settings only when a process starts)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from skelprep.build.cluster import WORKER_ENVIRON

# Starts the build's local cluster with one worker and reports, as JSON, the environment the
# worker's process started with (/proc/<pid>/environ: the fork server's, inherited at the
# fork) and the command line of its parent process.
PROBE = """
import json, os

from skelprep.build.cluster import dask_client


def started_with():
    with open("/proc/self/environ", "rb") as f:
        pairs = [item.split(b"=", 1) for item in f.read().split(b"\\0") if b"=" in item]
    with open(f"/proc/{os.getppid()}/cmdline", "rb") as f:
        parent = f.read().replace(b"\\0", b" ").decode()
    return {"environ": {k.decode(): v.decode() for k, v in pairs}, "parent": parent}


if __name__ == "__main__":
    with dask_client(None, 1) as client:
        print(json.dumps(list(client.run(started_with).values())[0]))
"""


def test_local_workers_fork_from_the_fork_server_with_the_build_environment(
    tmp_path: Path,
) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # none of WORKER_ENVIRON set
    proc = subprocess.run(
        [sys.executable, str(probe)], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    started = {key: report["environ"].get(key) for key in WORKER_ENVIRON}
    assert started == WORKER_ENVIRON  # glibc malloc settings and one BLAS thread from the start
    assert "forkserver" in report["parent"]
