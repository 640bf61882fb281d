"""Official train/test splits as data: NTU60 xsub/xview, NTU120 xsub/xset, MSR Action3D xsub and
AS1-AS3, NW-UCLA xview and xview-dedup, and the train/val split of Kinetics and imported ST-GCN
arrays; plus a `<split>-val` split for every split with subject structure, and NW-UCLA's
`xview-val-view` (view 1 trains, view 2 tests: a held-out camera inside xview's train part).

A split rule maps (meta arrays by field, 0-based labels) to a boolean "is training" mask, plus an
optional "belongs to this protocol" mask (MSR's action subsets). `*_splits` functions have the
signature `DatasetSpec.splits` expects and return sorted int64 index arrays.

Validation splits: `<split>-val` partitions the TRAIN part of `<split>` by holding out a fixed
set of training subjects (VAL_HOLD_OUT; for view and setup splits, subjects within the training
views), so that recipes are chosen without touching the test part. `add_validation_splits` is
the one helper every dataset uses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

NTU60_XSUB_TRAIN_SUBJECTS = frozenset(
    {1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38}
)
NTU120_XSUB_TRAIN_SUBJECTS = NTU60_XSUB_TRAIN_SUBJECTS | frozenset(
    {
        45,
        46,
        47,
        49,
        50,
        52,
        53,
        54,
        55,
        56,
        57,
        58,
        59,
        70,
        74,
        78,
        80,
        81,
        82,
        83,
        84,
        85,
        86,
        89,
        91,
        92,
        93,
        94,
        95,
        97,
        98,
        100,
        103,
    }  # fmt: skip
)
NTU_XVIEW_TRAIN_CAMERAS = frozenset({2, 3})
MSR_XSUB_TRAIN_SUBJECTS = frozenset({1, 3, 5, 7, 9})
MSR_ACTION_SETS: dict[str, frozenset[int]] = {
    "as1": frozenset({2, 3, 5, 6, 10, 13, 18, 20}),
    "as2": frozenset({1, 4, 7, 8, 9, 11, 12, 14}),
    "as3": frozenset({6, 14, 15, 16, 17, 18, 19, 20}),
}
"""MSR Action3D action subsets (1-based action numbers), as in Li et al. (CVPR-W 2010)."""

NWUCLA_XVIEW_TRAIN_VIEWS = frozenset({1, 2})
NWUCLA_VAL_VIEW_TRAIN = frozenset({1})
"""`xview-val-view` trains on view 1 and tests on view 2: a validation split that, like the
test protocol, holds out a camera (xview-val holds out subjects, seen from the training views)."""

SUBSET_CODES: dict[str, int] = {"train": 0, "val": 1}
"""Values of the `subset` meta field of datasets that ship their own train/val files."""

Meta = dict[str, np.ndarray]
Mask = Callable[[Meta, np.ndarray], np.ndarray]
Splits = dict[str, tuple[np.ndarray, np.ndarray]]


def _member(field: str, values: frozenset[int]) -> Mask:
    """A mask: meta[field] is one of `values`."""
    return lambda meta, labels: np.isin(meta[field], sorted(values))


def _even(field: str) -> Mask:
    """A mask: meta[field] is even."""
    return lambda meta, labels: np.asarray(meta[field]) % 2 == 0


def _action_in(actions: frozenset[int]) -> Mask:
    """A mask: the 1-based action (label + 1) is one of `actions`."""
    return lambda meta, labels: np.isin(np.asarray(labels) + 1, sorted(actions))


def _everything(meta: Meta, labels: np.ndarray) -> np.ndarray:
    return np.ones(len(labels), dtype=bool)


def _not_a_copy_in_test(view_field: str, train_views: frozenset[int]) -> Mask:
    """A mask leaving out test samples whose content copies a training view's file
    (meta `copy_of_view`, set by the reader from the files' content)."""

    def mask(meta: Meta, labels: np.ndarray) -> np.ndarray:
        train = np.isin(meta[view_field], sorted(train_views))
        return train | ~np.isin(meta["copy_of_view"], sorted(train_views))

    return mask


SPLIT_RULES: dict[str, dict[str, tuple[Mask, Mask]]] = {
    "ntu60": {
        "xsub": (_member("subject", NTU60_XSUB_TRAIN_SUBJECTS), _everything),
        "xview": (_member("camera", NTU_XVIEW_TRAIN_CAMERAS), _everything),
    },
    "ntu120": {
        "xsub": (_member("subject", NTU120_XSUB_TRAIN_SUBJECTS), _everything),
        "xset": (_even("setup"), _everything),
    },
    "msr3d": {
        "xsub": (_member("subject", MSR_XSUB_TRAIN_SUBJECTS), _everything),
        **{
            name: (_member("subject", MSR_XSUB_TRAIN_SUBJECTS), _action_in(actions))
            for name, actions in MSR_ACTION_SETS.items()
        },
    },
    "nwucla": {
        "xview": (_member("view", NWUCLA_XVIEW_TRAIN_VIEWS), _everything),
        "xview-dedup": (
            _member("view", NWUCLA_XVIEW_TRAIN_VIEWS),
            _not_a_copy_in_test("view", NWUCLA_XVIEW_TRAIN_VIEWS),
        ),
        "xview-val-view": (
            _member("view", NWUCLA_VAL_VIEW_TRAIN),
            _member("view", NWUCLA_XVIEW_TRAIN_VIEWS),
        ),
    },
    "official": {
        "official": (_member("subset", frozenset({SUBSET_CODES["train"]})), _everything),
    },
}

VAL_EVERY = 5
"""Validation holds out every VAL_EVERY-th training subject (in ascending order): a fifth."""


@dataclass(frozen=True)
class HoldOut:
    """Which training samples a `<split>-val` split tests on: those whose meta `field` is one of
    `values`. `values=None` picks every VAL_EVERY-th distinct value of the train part in
    ascending order (the 5th, 10th, ...), for data whose subjects are not known in advance."""

    field: str
    values: frozenset[int] | None = None


def _every_fifth(subjects: frozenset[int] | range) -> frozenset[int]:
    """The 5th, 10th, ... of `subjects` in ascending order (how VAL_HOLD_OUT's sets were made)."""
    return frozenset(sorted(subjects)[VAL_EVERY - 1 :: VAL_EVERY])


VAL_HOLD_OUT: dict[str, dict[str, HoldOut]] = {
    # NTU60 xsub 8 16 27 38; xview (all 40 subjects in cameras 2, 3) 5 10 ... 40.
    "ntu60": {
        "xsub": HoldOut("subject", _every_fifth(NTU60_XSUB_TRAIN_SUBJECTS)),
        "xview": HoldOut("subject", _every_fifth(range(1, 41))),
    },
    # NTU120 xsub: 8 16 27 38 50 56 74 83 91 97; xset (subjects 1-106 in even setups) 5 ... 105.
    "ntu120": {
        "xsub": HoldOut("subject", _every_fifth(NTU120_XSUB_TRAIN_SUBJECTS)),
        "xset": HoldOut("subject", _every_fifth(range(1, 107))),
    },
    # MSR Action3D xsub: subject 9 (train on 1 3 5 7).
    "msr3d": {"xsub": HoldOut("subject", _every_fifth(MSR_XSUB_TRAIN_SUBJECTS))},
    # NW-UCLA: subjects 5 and 10 within views 1 and 2 (both splits share that train part).
    "nwucla": {
        "xview": HoldOut("subject", _every_fifth(range(1, 11))),
        "xview-dedup": HoldOut("subject", _every_fifth(range(1, 11))),
    },
}
"""Per protocol and split, the training subjects `<split>-val` tests on (fixed, so that a store
built from a subset of the raw files holds out the same people)."""


def add_validation_splits(splits: Splits, meta: Meta, hold_out: Mapping[str, HoldOut]) -> Splits:
    """`splits` plus `<name>-val` for every `name` in `hold_out`: the train part of `name` split
    into (samples not held out, samples held out). The val test part is thus disjoint from the
    test part of `name`, and both val parts lie inside its train part.
    """
    out = dict(splits)
    for name, rule in hold_out.items():
        if name not in splits:
            continue
        train = splits[name][0]
        values = np.asarray(meta[rule.field])[train]
        chosen = rule.values
        if chosen is None:
            chosen = _every_fifth(frozenset(int(v) for v in np.unique(values)))
        held = np.isin(values, sorted(chosen))
        out[f"{name}-val"] = (train[~held].astype(np.int64), train[held].astype(np.int64))
    return out


def apply_rules(protocol: str, meta: Meta, labels: np.ndarray) -> Splits:
    """Evaluate the rules of `protocol` (a key of SPLIT_RULES) into sorted int64 index pairs,
    with the protocol's validation splits (VAL_HOLD_OUT)."""
    labels = np.asarray(labels)
    out: Splits = {}
    for name, (is_train, belongs) in SPLIT_RULES[protocol].items():
        train_mask = np.asarray(is_train(meta, labels), dtype=bool)
        in_protocol = np.asarray(belongs(meta, labels), dtype=bool)
        out[name] = (
            np.flatnonzero(train_mask & in_protocol).astype(np.int64),
            np.flatnonzero(~train_mask & in_protocol).astype(np.int64),
        )
    return add_validation_splits(out, meta, VAL_HOLD_OUT.get(protocol, {}))


def ntu60_splits(meta: Meta, labels: np.ndarray, names: list[str]) -> Splits:
    """NTU RGB+D 60: xsub (training subjects table) and xview (training cameras 2, 3)."""
    return apply_rules("ntu60", meta, labels)


def ntu120_splits(meta: Meta, labels: np.ndarray, names: list[str]) -> Splits:
    """NTU RGB+D 120: xsub (training subjects table) and xset (even setups train)."""
    return apply_rules("ntu120", meta, labels)


def msr3d_splits(meta: Meta, labels: np.ndarray, names: list[str]) -> Splits:
    """MSR Action3D: xsub (odd subjects train, all 20 actions) and AS1-AS3 with the same subjects."""
    return apply_rules("msr3d", meta, labels)


def nwucla_splits(meta: Meta, labels: np.ndarray, names: list[str]) -> Splits:
    """NW-UCLA: xview (views 1, 2 train, view 3 test) and xview-dedup (its test part without the
    view-3 files whose content copies a training view's file)."""
    return apply_rules("nwucla", meta, labels)


def official_splits(meta: Meta, labels: np.ndarray, names: list[str]) -> Splits:
    """Datasets shipped as train/val files (Kinetics, ST-GCN arrays): {"official": (train, val)}."""
    return apply_rules("official", meta, labels)


def training_subsets(splits: Splits, labels: np.ndarray, per_class: int) -> dict[str, np.ndarray]:
    """Split -> the sorted training indices whose DTW distances shape its semantic adjacency:
    all of them, or the first `per_class` (in store order) of each class when per_class > 0."""
    used = {}
    for name, (train, _) in splits.items():
        train = np.sort(np.asarray(train, dtype=np.int64))
        if per_class:
            keep = [train[labels[train] == c][:per_class] for c in np.unique(labels[train])]
            train = np.sort(np.concatenate(keep)) if keep else train
        used[name] = train
    return used
