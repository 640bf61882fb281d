"""What one Kinect reports of a take: noisy joints, inferred joints, ghost bodies, dropped frames.

Why: real skeleton files are not clean renders. Readers and body selection must cope with joints
the sensor only guessed (trackingState 1), short-lived non-person "bodies" and frames where
tracking was lost (0 bodies), and some samples have no skeleton at all (the official
missing-skeleton list). A `Recording` is format-free: the NTU and Kinetics writers both render it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from skelprep.synth.body import ARMS, LEGS, NUM_POINTS
from skelprep.synth.camera import Camera

JOINT_NOISE_M = 0.008
INFERRED_NOISE_M = 0.03
GHOST_PROBABILITY = 0.15
DROP_PROBABILITY = 0.12
BODY_ID_BASE = 72057594037900000  # real Kinect body ids look like 72057594037931101

# Inferred joints are mostly limb ends: weight of each NTU joint when picking one.
_END_JOINTS = [j for chain in (*ARMS.values(), *LEGS.values()) for j in chain[1:]]
INFERRED_WEIGHT = np.bincount(_END_JOINTS, minlength=25) * 3.0 + 0.2
INFERRED_WEIGHT /= INFERRED_WEIGHT.sum()


@dataclass
class Track:
    """One body the sensor tracked: its frames (0-based) and per-frame data.

    `xyz` is camera space (F, 30, 3): the 25 NTU joints then the five face points; `tracking`
    is the Kinect trackingState of the 25 joints; `info` the 9 body-info fields after the id
    (clippedEdges, hand confidences/states, isRestricted, leanX, leanY, trackingState).
    """

    body_id: int
    frames: np.ndarray
    xyz: np.ndarray
    tracking: np.ndarray
    info: np.ndarray


@dataclass
class Recording:
    """A sample as the sensor saw it: frame count and tracks in order of first appearance."""

    num_frames: int
    tracks: list[Track]


def _body_info(rng: np.random.Generator, xyz: np.ndarray) -> np.ndarray:
    """Kinect body-info fields per frame; the lean comes from the spine's tilt."""
    f = len(xyz)
    conf = rng.random((f, 2)) < 0.6
    state = np.where(conf, rng.choice([1, 2, 3], p=[0.8, 0.1, 0.1], size=(f, 2)), 0)
    spine = xyz[:, 20] - xyz[:, 0]
    spine /= np.linalg.norm(spine, axis=1, keepdims=True)
    zeros = np.zeros(f)
    cols = [zeros, conf[:, 0], state[:, 0], conf[:, 1], state[:, 1], zeros]
    return np.column_stack([*cols, spine[:, 0], -spine[:, 2], np.full(f, 2.0)])


def _person_track(rng: np.random.Generator, xyz: np.ndarray, view: float) -> Track:
    """Noise and runs of inferred joints (more of them in side views) on one person."""
    f = len(xyz)
    xyz = xyz + rng.normal(0.0, JOINT_NOISE_M, xyz.shape)
    tracking = np.full((f, 25), 2, dtype=np.int8)
    for _ in range(rng.poisson(1.5 + 3.0 * abs(np.sin(view)))):
        joint = rng.choice(25, p=INFERRED_WEIGHT)
        start, length = rng.integers(0, f), rng.integers(3, 21)
        run = slice(start, min(f, start + length))
        tracking[run, joint] = 1
        xyz[run, joint] += rng.normal(0.0, INFERRED_NOISE_M, 3) + rng.normal(
            0.0, INFERRED_NOISE_M / 2, xyz[run, joint].shape
        )
    body_id = BODY_ID_BASE + int(rng.integers(0, 100000))
    return Track(body_id, np.arange(f), xyz, tracking, _body_info(rng, xyz))


def _ghost_track(rng: np.random.Generator, num_frames: int) -> Track:
    """A short-lived non-person blob: a few frames of joints scattered around one point."""
    length = int(rng.integers(2, 9))
    start = int(rng.integers(0, max(1, num_frames - length)))
    frames = np.arange(start, min(num_frames, start + length))
    centre = np.array([rng.uniform(-1.2, 1.2), rng.uniform(-0.6, 0.6), rng.uniform(2.0, 4.5)])
    xyz = centre + rng.normal(0.0, 0.05, (len(frames), NUM_POINTS, 3))
    tracking = rng.choice(np.array([1, 2], dtype=np.int8), size=(len(frames), 25))
    body_id = BODY_ID_BASE + int(rng.integers(0, 100000))
    return Track(body_id, frames, xyz, tracking, _body_info(rng, xyz))


def observe(
    rng: np.random.Generator, persons: list[np.ndarray], camera: Camera, facing: float, empty: bool
) -> Recording:
    """Film the persons (room coordinates, (T, 30, 3) each) with `camera`.

    `empty` makes a missing-skeleton sample: every frame has 0 bodies.
    """
    num_frames = len(persons[0])
    if empty:
        return Recording(num_frames, [])
    view = camera.azimuth - facing
    tracks = [_person_track(rng, camera.to_camera(p), view) for p in persons]
    ids = {t.body_id for t in tracks}
    if len(ids) < len(tracks):  # two persons drew the same id: keep them distinct
        for k, t in enumerate(tracks):
            t.body_id += k
    if rng.random() < GHOST_PROBABILITY:
        ghost = _ghost_track(rng, num_frames)
        ghost.body_id = max(t.body_id for t in tracks) + 1 + int(rng.integers(0, 50))
        tracks.append(ghost)
    if rng.random() < DROP_PROBABILITY:
        dropped = rng.choice(num_frames, size=int(rng.integers(1, 4)), replace=False)
        tracks = [_without_frames(t, dropped) for t in tracks]
        tracks = [t for t in tracks if len(t.frames)]
    tracks.sort(key=lambda t: int(t.frames[0]))  # stable: persons before a ghost of frame 0
    return Recording(num_frames, tracks)


def _without_frames(track: Track, dropped: np.ndarray) -> Track:
    keep = ~np.isin(track.frames, dropped)
    return Track(
        track.body_id, track.frames[keep], track.xyz[keep], track.tracking[keep], track.info[keep]
    )
