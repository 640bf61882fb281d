"""Dataset, transforms and the chunk-aware sampler over a real Zarr store."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest
import torch

from stgnode.config import ConfigError, merge_overrides
from stgnode.data import ChunkSampler, StoreDataset, make_loader, set_epoch
from stgnode.store import StoreError, open_store
from stgnode.transforms import (
    STREAMS,
    Augment,
    bone_parents,
    even_positions,
    minmax_axes,
    mirror,
    mirror_permutation,
    random_positions,
    resample,
    rotate_scale,
    stream_channels,
)
from tests.stgnode.conftest import EDGES


def test_parents_point_towards_the_centre():
    parents = bone_parents(EDGES, centre=1, num_joints=12)
    # centre 1; 0, 2, 4, 7 hang on it; 9 and 11 on 0; 10 on 9 ...
    assert parents.tolist() == [1, 1, 1, 2, 1, 4, 5, 1, 7, 0, 9, 0]
    with pytest.raises(ValueError, match=r"joints \[3\] are not connected"):
        bone_parents([[0, 1], [1, 2]], centre=0, num_joints=4)


def test_streams_bone_and_motion_by_hand():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 5, 12, 2)).astype(np.float32)
    parents = bone_parents(EDGES, 1, 12)
    bone = STREAMS["bone"](x, parents)
    np.testing.assert_array_equal(bone[:, :, 6], x[:, :, 6] - x[:, :, 5])
    np.testing.assert_array_equal(bone[:, :, 1], 0)
    motion = STREAMS["joint-motion"](x, parents)
    np.testing.assert_array_equal(motion[:, 2], x[:, 3] - x[:, 2])
    np.testing.assert_array_equal(motion[:, -1], 0)
    np.testing.assert_allclose(STREAMS["bone-motion"](x, parents)[:, 0], bone[:, 1] - bone[:, 0])


def test_joint_and_motion_stacks_coordinates_then_differences():
    x = np.random.default_rng(2).normal(size=(3, 5, 12, 2)).astype(np.float32)
    both = STREAMS["joint+motion"](x, bone_parents(EDGES, 1, 12))
    assert both.shape == (6, 5, 12, 2)
    np.testing.assert_array_equal(both[:3], x)
    np.testing.assert_array_equal(both[3:, 1], x[:, 2] - x[:, 1])
    np.testing.assert_array_equal(both[3:, -1], 0)


def test_stream_channels_are_read_off_each_stream():
    widths = {stream: stream_channels(stream, 3) for stream in STREAMS}
    assert widths == {
        "joint": 3, "bone": 3, "joint-motion": 3, "bone-motion": 3, "joint+motion": 6
    }  # fmt: skip
    with pytest.raises(ConfigError, match="unknown stream 'velocity'; known: "):
        stream_channels("velocity", 3)


def test_resize_is_linear_and_identity_at_full_length():
    x = np.arange(10, dtype=np.float32)[None, :, None, None] * np.ones((2, 1, 3, 1), np.float32)
    np.testing.assert_array_equal(resample(x, even_positions(0, 10, 10, None), 10), x)
    resized = resample(x, even_positions(2, 6, 7, None), 6)
    np.testing.assert_allclose(resized[0, :, 0, 0], np.linspace(2, 5, 7))


def test_random_sampling_is_a_forward_time_warp_inside_the_clip():
    """Sorted draws from [start, stop - 1]: a ramp x = t stays increasing and inside the clip,
    is not evenly spaced, and test mode (no rng) gives the even positions."""
    rng = np.random.default_rng(4)
    positions = random_positions(2.0, 30.0, 48, rng)
    assert positions.shape == (48,) and np.all(np.diff(positions) >= 0)
    assert positions.min() >= 2.0 and positions.max() <= 29.0
    assert not np.allclose(np.diff(positions), np.diff(positions).mean())
    np.testing.assert_array_equal(random_positions(2.0, 30.0, 48, None), np.linspace(2, 29, 48))
    np.testing.assert_array_equal(random_positions(5.0, 6.0, 4, rng), np.full(4, 5.0))
    ramp = np.arange(30, dtype=np.float64)[None, :, None, None]
    np.testing.assert_allclose(resample(ramp, positions, 30.0)[0, :, 0, 0], positions)
    with pytest.raises(ConfigError, match="unknown data.sampling 'jitter'; known: "):
        Augment(sampling="jitter")


def test_random_sampling_draws_its_positions_inside_the_crop(store):
    """A training sample under sampling = "random" is the crop the seed draws (its length,
    then its start), resampled at the sorted positions drawn next: rebuilt here by hand."""
    info = open_store(store)
    indices = info.split_indices("xsub", "train")
    aug = Augment(rotate_deg=0.0, scale=0.0, sampling="random")
    ds = StoreDataset(info, indices, 24, "joint", aug, seed=5)
    root = info.group()
    for position in range(3):
        x, _, index = ds[position]
        frames = int(root["frames"][index])
        rng = np.random.default_rng([5, 0, index])
        length = max(1, int(round(frames * rng.uniform(aug.crop_min, 1.0))))
        start = float(rng.integers(0, frames - length + 1))
        positions = random_positions(start, start + length, 24, rng)
        expected = resample(root["joints"][index], positions, start + length)
        np.testing.assert_allclose(x.numpy(), expected, rtol=1e-6)
    even = StoreDataset(
        info, indices, 24, "joint", dataclasses.replace(aug, sampling="even"), seed=5
    )
    assert not np.allclose(even[0][0].numpy(), ds[0][0].numpy())


def test_rotation_keeps_lengths_and_zero_padding_and_leaves_scores():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 4, 12, 2)).astype(np.float32)
    x[:, :, :, 1] = 0
    out = rotate_scale(x, ("x", "y", "z"), rng, Augment(rotate_deg=30, scale=0.0))
    np.testing.assert_allclose(np.linalg.norm(out, axis=0), np.linalg.norm(x, axis=0), rtol=1e-5)
    assert not np.allclose(out, x) and np.all(out[:, :, :, 1] == 0)
    scored = rotate_scale(x, ("x", "y", "score"), rng, Augment(rotate_deg=30, scale=0.1))
    np.testing.assert_array_equal(scored[2], x[2])


def test_yaw_widens_only_the_rotation_about_the_vertical():
    """`yaw_deg`: z (the vertical of an aligned 3-D store) stays, x-y turn by angles up to
    yaw_deg, wider than rotate_deg allows on the other axes."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(3, 4, 12, 1)).astype(np.float32)
    aug = Augment(rotate_deg=0.0, scale=0.0, yaw_deg=90.0)
    angles = []
    for _ in range(200):
        out = rotate_scale(x, ("x", "y", "z"), rng, aug)
        np.testing.assert_allclose(out[2], x[2], atol=1e-6)
        np.testing.assert_allclose(np.hypot(out[0], out[1]), np.hypot(x[0], x[1]), rtol=1e-4)
        turned = np.arctan2(out[1, 0, 0, 0], out[0, 0, 0, 0]) - np.arctan2(
            x[1, 0, 0, 0], x[0, 0, 0, 0]
        )
        angles.append(np.degrees(np.angle(np.exp(1j * turned))))
    assert 80 < max(np.abs(angles)) <= 90 + 1e-3
    assert Augment(rotate_deg=15.0, yaw_deg=5.0).angle_limits().tolist() == [15.0, 15.0, 15.0]


