"""Training end to end on a real store: learning, run outputs, CLI, refusals, schedule, GPU options."""

from __future__ import annotations

import json
import math
import tomllib

import pytest
import torch
from click.testing import CliRunner

from stgnode.checkpoint import load_for_inference
from stgnode.commands.train import train
from stgnode.config import load_config, merge_overrides
from stgnode.data import make_loader
from stgnode.distributed import DistContext
from stgnode.epoch import evaluate
from stgnode.schedule import lr_factor
from stgnode.train import run_training

CPU = DistContext(0, 1, 0, torch.device("cpu"))


@pytest.fixture(scope="module")
def trained(store, tmp_path_factory) -> tuple:
    """A 5-epoch stg-node run on the tiny store, with TensorBoard on."""
    config = load_config(
        "demo",
        ["model.channels=[8, 16]", "model.strides=[1, 2]", "model.dropout=0.0", "data.window=16",
         "data.num_workers=0", "train.batch_size=16", "train.epochs=5", "optim.lr=0.1"],
    )  # fmt: skip
    run = tmp_path_factory.mktemp("trained")
    return config, run, run_training(config, store, run, progress=False)


def test_learns_the_four_motions(trained):
    config, run, result = trained
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in records] == list(range(1, 6))
    assert records[-1]["train_loss"] < 0.7 * records[0]["train_loss"]
    assert records[-1]["train_top1"] > 0.6
    assert result["test_top1"] > 0.25 + 0.1, "test top-1 not above chance (0.25)"
    assert result["test_loss"] < records[0]["test_loss"]


def test_run_directory_holds_config_metrics_tensorboard_checkpoints(trained):
    config, run, result = trained
    assert tomllib.loads((run / "config.toml").read_text()) == config
    keys = {
        "epoch",
        "lr",
        "train_loss",
        "train_top1",
        "test_loss",
        "test_top1",
        "test_top5",
        "samples_per_s",
        "seconds",
    }
    record = json.loads((run / "metrics.jsonl").read_text().splitlines()[-1])
    assert keys <= set(record) and record["samples_per_s"] > 0
    assert list((run / "tb").glob("events.out.tfevents.*"))
    assert (run / "best.pt").is_file() and (run / "last.pt").is_file()
    assert not list(run.glob("*.tmp"))


def test_load_for_inference_reproduces_the_recorded_accuracy(trained, store):
    config, run, result = trained
    model, saved, info = load_for_inference(run / "last.pt")
    assert (
        saved == config
        and info["classes"] == ["wave", "squat", "turn", "step"]
        and info["split"] == "xsub"
    )
    assert not model.training
    scores = evaluate(model, make_loader(store, "xsub", "test", config, False), config, CPU)
    assert scores["top1"] == pytest.approx(result["test_top1"])
    from_dir, _, _ = load_for_inference(run)  # a run directory gives its last.pt
    assert all(
        torch.equal(v, p)
        for v, p in zip(from_dir.state_dict().values(), model.state_dict().values(), strict=True)
    )


def test_cli_trains_and_reports(store, tmp_path):
    out = tmp_path / "cli"
    args = ["--store", str(store), "--out", str(out), "--epochs", "1", "--batch-size", "32", "--model", "st-gcn",
            "--stream", "bone", "--quiet", "--set", "model.channels=[8]", "--set", "model.strides=[1]",
            "--set", "data.window=8", "--set", "data.num_workers=0", "--set", "train.tensorboard=false"]  # fmt: skip
    result = CliRunner().invoke(train, args)
    assert result.exit_code == 0, result.output
    assert "test top-1" in result.output and str(out) in result.output
    saved = tomllib.loads((out / "config.toml").read_text())
    assert saved["model"]["name"] == "st-gcn" and saved["data"]["stream"] == "bone"


