"""Phase 4 of a build: per-sample joint-pair DTW distances (Dask tasks over chunks of stored
training samples, staged so they resume) and the semantic adjacency of every split.

Each sample's (V, V) distances are computed once, even when it trains in several splits; each
split then averages over its own TRAIN samples only (optionally the first N per class), so no
test sample or label shapes the adjacency.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import zarr
from dask.distributed import as_completed
from tqdm import tqdm

from skelprep.build.params import BuildParams
from skelprep.build.staging import chunk_path, staged_dtw, test_kill_hook
from skelprep.build.tasks import dtw_chunk
from skelprep.semantic import class_means
from skelprep.semantic_store import write_semantic

if TYPE_CHECKING:
    from skelprep.build.run import BuildContext


def training_subsets(
    splits: dict[str, tuple[np.ndarray, np.ndarray]], labels: np.ndarray, per_class: int
) -> dict[str, np.ndarray]:
    """Split -> the sorted training indices whose DTW distances shape its adjacency: all of
    them, or the first `per_class` (in store order) of each class when per_class > 0."""
    used = {}
    for name, (train, _) in splits.items():
        train = np.sort(np.asarray(train, dtype=np.int64))
        if per_class:
            keep = [train[labels[train] == c][:per_class] for c in np.unique(labels[train])]
            train = np.sort(np.concatenate(keep)) if keep else train
        used[name] = train
    return used


def pair_distances(context: BuildContext, needed: np.ndarray) -> np.ndarray:
    """(len(needed), V, V) DTW distances of the stored samples `needed` (resuming staged chunks)."""
    partial, step = context.partial, context.params.chunk_size
    pieces = [needed[i : i + step] for i in range(0, len(needed), step)]
    results: dict[int, np.ndarray] = {}
    for k, indices in enumerate(pieces):
        found = staged_dtw(partial, k, indices)
        if found is not None:
            results[k] = found
    dtw = context.params.dtw_attrs()
    futures = {
        context.client.submit(
            dtw_chunk,
            partial,
            pieces[k],
            dtw,
            chunk_path(partial, "dtw", k),
            key=f"skelprep-dtw-{k}-{partial.name}",
            pure=False,
        ): k
        for k in range(len(pieces))
        if k not in results
    }
    initial = sum(len(pieces[k]) for k in results)
    with tqdm(
        total=len(needed), initial=initial, unit="sample", desc="dtw", disable=not context.progress
    ) as bar:
        for staged, future in enumerate(as_completed(futures), start=1):
            k = futures[future]
            future.result()
            results[k] = staged_dtw(partial, k, pieces[k])
            bar.update(len(pieces[k]))
            test_kill_hook("dtw", staged)
    if not pieces:
        return np.zeros((0, 0, 0))
    return np.concatenate([results[k] for k in range(len(pieces))])


def write_all_semantic(
    group: zarr.Group,
    used: dict[str, np.ndarray],
    needed: np.ndarray,
    distances: np.ndarray,
    labels: np.ndarray,
    num_classes: int,
    params: BuildParams,
) -> list[str]:
    """Write `semantic/<split>` for every split with training samples; returns those left out."""
    left_out = []
    for split, indices in used.items():
        if len(indices) == 0:
            left_out.append(split)
            continue
        rows = np.searchsorted(needed, indices)
        pair, mean = class_means(distances[rows], labels[indices], num_classes)
        write_semantic(
            group,
            split,
            pair,
            mean,
            params.rule,
            params.rule_params(),
            params.dtw_attrs(),
            len(indices),
        )
    return left_out
