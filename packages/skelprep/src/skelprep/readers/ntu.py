"""NTU RGB+D 60/120 raw `.skeleton` files: a strict, fast parser and the reader that shapes a Sample.

File structure (LF or CRLF line ends): the frame count; per frame a body count; per body a line of
10 body-info fields (bodyID clipedEdges handLeftConfidence handLeftState handRightConfidence
handRightState isRestricted leanX leanY trackingState), the joint count (25) and 25 lines of 12
numbers (x y z depthX depthY colorX colorY orientationW orientationX orientationY orientationZ
trackingState). Nothing but blank lines may follow the last frame.

Speed: the file's bytes are tokenized and converted in one compiled pass (readers.scan), the
frame/body structure is walked and bodies grouped by id in a second (readers.ntu_walk), and a
third gathers every body's joints onto the file's timeline while checking each field; no
Python-level work is done per frame, body or joint line. The rules are checked there alone: a
pass that stops reports what and where, and this module only words the error.
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
    BODY_INFO_LINE,
    ENDS_EARLY,
    FIELD_COUNT,
    NOT_A_NUMBER,
    NOT_COUNT,
    OK,
    OUT_OF_RANGE,
    WHAT_BODY_COUNT,
    WHAT_BODY_INFO,
    WHAT_FRAME_COUNT,
    WHAT_JOINT_COUNT,
    WHAT_JOINT_LINES,
    WRONG_JOINTS,
    FieldRules,
    Gathered,
    Tracks,
    Walk,
    gather_tracks,
    walk_structure,
)
from skelprep.readers.scan import Scanned, convert_flagged, scan_numbers
from skelprep.readers.text import read_text_bytes

NTU_JOINTS = 25
BODY_INFO_FIELDS = 10
JOINT_FIELDS = 12
TRACKING_STATES = (0, 1, 2)
FIELD_RULES = FieldRules(
    BODY_INFO_FIELDS, JOINT_FIELDS, FLOAT32_MAX, sum(1 << state for state in TRACKING_STATES)
)
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


def _field_error(scanned: Scanned, gathered: Gathered) -> RawFormatError:
    """The RawFormatError of a gather that stopped at a field (status other than OK)."""
    expected = (
        f"{BODY_INFO_FIELDS} body-info numbers" if gathered.part == BODY_INFO_LINE else JOINT_LINE
    )
    if gathered.status == FIELD_COUNT:
        found = int(scanned.line_count[gathered.line])
        message = f"expected {expected}, found {found} fields"
    elif gathered.status == NOT_A_NUMBER:
        text = scanned.token_text(gathered.token)[:30]
        message = f"expected {expected}; found {text!r}, not a number"
    elif gathered.status == OUT_OF_RANGE:
        text = scanned.token_text(gathered.token)[:30]
        message = f"non-finite value or beyond float32 range: {text!r}"
    else:
        message = f"trackingState must be one of {TRACKING_STATES}"
    return RawFormatError(scanned.path, message, gathered.line + 1)


def _walked(path: Path) -> tuple[Scanned, Walk, Tracks]:
    """Scan, walk and gather a `.skeleton` file; RawFormatError at the first problem.

    The compiled passes handle a well-formed file alone; when the gather stops at a token the
    tokenizer left to Python's float, those tokens are converted and the gather runs again.
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
    gathered = gather_tracks(scanned, walk, NTU_JOINTS, FIELD_RULES)
    if gathered.status == NOT_A_NUMBER and convert_flagged(scanned):
        gathered = gather_tracks(scanned, walk, NTU_JOINTS, FIELD_RULES)
    if gathered.status != OK:
        raise _field_error(scanned, gathered)
    if walk.twice >= 0:
        body_id = _body_ids(scanned, walk)[walk.body_of[walk.twice]]
        line = int(walk.info_at[walk.twice]) + 1
        raise RawFormatError(path, f"body {body_id} appears twice in one frame", line)
    return scanned, walk, gathered.tracks


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
    array, frames, transform = align_sequence(joints[kept], present[kept], NTU25, options)
    meta = {field: ids[field] for field in ID_FIELDS[:-1]}
    return Sample(
        ref.name, ids["action"] - 1, array, frames, meta, chosen.found, len(kept), transform
    )
