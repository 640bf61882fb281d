"""NTU RGB+D 60/120 raw `.skeleton` files: a strict, fast parser and the reader that shapes a Sample.

File structure (LF or CRLF line ends): the frame count; per frame a body count; per body a line of
10 body-info fields (bodyID clipedEdges handLeftConfidence handLeftState handRightConfidence
handRightState isRestricted leanX leanY trackingState), the joint count (25) and 25 lines of 12
numbers (x y z depthX depthY colorX colorY orientationW orientationX orientationY orientationZ
trackingState). Nothing but blank lines may follow the last frame.

Speed: the file's bytes are tokenized and converted in one compiled pass (readers.scan), the
frame/body structure is walked and bodies grouped by id in a second (readers.ntu_walk), and a
third gathers every body's joints onto the file's timeline while checking each field; no
Python-level work is done per frame, body or joint line. Only when that check fails does the
Python path (`_checked_fields`) run, to name the file, line and field of the problem.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from skelprep.align import align_sequence
from skelprep.bodies import select_bodies
from skelprep.errors import RawFormatError
from skelprep.layouts import NTU25
from skelprep.readers.base import FLOAT32_MAX, ReadOptions, Sample, SampleRef
from skelprep.readers.ntu_walk import (
    ENDS_EARLY,
    NOT_COUNT,
    OK,
    WHAT_BODY_COUNT,
    WHAT_BODY_INFO,
    WHAT_FRAME_COUNT,
    WHAT_JOINT_COUNT,
    WHAT_JOINT_LINES,
    WRONG_JOINTS,
    Tracks,
    Walk,
    gather_tracks,
    walk_structure,
)
from skelprep.readers.scan import FLAGGED, Scanned, resolve_flagged, scan_numbers
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


def parse_sample_id(name: str) -> dict[str, int]:
    """Split an NTU id such as S001C002P003R002A013 into setup/camera/subject/replication/action."""
    match = SAMPLE_ID.match(name)
    if match is None:
        raise ValueError(f"{name!r} is not an NTU sample id (SsssCcccPpppRrrrAaaa)")
    return dict(zip(ID_FIELDS, map(int, match.groups()), strict=True))


def _fields(scanned: Scanned, lines: np.ndarray, width: int, expected: str) -> np.ndarray:
    """Values of `lines` (line indices, any shape) that must each hold `width` numbers."""
    counts = scanned.line_count[lines]
    if (counts != width).any():
        bad = int(lines.reshape(-1)[np.flatnonzero(counts.reshape(-1) != width)[0]])
        found = int(scanned.line_count[bad])
        raise RawFormatError(scanned.path, f"expected {expected}, found {found} fields", bad + 1)
    tokens = scanned.line_first[lines][..., None] + np.arange(width)
    return resolve_flagged(scanned, tokens, expected)


def _expected(walk: Walk) -> str:
    """What the walk expected where it stopped, in the words of the error message."""
    return {
        WHAT_FRAME_COUNT: "the frame count",
        WHAT_BODY_COUNT: f"the body count of frame {walk.frame + 1}",
        WHAT_BODY_INFO: f"a body-info line ({BODY_INFO_FIELDS} fields)",
        WHAT_JOINT_COUNT: "the joint count",
        WHAT_JOINT_LINES: f"{NTU_JOINTS} joint lines",
    }[walk.what]


def _structure_error(scanned: Scanned, walk: Walk) -> RawFormatError:
    """The RawFormatError of a walk that stopped (status other than OK)."""
    if walk.status == ENDS_EARLY:
        return RawFormatError(
            scanned.path, f"file ends early: expected {_expected(walk)}", walk.line + 1
        )
    if walk.status == NOT_COUNT:
        fields = int(scanned.line_count[walk.line])
        found = f"{fields} fields" if fields != 1 else repr(scanned.line_text(walk.line + 1)[:40])
        message = f"expected {_expected(walk)} (a non-negative integer), found {found}"
        return RawFormatError(scanned.path, message, walk.line + 1)
    if walk.status == WRONG_JOINTS:
        message = f"expected {NTU_JOINTS} joints, found {walk.value}"
        return RawFormatError(scanned.path, message, walk.line + 1)
    return RawFormatError(scanned.path, "unexpected content after the last frame", walk.line + 1)


def _walked(path: Path) -> tuple[Scanned, Walk, Tracks]:
    """Scan, walk and gather a `.skeleton` file; RawFormatError at the first problem.

    The compiled passes handle a well-formed file alone; when the gather meets a problem (or a
    token only Python's float converts), `_checked_fields` names it, or converts those tokens
    in place and the gather runs again.
    """
    data = read_text_bytes(path)
    scanned = scan_numbers(path, data)
    nonblank = np.flatnonzero(scanned.line_count)
    end = int(nonblank[-1]) + 1 if len(nonblank) else 0
    if end == 0:
        raise RawFormatError(path, "empty file", 1)
    buf = np.frombuffer(data, dtype=np.uint8)
    walk = walk_structure(buf, scanned.line_start, scanned.line_int, end, NTU_JOINTS)
    if walk.status != OK:
        raise _structure_error(scanned, walk)
    widths = (BODY_INFO_FIELDS, JOINT_FIELDS)
    tracks = gather_tracks(scanned, walk, NTU_JOINTS, widths, FLOAT32_MAX)
    if tracks is None:
        _checked_fields(scanned, walk)
        tracks = gather_tracks(scanned, walk, NTU_JOINTS, widths, FLOAT32_MAX)
    if walk.twice >= 0:
        body_id = _body_ids(scanned, walk)[walk.body_of[walk.twice]]
        line = int(walk.info_at[walk.twice]) + 1
        raise RawFormatError(path, f"body {body_id} appears twice in one frame", line)
    return scanned, walk, tracks


def _checked_fields(scanned: Scanned, walk: Walk) -> None:
    """Raise the RawFormatError of the first bad body-info or joint field (counts, numbers,
    tracking states); if there is none, store the Python-converted flagged values in place."""
    info_lines = walk.info_at
    _fields(scanned, info_lines, BODY_INFO_FIELDS, f"{BODY_INFO_FIELDS} body-info numbers")
    joint_lines = walk.joints_at[:, None] + np.arange(NTU_JOINTS)
    values = _fields(scanned, joint_lines, JOINT_FIELDS, JOINT_LINE)
    valid = np.isin(values[..., 11], TRACKING_STATES)
    if not valid.all():
        bad = int(joint_lines.reshape(-1)[np.flatnonzero(~valid.reshape(-1))[0]])
        raise RawFormatError(
            scanned.path, f"trackingState must be one of {TRACKING_STATES}", bad + 1
        )
    for lines, width in ((info_lines, BODY_INFO_FIELDS), (joint_lines, JOINT_FIELDS)):
        tokens = scanned.line_first[lines][..., None] + np.arange(width)
        scanned.values[tokens] = resolve_flagged(scanned, tokens, "")
        scanned.kind[tokens] = np.where(scanned.kind[tokens] == FLAGGED, 0, scanned.kind[tokens])


def _body_ids(scanned: Scanned, walk: Walk) -> list[str]:
    """The body ids as text, in order of first appearance."""
    spans = zip(walk.id_start.tolist(), walk.id_stop.tolist(), strict=True)
    return [scanned.data[a:b].decode() for a, b in spans]


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
    _, _, tracks = _walked(Path(ref.path))
    if not len(tracks.present):
        raise RawFormatError(ref.path, "no body in any frame")
    joints, present = tracks.xyz, tracks.present
    chosen = select_bodies(
        joints,
        present,
        options.max_bodies,
        options.min_body_frames,
        options.spread_ratio,
        options.noisy_frame_fraction,
    )
    kept = list(chosen.kept)
    array, frames, transform = align_sequence(
        joints[kept], present[kept], NTU25, options.max_frames, options.max_bodies, options.align
    )
    meta = {field: ids[field] for field in ID_FIELDS[:-1]}
    return Sample(
        ref.name, ids["action"] - 1, array, frames, meta, chosen.found, len(kept), transform
    )