@pytest.mark.parametrize("key", ["train.label_smoothing", "train.mixup"])
def test_loss_options_reach_the_training_loss(store, tmp_path, key):
    """Deterministic runs with the same seed are bit-identical (the resume tests rely on it), so
    the only thing that can make their losses differ is the option reaching the loss."""
    losses = {}
    for value in (0.0, 0.5):
        out = tmp_path / f"run{value}"
        args = ["--store", str(store), "--out", str(out), "--epochs", "1", "--model", "st-gcn",
                "--quiet", "--deterministic", "--set", "model.channels=[8]", "--set", "model.strides=[1]",
                "--set", "data.window=8", "--set", "data.num_workers=0", "--set", "train.tensorboard=false",
                "--set", f"{key}={value}"]  # fmt: skip
        result = CliRunner().invoke(train, args)
        assert result.exit_code == 0, result.output
        record = json.loads((out / "metrics.jsonl").read_text().splitlines()[0])
        losses[value] = record["train_loss"]
    assert losses[0.5] != losses[0.0], losses


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--amp", "fp16", "--device", "cpu"], "--amp fp16 needs CUDA"),
        (["--split", "xview"], "no semantic adjacency for split 'xview'"),
        (["--split", "xset"], "no split 'xset'"),
        (["--set", "train.batch_size=1000"], "fewer than one global batch of 1000"),
        (["--set", "optim.lrr=1"], "unknown key 'optim.lrr'"),
        (["--set", "train.label_smoothing=1.0"], "train.label_smoothing must be in [0, 1)"),
        (["--set", "train.mixup=-0.2"], "train.mixup (alpha) must be >= 0"),
        (["--set", "train.ema_epochs=-1"], "train.ema_epochs must be >= 0"),
        (["--model", "no-such-net"], "unknown model 'no-such-net'"),
        (["--set", "model.no_such_option=1"], "unknown model options ['no_such_option']"),
    ],
)
def test_cli_refusals_are_clear(store, tmp_path, args, message):
    result = CliRunner().invoke(
        train, ["--store", str(store), "--out", str(tmp_path / "r"), "--quiet", *args]
    )
    assert result.exit_code != 0 and message in result.output, result.output
    assert isinstance(result.exception, SystemExit), "a user error must not end in a traceback"


def test_cli_keeps_the_traceback_of_a_bug(store, tmp_path, monkeypatch):
    """A KeyError from our own code is a bug: it is not dressed up as a user error."""

    def broken(*args, **kwargs):
        return {}["no such key"]

    monkeypatch.setattr("stgnode.train.run_training", broken)
    result = CliRunner().invoke(train, ["--store", str(store), "--out", str(tmp_path / "r")])
    assert isinstance(result.exception, KeyError), result.output


def test_cli_off_a_terminal_writes_one_line_per_epoch(store, tmp_path):
    """Under a batch scheduler stderr is a file: no progress bar, one summary line per epoch."""
    args = ["--store", str(store), "--out", str(tmp_path / "r"), "--epochs", "2", "--batch-size", "32",
            "--model", "st-gcn", "--set", "model.channels=[8]", "--set", "model.strides=[1]",
            "--set", "data.window=8", "--set", "data.num_workers=0", "--set", "train.tensorboard=false"]  # fmt: skip
    result = CliRunner().invoke(train, args)  # CliRunner's stderr is not a terminal
    assert result.exit_code == 0, result.output
    assert "\r" not in result.output, "progress bar written off a terminal"
    epoch_lines = [line for line in result.output.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in epoch_lines] == ["epoch 1", "epoch 2"], result.output


def test_variants_without_semantic_train_on_a_split_without_it(store, tmp_path, tiny_config):
    config = merge_overrides(
        tiny_config, ["model.name=stg-ode-star", "data.split=xview", "train.epochs=1"]
    )
    assert run_training(config, store, tmp_path, progress=False)["epoch"] == 1


def test_schedules_warm_up_then_decay():
    base = load_config("demo")["schedule"]
    cosine = lr_factor(
        {**base, "warmup_epochs": 2, "min_factor": 0.0}, steps_per_epoch=10, epochs=10
    )
    assert cosine(0) == pytest.approx(base["warmup_start"]) and cosine(10) < cosine(19)
    assert cosine(20) == pytest.approx(1.0) and cosine(99) == pytest.approx(0.0, abs=1e-9)
    assert all(cosine(s) >= cosine(s + 1) for s in range(20, 99))
    step = lr_factor(
        {**base, "name": "step", "warmup_epochs": 0, "milestones": [3, 6], "gamma": 0.1}, 10, 10
    )
    assert [step(s) for s in (0, 29, 30, 59, 60)] == pytest.approx([1, 1, 0.1, 0.1, 0.01])
    with pytest.raises(ValueError, match="unknown schedule 'poly'"):
        lr_factor({**base, "name": "poly"}, 10, 10)
    assert math.isclose(lr_factor(load_config("ntu60-xsub")["schedule"], 100, 80)(500), 1.0)


@pytest.mark.gpu
@pytest.mark.skipif(
    not torch.cuda.is_available(),
    reason="AMP (bf16/fp16) and torch.compile are checked on CUDA only",
)
@pytest.mark.parametrize(
    "options",
    [['train.amp="bf16"'], ['train.amp="fp16"'], ['train.amp="auto"'], ["train.compile=true"]],
)
def test_cuda_amp_and_compile_train(store, tmp_path, tiny_config, options):
    config = merge_overrides(tiny_config, ['train.device="cuda"', "train.epochs=1", *options])
    result = run_training(config, store, tmp_path, progress=False)
    assert math.isfinite(result["train_loss"]) and result["epoch"] == 1
