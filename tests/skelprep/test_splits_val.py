"""Validation splits: every `<split>-val` partitions the train part of `<split>` and never touches
its test part, on synthetic NTU files, the real NTU60 index, MSR Action3D and NW-UCLA."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from skelprep.readers import ReadOptions, get_dataset
from skelprep.readers.ntu import ID_FIELDS, parse_sample_id
from skelprep.splits import (
    VAL_HOLD_OUT,
    HoldOut,
    add_validation_splits,
    msr3d_splits,
    ntu60_splits,
    ntu120_splits,
)

BIN = Path(sys.executable).parent


def check_val_splits(splits: dict, expected: set[str]) -> None:
    """Each `<name>-val` in `expected` exists, its parts are disjoint, sorted int64, cover the
    train part of `<name>` exactly, share nothing with its test part, and neither is empty."""
    found = {name for name in splits if name.endswith("-val")}
    assert found == expected
    for name in found:
        train, test = splits[name.removesuffix("-val")]
        val_train, val_test = splits[name]
        for part in (val_train, val_test):
            assert part.dtype == np.int64 and np.all(np.diff(part) > 0) and len(part) > 0
        assert len(np.intersect1d(val_train, val_test)) == 0
        assert np.array_equal(np.union1d(val_train, val_test), train)
        assert (
            len(np.intersect1d(val_test, test)) == 0 and len(np.intersect1d(val_train, test)) == 0
        )


def _ntu_meta(names: list[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    fields = [parse_sample_id(n.removesuffix(".skeleton")) for n in names]
    meta = {f: np.array([x[f] for x in fields]) for f in ID_FIELDS}
    return meta, meta["action"] - 1


def test_val_splits_on_synthetic_ntu_files(tmp_path: Path) -> None:
    out = tmp_path / "raw"
    subprocess.run([str(BIN / "skelprep"), "synth", "--format", "ntu", "--out", str(out),
                    "--classes", "1", "--subjects", "40", "--cameras", "3", "--repetitions", "1",
                    "--empty-fraction", "0"], check=True, capture_output=True)  # fmt: skip
    names = sorted(p.name for p in out.rglob("*.skeleton"))
    assert len(names) == 120
    meta, labels = _ntu_meta(names)
    check_val_splits(ntu60_splits(meta, labels, names), {"xsub-val", "xview-val"})
    check_val_splits(ntu120_splits(meta, labels, names), {"xsub-val", "xset-val"})
    held = ntu60_splits(meta, labels, names)["xsub-val"][1]
    assert set(meta["subject"][held]) == {8, 16, 27, 38}


@pytest.mark.realdata
def test_val_splits_on_the_real_ntu60_index(realdata: Path) -> None:
    names = (realdata / "microsoft_SGN/skes_available_name.txt").read_text().split()
    meta, labels = _ntu_meta(names)
    check_val_splits(ntu60_splits(meta, labels, names), {"xsub-val", "xview-val"})


@pytest.mark.realdata
def test_val_split_on_real_msr(realdata: Path) -> None:
    refs = (
        get_dataset("msr3d").discover(realdata / "skyleBrains_covMSRAction3D", ReadOptions()).refs
    )
    subjects = np.array([int(r.name[5:7]) for r in refs])
    labels = np.array([int(r.name[1:3]) - 1 for r in refs])
    splits = msr3d_splits({"subject": subjects}, labels, [r.name for r in refs])
    check_val_splits(splits, {"xsub-val"})
    assert set(subjects[splits["xsub-val"][1]]) == {9}


@pytest.mark.realdata
def test_val_splits_on_real_nwucla(realdata: Path) -> None:
    spec = get_dataset("nwucla")
    folder = realdata / "zjyyjz556_ctrgcn" / "NW-UCLA" / "all_sqe"
    names = sorted(p.stem for p in folder.glob("*.json"))
    fields = np.array([[int(n[1:3]), int(n[5:7]), int(n[9:11]), int(n[13:15])] for n in names])
    # copy_of_view is not needed here: the val parts come from the shared train part.
    meta = {"action": fields[:, 0], "subject": fields[:, 1], "episode": fields[:, 2],
            "view": fields[:, 3], "copy_of_view": np.zeros(len(names), dtype=int)}  # fmt: skip
    splits = spec.splits(meta, np.zeros(len(names), dtype=int), names)
    check_val_splits(splits, {"xview-val", "xview-dedup-val"})
    val_test = splits["xview-val"][1]
    assert set(meta["subject"][val_test]) == {5, 10} and set(meta["view"][val_test]) == {1, 2}
    # xview-val-view: the held-out camera inside the same train part (view 1 trains, 2 tests).
    view_train, view_test = splits["xview-val-view"]
    assert np.array_equal(np.union1d(view_train, view_test), splits["xview"][0])
    assert len(np.intersect1d(view_train, view_test)) == 0
    assert set(meta["view"][view_train]) == {1} and set(meta["view"][view_test]) == {2}
    assert (len(view_train), len(view_test)) == (516, 504)


def test_hold_out_without_a_table_takes_every_fifth_training_subject() -> None:
    """The rule other readers (own data with a subject column) use when no table fits."""
    subjects = np.repeat(np.arange(1, 13), 2)  # 12 subjects, 2 samples each
    splits = {"official": (np.flatnonzero(subjects <= 10), np.flatnonzero(subjects > 10))}
    out = add_validation_splits(splits, {"subject": subjects}, {"official": HoldOut("subject")})
    check_val_splits(out, {"official-val"})
    assert set(subjects[out["official-val"][1]]) == {5, 10}


def test_every_table_entry_names_a_split_of_its_protocol() -> None:
    from skelprep.splits import SPLIT_RULES

    for protocol, table in VAL_HOLD_OUT.items():
        assert set(table) <= set(SPLIT_RULES[protocol])
        assert all(rule.values for rule in table.values())
