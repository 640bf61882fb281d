"""Alignment and shaping of 3-D skeleton sequences, each step a pure function.

Arrays are `joints` (M, T, V, C) float64 with `present` (M, T) bool saying where a body is
tracked; untracked entries are zero. The steps, in the order `align_sequence` applies them:

1. `fill_gaps`: frames at the start and end in which no body is tracked are dropped; inside a
   body's tracked span, a frame where it is missing repeats its last tracked frame. Before its
   first and after its last tracked frame a body stays absent (zero).
2. `translate`: the layout's `origin` joint of body 0, in the first frame body 0 is tracked, is
   moved to the coordinate origin.
3. `rotate`: the layout's `up` bone of body 0 (same frame) is turned parallel to +z and the
   `across` bone, made orthogonal to it (Gram-Schmidt), parallel to +x. If either bone has no
   length (or they are parallel) the rotation is skipped rather than guessed.
4. `to_sample_array`: pad with zeros or trim to `max_frames`, keeping the valid length, and lay
   the array out as the store's (C, T, V, M) float32.

Absent bodies and untracked frames stay exactly zero throughout. The per-frame loops are
compiled (Numba): a build runs them once per raw file.
"""

from __future__ import annotations

import numba
import numpy as np

from skelprep.layouts import Layout

_DEGENERATE = 1e-9


@numba.njit(cache=True, nogil=True)
def _fill(joints, present):  # noqa: ANN001, ANN202 (compiled)
    """In place: inside each body's tracked span, a missing frame repeats the last tracked one."""
    for m in range(present.shape[0]):
        last = -1
        for t in range(present.shape[1]):
            if present[m, t]:
                last = t
        previous = -1
        for t in range(last + 1):
            if present[m, t]:
                previous = t
            elif previous >= 0:
                joints[m, t] = joints[m, previous]
                present[m, t] = True


def fill_gaps(joints: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop leading/trailing frames with no body and fill each body's inner gaps (step 1)."""
    tracked = np.flatnonzero(present.any(axis=0))
    if not len(tracked):
        return joints[:, :0].copy(), present[:, :0].copy()
    span = slice(tracked[0], tracked[-1] + 1)
    joints = np.array(joints[:, span], dtype=np.float64, order="C")  # a copy: filled in place
    present = present[:, span].copy()
    _fill(joints, present)
    return joints, present


def _reference_frame(present: np.ndarray) -> int | None:
    """Index of the first frame in which body 0 is tracked, or None."""
    frames = np.flatnonzero(present[0]) if present.shape[0] else np.array([], dtype=int)
    return int(frames[0]) if len(frames) else None


@numba.njit(cache=True, nogil=True)
def _affine(joints, present, matrix, offset):  # noqa: ANN001, ANN202 (compiled)
    """matrix @ (x - offset) for every tracked joint position, zero where untracked."""
    out = np.zeros_like(joints)
    for m in range(joints.shape[0]):
        for t in range(joints.shape[1]):
            if not present[m, t]:
                continue
            for v in range(joints.shape[2]):
                x = joints[m, t, v, 0] - offset[0]
                y = joints[m, t, v, 1] - offset[1]
                z = joints[m, t, v, 2] - offset[2]
                for axis in range(3):
                    out[m, t, v, axis] = (
                        matrix[axis, 0] * x + matrix[axis, 1] * y + matrix[axis, 2] * z
                    )
    return out


def translate(joints: np.ndarray, present: np.ndarray, origin: int) -> np.ndarray:
    """Move joint `origin` of body 0 (first tracked frame) to the origin (step 2)."""
    ref = _reference_frame(present)
    if ref is None:
        return joints.copy()
    joints = np.ascontiguousarray(joints, dtype=np.float64)
    return _affine(joints, np.ascontiguousarray(present), np.eye(3), joints[0, ref, origin].copy())


@numba.njit(cache=True, nogil=True)
def _rotation(up, across):  # noqa: ANN001, ANN202 (compiled)
    matrix = np.eye(3)
    up_norm = np.sqrt(up[0] ** 2 + up[1] ** 2 + up[2] ** 2)
    if up_norm < _DEGENERATE:
        return matrix
    ez = up / up_norm
    ex = across - (across[0] * ez[0] + across[1] * ez[1] + across[2] * ez[2]) * ez
    ex_norm = np.sqrt(ex[0] ** 2 + ex[1] ** 2 + ex[2] ** 2)
    if ex_norm < _DEGENERATE:
        return matrix
    ex = ex / ex_norm
    matrix[0] = ex
    matrix[1] = (
        ez[1] * ex[2] - ez[2] * ex[1],
        ez[2] * ex[0] - ez[0] * ex[2],
        ez[0] * ex[1] - ez[1] * ex[0],
    )
    matrix[2] = ez
    return matrix


def rotation_matrix(up: np.ndarray, across: np.ndarray) -> np.ndarray:
    """The rotation (3, 3) taking `up` to +z and the part of `across` orthogonal to it to +x.

    Rows are the new axes (x, y, z) in old coordinates, y = z cross x, so the result is a proper
    rotation (determinant +1). Returns the identity when the bones are degenerate.
    """
    return _rotation(np.asarray(up, dtype=np.float64), np.asarray(across, dtype=np.float64))


def rotate(
    joints: np.ndarray, present: np.ndarray, up: tuple[int, int], across: tuple[int, int]
) -> np.ndarray:
    """Rotate every body so that body 0's `up` bone is +z and its `across` bone +x (step 3)."""
    ref = _reference_frame(present)
    if ref is None:
        return joints.copy()
    body = joints[0, ref]
    matrix = rotation_matrix(body[up[1]] - body[up[0]], body[across[1]] - body[across[0]])
    joints = np.ascontiguousarray(joints, dtype=np.float64)
    return _affine(joints, np.ascontiguousarray(present), matrix, np.zeros(3))


def to_sample_array(joints: np.ndarray, max_frames: int, max_bodies: int) -> tuple[np.ndarray, int]:
    """Pad/trim (M, T, V, C) to float32 (C, max_frames, V, max_bodies) and return the valid length."""
    bodies, frames, joint_count, channels = joints.shape
    out = np.zeros((channels, max_frames, joint_count, max_bodies), dtype=np.float32)
    kept_frames = min(frames, max_frames)
    kept_bodies = min(bodies, max_bodies)
    out[:, :kept_frames, :, :kept_bodies] = joints[:kept_bodies, :kept_frames].transpose(3, 1, 2, 0)
    return out, kept_frames


def align_sequence(
    joints: np.ndarray,
    present: np.ndarray,
    layout: Layout,
    max_frames: int,
    max_bodies: int,
    align: bool = True,
) -> tuple[np.ndarray, int]:
    """Steps 1-4 on the kept bodies (body 0 first); `align=False` skips translation and rotation.

    Returns the (C, max_frames, V, max_bodies) float32 array and the number of valid frames
    (0 when no body is tracked in any frame; callers treat that as an error).
    """
    joints, present = fill_gaps(joints, present)
    if align:
        joints = translate(joints, present, layout.origin)
        joints = rotate(joints, present, layout.up, layout.across)
    return to_sample_array(joints, max_frames, max_bodies)
