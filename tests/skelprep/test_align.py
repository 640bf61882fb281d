"""Alignment steps on hand-made skeletons whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from skelprep.align import (
    align_bodies,
    align_sequence,
    coordinate_dims,
    fill_gaps,
    rotation_matrix,
    shape_recorded,
    to_sample_array,
)
from skelprep.layouts import Layout
from skelprep.read_options import ReadOptions

# A 4-joint stick figure: 0 hip, 1 spine (origin), 2 right shoulder, 3 left shoulder.
TOY = Layout("toy", ("hip", "spine", "r", "l"), ((0, 1), (1, 2), (1, 3)), 1, 1, (0, 1), (2, 3))
SHAPE = ReadOptions(max_frames=8, max_bodies=2)
UPRIGHT = np.array([[0.0, 0.0, -1.0], [0.0, 0.0, 0.0], [-0.5, 0.0, 0.2], [0.5, 0.0, 0.2]])


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    axis = axis / np.linalg.norm(axis)
    k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k


def test_fill_gaps_drops_empty_ends_and_repeats_last_frame_inside_a_track() -> None:
    joints = np.zeros((2, 6, 1, 3))
    present = np.zeros((2, 6), dtype=bool)
    present[0, [1, 2, 4]] = True
    joints[0, [1, 2, 4], 0, 0] = [1.0, 2.0, 4.0]
    present[1, 2] = True
    joints[1, 2, 0, 0] = 9.0
    out, mask = fill_gaps(joints, present)
    assert out.shape[1] == 4  # frames 1..4 kept, 0 and 5 dropped
    np.testing.assert_array_equal(out[0, :, 0, 0], [1.0, 2.0, 2.0, 4.0])
    np.testing.assert_array_equal(mask[0], [True, True, True, True])
    np.testing.assert_array_equal(out[1, :, 0, 0], [0.0, 9.0, 0.0, 0.0])  # absent stays zero
    np.testing.assert_array_equal(mask[1], [False, True, False, False])


def test_alignment_moves_origin_joint_of_first_tracked_frame_to_zero() -> None:
    joints = np.zeros((2, 3, 4, 3))
    joints[0, 1:] = UPRIGHT + [1.0, 2.0, 3.0]
    present = np.array([[False, True, True], [False, False, False]])
    out, (matrix, offset) = align_bodies(joints, present, TOY)
    np.testing.assert_allclose(offset, UPRIGHT[1] + [1.0, 2.0, 3.0])
    np.testing.assert_allclose(matrix, np.eye(3), atol=1e-12)  # already upright
    np.testing.assert_allclose(out[0, 1, 1], 0.0)
    np.testing.assert_allclose(out[0, 2], UPRIGHT, atol=1e-12)
    assert not out[0, 0].any() and not out[1].any()  # untracked stays zero


def test_rotation_matrix_is_proper_and_maps_bones_to_axes() -> None:
    up, across = np.array([0.0, 2.0, 0.1]), np.array([-1.0, 0.3, 0.0])
    matrix = rotation_matrix(up, across)
    np.testing.assert_allclose(matrix @ matrix.T, np.eye(3), atol=1e-12)
    assert np.isclose(np.linalg.det(matrix), 1.0)
    np.testing.assert_allclose(matrix @ up / np.linalg.norm(up), [0, 0, 1], atol=1e-12)
    turned = matrix @ across
    assert turned[0] > 0 and abs(turned[1]) < 1e-12


def test_rotation_matrix_degenerate_bones_give_identity() -> None:
    np.testing.assert_array_equal(rotation_matrix(np.zeros(3), np.ones(3)), np.eye(3))
    up = np.array([0.0, 0.0, 1.0])
    np.testing.assert_array_equal(rotation_matrix(up, 2 * up), np.eye(3))


def test_rotated_body_comes_back_upright() -> None:
    turn = _rotation(np.array([0.3, -1.0, 0.5]), 1.1)
    joints = np.zeros((2, 3, 4, 3))
    joints[0] = (UPRIGHT @ turn.T) + [0.4, -0.2, 2.5]
    present = np.array([[True, True, True], [False, False, False]])
    out, (matrix, offset) = align_bodies(joints, present, TOY)
    np.testing.assert_allclose(out[0], np.broadcast_to(UPRIGHT, (3, 4, 3)), atol=1e-12)
    assert not out[1].any()
    # the recorded transform undoes exactly: raw = matrix^-1 @ aligned + offset
    back = out[0] @ np.linalg.inv(matrix).T + offset
    np.testing.assert_allclose(back, joints[0], atol=1e-12)


def test_level_alignment_stands_the_body_up_and_keeps_its_heading() -> None:
    """`heading=False`: a body turned 50 degrees about the vertical and leaning about the
    camera's x axis comes back upright but still turned by 50 degrees (the camera's heading);
    the rigid alignment turns it back to face the same way as UPRIGHT."""
    yaw = _rotation(np.array([0.0, 0.0, 1.0]), np.deg2rad(50))
    lean = _rotation(np.array([1.0, 0.0, 0.0]), 0.3)
    joints = np.zeros((1, 2, 4, 3))
    joints[0] = UPRIGHT @ (lean @ yaw).T + [0.4, -0.2, 2.5]
    present = np.ones((1, 2), dtype=bool)
    level, (matrix, offset) = align_bodies(joints, present, TOY, heading=False)
    np.testing.assert_allclose(level[0], np.broadcast_to(UPRIGHT @ yaw.T, (2, 4, 3)), atol=1e-12)
    np.testing.assert_allclose(level[0] @ np.linalg.inv(matrix).T + offset, joints[0], atol=1e-12)
    rigid, _ = align_bodies(joints, present, TOY)
    np.testing.assert_allclose(rigid[0], np.broadcast_to(UPRIGHT, (2, 4, 3)), atol=1e-12)


def test_planar_alignment_centres_scales_and_keeps_scores_and_missing_joints() -> None:
    # 2-D with a score channel: joint 1 is the origin, bone 0->1 the scale ("up") bone.
    joints = np.zeros((1, 3, 4, 3))
    joints[0, :, :, :2] = 3.0 * UPRIGHT[:, [0, 2]] + [10.0, 20.0]
    joints[0, :, :, 2] = 0.9
    joints[0, 2, 3] = 0.0  # joint 3 not detected in frame 2
    present = np.ones((1, 3), dtype=bool)
    out, (matrix, offset) = align_bodies(joints, present, TOY, ("x", "y", "score"))
    np.testing.assert_allclose(offset, [10.0, 20.0])
    np.testing.assert_allclose(matrix, np.eye(2) / 3.0)
    np.testing.assert_allclose(out[0, :2, :, :2], np.broadcast_to(UPRIGHT[:, [0, 2]], (2, 4, 2)))
    np.testing.assert_array_equal(out[0, :, :, 2][joints[0, :, :, 2] > 0], 0.9)
    assert not out[0, 2, 3].any()  # an undetected joint stays zero, not at -offset


@pytest.mark.parametrize(
    ("channels", "dims"),
    [(("x", "y", "z"), 3), (("x", "y", "score"), 2), (("x", "y"), 2), (("c0", "c1"), 0)],
)
def test_coordinate_dims_reads_the_channel_names(channels: tuple[str, ...], dims: int) -> None:
    assert coordinate_dims(channels) == dims


def test_shape_recorded_keeps_inner_zero_frames_and_trims_trailing_ones() -> None:
    bodies = np.zeros((3, 6, 4, 3))
    bodies[0, [0, 1, 3]] = UPRIGHT + 1.0  # frame 2 missing, frames 4-5 padding
    bodies[2, 1] = UPRIGHT  # a third body, beyond max_bodies
    array, frames, found, transform = shape_recorded(bodies, TOY, ("x", "y", "z"), SHAPE)
    assert (frames, found) == (4, 2) and array.shape == (3, 8, 4, 2)
    assert not array[:, 2].any() and not array[:, 4:].any()
    np.testing.assert_allclose(array[:, 0, :, 0].T, UPRIGHT, atol=1e-6)
    assert transform is not None
    _, _, _, none = shape_recorded(bodies, TOY, ("c0", "c1", "c2"), SHAPE)
    assert none is None  # unnamed channels are never aligned


def test_to_sample_array_pads_and_trims() -> None:
    joints = np.arange(1 * 5 * 4 * 3, dtype=float).reshape(1, 5, 4, 3) + 1
    padded, frames = to_sample_array(joints, max_frames=8, max_bodies=2)
    assert padded.shape == (3, 8, 4, 2) and padded.dtype == np.float32 and frames == 5
    np.testing.assert_array_equal(padded[:, :5, :, 0], joints[0].transpose(2, 0, 1))
    assert not padded[:, 5:].any() and not padded[..., 1].any()
    trimmed, frames = to_sample_array(joints, max_frames=3, max_bodies=1)
    assert trimmed.shape == (3, 3, 4, 1) and frames == 3


def test_align_sequence_without_alignment_keeps_coordinates() -> None:
    joints = np.zeros((1, 2, 4, 3))
    joints[0] = UPRIGHT + 5.0
    present = np.ones((1, 2), dtype=bool)
    out, frames, (matrix, offset) = align_sequence(
        joints, present, TOY, ReadOptions(4, 2, align=False)
    )
    assert frames == 2
    np.testing.assert_array_equal(matrix, np.eye(3))
    np.testing.assert_array_equal(offset, np.zeros(3))
    np.testing.assert_allclose(out[:, :2, :, 0], (joints[0]).transpose(2, 0, 1), rtol=1e-6)
    aligned, _, _ = align_sequence(joints, present, TOY, ReadOptions(4, 2, align=True))
    np.testing.assert_allclose(aligned[:, 0, :, 0].T, UPRIGHT, atol=1e-6)
