"""`pipelines/own_data.py` end to end on three MSR actions for one epoch: real recordings
exported with numpy, both imports built, trained, evaluated, new ones classified. The wiring of
the path docs/own-data.md tells users to copy, not its accuracy (`just own-data` measures that).
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest
import zarr

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.realdata
def test_own_data_pipeline_runs_end_to_end(realdata: Path, tmp_path: Path) -> None:
    raw = realdata / "skyleBrains_covMSRAction3D"
    proc = subprocess.run(
        [sys.executable, str(REPO / "pipelines" / "own_data.py"), "--raw", str(raw),
         "--epochs", "1", "--actions", "3", "--work", str(tmp_path / "data"),
         "--runs", str(tmp_path / "runs"), "--out", str(tmp_path / "table.md")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    table = (tmp_path / "table.md").read_text()
    assert "| aligned | 0 | 36 |" in table and "| unaligned | 0 | 36 |" in table
    aligned = zarr.open_group(str(tmp_path / "data" / "aligned.zarr"), mode="r")
    plain = zarr.open_group(str(tmp_path / "data" / "unaligned.zarr"), mode="r")
    assert aligned.attrs["alignment"]["applied"] and not plain.attrs["alignment"]["applied"]
    new = zarr.open_group(str(tmp_path / "data" / "new.zarr"), mode="r")
    assert new.attrs["labelled"] is False and (new["label"][:] == -1).all()
    with open(tmp_path / "runs" / "predictions.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(new["sample"][:]) == 8
    assert {row["class_1"] for row in rows} <= set(aligned.attrs["classes"])
