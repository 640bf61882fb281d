"""A kinematic 25-joint body (the Kinect v2 / NTU joint set) driven by named angle channels.

Why: synthetic actions must look like a moving person, not like noise around a template, so every
frame is produced by forward kinematics from a subject's bone lengths and a few joint angles. A
motion (see `motions`) only says how the angles move; the body turns them into joint positions.

Body frame: x = the person's right, y = up, z = the person's back (they face -z); metres, origin
on the floor under the pelvis. This is the Kinect camera frame of a person facing the camera.
`forward_kinematics` returns the 25 NTU joints (0-based, `layouts.NTU25` order) followed by five
face points (nose, right eye, left eye, right ear, left ear) that the 2-D OpenPose projection
needs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FACE_POINTS = ("nose", "right eye", "left eye", "right ear", "left ear")
NUM_POINTS = 25 + len(FACE_POINTS)

CHANNELS = (
    "root_x", "root_y", "root_z", "yaw",  # whole body: offset in its group (m), turn about y
    "bend", "lean", "twist",  # trunk: forward bend, bend to the right, turn
    "nod", "turn",  # head: nod down, turn
    "r_flex", "r_abd", "r_twist", "r_elbow", "l_flex", "l_abd", "l_twist", "l_elbow",  # arms
    "r_hip", "r_hip_abd", "r_knee", "l_hip", "l_hip_abd", "l_knee",  # legs
)  # fmt: skip
"""Angle channels (radians unless noted). Arm/leg angles: flex raises the limb forward, abd
raises it sideways (outwards), twist turns the upper arm about its own axis, elbow/knee bend."""

# NTU joint indices (0-based) of each limb chain: shoulder/hip first.
ARMS = {"r": (8, 9, 10, 11, 23, 24), "l": (4, 5, 6, 7, 21, 22)}
LEGS = {"r": (16, 17, 18, 19), "l": (12, 13, 14, 15)}
SIDE_SIGN = {"r": 1.0, "l": -1.0}

# Bone lengths (m) of a 1.75 m person, close to those measured on real NTU files.
BASE_LENGTHS = {
    "spine_low": 0.27, "spine_up": 0.21, "neck": 0.07, "head": 0.14, "shoulder": 0.15,
    "upper_arm": 0.25, "forearm": 0.24, "hand": 0.07, "hand_tip": 0.05,
    "hip": 0.08, "thigh": 0.40, "shank": 0.40, "foot": 0.11, "ankle_height": 0.08,
}  # fmt: skip
BASE_HEIGHT = 1.75


@dataclass(frozen=True)
class BodyShape:
    """One subject's bone lengths (m) and rest posture (arms hang slightly out, elbows bent)."""

    lengths: dict[str, float]
    rest_abd: float
    rest_elbow: float

    @property
    def pelvis_height(self) -> float:
        """Height of the pelvis (joint 0) above the floor when standing straight."""
        n = self.lengths
        return n["thigh"] + n["shank"] + n["ankle_height"] + 0.06


def random_shape(rng: np.random.Generator) -> BodyShape:
    """A subject: height 1.50-1.90 m, every bone length jittered a few percent independently."""
    height = rng.uniform(1.50, 1.90)
    jitter = rng.normal(1.0, 0.04, size=len(BASE_LENGTHS))
    lengths = {
        name: float(length * height / BASE_HEIGHT * j)
        for (name, length), j in zip(BASE_LENGTHS.items(), jitter, strict=True)
    }
    return BodyShape(lengths, rest_abd=rng.uniform(0.05, 0.25), rest_elbow=rng.uniform(0.1, 0.4))


def _rot(axis: int, angle: np.ndarray) -> np.ndarray:
    """Rotation matrices (T, 3, 3) about body axis 0 (x), 1 (y) or 2 (z) by `angle` (T,)."""
    c, s = np.cos(angle), np.sin(angle)
    i, j = [(1, 2), (2, 0), (0, 1)][axis]
    m = np.zeros((len(angle), 3, 3))
    m[:, axis, axis] = 1.0
    m[:, i, i], m[:, j, j] = c, c
    m[:, i, j], m[:, j, i] = -s, s
    return m


