"""The store contract: the validator accepts a built store and names the first violation of
each rule of docs/store-format.md; refusals (partial, other schema); the row writer; the
source fingerprint."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from skelprep.build import BuildParams, BuildRequest, build_store
from skelprep.cli import main
from skelprep.errors import StoreError
from skelprep.fingerprint import source_fingerprint
from skelprep.store import chunk_sources, consolidate, validate_store
from skelprep.synth import generate


@pytest.fixture(scope="module")
def valid_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("store")
    raw = root / "raw"
    generate("ntu", raw, seed=3, classes=2, subjects=4, cameras=2, repetitions=1)
    params = BuildParams(dataset="ntu60", chunk_size=4, max_frames=120)
    build_store(BuildRequest(params, raw, root / "s.zarr", workers=1, progress=False))
    return root / "s.zarr"


def _attr(key: str, value: object) -> Callable[[zarr.Group], None]:
    def mutate(group: zarr.Group) -> None:
        if value is None:
            del group.attrs[key]
        else:
            group.attrs[key] = value

    return mutate


def _set(path: str, index: tuple, value: float) -> Callable[[zarr.Group], None]:
    def mutate(group: zarr.Group) -> None:
        group[path][index] = value

    return mutate


def _replace(path: str, make: Callable[[zarr.Group], np.ndarray]) -> Callable[[zarr.Group], None]:
    def mutate(group: zarr.Group) -> None:
        data = make(group)
        group.create_array(path, data=data, chunks=data.shape or (1,), overwrite=True)

    return mutate


def _pad_nonzero(group: zarr.Group) -> None:
    frames = int(group["frames"][2])
    group["joints"][2, 0, frames, 3, 0] = 0.5


def _asymmetric(group: zarr.Group) -> None:
    a = group["semantic/xsub/adjacency"][:]
    a[0, 5], a[5, 0] = 1.0, 0.0
    group["semantic/xsub/adjacency"][:] = a


MUTATIONS: dict[str, tuple[Callable[[zarr.Group], None], str]] = {
    "other schema": (_attr("schema", "skelprep.store/2"), "has schema 'skelprep.store/2'"),
    "missing attr": (_attr("stats", None), "missing root attribute 'stats'"),
    "skip record": (
        _attr("skipped", [{"file": "a.skeleton", "line": None, "reason": "x", "malformed": "no"}]),
        "skipped[0]['malformed'] must be a boolean, got 'no'",
    ),
    "num_classes": (_attr("num_classes", 7), "num_classes 7 != len(classes)"),
    "frames zero": (_set("frames", (3,), 0), "frames[3] = 0 outside 1..120"),
    "frames long": (_set("frames", (1,), 121), "frames[1] = 121 outside 1..120"),
    "label range": (_set("label", (4,), 99), "label[4] = 99 outside 0..59"),
    "padding": (_pad_nonzero, "joints[2] is not zero past frames[2]"),
    "nan": (_set("joints", (5, 1, 0, 0, 0), np.nan), "non-finite value in rows 4..7"),
    "frames dtype": (
        _replace("frames", lambda g: g["frames"][:].astype(np.int64)),
        "'frames' has dtype int64, expected int32",
    ),
    "split order": (
        _replace("splits/xsub/train", lambda g: g["splits/xsub/train"][:][::-1].copy()),
        "splits/xsub/train is not strictly increasing",
    ),
    "split overlap": (
        _replace(
            "splits/xview/test",
            lambda g: np.union1d(g["splits/xview/test"][:], g["splits/xview/train"][:1]),
        ),
        "splits/xview: train and test share samples",
    ),
    "split range": (
        _replace("splits/xsub/test", lambda g: np.append(g["splits/xsub/test"][:], 10_000)),
        "splits/xsub/test holds indices outside",
    ),
    "asymmetric": (_asymmetric, "semantic/xsub/adjacency is not symmetric"),
    "diagonal": (_set("semantic/xview/adjacency", (3, 3), 0.0), "lacks a unit diagonal"),
    "weights": (_set("semantic/xview/adjacency", (1, 2), 0.5), "values other than 0 and 1"),
}


def test_built_store_is_valid(valid_store: Path) -> None:
    assert validate_store(valid_store)
    result = CliRunner().invoke(main, ["validate", str(valid_store)])
    assert result.exit_code == 0 and "valid skelprep.store/1" in result.output
    info = CliRunner().invoke(main, ["info", str(valid_store)])
    assert info.exit_code == 0
    for expected in ("skelprep.store/1", "ntu60", "xsub", "xview", "sparsity", "max_frames"):
        assert expected in info.output


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_validator_names_the_violation(valid_store: Path, tmp_path: Path, name: str) -> None:
    store = tmp_path / "s.zarr"
    shutil.copytree(valid_store, store)
    mutate, message = MUTATIONS[name]
    mutate(zarr.open_group(str(store), mode="r+", use_consolidated=False))
    consolidate(store)
    with pytest.raises(StoreError) as caught:
        validate_store(store)
    assert message in str(caught.value) and str(store) in str(caught.value)
    result = CliRunner().invoke(main, ["validate", str(store)])
    assert result.exit_code != 0 and message in result.output


def test_partial_and_non_stores_are_refused(valid_store: Path, tmp_path: Path) -> None:
    partial = tmp_path / "s.zarr.partial"
    shutil.copytree(valid_store, partial)
    for path, message in [
        (partial, "unfinished build"),
        (tmp_path / "absent.zarr", "no such store directory"),
        (tmp_path, "not a Zarr v3 group"),
    ]:
        with pytest.raises(StoreError, match=message):
            validate_store(path)
        result = CliRunner().invoke(main, ["info", str(path)])
        assert result.exit_code != 0 and message in result.output


def test_chunk_sources_cover_every_row_once_in_order() -> None:
    counts = [3, 0, 5, 1, 2]  # staged batches shortened by skipped samples, one empty
    plan = chunk_sources(counts, 4)
    assert plan == [
        [(0, 0, 3), (2, 0, 1)],
        [(2, 1, 5)],
        [(3, 0, 1), (4, 0, 2)],
    ]
    rows = [list(range(sum(counts[:k]), sum(counts[: k + 1]))) for k in range(len(counts))]
    filled = [r for chunk in plan for k, lo, hi in chunk for r in rows[k][lo:hi]]
    assert filled == list(range(sum(counts)))
    assert all(sum(hi - lo for _, lo, hi in chunk) == 4 for chunk in plan[:-1])
    assert chunk_sources([], 4) == [] and chunk_sources([0, 0], 4) == []


def test_fingerprint_follows_the_raw_files(tmp_path: Path) -> None:
    for name in ("a.skeleton", "sub/b.skeleton"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("1\n")
    first = source_fingerprint(tmp_path)
    assert first["file_count"] == 2 and first == source_fingerprint(tmp_path)
    (tmp_path / ".hidden").write_text("editor state")
    assert source_fingerprint(tmp_path) == first
    stat = (tmp_path / "a.skeleton").stat()
    os.utime(tmp_path / "a.skeleton", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    touched = source_fingerprint(tmp_path)
    assert touched["fingerprint"] != first["fingerprint"]
    (tmp_path / "c.skeleton").write_text("1\n")
    assert source_fingerprint(tmp_path)["file_count"] == 3
