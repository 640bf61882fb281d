"""NW-UCLA reader on the real `all_sqe` JSON files: values against the raw JSON after undoing the
alignment, split sizes, content copies between views, and clear errors on broken files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from skelprep.align import alignment_attrs
from skelprep.errors import RawFormatError
from skelprep.readers import ReadOptions, SampleRef, get_dataset

SPEC = get_dataset("nwucla")
OPTIONS = ReadOptions(max_frames=208, max_bodies=1)
# Chosen for what they hold (SOURCES.md section 6): an ordinary sequence, the one-frame pair,
# and the two sequences with joints dropped to (0, 0, 0).
CASES = ("a01_s01_e01_v01", "a02_s09_e04_v02", "a02_s09_e04_v03", "a04_s01_e01_v01",
         "a04_s04_e02_v01")  # fmt: skip


@pytest.fixture(scope="module")
def raw(realdata: Path) -> Path:
    return realdata / "zjyyjz556_ctrgcn" / "NW-UCLA"


@pytest.fixture(scope="module")
def samples(raw: Path) -> list:
    discovery = SPEC.discover(raw, OPTIONS)
    assert discovery.skipped == [] and len(discovery.classes) == 10
    return [SPEC.read(ref, OPTIONS) for ref in discovery.refs]


def _raw_skeletons(raw: Path, name: str) -> np.ndarray:
    doc = json.loads((raw / "all_sqe" / f"{name}.json").read_text())
    return np.array(doc["skeletons"], dtype=np.float64)


@pytest.mark.realdata
@pytest.mark.parametrize("name", CASES)
def test_aligned_sequence_is_the_raw_one_moved_and_turned(raw: Path, name: str) -> None:
    """Undo the alignment independently: a rigid motion keeps every distance between joints,
    puts the spine (joint 1) of frame 0 at the origin and the hip-centre -> spine bone on +z."""
    recorded = _raw_skeletons(raw, name)
    sample = SPEC.read(SampleRef(name, raw / "all_sqe" / f"{name}.json"), OPTIONS)
    frames = len(recorded)
    assert sample.frames == frames and sample.joints.shape == (3, 208, 20, 1)
    assert not sample.joints[:, frames:].any()  # padding
    aligned = sample.joints[:, :frames, :, 0].transpose(1, 2, 0).astype(np.float64)  # (T, V, 3)

    def pairwise(x: np.ndarray) -> np.ndarray:
        return np.linalg.norm(x[:, :, None] - x[:, None, :], axis=-1)

    np.testing.assert_allclose(pairwise(aligned), pairwise(recorded), atol=2e-5)
    np.testing.assert_allclose(aligned[0, 1], 0.0, atol=1e-6)
    up = aligned[0, 1] - aligned[0, 0]
    np.testing.assert_allclose(up[:2], 0.0, atol=1e-6)
    assert up[2] > 0
    across = aligned[0, 4] - aligned[0, 8]  # right -> left shoulder, in the x-z plane, x > 0
    assert abs(across[1]) < 1e-6 and across[0] > 0
    # A rigid motion: the same rotation and offset map every raw frame onto the aligned one.
    flat_raw = recorded.reshape(-1, 3) - recorded[0, 1]
    rotation, *_ = np.linalg.lstsq(flat_raw, aligned.reshape(-1, 3), rcond=None)
    np.testing.assert_allclose(flat_raw @ rotation, aligned.reshape(-1, 3), atol=2e-5)
    np.testing.assert_allclose(np.linalg.det(rotation), 1.0, atol=1e-5)
    # The recorded transform (aligned = matrix @ (raw - offset)) undoes to the raw JSON values.
    matrix, offset = sample.transform
    np.testing.assert_allclose(aligned @ np.linalg.inv(matrix).T + offset, recorded, atol=2e-5)


@pytest.mark.realdata
def test_level_alignment_keeps_each_views_camera_heading(raw: Path) -> None:
    """`--no-align-heading` on one performance seen by the three cameras: each sample is the
    rigid one turned about the vertical only (the camera's heading; z untouched), and the three
    headings differ as the cameras do, where the rigid alignment made them (nearly) equal."""
    options = ReadOptions(max_frames=208, max_bodies=1, align_heading=False)
    attrs = alignment_attrs(SPEC, True, heading=False)
    assert attrs["kind"] == "level-3d" and attrs["across"] is None
    headings = []
    for view in (1, 2, 3):
        ref = SampleRef(f"a06_s01_e00_v0{view}", raw / "all_sqe" / f"a06_s01_e00_v0{view}.json")
        rigid, level = SPEC.read(ref, OPTIONS), SPEC.read(ref, options)
        turn = level.transform[0] @ rigid.transform[0].T  # level = turn @ rigid
        np.testing.assert_allclose(turn[2], [0, 0, 1], atol=1e-9)  # about the vertical only
        np.testing.assert_allclose(level.joints[2], rigid.joints[2], atol=1e-5)
        headings.append(np.degrees(np.arctan2(turn[1, 0], turn[0, 0])))
    spread = np.ptp(np.unwrap(np.radians(headings)))
    assert np.degrees(spread) > 20, headings


@pytest.mark.realdata
def test_metadata_and_zeroed_joints_kept(raw: Path) -> None:
    name = "a04_s01_e01_v01"
    sample = SPEC.read(SampleRef(name, raw / "all_sqe" / f"{name}.json"), OPTIONS)
    recorded = _raw_skeletons(raw, name)
    zeroed = int((~recorded.any(axis=2)).any(axis=1).sum())
    assert zeroed >= 1 and sample.label == 3
    assert sample.meta == {"action": 4, "subject": 1, "episode": 1, "view": 1,
                           "copy_of_view": 0, "zeroed_frames": zeroed}  # fmt: skip


@pytest.mark.realdata
def test_xview_sizes_and_copies_found_by_content(raw: Path, samples: list) -> None:
    meta = {f: np.array([s.meta[f] for s in samples]) for f in SPEC.meta_fields}
    labels = np.array([s.label for s in samples])
    names = [s.name for s in samples]
    splits = SPEC.splits(meta, labels, names)
    assert (len(splits["xview"][0]), len(splits["xview"][1])) == (1020, 464)
    # Independent of the reader: hash every file's skeleton array, pair equal hashes.
    digest = {n: hashlib.sha256(_raw_skeletons(raw, n).tobytes()).hexdigest() for n in names}
    by_hash: dict[str, list[str]] = {}
    for n, h in digest.items():
        by_hash.setdefault(h, []).append(n)
    pairs = {tuple(sorted(group)) for group in by_hash.values() if len(group) > 1}
    assert len(pairs) == 95 and all(len(p) == 2 for p in pairs)
    assert {p[1][-3:] for p in pairs} == {"v03"} and {p[0][-3:] for p in pairs} == {"v02"}
    copies = {names[i] for i in np.flatnonzero(meta["copy_of_view"])}
    assert copies == {p[1] for p in pairs}
    dedup_train, dedup_test = splits["xview-dedup"]
    assert np.array_equal(dedup_train, splits["xview"][0]) and len(dedup_test) == 464 - 95
    assert not {names[i] for i in dedup_test} & copies
    notes = SPEC.notes(meta, np.array([s.frames for s in samples]))
    assert any("2 one-frame" in line for line in notes)
    assert any("95 files are exact copies" in line for line in notes)


def _write(path: Path, doc: object) -> Path:
    path.write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return path


GOOD = {"file_name": "a01_s01_e01_v01", "skeletons": [[[0.1 * j, 0.2, 2.0] for j in range(20)]],
        "label": 1}  # fmt: skip
BAD = {
    "broken JSON": ('{"file_name": "a01_s01_e01_v01", "skeletons": [[[', "invalid JSON"),
    "wrong joint count": ({**GOOD, "skeletons": [[[0.0, 0.0, 1.0]] * 19]}, "shape"),
    "NaN": ({**GOOD, "skeletons": [[[float("nan"), 0.0, 1.0]] * 20]}, "NaN"),
    "label mismatch": ({**GOOD, "label": 2}, "does not match action a01"),
    "name mismatch": ({**GOOD, "file_name": "a01_s01_e02_v01"}, "is not the file's name"),
    "all zero": ({**GOOD, "skeletons": [[[0.0, 0.0, 0.0]] * 20]}, "no valid frame"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_files_raise_raw_format_error_naming_the_file(tmp_path: Path, case: str) -> None:
    doc, reason = BAD[case]
    path = _write(tmp_path / "a01_s01_e01_v01.json", doc)
    with pytest.raises(RawFormatError, match=reason) as info:
        SPEC.read(SampleRef(path.stem, path), OPTIONS)
    assert info.value.path == str(path)


def test_a_good_file_reads_and_a_view_copy_is_found(tmp_path: Path) -> None:
    first = _write(tmp_path / "a01_s01_e01_v01.json", GOOD)
    copy = _write(tmp_path / "a01_s01_e01_v02.json", {**GOOD, "file_name": "a01_s01_e01_v02"})
    sample = SPEC.read(SampleRef(first.stem, first), OPTIONS)
    assert sample.frames == 1 and sample.label == 0 and sample.meta["copy_of_view"] == 0
    assert SPEC.read(SampleRef(copy.stem, copy), OPTIONS).meta["copy_of_view"] == 1
