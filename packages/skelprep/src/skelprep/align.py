"""Alignment and shaping of 3-D skeleton sequences, each step a pure function.

Arrays are `joints` (M, T, V, C) float64 with `present` (M, T) bool saying where a body is
tracked; untracked entries are zero. The steps, in the order `align_sequence` applies them:

1. `fill_gaps`: frames at the start and end in which no body is tracked are dropped; inside a
   body's tracked span, a frame where it is missing repeats its last tracked frame. Before its
   first and after its last tracked frame a body stays absent (zero).
2. translate (`rigid_transform`): the layout's `origin` joint of body 0, in the first frame
   body 0 is tracked, is moved to the coordinate origin.
3. rotate (same function): the layout's `up` bone of body 0 (same frame) is turned parallel to
   +z and the `across` bone, made orthogonal to it (Gram-Schmidt), parallel to +x. If either
   bone has no length (or they are parallel) the rotation is skipped rather than guessed.
   With `heading=False` (`--no-align-heading`, `level_transform`) the camera's x axis takes
   the across bone's place: the body is stood up but keeps the heading the camera saw it at,
   so that the views of a cross-view dataset differ by their cameras' yaw (which training can
   augment) instead of by the error of one frame's shoulder line.
   2-D coordinates (x, y and maybe a score) are not rotated: `planar_transform` centres them
   on `origin` and scales the `up` bone to length 1.
4. `to_sample_array`: pad with zeros or trim to `max_frames`, keeping the valid length, and lay
   the array out as the store's (C, T, V, M) float32.

Steps 2-3 are one affine map x -> matrix @ (x - offset) (`align_bodies`), returned with the
result so that the store can record it per sample. Absent bodies and untracked frames stay
exactly zero throughout. The per-frame loops are compiled (Numba): a build runs them once per
raw file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np

from skelprep.layouts import Layout

if TYPE_CHECKING:
    from skelprep.read_options import ReadOptions
    from skelprep.readers.base import DatasetSpec

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
def _affine(joints, present, matrix, offset, keep_zero):  # noqa: ANN001, ANN202 (compiled)
    """matrix @ (x - offset) on the first D channels of every tracked joint, zero where
    untracked; other channels (scores) are copied. `keep_zero`: a joint whose D coordinates
    are all zero (not detected, as 2-D pose estimators write it) stays zero."""
    out = np.zeros_like(joints)
    dims = matrix.shape[0]
    for m in range(joints.shape[0]):
        for t in range(joints.shape[1]):
            if not present[m, t]:
                continue
            for v in range(joints.shape[2]):
                out[m, t, v, dims:] = joints[m, t, v, dims:]
                if keep_zero and not joints[m, t, v, :dims].any():
                    continue
                for axis in range(dims):
                    total = 0.0
                    for k in range(dims):
                        total += matrix[axis, k] * (joints[m, t, v, k] - offset[k])
                    out[m, t, v, axis] = total
    return out


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


CAMERA_X = np.array([1.0, 0.0, 0.0])


def _first_frame_transform(
    joints: np.ndarray, present: np.ndarray, layout: Layout, heading: bool
) -> tuple[np.ndarray, np.ndarray]:
    ref = _reference_frame(present)
    if ref is None:
        return np.eye(3), np.zeros(3)
    body = np.asarray(joints[0, ref, :, :3], dtype=np.float64)
    offset = body[layout.origin].copy()
    moved = body - offset
    (a, b), (c, d) = layout.up, layout.across
    across = moved[d] - moved[c] if heading else CAMERA_X
    return rotation_matrix(moved[b] - moved[a], across), offset


def rigid_transform(
    joints: np.ndarray, present: np.ndarray, layout: Layout
) -> tuple[np.ndarray, np.ndarray]:
    """3-D: (rotation, offset) of steps 2-3 from body 0 in its first tracked frame.

    offset = the `origin` joint there; rotation = `rotation_matrix` of the `up` and `across`
    bones measured after the translation. Identity and zero when body 0 is never tracked.
    """
    return _first_frame_transform(joints, present, layout, heading=True)


def level_transform(
    joints: np.ndarray, present: np.ndarray, layout: Layout
) -> tuple[np.ndarray, np.ndarray]:
    """3-D, heading kept: as `rigid_transform`, but the camera's x axis (made orthogonal to the
    `up` bone) goes to +x instead of the `across` bone."""
    return _first_frame_transform(joints, present, layout, heading=False)


def planar_transform(
    joints: np.ndarray, present: np.ndarray, layout: Layout
) -> tuple[np.ndarray, np.ndarray]:
    """2-D: (I / scale, offset) centring body 0 on `origin` and giving the `up` bone length 1.

    offset = the `origin` joint in the first tracked frame of body 0 where it was detected
    (a joint at exactly (0, 0) is undetected); scale = the median length of the `up` bone over
    body 0's frames in which both its joints were detected, which is robust to the jitter of
    single 2-D detections. Without such a frame the offset (or scale) is left out.
    """
    body = np.asarray(joints[0, :, :, :2], dtype=np.float64) if len(joints) else np.zeros((0, 0, 2))
    tracked = present[0] if len(present) else np.zeros(0, dtype=bool)
    detected = body.any(axis=-1) & tracked[:, None]
    seen = np.flatnonzero(detected[:, layout.origin])
    offset = body[seen[0], layout.origin].copy() if len(seen) else np.zeros(2)
    a, b = layout.up
    both = detected[:, a] & detected[:, b]
    lengths = np.linalg.norm(body[both, b] - body[both, a], axis=-1)
    scale = float(np.median(lengths)) if len(lengths) else 0.0
    return np.eye(2) / (scale if scale > _DEGENERATE else 1.0), offset


TRANSFORMS = {
    "rigid-3d": rigid_transform,
    "level-3d": level_transform,
    "planar-2d": planar_transform,
}
"""Alignment kind (its name in the store's attrs) -> the rule that computes it."""


def coordinate_dims(channels: tuple[str, ...]) -> int:
    """How many leading channels are coordinates that alignment can use: 3 for x, y, z;
    2 for x, y (then a score or other channels); 0 when the channels are not named so."""
    for dims in (3, 2):
        if tuple(channels[:dims]) == ("x", "y", "z")[:dims]:
            return dims
    return 0


def alignment_kind(dims: int, heading: bool = True) -> str:
    """The TRANSFORMS kind for `dims` coordinates: 3-D turns the body's heading to +x unless
    `heading` is False; 2-D has no heading."""
    if dims == 2:
        return "planar-2d"
    return "rigid-3d" if heading else "level-3d"


def alignment_attrs(spec: DatasetSpec, align: bool, heading: bool = True) -> dict:
    """The store's attrs `alignment` for samples of `spec`: whether they were aligned, how
    (kind, and the joints of the origin and the bones; no `across` bone when the heading was
    kept), or why not."""
    dims = coordinate_dims(spec.channels)
    if not align:
        return {"applied": False, "reason": "--no-align"}
    if not spec.aligns:
        return {"applied": False, "reason": f"the {spec.name} reader keeps its source's values"}
    if not dims:
        reason = f"channels {list(spec.channels)} name no x, y[, z] coordinates"
        return {"applied": False, "reason": reason}
    layout = spec.layout
    kind = alignment_kind(dims, heading)
    return {
        "applied": True,
        "kind": kind,
        "origin": layout.joints[layout.origin],
        "up": [layout.joints[j] for j in layout.up],
        "across": [layout.joints[j] for j in layout.across] if kind == "rigid-3d" else None,
    }


def identity_transform(dims: int) -> tuple[np.ndarray, np.ndarray]:
    """The transform of a sample that is not aligned: x -> I (x - 0)."""
    return np.eye(dims), np.zeros(dims)


def align_bodies(
    joints: np.ndarray,
    present: np.ndarray,
    layout: Layout,
    channels: tuple[str, ...] = ("x", "y", "z"),
    heading: bool = True,
) -> tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """Steps 2-3: (aligned joints, (matrix, offset)) with aligned = matrix @ (x - offset) on the
    coordinate channels of every tracked frame (`coordinate_dims`; other channels unchanged).

    3-D coordinates are translated and rotated (`rigid_transform`, or `level_transform` with
    `heading=False`), 2-D ones centred and scaled (`planar_transform`; undetected joints stay at
    zero). The transform is what the store records per sample, so the raw coordinates are
    `inverse(matrix) @ aligned + offset`.
    """
    dims = coordinate_dims(channels)
    if dims == 0:
        raise ValueError(f"channels {list(channels)} have no x, y[, z] to align")
    matrix, offset = TRANSFORMS[alignment_kind(dims, heading)](joints, present, layout)
    joints = np.ascontiguousarray(joints, dtype=np.float64)
    aligned = _affine(joints, np.ascontiguousarray(present), matrix, offset, dims == 2)
    return aligned, (matrix, offset)


def to_sample_array(joints: np.ndarray, max_frames: int, max_bodies: int) -> tuple[np.ndarray, int]:
    """Pad/trim (M, T, V, C) to float32 (C, max_frames, V, max_bodies) and return the valid length."""
    bodies, frames, joint_count, channels = joints.shape
    out = np.zeros((channels, max_frames, joint_count, max_bodies), dtype=np.float32)
    kept_frames = min(frames, max_frames)
    kept_bodies = min(bodies, max_bodies)
    out[:, :kept_frames, :, :kept_bodies] = joints[:kept_bodies, :kept_frames].transpose(3, 1, 2, 0)
    return out, kept_frames


def align_sequence(
    joints: np.ndarray, present: np.ndarray, layout: Layout, options: ReadOptions
) -> tuple[np.ndarray, int, tuple[np.ndarray, np.ndarray]]:
    """Steps 1-4 on the kept 3-D bodies (body 0 first), shaped to `options.max_frames` and
    `options.max_bodies`; `options.align=False` skips steps 2-3, `options.align_heading=False`
    keeps the camera's heading in step 3.

    Returns the (C, max_frames, V, max_bodies) float32 array, the number of valid frames (0
    when no body is tracked in any frame; callers treat that as an error) and the transform
    (matrix, offset) applied (the identity when not aligned).
    """
    joints, present = fill_gaps(joints, present)
    transform = identity_transform(3)
    if options.align:
        joints, transform = align_bodies(joints, present, layout, heading=options.align_heading)
    array, frames = to_sample_array(joints, options.max_frames, options.max_bodies)
    return array, frames, transform


def shape_recorded(
    bodies: np.ndarray, layout: Layout, channels: tuple[str, ...], options: ReadOptions
) -> tuple[np.ndarray, int, int, tuple[np.ndarray, np.ndarray] | None]:
    """Bodies (M, T, V, C) as recorded (array imports: no gap filling, no body selection) ->
    (C, max_frames, V, max_bodies) float32, valid frames, bodies found, transform.

    A body is tracked in a frame where any of its values is non-zero; the valid length runs to
    the last such frame (zero frames before it are kept as recorded). The first `max_bodies`
    bodies are kept. With `options.align` and named coordinate channels the bodies are aligned
    (`align_bodies`, with `options.align_heading`); the transform is None when they were not.
    """
    max_frames, max_bodies = options.max_frames, options.max_bodies
    present = bodies.any(axis=(2, 3))  # (M, T)
    filled = np.flatnonzero(present.any(axis=0))
    length = int(filled[-1]) + 1 if len(filled) else 0
    kept = np.asarray(bodies[:max_bodies, :length], dtype=np.float64)
    transform = None
    if options.align and coordinate_dims(channels):
        kept, transform = align_bodies(
            kept, present[:max_bodies, :length], layout, channels, options.align_heading
        )
    array, frames = to_sample_array(kept, max_frames, max_bodies)
    return array, frames, int(present.any(axis=1).sum()), transform
