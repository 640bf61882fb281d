"""Pure classification metrics on numpy arrays: top-k accuracy, confusion matrix, class accuracy.

No torch and no I/O here, so the numbers that `stgnode evaluate` and `stgnode fuse` print can be
checked on hand-made logits with known answers.

Ties: a sample's rank is the number of classes that beat its true class, where a class beats it
when its score is higher, or equal with a lower class index. This is exactly the order of a
stable descending sort (and of ``np.argmax`` for rank 0), so top-1 always equals
``mean(argmax(logits) == label)``: equal scores are never resolved in the model's favour.
"""

from __future__ import annotations

import numpy as np


def _check(logits: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate shapes, finiteness and label range; return float64 logits and int64 labels."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = np.asarray(labels)
    if logits.ndim != 2:
        raise ValueError(f"logits must be 2-D (samples, classes), got shape {logits.shape}")
    if labels.shape != (logits.shape[0],):
        raise ValueError(f"labels shape {labels.shape} does not match {logits.shape[0]} samples")
    if not np.all(np.isfinite(logits)):
        bad = np.flatnonzero(~np.isfinite(logits).all(axis=1))
        raise ValueError(f"logits contain NaN or inf for samples {bad[:10].tolist()}")
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
        raise ValueError(
            f"labels must lie in [0, {logits.shape[1]}), got {labels.min()}..{labels.max()}"
        )
    return logits, labels


def true_class_rank(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Rank (0 = best) of each sample's true class, ties going to the lower class index."""
    logits, labels = _check(logits, labels)
    rows = np.arange(len(labels))
    true_score = logits[rows, labels][:, None]
    lower_index = np.arange(logits.shape[1])[None, :] < labels[:, None]
    beats = (logits > true_score) | ((logits == true_score) & lower_index)
    return beats.sum(axis=1)


def topk_accuracy(logits: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Fraction of samples whose true class ranks among the k best (k capped at the class count)."""
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    ranks = true_class_rank(logits, labels)
    return float(np.mean(ranks < k)) if ranks.size else float("nan")


def softmax(logits: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum for stability."""
    shifted = np.exp(logits - logits.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)


def top_classes(logits: np.ndarray, k: int) -> np.ndarray:
    """(samples, k) class indices, best first, ties to the lower index (so column 0 equals
    `predictions`); k is capped at the class count."""
    return np.argsort(-np.asarray(logits), axis=1, kind="stable")[:, :k]


def predictions(logits: np.ndarray) -> np.ndarray:
    """Predicted class per sample: ``argmax`` over classes (first index on ties)."""
    return np.asarray(logits).argmax(axis=1)


def confusion_matrix(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    labels = np.asarray(labels, dtype=np.int64)
    predicted = np.asarray(predicted, dtype=np.int64)
    if labels.shape != predicted.shape:
        raise ValueError(f"labels {labels.shape} and predictions {predicted.shape} differ in shape")
    for name, values in (("labels", labels), ("predictions", predicted)):
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"{name} must lie in [0, {num_classes})")
    flat = np.bincount(labels * num_classes + predicted, minlength=num_classes * num_classes)
    return flat.reshape(num_classes, num_classes)


def per_class_accuracy(confusion: np.ndarray) -> np.ndarray:
    """Recall of each class (diagonal / row sum); NaN for a class with no sample."""
    confusion = np.asarray(confusion, dtype=np.float64)
    support = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(support > 0, np.diag(confusion) / support, np.nan)


def mean_class_accuracy(confusion: np.ndarray) -> float:
    """Mean of the per-class accuracies over the classes that have at least one sample."""
    accuracy = per_class_accuracy(confusion)
    present = accuracy[~np.isnan(accuracy)]
    return float(present.mean()) if present.size else float("nan")


def chance_level(labels: np.ndarray) -> float:
    """Top-1 accuracy of the best label-blind answer: always the test set's most frequent class.

    1 / K on a balanced test set of K classes; unlike 1 / (classes the store lists) it is not
    lowered by classes that have no sample (the synthetic demo lists NTU60's 60 but holds 10).
    """
    return float(np.bincount(labels).max() / len(labels))


def summarize(logits: np.ndarray, labels: np.ndarray) -> dict[str, object]:
    """Every figure `evaluate` and `fuse` report for one set of scores, as plain Python values."""
    logits, labels = _check(logits, labels)
    confusion = confusion_matrix(labels, predictions(logits), logits.shape[1])
    return {
        "num_samples": int(len(labels)),
        "top1": topk_accuracy(logits, labels, 1),
        "top5": topk_accuracy(logits, labels, 5),
        "mean_class_accuracy": mean_class_accuracy(confusion),
        "chance": chance_level(labels),
        "confusion": confusion,
    }
