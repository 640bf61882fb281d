"""Matplotlib PNGs of the semantic graph and of skeleton frames.

- `plot_heatmaps`: joint-distance and adjacency heatmaps with joint-name ticks, globally
  and per category (pages of up to 12 classes), the paper's category similarity matrices.
- `draw_semantic_skeleton`: a pose with the bones in grey and the semantic edges as
  coloured arcs over them (the paper's Fig. 5).
- `draw_skeleton_frames`: a strip of real frames of one sample, every body in its colour.

Poses are drawn in a 2-D view built from the layout itself: vertical along the layout's
`up` bone, horizontal along its `across` bone, so aligned 3-D (NTU) and image 2-D
(Kinetics, y pointing down) data both come out upright.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch  # noqa: E402

CLASSES_PER_PAGE = 12
NON_SPATIAL = ("score",)


def layout_dict(layout: Any) -> dict[str, Any]:
    """A layout as the store's attrs dict: accepts that dict or a `skelprep.layouts.Layout`."""
    return dict(layout.to_attrs()) if hasattr(layout, "to_attrs") else dict(layout)


def spatial_channels(channels: Sequence[str] | None, count: int) -> list[int]:
    """Indices of the coordinate channels (a `score` channel is not a coordinate)."""
    if channels is None:
        return list(range(min(count, 3)))
    return [i for i, name in enumerate(channels) if name not in NON_SPATIAL]


def _unit(v: np.ndarray) -> np.ndarray | None:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 1e-9 else None


def view_basis(pose: np.ndarray, layout: Any) -> tuple[np.ndarray, np.ndarray]:
    """(across, up) unit vectors of the drawing plane from a (V, D) pose and its layout.

    Falls back to the first two coordinate axes when the pose's bones are degenerate.
    """
    layout = layout_dict(layout)
    up = _unit(pose[layout["up"][1]] - pose[layout["up"][0]])
    across = pose[layout["across"][1]] - pose[layout["across"][0]]
    if up is not None:
        across = _unit(across - across.dot(up) * up)
    if up is None or across is None:
        eye = np.eye(pose.shape[1])
        return eye[0], eye[1]
    return across, up


