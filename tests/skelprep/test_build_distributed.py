"""`skelprep build --scheduler`: a real dask.distributed cluster (a `dask scheduler` and two
`dask worker` processes on localhost, random ports) builds the same store as the local one."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import zarr
from click.testing import CliRunner
from dask.distributed import Client

from skelprep.cli import main
from skelprep.store.compare import content_digest
from skelprep.synth import generate

DASK = str(Path(sys.executable).with_name("dask"))
ARGS = ["build", "--dataset", "ntu60", "--chunk-size", "4", "--quiet"]


def _start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [DASK, *args], start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[str]:
    """Address of a scheduler with two single-threaded workers, all real processes."""
    info = tmp_path / "scheduler.json"
    procs = [
        _start(
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(info),
        )
    ]
    try:
        deadline = time.monotonic() + 60
        while not info.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        for name in ("w1", "w2"):
            procs.append(
                _start(
                    "worker",
                    address,
                    "--nthreads",
                    "1",
                    "--name",
                    name,
                    "--no-dashboard",
                    "--host",
                    "127.0.0.1",
                )
            )
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield address
    finally:
        for proc in procs:
            os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            proc.wait(timeout=30)


def test_cluster_build_equals_local_build(cluster: str, tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    generate(
        "ntu", raw, seed=2, classes=3, subjects=4, cameras=2, repetitions=1, empty_fraction=0.1
    )
    remote, local = tmp_path / "remote.zarr", tmp_path / "local.zarr"
    result = CliRunner().invoke(
        main, [*ARGS, "--raw", str(raw), "--out", str(remote), "--scheduler", cluster]
    )
    assert result.exit_code == 0, result.output
    with Client(cluster) as client:
        ran = client.run(lambda: ("skelprep.build.tasks" in sys.modules, os.getpid()))
    assert any(loaded for loaded, _ in ran.values()), "no worker ran a build task"
    assert os.getpid() not in {pid for _, pid in ran.values()}
    result = CliRunner().invoke(
        main, [*ARGS, "--raw", str(raw), "--out", str(local), "--workers", "2"]
    )
    assert result.exit_code == 0, result.output
    assert content_digest(remote) == content_digest(local)


def test_cluster_build_with_relative_paths(
    cluster: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--raw and --out relative to the caller's directory: the workers run elsewhere (here in
    the directory pytest started them from), so the build must hand them absolute paths."""
    work = tmp_path / "caller"
    generate(
        "ntu",
        work / "raw",
        seed=3,
        classes=3,
        subjects=4,
        cameras=2,
        repetitions=1,
        empty_fraction=0.0,
    )
    monkeypatch.chdir(work)
    result = CliRunner().invoke(
        main, [*ARGS, "--raw", "raw", "--out", "rel.zarr", "--scheduler", cluster]
    )
    assert result.exit_code == 0, result.output
    with Client(cluster) as client:
        elsewhere = client.run(os.getcwd)
    assert str(work) not in set(elsewhere.values())  # the test shows something only then
    store = zarr.open_group(str(work / "rel.zarr"), mode="r")
    assert store["sample"].shape == (len(list((work / "raw").rglob("*.skeleton"))),)
