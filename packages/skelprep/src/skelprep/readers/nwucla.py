"""NW-UCLA Multiview Action3D skeletons in the `all_sqe/*.json` form CTR-GCN and InfoGCN train on.

Each file holds one JSON object: `file_name` (the file stem `aAA_sSS_eEE_vVV`: action, subject,
repetition, view), `skeletons` (T x 20 x 3: one person, metres, Kinect v1 camera space, y up,
joints in Kinect SDK v1 order, the `kinect-v1` layout) and `label` (1-10, the action's place in
NWUCLA_ACTIONS). Sequences are aligned like the other Kinect readers (skelprep.align).

Recordings are kept as they are: a one-frame sequence is padded like any other; a frame in which
some joints are at (0, 0, 0) (a tracking drop-out) is kept unchanged and counted in meta
`zeroed_frames`; a frame with every joint at zero holds no body and counts as untracked
(align.fill_gaps repeats the previous frame there).

Copies: meta `copy_of_view` is the lowest lower-numbered view whose file for the same action,
subject and repetition has identical skeletons (0: none). In the distribution the papers use,
every a02 and a03 view-3 file equals its view-2 file; the `xview-dedup` split leaves such test
files out, so a score can be given without test samples that are also training samples.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from skelprep.align import align_sequence
from skelprep.classes import NWUCLA_ACTIONS, NWUCLA_CLASSES
from skelprep.errors import RawFormatError, skip_record
from skelprep.layouts import KINECT_V1
from skelprep.readers.base import FLOAT32_MAX, Discovery, ReadOptions, Sample, SampleRef

FILE_NAME = re.compile(r"^a(\d\d)_s(\d\d)_e(\d\d)_v(\d\d)\.json$")
SUBFOLDER = "all_sqe"
META_FIELDS = ("action", "subject", "episode", "view", "copy_of_view", "zeroed_frames")


def _name_fields(path: Path) -> tuple[int, int, int, int]:
    """(action, subject, episode, view) from a file name; RawFormatError when it does not fit."""
    match = FILE_NAME.match(path.name)
    if match is None:
        raise RawFormatError(path, "name is not aAA_sSS_eEE_vVV.json")
    action, subject, episode, view = map(int, match.groups())
    return action, subject, episode, view


def read_nwucla_skeletons(path: Path) -> np.ndarray:
    """The `skeletons` of one file as (T, 20, 3) float64, after checking the whole object.

    RawFormatError (naming the file) for broken JSON, missing keys, a `file_name` other than the
    stem, a label that is not the one of the name's action, a wrong shape or a non-finite value.
    """
    action = _name_fields(path)[0]
    try:
        doc = json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise RawFormatError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    except UnicodeDecodeError as exc:
        raise RawFormatError(path, f"not UTF-8 text: {exc.reason}") from None
    if not isinstance(doc, dict) or not {"file_name", "skeletons", "label"} <= doc.keys():
        raise RawFormatError(path, "expected an object with file_name, skeletons and label")
    if doc["file_name"] != path.stem:
        raise RawFormatError(path, f"file_name {doc['file_name']!r} is not the file's name")
    if action not in NWUCLA_ACTIONS:
        raise RawFormatError(path, f"action a{action:02d} is not an NW-UCLA action")
    expected = NWUCLA_ACTIONS.index(action) + 1
    if doc["label"] != expected or isinstance(doc["label"], bool):
        raise RawFormatError(
            path, f"label {doc['label']!r} does not match action a{action:02d} (label {expected})"
        )
    try:
        skeletons = np.array(doc["skeletons"], dtype=np.float64)
    except (TypeError, ValueError):
        raise RawFormatError(path, "skeletons is not a T x 20 x 3 array of numbers") from None
    joints = len(KINECT_V1.joints)
    if skeletons.ndim != 3 or skeletons.shape[1:] != (joints, 3) or len(skeletons) == 0:
        raise RawFormatError(
            path, f"skeletons has shape {skeletons.shape}, expected (frames >= 1, {joints}, 3)"
        )
    bad = ~np.isfinite(skeletons) | (np.abs(skeletons) > FLOAT32_MAX)
    if bad.any():
        frame = int(np.argwhere(bad)[0][0])
        raise RawFormatError(path, f"frame {frame}: a coordinate is NaN, infinite or too large")
    return skeletons


def copy_of_view(path: Path, skeletons: np.ndarray) -> int:
    """The lowest lower-numbered view whose sibling file (same action, subject, repetition) has
    exactly these skeletons; 0 when none does. An unreadable sibling is no copy."""
    action, subject, episode, view = _name_fields(path)
    for other in range(1, view):
        sibling = path.with_name(f"a{action:02d}_s{subject:02d}_e{episode:02d}_v{other:02d}.json")
        if not sibling.is_file():
            continue
        try:
            if np.array_equal(read_nwucla_skeletons(sibling), skeletons):
                return other
        except RawFormatError:
            continue
    return 0


def read_nwucla(ref: SampleRef, options: ReadOptions) -> Sample:
    """Read one NW-UCLA JSON file into a Sample (one body, aligned like the Kinect readers)."""
    action, subject, episode, view = _name_fields(ref.path)
    skeletons = read_nwucla_skeletons(ref.path)
    at_zero = ~skeletons.any(axis=2)  # (T, V): joints at exactly (0, 0, 0)
    present = ~at_zero.all(axis=1)
    if not present.any():
        raise RawFormatError(ref.path, "no valid frame (every joint of every frame is zero)")
    zeroed = int((at_zero.any(axis=1) & present).sum())
    array, length, transform = align_sequence(skeletons[None], present[None], KINECT_V1, options)
    meta = {
        "action": action,
        "subject": subject,
        "episode": episode,
        "view": view,
        "copy_of_view": copy_of_view(ref.path, skeletons),
        "zeroed_frames": zeroed,
    }
    return Sample(ref.name, NWUCLA_ACTIONS.index(action), array, length, meta, 1, 1, transform)


def discover_nwucla(raw: Path, options: ReadOptions) -> Discovery:
    """The `aAA_sSS_eEE_vVV.json` files of `raw/all_sqe` (or of `raw` itself when it has no
    `all_sqe` folder); other `.json` files are listed as skipped."""
    raw = Path(raw)
    folder = raw / SUBFOLDER if (raw / SUBFOLDER).is_dir() else raw
    paths = sorted(folder.glob("*.json"))
    refs = [SampleRef(path.stem, path) for path in paths if FILE_NAME.match(path.name)]
    if not refs:
        raise RawFormatError(folder, "no NW-UCLA aAA_sSS_eEE_vVV.json files found")
    skipped = [
        skip_record(path, "name is not aAA_sSS_eEE_vVV.json")
        for path in paths
        if not FILE_NAME.match(path.name)
    ]
    return Discovery(refs, skipped, list(NWUCLA_CLASSES))


def build_notes(meta: dict[str, np.ndarray], frames: np.ndarray) -> list[str]:
    """Build-summary lines: the recordings kept as they are, and the view copies found."""
    zeroed = np.asarray(meta["zeroed_frames"])
    copies = np.asarray(meta["copy_of_view"]) > 0
    return [
        f"nwucla: {int((np.asarray(frames) == 1).sum())} one-frame sequences kept (padded)",
        f"nwucla: {int(zeroed.sum())} frames in {int((zeroed > 0).sum())} sequences have joints "
        "at (0, 0, 0), kept as recorded",
        f"nwucla: {int(copies.sum())} files are exact copies of a lower view's file "
        "(meta copy_of_view; xview-dedup leaves those of the test view out)",
    ]
