"""Skeleton layouts as data: joint names, bone edges, centre joint, alignment joints, channels.

Every reader names one of these layouts (`LAYOUTS`, the one registry; `--layout NAME` and the
folder format's `layout.toml` pick from it or add to it); the store copies the layout into its
root attrs so that training code never needs this module. Indices are 0-based.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from skelprep.errors import SkelprepError


@dataclass(frozen=True)
class Layout:
    """A skeleton layout.

    `centre` is the root of ST-GCN's spatial partition. `origin` is the joint moved to the
    coordinate origin by alignment; `up` = (a, b) is the bone a->b turned parallel to +z and
    `across` = (a, b) the bone a->b turned parallel to +x (3-D); a 2-D layout is centred on
    `origin` and scaled so that the `up` bone has length 1 (skelprep.align). `channels` names
    the raw values of a joint, e.g. ("x", "y", "z") or ("x", "y", "score"); it is stored as the
    store's root `channels`, not inside `layout`.
    """

    name: str
    joints: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    centre: int
    origin: int
    up: tuple[int, int]
    across: tuple[int, int]
    channels: tuple[str, ...] = ("x", "y", "z")

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def to_attrs(self) -> dict:
        """The JSON form stored in the store's root attrs under `layout` (without `channels`)."""
        d = asdict(self)
        del d["channels"]
        d["joints"] = list(self.joints)
        d["edges"] = [list(e) for e in self.edges]
        d["up"] = list(self.up)
        d["across"] = list(self.across)
        return d


def _one_based(pairs: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    return tuple((a - 1, b - 1) for a, b in pairs)


NTU25 = Layout(
    name="ntu25",
    joints=(
        "base of spine",
        "middle of spine",
        "neck",
        "head",
        "left shoulder",
        "left elbow",
        "left wrist",
        "left hand",
        "right shoulder",
        "right elbow",
        "right wrist",
        "right hand",
        "left hip",
        "left knee",
        "left ankle",
        "left foot",
        "right hip",
        "right knee",
        "right ankle",
        "right foot",
        "spine",
        "tip of left hand",
        "left thumb",
        "tip of right hand",
        "right thumb",
    ),  # fmt: skip
    # ST-GCN's published NTU graph (1-based in its source), kept exactly for comparability.
    edges=_one_based(
        [
            (1, 2),
            (2, 21),
            (3, 21),
            (4, 3),
            (5, 21),
            (6, 5),
            (7, 6),
            (8, 7),
            (9, 21),
            (10, 9),
            (11, 10),
            (12, 11),
            (13, 1),
            (14, 13),
            (15, 14),
            (16, 15),
            (17, 1),
            (18, 17),
            (19, 18),
            (20, 19),
            (22, 23),
            (23, 8),
            (24, 25),
            (25, 12),
        ]  # fmt: skip
    ),
    centre=20,
    origin=1,
    up=(0, 1),
    across=(8, 4),
)

OPENPOSE18 = Layout(
    name="openpose18",
    joints=(
        "nose",
        "neck",
        "right shoulder",
        "right elbow",
        "right wrist",
        "left shoulder",
        "left elbow",
        "left wrist",
        "right hip",
        "right knee",
        "right ankle",
        "left hip",
        "left knee",
        "left ankle",
        "right eye",
        "left eye",
        "right ear",
        "left ear",
    ),  # fmt: skip
    edges=(
        (4, 3),
        (3, 2),
        (7, 6),
        (6, 5),
        (13, 12),
        (12, 11),
        (10, 9),
        (9, 8),
        (11, 5),
        (8, 2),
        (5, 1),
        (2, 1),
        (0, 1),
        (15, 0),
        (14, 0),
        (17, 15),
        (16, 14),
    ),  # fmt: skip
    centre=1,
    origin=1,
    up=(1, 0),
    across=(2, 5),
    channels=("x", "y", "score"),
)

MSR20 = Layout(
    name="msr20",
    joints=(
        "left shoulder",
        "right shoulder",
        "shoulder centre",
        "spine",
        "left hip",
        "right hip",
        "hip centre",
        "left elbow",
        "right elbow",
        "left wrist",
        "right wrist",
        "left hand",
        "right hand",
        "left knee",
        "right knee",
        "left ankle",
        "right ankle",
        "left foot",
        "right foot",
        "head",
    ),  # fmt: skip
    edges=(
        (2, 0),
        (2, 1),
        (2, 19),
        (2, 3),
        (3, 6),
        (6, 4),
        (6, 5),
        (0, 7),
        (7, 9),
        (9, 11),
        (1, 8),
        (8, 10),
        (10, 12),
        (4, 13),
        (13, 15),
        (15, 17),
        (5, 14),
        (14, 16),
        (16, 18),
    ),  # fmt: skip
    centre=2,
    origin=3,
    up=(6, 3),
    across=(1, 0),
)

KINECT_V1 = Layout(
    name="kinect-v1",
    joints=(
        "hip centre",
        "spine",
        "shoulder centre",
        "head",
        "left shoulder",
        "left elbow",
        "left wrist",
        "left hand",
        "right shoulder",
        "right elbow",
        "right wrist",
        "right hand",
        "left hip",
        "left knee",
        "left ankle",
        "left foot",
        "right hip",
        "right knee",
        "right ankle",
        "right foot",
    ),  # fmt: skip
    # Kinect SDK v1 order (NW-UCLA, UTKinect, most Kinect v1 exports); the SDK's bone tree.
    edges=(
        (0, 1),
        (1, 2),
        (2, 3),
        (2, 4),
        (4, 5),
        (5, 6),
        (6, 7),
        (2, 8),
        (8, 9),
        (9, 10),
        (10, 11),
        (0, 12),
        (12, 13),
        (13, 14),
        (14, 15),
        (0, 16),
        (16, 17),
        (17, 18),
        (18, 19),
    ),  # fmt: skip
    centre=2,  # shoulder centre, where NTU25's centre ("spine", between the shoulders) sits
    origin=1,
    up=(0, 1),
    across=(8, 4),
)

COCO17 = Layout(
    name="coco17",
    joints=(
        "nose",
        "left eye",
        "right eye",
        "left ear",
        "right ear",
        "left shoulder",
        "right shoulder",
        "left elbow",
        "right elbow",
        "left wrist",
        "right wrist",
        "left hip",
        "right hip",
        "left knee",
        "right knee",
        "left ankle",
        "right ankle",
    ),  # fmt: skip
    # A tree rooted at the nose (COCO has no neck or pelvis joint): face, arms from the
    # shoulders, legs from the hips, each hip hung from its shoulder.
    edges=(
        (0, 1),
        (0, 2),
        (1, 3),
        (2, 4),
        (0, 5),
        (0, 6),
        (5, 7),
        (7, 9),
        (6, 8),
        (8, 10),
        (5, 11),
        (6, 12),
        (11, 13),
        (13, 15),
        (12, 14),
        (14, 16),
    ),  # fmt: skip
    centre=0,
    # 2-D alignment centres on the left hip and scales by the left torso side (hip->shoulder),
    # the longest rigid segment every COCO pose has.
    origin=11,
    up=(11, 5),
    across=(6, 5),
    channels=("x", "y", "score"),
)

LAYOUTS: dict[str, Layout] = {
    layout.name: layout for layout in (NTU25, MSR20, KINECT_V1, OPENPOSE18, COCO17)
}


def get_layout(name: str) -> Layout:
    """Look a layout up by name (`--layout NAME`), with a clear error listing the known ones."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise SkelprepError(
            f"--layout: unknown layout {name!r}; known: {sorted(LAYOUTS)}"
        ) from None
