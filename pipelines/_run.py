"""Helpers shared by the pipelines: run a CLI step with a visible command line, time it; train
and evaluate one run the way a user would."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Hashable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEMO_RAW, DEMO_STORE = "data/raw/demo", "data/demo.zarr"
BIN = Path(sys.executable).parent


def step(title: str, *argv: str, env: dict[str, str] | None = None) -> float:
    """Run one console command (from this venv's bin), echoing it; stop the pipeline if it fails.

    `env` adds environment variables (shown before the command)."""
    cmd = [str(BIN / argv[0]), *argv[1:]]
    shown = "".join(f"{key}={value} " for key, value in (env or {}).items())
    print(f"\n== {title}\n$ {shown}{shlex.join(argv)}", flush=True)
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        sys.exit(f"pipeline step failed ({proc.returncode}): {shlex.join(argv)}")
    return time.perf_counter() - start


def train_and_evaluate(
    run: str,
    store: str,
    config: str,
    model: str,
    seed: int,
    *extra: str,
    env: dict[str, str] | None = None,
    views: int = 1,
) -> dict:
    """`stgnode train` (resuming a finished or interrupted run) then `stgnode evaluate` (with
    `--views views`: test-time augmentation).

    Returns the evaluation metrics (eval/metrics.json) plus `epochs`, `train_seconds` (the sum
    of the epochs' training time in metrics.jsonl) and `wall_seconds` of the train command.
    """
    seconds = step(
        f"train {model} (seed {seed})",
        *("stgnode", "train", "--store", store, "--config", config, "--model", model),
        *("--seed", str(seed), "--out", run, "--resume", "--quiet", *extra),
        env=env,
    )
    step(f"evaluate {model} (seed {seed})", "stgnode", "evaluate", run, "--store", store,
         "--views", str(views), env=env)  # fmt: skip
    metrics = json.loads((REPO / run / "eval" / "metrics.json").read_text())
    lines = (REPO / run / "metrics.jsonl").read_text().splitlines()
    epochs = [json.loads(line) for line in lines if line]
    return {**metrics, "epochs": len(epochs), "train_seconds": sum(e["seconds"] for e in epochs),
            "wall_seconds": seconds}  # fmt: skip


def run_all(one: Callable[..., dict], runs: list[tuple], jobs: int) -> dict[Hashable, dict]:
    """{run: one(*run)} for every run, `jobs` at a time. A failed step exits the pipeline
    (SystemExit from `step`): the runs not yet started are cancelled, none is started after."""
    with ThreadPoolExecutor(jobs) as pool:
        futures = {run: pool.submit(one, *run) for run in runs}
        try:
            return {run: future.result() for run, future in futures.items()}
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def ensure_demo_store() -> str:
    """The demo store, synthesized and built as `just demo` does (both steps reuse finished
    work); returns its path relative to the repository."""
    if (REPO / DEMO_RAW).is_dir():
        print(f"reusing synthetic raw files in {DEMO_RAW}")
    else:
        step("synthesize NTU-format raw files",
             "skelprep", "synth", "--format", "ntu", "--out", DEMO_RAW, "--seed", "0")  # fmt: skip
    step("build the store (reused when unchanged)",
         "skelprep", "build", "--dataset", "ntu60", "--raw", DEMO_RAW, "--out", DEMO_STORE)  # fmt: skip
    return DEMO_STORE


def write_table(text: str, out: str) -> None:
    """Write a pipeline's markdown table to `out` (relative to the repository) and print it."""
    path = REPO / out
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(f"\n{text}\nwritten to {out}")
