"""Exact resume: a run stopped (or SIGKILLed mid-epoch) and resumed ends with bit-identical weights.

Also: a checkpoint of another model or config is refused naming what differs, a half-written
checkpoint (`.tmp`, truncated file) is never loaded, and a failed save keeps the previous one.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from stgnode import checkpoint as ckpt
from stgnode.config import merge_overrides
from stgnode.killpoint import KILL_ENV
from stgnode.train import run_training

EPOCHS = 3
# the CLI flags that give exactly `resume_config` below
CLI_SETS = [
    "model.channels=[8, 16]",
    "model.strides=[1, 2]",
    "model.dropout=0.0",
    "data.window=16",
    "data.num_workers=0",
    "train.batch_size=32",
    "train.tensorboard=false",
    "schedule.warmup_epochs=1",
    "train.mixup=0.2",  # draws from the global generator every step: the resume must restore it
    "train.ema_epochs=2",  # an average of every step's weights: the resume must restore it too
]


@pytest.fixture(scope="module")
def resume_config() -> dict:
    from stgnode.config import load_config

    return load_config("demo", [*CLI_SETS, f"train.epochs={EPOCHS}", "train.deterministic=true"])


@pytest.fixture(scope="module")
def reference(store: Path, resume_config: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Model weights of an uninterrupted 3-epoch deterministic run."""
    run = tmp_path_factory.mktemp("reference")
    run_training(resume_config, store, run, progress=False)
    return weights(run / ckpt.LAST)


@pytest.fixture(scope="module")
def one_epoch_run(
    store: Path, resume_config: dict, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A run of the same config stopped after its first epoch (copy it before resuming)."""
    run = tmp_path_factory.mktemp("one-epoch")
    run_training(merge_overrides(resume_config, ["train.epochs=1"]), store, run, progress=False)
    return run


def weights(path: Path) -> dict:
    """The trained weights and their EMA (keys `ema.*`) of a checkpoint."""
    state = ckpt.load_checkpoint(path)
    return {**state["model"], **{f"ema.{k}": v for k, v in state["ema"].items()}}


def assert_same_weights(expected: dict, actual: dict) -> None:
    assert expected.keys() == actual.keys()
    different = [k for k in expected if not torch.equal(expected[k], actual[k])]
    assert not different, f"tensors differ after resume: {different}"


def test_stop_after_one_epoch_then_resume_is_bit_identical(
    store, resume_config, reference, one_epoch_run, tmp_path
):
    shutil.copytree(one_epoch_run, tmp_path, dirs_exist_ok=True)
    assert ckpt.load_checkpoint(tmp_path / ckpt.LAST)["epoch"] == 1
    result = run_training(resume_config, store, tmp_path, resume=True, progress=False)
    assert result["epoch"] == EPOCHS
    assert_same_weights(reference, weights(tmp_path / ckpt.LAST))
    epochs = [line for line in (tmp_path / "metrics.jsonl").read_text().splitlines() if line]
    assert len(epochs) == EPOCHS


def _cli(store: Path, out: Path, *extra: str) -> list[str]:
    sets = [arg for s in CLI_SETS for arg in ("--set", s)]
    return [sys.executable, "-m", "stgnode", "train", "--store", str(store), "--config", "demo",
            "--out", str(out), "--epochs", str(EPOCHS), "--deterministic", "--quiet", *sets, *extra]  # fmt: skip


@pytest.fixture(scope="module")
def cli_reference(store: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Weights of the same command run uninterrupted, in a fresh process like the killed one:
    a run inside this long-lived pytest process is no reference for bit equality, since earlier
    tests leave process-wide state behind (in a full suite its weights differed in the last bits)."""
    out = tmp_path_factory.mktemp("cli-reference") / "run"
    done = subprocess.run(_cli(store, out), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return weights(out / ckpt.LAST)


# 64 training samples at batch 32: 2 steps per epoch. (kill point, epoch of last.pt after it)
KILLS = [("step:3", 1), ("saved:2", 1), ("step:6", 2)]


@pytest.mark.slow
@pytest.mark.parametrize(("kill", "stopped_at"), KILLS)
def test_sigkill_then_resume_is_bit_identical(store, cli_reference, tmp_path, kill, stopped_at):
    """A real SIGKILL mid-epoch or mid-save, then `--resume`: the same weights as no kill."""
    out = tmp_path / "run"
    env = {**os.environ, KILL_ENV: kill}
    killed = subprocess.run(_cli(store, out), env=env, capture_output=True, text=True)
    assert killed.returncode == -signal.SIGKILL, f"the kill at {kill} did not fire: {killed.stderr}"
    assert ckpt.load_checkpoint(out / ckpt.LAST)["epoch"] == stopped_at
    done = subprocess.run(_cli(store, out, "--resume"), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (out / "last.pt.tmp").exists(), "the resumed run left a temp checkpoint behind"
    assert_same_weights(cli_reference, weights(out / ckpt.LAST))
    records = [line for line in (out / "metrics.jsonl").read_text().splitlines() if line]
    assert [json.loads(r)["epoch"] for r in records] == list(range(1, EPOCHS + 1)), (
        "a re-run epoch left a duplicate or missing metrics line"
    )


def test_other_model_or_config_is_refused_naming_the_difference(
    store, resume_config, one_epoch_run
):
    cases = {
        "model.name=st-gcn": "variant",
        "model.channels=[8, 8]": "channels",
        "data.stream=bone": "stream",
        "optim.lr=0.2": "optim.lr",
    }
    for override, named in cases.items():
        with pytest.raises(ckpt.CheckpointError, match=named) as info:
            run_training(
                merge_overrides(resume_config, [override]),
                store,
                one_epoch_run,
                resume=True,
                progress=False,
            )
        assert "another model or config" in str(info.value)


def test_existing_run_without_resume_is_refused(store, resume_config, one_epoch_run):
    with pytest.raises(ckpt.CheckpointError, match="--resume"):
        run_training(resume_config, store, one_epoch_run, progress=False)


def test_half_written_checkpoints_are_never_loaded(tmp_path, monkeypatch):
    good = {"model": {"w": torch.arange(4.0)}, "epoch": 1}
    path = tmp_path / ckpt.LAST
    ckpt.save_checkpoint(path, good)

    # a kill between writing the temp file and renaming it: the old file stays, .tmp is refused
    def killed(src, dst):
        raise KeyboardInterrupt("killed before rename")

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(KeyboardInterrupt):
        ckpt.save_checkpoint(path, {"model": {"w": torch.zeros(4)}, "epoch": 2})
    monkeypatch.undo()
    assert (tmp_path / "last.pt.tmp").exists()
    assert ckpt.load_checkpoint(path)["epoch"] == 1
    with pytest.raises(ckpt.CheckpointError, match="unfinished write"):
        ckpt.load_checkpoint(tmp_path / "last.pt.tmp")
    # a truncated file (torn write without our temp+rename) is refused, not half-read
    data = path.read_bytes()
    truncated = tmp_path / "truncated.pt"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ckpt.CheckpointError, match="not a readable stgnode checkpoint"):
        ckpt.load_checkpoint(truncated)


def test_checkpoint_that_runs_code_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))

    path = tmp_path / "evil.pt"
    torch.save({"format": ckpt.FORMAT, "payload": Evil()}, path)
    with pytest.raises(ckpt.CheckpointError):
        ckpt.load_checkpoint(path)
    assert not (tmp_path / "pwned").exists()