def test_mirror_swaps_sides_and_negates_x():
    """The twins come from the names; mirroring twice is the identity; a left hand at x = +a
    becomes a right hand at x = -a, with y, z and the midline joints' places kept."""
    names = ["spine", "left hand", "head", "right hand", "right foot", "left foot"]
    twins = mirror_permutation(names)
    assert twins.tolist() == [0, 3, 2, 1, 5, 4]
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 4, 6, 2)).astype(np.float32)
    out = mirror(x, ("x", "y", "z"), twins)
    np.testing.assert_array_equal(out[0, :, 3], -x[0, :, 1])
    np.testing.assert_array_equal(out[1:, :, 3], x[1:, :, 1])
    np.testing.assert_array_equal(out[1:, :, 0], x[1:, :, 0])
    np.testing.assert_array_equal(mirror(out, ("x", "y", "z"), twins), x)
    with pytest.raises(ValueError, match="'left knee' has no mirror twin 'right knee'"):
        mirror_permutation(["spine", "left knee"])


def test_mirror_augmentation_is_the_same_draw_mirrored(store):
    """data.mirror = 1 gives the mirror image of what the same seed gives without it (the coin
    is drawn after the crop and rotation), and data.mirror = 0 draws no coin at all."""
    info = open_store(store)
    indices = info.split_indices("xsub", "train")
    plain, mirrored = (
        StoreDataset(info, indices, 24, "joint", Augment(mirror=p), seed=5) for p in (0.0, 1.0)
    )
    twins = mirror_permutation(info.layout["joints"])
    for position in range(3):
        expected = mirror(plain[position][0].numpy(), info.channels, twins)
        np.testing.assert_allclose(mirrored[position][0].numpy(), expected, rtol=1e-6)
    assert not np.allclose(mirrored[0][0].numpy(), plain[0][0].numpy())
    unnamed = dataclasses.replace(info, channels=("u", "v", "w"))
    with pytest.raises(StoreError, match=r"cannot mirror: no x channel among \['u', 'v', 'w'\]"):
        StoreDataset(unnamed, indices, 24, "joint", Augment(mirror=0.5))


