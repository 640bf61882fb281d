"""Scores per sample (`scores.npz`) and their fusion across runs (multi-stream ensembles).

`scores.npz` holds, for one evaluated run: `sample` (str ids), `label` (int64), `logits`
(float32, samples x classes, the model's raw outputs before softmax) and `classes` (str names).
It is written by `stgnode evaluate` and read by `stgnode fuse`; it is plain numpy, loaded with
``allow_pickle=False``.

Fusion aligns runs by sample id (the order in each file does not matter), refuses runs whose
class lists, sample sets or labels disagree, and adds the weighted scores. The default mode
`raw` adds raw logits, as the joint/bone/motion ensembles of 2s-AGCN and PYSKL do; `softmax`
adds per-run class probabilities instead, which stops a run with large logits from dominating.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stgnode.errors import StgnodeError
from stgnode.metrics import softmax

SCORES_FILE = "scores.npz"


class ScoresError(StgnodeError):
    """Scores files that are malformed or disagree (classes, samples, labels), or bad fusion options."""


@dataclass(frozen=True)
class Scores:
    """Scores of one run on one test set, one row per sample."""

    sample: np.ndarray  # (N,) str
    label: np.ndarray  # (N,) int64
    logits: np.ndarray  # (N, K) float32
    classes: tuple[str, ...]


def as_str_array(values) -> np.ndarray:
    """Fixed-width unicode array of `values` (zarr may hand back numpy's variable StringDType,
    which an npz cannot hold without pickle)."""
    return np.array([str(v) for v in values], dtype=str)


def save_scores(scores: Scores, path: str | Path) -> Path:
    """Write scores as an uncompressed npz (see the module docstring for its keys)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        np.savez(
            handle,
            sample=as_str_array(scores.sample),
            label=np.asarray(scores.label, dtype=np.int64),
            logits=np.asarray(scores.logits, dtype=np.float32),
            classes=as_str_array(scores.classes),
        )
    return path


def load_scores(path: str | Path) -> Scores:
    """Read a scores.npz, or `<run>/eval/scores.npz` when given a run directory."""
    path = Path(path)
    if path.is_dir():
        path = path / "eval" / SCORES_FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no scores file (run `stgnode evaluate` on the run first)")
    with np.load(path, allow_pickle=False) as data:
        missing = {"sample", "label", "logits", "classes"} - set(data.files)
        if missing:
            raise ScoresError(f"{path}: not a scores file, missing arrays {sorted(missing)}")
        scores = Scores(
            sample=data["sample"],
            label=data["label"].astype(np.int64),
            logits=data["logits"],
            classes=tuple(data["classes"].tolist()),
        )
    n = len(scores.sample)
    if scores.label.shape != (n,) or scores.logits.shape != (n, len(scores.classes)):
        raise ScoresError(
            f"{path}: inconsistent shapes sample {scores.sample.shape}, label "
            f"{scores.label.shape}, logits {scores.logits.shape} for {len(scores.classes)} classes"
        )
    duplicated = np.unique(scores.sample, return_counts=True)
    if (duplicated[1] > 1).any():
        raise ScoresError(f"{path}: repeated sample ids {duplicated[0][duplicated[1] > 1][:10]}")
    return scores


# fusion mode -> how each run's logits are turned into the scores that get added
FUSION_MODES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "raw": lambda logits: logits,
    "softmax": softmax,
}


def _short(ids: Sequence[str], limit: int = 10) -> str:
    """At most `limit` ids, then how many more."""
    ids = list(ids)
    more = f" ... and {len(ids) - limit} more" if len(ids) > limit else ""
    return ", ".join(ids[:limit]) + more


def align(runs: Sequence[Scores], names: Sequence[str]) -> list[Scores]:
    """Reorder every run to the first run's sample order; refuse any disagreement, naming the run."""
    first = runs[0]
    for name, run in zip(names, runs, strict=True):
        if run.classes != first.classes:
            raise ScoresError(f"{name}: class list differs from {names[0]}'s")
    all_ids = set().union(*(set(run.sample.tolist()) for run in runs))
    problems = [
        f"{name} lacks {len(all_ids) - len(run.sample)} ids: "
        f"{_short(sorted(all_ids - set(run.sample.tolist())))}"
        for name, run in zip(names, runs, strict=True)
        if len(run.sample) < len(all_ids)
    ]
    if problems:
        raise ScoresError("runs were scored on different samples:\n  " + "\n  ".join(problems))
    aligned = []
    for name, run in zip(names, runs, strict=True):
        position = {sample: i for i, sample in enumerate(run.sample.tolist())}
        order = np.array([position[sample] for sample in first.sample.tolist()], dtype=np.int64)
        label = run.label[order]
        wrong = first.sample[label != first.label]
        if wrong.size:
            raise ScoresError(f"{name}: labels disagree with {names[0]}'s for {_short(wrong)}")
        aligned.append(Scores(first.sample, label, run.logits[order], run.classes))
    return aligned


def fuse(
    runs: Sequence[Scores],
    weights: Sequence[float] | None = None,
    mode: str = "raw",
    names: Sequence[str] | None = None,
) -> Scores:
    """Weighted sum over runs (aligned by sample id) of their raw or softmax scores."""
    if not runs:
        raise ScoresError("nothing to fuse: no runs given")
    names = list(names) if names is not None else [f"run {i + 1}" for i in range(len(runs))]
    weights = [1.0] * len(runs) if weights is None else list(weights)
    if len(weights) != len(runs):
        raise ScoresError(f"{len(weights)} weights given for {len(runs)} runs")
    if mode not in FUSION_MODES:
        raise ScoresError(f"unknown fusion mode {mode!r}; choose from {sorted(FUSION_MODES)}")
    aligned = align(runs, names)
    transform = FUSION_MODES[mode]
    total = sum(
        w * transform(run.logits.astype(np.float64))
        for w, run in zip(weights, aligned, strict=True)
    )
    first = aligned[0]
    return Scores(first.sample, first.label, total.astype(np.float32), first.classes)
