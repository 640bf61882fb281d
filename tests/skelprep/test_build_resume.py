"""Kill-and-resume: `skelprep build` killed with a real SIGKILL at every phase, then rerun,
ends with a store identical in content to an uninterrupted build, and a previous store is
never touched while the new one is incomplete.

The kill points are made reachable deterministically by the test hook SKELPREP_TEST_KILL_AT
(skelprep.build.staging.test_kill_hook), which sends SIGKILL to the build process itself.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from skelprep.cli import main
from skelprep.store.compare import content_digest
from skelprep.synth import generate

ARGS = ["--dataset", "ntu60", "--chunk-size", "4", "--workers", "2", "--quiet"]
KILL_POINTS = ["parse:2", "compacted:1", "dtw:1", "finalize:1"]


def build_cli(raw: Path, out: Path, *extra: str, kill: str | None = None) -> int:
    """Run `skelprep build` as a subprocess in its own session; after it ends, end whatever it
    left behind in that session (the local Dask workers of a killed build)."""
    env = dict(os.environ)
    env.pop("SKELPREP_TEST_KILL_AT", None)
    if kill:
        env["SKELPREP_TEST_KILL_AT"] = kill
    cmd = [
        sys.executable,
        "-m",
        "skelprep.cli",
        "build",
        *ARGS,
        "--raw",
        str(raw),
        "--out",
        str(out),
        *extra,
    ]
    proc = subprocess.Popen(cmd, env=env, start_new_session=True, stderr=subprocess.PIPE, text=True)
    _, err = proc.communicate(timeout=300)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    if not kill:
        assert proc.returncode == 0, err
    return proc.returncode


@pytest.fixture(scope="module")
def raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("resume") / "raw"
    generate(
        "ntu", raw, seed=1, classes=3, subjects=4, cameras=2, repetitions=1, empty_fraction=0.1
    )
    return raw


def test_killed_at_every_phase_then_resumed_equals_uninterrupted(raw: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference.zarr"
    assert (
        CliRunner()
        .invoke(main, ["build", *ARGS, "--raw", str(raw), "--out", str(reference)])
        .exit_code
        == 0
    )
    out = tmp_path / "s.zarr"
    partial = tmp_path / "s.zarr.partial"
    previous = tmp_path / "previous.zarr"
    assert (
        CliRunner()
        .invoke(
            main, ["build", *ARGS, "--raw", str(raw), "--out", str(previous), "--max-frames", "40"]
        )
        .exit_code
        == 0
    )
    previous.rename(out)
    before = content_digest(out)
    staged_first: dict[str, int] = {}
    for point in KILL_POINTS:
        code = build_cli(raw, out, "--force", kill=point)
        assert code == -signal.SIGKILL, f"the hook did not fire at {point}"
        assert content_digest(out) == before, f"previous store changed by a build killed at {point}"
        assert partial.is_dir()
        refused = CliRunner().invoke(main, ["validate", str(partial)])
        assert refused.exit_code != 0 and "unfinished build" in refused.output
        chunks = {p.name: p.stat().st_ino for p in (partial / "staging" / "parse").glob("*.npz")}
        if point == "parse:2":
            assert len(chunks) >= 2
            staged_first = chunks
        if point == "compacted:1":  # the chunks staged before the first kill were not redone
            assert all(chunks[name] == inode for name, inode in staged_first.items())
    build_cli(raw, out, "--force")
    assert not partial.exists()
    assert content_digest(out) == content_digest(reference)
    assert CliRunner().invoke(main, ["validate", str(out)]).exit_code == 0


def test_resume_discards_work_staged_with_other_parameters(raw: Path, tmp_path: Path) -> None:
    out = tmp_path / "s.zarr"
    assert build_cli(raw, out, "--max-frames", "60", kill="parse:1") == -signal.SIGKILL
    build_cli(raw, out)
    reference = tmp_path / "reference.zarr"
    assert (
        CliRunner()
        .invoke(main, ["build", *ARGS, "--raw", str(raw), "--out", str(reference)])
        .exit_code
        == 0
    )
    assert content_digest(out) == content_digest(reference)
