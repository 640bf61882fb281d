"""The fork server of the local build workers (skelprep.build.worker_start), in a fresh
interpreter: what a worker forked from it has loaded, and what environment it has."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from skelprep.build.worker_start import WORKER_ENVIRON

# Starts the server, forks one child from it the way Dask's nanny does (multiprocessing's
# forkserver context), and reports what the child saw, the server's thread count and this
# process's environment, as JSON.
PROBE = """
import json, multiprocessing, os, sys
from multiprocessing import forkserver

from skelprep.build.worker_start import WORKER_ENVIRON, WORKER_START, start_fork_server


def child(queue):
    queue.put({
        "loaded": sorted(m for m in sys.modules if m.startswith("skelprep.")),
        "environ": {key: os.environ.get(key) for key in WORKER_ENVIRON},
    })


if __name__ == "__main__":
    before = {key: os.environ.get(key) for key in WORKER_ENVIRON}
    start_fork_server()
    context = multiprocessing.get_context(WORKER_START)
    queue = context.Queue()
    process = context.Process(target=child, args=(queue,))
    process.start()
    report = queue.get(timeout=120)
    process.join(timeout=30)
    server = forkserver._forkserver._forkserver_pid
    report["server_threads"] = len(os.listdir(f"/proc/{server}/task"))
    report["parent_before"] = before
    report["parent_after"] = {key: os.environ.get(key) for key in WORKER_ENVIRON}
    report["heavy_in_parent"] = [m for m in ("numba", "zarr", "distributed") if m in sys.modules]
    print(json.dumps(report))
"""


def test_workers_fork_with_the_readers_loaded_and_the_build_environment(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(PROBE)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}  # none of WORKER_ENVIRON set
    proc = subprocess.run(
        [sys.executable, str(probe)], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.splitlines()[-1])
    # preloaded in the server, so inherited: the workers' set-up ran and the readers are there
    assert "skelprep.build.worker_setup" in report["loaded"]
    assert "skelprep.readers.ntu" in report["loaded"]
    assert report["environ"] == WORKER_ENVIRON  # glibc malloc settings and one BLAS thread
    # this process keeps its own environment, and had loaded nothing heavy to start the server
    assert report["parent_before"] == report["parent_after"] == dict.fromkeys(WORKER_ENVIRON)
    assert report["heavy_in_parent"] == []
    assert report["server_threads"] == 1  # still single-threaded after its preload: safe to fork


def test_warm_up_without_a_temporary_directory_does_nothing(monkeypatch) -> None:  # noqa: ANN001
    """The fork server imports the set-up: where no temporary file can be written the warm-up
    must return quietly (the first task then loads the kernels), never end the server."""
    import tempfile

    from skelprep.build import worker_setup

    def unwritable(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied", "/tmp/skelprep-warm-x")

    monkeypatch.setattr(tempfile, "TemporaryDirectory", unwritable)
    assert worker_setup.warm_readers() is None