def project(pose: np.ndarray, basis: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """(V, 2) drawing coordinates of a (V, D) pose in the plane `basis`."""
    return np.stack([pose @ basis[0], pose @ basis[1]], axis=1)


def _heatmap(ax, matrix: np.ndarray, names: Sequence[str], title: str, cmap: str, size: float):
    image = ax.imshow(matrix, cmap=cmap, interpolation="nearest")
    ticks = np.arange(len(names))
    ax.set_xticks(ticks, labels=names, rotation=90, fontsize=size)
    ax.set_yticks(ticks, labels=names, fontsize=size)
    ax.set_title(title, fontsize=size + 3)
    return image


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot_heatmaps(
    distance: np.ndarray,
    adjacency: np.ndarray,
    joint_names: Sequence[str],
    out_dir: str | Path,
    pair_distance: np.ndarray | None = None,
    class_names: Sequence[str] | None = None,
    title: str = "",
) -> list[Path]:
    """Write distance.png, adjacency.png and class_distance_NN.png pages; return the paths."""
    out = Path(out_dir)
    written = []
    for name, matrix, cmap, label in (
        ("distance", distance, "viridis", "mean DTW distance"),
        ("adjacency", adjacency, "Greys", "semantic adjacency"),
    ):
        fig, ax = plt.subplots(figsize=(9, 8), layout="constrained")
        image = _heatmap(ax, matrix, joint_names, f"{label} {title}".strip(), cmap, 8)
        fig.colorbar(image, ax=ax, shrink=0.8)
        written.append(_save(fig, out / f"{name}.png"))
    if pair_distance is None:
        return written
    names = class_names or [f"class {k}" for k in range(len(pair_distance))]
    for page, first in enumerate(range(0, len(pair_distance), CLASSES_PER_PAGE), start=1):
        chunk = range(first, min(first + CLASSES_PER_PAGE, len(pair_distance)))
        cols = min(4, len(chunk))
        rows = math.ceil(len(chunk) / cols)
        fig, axes = plt.subplots(
            rows, cols, figsize=(5 * cols, 5 * rows), layout="constrained", squeeze=False
        )
        for ax, k in zip(axes.flat, chunk, strict=False):
            _heatmap(ax, pair_distance[k], joint_names, f"{k}: {names[k]}", "viridis", 4)
            if np.isnan(pair_distance[k]).all():
                ax.text(0.5, 0.5, "no training sample", transform=ax.transAxes, ha="center")
        for ax in list(axes.flat)[len(chunk) :]:
            ax.axis("off")
        written.append(_save(fig, out / f"class_distance_{page:02d}.png"))
    return written


def _draw_bones(ax, xy: np.ndarray, edges: Sequence[Sequence[int]], **style) -> None:
    for a, b in edges:
        ax.plot(xy[[a, b], 0], xy[[a, b], 1], **style)


def draw_semantic_skeleton(
    pose: np.ndarray,
    layout: Any,
    adjacency: np.ndarray,
    path: str | Path,
    title: str = "",
) -> Path:
    """Fig. 5: bones in grey, semantic edges (off-diagonal 1s of `adjacency`) as coloured arcs.

    pose (V, D) spatial coordinates (D = 2 or 3), e.g. a training sample's first frame.
    """
    lay = layout_dict(layout)
    xy = project(np.asarray(pose, dtype=np.float64), view_basis(pose, lay))
    fig, ax = plt.subplots(figsize=(8, 9), layout="constrained")
    _draw_bones(ax, xy, lay["edges"], color="0.6", linewidth=3, zorder=1)
    i_idx, j_idx = np.nonzero(np.triu(np.asarray(adjacency) != 0, k=1))
    colours = plt.get_cmap("tab10")
    for n, (i, j) in enumerate(zip(i_idx, j_idx, strict=True)):
        arc = FancyArrowPatch(
            tuple(xy[i]), tuple(xy[j]), arrowstyle="-", connectionstyle="arc3,rad=0.25",
            color=colours(n % 10), linewidth=1.6, alpha=0.85, zorder=2,
        )  # fmt: skip
        ax.add_patch(arc)
    ax.scatter(xy[:, 0], xy[:, 1], s=40, color="black", zorder=3)
    for v, name in enumerate(lay["joints"]):
        ax.annotate(f"{v} {name}", xy[v], xytext=(4, 3), textcoords="offset points", fontsize=7)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(title or f"{len(i_idx)} semantic edges (colour) over the bones (grey)")
    return _save(fig, Path(path))


def draw_skeleton_frames(
    joints: np.ndarray,
    layout: Any,
    path: str | Path,
    frames: int | None = None,
    panels: int = 8,
    channels: Sequence[str] | None = None,
    title: str = "",
) -> Path:
    """A strip of `panels` evenly spaced frames of one sample, each body in its own colour.

    joints: one store row (C, T, V, M) or a single body (C, T, V); `frames` limits the
    strip to the valid frames; `channels` names axis C (a `score` channel is skipped).
    Absent bodies (all zero in a frame) are not drawn.
    """
    arr = np.asarray(joints, dtype=np.float64)
    if arr.ndim == 3:
        arr = arr[..., None]
    if arr.ndim != 4:
        raise ValueError(f"joints must be (C, T, V, M) or (C, T, V), got shape {arr.shape}")
    lay = layout_dict(layout)
    arr = arr[spatial_channels(channels, arr.shape[0])]
    valid = arr.shape[1] if frames is None else max(1, min(int(frames), arr.shape[1]))
    picks = np.unique(np.linspace(0, valid - 1, min(panels, valid)).round().astype(int))
    basis = view_basis(arr[:, 0, :, 0].T, lay)
    views = {
        (t, m): project(arr[:, t, :, m].T, basis)
        for t in picks
        for m in range(arr.shape[3])
        if np.any(arr[:, t, :, m])
    }
    fig, axes = plt.subplots(1, len(picks), figsize=(2.4 * len(picks), 3.6), squeeze=False)
    colours = plt.get_cmap("tab10")
    points = np.concatenate(list(views.values())) if views else np.zeros((1, 2))
    low, high = points.min(axis=0), points.max(axis=0)
    pad = 0.05 * float(max(high - low)) + 1e-6
    for ax, t in zip(axes[0], picks, strict=True):
        for (tt, m), xy in views.items():
            if tt == t:
                _draw_bones(ax, xy, lay["edges"], color=colours(m % 10), linewidth=2)
                ax.scatter(xy[:, 0], xy[:, 1], s=6, color=colours(m % 10))
        ax.set_xlim(low[0] - pad, high[0] + pad)
        ax.set_ylim(low[1] - pad, high[1] + pad)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"frame {t}", fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, Path(path))
