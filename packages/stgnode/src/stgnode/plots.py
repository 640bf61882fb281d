"""PNG figures of a run: the confusion matrix (the paper's Fig. 4) and training curves.

Figures are built with matplotlib's object API (no pyplot state, no GUI backend). Figures have a fixed size computed from the number of classes
and the longest class name, so the PNG's pixel size is predictable and the labels stay readable
from 10 to 120 classes; per-cell percentages are printed only up to CELL_NUMBERS_MAX classes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

DPI = 100
CELL_NUMBERS_MAX = 30
"""Above this many classes the cells carry colour only: numbers would not fit."""


def _font_and_cell(num_classes: int) -> tuple[float, float]:
    """Font size (points) and cell side (inches) for a confusion matrix of num_classes."""
    if num_classes <= CELL_NUMBERS_MAX:
        return 8.0, 0.42
    return 7.0, 0.24


def confusion_figsize(num_classes: int, longest_label: int) -> tuple[float, float]:
    """Figure size in inches: the cell grid, a margin for the class names, room for the colour bar."""
    font, cell = _font_and_cell(num_classes)
    label_margin = 0.6 * font / 72 * longest_label + 0.6
    grid = num_classes * cell
    return round(grid + label_margin + 1.6, 2), round(grid + label_margin + 0.8, 2)


def confusion_figure(confusion: np.ndarray, class_names: Sequence[str], title: str = "") -> Figure:
    """Row-normalised confusion matrix (true class per row, % of that class) labelled with names."""
    confusion = np.asarray(confusion, dtype=np.float64)
    k = len(class_names)
    if confusion.shape != (k, k):
        raise ValueError(f"confusion matrix shape {confusion.shape} does not match {k} class names")
    support = confusion.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        percent = np.where(support > 0, 100.0 * confusion / support, np.nan)
    font, _ = _font_and_cell(k)
    fig = Figure(
        figsize=confusion_figsize(k, max(map(len, class_names))), dpi=DPI, layout="constrained"
    )
    ax = fig.add_subplot()
    image = ax.imshow(percent, cmap="Blues", vmin=0, vmax=100, interpolation="nearest")
    ticks = np.arange(k)
    ax.set_xticks(ticks, labels=list(class_names), rotation=90, fontsize=font)
    ax.set_yticks(ticks, labels=list(class_names), fontsize=font)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    if title:
        ax.set_title(title)
    fig.colorbar(image, ax=ax, shrink=0.6, label="% of the true class")
    if k <= CELL_NUMBERS_MAX:
        for (row, col), value in np.ndenumerate(percent):
            if np.isfinite(value) and value > 0:
                colour = "white" if value > 50 else "black"
                ax.text(
                    col,
                    row,
                    f"{value:.0f}",
                    ha="center",
                    va="center",
                    fontsize=font - 1,
                    color=colour,
                )
    return fig


def save_confusion_png(
    confusion: np.ndarray, class_names: Sequence[str], path: str | Path, title: str = ""
) -> Path:
    """Write the confusion-matrix PNG (see confusion_figure) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    confusion_figure(confusion, class_names, title).savefig(path, dpi=DPI)
    return path


def read_metrics_jsonl(path: str | Path) -> list[dict]:
    """Records of a run's metrics.jsonl, one JSON object per line; names file and line on error."""
    records = []
    for number, line in enumerate(Path(path).read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}:{number}: not a JSON object: {err.msg}") from err
        if not isinstance(record, dict):
            raise ValueError(
                f"{path}:{number}: expected a JSON object, got {type(record).__name__}"
            )
        records.append(record)
    return records


# panel title -> predicate on a metric name; a metric goes to the first panel that accepts it
CURVE_PANELS: dict[str, Callable[[str], bool]] = {
    "loss": lambda name: "loss" in name,
    "accuracy": lambda name: "acc" in name or "top" in name,
    "learning rate": lambda name: name in ("lr", "learning_rate"),
}


def _panel_of(name: str) -> str | None:
    """The first CURVE_PANELS entry that accepts a metric name (None: not plotted)."""
    return next((panel for panel, accepts in CURVE_PANELS.items() if accepts(name)), None)


def save_training_curves_png(jsonl: str | Path, path: str | Path, x_key: str = "epoch") -> Path:
    """Plot every numeric series of metrics.jsonl against x_key, one panel per CURVE_PANELS entry.

    Records without x_key use their line position; a series is drawn where its key is present, so
    train and test records interleaved in one file give separate lines.
    """
    records = read_metrics_jsonl(jsonl)
    if not records:
        raise ValueError(f"{jsonl}: no metrics recorded yet")
    fig = Figure(figsize=(5 * len(CURVE_PANELS), 3.8), dpi=DPI, layout="constrained")
    axes = dict(zip(CURVE_PANELS, fig.subplots(1, len(CURVE_PANELS)), strict=True))
    numeric = {k for r in records for k, v in r.items() if isinstance(v, int | float)}
    for name in sorted(numeric - {x_key}):
        panel = _panel_of(name)
        if panel is None:
            continue
        points = [(r.get(x_key, i), r[name]) for i, r in enumerate(records) if name in r]
        xs, ys = zip(*points, strict=True)
        axes[panel].plot(xs, ys, marker="o", markersize=3, label=name)
    for panel, ax in axes.items():
        ax.set_title(panel)
        ax.set_xlabel(x_key)
        if ax.lines:
            ax.legend(fontsize=8)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path
