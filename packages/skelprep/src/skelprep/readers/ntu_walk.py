"""The compiled walk over the line structure of a scanned NTU `.skeleton` file.

`walk_structure` follows frame count -> per frame a body count -> per body an info line, a
joint count and 25 joint lines, over the per-line token counts of `readers.scan`, and groups
the body-frames by body id (the first field of the info line, compared as bytes). It runs in
one compiled call (no Python work per frame or body, the GIL released) and stops at the first
structural problem with a code, the 0-based line and what was expected there; `ntu.py` turns
that into the error message. A body id seen twice in one frame does not stop the walk: it is
recorded (`twice`) and reported by `ntu.py` after the field checks. The body id is kept as
text: NTU ids such as 72057594037931101 exceed float64's exact integers.

`gather_tracks` then places every body-frame's joints (x y z and tracking state) on the
file's timeline in one more compiled pass, and is where the field rules live: each body-info
and joint line holds exactly its number of fields, each a number of magnitude <= the limit
(finite, within float32), and each tracking state is one of the allowed values. It stops at
the first field, in file order, that breaks a rule, with a code, the line and the token;
`ntu.py` only turns that into the error message. A token the tokenizer left to Python's
`float` (`readers.scan`, FLAGGED) stops it as NOT_A_NUMBER: the caller converts such tokens
(`scan.convert_flagged`) and gathers again, and a token still flagged then is not a number.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from skelprep.readers.scan import FLAGGED, Scanned

# what the walk expected where it stopped
WHAT_FRAME_COUNT, WHAT_BODY_COUNT, WHAT_BODY_INFO, WHAT_JOINT_COUNT, WHAT_JOINT_LINES = range(5)
# how it stopped
OK, ENDS_EARLY, NOT_COUNT, WRONG_JOINTS, TRAILING = range(5)
# which field rule the gather found broken (OK: none)
FIELD_COUNT, NOT_A_NUMBER, OUT_OF_RANGE, TRACKING_STATE = range(1, 5)
# the kind of line it was checking
BODY_INFO_LINE, JOINT_LINE = range(2)


class Walk(NamedTuple):
    """Result of `walk_structure`; arrays are trimmed to what was read."""

    status: int  # OK or an error kind above
    line: int  # 0-based line of the problem (ENDS_EARLY: the line after the last one)
    what: int  # WHAT_*: the item expected (ENDS_EARLY, NOT_COUNT)
    value: int  # WRONG_JOINTS: the joint count found
    frame: int  # 0-based frame being read when it stopped
    twice: int  # first body-frame whose body already appeared in that frame, else -1
    num_frames: int
    per_frame: np.ndarray  # (frames read,) bodies per frame
    info_at: np.ndarray  # (body-frames,) line of each body-info line
    joints_at: np.ndarray  # (body-frames,) line of each body's first joint line
    frame_of: np.ndarray  # (body-frames,) frame of each body-frame
    body_of: np.ndarray  # (body-frames,) body index, in order of first appearance
    id_start: np.ndarray  # (bodies,) byte offset of each body's id
    id_stop: np.ndarray  # (bodies,) one past its last byte


@numba.njit(cache=True, nogil=True)
def _token_span(buf, start):  # noqa: ANN001, ANN202 (compiled)
    """Byte range of the first whitespace-separated token at or after `start`."""
    n = buf.shape[0]
    i = start
    while i < n and (buf[i] == 32 or buf[i] == 9 or buf[i] == 13):
        i += 1
    j = i
    while j < n and not (buf[j] == 32 or buf[j] == 9 or buf[j] == 13 or buf[j] == 10):
        j += 1
    return i, j


@numba.njit(cache=True, nogil=True)
def _same_bytes(buf, a0, a1, b0, b1) -> bool:  # noqa: ANN001 (compiled)
    if a1 - a0 != b1 - b0:
        return False
    for k in range(a1 - a0):  # noqa: SIM110 (compiled: no generators)
        if buf[a0 + k] != buf[b0 + k]:
            return False
    return True


@numba.njit(cache=True, nogil=True)
def _count(line_int, pos, end):  # noqa: ANN001, ANN202 (compiled)
    """(status, line, value) of the count expected on line `pos`: a line of one non-negative
    integer; ENDS_EARLY (at line `end`) when the file has no line left, NOT_COUNT otherwise."""
    if pos + 1 > end:
        return ENDS_EARLY, end, 0
    if line_int[pos] < 0:
        return NOT_COUNT, pos, 0
    return OK, pos, line_int[pos]


@numba.njit(cache=True, nogil=True)
def _walk(buf, line_start, line_int, end, joints):  # noqa: ANN001, ANN202, PLR0915 (compiled)
    per_frame = np.zeros(end + 1, np.int64)
    cap = end // (joints + 2) + 1
    info_at = np.zeros(cap, np.int64)
    joints_at = np.zeros(cap, np.int64)
    frame_of = np.zeros(cap, np.int64)
    body_of = np.zeros(cap, np.int64)
    last_frame = np.full(cap, -1, np.int64)
    id_start = np.zeros(cap, np.int64)
    id_stop = np.zeros(cap, np.int64)
    bodies = 0
    k = 0  # body-frames read
    pos = 0
    frame = 0
    value = 0
    twice = -1
    what = WHAT_FRAME_COUNT
    status, line, num_frames = _count(line_int, pos, end)
    pos += 1
    while status == OK and frame < num_frames:
        status, line, count = _count(line_int, pos, end)
        if status != OK:
            what = WHAT_BODY_COUNT
            break
        pos += 1
        per_frame[frame] = count
        for _ in range(count):
            if pos + 1 > end:
                status, line, what = ENDS_EARLY, end, WHAT_BODY_INFO
                break
            info = pos
            pos += 1
            status, line, found = _count(line_int, pos, end)
            if status != OK:
                what = WHAT_JOINT_COUNT
                break
            pos += 1
            if found != joints:
                status, line, value = WRONG_JOINTS, pos - 1, found
                break
            if pos + joints > end:
                status, line, what = ENDS_EARLY, end, WHAT_JOINT_LINES
                break
            a0, a1 = _token_span(buf, line_start[info])
            b = 0
            while b < bodies and not _same_bytes(buf, a0, a1, id_start[b], id_stop[b]):
                b += 1
            if b == bodies:
                id_start[b], id_stop[b] = a0, a1
                bodies += 1
            elif last_frame[b] == frame and twice < 0:
                twice = k
            last_frame[b] = frame
            info_at[k], joints_at[k], frame_of[k], body_of[k] = info, pos, frame, b
            k += 1
            pos += joints
        if status != OK:
            break
        frame += 1
    if status == OK and pos < end:
        status, line = TRAILING, pos
    return status, line, what, value, frame, twice, num_frames, per_frame[:frame], \
        info_at[:k], joints_at[:k], frame_of[:k], body_of[:k], id_start[:bodies], \
        id_stop[:bodies]  # fmt: skip


def walk_structure(
    data: np.ndarray, line_start: np.ndarray, line_int: np.ndarray, end: int, joints: int
) -> Walk:
    """Walk the first `end` lines of a scanned NTU file (`data` its bytes as uint8)."""
    return Walk(*_walk(data, line_start, line_int, end, joints))


@numba.njit(cache=True, nogil=True, inline="always")
def _check_line(line_first, line_count, values, kind, line, width, limit):  # noqa: ANN001, ANN202, PLR0913 (compiled)
    """(status, token) of the first field rule line `line` breaks ((OK, -1) if none): `width`
    fields (token -1), each converted (not FLAGGED) and of magnitude <= `limit`."""
    if line_count[line] != width:
        return FIELD_COUNT, -1
    for token in range(line_first[line], line_first[line] + width):
        if kind[token] == FLAGGED or not abs(values[token]) <= limit:  # NaN fails too
            return (NOT_A_NUMBER if kind[token] == FLAGGED else OUT_OF_RANGE), token
    return OK, -1


@numba.njit(cache=True, nogil=True)
def _gather(line_first, line_count, values, kind, walk_arrays, shape, rules):  # noqa: ANN001, ANN202 (compiled)
    """(status, part, line, token, xyz, state, present): see `gather_tracks`."""
    info_at, joints_at, frame_of, body_of = walk_arrays
    bodies, frames, joints = shape
    info_width, width, limit, states = rules
    xyz = np.zeros((bodies, frames, joints, 3))
    state = np.zeros((bodies, frames, joints), np.int8)
    present = np.zeros((bodies, frames), np.bool_)
    for k in range(info_at.shape[0]):
        line = info_at[k]
        status, token = _check_line(line_first, line_count, values, kind, line, info_width, limit)
        if status != OK:
            return status, BODY_INFO_LINE, line, token, xyz, state, present
        b, t = body_of[k], frame_of[k]
        present[b, t] = True
        for v in range(joints):
            line = joints_at[k] + v
            status, token = _check_line(line_first, line_count, values, kind, line, width, limit)
            if status != OK:
                return status, JOINT_LINE, line, token, xyz, state, present
            first = line_first[line]
            tracking = values[first + width - 1]
            if not (
                0.0 <= tracking < 64.0
                and tracking == int(tracking)
                and (states >> int(tracking)) & 1
            ):
                return TRACKING_STATE, JOINT_LINE, line, first + width - 1, xyz, state, present
            state[b, t, v] = np.int8(tracking)
            for c in range(3):
                xyz[b, t, v, c] = values[first + c]
    return OK, BODY_INFO_LINE, -1, -1, xyz, state, present


class Tracks(NamedTuple):
    """The bodies of a walked file on its frame timeline."""

    xyz: np.ndarray  # (bodies, frames, joints, 3) float64, zero where a body is absent
    tracking: np.ndarray  # (bodies, frames, joints) int8 trackingState
    present: np.ndarray  # (bodies, frames) bool


class Gathered(NamedTuple):
    """Result of `gather_tracks`: the tracks, or the first field rule broken and where."""

    status: int  # OK or FIELD_COUNT, NOT_A_NUMBER, OUT_OF_RANGE, TRACKING_STATE
    part: int  # BODY_INFO_LINE or JOINT_LINE: the kind of line that breaks it
    line: int  # 0-based line
    token: int  # the token (NOT_A_NUMBER, OUT_OF_RANGE, TRACKING_STATE), else -1
    tracks: Tracks  # complete only when status is OK


class FieldRules(NamedTuple):
    """What each field of a walked file must be (the format's constants live in `ntu.py`)."""

    info_width: int  # fields of a body-info line
    joint_width: int  # fields of a joint line; the last is the tracking state
    limit: float  # largest magnitude a value may have
    states: int  # the tracking states allowed, as a bit mask: bit s set when state s is (0..63)


def gather_tracks(scanned: Scanned, walk: Walk, joints: int, rules: FieldRules) -> Gathered:
    """Every body's joints (x y z and the last field, the tracking state) on the timeline, in
    one compiled pass that checks each body-info and joint line against `rules` and stops at
    the first field, in file order, that breaks one."""
    status, part, line, token, *tracks = _gather(
        scanned.line_first,
        scanned.line_count,
        scanned.values,
        scanned.kind,
        (walk.info_at, walk.joints_at, walk.frame_of, walk.body_of),
        (len(walk.id_start), walk.num_frames, joints),
        (rules.info_width, rules.joint_width, float(rules.limit), rules.states),
    )
    return Gathered(status, part, line, token, Tracks(*tracks))
