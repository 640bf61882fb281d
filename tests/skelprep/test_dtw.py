"""Numba FastDTW equals the fastdtw package; exact DTW equals a plain Python recurrence."""

from __future__ import annotations

import fastdtw
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skelprep.dtw import (
    dtw_distance,
    fastdtw_distance,
    joint_pair_distances,
    sample_series,
    upper_pairs,
)

PACKAGE_DIST = {"manhattan": 1, "euclidean": 2}


def random_walk(seed: int, length: int, channels: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.cumsum(rng.normal(size=(length, channels)), axis=0)


def python_dtw(x: np.ndarray, y: np.ndarray, weight: float, p: int) -> float:
    """Reference: the DTW recurrence with a diagonal weight, as a plain triple loop."""
    n, m = len(x), len(y)
    d = np.full((n + 1, m + 1), np.inf)
    d[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(1, m + 1):
            cost = float(np.linalg.norm(x[i - 1] - y[j - 1], p))
            d[i, j] = cost + min(d[i - 1, j], d[i, j - 1], weight * d[i - 1, j - 1])
    return float(d[n, m])


@settings(max_examples=120, deadline=None)
@given(
    n=st.integers(1, 300),
    m=st.integers(1, 300),
    channels=st.integers(1, 5),  # 1-3 take the padded unrolled path, 4-5 the generic loop
    radius=st.integers(1, 4),
    metric=st.sampled_from(sorted(PACKAGE_DIST)),
    seed=st.integers(0, 2**32 - 1),
)
def test_fastdtw_equals_package_on_random_walks(n, m, channels, radius, metric, seed):
    x = random_walk(seed, n, channels)
    y = random_walk(seed + 1, m, channels)
    ours = fastdtw_distance(x, y, radius=radius, metric=metric)
    ref = fastdtw.fastdtw(x, y, radius=radius, dist=PACKAGE_DIST[metric])[0]
    assert ours == pytest.approx(ref, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("n,m", [(1, 1), (1, 40), (57, 1), (30, 30), (3, 200)])
@pytest.mark.parametrize("metric", sorted(PACKAGE_DIST))
def test_constant_and_length_one_series_equal_package(n, m, metric):
    x = np.full((n, 2), 1.5)
    y = np.full((m, 2), -0.25)
    ref = fastdtw.fastdtw(x, y, radius=1, dist=PACKAGE_DIST[metric])[0]
    assert fastdtw_distance(x, y, metric=metric) == pytest.approx(ref, rel=1e-12)
    assert fastdtw_distance(x, x, metric=metric) == 0.0


def test_one_dimensional_input_is_one_channel():
    x, y = random_walk(1, 50, 1), random_walk(2, 70, 1)
    assert fastdtw_distance(x[:, 0], y[:, 0]) == fastdtw_distance(x, y)
    assert fastdtw_distance(x[:, 0], y[:, 0]) == pytest.approx(
        fastdtw.fastdtw(x[:, 0], y[:, 0], radius=1)[0], rel=1e-12
    )


@pytest.mark.parametrize("weight", [0.5, 1.0, 2.0])
@pytest.mark.parametrize("metric", sorted(PACKAGE_DIST))
def test_exact_dtw_equals_python_reference(weight, metric):
    for seed, (n, m) in enumerate([(1, 1), (1, 5), (6, 1), (7, 9), (12, 5)]):
        x, y = random_walk(seed, n, 3), random_walk(seed + 50, m, 3)
        ref = python_dtw(x, y, weight, PACKAGE_DIST[metric])
        ours = dtw_distance(x, y, metric=metric, diagonal_weight=weight)
        assert ours == pytest.approx(ref, rel=1e-12)


def test_exact_dtw_equals_package_dtw_and_bounds_fastdtw():
    x, y = random_walk(3, 120, 3), random_walk(4, 90, 3)
    exact = dtw_distance(x, y)
    assert exact == pytest.approx(fastdtw.dtw(x, y, dist=1)[0], rel=1e-12)
    assert fastdtw_distance(x, y) >= exact - 1e-9
    # a radius as long as the series makes FastDTW exact
    assert fastdtw_distance(x, y, radius=120) == pytest.approx(exact, rel=1e-12)


def test_batched_all_pairs_equals_single_calls():
    rng = np.random.default_rng(7)
    series = np.cumsum(rng.normal(size=(3, 6, 40, 3)), axis=2)
    lengths = np.array([40, 17, 1])
    for parallel in (True, False):
        out = joint_pair_distances(series, lengths, radius=2, parallel=parallel)
        assert out.shape == (3, 6, 6)
        np.testing.assert_array_equal(out, out.transpose(0, 2, 1))
        np.testing.assert_array_equal(out[:, range(6), range(6)], 0.0)
        for s, (a, b) in [(0, (0, 5)), (1, (2, 3)), (2, (1, 4))]:
            t = lengths[s]
            one = fastdtw_distance(series[s, a, :t], series[s, b, :t], radius=2)
            assert out[s, a, b] == one
    exact = joint_pair_distances(series, lengths, exact=True, metric="euclidean")
    assert exact[0, 1, 2] == pytest.approx(
        dtw_distance(series[0, 1], series[0, 2], metric="euclidean"), rel=1e-12
    )


def test_sample_series_takes_body_zero_and_frames():
    joints = np.zeros((2, 3, 10, 4, 2), np.float32)
    joints[1, 2, 3, 1, 0] = 5.0  # sample 1, z, frame 3, joint 1, body 0
    joints[1, 2, 3, 1, 1] = 9.0  # body 1 is not used
    series, lengths = sample_series(joints, np.array([10, 4]))
    assert series.shape == (2, 4, 10, 3) and series.dtype == np.float64
    assert series[1, 1, 3, 2] == 5.0 and series.max() == 5.0
    assert lengths.tolist() == [10, 4]


def test_upper_pairs_lists_each_pair_once():
    pairs = upper_pairs(25)
    assert len(pairs) == 300 and (pairs[:, 0] < pairs[:, 1]).all()


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"radius": 0}, "radius"),
        ({"metric": "cosine"}, "metric"),
        ({"diagonal_weight": 0.0}, "diagonal_weight"),
    ],
)
def test_bad_parameters_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fastdtw_distance(np.zeros((3, 1)), np.zeros((4, 1)), **kwargs)


def test_bad_lengths_are_named():
    with pytest.raises(ValueError, match="sample 1 has 0 valid frames"):
        joint_pair_distances(np.zeros((2, 3, 5, 3)), np.array([5, 0]))
    with pytest.raises(ValueError, match="same channels"):
        fastdtw_distance(np.zeros((3, 2)), np.zeros((3, 3)))
