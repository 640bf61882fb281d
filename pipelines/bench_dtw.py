"""`just bench-dtw`: our Numba FastDTW against the `fastdtw` package, on the same joint pairs.

Samples are NTU-like: 25 joints x 3 coordinates, T uniform in [50, 300], each joint a pose
offset plus smooth random motion (a random walk, low-pass filtered). One run times:

- the package, `fastdtw.fastdtw(x, y, radius=1, dist=1)`, on a random subset of the pairs;
- ours on the same subset, one pair per Python call (`fastdtw_distance`);
- ours batched: all 300 pairs of >= 1000 samples in one call, on one thread and on all
  Numba threads, giving the projected time of NTU60's 40,091 training samples;
- FastDTW's error against exact DTW (the same kernel, unbounded window).

With `--store PATH` it also reports, on that store's training samples, the FastDTW vs
exact error and the edges each adjacency rule gives on the stored distances.
"""

from __future__ import annotations

import argparse
import platform
import time
from datetime import UTC, datetime

import fastdtw
import numba
import numpy as np
import zarr

from skelprep.dtw import (
    dtw_distance,
    fastdtw_distance,
    joint_pair_distances,
    sample_series,
    upper_pairs,
)
from skelprep.semantic import RULES, apply_rule, edge_count

NTU60_TRAIN = 40_091
JOINTS = 25


