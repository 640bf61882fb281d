"""Reliability: malformed Kinetics clips and label files (raw_corpus) each give a clear error
naming the file (and line, for JSON syntax) and what was expected."""

from __future__ import annotations

from pathlib import Path

import pytest

from skelprep.errors import RawFormatError
from skelprep.readers import ReadOptions, SampleRef
from tests.skelprep.raw_corpus import (
    KINETICS,
    KINETICS_MALFORMED,
    check_error,
    clip_with_person,
    json_bytes,
    kinetics_root,
    pose,
)


@pytest.mark.parametrize("kind", list(KINETICS_MALFORMED))
def test_kinetics_defect_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    data, line, phrase = KINETICS_MALFORMED[kind]()
    root = kinetics_root(tmp_path, {"bad": data})
    path = root / "kinetics_train" / "bad.json"
    assert [r.name for r in KINETICS.discover(root, ReadOptions()).refs].count("bad") == 1
    with pytest.raises(RawFormatError) as caught:
        KINETICS.read(SampleRef("bad", path), ReadOptions())
    check_error(caught.value, path, line, phrase)


def test_kinetics_bad_pose_value_is_named_not_miscounted(tmp_path: Path) -> None:
    """36 values one of which is not a finite number (NaN, a string, an object): the message
    must name the bad value, not report a count of 36 as if it were wrong."""
    for k, value in enumerate([float("nan"), "0.5", {"x": 0.5}]):
        root = kinetics_root(
            tmp_path / str(k), {"bad": json_bytes(clip_with_person(pose=[value, *pose(0)[1:]]))}
        )
        with pytest.raises(RawFormatError) as caught:
            KINETICS.read(SampleRef("bad", root / "kinetics_train" / "bad.json"), ReadOptions())
        assert "found 36" not in caught.value.reason, f"{value!r}: {caught.value}"


def test_kinetics_huge_integer_in_pose_is_a_clear_error(tmp_path: Path) -> None:
    """A 400-digit integer coordinate (valid JSON) is our error, not an OverflowError that would
    escape the reader and (in a build) the per-file skip."""
    root = kinetics_root(
        tmp_path, {"bad": json_bytes(clip_with_person(pose=[10**400, *pose(0)[1:]]))}
    )
    with pytest.raises(RawFormatError):
        KINETICS.read(SampleRef("bad", root / "kinetics_train" / "bad.json"), ReadOptions())


LABEL_FILE_DEFECTS: dict[str, tuple[str, int | None, str]] = {
    "invalid JSON": ('{\n "x": {"has_skeleton": true,\n', 3, "invalid JSON"),
    "not an object": ("[1, 2]", None, "expected an object {clip: {has_skeleton, label, label_index}}"),
    "entry without label_index": ('{"x": {"has_skeleton": true, "label": "a"}}', None,
                                  "entry 'x' lacks has_skeleton/label/label_index"),
    "negative label_index": ('{"x": {"has_skeleton": true, "label": "a", "label_index": -1}}',
                             None, "entry 'x' lacks"),
    "one index, two names": ('{"x": {"has_skeleton": true, "label": "a", "label_index": 0},'
                             ' "y": {"has_skeleton": true, "label": "b", "label_index": 0}}',
                             None, "index 0 is 'a' elsewhere, 'b' here"),
}  # fmt: skip


@pytest.mark.parametrize("kind", list(LABEL_FILE_DEFECTS))
def test_kinetics_label_file_defect_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    text, line, phrase = LABEL_FILE_DEFECTS[kind]
    (tmp_path / "kinetics_val").mkdir()
    labels = tmp_path / "kinetics_val_label.json"
    labels.write_text(text)
    with pytest.raises(RawFormatError) as caught:
        KINETICS.discover(tmp_path, ReadOptions())
    check_error(caught.value, labels, line, phrase)


def test_kinetics_clip_listed_but_missing_is_skipped_with_the_reason(tmp_path: Path) -> None:
    root = kinetics_root(tmp_path)
    (root / "kinetics_train" / "good0.json").unlink()
    found = KINETICS.discover(root, ReadOptions())
    assert "good0" not in [r.name for r in found.refs]
    reasons = {Path(s["file"]).stem: s["reason"] for s in found.skipped}
    assert "listed in kinetics_train_label.json but the clip file is missing" in reasons["good0"]
