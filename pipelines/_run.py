"""Helpers shared by the pipelines: run a CLI step with a visible command line, time it."""

from __future__ import annotations

import shlex
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def step(title: str, *argv: str) -> float:
    """Run one console command (from this venv's bin), echoing it; stop the pipeline if it fails."""
    cmd = [str(BIN / argv[0]), *argv[1:]]
    print(f"\n== {title}\n$ {shlex.join(argv)}", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO)
    if proc.returncode != 0:
        sys.exit(f"pipeline step failed ({proc.returncode}): {shlex.join(argv)}")
    return time.perf_counter() - start
