"""`just real-ucla` end to end on a few dozen real NW-UCLA files, one tiny epoch per run, so that
the pipeline (build, per-stream training, fusion, the xview-dedup figure, the table) cannot rot.
Its accuracy is not the point: the full runs are `just real-ucla`."""

from __future__ import annotations

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
    store, runs, table = tmp_path / "ucla.zarr", tmp_path / "runs", tmp_path / "table.md"
    argv = [sys.executable, str(REPO / "pipelines" / "real_ucla.py"), "--raw", str(raw.parent),
            "--store", str(store), "--runs", str(runs), "--out", str(table), "--seeds", "0",
            "--streams", "joint,bone-motion", "--epochs", "1", "--jobs", "2"]  # fmt: skip
    for item in TINY:
        argv += ["--set", item]
    proc = subprocess.run(argv, cwd=REPO, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "2 one-frame sequences kept" in proc.stdout  # the build summary's reader notes

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
    assert f"{len(test)} test sequences ({len(dedup_test)} without the view copies)" in text
    assert "| stg-node | fused (sum of logits) | 0 |" in text and "xview-dedup top-1" in text
    assert "CTR-GCN" in text and "from memory, unverified" in text
