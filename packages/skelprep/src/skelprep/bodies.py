"""Body selection and denoising for multi-person 3-D skeletons (NTU's Kinect tracks).

Kinect reports up to 6 tracked "bodies" per frame; many are short-lived fragments or furniture
seen as a person. The rules below follow the denoising most NTU code applies, with thresholds as
named constants (skelprep.read_options, the defaults of `ReadOptions`):

1. drop bodies tracked in fewer than `MIN_BODY_FRAMES` frames (too short to be an actor),
2. drop bodies that are wider than tall: a frame is noisy when the x-spread of its joints exceeds
   `SPREAD_RATIO` times the y-spread, and a body is dropped when more than
   `NOISY_FRAME_FRACTION` of its frames are noisy,
3. keep the `max_bodies` bodies with the most motion (sum over joints and coordinates of the
   variance over time), most motion first (ST-GCN's ordering).

A rule that would drop every remaining body is not applied, so a sample never loses its only
actor to denoising. The input is a stack of body tracks on the file's frame timeline. The
per-body statistics are compiled (Numba): they run once per raw file of a build.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from skelprep.read_options import MIN_BODY_FRAMES, NOISY_FRAME_FRACTION, SPREAD_RATIO


@dataclass(frozen=True)
class Selection:
    """Indices of the kept bodies (most motion first) and how many bodies were found."""

    kept: tuple[int, ...]
    found: int


def tracked_frames(present: np.ndarray) -> np.ndarray:
    """Number of frames each body is tracked in; `present` is bool (B, T)."""
    return present.sum(axis=1)


@numba.njit(cache=True, nogil=True)
def _motion(joints, present):  # noqa: ANN001, ANN202 (compiled)
    bodies, frames, joint_count, channels = joints.shape
    motion = np.zeros(bodies)
    mean = np.empty((joint_count, channels))
    for b in range(bodies):
        tracked = present[b].sum()
        if tracked < 2:
            continue
        mean[:] = 0.0
        for t in range(frames):
            if present[b, t]:
                mean += joints[b, t]
        mean /= tracked
        total = 0.0
        for v in range(joint_count):
            for c in range(channels):
                square = 0.0
                for t in range(frames):
                    if present[b, t]:
                        square += (joints[b, t, v, c] - mean[v, c]) ** 2
                total += square / tracked
        motion[b] = total
    return motion


def body_motion(joints: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Sum over joints and coordinates of the variance over a body's tracked frames, (B,)."""
    return _motion(np.ascontiguousarray(joints, dtype=np.float64), np.ascontiguousarray(present))


@numba.njit(cache=True, nogil=True)
def _noisy(joints, present, ratio):  # noqa: ANN001, ANN202 (compiled)
    bodies, frames, joint_count, _ = joints.shape
    fraction = np.zeros(bodies)
    for b in range(bodies):
        noisy = 0
        tracked = 0
        for t in range(frames):
            if not present[b, t]:
                continue
            tracked += 1
            frame = joints[b, t]
            low_x = high_x = frame[0, 0]
            low_y = high_y = frame[0, 1]
            for v in range(1, joint_count):
                low_x, high_x = min(low_x, frame[v, 0]), max(high_x, frame[v, 0])
                low_y, high_y = min(low_y, frame[v, 1]), max(high_y, frame[v, 1])
            noisy += (high_x - low_x) > ratio * (high_y - low_y)
        fraction[b] = noisy / max(tracked, 1)
    return fraction


def noisy_frame_fraction(joints: np.ndarray, present: np.ndarray, ratio: float) -> np.ndarray:
    """Per body, the fraction of tracked frames whose x-spread exceeds `ratio` * y-spread, (B,)."""
    joints = np.ascontiguousarray(joints, dtype=np.float64)
    return _noisy(joints, np.ascontiguousarray(present), float(ratio))


def _keep_unless_empty(candidates: list[int], keep: np.ndarray) -> list[int]:
    """Apply a filter to the candidates unless it would remove all of them."""
    survivors = [b for b in candidates if keep[b]]
    return survivors or candidates


def select_bodies(
    joints: np.ndarray,
    present: np.ndarray,
    max_bodies: int,
    min_frames: int = MIN_BODY_FRAMES,
    spread_ratio: float = SPREAD_RATIO,
    noisy_fraction: float = NOISY_FRAME_FRACTION,
) -> Selection:
    """Choose up to `max_bodies` bodies of `joints` (B, T, V, C) tracked where `present` (B, T).

    Applies the three rules of the module docstring in order and returns the kept indices,
    most motion first.
    """
    candidates = [b for b in range(joints.shape[0]) if present[b].any()]
    candidates = _keep_unless_empty(candidates, tracked_frames(present) >= min_frames)
    candidates = _keep_unless_empty(
        candidates, noisy_frame_fraction(joints, present, spread_ratio) <= noisy_fraction
    )
    motion = body_motion(joints, present)
    ranked = sorted(candidates, key=lambda b: (-motion[b], b))
    return Selection(kept=tuple(ranked[:max_bodies]), found=int(joints.shape[0]))
