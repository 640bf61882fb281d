"""Evaluate a trained run on the test part of a store and write its outputs.

`evaluate_run` rebuilds the model from a checkpoint (loaded with ``weights_only=True``), checks
that the store describes the same classes, skeleton layout and channels the model was trained
on, scores every test sample (by default once, under the deterministic test transform; with
`views` K > 1 the logits are averaged over that and K - 1 random temporal crops as in the
run's training, drawn from a fixed random stream: see `stgnode.data.make_loader`) and
writes into `<run>/eval/` (or `out`):

- `metrics.json`: top-1, top-5, mean class accuracy, chance level, per-class accuracy by class
  name, how many classes the test part holds, the confusion matrix, and where the numbers come
  from (checkpoint, store, split);
- `confusion.png`: the row-normalised confusion matrix labelled with the class names (only the
  classes that occur as truth or prediction, when the store lists more);
- `scores.npz`: sample ids, labels and raw logits per sample (see `stgnode.fuse`), the input
  of `stgnode fuse`;
- `curves.png`: the training curves of the run's metrics.jsonl, when the run has one.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from stgnode import checkpoint as ckpt
from stgnode.config import merge_overrides
from stgnode.data import make_loader
from stgnode.fuse import SCORES_FILE, Scores, save_scores
from stgnode.metrics import per_class_accuracy, summarize
from stgnode.plots import save_confusion_png, save_training_curves_png
from stgnode.store import StoreError, StoreInfo, open_store
from stgnode.train import METRICS_FILE

EVAL_DIR = "eval"
CHECKPOINTS = {"best": ckpt.BEST, "last": ckpt.LAST}

# A comparison table between a store and the store record of a checkpoint:
# name -> (its value in the StoreInfo, its value in the record)
Comparisons = dict[str, tuple[Callable[[StoreInfo], Any], Callable[[dict[str, Any]], Any]]]
Triple = tuple[np.ndarray, np.ndarray, np.ndarray]
"""(store indices, labels, float32 logits) of scored samples, in the loader's order."""

# what must agree between the store evaluated on and the one the checkpoint was trained on
MUST_MATCH: Comparisons = {
    "classes": (lambda info: list(info.classes), lambda saved: saved["classes"]),
    "layout": (lambda info: info.layout, lambda saved: saved["layout"]),
    "channels": (lambda info: list(info.channels), lambda saved: saved["channels"]),
}


def mismatches(
    info: StoreInfo, saved: dict[str, Any], table: Comparisons, theirs: str, width: int
) -> list[str]:
    """`name: store has A, <theirs> B` for every entry of `table` that differs; an entry the
    record holds as None (a checkpoint older than the entry) is not compared."""
    problems = []
    for name, (in_store, in_record) in table.items():
        have, want = in_store(info), in_record(saved)
        if want is not None and have != want:
            problems.append(f"{name}: store has {str(have)[:width]}, {theirs} {str(want)[:width]}")
    return problems


def check_store_matches(info: StoreInfo, saved: dict[str, Any], checkpoint: Path) -> None:
    """Refuse a store whose classes, layout or channels differ from the checkpoint's store."""
    problems = mismatches(info, saved, MUST_MATCH, "checkpoint has", 120)
    if problems:
        raise StoreError(
            f"store {info.path} does not match the store checkpoint {checkpoint} was trained on "
            f"({saved['path']}):\n  " + "\n  ".join(problems)
        )


def overlap_warning(info: StoreInfo, saved: dict[str, Any], split: str) -> str | None:
    """Why the test part of `split` may hold samples the run trained on; None when it cannot.

    A checkpoint names its training samples by a digest of their ids (`train_samples`). When the
    store's train part of the run's split has that digest, the store holds exactly those
    samples (whichever build it is) and the overlap is counted. Otherwise (another store, or a
    checkpoint older than the digest) only the raw files' fingerprints and the split names can
    be compared.
    """
    trained_split = saved["split"]
    digest = saved.get("train_samples")
    if (
        digest
        and trained_split in info.splits
        and info.part_digest(trained_split, "train") == digest
    ):
        trained = info.sample_ids(info.split_indices(trained_split, "train"))
        tested = info.sample_ids(info.split_indices(split, "test"))
        shared = np.intersect1d(trained, tested).size
        if shared:
            return (
                f"{shared} of the {tested.size} test samples of split {split!r} were in the "
                f"run's training part (split {trained_split!r})"
            )
        return None
    if info.fingerprint != saved["fingerprint"]:
        return (
            f"store {info.path} was built from other raw files than the training store "
            f"{saved['path']} (source fingerprints differ): test samples may overlap training"
        )
    if split != trained_split:
        return (
            f"evaluating on split {split!r}, but the run trained on {trained_split!r}: "
            "its test part may hold training samples"
        )
    return None