def ntu_like(count: int, seed: int, tmin: int = 50, tmax: int = 300):
    """Series (count, 25, tmax, 3) and lengths: smoothed random walks around a pose."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(tmin, tmax + 1, count)
    steps = rng.normal(scale=0.02, size=(count, JOINTS, tmax + 8, 3))
    csum = np.cumsum(steps, axis=2)
    smooth = (csum[:, :, 8:] - csum[:, :, :-8]) / 8  # moving average over 8 frames
    pose = rng.normal(scale=0.3, size=(count, JOINTS, 1, 3))
    series = pose + np.cumsum(smooth, axis=2)
    series *= (np.arange(tmax)[None, :] < lengths[:, None])[:, None, :, None]
    return series, lengths


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def subset_pairs(lengths: np.ndarray, count: int, seed: int) -> list[tuple[int, int, int]]:
    rng = np.random.default_rng(seed)
    pairs = upper_pairs(JOINTS)
    picks = rng.choice(len(lengths) * len(pairs), size=count, replace=False)
    return [(int(p // len(pairs)), *map(int, pairs[p % len(pairs)])) for p in picks]


def relative_error(fast: np.ndarray, exact: np.ndarray) -> tuple[float, float]:
    mask = ~np.eye(fast.shape[1], dtype=bool)[None].repeat(len(fast), 0)
    err = (fast[mask] - exact[mask]) / np.maximum(exact[mask], 1e-12)
    return float(err.mean()), float(err.max())


def store_report(path: str, split: str, limit: int) -> None:
    root = zarr.open_group(path, mode="r")
    train = root[f"splits/{split}/train"][:limit]
    series, lengths = sample_series(
        root["joints"].get_orthogonal_selection((train,)), root["frames"][train]
    )
    params = dict(root.attrs.get("build", {}).get("dtw", {}))
    radius = int(params.get("radius", 1))
    fast = joint_pair_distances(series, lengths, radius=radius)
    exact = joint_pair_distances(series, lengths, exact=True)
    mean, worst = relative_error(fast, exact)
    print(f"\nstore {path} ({split}, {len(train)} training samples, radius {radius})")
    print(f"FastDTW vs exact DTW relative error: mean {mean:.4f}, max {worst:.4f}")
    if f"semantic/{split}" in root:
        distance = root[f"semantic/{split}/distance"][...]
        for rule in RULES:
            print(
                f"  rule {rule:8s} default params: {edge_count(apply_rule(distance, rule))} edges"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000, help="samples in the batched run")
    parser.add_argument("--package-pairs", type=int, default=200, help="pairs timed on the package")
    parser.add_argument("--store", default=None, help="also report on this store's train samples")
    parser.add_argument("--split", default="xsub")
    parser.add_argument("--store-samples", type=int, default=200)
    args = parser.parse_args()

    threads = numba.get_num_threads()
    series, lengths = ntu_like(args.samples, seed=0)
    warm = joint_pair_distances(series[:2], lengths[:2])  # compile (or load the cache)
    joint_pair_distances(series[:2], lengths[:2], parallel=False, exact=True)
    fastdtw_distance(series[0, 0, :60], series[0, 1, :60])
    del warm

    subset = subset_pairs(lengths, args.package_pairs, seed=1)
    xy = [(series[s, a, : lengths[s]], series[s, b, : lengths[s]]) for s, a, b in subset]
    t_pkg, ref = timed(lambda: [fastdtw.fastdtw(x, y, radius=1, dist=1)[0] for x, y in xy])
    repeats = 20
    t_one, ours = timed(lambda: [[fastdtw_distance(x, y) for x, y in xy] for _ in range(repeats)])
    worst_diff = max(abs(a - b) / b for a, b in zip(ours[0], ref, strict=True))

    tasks = args.samples * len(upper_pairs(JOINTS))
    t_serial, serial = timed(joint_pair_distances, series, lengths, parallel=False)
    t_par, parallel = timed(joint_pair_distances, series, lengths)
    assert np.array_equal(serial, parallel)
    batched = [serial[s, a, b] for s, a, b in subset]
    assert np.array_equal(batched, ours[0]), "batched and single-call distances differ"

    pkg_rate = len(xy) / t_pkg
    one_rate = len(xy) * repeats / t_one
    serial_rate = tasks / t_serial
    par_rate = tasks / t_par
    print(f"\nbench-dtw  {datetime.now(UTC):%Y-%m-%d %H:%M} UTC  {platform.machine()}, "
          f"{threads} Numba threads, radius 1, manhattan, T in [50, 300], 25 joints x 3")  # fmt: skip
    print(f"equality on {len(xy)} pairs: max relative difference to the package {worst_diff:.1e}")
    print(f"\n| {'what':44s} | {'pairs':>7s} | {'pairs/s':>10s} | {'x package/core':>14s} |")
    print(f"|{'-' * 46}|{'-' * 9}|{'-' * 12}|{'-' * 16}|")
    rows = [
        ("fastdtw package (1 core)", len(xy), pkg_rate, 1.0),
        ("ours, one pair per Python call (1 core)", len(xy) * repeats, one_rate, one_rate / pkg_rate),
        ("ours, batched all pairs, 1 thread", tasks, serial_rate, serial_rate / pkg_rate),
        (f"ours, batched all pairs, {threads} threads", tasks, par_rate, par_rate / threads / pkg_rate),
    ]  # fmt: skip
    for name, count, rate, ratio in rows:
        print(f"| {name:44s} | {count:7d} | {rate:10.0f} | {ratio:14.0f} |")
    projected = NTU60_TRAIN * 300 / par_rate
    print(f"\nprojected NTU60 train ({NTU60_TRAIN} samples x 300 pairs) on {threads} threads: "
          f"{projected:.0f} s ({projected / 60:.1f} min), from {args.samples} samples in {t_par:.1f} s")  # fmt: skip

    few = slice(0, 20)
    exact = joint_pair_distances(series[few], lengths[few], exact=True)
    mean, worst = relative_error(serial[few], exact)
    print(f"FastDTW (radius 1) vs exact DTW on 20 samples (6000 pairs): relative error "
          f"mean {mean:.4f}, max {worst:.4f}")  # fmt: skip
    x, y = xy[0]
    assert dtw_distance(x, y) <= fastdtw_distance(x, y) + 1e-9
    if args.store:
        store_report(args.store, args.split, args.store_samples)


if __name__ == "__main__":
    main()
