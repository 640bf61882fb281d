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

Absent bodies and untracked frames stay exactly zero throughout.
"""

from __future__ import annotations

import numpy as np

from skelprep.layouts import Layout

_DEGENERATE = 1e-9


def fill_gaps(joints: np.ndarray, present: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop leading/trailing frames with no body and fill each body's inner gaps (step 1)."""
    any_body = present.any(axis=0)
    if not any_body.any():
        return joints[:, :0].copy(), present[:, :0].copy()
    tracked = np.flatnonzero(any_body)
    joints = joints[:, tracked[0] : tracked[-1] + 1].copy()
    present = present[:, tracked[0] : tracked[-1] + 1].copy()
    for m in range(joints.shape[0]):
        frames = np.flatnonzero(present[m])
        if len(frames) == 0:
            continue
        span = np.arange(frames[0], frames[-1] + 1)
        last = frames[np.searchsorted(frames, span, side="right") - 1]
        joints[m, span] = joints[m, last]
        present[m, span] = True
    return joints, present


def _reference_frame(present: np.ndarray) -> int | None:
    """Index of the first frame in which body 0 is tracked, or None."""
    frames = np.flatnonzero(present[0]) if present.shape[0] else np.array([], dtype=int)
    return int(frames[0]) if len(frames) else None


def translate(joints: np.ndarray, present: np.ndarray, origin: int) -> np.ndarray:
    """Move joint `origin` of body 0 (first tracked frame) to the origin (step 2)."""
    ref = _reference_frame(present)
    if ref is None:
        return joints.copy()
    out = joints - joints[0, ref, origin]
    out[~present] = 0.0
    return out


def rotation_matrix(up: np.ndarray, across: np.ndarray) -> np.ndarray:
    """The rotation (3, 3) taking `up` to +z and the part of `across` orthogonal to it to +x.

    Rows are the new axes (x, y, z) in old coordinates, y = z cross x, so the result is a proper
    rotation (determinant +1). Returns the identity when the bones are degenerate.
    """
    up_norm = np.linalg.norm(up)
    if up_norm < _DEGENERATE:
        return np.eye(3)
    ez = up / up_norm
    ex = across - np.dot(across, ez) * ez
    ex_norm = np.linalg.norm(ex)
    if ex_norm < _DEGENERATE:
        return np.eye(3)
    ex = ex / ex_norm
    ey = np.cross(ez, ex)
    return np.stack([ex, ey, ez])


def rotate(
    joints: np.ndarray, present: np.ndarray, up: tuple[int, int], across: tuple[int, int]
) -> np.ndarray:
    """Rotate every body so that body 0's `up` bone is +z and its `across` bone +x (step 3)."""
    ref = _reference_frame(present)
    if ref is None:
        return joints.copy()
    body = joints[0, ref]
    matrix = rotation_matrix(body[up[1]] - body[up[0]], body[across[1]] - body[across[0]])
    out = joints @ matrix.T
    out[~present] = 0.0
    return out


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