def score_batches(
    loader: torch.utils.data.DataLoader, forward: Callable[[torch.Tensor], np.ndarray]
) -> Triple:
    """(store indices, labels, float32 logits) of every sample the loader yields, in its
    order; `forward` turns a batch into its logits (a torch model, or an ONNX session)."""
    indices, labels, logits = [], [], []
    for x, y, index in loader:
        logits.append(np.asarray(forward(x), dtype=np.float32))
        labels.append(y.numpy())
        indices.append(index.numpy())
    return np.concatenate(indices), np.concatenate(labels), np.concatenate(logits)


@torch.no_grad()
def predict(
    model: nn.Module, loader: torch.utils.data.DataLoader, device: str | torch.device
) -> Triple:
    """`score_batches` of `model` in eval mode on `device`."""
    model.eval()
    return score_batches(loader, lambda x: model(x.to(device)).float().cpu().numpy())


def predict_views(
    score: Callable[[torch.utils.data.DataLoader], Triple],
    loader_for: Callable[[int], torch.utils.data.DataLoader],
    views: int,
) -> Triple:
    """`score` (`predict` of a model, or an ONNX session) of the loaders of test-time views
    0..views-1 (`loader_for(view)`), logits averaged.

    Every view yields the samples in the same order (the test sampler does not shuffle), so the
    logits add up row by row.
    """
    if views < 1:
        raise ValueError(f"views must be at least 1, got {views}")
    total = None
    for view in range(views):
        indices, labels, logits = score(loader_for(view))
        total = logits if total is None else total + logits
    return indices, labels, total / views


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def evaluate_run(
    run_or_checkpoint: str | Path,
    store: str | Path,
    split: str | None = None,
    checkpoint: str = "last",
    out: str | Path | None = None,
    batch_size: int | None = None,
    device: str = "cpu",
    views: int = 1,
) -> dict[str, Any]:
    """Score the test part of `split` (default: the run's) and write metrics, PNG and scores.

    `run_or_checkpoint` is a run directory (its `checkpoint`: last.pt by default)  or a
    checkpoint file; outputs go to `out`, by default `<run>/eval`. `views` > 1 averages the
    logits of that many test-time views (view 0 is the plain test transform). Returns
    metrics.json's data.
    """
    path = ckpt.find_checkpoint(run_or_checkpoint, prefer=CHECKPOINTS[checkpoint])
    model, config, saved = ckpt.load_for_inference(path, device)
    info = open_store(store)
    info.require_labels("evaluate")
    check_store_matches(info, saved, path)
    split = split or saved["split"]
    warning = overlap_warning(info, saved, split)
    if warning:
        warnings.warn(warning, stacklevel=2)
    overrides = [] if batch_size is None else [f"train.batch_size={batch_size}"]
    config = merge_overrides(config, overrides)
    indices, labels, logits = predict_views(
        lambda loader: predict(model, loader, device),
        lambda view: make_loader(info, split, "test", config, train=False, view=view),
        views,
    )
    sample_ids = info.sample_ids(indices)
    summary = summarize(logits, labels)
    confusion = summary.pop("confusion")
    out_dir = Path(out) if out is not None else path.parent / EVAL_DIR
    result = {
        **summary,
        "num_classes": info.num_classes,
        "test_classes": int(np.unique(labels).size),  # a subset store (the demo) uses a few
        "per_class": dict(
            zip(info.classes, _json_floats(per_class_accuracy(confusion)), strict=True)
        ),
        "confusion": confusion.tolist(),
        "model": config["model"]["name"],
        "params": count_parameters(model),
        "checkpoint": str(path),
        "store": str(info.path),
        "split": split,
        "stream": config["data"]["stream"],
        "views": views,
    }
    _write_outputs(out_dir, result, confusion, Scores(sample_ids, labels, logits, info.classes))
    if (path.parent / METRICS_FILE).is_file():
        save_training_curves_png(path.parent / METRICS_FILE, out_dir / "curves.png")
    return {**result, "out": str(out_dir)}


def _json_floats(values: np.ndarray) -> list[float | None]:
    """Floats for JSON, NaN (a class without test samples) as None."""
    return [None if np.isnan(v) else float(v) for v in values]


def _write_outputs(out_dir: Path, result: dict, confusion: np.ndarray, scores: Scores) -> None:
    """metrics.json, confusion.png and scores.npz into out_dir."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    title = f"{result['model']} on {result['split']}: top-1 {result['top1']:.1%}"
    names = list(scores.classes)
    occur = np.flatnonzero(confusion.sum(axis=0) + confusion.sum(axis=1))
    if len(occur) < len(confusion):  # plot only the classes that occur (true or predicted)
        title += f" ({len(occur)} of {len(confusion)} classes occur)"
        confusion, names = confusion[np.ix_(occur, occur)], [names[i] for i in occur]
    save_confusion_png(confusion, names, out_dir / "confusion.png", title)
    save_scores(scores, out_dir / SCORES_FILE)