def test_minmax_maps_each_axis_onto_minus_one_one():
    """By hand: x spans [2, 6] and y [-1, 3] over the recorded joints, z has no extent; the
    missing joint (all zero) and the absent second body stay zero, the score channel is kept."""
    x = np.zeros((4, 2, 3, 2), np.float32)  # (x, y, score, z), 2 frames, 3 joints, 2 bodies
    x[0, :, :2, 0] = [[2, 4], [6, 3]]
    x[1, :, :2, 0] = [[-1, 0], [3, 1]]
    x[3, :, :2, 0] = 5
    x[2] = 0.7
    out = minmax_axes(x, ("x", "y", "score", "z"))
    np.testing.assert_allclose(out[0, :, :2, 0], [[-1, 0], [1, -0.5]])
    np.testing.assert_allclose(out[1, :, :2, 0], [[-1, -0.5], [1, 0]])
    np.testing.assert_array_equal(out[3, :, :2, 0], 0)  # no extent: centred only
    np.testing.assert_array_equal(out[[0, 1, 3]][:, :, 2], 0)  # the missing joint
    np.testing.assert_array_equal(out[[0, 1, 3]][..., 1], 0)  # the absent body
    np.testing.assert_array_equal(out[2], x[2])
    np.testing.assert_array_equal(minmax_axes(np.zeros_like(x), ("x", "y", "score", "z")), 0)


