"""`stgnode evaluate` and `stgnode export` on a run trained for one epoch on the tiny store,
and the PNG figures (confusion matrix, training curves) they write."""

from __future__ import annotations

import json
import re
import shutil
import warnings

import numpy as np
import pytest
import torch
import zarr
from click.testing import CliRunner
from matplotlib.image import imread

from stgnode import checkpoint as ckpt
from stgnode.commands.evaluate import evaluate as evaluate_command
from stgnode.commands.export import export as export_command
from stgnode.config import merge_overrides
from stgnode.data import TEST_VIEW_SEED, make_loader
from stgnode.evaluate import evaluate_run, overlap_warning, predict
from stgnode.fuse import load_scores
from stgnode.metrics import confusion_matrix
from stgnode.plots import (
    DPI,
    confusion_figsize,
    confusion_figure,
    save_confusion_png,
    save_training_curves_png,
)
from stgnode.store import open_store
from stgnode.transforms import Augment, transform_sample

CLASSES = ["wave", "squat", "turn", "step"]  # the tiny store's (tests/stgnode/conftest.py)


def test_evaluate_writes_consistent_outputs(trained_run, unique_store, tmp_path) -> None:
    out = tmp_path / "eval"
    result = CliRunner().invoke(
        evaluate_command, [str(trained_run), "--store", str(unique_store), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    printed = dict(re.findall(r"(top-1|top-5|chance) ([\d.]+)%", result.output))
    metrics = json.loads((out / "metrics.json").read_text())
    scores = load_scores(out / "scores.npz")

    root = zarr.open_group(str(unique_store), mode="r")
    test = root["splits/xsub/test"][:]
    # Every test sample scored exactly once, with its own store label, float32 logits.
    assert sorted(scores.sample.tolist()) == sorted(root["sample"][:][test].tolist())
    by_id = dict(zip(root["sample"][:].tolist(), root["label"][:].tolist(), strict=True))
    assert scores.label.tolist() == [by_id[s] for s in scores.sample.tolist()]
    assert scores.logits.dtype == np.float32 and scores.logits.shape == (len(test), 4)
    assert list(scores.classes) == CLASSES

    # The printed and saved top-1 are the argmax accuracy of the saved logits.
    top1 = float(np.mean(scores.logits.argmax(axis=1) == scores.label))
    assert metrics["top1"] == pytest.approx(top1)
    assert float(printed["top-1"]) == pytest.approx(100 * top1, abs=0.005)
    assert float(printed["chance"]) == 25.0 and metrics["chance"] == 0.25
    assert metrics["top5"] == 1.0  # 4 classes: the true class is always among the best 5
    assert metrics["num_samples"] == len(test) and metrics["split"] == "xsub"
    assert list(metrics["per_class"]) == CLASSES
    confusion = confusion_matrix(scores.label, scores.logits.argmax(axis=1), 4)
    assert metrics["confusion"] == confusion.tolist()
    recall = [metrics["per_class"][name] for name in CLASSES]
    assert metrics["mean_class_accuracy"] == pytest.approx(np.mean(recall))
    assert metrics["params"] > 0 and metrics["checkpoint"].endswith("last.pt")  # the honest default

    height, width, _ = imread(out / "confusion.png").shape
    expected = confusion_figsize(4, max(map(len, CLASSES)))
    assert (width, height) == (round(expected[0] * DPI), round(expected[1] * DPI))
    assert (out / "curves.png").is_file()


def test_evaluate_defaults_to_run_dir_and_can_take_best(trained_run, unique_store) -> None:
    result = CliRunner().invoke(
        evaluate_command, [str(trained_run), "--store", str(unique_store), "--checkpoint", "best"]
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads((trained_run / "eval" / "metrics.json").read_text())
    assert metrics["checkpoint"] == str(trained_run / "best.pt")


def test_evaluate_views_average_fixed_random_crops(trained_run, unique_store, tmp_path) -> None:
    def evaluate(name: str) -> tuple:
        out = tmp_path / name
        args = [str(trained_run), "--store", str(unique_store), "--views", "3", "--out", str(out)]
        result = CliRunner().invoke(evaluate_command, args)
        assert result.exit_code == 0, result.output
        assert "3 views averaged" in result.output
        return json.loads((out / "metrics.json").read_text()), load_scores(out / "scores.npz")

    metrics, scores = evaluate("a")
    assert metrics["views"] == 3
    assert metrics["top1"] == pytest.approx(np.mean(scores.logits.argmax(1) == scores.label))

    # The saved logits are the mean of the three views' logits, row by row.
    model, config, _ = ckpt.load_for_inference(trained_run)
    info = open_store(unique_store)
    per_view = [
        predict(model, make_loader(info, "xsub", "test", config, train=False, view=v), "cpu")[2]
        for v in range(3)
    ]
    np.testing.assert_allclose(scores.logits, np.mean(per_view, axis=0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(per_view[0], per_view[1])  # view 1 is a crop, view 0 is not

    # The views come from a fixed stream: the same logits again, whatever the run's seed was.
    assert np.array_equal(evaluate("b")[1].logits, scores.logits)
    other_seed = merge_overrides(config, ["train.seed=7"])
    views = [
        make_loader(info, "xsub", "test", c, train=False, view=2) for c in (config, other_seed)
    ]
    (first, _, index), (second, _, _) = (next(iter(loader)) for loader in views)
    assert torch.equal(first, second)

    # A view is a temporal crop as in training (crop_min), without the rotation and scale.
    dataset = views[0].dataset
    raw = zarr.open_array(str(unique_store / "joints"), mode="r")[int(index[0])]
    data = config["data"]

    def crop(aug: Augment) -> np.ndarray:
        rng = np.random.default_rng([TEST_VIEW_SEED, 2, int(index[0])])
        return transform_sample(raw, dataset.frames[int(index[0])], data["window"],
                                data["stream"], dataset.parents, dataset.channels, rng, aug)  # fmt: skip

    np.testing.assert_array_equal(first[0].numpy(), crop(Augment(data["crop_min"], 0.0, 0.0)))
    assert data["crop_min"] < 1 and data["rotate_deg"] > 0  # so the two differ
    assert not np.allclose(first[0].numpy(), crop(Augment(data["crop_min"], data["rotate_deg"], 0)))
    with pytest.raises(ValueError, match="train=False"):
        make_loader(info, "xsub", "train", config, train=True, view=1)


@pytest.mark.parametrize(
    ("attr", "value", "message"),
    [
        ("classes", ["wave", "squat", "jump", "step"], "classes: store has"),
        ("channels", ["x", "y", "score"], "channels: store has"),
        ("layout", {"name": "other12", "edges": [[0, 1]], "centre": 0}, "layout: store has"),
    ],
)
def test_store_with_other_classes_or_layout_is_refused(
    trained_run, unique_store, tmp_path, attr, value, message
):
    other = shutil.copytree(unique_store, tmp_path / "other.zarr")
    root = zarr.open_group(str(other), mode="r+", use_consolidated=False)
    root.attrs[attr] = value
    zarr.consolidate_metadata(str(other))
    result = CliRunner().invoke(evaluate_command, [str(trained_run), "--store", str(other)])
    assert result.exit_code != 0
    assert "does not match the store" in result.output and message in result.output


def _rebuilt(store, path, fingerprint: str, rename: bool = False):
    """A copy of `store` as another build would write it: another source fingerprint, and
    (with `rename`) other sample ids."""
    copy = shutil.copytree(store, path)
    root = zarr.open_group(str(copy), mode="r+", use_consolidated=False)
    root.attrs["source"] = {**root.attrs["source"], "fingerprint": fingerprint}
    if rename:
        ids = [f"other_{s}" for s in root["sample"][:].tolist()]
        del root["sample"]
        root.create_array("sample", shape=(len(ids),), dtype=str)[:] = np.array(ids, dtype=object)
    zarr.consolidate_metadata(str(copy))
    return open_store(copy)


def test_overlap_with_training_is_counted_from_sample_ids(trained_run, unique_store, tmp_path):
    """A rebuilt store holding the same training samples (another fingerprint) raises no
    warning; another split's test part is checked sample by sample; a store whose ids differ
    falls back to the fingerprint warning."""
    _, _, saved = ckpt.load_for_inference(ckpt.find_checkpoint(trained_run), "cpu")
    assert saved["split"] == "xsub" and len(saved["train_samples"]) == 64
    rebuilt = _rebuilt(unique_store, tmp_path / "rebuilt.zarr", "another-build")
    assert rebuilt.fingerprint != saved["fingerprint"]
    assert overlap_warning(rebuilt, saved, "xsub") is None
    root = zarr.open_group(str(unique_store), mode="r")
    trained = set(root["sample"][:][root["splits/xsub/train"][:]].tolist())
    xview_test = root["sample"][:][root["splits/xview/test"][:]].tolist()
    shared = len(trained.intersection(xview_test))
    assert shared > 0  # the tiny store's xview test subjects are xsub training subjects
    message = overlap_warning(rebuilt, saved, "xview")
    assert message.startswith(f"{shared} of the {len(xview_test)} test samples of split 'xview'")
    renamed = _rebuilt(unique_store, tmp_path / "renamed.zarr", "another-build", rename=True)
    assert "source fingerprints differ" in overlap_warning(renamed, saved, "xsub")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        evaluate_run(trained_run, rebuilt.path, out=tmp_path / "eval")
    assert not [w for w in caught if "training" in str(w.message)]
    with pytest.warns(UserWarning, match="test samples of split 'xview' were in the run's"):
        evaluate_run(trained_run, rebuilt.path, split="xview", out=tmp_path / "eval-xview")


def test_export_command_checks_against_pytorch(trained_run, tmp_path) -> None:
    out = tmp_path / "model.onnx"
    result = CliRunner().invoke(export_command, [str(trained_run), "--onnx", str(out)])
    assert result.exit_code == 0, result.output
    diff = float(re.search(r"max abs diff ([\d.e+-]+)", result.output).group(1))
    assert out.stat().st_size > 0 and diff < 1e-4


@pytest.mark.parametrize("num_classes", [10, 60])
def test_confusion_png_size_and_labels(tmp_path, num_classes) -> None:
    names = [f"action {i}" for i in range(num_classes)]
    rng = np.random.default_rng(0)
    labels = rng.integers(0, num_classes, 500)
    confusion = confusion_matrix(labels, np.where(rng.random(500) < 0.7, labels, 0), num_classes)
    path = save_confusion_png(confusion, names, tmp_path / "c.png")
    height, width, _ = imread(path).shape
    inches = confusion_figsize(num_classes, max(map(len, names)))
    assert (width, height) == (round(inches[0] * DPI), round(inches[1] * DPI))
    ax = confusion_figure(confusion, names).axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == names
    assert [t.get_text() for t in ax.get_yticklabels()] == names
    # Per-cell percentages only while they fit (up to 30 classes).
    assert bool(ax.texts) == (num_classes <= 30)


def test_confusion_figure_refuses_mismatched_names() -> None:
    with pytest.raises(ValueError, match=r"\(3, 3\) does not match 2 class names"):
        confusion_figure(np.eye(3), ["a", "b"])


def test_training_curves_name_the_bad_line(tmp_path) -> None:
    jsonl = tmp_path / "metrics.jsonl"
    jsonl.write_text('{"epoch": 1, "train_loss": 1.0}\n{"epoch": 2, "train_loss": \n')
    with pytest.raises(ValueError, match=r"metrics.jsonl:2: not a JSON object"):
        save_training_curves_png(jsonl, tmp_path / "curves.png")
    jsonl.write_text(
        '{"epoch": 1, "train_loss": 1.0, "test_top1": 0.5}\n{"epoch": 2, "train_loss": 0.5}\n'
    )
    path = save_training_curves_png(jsonl, tmp_path / "curves.png")
    assert imread(path).shape[:2] == (380, 1500)
