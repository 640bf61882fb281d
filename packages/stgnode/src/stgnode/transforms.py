"""Per-sample transforms on numpy arrays (C, T, V, M): temporal crop/resize, rotation, scale, streams.

As in ST-GCN and its successors (2s-AGCN, CTR-GCN, PYSKL):
- training: a random sub-segment of the valid frames (a fraction drawn from [crop_min, 1]) is
  resampled to `window` frames by linear interpolation, at evenly spaced positions or, with
  `sampling = "random"`, at sorted random ones (a random time warp: the clip is played at a
  speed that varies from frame to frame, as CTR-GCN's NW-UCLA loader samples frames); the
  coordinates are rotated by small random angles about each axis (optionally a wider one about
  the vertical, `yaw_deg`) and scaled by a random factor, and optionally mirrored left to right
  (`mirror`, a probability: x negated and each left joint swapped with its right twin, so a
  left-handed wave is a wave);
- testing: the whole valid part is resized to `window` frames, deterministically.
Both then apply the input normalisation `normalize` (registry `NORMALIZERS`): `none`, or `minmax`,
each coordinate axis of the clip mapped onto [-1, 1] (CTR-GCN's NW-UCLA loader).
Streams (registry `STREAMS`): `joint` (coordinates), `bone` (child - parent along the layout's
edges, oriented from the centre joint outwards; the centre's own bone is zero), the
frame-to-frame differences of both (`joint-motion`, `bone-motion`; last frame zero), and
`joint+motion`, coordinates and their differences stacked as 2C channels (one model sees where
a joint is and how fast it moves: the early fusion of multi-input networks such as EfficientGCN).

Randomness comes from a numpy Generator the caller seeds per (seed, epoch, sample), so the
augmentation of a sample does not depend on worker count, rank or resume point.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from stgnode.config import ConfigError

COORDINATES = ("x", "y", "z")


def bone_parents(edges: Sequence[Sequence[int]], centre: int, num_joints: int) -> np.ndarray:
    """Parent of every joint in the skeleton tree rooted at `centre` (the centre is its own parent).

    Edges in a layout are undirected pairs; a breadth-first walk from the centre orients them
    outwards. A joint the edges do not reach is refused: its bone would be undefined.
    """
    neighbours: dict[int, list[int]] = {j: [] for j in range(num_joints)}
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    parent = np.full(num_joints, -1, dtype=np.int64)
    parent[centre] = centre
    frontier = [centre]
    while frontier:
        nxt = []
        for j in frontier:
            for k in neighbours[j]:
                if parent[k] < 0:
                    parent[k] = j
                    nxt.append(k)
        frontier = nxt
    unreached = np.flatnonzero(parent < 0)
    if unreached.size:
        raise ValueError(f"joints {unreached.tolist()} are not connected to centre joint {centre}")
    return parent


def joint_stream(x: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """The coordinates themselves."""
    return x


def bone_stream(x: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """Bone vectors: each joint minus its parent (towards the centre); the centre gives zero."""
    return x - x[:, :, parents, :]


def motion(x: np.ndarray) -> np.ndarray:
    """Frame differences x[t+1] - x[t], with a zero last frame so T is kept."""
    out = np.zeros_like(x)
    out[:, :-1] = x[:, 1:] - x[:, :-1]
    return out


def joint_and_motion(x: np.ndarray, parents: np.ndarray) -> np.ndarray:
    """Coordinates, then their frame differences, along the channel axis: (2C, T, V, M)."""
    return np.concatenate([x, motion(x)], axis=0)


STREAMS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "joint": joint_stream,
    "bone": bone_stream,
    "joint-motion": lambda x, parents: motion(x),
    "bone-motion": lambda x, parents: motion(bone_stream(x, parents)),
    "joint+motion": joint_and_motion,
}


def registered(table: dict[str, Any], name: str, key: str) -> Any:
    """Entry `name` of a registry (`STREAMS`, `SAMPLERS`, `NORMALIZERS`), or a ConfigError naming
    the config key `key` and the known names."""
    try:
        return table[name]
    except KeyError:
        raise ConfigError(f"unknown {key} {name!r}; known: {sorted(table)}") from None


def stream_channels(stream: str, channels: int) -> int:
    """Channels the model receives from `stream` on a store of `channels` channels.

    Read off the stream itself (applied to a one-joint dummy), so a new stream needs no
    second table to state its width.
    """
    dummy = np.zeros((channels, 2, 1, 1), dtype=np.float32)
    return registered(STREAMS, stream, "stream")(dummy, np.zeros(1, dtype=np.int64)).shape[0]


def even_positions(
    start: float, stop: float, window: int, rng: np.random.Generator | None
) -> np.ndarray:
    """`window` evenly spaced frame positions from `start` to the last frame `stop - 1`.

    `rng` is unused: every sampler of `SAMPLERS` takes the same arguments.
    """
    return np.linspace(start, stop - 1, window) if stop - start > 1 else np.full(window, start)


def random_positions(
    start: float, stop: float, window: int, rng: np.random.Generator | None
) -> np.ndarray:
    """`window` sorted uniform draws from [start, stop - 1]: the clip under a random time warp.

    The positions keep their order, so the movement runs forwards, but the gaps between them
    vary: some frames are skipped or repeated, the local speed changes. Without `rng` (test
    mode) the positions are even.
    """
    if rng is None or stop - start <= 1:
        return even_positions(start, stop, window, rng)
    return np.sort(rng.uniform(start, stop - 1, window))


SAMPLERS: dict[str, Callable[..., np.ndarray]] = {
    "even": even_positions,
    "random": random_positions,
}


def resample(x: np.ndarray, positions: np.ndarray, stop: float) -> np.ndarray:
    """Frames of x (C, T, V, M) at fractional `positions` (none past `stop - 1`), linearly."""
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, int(stop) - 1)
    weight = (positions - low).astype(x.dtype)[None, :, None, None]
    return x[:, low] * (1 - weight) + x[:, high] * weight


def rotation_matrix(angles: np.ndarray) -> np.ndarray:
    """3x3 rotation Rz @ Ry @ Rx for angles (ax, ay, az) in radians."""
    (cx, cy, cz), (sx, sy, sz) = np.cos(angles), np.sin(angles)
    rx = np.array([[1, 0, 0], [0, cx, -sx], [0, sx, cx]])
    ry = np.array([[cy, 0, sy], [0, 1, 0], [-sy, 0, cy]])
    rz = np.array([[cz, -sz, 0], [sz, cz, 0], [0, 0, 1]])
    return rz @ ry @ rx


@dataclass(frozen=True)
class Augment:
    """Training augmentation strengths; `Augment.off()` gives the deterministic test transform."""

    crop_min: float = 0.5
    rotate_deg: float = 15.0
    scale: float = 0.1
    yaw_deg: float = 0.0
    mirror: float = 0.0
    sampling: str = "even"

    def __post_init__(self) -> None:
        registered(SAMPLERS, self.sampling, "data.sampling")

    @classmethod
    def off(cls) -> Augment:
        return cls(crop_min=1.0, rotate_deg=0.0, scale=0.0)

    def angle_limits(self) -> np.ndarray:
        """Largest angle (degrees) about x, y and z: `rotate_deg` each, z widened to `yaw_deg`."""
        return np.array([self.rotate_deg, self.rotate_deg, max(self.rotate_deg, self.yaw_deg)])


def rotate_scale(
    x: np.ndarray, channels: Sequence[str], rng: np.random.Generator, aug: Augment
) -> np.ndarray:
    """Rotate the coordinate channels (x, y[, z]) by random angles and scale them.

    With 3 coordinates all three axes turn, z (the vertical of a 3-D aligned store) by up to
    `yaw_deg` when that is larger: a change of camera heading, the difference between the views
    of a cross-view dataset. With 2 (e.g. x, y, score) only the in-plane angle applies. Other
    channels (scores) are left alone. Zero padding stays zero.
    """
    coords = [channels.index(c) for c in COORDINATES if c in channels]
    limits = aug.angle_limits()
    angles = np.deg2rad(rng.uniform(-limits, limits))
    matrix = rotation_matrix(angles if len(coords) == 3 else np.array([0.0, 0.0, angles[2]]))
    matrix = matrix[: len(coords), : len(coords)] * rng.uniform(1 - aug.scale, 1 + aug.scale)
    out = x.copy()
    out[coords] = np.einsum("ij,jtvm->itvm", matrix.astype(x.dtype), x[coords])
    return out


def mirror_permutation(joint_names: Sequence[str]) -> np.ndarray:
    """Index of each joint's mirror twin: "left X" <-> "right X", joints on the midline stay.

    Read off the layout's joint names, so every layout that names its sides gets the mirror
    without a second table; a side joint whose twin is missing is refused.
    """
    index = {name: j for j, name in enumerate(joint_names)}
    other_side = {"left ": "right ", "right ": "left "}
    perm = np.arange(len(joint_names))
    for j, name in enumerate(joint_names):
        side = next((s for s in other_side if name.startswith(s)), None)
        if side is None:
            continue
        twin = other_side[side] + name[len(side) :]
        if twin not in index:
            raise ValueError(f"joint {name!r} has no mirror twin {twin!r} in the layout")
        perm[j] = index[twin]
    return perm


def mirror(x: np.ndarray, channels: Sequence[str], twins: np.ndarray) -> np.ndarray:
    """The mirror image of x (C, T, V, M) in the y-z plane: x negated, left and right swapped."""
    out = x[:, :, twins].copy()
    out[channels.index("x")] *= -1
    return out


def keep_coordinates(x: np.ndarray, channels: Sequence[str]) -> np.ndarray:
    """The coordinates as the store holds them (aligned, in metres for 3-D stores)."""
    return x


def minmax_axes(x: np.ndarray, channels: Sequence[str]) -> np.ndarray:
    """Each coordinate axis of the clip mapped onto [-1, 1] by its extent over the recorded joints.

    x' = (x - (lo + hi) / 2) / ((hi - lo) / 2) per axis, lo and hi the axis's smallest and largest
    value over the clip's frames, joints and bodies. As CTR-GCN's NW-UCLA loader normalises every
    sequence, this removes the body's size and position, so a random uniform scale before it has
    no effect; the price is each axis stretched by its own factor. Joints whose coordinates are all
    zero (not recorded, or an absent body) are left out of the extents and stay zero; an axis
    without extent is only centred. Other channels (scores) are left alone.
    """
    coords = [channels.index(c) for c in COORDINATES if c in channels]
    xyz = x[coords]
    seen = np.any(xyz != 0, axis=0)
    if not seen.any():
        return x
    low, high = xyz[:, seen].min(axis=1), xyz[:, seen].max(axis=1)
    half = np.where(high > low, (high - low) / 2, 1.0)[:, None, None, None]
    out = x.copy()
    out[coords] = np.where(seen, (xyz - ((low + high) / 2)[:, None, None, None]) / half, 0)
    return out


NORMALIZERS: dict[str, Callable[[np.ndarray, Sequence[str]], np.ndarray]] = {
    "none": keep_coordinates,
    "minmax": minmax_axes,
}


def transform_sample(
    x: np.ndarray,
    frames: int,
    window: int,
    stream: str,
    parents: np.ndarray,
    channels: Sequence[str],
    rng: np.random.Generator | None,
    aug: Augment,
    twins: np.ndarray | None = None,
    normalize: str = "none",
) -> np.ndarray:
    """Full per-sample pipeline: crop/resample the valid frames to `window`, augment, normalise
    (`normalize`, a name in `NORMALIZERS`, in both modes), make the stream.

    `rng=None` is test mode: the whole valid part at even positions, no rotation or scale.
    `twins` (from `mirror_permutation`) is needed when `aug.mirror` > 0; the mirror's coin is
    only drawn then, and the random sampler's positions only with `sampling = "random"`, so runs
    without them keep their random streams.
    """
    frames = max(1, min(int(frames), x.shape[1]))
    if rng is None:
        start, stop = 0.0, float(frames)
    else:
        length = max(1, int(round(frames * rng.uniform(aug.crop_min, 1.0))))
        start = float(rng.integers(0, frames - length + 1))
        stop = start + length
    out = resample(x, SAMPLERS[aug.sampling](start, stop, window, rng), stop)
    if rng is not None and (aug.angle_limits().any() or aug.scale > 0):
        out = rotate_scale(out, channels, rng, aug)
    if rng is not None and aug.mirror > 0 and rng.random() < aug.mirror:
        out = mirror(out, channels, twins)
    out = registered(NORMALIZERS, normalize, "data.normalize")(out, channels)
    return np.ascontiguousarray(
        registered(STREAMS, stream, "stream")(out, parents), dtype=np.float32
    )
