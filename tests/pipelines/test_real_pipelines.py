"""`just real-ucla` and `just real-msr` end to end on a few dozen real files each, one tiny epoch
per run, so that the pipelines (build, per-stream training, fusion, the xview-dedup figure, the
table) cannot rot. Their accuracy is not the point: the full runs are the `just` commands."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import zarr

REPO = Path(__file__).resolve().parents[2]
TINY = ["model.channels=[8, 16]", "model.strides=[1, 2]", "data.window=16",
        "data.num_workers=0", "train.batch_size=8", "train.tensorboard=false"]  # fmt: skip


def run_pipeline(script: str, raw: Path, tmp_path: Path, *options: str) -> str:
    """Run `pipelines/<script>` on `raw` with a tiny model and one epoch per run, its store, runs
    and table under tmp_path; fail with its output when it fails. Returns the printed output."""
    argv = [sys.executable, str(REPO / "pipelines" / script), "--raw", str(raw),
            "--store", str(tmp_path / "store.zarr"), "--runs", str(tmp_path / "runs"),
            "--out", str(tmp_path / "table.md"), "--seeds", "0", "--epochs", "1", "--jobs", "2",
            *options]  # fmt: skip
    for item in TINY:
        argv += ["--set", item]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.mark.realdata
@pytest.mark.slow
def test_real_ucla_pipeline_on_a_subset(realdata: Path, tmp_path: Path) -> None:
    """Actions 1-3 of subjects 1, 5 and 9 (repetition 1, every view) and the one-frame pair:
    training views 1-2, test view 3, val subject 5, and a02/a03 view-3 copies of view 2."""
    source = realdata / "zjyyjz556_ctrgcn" / "NW-UCLA" / "all_sqe"
    raw = tmp_path / "raw" / "all_sqe"
    raw.mkdir(parents=True)
    files = sorted(source.glob("a0[123]_s0[159]_e01_v0?.json")) + sorted(
        source.glob("a02_s09_e04_v0?.json")
    )
    for path in files:
        shutil.copy(path, raw)
    printed = run_pipeline("real_ucla.py", raw.parent, tmp_path, "--streams", "joint,bone-motion")
    assert "2 one-frame sequences kept" in printed  # the build summary's reader notes
    store, runs, table = tmp_path / "store.zarr", tmp_path / "runs", tmp_path / "table.md"

    root = zarr.open_group(str(store), mode="r")
    names = root["sample"][:]
    train, test = (root[f"splits/xview/{part}"][:] for part in ("train", "test"))
    dedup_test = root["splits/xview-dedup/test"][:]
    assert len(train) + len(test) == len(files) == len(names)
    assert all(str(n).endswith("_v03") for n in names[test])
    copies = sorted(str(n) for n in np.setdiff1d(names[test], names[dedup_test]))
    assert copies and all(n[:3] in ("a02", "a03") for n in copies)
    assert np.array_equal(root["splits/xview-dedup/train"][:], train)

    fused = runs / "xview" / "stg-node-fused-seed0"
    assert fused.with_suffix(".npz").is_file() and fused.with_suffix(".png").stat().st_size > 0
    for stream in ("joint", "bone-motion"):
        assert (runs / "xview" / f"stg-node-{stream}-seed0" / "eval" / "confusion.png").is_file()
    text = table.read_text()
    assert (
        f"1 epoch, {len(test)} test sequences ({len(dedup_test)} without the view copies)" in text
    )
    assert "| stg-node | fused (sum of logits) | 0 |" in text and "xview-dedup top-1" in text
    assert "CTR-GCN" in text and "from memory, unverified" in text


@pytest.mark.realdata
@pytest.mark.slow
def test_real_msr_pipeline_runs_the_baseline_on_a_subset(realdata: Path, tmp_path: Path) -> None:
    """Repetitions 1 and 2 of actions 1-3 by subjects 1-4 (linked, never copied), st-gcn on
    two streams: the baseline is the same pipeline with `--model st-gcn`; 2 test-time views."""
    source = realdata / "skyleBrains_covMSRAction3D"
    raw = tmp_path / "raw"
    raw.mkdir()
    for path in sorted(source.glob("a0[123]_s0[1234]_e0[12]_skeleton3D.txt")):
        (raw / path.name).symlink_to(path)
    shutil.copy(source / "files_used_in_cvpr12_paper.txt", raw)  # the sample list, no data
    run_pipeline(
        "real_msr.py", raw, tmp_path, "--model", "st-gcn", "--streams", "joint,bone", "--views", "2"
    )

    root = zarr.open_group(str(tmp_path / "store.zarr"), mode="r")
    test = root["splits/xsub/test"][:]
    assert len(test) and all(int(str(n)[5:7]) % 2 == 0 for n in root["sample"][:][test])
    runs = tmp_path / "runs" / "xsub"
    for stream in ("joint", "bone"):
        metrics = json.loads(
            (runs / f"st-gcn-{stream}-seed0" / "eval" / "metrics.json").read_text()
        )
        assert metrics["model"] == "st-gcn" and metrics["num_samples"] == len(test)
        assert metrics["views"] == 2
    assert (runs / "st-gcn-fused-seed0.png").stat().st_size > 0
    assert any((runs / "plots").glob("*.png"))  # the semantic adjacency
    text = (tmp_path / "table.md").read_text()
    assert "| st-gcn | fused (sum of logits) | 0 |" in text and "xsub top-1" in text
    assert "Moving Pose" in text and "dedup" not in text
    assert "logits averaged over 2 test-time clips" in text
