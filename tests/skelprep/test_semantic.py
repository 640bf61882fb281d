"""Adjacency rules on hand-made distance matrices, class means, and the store round trip."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from skelprep.cli import main
from skelprep.errors import StoreError
from skelprep.semantic import (
    ClassMeans,
    apply_rule,
    class_means,
    edge_count,
    rule_params,
    sparsity,
)
from skelprep.semantic_store import recompute, write_semantic


def symmetric(upper: dict[tuple[int, int], float], size: int) -> np.ndarray:
    d = np.zeros((size, size))
    for (i, j), value in upper.items():
        d[i, j] = d[j, i] = value
    return d


# 4 joints, 6 pairs: distances 1, 2, 3, 4, 5, 10
FOUR = symmetric({(0, 1): 1, (0, 2): 2, (0, 3): 3, (1, 2): 4, (1, 3): 5, (2, 3): 10}, 4)


def edges_of(adjacency: np.ndarray) -> set[tuple[int, int]]:
    i, j = np.nonzero(np.triu(adjacency, k=1))
    return set(zip(i.tolist(), j.tolist(), strict=True))


def check_shape(adjacency: np.ndarray) -> None:
    assert adjacency.dtype == np.float32
    np.testing.assert_array_equal(adjacency, adjacency.T)
    np.testing.assert_array_equal(np.diag(adjacency), 1.0)
    assert set(np.unique(adjacency)) <= {0.0, 1.0}


def test_gaussian_keeps_pairs_near_the_mean_distance():
    # off-diagonal mean 25/6 ~ 4.17, std ~ 2.91: only d = 4 has |z| < 0.1 * sqrt(ln(1/0.6))
    adjacency = apply_rule(FOUR, "gaussian")
    check_shape(adjacency)
    assert edges_of(adjacency) == {(1, 2)}
    # a wider sigma reaches d = 3 and 5 too (|z| ~ 0.40 and 0.29)
    assert edges_of(apply_rule(FOUR, "gaussian", sigma=0.6)) == {(0, 3), (1, 2), (1, 3)}


def test_gaussian_on_a_constant_matrix_links_everything():
    d = np.ones((3, 3)) - np.eye(3)
    assert edge_count(apply_rule(d, "gaussian")) == 3


def test_eq3_thresholds_distance_scaled_by_the_largest():
    # scaled: 0.1 0.2 0.3 0.4 0.5 1.0
    assert edges_of(apply_rule(FOUR, "eq3", eps=0.35)) == {(0, 1), (0, 2), (0, 3)}
    assert edge_count(apply_rule(FOUR, "eq3", eps=1.01)) == 6
    assert edge_count(apply_rule(FOUR, "eq3", eps=0.05)) == 0


def test_knn_links_each_joint_to_its_nearest_and_symmetrises():
    # nearest of 0: 1; of 1: 0; of 2: 0; of 3: 0
    assert edges_of(apply_rule(FOUR, "knn", k=1)) == {(0, 1), (0, 2), (0, 3)}
    # two nearest: 0 -> 1, 2; 1 -> 0, 2; 2 -> 0, 1; 3 -> 0, 1
    check_shape(apply_rule(FOUR, "knn", k=2))
    assert edges_of(apply_rule(FOUR, "knn", k=2)) == {(0, 1), (0, 2), (0, 3), (1, 2), (1, 3)}
    with pytest.raises(ValueError, match="knn needs an integer k"):
        apply_rule(FOUR, "knn", k=4)


def test_rule_params_fill_defaults_and_reject_strangers():
    assert rule_params("gaussian") == {"sigma": 0.1, "eps": 0.6}
    assert rule_params("eq3", eps=0.3, sigma=None) == {"eps": 0.3}
    with pytest.raises(ValueError, match="rule 'knn' takes"):
        rule_params("knn", eps=0.5)
    with pytest.raises(ValueError, match="unknown semantic rule"):
        apply_rule(FOUR, "nearest")
    with pytest.raises(ValueError, match="NaN"):
        apply_rule(np.full((3, 3), np.nan))


def test_sparsity_counts_zero_entries():
    adjacency = apply_rule(FOUR, "eq3", eps=0.15)  # one edge: 4 + 2 ones of 16
    assert sparsity(adjacency) == pytest.approx(10 / 16)


def test_class_means_average_every_sample_of_each_class():
    rng = np.random.default_rng(0)
    mats = rng.random((7, 3, 3))
    labels = np.array([0, 2, 2, 0, 2, 0, 0])
    pair, overall = class_means(mats, labels, num_classes=4)
    np.testing.assert_allclose(pair[0], mats[[0, 3, 5, 6]].mean(axis=0))
    np.testing.assert_allclose(pair[2], mats[[1, 2, 4]].mean(axis=0))
    assert np.isnan(pair[1]).all() and np.isnan(pair[3]).all()
    np.testing.assert_allclose(overall, mats.mean(axis=0))
    with pytest.raises(ValueError, match="labels must lie"):
        class_means(mats, labels, num_classes=2)


def test_class_means_fed_in_batches_equal_one_pass():
    """The build adds one staged DTW chunk at a time (some without a sample of the split)."""
    rng = np.random.default_rng(1)
    mats, labels = rng.random((10, 4, 4)), rng.integers(0, 3, 10)
    batched = ClassMeans(num_classes=3)
    for rows in (slice(0, 4), slice(4, 4), slice(4, 10)):
        batched.add(mats[rows], labels[rows])
    for got, want in zip(batched.means(), class_means(mats, labels, 3), strict=True):
        np.testing.assert_allclose(got, want)
    with pytest.raises(ValueError, match="at least one sample"):
        ClassMeans(num_classes=3).means()


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "demo.zarr"
    root = zarr.open_group(path, mode="w")
    pair = np.stack([FOUR, 2 * FOUR, np.full((4, 4), np.nan)])
    dtw = {"radius": 1, "metric": "manhattan", "diagonal_weight": 1.0, "series": "body 0"}
    write_semantic(root, "xsub", pair, FOUR, "eq3", {"eps": 0.35}, dtw, samples_used=12)
    with warnings.catch_warnings():  # zarr: consolidation is not in the v3 spec
        warnings.simplefilter("ignore", UserWarning)
        zarr.consolidate_metadata(path)
    return path


def test_write_semantic_round_trip(store):
    group = zarr.open_group(store, mode="r")["semantic/xsub"]
    assert group["pair_distance"].dtype == np.float32 and group["pair_distance"].shape == (3, 4, 4)
    np.testing.assert_array_equal(group["distance"][...], FOUR.astype(np.float32))
    assert edges_of(group["adjacency"][...]) == {(0, 1), (0, 2), (0, 3)}
    attrs = dict(group.attrs)
    assert attrs["rule"] == "eq3" and attrs["params"] == {"eps": 0.35}
    assert attrs["edges"] == 3 and attrs["samples_used"] == 12
    assert attrs["dtw"]["metric"] == "manhattan"
    assert attrs["sparsity"] == pytest.approx(6 / 16)


def test_recompute_rewrites_adjacency_and_consolidated_attrs(store):
    summary = recompute(store, "xsub", "knn", k=1)
    assert summary["edges"] == 3 and summary["params"] == {"k": 1}
    group = zarr.open_group(store, mode="r")["semantic/xsub"]  # reads consolidated metadata
    assert group.attrs["rule"] == "knn" and group.attrs["samples_used"] == 12
    assert edges_of(group["adjacency"][...]) == {(0, 1), (0, 2), (0, 3)}
    np.testing.assert_array_equal(group["distance"][...], FOUR.astype(np.float32))


def test_recompute_names_the_store_when_split_is_missing(store, tmp_path):
    with pytest.raises(StoreError, match=r"demo\.zarr: no semantic/xview/distance"):
        recompute(store, "xview", "gaussian")
    with pytest.raises(StoreError, match="no store at this path"):
        recompute(tmp_path / "absent.zarr", "xsub", "gaussian")


def test_semantic_command(store):
    runner = CliRunner()
    result = runner.invoke(main, ["semantic", str(store), "--rule", "eq3", "--eps", "1.5"])
    assert result.exit_code == 0, result.output
    assert "6 edges of 6 joint pairs" in result.output
    bad = runner.invoke(main, ["semantic", str(store), "--split", "xview"])
    assert bad.exit_code != 0 and "no semantic/xview" in bad.output
    wrong = runner.invoke(main, ["semantic", str(store), "--rule", "knn", "--eps", "0.2"])
    assert wrong.exit_code != 0 and "takes ['k']" in wrong.output