def test_minmax_removes_size_and_position_per_axis():
    """Invariance: a positive scale and a shift of each axis (a taller subject standing
    elsewhere) give the same normalised clip; the result spans exactly [-1, 1] on every axis."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 6, 12, 1)).astype(np.float64)
    moved = (
        x * np.array([1.7, 0.4, 2.5])[:, None, None, None]
        + np.array([3.0, -2.0, 0.5])[:, None, None, None]
    )
    out = minmax_axes(x, ("x", "y", "z"))
    np.testing.assert_allclose(minmax_axes(moved, ("x", "y", "z")), out, atol=1e-12)
    assert out.reshape(3, -1).min(axis=1).tolist() == [-1, -1, -1]
    np.testing.assert_allclose(out.reshape(3, -1).max(axis=1), 1)


def test_normalize_applies_in_training_and_test_and_is_validated(store):
    """data.normalize = minmax reaches both loaders' samples; an unknown name is refused when
    the dataset is made, naming the key and the known ones."""
    info = open_store(store)
    indices = info.split_indices("xsub", "train")
    for augment in (Augment(), None):
        ds = StoreDataset(info, indices, 24, "joint", augment, seed=5, normalize="minmax")
        x = ds[2][0].numpy()
        seen = np.any(x != 0, axis=0)
        assert np.isclose(x[:, seen].min(axis=1), -1).all()
        assert np.isclose(x[:, seen].max(axis=1), 1).all()
    with pytest.raises(ConfigError, match=r"unknown data.normalize 'zscore'; known: \['minmax'"):
        StoreDataset(info, indices, 24, "joint", None, normalize="zscore")


def test_test_mode_is_the_whole_valid_part_resized(store):
    info = open_store(store)
    ds = StoreDataset(
        info, info.split_indices("xsub", "test"), window=24, stream="joint", augment=None
    )
    x, label, index = ds[3]
    assert x.shape == (3, 24, 12, 2) and x.dtype == torch.float32
    raw = info.group()["joints"][index]
    frames = int(info.group()["frames"][index])
    np.testing.assert_allclose(
        x.numpy(), resample(raw, even_positions(0, frames, 24, None), frames), rtol=1e-6
    )
    assert label == int(info.group()["label"][index])
    assert torch.equal(ds[3][0], x)


def test_training_augmentation_is_a_function_of_seed_epoch_and_sample(store):
    info = open_store(store)
    ds = StoreDataset(info, info.split_indices("xsub", "train"), 16, "bone", Augment(), seed=3)
    first = ds[5][0]
    assert torch.equal(first, ds[5][0])
    ds.epoch = 1
    assert not torch.equal(first, ds[5][0])
    fresh = pickle.loads(pickle.dumps(ds))  # what a worker gets: no open array, no cache
    assert fresh._joints is None and not fresh._cache
    assert torch.equal(fresh[5][0], ds[5][0])
    assert len(ds._cache) <= ds.cache_chunks


def test_sampler_covers_each_sample_once_and_slices_global_batches():
    chunk_ids = np.repeat(np.arange(6), 16)[:90]
    one = ChunkSampler(chunk_ids, global_batch=8, shuffle=True, seed=0)
    one.set_epoch(2)
    assert {epoch for _, epoch in one} == {2}  # each position travels with its epoch
    order = [position for position, _ in one]
    assert len(order) == len(one) == 88 and len(set(order)) == 88
    for start in range(
        0, 88, 8
    ):  # a global batch stays inside one group of 4 chunks (+1 at a seam)
        assert len(set(chunk_ids[order[start : start + 8]])) <= 5
    ranks = [ChunkSampler(chunk_ids, 8, True, 0, rank, 2) for rank in range(2)]
    for sampler in ranks:
        sampler.set_epoch(2)
    mine = [[position for position, _ in s] for s in ranks]
    rebuilt = [p for b in range(11) for r in range(2) for p in mine[r][b * 4 : b * 4 + 4]]
    assert rebuilt == order
    one.set_epoch(3)
    assert [position for position, _ in one] != order
    tests = [[p for p, _ in ChunkSampler(chunk_ids, 8, False, 0, r, 2)] for r in range(2)]
    assert sorted(tests[0] + tests[1]) == list(range(90))


def test_loader_with_worker_processes_equals_in_process(store, tiny_config):
    config = merge_overrides(tiny_config, ["data.num_workers=0"])
    batches = {}
    for workers in (0, 2):
        loader = make_loader(
            store, "xsub", "train", merge_overrides(config, [f"data.num_workers={workers}"]), True
        )
        batches[workers] = []
        for epoch in (1, 2):  # the persistent workers must follow the epoch change
            set_epoch(loader, epoch)
            batches[workers] += [(x, y, i) for x, y, i in loader]
    assert len(batches[0]) == 2 * 64 // 16
    for (x0, y0, i0), (x2, y2, i2) in zip(batches[0], batches[2], strict=True):
        assert torch.equal(x0, x2) and torch.equal(y0, y2) and torch.equal(i0, i2)
    test = make_loader(store, "xsub", "test", config, False)
    assert (
        sorted(torch.cat([i for _, _, i in test]).tolist())
        == open_store(store).split_indices("xsub", "test").tolist()
    )


def test_shuffle_group_spans_a_small_store_whole(store):
    """A small store is shuffled whole, so a class-sorted sample order still mixes batches."""
    from stgnode.data import shuffle_group
    from stgnode.store import open_store

    info = open_store(store)
    chunks = -(-info.shape[0] // info.chunk)
    assert shuffle_group(info, 256) >= chunks
    assert shuffle_group(info, 0) == 1
    labels = np.sort(np.arange(96) % 4)  # class-sorted, as MSR Action3D's names are
    sampler = ChunkSampler(np.arange(96) // 16, 8, True, 0, group=shuffle_group(info, 256))
    order = [position for position, _ in sampler]
    assert all(len(set(labels[order[b : b + 8]])) >= 2 for b in range(0, len(order), 8))
