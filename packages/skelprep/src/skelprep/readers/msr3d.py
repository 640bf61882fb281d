"""MSR Action3D skeleton files (`aXX_sYY_eZZ_skeleton3D.txt`): reader, discovery, bone geometry.

Each line holds `x y z confidence` of one joint, 20 lines per frame (msr20 layout order); metres,
y up, z the depth from the sensor. Frames whose numbers are all zero (the tracker lost the body)
are dropped and counted in `meta["dropped_frames"]`; a file with no other frame raises
RawFormatError("no valid frame"). The default sample set is the 557 ids of
`files_used_in_cvpr12_paper.txt` in the raw root (`ReadOptions.sample_set="all"` takes all files).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from skelprep.align import align_sequence
from skelprep.classes import MSR3D_CLASSES
from skelprep.errors import RawFormatError, skip_record
from skelprep.layouts import MSR20, Layout
from skelprep.readers.base import Discovery, ReadOptions, Sample, SampleRef
from skelprep.readers.scan import resolve_flagged, scan_numbers
from skelprep.readers.text import read_text_bytes

MSR_JOINTS = 20
MSR_FIELDS = 4
FILE_NAME = re.compile(r"^a(\d\d)_s(\d\d)_e(\d\d)_skeleton3D\.txt$")
CVPR12_LIST = "files_used_in_cvpr12_paper.txt"
SAMPLE_SETS = ("default", "cvpr12", "all")


def read_msr_frames(path: Path) -> tuple[np.ndarray, int]:
    """All valid frames of a file as (F, 20, 4) float64 (x y z confidence) and the number of
    all-zero frames dropped; RawFormatError naming file and line on malformed input."""
    scanned = scan_numbers(path, read_text_bytes(path))
    nonblank = np.flatnonzero(scanned.line_count)
    if len(nonblank) == 0:
        raise RawFormatError(path, "empty file", 1)
    lines = np.arange(int(nonblank[-1]) + 1)
    counts = scanned.line_count[lines]
    if (counts != MSR_FIELDS).any():
        bad = int(np.flatnonzero(counts != MSR_FIELDS)[0])
        raise RawFormatError(
            path, f"expected 4 numbers (x y z confidence), found {counts[bad]} fields", bad + 1
        )
    if len(lines) % MSR_JOINTS:
        raise RawFormatError(
            path,
            f"file ends early: expected {MSR_JOINTS} joint lines per frame, "
            f"{len(lines)} lines is not a multiple",
            len(lines) + 1,
        )
    tokens = scanned.line_first[lines][:, None] + np.arange(MSR_FIELDS)
    values = resolve_flagged(scanned, tokens, "4 numbers (x y z confidence)")
    frames = values.reshape(-1, MSR_JOINTS, MSR_FIELDS)
    valid = frames.any(axis=(1, 2))
    if not valid.any():
        raise RawFormatError(path, "no valid frame (every frame is all zeros)")
    return frames[valid], int((~valid).sum())


def bone_lengths(xyz: np.ndarray, layout: Layout = MSR20) -> np.ndarray:
    """Length of every bone of `layout` in every frame: (T, V, 3) -> (T, E)."""
    edges = np.asarray(layout.edges)
    return np.linalg.norm(xyz[:, edges[:, 0]] - xyz[:, edges[:, 1]], axis=-1)


def bone_segments(frame: np.ndarray, layout: Layout = MSR20) -> np.ndarray:
    """The bones of one frame (V, C) as segments (E, 2, C), ready for any line-drawing tool."""
    edges = np.asarray(layout.edges)
    return np.stack([frame[edges[:, 0]], frame[edges[:, 1]]], axis=1)


def read_msr(ref: SampleRef, options: ReadOptions) -> Sample:
    """Read one MSR Action3D file into a Sample (one body, aligned like NTU)."""
    match = FILE_NAME.match(ref.path.name)
    if match is None:
        raise RawFormatError(ref.path, "name is not aXX_sYY_eZZ_skeleton3D.txt")
    action, subject, episode = map(int, match.groups())
    if not 1 <= action <= len(MSR3D_CLASSES):
        raise RawFormatError(ref.path, f"action a{action:02d} outside a01-a20")
    frames, dropped = read_msr_frames(ref.path)
    joints = frames[None, :, :, :3]
    present = np.ones(joints.shape[:2], dtype=bool)
    array, length, transform = align_sequence(joints, present, MSR20, options)
    meta = {"subject": subject, "episode": episode, "dropped_frames": dropped}
    return Sample(ref.name, action - 1, array, length, meta, 1, 1, transform)


def _listed_ids(raw: Path) -> list[tuple[str, int]]:
    """(id, line) of the CVPR'12 list (CRLF, no final newline)."""
    listing = raw / CVPR12_LIST
    if not listing.is_file():
        raise RawFormatError(listing, "missing; it selects the default sample set "
                                      "(use sample_set='all' to read every file)")  # fmt: skip
    text = listing.read_text(encoding="utf-8", errors="replace")
    return [(line.strip(), n) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def discover_msr(raw: Path, options: ReadOptions) -> Discovery:
    """MSR Action3D files under `raw` (not recursive), restricted to the chosen sample set."""
    raw = Path(raw)
    if options.sample_set not in SAMPLE_SETS:
        raise ValueError(
            f"msr3d sample_set must be one of {SAMPLE_SETS}, not {options.sample_set!r}"
        )
    files = {
        path.name.removesuffix("_skeleton3D.txt"): path
        for path in sorted(raw.glob("*_skeleton3D.txt"))
        if FILE_NAME.match(path.name)
    }
    if not files:
        raise RawFormatError(raw, "no MSR Action3D aXX_sYY_eZZ_skeleton3D.txt files found")
    skipped: list[dict] = []
    chosen = set(files)
    if options.sample_set != "all":
        listed = _listed_ids(raw)
        chosen = {name for name, _ in listed if name in files}
        skipped += [
            skip_record(raw / CVPR12_LIST, f"listed id {name} has no file", n)
            for name, n in listed
            if name not in files
        ]
        skipped += [
            skip_record(path, "not in the CVPR'12 sample list", malformed=False)
            for name, path in files.items()
            if name not in chosen
        ]
    refs = [SampleRef(name, files[name]) for name in sorted(chosen)]
    return Discovery(refs, skipped, list(MSR3D_CLASSES))
