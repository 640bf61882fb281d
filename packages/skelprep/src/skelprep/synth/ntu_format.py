"""Write recordings as NTU RGB+D `.skeleton` files and the official missing-skeleton list.

Why: the real NTU reader must run unchanged on synthetic data, so the bytes follow the official
files: CRLF line ends (as in the official archive; LF copies exist, readers accept both), numbers
printed like the Kinect tool's C# floats (7 significant digits, no trailing zeros, `E-05`
exponents), a long integer bodyID, and joint orientations as unit quaternions W X Y Z of the
bone leaving each joint (0 0 0 0 at the ends: head, feet, hand tips, thumbs; the twist about
the bone is not simulated). Formatting is one %-operation per body and frame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from skelprep.synth.camera import kinect_pixels
from skelprep.synth.sensor import Recording, Track

NUMBER = "%.7g"
JOINT_LINE = " ".join([NUMBER] * 11) + " %d\n"
BODY_BLOCK = "%d %d %d %d %d %d %d " + NUMBER + " " + NUMBER + " %d\n25\n" + JOINT_LINE * 25
LINE_END = "\r\n"

# child joint of each NTU joint (0-based) whose bone sets the joint's orientation; -1 = end joint
BONE_CHILD = np.array(
    [1, 20, 3, -1, 5, 6, 7, 21, 9, 10, 11, 23, 13, 14, 15, -1, 17, 18, 19, -1, 2, -1, -1, -1, -1]
)

MISSING_LIST = "NTU_RGBD_samples_with_missing_skeletons.txt"
MISSING_HEADER = (
    '{count} of the captured samples in the "NTU RGB+D" dataset have missing or incomplete '
    "skeleton data.\nIf you are working on skeleton-based analysis, please ignore these files "
    "in your training and testing procedures.\n\n"
)


def bone_quaternions(xyz: np.ndarray) -> np.ndarray:
    """(F, 25, 3) joints -> (F, 25, 4) W X Y Z turning +y onto each joint's outgoing bone."""
    child = np.where(BONE_CHILD < 0, np.arange(25), BONE_CHILD)
    bone = xyz[:, child] - xyz
    norm = np.linalg.norm(bone, axis=-1, keepdims=True)
    d = bone / np.where(norm > 0, norm, 1.0)
    # shortest arc from (0, 1, 0) to d: (1 + d_y, d_z, 0, -d_x), normalised
    q = np.stack([1.0 + d[..., 1], d[..., 2], np.zeros_like(d[..., 0]), -d[..., 0]], axis=-1)
    q /= np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), 1e-12)
    q[:, BONE_CHILD < 0] = 0.0
    return q


def joint_table(track: Track) -> np.ndarray:
    """(F, 25, 12) rows as written: x y z, depth/colour pixels, orientation, trackingState."""
    xyz = track.xyz[:, :25]
    table = np.concatenate(
        [xyz, kinect_pixels(xyz), bone_quaternions(xyz), track.tracking[..., None]], axis=-1
    )
    return table + 0.0  # no "-0"


def as_written(values: np.ndarray) -> np.ndarray:
    """The float64 values a reader gets back after `values` are printed in the file's format."""
    flat = np.asarray(values, dtype=float).ravel() + 0.0
    text = " ".join([NUMBER] * flat.size) % tuple(flat.tolist())
    return np.array(text.split(), dtype=float).reshape(np.shape(values))


def render(recording: Recording) -> str:
    """The `.skeleton` text of a recording, with LF line ends."""
    blocks: list[list[str]] = [[] for _ in range(recording.num_frames)]
    for track in recording.tracks:
        joints = joint_table(track).reshape(len(track.frames), -1).tolist()
        info = track.info.tolist()
        for frame, head, rows in zip(track.frames.tolist(), info, joints, strict=True):
            blocks[frame].append(BODY_BLOCK % (track.body_id, *head, *rows))
    parts = [f"{recording.num_frames}\n"]
    for bodies in blocks:
        parts.append(f"{len(bodies)}\n")
        parts.extend(bodies)
    return "".join(parts).replace("e", "E")


def write_skeleton(path: Path, recording: Recording) -> None:
    """Write one `.skeleton` file (CRLF, ASCII)."""
    path.write_bytes(render(recording).replace("\n", LINE_END).encode("ascii"))


def write_missing_list(out: Path, names: list[str]) -> Path:
    """Write the official-format list of samples left without skeletons (LF, as the original)."""
    path = out / MISSING_LIST
    body = "".join(f"{name}\n" for name in sorted(names))
    path.write_text(MISSING_HEADER.format(count=len(names)) + body, encoding="ascii")
    return path
