"""Official train/test splits as data: NTU60 xsub/xview, NTU120 xsub/xset, MSR Action3D xsub and
AS1-AS3, and the train/val split of Kinetics and imported ST-GCN arrays.

A split rule maps (meta arrays by field, 0-based labels) to a boolean "is training" mask, plus an
optional "belongs to this protocol" mask (MSR's action subsets). `*_splits` functions have the
signature `DatasetSpec.splits` expects and return sorted int64 index arrays.
"""

from __future__ import annotations

from collections.abc import Callable

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
    "official": {
        "official": (_member("subset", frozenset({SUBSET_CODES["train"]})), _everything),
    },
}


def apply_rules(protocol: str, meta: Meta, labels: np.ndarray) -> Splits:
    """Evaluate the rules of `protocol` (a key of SPLIT_RULES) into sorted int64 index pairs."""
    labels = np.asarray(labels)
    out: Splits = {}
    for name, (is_train, belongs) in SPLIT_RULES[protocol].items():
        train_mask = np.asarray(is_train(meta, labels), dtype=bool)
        in_protocol = np.asarray(belongs(meta, labels), dtype=bool)
        out[name] = (
            np.flatnonzero(train_mask & in_protocol).astype(np.int64),
            np.flatnonzero(~train_mask & in_protocol).astype(np.int64),
        )
    return out


def ntu60_splits(meta: Meta, labels: np.ndarray, names: list[str]) -> Splits:
    """NTU RGB+D 60: xsub (training subjects table) and xview (training cameras 2, 3)."""
    return apply_rules("ntu60", meta, labels)


def ntu120_splits(meta: Meta, labels: np.ndarray, names: list[str]) -> Splits:
    """NTU RGB+D 120: xsub (training subjects table) and xset (even setups train)."""
    return apply_rules("ntu120", meta, labels)


def msr3d_splits(meta: Meta, labels: np.ndarray, names: list[str]) -> Splits:
    """MSR Action3D: xsub (odd subjects train, all 20 actions) and AS1-AS3 with the same subjects."""
    return apply_rules("msr3d", meta, labels)


def official_splits(meta: Meta, labels: np.ndarray, names: list[str]) -> Splits:
    """Datasets shipped as train/val files (Kinetics, ST-GCN arrays): {"official": (train, val)}."""
    return apply_rules("official", meta, labels)
