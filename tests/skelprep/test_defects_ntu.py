"""Reliability: malformed NTU files (raw_corpus) each give a clear error naming the file, the
line and what was expected: truncation at every line boundary and in the middle of every line,
grouped by structural position; named defects (wrong counts and field counts, non-numbers,
NaN/inf, empty and zero-frame files, non-UTF-8 bytes, ...); directories without the files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from skelprep.errors import RawFormatError
from skelprep.readers import ReadOptions, SampleRef, get_dataset
from tests.skelprep.raw_corpus import (
    FRAMES,
    KINDS,
    KINETICS,
    LINES,
    NAME,
    NTU,
    NTU_MALFORMED,
    TRUNCATED_WHAT,
    J,
    check_error,
    clip_with_person,
    encode,
    field_set,
    json_bytes,
    kinetics_root,
    pose,
    read_ntu_file,
    replaced,
)


def test_the_template_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / f"{NAME}.skeleton"
    path.write_bytes(encode(LINES))
    sample = read_ntu_file(path)
    assert sample.frames == FRAMES and sample.joints.shape == (3, 300, 25, 2)
    assert (sample.bodies_found, sample.bodies_kept) == (2, 1)  # body 2: 4 frames, < 11
    assert len(LINES) == 445


# ---------------------------------------------------------------------------------------------
# Truncation at every structural position.

STRUCTURE = ["frame count", "body count", "body line", "joint count", "joint line"]


@pytest.mark.parametrize("kind", STRUCTURE)
def test_truncated_before_every_line_of_each_kind(tmp_path: Path, kind: str) -> None:
    """The file ends just before a line of `kind`: the error names the first missing line."""
    path = tmp_path / f"{NAME}.skeleton"
    cuts = [i for i, k in enumerate(KINDS) if k == kind]
    for i in cuts:
        path.write_bytes(encode(LINES[:i]))
        with pytest.raises(RawFormatError) as caught:
            read_ntu_file(path)
        if i == 0:
            check_error(caught.value, path, 1, "empty file")
        else:
            check_error(caught.value, path, i + 1, TRUNCATED_WHAT[kind])
    assert len(cuts) == {"frame count": 1, "body count": 12, "body line": 16,
                         "joint count": 16, "joint line": 400}[kind]  # fmt: skip


@pytest.mark.parametrize("kind", STRUCTURE)
def test_truncated_in_the_middle_of_every_line_of_each_kind(tmp_path: Path, kind: str) -> None:
    """The file ends half-way through a line of `kind` (a torn write): a RawFormatError at that
    line or the next, saying what was expected."""
    path = tmp_path / f"{NAME}.skeleton"
    cuts = [i for i, k in enumerate(KINDS) if k == kind and len(LINES[i]) > 1]
    for i in cuts:
        path.write_bytes(encode(LINES[:i]) + LINES[i][: len(LINES[i]) // 2].encode())
        with pytest.raises(RawFormatError) as caught:
            read_ntu_file(path)
        error = caught.value
        assert error.path == str(path) and error.line in (i + 1, i + 2), (i, str(error))
        assert "expected" in error.reason, str(error)
    # body counts are one character long: cut in the middle they are the truncation above
    assert len(cuts) == {"frame count": 1, "body count": 0, "body line": 16,
                         "joint count": 16, "joint line": 400}[kind]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Named defects.


@pytest.mark.parametrize("kind", list(NTU_MALFORMED))
def test_ntu_defect_is_a_clear_error(tmp_path: Path, kind: str) -> None:
    data, line, phrase = NTU_MALFORMED[kind]()
    path = tmp_path / f"{NAME}.skeleton"
    path.write_bytes(data)
    with pytest.raises(RawFormatError) as caught:
        read_ntu_file(path)
    check_error(caught.value, path, line, phrase)


def test_ntu_huge_frame_count_is_a_clear_error(tmp_path: Path) -> None:
    """A frame count of 10**13 in a 445-line file: the file cannot hold that many frames, and the
    reader must say so where the lines run out (it once allocated an array of that length)."""
    path = tmp_path / f"{NAME}.skeleton"
    path.write_bytes(replaced(0, str(10**13)))
    with pytest.raises(RawFormatError) as caught:
        read_ntu_file(path)
    assert caught.value.path == str(path) and caught.value.line is not None


def test_ntu_directory_with_files_but_no_skeletons_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "S001C001P001R001A001.txt").write_text("1\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "S001C001P001R001A001.skeleton.bak").write_text("1\n")
    with pytest.raises(RawFormatError) as caught:
        NTU.discover(tmp_path, ReadOptions())
    assert caught.value.path == str(tmp_path) and "no NTU *.skeleton files" in caught.value.reason


@pytest.mark.parametrize(
    ("dataset", "message"),
    [
        ("kinetics", "no label file (kinetics_train_label.json or kinetics_val_label.json) found"),
        ("stgcn-npy", "no train_data.npy or val_data.npy found"),
    ],
)
def test_kinetics_and_stgcn_directories_without_their_files_are_clear_errors(
    tmp_path: Path, dataset: str, message: str
) -> None:
    (tmp_path / "notes.json").write_text("{}")
    (tmp_path / "kinetics_val").mkdir()
    spec = get_dataset(dataset)
    with pytest.raises(RawFormatError) as caught:
        spec.resolve(tmp_path).discover(tmp_path, ReadOptions())
    assert caught.value.path == str(tmp_path) and message in caught.value.reason


def test_coordinates_beyond_float32_are_refused_not_stored_as_inf(tmp_path: Path) -> None:
    """1e39 is a finite float64 but overflows the store's float32: the reader must refuse the
    file (or return finite joints). Today it returns a sample holding inf; in a build the inf
    reaches the DTW distances and the whole build stops with "distance matrix has NaN or
    infinite entries; no rule applies", naming no file, instead of skipping this one."""
    path = tmp_path / f"{NAME}.skeleton"
    path.write_bytes(field_set(J, 0, "1e39"))
    root = kinetics_root(
        tmp_path / "k", {"bad": json_bytes(clip_with_person(pose=[1e39, *pose(0)[1:]]))}
    )
    for read in (
        lambda: read_ntu_file(path),
        lambda: KINETICS.read(
            SampleRef("bad", root / "kinetics_train" / "bad.json"), ReadOptions()
        ),
    ):
        try:
            sample = read()
        except RawFormatError:
            continue
        assert np.isfinite(sample.joints).all(), f"{sample.name}: inf in the sample's joints"
