"""Opening a store: the schema check, the refusals, and what a run reads from it."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import zarr

from stgnode.store import StoreError, model_context, open_store
from tests.stgnode.conftest import CLASSES, EDGES, write_store


def test_reads_layout_classes_splits_and_semantic(store: Path):
    info = open_store(store)
    assert info.classes == tuple(CLASSES) and info.num_classes == 4
    assert info.shape == (96, 3, 40, 12, 2) and info.chunk == 16
    assert info.edges == [tuple(e) for e in EDGES] and info.centre == 1
    assert info.splits == ("xsub", "xview")
    train, test = info.split_indices("xsub", "train"), info.split_indices("xsub", "test")
    assert len(train) == 64 and len(test) == 32 and not set(train) & set(test)
    adjacency = info.semantic("xsub")
    assert adjacency.shape == (12, 12) and np.all(np.diag(adjacency) == 1)
    context = model_context(info, "xsub", semantic=True, stream="joint")
    assert (
        context["num_joints"] == 12 and context["num_bodies"] == 2 and context["in_channels"] == 3
    )
    assert (
        model_context(info, "xview", semantic=False, stream="joint")["semantic_adjacency"] is None
    )


def test_other_schema_is_refused(tmp_path):
    path = write_store(tmp_path / "old.zarr", n=16, schema="skelprep.store/0")
    with pytest.raises(StoreError, match=r"schema 'skelprep.store/0'.*only 'skelprep.store/1'"):
        open_store(path)


def test_missing_pieces_are_refused_naming_store_and_what(store: Path, tmp_path):
    info = open_store(store)
    with pytest.raises(
        StoreError, match=rf"{store}.*no semantic adjacency for split 'xview'.*skelprep semantic"
    ):
        info.semantic("xview")
    with pytest.raises(StoreError, match=r"no split 'xset'; it has \['xsub', 'xview'\]"):
        info.split_indices("xset", "train")
    with pytest.raises(StoreError, match="does not exist"):
        open_store(tmp_path / "absent.zarr")
    with pytest.raises(StoreError, match="unfinished build"):
        open_store(tmp_path / "ntu60.zarr.partial")
    broken = tmp_path / "broken.zarr"
    shutil.copytree(store, broken)
    del zarr.open_group(str(broken), mode="r+", use_consolidated=False)["label"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(str(broken))
    with pytest.raises(StoreError, match="lacks label"):
        open_store(broken)
