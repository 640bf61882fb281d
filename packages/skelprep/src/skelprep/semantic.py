"""Semantic adjacency: per-class mean DTW distances and the rules that threshold them.

A rule turns a symmetric (V, V) joint-distance matrix into a 0/1 adjacency with self-loops.
Rules are plain functions in `RULES`, keyed by the name stored in the store's attrs, so a
new rule is one function and one dict entry. Every rule ignores the diagonal of the
distance matrix (a joint's distance to itself) and sets the diagonal of the result to 1.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import numpy as np


def _off_diagonal(distance: np.ndarray) -> np.ndarray:
    return distance[~np.eye(len(distance), dtype=bool)]


def gaussian(distance: np.ndarray, sigma: float = 0.1, eps: float = 0.6) -> np.ndarray:
    """STGODE's DTW-graph rule: z = (d - mean) / std, edge where exp(-z^2 / sigma^2) > eps.

    STGODE (Fang et al., KDD 2021, `read_data` in its utils.py) z-scores the whole matrix,
    zero diagonal included; here mean and std are taken over the off-diagonal entries
    only, so that the number of joints does not shift them. With sigma 0.1 and eps 0.6 an
    edge needs |z| < sigma * sqrt(ln(1 / eps)) ~= 0.071: the joint pairs whose distance is
    close to the AVERAGE distance, not the most similar ones (see docs/notes/dtw.md for
    what this gives on real stores). A constant matrix (std 0) has z = 0 everywhere.
    """
    off = _off_diagonal(distance)
    std = off.std()
    z = (distance - off.mean()) / std if std > 0 else np.zeros_like(distance)
    return np.exp(-(z**2) / sigma**2) > eps


def eq3(distance: np.ndarray, eps: float = 0.6) -> np.ndarray:
    """The paper's Eq. 3 read literally: edge where d / max off-diagonal d < eps.

    Distances are scaled to [0, 1] by the largest off-diagonal distance, so eps is the
    fraction of the largest distance under which two joints count as similar. An
    all-zero matrix links every pair.
    """
    top = _off_diagonal(distance).max(initial=0.0)
    scaled = distance / top if top > 0 else np.zeros_like(distance)
    return scaled < eps


def knn(distance: np.ndarray, k: int = 3) -> np.ndarray:
    """Each joint linked to its k nearest other joints by distance, then symmetrised.

    Ties are broken by the lower joint index (stable sort). A joint can end with more than
    k neighbours, when it is among the k nearest of others.
    """
    count = len(distance)
    if int(k) != k or not 0 <= k < count:
        raise ValueError(f"knn needs an integer k in [0, {count - 1}], got {k!r}")
    masked = distance.astype(np.float64, copy=True)
    np.fill_diagonal(masked, np.inf)
    nearest = np.argsort(masked, axis=1, kind="stable")[:, : int(k)]
    edges = np.zeros(distance.shape, dtype=bool)
    edges[np.repeat(np.arange(count), int(k)), nearest.ravel()] = True
    return edges | edges.T


RULES: dict[str, Callable[..., np.ndarray]] = {"gaussian": gaussian, "eq3": eq3, "knn": knn}


def rule_params(rule: str, **params: float) -> dict[str, float]:
    """The full parameter set of `rule`: its defaults updated with `params` (None = default).

    Raises ValueError naming the rule and its parameters for an unknown rule or parameter.
    """
    if rule not in RULES:
        raise ValueError(f"unknown semantic rule {rule!r}; known: {sorted(RULES)}")
    signature = inspect.signature(RULES[rule])
    defaults = {name: p.default for name, p in signature.parameters.items() if name != "distance"}
    given = {name: value for name, value in params.items() if value is not None}
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(f"rule {rule!r} takes {sorted(defaults)}, not {unknown}")
    return {**defaults, **given}


def apply_rule(distance: np.ndarray, rule: str = "gaussian", **params: float) -> np.ndarray:
    """Adjacency (V, V) float32 of 0/1 from a symmetric distance matrix: symmetric, diagonal 1."""
    d = np.asarray(distance, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"distance must be a square (V, V) matrix, got shape {d.shape}")
    if not np.isfinite(d).all():
        raise ValueError("distance matrix has NaN or infinite entries; no rule applies")
    full = rule_params(rule, **params)
    edges = RULES[rule](d, **full)
    adjacency = (edges | edges.T).astype(np.float32)
    np.fill_diagonal(adjacency, 1.0)
    return adjacency


def edge_count(adjacency: np.ndarray) -> int:
    """Undirected off-diagonal edges of a symmetric 0/1 adjacency."""
    a = np.asarray(adjacency) != 0
    return int((a.sum() - np.trace(a)) // 2)


def sparsity(adjacency: np.ndarray) -> float:
    """Fraction of zero entries of the adjacency (diagonal included in the count)."""
    a = np.asarray(adjacency)
    return float((a == 0).sum() / a.size)


class ClassMeans:
    """Per-class and overall means of per-sample (S, V, V) distance matrices, fed a batch at a
    time (`add`), so that no caller has to hold every sample's matrix at once: a full NTU60
    build has about 40,000 training samples of 625 distances per split.

    Batches are summed in float64 in the order they are added: the same batches in the same
    order give the same means, bit for bit.
    """

    def __init__(self, num_classes: int) -> None:
        self.num_classes = num_classes
        self.counts = np.zeros(num_classes, dtype=np.int64)
        self.sums: np.ndarray | None = None  # (K, V, V) per-class sums, from the first batch on
        self.total: np.ndarray | None = None  # (V, V) sum over every sample

    def add(self, per_sample: np.ndarray, labels: np.ndarray) -> None:
        """Add the matrices `per_sample` (S, V, V) of samples of class `labels` (S,)."""
        mats = np.asarray(per_sample, dtype=np.float64)
        labs = np.asarray(labels).reshape(-1).astype(np.int64)
        if mats.ndim != 3 or mats.shape[1] != mats.shape[2] or len(mats) != len(labs):
            raise ValueError(
                f"need per_sample (S, V, V) and labels (S,), got {mats.shape} and {labs.shape}"
            )
        if not len(labs):
            return
        if labs.min() < 0 or labs.max() >= self.num_classes:
            raise ValueError(
                f"labels must lie in [0, {self.num_classes - 1}], got {labs.min()}..{labs.max()}"
            )
        if self.sums is None:
            self.sums = np.zeros((self.num_classes, *mats.shape[1:]))
            self.total = np.zeros(mats.shape[1:])
        np.add.at(self.sums, labs, mats)  # no BLAS: its threads cost more than tiny batches
        self.total += mats.sum(axis=0)
        self.counts += np.bincount(labs, minlength=self.num_classes)

    def means(self) -> tuple[np.ndarray, np.ndarray]:
        """(pair_distance (K, V, V), distance (V, V)), float64: a class without any sample gets
        NaN; `distance` is the mean over all samples (so larger classes weigh more)."""
        if self.sums is None:
            raise ValueError("class_means needs at least one sample")
        with np.errstate(invalid="ignore", divide="ignore"):
            pair = self.sums / self.counts[:, None, None]
        return pair, self.total / self.counts.sum()


def class_means(
    per_sample: np.ndarray, labels: np.ndarray, num_classes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per-class and overall mean of per-sample (S, V, V) distance matrices (`ClassMeans` of
    one batch). The caller passes training samples only."""
    means = ClassMeans(num_classes)
    means.add(per_sample, labels)
    return means.means()