def _apply(rot: np.ndarray, vec: tuple[float, float, float]) -> np.ndarray:
    """Rotate one body-frame vector by every matrix of `rot` (T, 3, 3) -> (T, 3)."""
    return rot @ np.asarray(vec, dtype=float)


def forward_kinematics(shape: BodyShape, ch: dict[str, np.ndarray], t: int) -> np.ndarray:
    """Joint positions (t, NUM_POINTS, 3) in the body's group frame for the angle channels `ch`.

    Channels are arrays of t values or scalars; missing ones are zero. The subject's rest
    posture is added to the arm channels.
    """
    unknown = set(ch) - set(CHANNELS)
    if unknown:
        raise KeyError(f"unknown angle channels {sorted(unknown)}; known: {CHANNELS}")
    n = shape.lengths
    c = {name: np.broadcast_to(np.asarray(ch.get(name, 0.0), float), (t,)) for name in CHANNELS}
    p = np.zeros((t, NUM_POINTS, 3))
    trunk = _rot(1, c["twist"]) @ _rot(0, -c["bend"]) @ _rot(2, -c["lean"])
    p[:, 1] = _apply(trunk, (0.0, n["spine_low"], 0.0))
    p[:, 20] = _apply(trunk, (0.0, n["spine_low"] + n["spine_up"], 0.0))
    p[:, 2] = p[:, 20] + _apply(trunk, (0.0, n["neck"], 0.0))
    head = trunk @ _rot(0, -c["nod"]) @ _rot(1, c["turn"])
    p[:, 3] = p[:, 2] + _apply(head, (0.0, n["head"], 0.0))
    face = [
        (0.0, -0.03, -0.09),
        (0.03, 0.0, -0.08),
        (-0.03, 0.0, -0.08),
        (0.075, 0, 0),
        (-0.075, 0, 0),
    ]
    for k, offset in enumerate(face):
        p[:, 25 + k] = p[:, 3] + _apply(head, offset)
    for side, (sh, el, wr, ha, tip, th) in ARMS.items():
        sg = SIDE_SIGN[side]
        p[:, sh] = p[:, 20] + _apply(trunk, (sg * n["shoulder"], -0.02, 0.0))
        upper = (
            trunk
            @ _rot(2, sg * (c[f"{side}_abd"] + shape.rest_abd))
            @ _rot(0, c[f"{side}_flex"])
            @ _rot(1, sg * c[f"{side}_twist"])
        )
        p[:, el] = p[:, sh] + _apply(upper, (0.0, -n["upper_arm"], 0.0))
        fore = upper @ _rot(0, c[f"{side}_elbow"] + shape.rest_elbow)
        p[:, wr] = p[:, el] + _apply(fore, (0.0, -n["forearm"], 0.0))
        p[:, ha] = p[:, wr] + _apply(fore, (0.0, -n["hand"], 0.0))
        p[:, tip] = p[:, wr] + _apply(fore, (0.0, -n["hand"] - n["hand_tip"], 0.0))
        p[:, th] = p[:, wr] + _apply(fore, (0.0, -0.8 * n["hand"], -0.035))
    for side, (hip, knee, ankle, foot) in LEGS.items():
        sg = SIDE_SIGN[side]
        p[:, hip] = (sg * n["hip"], -0.06, 0.0)
        thigh = _rot(2, sg * c[f"{side}_hip_abd"]) @ _rot(0, c[f"{side}_hip"])
        p[:, knee] = p[:, hip] + _apply(thigh, (0.0, -n["thigh"], 0.0))
        shank = thigh @ _rot(0, -c[f"{side}_knee"])
        p[:, ankle] = p[:, knee] + _apply(shank, (0.0, -n["shank"], 0.0))
        p[:, foot] = p[:, ankle] + _apply(shank, (0.0, -0.04, -n["foot"]))
    turn = _rot(1, c["yaw"])
    root = np.stack([c["root_x"], c["root_y"] + shape.pelvis_height, c["root_z"]], axis=1)
    return np.einsum("tij,tvj->tvi", turn, p) + root[:, None, :]
