"""Skeleton layouts as data: joint names, bone edges, centre joint and alignment joints.

Every reader names one of these layouts; the store copies the layout into its root attrs so
that training code never needs this module. Indices are 0-based.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Layout:
    """A skeleton layout.

    `centre` is the root of ST-GCN's spatial partition. `origin` is the joint moved to the
    coordinate origin by alignment; `up` = (a, b) is the bone a->b turned parallel to +z and
    `across` = (a, b) the bone a->b turned parallel to +x.
    """

    name: str
    joints: tuple[str, ...]
    edges: tuple[tuple[int, int], ...]
    centre: int
    origin: int
    up: tuple[int, int]
    across: tuple[int, int]

    @property
    def num_joints(self) -> int:
        return len(self.joints)

    def to_attrs(self) -> dict:
        """The JSON form stored in the store's root attrs under `layout`."""
        d = asdict(self)
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

LAYOUTS: dict[str, Layout] = {layout.name: layout for layout in (NTU25, OPENPOSE18, MSR20)}


def get_layout(name: str) -> Layout:
    """Look a layout up by name, with a clear error listing the known ones."""
    try:
        return LAYOUTS[name]
    except KeyError:
        raise KeyError(f"unknown layout {name!r}; known: {sorted(LAYOUTS)}") from None