def test_a_run_directory_gives_last_pt_and_best_pt_only_by_name(tmp_path):
    """best.pt is chosen on the test split, so nothing reads it unless asked for by name."""
    (tmp_path / "best.pt").write_bytes(b"")
    with pytest.raises(ckpt.CheckpointError, match="holds no last.pt"):
        ckpt.find_checkpoint(tmp_path)
    assert ckpt.find_checkpoint(tmp_path, prefer=ckpt.BEST) == tmp_path / "best.pt"
    (tmp_path / "last.pt").write_bytes(b"")
    assert ckpt.find_checkpoint(tmp_path) == tmp_path / "last.pt"
    assert ckpt.find_checkpoint(tmp_path / "best.pt") == tmp_path / "best.pt"


@pytest.mark.parametrize(
    ("schedule", "trained_epochs", "first_changed"),
    [
        ("cosine", 2, 11),  # past the warm-up: the longer cosine decays more slowly from step 11
        ("cosine", 1, None),  # still in the warm-up, which does not depend on the length
        ("step", 2, None),  # the step schedule decays at fixed epochs whatever the length
    ],
)
def test_epochs_change_on_resume_only_while_the_trained_rates_stay(
    schedule, trained_epochs, first_changed, tmp_path
):
    from stgnode.config import load_config

    before = load_config(
        "demo", [f'schedule.name="{schedule}"', "schedule.warmup_epochs=1", "train.epochs=3"]
    )
    state = {"config": before, "scheduler": {"last_epoch": trained_epochs * 10}}
    ckpt.check_schedule_kept(state, before, 10, tmp_path / "last.pt")  # same length: always fine
    longer = merge_overrides(before, ["train.epochs=6"])
    if first_changed is None:
        ckpt.check_schedule_kept(state, longer, 10, tmp_path / "last.pt")
        return
    expected = f"train.epochs 3 -> 6 changes the learning rate of step {first_changed} of the 20"
    with pytest.raises(ckpt.CheckpointError, match=expected):
        ckpt.check_schedule_kept(state, longer, 10, tmp_path / "last.pt")
