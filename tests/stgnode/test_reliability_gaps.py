"""Reliability refusals of `stgnode train` / `stgnode evaluate`, through the CLI on real files:

- `--resume` against a store of another layout (edges, centre), other classes or another
  semantic adjacency: refused naming what differs, the checkpoint left as it was;
- a `last.pt` that is not ours (another format, not a checkpoint at all, truncated, or a
  pickle that runs code): refused, never silently restarted from scratch, no code run;
- a store of another schema, an unfinished `.partial` build, a missing store: refused by
  both commands before any work.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr
from click.testing import CliRunner

from stgnode import checkpoint as ckpt
from stgnode.commands.evaluate import evaluate as evaluate_command
from stgnode.commands.train import train as train_command
from stgnode.config import load_config
from tests.stgnode.conftest import write_store

SETS = [
    "model.channels=[8, 16]",
    "model.strides=[1, 2]",
    "model.dropout=0.0",
    "data.window=16",
    "data.num_workers=0",
    "train.batch_size=16",
    "train.tensorboard=false",
    "schedule.warmup_epochs=1",
]


def train_cli(store: Path, out: Path, *extra: str) -> tuple[int, str]:
    sets = [arg for s in SETS for arg in ("--set", s)]
    args = ["--store", str(store), "--config", "demo", "--out", str(out), "--quiet", *sets, *extra]
    result = CliRunner().invoke(train_command, args)
    return result.exit_code, result.output


def evaluate_cli(run: Path, store: Path) -> tuple[int, str]:
    result = CliRunner().invoke(evaluate_command, [str(run), "--store", str(store)])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def one_epoch_run(store: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A stg-node run trained for one epoch through the CLI (copy it before resuming)."""
    run = tmp_path_factory.mktemp("run") / "run"
    code, out = train_cli(store, run, "--epochs", "1")
    assert code == 0, out
    return run


