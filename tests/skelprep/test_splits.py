"""Official splits: published sizes on the real NTU60 index and agreement with CrosSCLR's lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelprep import safe_pickle
from skelprep.readers.ntu import ID_FIELDS, parse_sample_id
from skelprep.splits import msr3d_splits, ntu60_splits, ntu120_splits, official_splits


def _ntu_meta(names: list[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    fields = [parse_sample_id(n.removesuffix(".skeleton")) for n in names]
    meta = {f: np.array([x[f] for x in fields]) for f in ID_FIELDS}
    return meta, meta["action"] - 1


def _sizes(splits: dict) -> dict[str, tuple[int, int]]:
    return {name: (len(train), len(test)) for name, (train, test) in splits.items()}


@pytest.mark.realdata
def test_ntu60_published_split_sizes(realdata: Path) -> None:
    names = (realdata / "microsoft_SGN/skes_available_name.txt").read_text().split()
    assert len(names) == 56578
    meta, labels = _ntu_meta(names)
    splits = ntu60_splits(meta, labels, names)
    official = {name: size for name, size in _sizes(splits).items() if not name.endswith("-val")}
    assert official == {"xsub": (40091, 16487), "xview": (37646, 18932)}
    for train, test in splits.values():
        assert train.dtype == np.int64 and np.all(np.diff(train) > 0)
        assert len(np.intersect1d(train, test)) == 0


@pytest.mark.realdata
@pytest.mark.parametrize("protocol", ["xsub", "xview"])
def test_agrees_with_crossclr_a023_lists(realdata: Path, protocol: str) -> None:
    folder = realdata / "sangoncalves_CrosSCLR" / protocol
    train, _ = safe_pickle.load(folder / "train_label.pkl")
    test, _ = safe_pickle.load(folder / "val_label.pkl")
    names = sorted(train + test)
    meta, labels = _ntu_meta(names)
    ours_train, ours_test = ntu60_splits(meta, labels, names)[protocol]
    assert {names[i] for i in ours_train} == set(train)
    assert {names[i] for i in ours_test} == set(test)


def test_ntu120_xsub_extends_ntu60_and_xset_takes_even_setups() -> None:
    names = ["S001C001P001R001A001", "S002C001P003R001A001", "S018C001P045R001A061",
             "S019C001P044R001A061"]  # fmt: skip
    meta, labels = _ntu_meta(names)
    splits = ntu120_splits(meta, labels, names)
    assert splits["xsub"][0].tolist() == [0, 2] and splits["xsub"][1].tolist() == [1, 3]
    assert splits["xset"][0].tolist() == [1, 2] and splits["xset"][1].tolist() == [0, 3]


def test_msr_action_sets_use_the_subject_split() -> None:
    subjects = np.array([1, 2, 1, 2, 3])
    labels = np.array([1, 1, 0, 0, 19])  # actions 2, 2, 1, 1, 20
    splits = msr3d_splits({"subject": subjects, "episode": subjects}, labels, [""] * 5)
    assert splits["xsub"][0].tolist() == [0, 2, 4] and splits["xsub"][1].tolist() == [1, 3]
    assert splits["as1"][0].tolist() == [0, 4] and splits["as1"][1].tolist() == [1]
    assert splits["as2"][0].tolist() == [2] and splits["as2"][1].tolist() == [3]


def test_official_split_uses_subset_codes() -> None:
    splits = official_splits({"subset": np.array([1, 0, 0, 1])}, np.zeros(4), [""] * 4)
    assert splits["official"][0].tolist() == [1, 2] and splits["official"][1].tolist() == [0, 3]
