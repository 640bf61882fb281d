"""Kinetics-skeleton (ST-GCN JSON): one clip per file, 18 OpenPose joints, (x, y, score).

Raw root: `kinetics_{train,val}_label.json` ({clip: {has_skeleton, label, label_index}}) with the
clips under `kinetics_train/` and `kinetics_val/`; an optional `label_name.txt` (one class name a
line) names the classes, otherwise the names come from the label files. Shaping follows ST-GCN's
feeder: of each frame, the first `PEOPLE_CONSIDERED` listed people are taken; x, y are centred
to [-0.5, 0.5] (minus 0.5) and zeroed where the score is 0; per frame the 2 people with the
highest total score are kept, highest first; frames are placed at `frame_index - 1` and the clip
is padded/trimmed to `max_frames`. No rotation or translation (2-D image coordinates).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np

from skelprep.errors import RawFormatError, skip_record
from skelprep.readers.base import FLOAT32_MAX, Discovery, ReadOptions, Sample, SampleRef
from skelprep.splits import SUBSET_CODES

KINETICS_JOINTS = 18
PEOPLE_CONSIDERED = 5
"""ST-GCN's `num_person_in`: people listed after the 5th in a frame are ignored."""
SUBSET_DIRS = {"train": "kinetics_train", "val": "kinetics_val"}
LABEL_FILES = {"train": "kinetics_train_label.json", "val": "kinetics_val_label.json"}
LABEL_NAMES = "label_name.txt"


def _load_json(path: Path) -> object:
    """Parse a JSON file; RawFormatError with the line of a syntax error."""
    try:
        return json.loads(path.read_bytes())
    except json.JSONDecodeError as exc:
        raise RawFormatError(path, f"invalid JSON: {exc.msg}", exc.lineno) from None
    except UnicodeDecodeError as exc:
        raise RawFormatError(path, f"not UTF-8 text: {exc.reason}") from None


@functools.lru_cache(maxsize=4)
def load_labels(path: Path) -> dict[str, dict]:
    """A label file as {clip: {"has_skeleton", "label", "label_index"}}, checked."""
    entries = _load_json(path)
    if not isinstance(entries, dict):
        raise RawFormatError(path, "expected an object {clip: {has_skeleton, label, label_index}}")
    for clip, entry in entries.items():
        if not (
            isinstance(entry, dict)
            and isinstance(entry.get("label"), str)
            and type(entry.get("label_index")) is int
            and entry["label_index"] >= 0
            and isinstance(entry.get("has_skeleton"), bool)
        ):
            raise RawFormatError(path, f"entry {clip!r} lacks has_skeleton/label/label_index")
    return entries


def _class_names(raw: Path, label_files: dict[str, Path]) -> list[str]:
    """Class names from label_name.txt, else from the label files (index -> name)."""
    names_file = raw / LABEL_NAMES
    if names_file.is_file():
        return [line.strip() for line in names_file.read_text().splitlines() if line.strip()]
    names: dict[int, str] = {}
    for path in label_files.values():
        for clip, entry in load_labels(path).items():
            known = names.setdefault(entry["label_index"], entry["label"])
            if known != entry["label"]:
                raise RawFormatError(path, f"{clip}: index {entry['label_index']} is {known!r} "
                                           f"elsewhere, {entry['label']!r} here")  # fmt: skip
    return [names.get(i, f"class {i}") for i in range(max(names, default=-1) + 1)]


def discover_kinetics(raw: Path, options: ReadOptions) -> Discovery:
    """Clips listed in the label files; has_skeleton=false, missing or unlisted clips skipped."""
    raw = Path(raw)
    label_files = {s: raw / f for s, f in LABEL_FILES.items() if (raw / f).is_file()}
    if not label_files:
        raise RawFormatError(raw, f"no label file ({' or '.join(LABEL_FILES.values())}) found")
    refs: dict[str, SampleRef] = {}
    skipped: list[dict] = []
    for subset, label_path in label_files.items():
        clip_dir = raw / SUBSET_DIRS[subset]
        labels = load_labels(label_path)
        for clip, entry in sorted(labels.items()):
            path = clip_dir / f"{clip}.json"
            reason, malformed = None, True
            if not entry["has_skeleton"]:
                reason, malformed = "has_skeleton is false in the label file", False
            elif not path.is_file():
                reason = f"listed in {label_path.name} but the clip file is missing"
            elif clip in refs:
                reason = f"clip also listed in the train set ({refs[clip].path})"
            if reason:
                skipped.append(skip_record(path, reason, malformed=malformed))
            else:
                refs[clip] = SampleRef(clip, path)
        for path in sorted(clip_dir.glob("*.json")):
            if path.stem not in labels:
                skipped.append(skip_record(path, "not in the label file"))
    classes = _class_names(raw, label_files)
    return Discovery(sorted(refs.values(), key=lambda ref: ref.name), skipped, classes)


