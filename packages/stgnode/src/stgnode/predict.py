"""Classify the samples of a store with a trained run: top-k class names and probabilities.

Everything the model needs comes from the checkpoint (graph, semantic adjacency, stream,
window, class names); the store only provides the skeletons, so it may be unlabelled (labels
-1, no splits: `skelprep build --unlabelled`, or a folder without labels.csv). A store is
refused when its samples cannot be what the model was trained on: another joint count,
graph, channels, bodies per sample, frame window or alignment, each difference named.

`onnx` runs an exported model (`stgnode export`) with onnxruntime instead of torch, on the
same inputs; the top-1 is the same up to float rounding. `views` averages test-time clips as
`stgnode evaluate --views` does (a sample's clips depend on its store row only).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stgnode import checkpoint as ckpt
from stgnode.config import merge_overrides
from stgnode.data import make_loader
from stgnode.evaluate import (
    CHECKPOINTS,
    Comparisons,
    Triple,
    mismatches,
    predict,
    predict_views,
    score_batches,
)
from stgnode.export import INPUT_NAME, OUTPUT_NAME
from stgnode.metrics import softmax, top_classes
from stgnode.store import StoreError, StoreInfo, open_store

# what must fit between a store and the model: name -> (value in the store, value at training)
FITS: Comparisons = {
    "joints": (lambda i: len(i.layout["joints"]), lambda s: len(s["layout"]["joints"])),
    "edges": (lambda i: i.edges, lambda s: [tuple(e) for e in s["layout"]["edges"]]),
    "centre joint": (lambda i: i.centre, lambda s: int(s["layout"]["centre"])),
    "channels": (lambda i: list(i.channels), lambda s: list(s["channels"])),
    "bodies per sample": (lambda i: i.shape[4], lambda s: s["context"]["num_bodies"]),
    "frames (--max-frames)": (lambda i: i.shape[2], lambda s: s.get("frames")),
    "alignment": (lambda i: i.attrs.get("alignment"), lambda s: s.get("alignment")),
}
"""A value recorded as None at training (a checkpoint older than the record) is not compared."""


def check_fits(info: StoreInfo, saved: dict[str, Any], checkpoint: Path) -> None:
    """Refuse a store whose samples do not fit the model of `checkpoint`, naming each difference."""
    problems = mismatches(info, saved, FITS, "the model", 100)
    if problems:
        raise StoreError(
            f"store {info.path} does not fit the model of {checkpoint} (trained on "
            f"{saved['path']}); rebuild it with the training store's layout and build "
            "options:\n  " + "\n  ".join(problems)
        )


@dataclass
class Predictions:
    """Sample ids, labels (-1 when unknown), logits and the class names they index."""

    sample: np.ndarray
    labels: np.ndarray
    logits: np.ndarray
    classes: tuple[str, ...]

    def top(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(classes (N, k), probabilities (N, k)), best first."""
        best = top_classes(self.logits, k)
        return best, np.take_along_axis(softmax(self.logits), best, axis=1)

    def accuracy(self) -> float | None:
        """Top-1 against the store's labels, None when the samples are unlabelled."""
        known = self.labels >= 0
        if not known.any():
            return None
        return float((self.logits[known].argmax(axis=1) == self.labels[known]).mean())


def _onnx_scorer(path: Path) -> Callable[[Any], Triple]:
    """`score_batches` of a loader through an onnxruntime session of the exported model."""
    import onnxruntime  # optional dependency: only for --onnx

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda loader: score_batches(
        loader, lambda x: session.run([OUTPUT_NAME], {INPUT_NAME: x.numpy()})[0]
    )


def predict_store(
    run_or_checkpoint: str | Path,
    store: str | Path,
    checkpoint: str = "last",
    split: str | None = None,
    part: str = "test",
    onnx: str | Path | None = None,
    batch_size: int | None = None,
    device: str = "cpu",
    views: int = 1,
) -> tuple[Predictions, dict[str, Any]]:
    """Logits for every sample of `store` (or of `split`'s `part`), and what produced them.

    `views` > 1 averages the logits of that many test-time views, the clips of `stgnode
    evaluate --views` (the same crops of a sample, whichever samples are classified).
    """
    path = ckpt.find_checkpoint(run_or_checkpoint, prefer=CHECKPOINTS[checkpoint])
    model, config, saved = ckpt.load_for_inference(path, device)
    info = open_store(store)
    check_fits(info, saved, path)
    indices = np.arange(info.shape[0]) if split is None else info.split_indices(split, part)
    if not len(indices):
        raise StoreError(f"store {info.path} has no sample to classify")
    overrides = [] if batch_size is None else [f"train.batch_size={batch_size}"]
    config = merge_overrides(config, overrides)
    rows, labels, logits = predict_views(
        _onnx_scorer(Path(onnx))
        if onnx is not None
        else lambda loader: predict(model, loader, device),
        lambda view: make_loader(
            info, split or "", part, config, train=False, indices=indices, view=view
        ),
        views,
    )
    samples = info.sample_ids(rows)
    if list(info.classes) != list(saved["classes"]) and info.labelled:
        labels = np.full_like(labels, -1)  # its labels index other class names than the model's
    source = {
        "checkpoint": str(path),
        "model": config["model"]["name"],
        "stream": config["data"]["stream"],
        "engine": "onnxruntime" if onnx is not None else "torch",
        "views": views,
    }
    return Predictions(samples, labels, logits, tuple(saved["classes"])), source


def write_predictions_csv(predictions: Predictions, k: int, out: str | Path) -> Path:
    """`sample, label, class_1, prob_1, ..., class_k, prob_k` per sample; written to a
    temporary file and renamed, so a failed write leaves no half CSV behind."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    best, probs = predictions.top(k)
    names = predictions.classes
    header = ["sample", "label"]
    for rank in range(1, best.shape[1] + 1):
        header += [f"class_{rank}", f"prob_{rank}"]
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for sample, label, row, prob in zip(
            predictions.sample, predictions.labels, best, probs, strict=True
        ):
            cells = [sample, names[label] if label >= 0 else ""]
            for cls, p in zip(row, prob, strict=True):
                cells += [names[cls], f"{p:.4f}"]
            writer.writerow(cells)
    os.replace(tmp, out)
    return out


def summary(predictions: Predictions, source: dict[str, Any], out: Path) -> str:
    """The one-line report of `stgnode predict`."""
    counts = np.bincount(predictions.logits.argmax(axis=1), minlength=len(predictions.classes))
    common = ", ".join(
        f"{predictions.classes[c]} {counts[c]}" for c in np.argsort(-counts, kind="stable")[:3]
        if counts[c]
    )  # fmt: skip
    accuracy = predictions.accuracy()
    scored = "" if accuracy is None else f"; top-1 {accuracy:.2%} against the store's labels"
    clips = f", {source['views']} views averaged" if source["views"] > 1 else ""
    return (
        f"classified {len(predictions.sample)} samples with {source['model']} "
        f"({source['stream']} stream, {source['engine']}{clips}, {source['checkpoint']}): most "
        f"predicted {common}{scored}; wrote {out}"
    )
