"""Skeleton graphs as adjacency arrays: ST-GCN's spatial partition (Eq. 1) and normalised graphs.

Everything about the skeleton arrives as plain arguments (joint count, 0-based bone edges,
centre joint, a semantic adjacency) read from the store's attrs; this module never imports
skelprep.

Orientation convention (the one ST-GCN's convolution uses): `A[k, j, i]` is the weight with
which joint `j` (row, the neighbour sending features) contributes to joint `i` (column, the
root being updated); a graph convolution computes `out[..., i] = sum_j x[..., j] A[k, j, i]`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _check_edges(num_joints: int, edges: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """Validate 0-based joint pairs; raise a ValueError naming the offending edge."""
    if num_joints < 1:
        raise ValueError(f"num_joints must be >= 1, got {num_joints}")
    pairs = []
    for n, edge in enumerate(edges):
        if len(edge) != 2:
            raise ValueError(f"edge #{n} {edge!r} is not a pair of joint indices")
        a, b = (int(x) for x in edge)
        if not (0 <= a < num_joints and 0 <= b < num_joints):
            raise ValueError(f"edge #{n} ({a}, {b}) is outside joints 0..{num_joints - 1}")
        pairs.append((a, b))
    return pairs


def bone_adjacency(num_joints: int, edges: Sequence[Sequence[int]]) -> np.ndarray:
    """Symmetric 0/1 (V, V) adjacency of the bones, with self-loops on the diagonal."""
    adjacency = np.eye(num_joints, dtype=np.float64)
    for a, b in _check_edges(num_joints, edges):
        adjacency[a, b] = adjacency[b, a] = 1.0
    return adjacency


def hop_distance(num_joints: int, edges: Sequence[Sequence[int]], max_hop: int) -> np.ndarray:
    """Shortest-path hop count between joints, `inf` beyond `max_hop` (or unreachable)."""
    step = bone_adjacency(num_joints, edges) > 0
    distance = np.full((num_joints, num_joints), np.inf)
    reach = np.eye(num_joints, dtype=bool)
    distance[reach] = 0
    for hop in range(1, max_hop + 1):
        reach_next = (reach.astype(np.int64) @ step.astype(np.int64)) > 0
        distance[reach_next & ~reach] = hop
        reach = reach_next
    return distance


def spatial_adjacency(
    num_joints: int,
    edges: list[tuple[int, int]],
    centre: int,
    max_hop: int = 1,
    *,
    exact_centre_distance: bool = False,
) -> np.ndarray:
    """ST-GCN's spatial-configuration partition (Yan et al., AAAI 2018), (1 + 2*max_hop, V, V).

    Neighbours are joints within `max_hop` hops (a joint is its own 0-hop neighbour). The
    neighbourhood matrix is normalised by the root's degree, column-wise (`A D^-1`, ST-GCN's
    `normalize_digraph`): `A[j, i] = 1 / deg(i)`, so each root averages its neighbours. With
    `r(x)` the hop distance of joint x to `centre`, the entries are split, for root i and
    neighbour j at hop h:

    - h = 0: subset 0, the root itself;
    - h >= 1 and r(j) >= r(i): subset 2h-1, neighbours as far or farther from the centre than
      the root (features flowing in towards the centre);
    - h >= 1 and r(j) < r(i): subset 2h, neighbours closer to the centre than the root.

    By default r is measured as ST-GCN's code measures it, only up to `max_hop` hops: joints
    farther from the centre get r = inf, so between two such joints every edge falls in
    subset 2h-1 (open-mmlab/mmskeleton issue #367). That is what makes the result equal the
    published ST-GCN graphs element for element (max_hop=1: root, centripetal,
    centrifugal). `exact_centre_distance=True` uses true shortest-path distances instead, the
    partition as the paper defines it. Float32.
    """
    if not 0 <= centre < num_joints:
        raise ValueError(f"centre joint {centre} is outside joints 0..{num_joints - 1}")
    if max_hop < 1:
        raise ValueError(f"max_hop must be >= 1, got {max_hop}")
    hops = hop_distance(num_joints, edges, max_hop)
    neighbourhood = np.isfinite(hops).astype(np.float64)
    normalised = neighbourhood / neighbourhood.sum(axis=0, keepdims=True)
    reach = num_joints if exact_centre_distance else max_hop
    to_centre = hop_distance(num_joints, edges, reach)[:, centre]
    sender_farther = to_centre[:, None] >= to_centre[None, :]  # [j, i]: r(j) >= r(i)
    subsets = [np.where(hops == 0, normalised, 0.0)]
    for hop in range(1, max_hop + 1):
        at_hop = hops == hop
        subsets.append(np.where(at_hop & sender_farther, normalised, 0.0))
        subsets.append(np.where(at_hop & ~sender_farther, normalised, 0.0))
    return np.stack(subsets).astype(np.float32)


def normalized_semantic(adjacency: np.ndarray) -> np.ndarray:
    """Symmetric normalisation D^-1/2 A D^-1/2 of a (V, V) graph, self-loops ensured.

    A zero diagonal entry is set to 1 before normalising, so every joint keeps its own
    features and no degree is zero. Used for the ODE's graph term, whose eigenvalues then lie
    in [-1, 1] (so those of A - I lie in [-2, 0], a stable system). Float32.
    """
    a = np.asarray(adjacency, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"adjacency must be a square (V, V) matrix, got shape {a.shape}")
    if not np.isfinite(a).all() or (a < 0).any():
        raise ValueError("adjacency must be finite and non-negative")
    a = a.copy()
    diagonal = np.diagonal(a)
    np.fill_diagonal(a, np.where(diagonal > 0, diagonal, 1.0))
    inv_sqrt = 1.0 / np.sqrt(a.sum(axis=1))
    return (inv_sqrt[:, None] * a * inv_sqrt[None, :]).astype(np.float32)