def _consolidate(path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(str(path))


def _layout(change: Callable[[dict], None]) -> Callable[[zarr.Group], None]:
    def mutate(root: zarr.Group) -> None:
        layout = dict(root.attrs["layout"])
        change(layout)
        root.attrs["layout"] = layout

    return mutate


def _reroute(layout: dict) -> None:
    layout["edges"] = [[2, 11] if e == [0, 11] else e for e in layout["edges"]]


def _more_classes(root: zarr.Group) -> None:
    root.attrs["classes"] = [*root.attrs["classes"], "jump"]


def _other_semantic(root: zarr.Group) -> None:
    adjacency = root["semantic/xsub/adjacency"][:]
    adjacency[0, 5] = adjacency[5, 0] = 1.0 - adjacency[0, 5]
    root["semantic/xsub/adjacency"][:] = adjacency


STORE_CHANGES: dict[str, tuple[Callable[[zarr.Group], None], str]] = {
    "layout edges": (_layout(_reroute), "edges: checkpoint"),
    "layout centre": (_layout(lambda layout: layout.update(centre=0)), "centre: checkpoint 1 != now 0"),
    "classes": (_more_classes, "num_classes: checkpoint 4 != now 5"),
    "semantic adjacency": (_other_semantic, "semantic_sha256: checkpoint"),
}  # fmt: skip


@pytest.mark.parametrize("change", list(STORE_CHANGES))
def test_resume_on_a_store_of_another_layout_is_refused(
    store: Path, one_epoch_run: Path, tmp_path: Path, change: str
) -> None:
    mutate, named = STORE_CHANGES[change]
    other = shutil.copytree(store, tmp_path / "other.zarr")
    mutate(zarr.open_group(str(other), mode="r+", use_consolidated=False))
    _consolidate(other)
    run = shutil.copytree(one_epoch_run, tmp_path / "run")
    before = (run / ckpt.LAST).read_bytes()
    code, out = train_cli(other, run, "--epochs", "2", "--resume")
    assert code != 0 and "was written by another model or config" in out and named in out, out
    assert (run / ckpt.LAST).read_bytes() == before
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1


def _foreign_format(path: Path) -> None:
    torch.save({"model": {"w": torch.zeros(2)}, "epoch": 1}, path)


def _not_a_checkpoint(path: Path) -> None:
    path.write_text("epoch 1\n")


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


class _Evil:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


FOREIGN_LAST: dict[str, tuple[Callable[[Path], None], str]] = {
    "another format": (_foreign_format, "is not a stgnode.checkpoint/1 checkpoint"),
    "not a checkpoint": (_not_a_checkpoint, "is not a readable stgnode checkpoint"),
    "truncated": (_truncated, "is not a readable stgnode checkpoint"),
}


@pytest.mark.parametrize("kind", list(FOREIGN_LAST))
def test_a_last_pt_that_is_not_ours_is_refused_not_restarted(
    store: Path, one_epoch_run: Path, tmp_path: Path, kind: str
) -> None:
    write, message = FOREIGN_LAST[kind]
    run = shutil.copytree(one_epoch_run, tmp_path / "run")
    (run / ckpt.BEST).unlink()
    write(run / ckpt.LAST)
    before = (run / ckpt.LAST).read_bytes()
    code, out = train_cli(store, run, "--epochs", "2", "--resume")
    assert code != 0 and message in out and str(run / ckpt.LAST) in out, out
    assert (run / ckpt.LAST).read_bytes() == before, "a refused checkpoint was overwritten"
    code, out = evaluate_cli(run, store)
    assert code != 0 and message in out, out


def test_a_checkpoint_that_runs_code_is_refused_by_both_commands(
    store: Path, one_epoch_run: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pwned"
    run = shutil.copytree(one_epoch_run, tmp_path / "run")
    for name in (ckpt.LAST, ckpt.BEST):
        torch.save({"format": ckpt.FORMAT, "model": _Evil(marker)}, run / name)
    code, out = train_cli(store, run, "--epochs", "2", "--resume")
    assert code != 0 and "is not a readable stgnode checkpoint" in out, out
    code, out = evaluate_cli(run, store)
    assert code != 0 and "is not a readable stgnode checkpoint" in out, out
    assert not marker.exists(), "loading the checkpoint ran code"


@pytest.fixture(scope="module")
def bad_stores(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, str]]:
    root = tmp_path_factory.mktemp("bad-stores")
    partial = write_store(root / "ntu60.zarr.partial", n=16)
    return {
        "other schema": (
            write_store(root / "old.zarr", n=16, schema="skelprep.store/0"),
            "has schema 'skelprep.store/0'; this stgnode reads only 'skelprep.store/1'",
        ),
        "newer schema": (
            write_store(root / "new.zarr", n=16, schema="skelprep.store/2"),
            "has schema 'skelprep.store/2'",
        ),
        "unfinished build": (partial, "is an unfinished build (*.partial), not a store"),
        "missing": (root / "absent.zarr", "does not exist (build it with `skelprep build`)"),
        "not a store": (root, "is not a Zarr group"),
    }


@pytest.mark.parametrize(
    "kind", ["other schema", "newer schema", "unfinished build", "missing", "not a store"]
)
def test_stores_that_are_not_usable_are_refused_by_both_commands(
    bad_stores, one_epoch_run: Path, tmp_path: Path, kind: str
) -> None:
    path, message = bad_stores[kind]
    code, out = train_cli(path, tmp_path / "run", "--epochs", "1")
    assert code != 0 and message in out and str(path) in out, out
    assert not (tmp_path / "run" / ckpt.LAST).exists()
    code, out = evaluate_cli(one_epoch_run, path)
    assert code != 0 and message in out, out


def test_resume_after_refusals_still_continues_the_run(store: Path, one_epoch_run: Path, tmp_path):
    """The refusals above leave a run resumable: the untouched copy resumes to epoch 2."""
    run = shutil.copytree(one_epoch_run, tmp_path / "run")
    code, out = train_cli(store, run, "--epochs", "2", "--resume")
    assert code == 0, out
    assert ckpt.load_checkpoint(run / ckpt.LAST)["epoch"] == 2
    assert np.isfinite(ckpt.load_checkpoint(run / ckpt.LAST)["best_top1"])


def test_a_checkpoint_older_than_a_base_key_resumes_under_its_default(tmp_path: Path) -> None:
    """A run saved before `data.mirror` existed was trained without a mirror: read back, resuming
    it with the default is no difference, asking for a mirror is one."""
    config = load_config("demo")
    old = {**config, "data": {k: v for k, v in config["data"].items() if k != "mirror"}}
    path = tmp_path / "last.pt"
    ckpt.save_checkpoint(path, {"signature": {}, "config": old})
    state = ckpt.load_checkpoint(path)
    ckpt.check_compatible(state, {}, config, path)
    mirrored = {**config, "data": {**config["data"], "mirror": 0.5}}
    with pytest.raises(ckpt.CheckpointError, match="data.mirror: checkpoint 0.0 != now 0.5"):
        ckpt.check_compatible(state, {}, mirrored, path)