def _storable(value: object) -> bool:
    """A JSON number that stays finite as the store's float32 (bool is not a number here)."""
    if type(value) not in (int, float):
        return False
    try:
        return abs(float(value)) <= FLOAT32_MAX
    except OverflowError:  # an integer of hundreds of digits
        return False


def _numbers(path: Path, values: object, length: int, what: str) -> list[float]:
    """A list of `length` finite numbers within float32 range, or RawFormatError naming the
    first bad one."""
    if not isinstance(values, list) or len(values) != length:
        size = len(values) if isinstance(values, list) else type(values).__name__
        raise RawFormatError(path, f"{what}: expected {length} numbers, found {size}")
    for k, value in enumerate(values):
        if not _storable(value):
            shown = repr(value)[:40]
            raise RawFormatError(
                path, f"{what}: value {k} is {shown}, expected a finite number within float32 range"
            )
    return values


def _people(path: Path, frames: object, max_frames: int) -> tuple[np.ndarray, int, int, int]:
    """(C=3, max_frames, V, PEOPLE_CONSIDERED) raw x, y, score, the valid length, and the most
    people in one frame: over the clip, and over its first `max_frames` frames."""
    if not isinstance(frames, list) or not frames:
        raise RawFormatError(path, "'data' must be a non-empty list of frames")
    out = np.zeros((3, max_frames, KINETICS_JOINTS, PEOPLE_CONSIDERED))
    seen: set[int] = set()
    most = within = 0
    for k, frame in enumerate(frames):
        if not isinstance(frame, dict) or not isinstance(frame.get("skeleton"), list):
            raise RawFormatError(path, f"frame {k}: expected {{frame_index, skeleton: [...]}}")
        index = frame.get("frame_index")
        if type(index) is not int or index < 1 or index in seen:
            raise RawFormatError(path, f"frame {k}: frame_index must be a new integer >= 1")
        seen.add(index)
        most = max(most, len(frame["skeleton"]))
        if index <= max_frames:
            within = max(within, len(frame["skeleton"]))
        for m, person in enumerate(frame["skeleton"][:PEOPLE_CONSIDERED]):
            if not isinstance(person, dict):
                raise RawFormatError(path, f"frame {index}: person {m} is not an object")
            pose = _numbers(path, person.get("pose"), 2 * KINETICS_JOINTS, f"frame {index} pose")
            score = _numbers(path, person.get("score"), KINETICS_JOINTS, f"frame {index} score")
            if index <= max_frames:
                out[0, index - 1, :, m] = pose[0::2]
                out[1, index - 1, :, m] = pose[1::2]
                out[2, index - 1, :, m] = score
    return out, min(max(seen), max_frames), most, within


def read_kinetics(ref: SampleRef, options: ReadOptions) -> Sample:
    """Read one clip (see module docstring); its label must agree with the split's label file."""
    clip = _load_json(ref.path)
    if not isinstance(clip, dict) or not {"data", "label", "label_index"} <= clip.keys():
        raise RawFormatError(ref.path, "expected an object with keys data, label, label_index")
    subset = next((s for s, d in SUBSET_DIRS.items() if ref.path.parent.name == d), None)
    if subset is None:
        raise RawFormatError(ref.path, f"clip is not in {' or '.join(SUBSET_DIRS.values())}/")
    label_path = ref.path.parent.parent / LABEL_FILES[subset]
    entry = load_labels(label_path).get(ref.name)
    if entry is None or (entry["label"], entry["label_index"]) != (
        clip["label"],
        clip["label_index"],
    ):
        listed = None if entry is None else (entry["label"], entry["label_index"])
        raise RawFormatError(ref.path, f"label {(clip['label'], clip['label_index'])} disagrees "
                                       f"with {label_path.name}: {listed}")  # fmt: skip
    people, frames, most, within = _people(ref.path, clip["data"], options.max_frames)
    if most == 0:
        raise RawFormatError(ref.path, "no person in any frame")
    if within == 0:  # kept, it would be an all-zero sample
        raise RawFormatError(ref.path, f"no person in the first {options.max_frames} frames "
                                       "(--max-frames)")  # fmt: skip
    people[:2] = np.where(people[2] != 0, people[:2] - 0.5, 0.0)
    order = np.argsort(-people[2].sum(axis=1), axis=1, kind="stable")  # (T, people)
    ranked = np.take_along_axis(people, order[None, :, None, :], axis=3)
    joints = np.zeros((3, options.max_frames, KINETICS_JOINTS, options.max_bodies), np.float32)
    kept = min(options.max_bodies, PEOPLE_CONSIDERED)
    joints[..., :kept] = ranked[..., :kept]
    meta = {"subset": SUBSET_CODES[subset]}
    return Sample(ref.name, entry["label_index"], joints, frames, meta, most, min(most, kept))
