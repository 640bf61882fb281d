"""Alignment steps on hand-made skeletons whose answer is known."""

from __future__ import annotations

import numpy as np

from skelprep.align import (
    align_sequence,
    fill_gaps,
    rotate,
    rotation_matrix,
    to_sample_array,
    translate,
)
from skelprep.layouts import Layout

# A 4-joint stick figure: 0 hip, 1 spine (origin), 2 right shoulder, 3 left shoulder.
TOY = Layout("toy", ("hip", "spine", "r", "l"), ((0, 1), (1, 2), (1, 3)), 1, 1, (0, 1), (2, 3))
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


def test_translate_moves_origin_joint_of_first_tracked_frame_to_zero() -> None:
    joints = np.zeros((2, 2, 4, 3))
    joints[0, :] = UPRIGHT + [1.0, 2.0, 3.0]
    present = np.array([[True, True], [False, False]])
    out = translate(joints, present, origin=1)
    np.testing.assert_allclose(out[0, 0, 1], 0.0)
    np.testing.assert_allclose(out[0, 1], UPRIGHT)
    assert not out[1].any()


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
    out = rotate(translate(joints, present, 1), present, TOY.up, TOY.across)
    np.testing.assert_allclose(out[0], np.broadcast_to(UPRIGHT, (3, 4, 3)), atol=1e-12)
    assert not out[1].any()


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
    out, frames = align_sequence(joints, present, TOY, 4, 2, align=False)
    assert frames == 2
    np.testing.assert_allclose(out[:, :2, :, 0], (joints[0]).transpose(2, 0, 1), rtol=1e-6)
    aligned, _ = align_sequence(joints, present, TOY, 4, 2, align=True)
    np.testing.assert_allclose(aligned[:, 0, :, 0].T, UPRIGHT, atol=1e-6)
