"""`stgnode predict` on the tiny store: it agrees with `evaluate` and with the ONNX export,
classifies an unlabelled store (which train and evaluate refuse), and refuses a store whose
samples do not fit the model, naming each difference."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from stgnode.checkpoint import load_for_inference
from stgnode.commands.evaluate import evaluate as evaluate_command
from stgnode.commands.export import export as export_command
from stgnode.commands.predict import predict as predict_command
from stgnode.config import merge_overrides
from stgnode.fuse import load_scores
from stgnode.metrics import softmax
from stgnode.train import run_training


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _predict(run: Path, store: Path, out: Path, *extra: str) -> str:
    result = CliRunner().invoke(
        predict_command, [str(run), "--store", str(store), "--out", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def unlabelled(unique_store, tmp_path_factory) -> Path:
    """The tiny store as recordings to classify: labels -1, no splits, no semantic."""
    copy = shutil.copytree(unique_store, tmp_path_factory.mktemp("new") / "new.zarr")
    root = zarr.open_group(str(copy), mode="r+", use_consolidated=False)
    root["label"][:] = -1
    del root["splits"], root["semantic"]
    root.attrs["labelled"] = False
    zarr.consolidate_metadata(str(copy))
    return copy


def test_predict_on_the_test_split_equals_evaluate(trained_run, unique_store, tmp_path) -> None:
    out = tmp_path / "eval"
    result = CliRunner().invoke(
        evaluate_command, [str(trained_run), "--store", str(unique_store), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    scores = load_scores(out / "scores.npz")
    printed = _predict(
        trained_run, unique_store, tmp_path / "p.csv", "--split", "xsub", "--top-k", "3"
    )
    rows = _rows(tmp_path / "p.csv")
    assert len(rows) == len(scores.sample) and list(rows[0]) == [
        "sample", "label", "class_1", "prob_1", "class_2", "prob_2", "class_3", "prob_3"
    ]  # fmt: skip
    evaluated = dict(zip(scores.sample.tolist(), scores.logits.argmax(axis=1), strict=True))
    for row in rows:
        assert row["class_1"] == scores.classes[evaluated[row["sample"]]]
        probs = [float(row[f"prob_{k}"]) for k in (1, 2, 3)]
        assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1.0001
    top1 = json.loads((out / "metrics.json").read_text())["top1"]
    assert f"top-1 {top1:.2%} against the store's labels" in printed


def test_predict_views_are_evaluates_clips_whichever_samples_are_classified(
    trained_run, unique_store, tmp_path
) -> None:
    out = tmp_path / "eval"
    args = [str(trained_run), "--store", str(unique_store), "--views", "3", "--out", str(out)]
    result = CliRunner().invoke(evaluate_command, args)
    assert result.exit_code == 0, result.output
    scores = load_scores(out / "scores.npz")
    printed = _predict(
        trained_run, unique_store, tmp_path / "split.csv", "--split", "xsub", "--views", "3"
    )
    assert "3 views averaged" in printed
    evaluated = dict(zip(scores.sample.tolist(), softmax(scores.logits), strict=True))
    split_rows = {r["sample"]: r for r in _rows(tmp_path / "split.csv")}
    assert split_rows.keys() == evaluated.keys()
    for sample, row in split_rows.items():
        best = int(np.argmax(evaluated[sample]))
        assert row["class_1"] == scores.classes[best]
        assert float(row["prob_1"]) == pytest.approx(evaluated[sample][best], abs=1e-4)
    # A sample's clips are the same when the whole store is classified (no split).
    _predict(trained_run, unique_store, tmp_path / "all.csv", "--views", "3")
    all_rows = {r["sample"]: r for r in _rows(tmp_path / "all.csv")}
    assert len(all_rows) == 96
    for sample, row in split_rows.items():
        assert all_rows[sample] == row
    # ... and they are not one clip's predictions.
    _predict(trained_run, unique_store, tmp_path / "one.csv", "--split", "xsub")
    one_clip = {r["sample"]: r["prob_1"] for r in _rows(tmp_path / "one.csv")}
    assert one_clip != {sample: row["prob_1"] for sample, row in split_rows.items()}


def test_onnx_predictions_equal_torch(trained_run, unique_store, tmp_path) -> None:
    model = tmp_path / "model.onnx"
    result = CliRunner().invoke(
        export_command, [str(trained_run), "--onnx", str(model), "--no-check"]
    )
    assert result.exit_code == 0, result.output
    _predict(trained_run, unique_store, tmp_path / "torch.csv", "--views", "2")
    printed = _predict(
        trained_run, unique_store, tmp_path / "onnx.csv", "--onnx", str(model), "--views", "2"
    )
    assert "onnxruntime, 2 views averaged" in printed
    torch_rows, onnx_rows = _rows(tmp_path / "torch.csv"), _rows(tmp_path / "onnx.csv")
    assert len(torch_rows) == 96  # every sample of the store without --split
    assert [r["class_1"] for r in onnx_rows] == [r["class_1"] for r in torch_rows]
    for a, b in zip(torch_rows, onnx_rows, strict=True):
        assert abs(float(a["prob_1"]) - float(b["prob_1"])) < 1e-3


def test_unlabelled_store_is_classified_and_refused_by_train_and_evaluate(
    trained_run, unlabelled, tiny_config, tmp_path
) -> None:
    printed = _predict(trained_run, unlabelled, tmp_path / "new.csv", "--top-k", "1")
    rows = _rows(tmp_path / "new.csv")
    assert len(rows) == 96 and all(row["label"] == "" for row in rows)
    assert "against the store's labels" not in printed and "classified 96 samples" in printed
    result = CliRunner().invoke(evaluate_command, [str(trained_run), "--store", str(unlabelled)])
    assert result.exit_code != 0 and "is unlabelled" in result.output
    assert "stgnode predict" in result.output
    with pytest.raises(ValueError, match="unlabelled.*stgnode predict"):
        run_training(tiny_config, unlabelled, tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "last.pt").exists()


def test_store_that_does_not_fit_is_refused_naming_each_difference(
    trained_run, unlabelled, tmp_path
) -> None:
    other = shutil.copytree(unlabelled, tmp_path / "other.zarr")
    root = zarr.open_group(str(other), mode="r+", use_consolidated=False)
    layout = dict(root.attrs["layout"])
    root.attrs.update({"channels": ["x", "y", "score"], "layout": {**layout, "centre": 0}})
    zarr.consolidate_metadata(str(other))
    result = CliRunner().invoke(
        predict_command, [str(trained_run), "--store", str(other), "--out", str(tmp_path / "x")]
    )
    assert result.exit_code != 0 and "does not fit the model" in result.output
    assert "channels: store has ['x', 'y', 'score']" in result.output
    assert "centre joint: store has 0, the model 1" in result.output
    assert not (tmp_path / "x").exists()


def test_joint_and_motion_stream_trains_evaluates_and_predicts(
    unique_store, tiny_config, tmp_path
) -> None:
    """The 6-channel stream end to end: the model is built for 2C inputs, and the checkpoint
    alone (no config, no stream option) makes `evaluate` and `predict` feed it the same."""
    config = merge_overrides(tiny_config, ["data.stream=joint+motion", "train.epochs=1"])
    run = tmp_path / "run"
    run_training(config, unique_store, run, progress=False)
    model, saved, info = load_for_inference(run / "last.pt")
    context = info["context"]
    assert context["in_channels"] == 6 and saved["data"]["stream"] == "joint+motion"
    assert model.data_bn.num_features == 6 * context["num_joints"] * context["num_bodies"]
    result = CliRunner().invoke(
        evaluate_command, [str(run), "--store", str(unique_store), "--out", str(tmp_path / "e")]
    )
    assert result.exit_code == 0, result.output
    scores = load_scores(tmp_path / "e" / "scores.npz")
    _predict(run, unique_store, tmp_path / "p.csv", "--split", "xsub")
    predicted = {row["sample"]: row["class_1"] for row in _rows(tmp_path / "p.csv")}
    evaluated = dict(zip(scores.sample.tolist(), scores.logits.argmax(axis=1), strict=True))
    assert predicted == {s: scores.classes[k] for s, k in evaluated.items()}
