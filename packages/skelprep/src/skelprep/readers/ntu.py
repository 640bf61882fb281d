"""NTU RGB+D 60/120 raw `.skeleton` files: a strict, fast parser and the reader that shapes a Sample.

File structure (LF or CRLF line ends): the frame count; per frame a body count; per body a line of
10 body-info fields (bodyID clipedEdges handLeftConfidence handLeftState handRightConfidence
handRightState isRestricted leanX leanY trackingState), the joint count (25) and 25 lines of 12
numbers (x y z depthX depthY colorX colorY orientationW orientationX orientationY orientationZ
trackingState). Nothing but blank lines may follow the last frame.

Speed: the file's bytes are tokenized and converted in one compiled pass (readers.scan), then
the structure is walked over per-line token counts with integer offsets, and the joint values are
gathered with one fancy index; no Python-level work is done per joint line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from skelprep.align import align_sequence
from skelprep.bodies import select_bodies
from skelprep.errors import RawFormatError
from skelprep.layouts import NTU25
from skelprep.readers.base import ReadOptions, Sample, SampleRef
from skelprep.readers.scan import Scanned, resolve_flagged, scan_numbers
from skelprep.readers.text import read_text_bytes

NTU_JOINTS = 25
BODY_INFO_FIELDS = 10
JOINT_FIELDS = 12
TRACKING_STATES = (0, 1, 2)
JOINT_LINE = (
    "12 numbers (x y z depthX depthY colorX colorY orientationW orientationX orientationY "
    "orientationZ trackingState)"
)
SAMPLE_ID = re.compile(r"^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$")
ID_FIELDS = ("setup", "camera", "subject", "replication", "action")


@dataclass
class NtuBody:
    """One Kinect body track: the frames it appears in (0-based) and its per-frame data."""

    body_id: str
    frame_index: np.ndarray  # (F_b,) int64
    xyz: np.ndarray  # (F_b, 25, 3) float64
    tracking: np.ndarray  # (F_b, 25) int8
    info: np.ndarray  # (F_b, 10) float64 (the body id as a float, lossy)


@dataclass
class NtuSkeletonFile:
    """A parsed `.skeleton` file: bodies in order of first appearance, body count per frame."""

    num_frames: int
    bodies: list[NtuBody]
    bodies_per_frame: np.ndarray  # (num_frames,) int64


def parse_sample_id(name: str) -> dict[str, int]:
    """Split an NTU id such as S001C002P003R002A013 into setup/camera/subject/replication/action."""
    match = SAMPLE_ID.match(name)
    if match is None:
        raise ValueError(f"{name!r} is not an NTU sample id (SsssCcccPpppRrrrAaaa)")
    return dict(zip(ID_FIELDS, map(int, match.groups()), strict=True))


class _Walker:
    """Walks the line structure of one scanned file with an integer line offset."""

    def __init__(self, scanned: Scanned) -> None:
        self.scanned = scanned
        self.first = scanned.line_first.tolist()
        self.count_of = scanned.line_count.tolist()
        self.integer = scanned.line_int.tolist()
        nonblank = np.flatnonzero(scanned.line_count)
        self.end = int(nonblank[-1]) + 1 if len(nonblank) else 0
        self.pos = 0

    def need(self, count: int, what: str) -> int:
        """Reserve `count` lines starting at the current one; error if the file ends first."""
        if self.pos + count > self.end:
            raise RawFormatError(
                self.scanned.path, f"file ends early: expected {what}", line=self.end + 1
            )
        start, self.pos = self.pos, self.pos + count
        return start

    def count(self, what: str) -> int:
        """Parse the next line as one non-negative integer."""
        index = self.need(1, what)
        value = self.integer[index]
        if value < 0:
            fields = self.count_of[index]
            found = (
                f"{fields} fields" if fields != 1 else repr(self.scanned.line_text(index + 1)[:40])
            )
            raise RawFormatError(
                self.scanned.path,
                f"expected {what} (a non-negative integer), found {found}",
                index + 1,
            )
        return value


def _fields(walk: _Walker, lines: np.ndarray, width: int, expected: str) -> np.ndarray:
    """Values of `lines` (line indices, any shape) that must each hold `width` numbers."""
    counts = walk.scanned.line_count[lines]
    if (counts != width).any():
        bad = int(lines.reshape(-1)[np.flatnonzero(counts.reshape(-1) != width)[0]])
        found = int(walk.scanned.line_count[bad])
        raise RawFormatError(
            walk.scanned.path, f"expected {expected}, found {found} fields", bad + 1
        )
    tokens = walk.scanned.line_first[lines][..., None] + np.arange(width)
    return resolve_flagged(walk.scanned, tokens, expected)


def parse_ntu_skeleton(path: str | Path) -> NtuSkeletonFile:
    """Parse a `.skeleton` file strictly; RawFormatError naming file, line and what was expected."""
    path = Path(path)
    scanned = scan_numbers(path, read_text_bytes(path))
    walk = _Walker(scanned)
    if walk.end == 0:
        raise RawFormatError(path, "empty file", 1)
    num_frames = walk.count("the frame count")
    per_frame: list[int] = []  # grown as frames are read: a huge count fails where lines run out
    info_at: list[int] = []
    joints_at: list[int] = []
    frame_of: list[int] = []
    for frame in range(num_frames):
        per_frame.append(walk.count(f"the body count of frame {frame + 1}"))
        for _ in range(per_frame[-1]):
            info_at.append(walk.need(1, f"a body-info line ({BODY_INFO_FIELDS} fields)"))
            joints = walk.count("the joint count")
            if joints != NTU_JOINTS:
                raise RawFormatError(
                    path, f"expected {NTU_JOINTS} joints, found {joints}", walk.pos
                )
            joints_at.append(walk.need(NTU_JOINTS, f"{NTU_JOINTS} joint lines"))
            frame_of.append(frame)
    if walk.pos < walk.end:
        raise RawFormatError(path, "unexpected content after the last frame", walk.pos + 1)
    info_lines = np.asarray(info_at, dtype=np.int64)
    info = _fields(walk, info_lines, BODY_INFO_FIELDS, f"{BODY_INFO_FIELDS} body-info numbers")
    ids = [scanned.line_text(i + 1).split(maxsplit=1)[0] for i in info_at]
    joint_lines = np.asarray(joints_at, dtype=np.int64)[:, None] + np.arange(NTU_JOINTS)
    values = _fields(walk, joint_lines, JOINT_FIELDS, JOINT_LINE)
    states = values[..., 11]
    valid = np.isin(states, TRACKING_STATES)
    if not valid.all():
        bad = int(joint_lines.reshape(-1)[np.flatnonzero(~valid.reshape(-1))[0]])
        raise RawFormatError(path, f"trackingState must be one of {TRACKING_STATES}", bad + 1)
    bodies = _group_bodies(path, info_at, ids, info, frame_of, values)
    return NtuSkeletonFile(num_frames, bodies, np.asarray(per_frame, dtype=np.int64))


def _group_bodies(
    path: Path,
    info_at: list[int],
    ids: list[str],
    info: np.ndarray,
    frame_of: list[int],
    values: np.ndarray,
) -> list[NtuBody]:
    """Group body-frames by body id, in order of first appearance."""
    groups: dict[str, list[int]] = {}
    for k, body_id in enumerate(ids):
        members = groups.setdefault(body_id, [])
        if members and frame_of[members[-1]] == frame_of[k]:
            raise RawFormatError(path, f"body {body_id} appears twice in one frame", info_at[k] + 1)
        members.append(k)
    bodies = []
    for body_id, members in groups.items():
        rows = np.asarray(members)
        bodies.append(
            NtuBody(
                body_id=body_id,
                frame_index=np.asarray(frame_of, dtype=np.int64)[rows],
                xyz=values[rows, :, :3].copy(),
                tracking=values[rows, :, 11].astype(np.int8),
                info=info[rows],
            )
        )
    return bodies


def body_tracks(parsed: NtuSkeletonFile) -> tuple[np.ndarray, np.ndarray]:
    """The bodies on the file's timeline: joints (B, T, 25, 3) and present (B, T)."""
    shape = (len(parsed.bodies), parsed.num_frames)
    joints = np.zeros((*shape, NTU_JOINTS, 3))
    present = np.zeros(shape, dtype=bool)
    for b, body in enumerate(parsed.bodies):
        joints[b, body.frame_index] = body.xyz
        present[b, body.frame_index] = True
    return joints, present


def read_ntu(ref: SampleRef, options: ReadOptions, num_actions: int = 120) -> Sample:
    """Read one NTU sample: parse, select/denoise bodies, align, pad/trim (see bodies, align)."""
    try:
        ids = parse_sample_id(ref.name)
    except ValueError as exc:
        raise RawFormatError(ref.path, str(exc)) from None
    if not 1 <= ids["action"] <= num_actions:
        raise RawFormatError(
            ref.path, f"action A{ids['action']:03d} outside A001-A{num_actions:03d}"
        )
    parsed = parse_ntu_skeleton(ref.path)
    if not parsed.bodies:
        raise RawFormatError(ref.path, "no body in any frame")
    joints, present = body_tracks(parsed)
    chosen = select_bodies(
        joints,
        present,
        options.max_bodies,
        options.min_body_frames,
        options.spread_ratio,
        options.noisy_frame_fraction,
    )
    kept = list(chosen.kept)
    array, frames = align_sequence(
        joints[kept], present[kept], NTU25, options.max_frames, options.max_bodies, options.align
    )
    meta = {field: ids[field] for field in ID_FIELDS[:-1]}
    return Sample(ref.name, ids["action"] - 1, array, frames, meta, chosen.found, len(kept))
