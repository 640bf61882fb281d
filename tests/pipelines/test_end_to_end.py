"""Both packages joined only by the store, through the console commands a user types.

Synthetic NTU files -> `skelprep build` -> `stgnode train` -> `stgnode evaluate`, and the same on
a few real MSR Action3D sequences (../shared/realdata), one short epoch each: the wiring of the
whole product, not its accuracy (the full runs are the pipelines `just demo` / `just real-msr`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr

BIN = Path(sys.executable).parent
TINY_MODEL = [
    *("--set", "model.channels=[8, 16]", "--set", "model.strides=[1, 2]"),
    *("--set", "data.window=16", "--set", "data.num_workers=0", "--set", "train.batch_size=8"),
    *("--set", "train.tensorboard=false", "--epochs", "1", "--quiet"),
]


def cli(*argv: object) -> subprocess.CompletedProcess:
    """Run a console script of this venv; fail the test with its output when it fails."""
    proc = subprocess.run([str(BIN / str(argv[0])), *map(str, argv[1:])], capture_output=True,
                          text=True)  # fmt: skip
    assert proc.returncode == 0, f"{argv}: {proc.stdout}\n{proc.stderr}"
    return proc


def train_and_evaluate(store: Path, run: Path, config: str) -> tuple[dict, str]:
    """Train one epoch of a tiny stg-node on `store`, evaluate it; metrics.json and the output."""
    cli("stgnode", "train", "--store", store, "--config", config, "--out", run, *TINY_MODEL)
    printed = cli("stgnode", "evaluate", run, "--store", store).stdout
    return json.loads((run / "eval" / "metrics.json").read_text()), printed


def check_outputs(store: Path, run: Path, metrics: dict, split: str) -> None:
    """Every test sample of the store was scored once, with the store's class names."""
    root = zarr.open_group(str(store), mode="r")
    test = root[f"splits/{split}/test"][:]
    scores = np.load(run / "eval" / "scores.npz")
    assert metrics["num_samples"] == len(test) == len(scores["sample"])
    assert sorted(scores["sample"].tolist()) == sorted(root["sample"][:][test].tolist())
    assert metrics["num_classes"] == root.attrs["num_classes"]
    assert metrics["test_classes"] == len(np.unique(root["label"][:][test]))
    assert (run / "eval" / "confusion.png").stat().st_size > 0
    assert 0.0 <= metrics["top1"] <= metrics["top5"] <= 1.0


@pytest.mark.slow
def test_synthetic_ntu_raw_to_evaluated_model(tmp_path: Path) -> None:
    raw, store = tmp_path / "raw", tmp_path / "ntu.zarr"
    cli("skelprep", "synth", "--format", "ntu", "--out", raw, "--classes", "3", "--subjects", "4",
        "--cameras", "1", "--repetitions", "2")  # fmt: skip
    cli("skelprep", "build", "--dataset", "ntu60", "--raw", raw, "--out", store,
        "--max-frames", "60", "--quiet")  # fmt: skip
    cli("skelprep", "validate", store)
    metrics, printed = train_and_evaluate(store, tmp_path / "run", "demo")
    check_outputs(store, tmp_path / "run", metrics, "xsub")
    # The ntu60 store of 3 synthetic actions says how many of its classes the test part holds.
    assert metrics["test_classes"] == 3 and "3 of the store's 60 classes" in printed


@pytest.mark.realdata
@pytest.mark.slow
def test_real_msr_raw_to_evaluated_model(realdata: Path, tmp_path: Path) -> None:
    """Two sequences of 4 actions per subject 1-4, linked (never copied) from ../shared."""
    source = realdata / "skyleBrains_covMSRAction3D"
    raw = tmp_path / "raw"
    raw.mkdir()
    for action in (1, 2, 3, 4):
        for subject in (1, 2, 3, 4):
            for path in sorted(source.glob(f"a{action:02d}_s{subject:02d}_e*_skeleton3D.txt"))[:2]:
                (raw / path.name).symlink_to(path)
    shutil.copy(source / "files_used_in_cvpr12_paper.txt", raw)  # the sample list, no data
    store = tmp_path / "msr.zarr"
    cli("skelprep", "build", "--dataset", "msr3d", "--raw", raw, "--out", store,
        "--max-frames", "80", "--max-bodies", "1", "--quiet")  # fmt: skip
    cli("skelprep", "validate", store)
    root = zarr.open_group(str(store), mode="r")
    assert root.attrs["layout"]["name"] == "msr20" and root["joints"].shape[1:] == (3, 80, 20, 1)
    metrics, _ = train_and_evaluate(store, tmp_path / "run", "msr3d-xsub")
    check_outputs(store, tmp_path / "run", metrics, "xsub")
