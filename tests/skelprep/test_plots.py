"""Plots write real PNGs of the expected pixel size, from arrays and from a store on disk."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
import zarr
from click.testing import CliRunner

from skelprep.cli import main
from skelprep.dtw import joint_pair_distances, sample_series
from skelprep.layouts import NTU25, OPENPOSE18
from skelprep.plots import draw_semantic_skeleton, draw_skeleton_frames, plot_heatmaps, view_basis
from skelprep.readers import ReadOptions, SampleRef, get_dataset
from skelprep.semantic import class_means
from skelprep.semantic_store import write_semantic

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; fails on anything that is not a PNG."""
    head = path.read_bytes()[:24]
    assert head[:8] == PNG_MAGIC and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


def standing_pose(rng: np.random.Generator) -> np.ndarray:
    """An NTU25 pose: joints jittered around a column, head up (+z), left shoulder at +x."""
    pose = rng.normal(scale=0.02, size=(25, 3))
    pose[:, 2] += np.linspace(0.0, 1.0, 25)
    pose[0, 2], pose[1, 2] = 0.0, 0.3  # up bone 0 -> 1
    pose[8, 0], pose[4, 0] = -0.2, 0.2  # across bone 8 -> 4
    return pose


def test_view_basis_follows_up_and_across_bones():
    pose = standing_pose(np.random.default_rng(0))
    across, up = view_basis(pose, NTU25.to_attrs())
    assert up[2] > 0.95 and across[0] > 0.95 and abs(across @ up) < 1e-12
    flat = np.zeros((18, 2))  # a degenerate pose falls back to the first two axes
    np.testing.assert_array_equal(np.stack(view_basis(flat, OPENPOSE18)), np.eye(2))


def test_heatmaps_and_skeleton_pngs(tmp_path):
    rng = np.random.default_rng(1)
    distance = rng.random((25, 25))
    distance = distance + distance.T
    adjacency = (distance < 0.5).astype(np.float32)
    pair = np.stack([distance, np.full((25, 25), np.nan), 2 * distance])
    paths = plot_heatmaps(distance, adjacency, NTU25.joints, tmp_path, pair, ["a", "b", "c"])
    assert [p.name for p in paths] == ["distance.png", "adjacency.png", "class_distance_01.png"]
    assert png_size(paths[0]) == (900, 800) and png_size(paths[1]) == (900, 800)
    assert png_size(paths[2]) == (1500, 500)  # 3 classes in one row of 500 px panels
    skeleton = draw_semantic_skeleton(standing_pose(rng), NTU25, adjacency, tmp_path / "fig5.png")
    assert png_size(skeleton) == (800, 900)
    assert skeleton.stat().st_size > 20_000


@pytest.fixture
def store(tmp_path):
    """A small store: 4 samples of a moving NTU25 body, DTW distances of the train part."""
    rng = np.random.default_rng(2)
    joints = np.zeros((4, 3, 40, 25, 2), np.float32)
    for n in range(4):
        walk = np.cumsum(rng.normal(scale=0.01, size=(40, 25, 3)), axis=0)
        joints[n, :, :, :, 0] = (standing_pose(rng) + walk).transpose(2, 0, 1)
    frames = np.array([40, 31, 25, 40], np.int32)
    path = tmp_path / "tiny.zarr"
    root = zarr.open_group(path, mode="w")
    root.attrs.update(
        {"layout": NTU25.to_attrs(), "classes": ["wave", "kick"], "channels": ["x", "y", "z"]}
    )
    root.create_array("joints", data=joints)
    root.create_array("frames", data=frames)
    root.create_array("splits/xsub/train", data=np.array([1, 2, 3], np.int64))
    series, lengths = sample_series(joints[1:], frames[1:])
    pair, distance = class_means(joint_pair_distances(series, lengths), np.array([0, 1, 1]), 2)
    write_semantic(root, "xsub", pair, distance, "knn", {"k": 2}, {"radius": 1}, 3)
    return path


def test_plot_command_writes_every_png(store, tmp_path):
    out = tmp_path / "plots"
    result = CliRunner().invoke(main, ["plot", str(store), "--split", "xsub", "--out", str(out)])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == [
        "adjacency.png",
        "class_distance_01.png",
        "distance.png",
        "sample_frames.png",
        "skeleton_semantic.png",
    ]
    assert png_size(out / "sample_frames.png") == (1920, 360)  # 8 panels of 240 px
    missing = CliRunner().invoke(main, ["plot", str(store), "--split", "xview", "--out", str(out)])
    assert missing.exit_code != 0 and "no semantic/xview" in missing.output


def test_draw_skeleton_frames_on_a_real_ntu_file(realdata, tmp_path):
    source = realdata / "LevelCA_NTU-RGB-D-skeleton-dataset-visualization"
    ref = SampleRef("S001C003P008R002A058", source / "S001C003P008R002A058.skeleton")
    sample = get_dataset("ntu60").read(ref, ReadOptions(align=False))
    joints = sample.joints[:, : sample.frames]  # (C, T, V, M): two people, as recorded
    assert joints.shape[-1] == 2 and joints[..., 1].any()
    path = draw_skeleton_frames(joints, NTU25, tmp_path / "handshake.png", panels=4)
    assert png_size(path) == (960, 360)
    with pytest.raises(ValueError, match="joints must be"):
        draw_skeleton_frames(joints[0, 0], NTU25, tmp_path / "bad.png")
