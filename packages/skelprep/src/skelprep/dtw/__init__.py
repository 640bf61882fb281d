"""FastDTW and exact DTW distances between joint trajectories, compiled with Numba.

The `fastdtw` package (0.3.4) is the reference: `fastdtw_distance(x, y, radius=r,
metric="manhattan")` equals `fastdtw.fastdtw(x, y, radius=r, dist=1)[0]` (and "euclidean"
equals `dist=2`), but runs compiled. `joint_pair_distances` computes the (V, V) distance
matrix of many samples in one call, all joint pairs of all samples spread over Numba's
threads; it is what the store builder calls to make the semantic adjacency.

The recurrence is D(i, j) = d(x_i, y_j) + min(D(i-1, j), D(i, j-1), w * D(i-1, j-1)) with
`w = diagonal_weight` (the paper's Eq. 2 multiplier; 1.0 is standard DTW).
"""

from __future__ import annotations

import numba
import numpy as np

from skelprep.dtw import kernel

METRICS: dict[str, int] = {"manhattan": kernel.MANHATTAN, "euclidean": kernel.EUCLIDEAN}


def _metric_code(metric: str) -> int:
    try:
        return METRICS[metric]
    except KeyError:
        raise ValueError(f"unknown DTW metric {metric!r}; known: {sorted(METRICS)}") from None


def _check_params(radius: int, diagonal_weight: float) -> None:
    # radius 0 leaves an odd level's last row outside the projected window (the package
    # crashes there), so the smallest meaningful radius is 1.
    if int(radius) != radius or radius < 1:
        raise ValueError(f"DTW radius must be an integer >= 1, got {radius!r}")
    if not diagonal_weight > 0 or not np.isfinite(diagonal_weight):
        raise ValueError(
            f"DTW diagonal_weight must be a finite number > 0, got {diagonal_weight!r}"
        )


def _as_series(a: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise ValueError(f"{name} must be a non-empty (T, C) series, got shape {arr.shape}")
    return np.ascontiguousarray(arr)


def _distance(x, y, radius: int, metric: str, diagonal_weight: float, exact: bool) -> float:
    _check_params(radius, diagonal_weight)
    xa = _as_series(x, "x")
    ya = _as_series(y, "y")
    if xa.shape[1] != ya.shape[1]:
        raise ValueError(f"x and y need the same channels, got {xa.shape} and {ya.shape}")
    code = _metric_code(metric)
    return float(kernel.one_pair(xa, ya, int(radius), code, float(diagonal_weight), exact))


def fastdtw_distance(
    x: np.ndarray,
    y: np.ndarray,
    radius: int = 1,
    metric: str = "manhattan",
    diagonal_weight: float = 1.0,
) -> float:
    """FastDTW distance of x (T1, C) and y (T2, C) (1-D arrays count as C = 1).

    Same value as `fastdtw.fastdtw(x, y, radius, dist=1 or 2)[0]`; `radius` >= 1.
    """
    return _distance(x, y, radius, metric, diagonal_weight, exact=False)


def dtw_distance(
    x: np.ndarray, y: np.ndarray, metric: str = "manhattan", diagonal_weight: float = 1.0
) -> float:
    """Exact DTW distance of x (T1, C) and y (T2, C): the same kernel with the full window."""
    return _distance(x, y, 1, metric, diagonal_weight, exact=True)


def upper_pairs(num_joints: int) -> np.ndarray:
    """The V * (V - 1) / 2 joint pairs (i < j) as an int64 (P, 2) array."""
    i, j = np.triu_indices(num_joints, k=1)
    return np.stack([i, j], axis=1).astype(np.int64)


def joint_pair_distances(
    series: np.ndarray,
    lengths: np.ndarray,
    radius: int = 1,
    metric: str = "manhattan",
    diagonal_weight: float = 1.0,
    exact: bool = False,
    parallel: bool = True,
) -> np.ndarray:
    """DTW distance between every two joints of every sample, in one compiled call.

    series: float (S, V, Tmax, C); lengths: int (S,) valid frames of each sample (1..Tmax).
    Returns float64 (S, V, V), symmetric with a zero diagonal. `parallel=True` spreads the
    S * V * (V - 1) / 2 pairs over Numba's threads; `parallel=False` runs them on the
    calling thread (the kernel releases the GIL, so a thread pool can run several calls).
    """
    _check_params(radius, diagonal_weight)
    code = _metric_code(metric)
    arr = np.ascontiguousarray(series, dtype=np.float64)
    if arr.ndim != 4:
        raise ValueError(f"series must be (S, V, Tmax, C), got shape {arr.shape}")
    num, joints, tmax, _ = arr.shape
    lens = np.asarray(lengths, dtype=np.int64).reshape(-1)
    if lens.shape != (num,):
        raise ValueError(f"lengths must have shape ({num},), got {np.shape(lengths)}")
    bad = np.flatnonzero((lens < 1) | (lens > tmax))
    if bad.size:
        raise ValueError(
            f"sample {bad[0]} has {lens[bad[0]]} valid frames; each needs 1..{tmax} (Tmax)"
        )
    out = np.zeros((num, joints, joints))
    pairs = upper_pairs(joints)
    if num == 0 or len(pairs) == 0:
        return out
    args = (arr, lens, pairs)
    params = (int(radius), code, float(diagonal_weight), bool(exact), out)
    if parallel:
        chunks = min(num * len(pairs), 8 * numba.get_num_threads())
        kernel.all_pairs_parallel(*args, chunks, *params)
    else:
        kernel.all_pairs_serial(*args, *params)
    return out


def sample_series(joints: np.ndarray, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Joint series of store rows: body 0 over the valid frames, as DTW input.

    joints float (S, C, T, V, M) as in the store's `joints` array, frames int (S,).
    Returns (series float64 (S, V, T, C), lengths int64 (S,)); only the first
    `lengths[s]` frames of sample s are read by `joint_pair_distances`.
    """
    arr = np.asarray(joints)
    if arr.ndim != 5:
        raise ValueError(f"joints must be (S, C, T, V, M), got shape {arr.shape}")
    series = np.ascontiguousarray(arr[..., 0].transpose(0, 3, 2, 1), dtype=np.float64)
    return series, np.asarray(frames, dtype=np.int64).reshape(-1)


__all__ = [
    "METRICS",
    "dtw_distance",
    "fastdtw_distance",
    "joint_pair_distances",
    "sample_series",
    "upper_pairs",
]
