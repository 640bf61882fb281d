"""Reliability: a generated corpus of malformed raw files, each read and built.

Every NTU file below is derived from one small valid `.skeleton` file written here (12 frames,
a second body in 4 of them), so the expected line of each error is known exactly:

- NTU files truncated at every line boundary and in the middle of every line, grouped by the
  structural position (frame count, body count, body line, joint count, joint line);
- named NTU defects (wrong joint counts, wrong field counts, non-numeric fields, NaN/inf,
  empty and zero-frame files, non-UTF-8 bytes, ...) and Kinetics JSON defects (invalid JSON,
  missing keys, wrong pose/score length, ...) plus label files that disagree with the clips;
- both corpora through a real `skelprep build`: skipped and recorded in attrs `skipped`
  (file, line, reason) by default, the build stopped by `--strict` with the previous store
  left as it was, and the store valid in both cases;
- hypothesis mutations of the valid files: the reader returns a well-formed sample or raises
  RawFormatError, never anything else;
- crafted label pickles through the ST-GCN reader and the build, a scheduler that accepts the
  TCP connection but never answers, and a build over a store of another schema.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import pickle
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import zarr
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skelprep.cli import main
from skelprep.errors import RawFormatError
from skelprep.readers import ReadOptions, SampleRef, get_dataset
from skelprep.store import validate_store
from skelprep.store.compare import content_digest
from skelprep.synth import generate

NTU = get_dataset("ntu60")
KINETICS = get_dataset("kinetics")
STGCN = get_dataset("stgcn-npy")
NAME = "S001C001P001R001A001"

# ---------------------------------------------------------------------------------------------
# One valid NTU file, line by line, with the structural kind of every line.

FRAMES = 12
SECOND_BODY = range(3, 7)  # 0-based frames in which a second body is tracked
BODY_IDS = ("72057594037931101", "72057594037931102")


def _joint_line(frame: int, joint: int, body: int) -> str:
    x, y, z = 0.05 * joint + 0.01 * frame + 0.5 * body, 0.1 * joint - 0.8, 3.0 + 0.002 * frame
    return f"{x:.7g} {y:.7g} {z:.7g} 250.1 180.2 1000.3 500.4 0.9 0.1 0 0.01 2"


def valid_ntu() -> tuple[list[str], list[str]]:
    """(lines without line ends, kind of each line) of a valid 12-frame `.skeleton` file."""
    lines, kinds = [str(FRAMES)], ["frame count"]
    for frame in range(FRAMES):
        bodies = 2 if frame in SECOND_BODY else 1
        lines.append(str(bodies))
        kinds.append("body count")
        for body in range(bodies):
            lines += [f"{BODY_IDS[body]} 0 1 1 1 1 0 0.01 0.08 2", "25"]
            kinds += ["body line", "joint count"]
            lines += [_joint_line(frame, j, body) for j in range(25)]
            kinds += ["joint line"] * 25
    return lines, kinds


LINES, KINDS = valid_ntu()


def encode(lines: list[str]) -> bytes:
    return "".join(line + "\n" for line in lines).encode()


def nth(kind: str, n: int = 0) -> int:
    """0-based index of the n-th line of `kind`."""
    return [i for i, k in enumerate(KINDS) if k == kind][n]


def replaced(index: int, text: str) -> bytes:
    return encode([*LINES[:index], text, *LINES[index + 1 :]])


def field_set(index: int, field: int, value: str | None) -> bytes:
    """The file with field `field` of line `index` replaced (None: dropped)."""
    parts = LINES[index].split()
    if value is None:
        del parts[field]
    else:
        parts[field] = value
    return replaced(index, " ".join(parts))


def read_ntu_file(path: Path, options: ReadOptions | None = None):  # noqa: ANN201
    return NTU.read(SampleRef(path.name.removesuffix(".skeleton"), path), options or ReadOptions())


def check_error(error: RawFormatError, path: Path, line: int | None, phrase: str) -> None:
    """The error names the file, the line (where one applies) and what was expected."""
    assert error.path == str(path)
    assert error.line == line, f"{error}: line {error.line}, expected {line}"
    assert phrase in error.reason, f"{phrase!r} not in {error.reason!r}"
    where = f"{path}:{line}" if line is not None else str(path)
    assert str(error) == f"{where}: {error.reason}"


def test_the_template_file_is_valid(tmp_path: Path) -> None:
    path = tmp_path / f"{NAME}.skeleton"
    path.write_bytes(encode(LINES))
    sample = read_ntu_file(path)
    assert sample.frames == FRAMES and sample.joints.shape == (3, 300, 25, 2)
    assert (sample.bodies_found, sample.bodies_kept) == (2, 1)  # body 2: 4 frames, < 11
    assert len(LINES) == 445


# ---------------------------------------------------------------------------------------------
# Truncation at every structural position.

TRUNCATED_WHAT = {
    "body count": "file ends early: expected the body count of frame",
    "body line": "file ends early: expected a body-info line (10 fields)",
    "joint count": "file ends early: expected the joint count",
    "joint line": "file ends early: expected 25 joint lines",
}
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
# Named defects: (file bytes, expected line or None, phrase the reason must contain).

J = nth("joint line", 7)  # a joint line of frame 1
B2 = nth("body line", 4)  # the second body line of 0-based frame 3 (two bodies)
NTU_MALFORMED: dict[str, Callable[[], tuple[bytes, int | None, str]]] = {
    "joint count 24": lambda: (replaced(nth("joint count"), "24"), 4, "expected 25 joints, found 24"),
    "joint count 26": lambda: (replaced(nth("joint count", 3), "26"), nth("joint count", 3) + 1,
                               "expected 25 joints, found 26"),
    "joint count 0": lambda: (replaced(nth("joint count"), "0"), 4, "expected 25 joints, found 0"),
    "joint line of 11 fields": lambda: (field_set(J, 11, None), J + 1,
                                        "expected 12 numbers (x y z depthX"),
    "joint line of 13 fields": lambda: (replaced(J, LINES[J] + " 0"), J + 1, "found 13 fields"),
    "joint line left blank": lambda: (replaced(J, ""), J + 1, "found 0 fields"),
    "body line of 9 fields": lambda: (field_set(nth("body line", 2), 9, None),
                                      nth("body line", 2) + 1, "expected 10 body-info numbers, found 9"),
    "non-numeric coordinate": lambda: (field_set(J, 0, "abc"), J + 1, "found 'abc', not a number"),
    "decimal comma": lambda: (field_set(J, 8, "0,1"), J + 1, "found '0,1', not a number"),
    "NUL byte in a number": lambda: (field_set(J, 2, "3.0\x00"), J + 1, "not a number"),
    "non-numeric body-info field": lambda: (field_set(nth("body line"), 7, "left"), 3,
                                            "expected 10 body-info numbers; found 'left'"),
    "non-numeric frame count": lambda: (replaced(0, "twelve"), 1,
                                        "expected the frame count (a non-negative integer), found 'twelve'"),
    "fractional frame count": lambda: (replaced(0, "12.0"), 1, "expected the frame count"),
    "non-numeric body count": lambda: (replaced(1, "one"), 2,
                                       "expected the body count of frame 1 (a non-negative integer)"),
    "negative body count": lambda: (replaced(1, "-1"), 2, "(a non-negative integer), found '-1'"),
    "non-numeric joint count": lambda: (replaced(3, "twenty-five"), 4,
                                        "expected the joint count (a non-negative integer)"),
    "joint count of two fields": lambda: (replaced(3, "25 25"), 4, "found 2 fields"),
    "NaN coordinate": lambda: (field_set(J, 0, "nan"), J + 1, "non-finite value or beyond float32 range"),
    "inf coordinate": lambda: (field_set(J, 1, "inf"), J + 1, "non-finite value or beyond float32 range"),
    "-Infinity coordinate": lambda: (field_set(J, 2, "-Infinity"), J + 1, "non-finite value"),
    "overflowing coordinate 1e999": lambda: (field_set(J, 0, "1e999"), J + 1, "non-finite value"),
    "NaN body-info field": lambda: (field_set(nth("body line"), 7, "NaN"), 3, "non-finite value"),
    "trackingState 3": lambda: (field_set(J, 11, "3"), J + 1, "trackingState must be one of (0, 1, 2)"),
    "empty file": lambda: (b"", 1, "empty file"),
    "whitespace-only file": lambda: (b"\n \r\n\t\n", 1, "empty file"),
    "zero-frame file": lambda: (b"0\n", None, "no body in any frame"),
    "frames without bodies": lambda: (b"3\n0\n0\n0\n", None, "no body in any frame"),
    "non-UTF-8 byte": lambda: (encode(LINES[:J]) + b"0.1\xff 2 3\n", J + 1, "not UTF-8 text (byte 0xff)"),
    "Latin-1 text": lambda: (encode(LINES[:5]) + "caf\xe9\n".encode("latin-1"), 6,
                             "not UTF-8 text (byte 0xe9)"),
    "UTF-16 file": lambda: (encode(LINES).decode().encode("utf-16"), 1, "not UTF-8 text (byte 0xff)"),
    "content after the last frame": lambda: (encode([*LINES, "1"]), len(LINES) + 1,
                                             "unexpected content after the last frame"),
    "frame count one too small": lambda: (replaced(0, "11"), nth("body count", 11) + 1,
                                          "unexpected content after the last frame"),
    "frame count one too large": lambda: (replaced(0, "13"), len(LINES) + 1,
                                          "file ends early: expected the body count of frame 13"),
    "body count one too large": lambda: (replaced(1, "2"), nth("body count", 1) + 2,
                                         "expected the joint count (a non-negative integer), found 10 fields"),
    "body twice in one frame": lambda: (field_set(B2, 0, BODY_IDS[0]), B2 + 1,
                                        f"body {BODY_IDS[0]} appears twice in one frame"),
}  # fmt: skip


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


# ---------------------------------------------------------------------------------------------
# Kinetics JSON and its label files.


def pose(frame: int, shift: float = 0.0) -> list[float]:
    return [v for j in range(18) for v in (0.3 + 0.01 * j + 0.005 * frame + shift, 0.2 + 0.03 * j)]


def clip(label: str = "a", index: int = 0, frames: int = 12, shift: float = 0.0) -> dict:
    data = [
        {"frame_index": f + 1, "skeleton": [{"pose": pose(f, shift), "score": [0.9] * 18}]}
        for f in range(frames)
    ]
    return {"data": data, "label": label, "label_index": index}


def _person(**change: object) -> dict:
    c = clip()
    c["data"][0]["skeleton"][0].update(change)
    return c


def _frame(**change: object) -> dict:
    c = clip()
    c["data"][0] = {**c["data"][0], **change}
    return c


def _without(key: str) -> dict:
    c = clip()
    del c[key]
    return c


def _json_bytes(value: object) -> bytes:
    return json.dumps(value, indent=1).encode()


TORN = json.dumps(clip(), indent=1)[:1500]
KINETICS_MALFORMED: dict[str, Callable[[], tuple[bytes, int | None, str]]] = {
    "invalid JSON (torn write)": lambda: (TORN.encode(), TORN.count("\n") + 1, "invalid JSON"),
    "invalid JSON (trailing comma)": lambda: (
        b'{\n "label": "a",\n "label_index": 0,\n "data": [1,]\n}', 4, "invalid JSON"),
    "empty file": lambda: (b"", 1, "invalid JSON: Expecting value"),
    "non-UTF-8 bytes": lambda: (b'{"label": "caf\xe9", "label_index": 0, "data": []}', None,
                                "not UTF-8 text"),
    "not an object": lambda: (_json_bytes([clip()]), None,
                              "expected an object with keys data, label, label_index"),
    "missing key data": lambda: (_json_bytes(_without("data")), None, "expected an object with keys"),
    "missing key label": lambda: (_json_bytes(_without("label")), None, "expected an object with keys"),
    "missing key label_index": lambda: (_json_bytes(_without("label_index")), None,
                                        "expected an object with keys"),
    "data not a list": lambda: (_json_bytes({**clip(), "data": {}}), None,
                                "'data' must be a non-empty list of frames"),
    "empty data": lambda: (_json_bytes({**clip(), "data": []}), None, "'data' must be a non-empty list"),
    "frame without skeleton": lambda: (_json_bytes(_frame(skeleton=None)), None,
                                       "frame 0: expected {frame_index, skeleton: [...]}"),
    "frame_index 0": lambda: (_json_bytes(_frame(frame_index=0)), None,
                              "frame 0: frame_index must be a new integer >= 1"),
    "duplicate frame_index": lambda: (_json_bytes(_frame(frame_index=2)), None,
                                      "frame 1: frame_index must be a new integer >= 1"),
    "person not an object": lambda: (_json_bytes(_frame(skeleton=[[0.5] * 36])), None,
                                     "person 0 is not an object"),
    "pose of 35 numbers": lambda: (_json_bytes(_person(pose=pose(0)[:35])), None,
                                   "frame 1 pose: expected 36 numbers, found 35"),
    "pose of 37 numbers": lambda: (_json_bytes(_person(pose=[*pose(0), 0.5])), None,
                                   "frame 1 pose: expected 36 numbers, found 37"),
    "pose missing": lambda: (_json_bytes(_person(pose=None)), None, "frame 1 pose: expected 36"),
    "score of 17 numbers": lambda: (_json_bytes(_person(score=[0.9] * 17)), None,
                                    "frame 1 score: expected 18 numbers, found 17"),
    "NaN in pose": lambda: (_json_bytes(_person(pose=[float("nan"), *pose(0)[1:]])), None,
                            "frame 1 pose: value 0 is nan, expected a finite number"),
    "text in pose": lambda: (_json_bytes(_person(pose=["0.5", *pose(0)[1:]])), None,
                             "frame 1 pose: value 0 is '0.5', expected a finite number"),
    "no person in any frame": lambda: (
        _json_bytes({**clip(), "data": [{"frame_index": 1, "skeleton": []}]}), None,
        "no person in any frame"),
    "people only past --max-frames": lambda: (
        _json_bytes({**clip(), "data": [{"frame_index": 1, "skeleton": []},
                                        {**clip()["data"][0], "frame_index": 301}]}), None,
        "no person in the first"),
    "label disagrees with the label file": lambda: (_json_bytes(clip("b", 1)), None,
                                                    "disagrees with kinetics_train_label.json"),
}  # fmt: skip


def kinetics_root(root: Path, extra: dict[str, bytes] | None = None) -> Path:
    """4 valid train clips and 2 valid val clips of classes a/b, plus `extra` train clips
    (listed in the label file as class a)."""
    train, val = root / "kinetics_train", root / "kinetics_val"
    train.mkdir(parents=True)
    val.mkdir()
    labels: dict[str, dict] = {"train": {}, "val": {}}
    for k in range(6):
        subset, folder = ("train", train) if k < 4 else ("val", val)
        name, label = f"good{k}", "ab"[k % 2]
        (folder / f"{name}.json").write_text(json.dumps(clip(label, k % 2, shift=0.01 * k)))
        labels[subset][name] = {"has_skeleton": True, "label": label, "label_index": k % 2}
    for name, data in (extra or {}).items():
        (train / f"{name}.json").write_bytes(data)
        labels["train"][name] = {"has_skeleton": True, "label": "a", "label_index": 0}
    for subset, entries in labels.items():
        (root / f"kinetics_{subset}_label.json").write_text(json.dumps(entries, indent=4))
    return root


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
            tmp_path / str(k), {"bad": _json_bytes(_person(pose=[value, *pose(0)[1:]]))}
        )
        with pytest.raises(RawFormatError) as caught:
            KINETICS.read(SampleRef("bad", root / "kinetics_train" / "bad.json"), ReadOptions())
        assert "found 36" not in caught.value.reason, f"{value!r}: {caught.value}"


def test_kinetics_huge_integer_in_pose_is_a_clear_error(tmp_path: Path) -> None:
    """A 400-digit integer coordinate (valid JSON) is our error, not an OverflowError that would
    escape the reader and (in a build) the per-file skip."""
    root = kinetics_root(tmp_path, {"bad": _json_bytes(_person(pose=[10**400, *pose(0)[1:]]))})
    with pytest.raises(RawFormatError):
        KINETICS.read(SampleRef("bad", root / "kinetics_train" / "bad.json"), ReadOptions())


def test_coordinates_beyond_float32_are_refused_not_stored_as_inf(tmp_path: Path) -> None:
    """1e39 is a finite float64 but overflows the store's float32: the reader must refuse the
    file (or return finite joints). Today it returns a sample holding inf; in a build the inf
    reaches the DTW distances and the whole build stops with "distance matrix has NaN or
    infinite entries; no rule applies", naming no file, instead of skipping this one."""
    path = tmp_path / f"{NAME}.skeleton"
    path.write_bytes(field_set(J, 0, "1e39"))
    root = kinetics_root(tmp_path / "k", {"bad": _json_bytes(_person(pose=[1e39, *pose(0)[1:]]))})
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


# ---------------------------------------------------------------------------------------------
# The corpora through a real `skelprep build`.

BUILD = ["build", "--chunk-size", "8", "--workers", "2", "--quiet", "--max-frames", "40",
         "--dtw-samples-per-class", "1"]  # fmt: skip
NTU_TRUNCATIONS = {
    "truncated before the frame count": (b"", 1, "empty file"),
    "truncated before a body count": (encode(LINES[: nth("body count", 4)]),
                                      nth("body count", 4) + 1, TRUNCATED_WHAT["body count"]),
    "truncated before a body line": (encode(LINES[: nth("body line", 9)]),
                                     nth("body line", 9) + 1, TRUNCATED_WHAT["body line"]),
    "truncated before a joint count": (encode(LINES[: nth("joint count", 2)]),
                                       nth("joint count", 2) + 1, TRUNCATED_WHAT["joint count"]),
    "truncated inside a joint block": (encode(LINES[: nth("joint line", 310)]),
                                       nth("joint line", 310) + 1, TRUNCATED_WHAT["joint line"]),
}  # fmt: skip


def run_cli(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def ntu_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, tuple]]:
    """A raw directory of 8 valid synthetic samples and one file per NTU defect and truncation;
    returns it with {file name: (kind, line, phrase)} of the malformed ones."""
    raw = tmp_path_factory.mktemp("ntu-corpus") / "raw"
    generate("ntu", raw, seed=0, classes=2, subjects=2, cameras=2, repetitions=1,
             empty_fraction=0.0)  # fmt: skip
    cases = {kind: make() for kind, make in NTU_MALFORMED.items()} | NTU_TRUNCATIONS
    assert len(cases) <= 60
    expected = {}
    for number, (kind, (data, line, phrase)) in enumerate(sorted(cases.items()), start=1):
        name = f"S017C003P040R002A{number:03d}.skeleton"
        (raw / name).write_bytes(data)
        expected[name] = (kind, line, phrase)
    return raw, expected


@pytest.fixture(scope="module")
def ntu_corpus_store(ntu_corpus, tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw, _ = ntu_corpus
    store = tmp_path_factory.mktemp("ntu-store") / "s.zarr"
    code, out = run_cli(*BUILD, "--dataset", "ntu60", "--raw", raw, "--out", store)
    assert code == 0, out
    return store


def test_ntu_corpus_build_skips_and_records_every_malformed_file(ntu_corpus, ntu_corpus_store):
    raw, expected = ntu_corpus
    group = zarr.open_group(str(ntu_corpus_store), mode="r")
    skipped = {s["file"]: s for s in group.attrs["skipped"]}
    assert set(skipped) == set(expected)
    for name, (kind, line, phrase) in expected.items():
        assert skipped[name]["line"] == line, (kind, skipped[name])
        assert phrase in skipped[name]["reason"], (kind, skipped[name])
    valid = sorted(p.name.removesuffix(".skeleton") for p in raw.glob("S001*.skeleton"))
    assert group["sample"][:].tolist() == valid and len(valid) == 8  # nothing valid lost
    assert group.attrs["stats"]["skipped"] == len(expected)
    validate_store(ntu_corpus_store)


def test_ntu_corpus_strict_build_stops_and_keeps_the_previous_store(ntu_corpus, ntu_corpus_store):
    """--strict over the corpus, replacing the store built above: the build stops at the first
    malformed file, naming it with its line, and the previous store is left exactly as it was."""
    raw, expected = ntu_corpus
    before = content_digest(ntu_corpus_store)
    code, out = run_cli(*BUILD, "--dataset", "ntu60", "--raw", raw, "--out", ntu_corpus_store,
                        "--strict", "--force")  # fmt: skip
    assert code != 0 and "--strict stops at the first malformed file" in out, out
    named = [name for name in expected if name in out]
    assert len(named) == 1, out
    _, line, phrase = expected[named[0]]
    assert (f"{named[0]}:{line}:" if line else f"{named[0]}:") in out and phrase in out
    assert content_digest(ntu_corpus_store) == before
    validate_store(ntu_corpus_store)  # still a whole, valid store


def test_kinetics_corpus_build_skips_and_records_every_malformed_clip(tmp_path: Path) -> None:
    cases = {kind.replace(" ", "_").replace("(", "").replace(")", ""): (kind, *make())
             for kind, make in KINETICS_MALFORMED.items()}  # fmt: skip
    root = kinetics_root(tmp_path / "raw", {name: case[1] for name, case in cases.items()})
    store = tmp_path / "k.zarr"
    code, out = run_cli(*BUILD, "--dataset", "kinetics", "--raw", root, "--out", store)
    assert code == 0, out
    group = zarr.open_group(str(store), mode="r")
    skipped = {s["file"]: s for s in group.attrs["skipped"]}
    assert set(skipped) == {f"kinetics_train/{name}.json" for name in cases}
    for name, (kind, _, line, phrase) in cases.items():
        entry = skipped[f"kinetics_train/{name}.json"]
        assert entry["line"] == line and phrase in entry["reason"], (kind, entry)
    assert sorted(group["sample"][:].tolist()) == [f"good{k}" for k in range(6)]
    validate_store(store)
    code, out = run_cli(*BUILD, "--dataset", "kinetics", "--raw", root, "--out", store, "--strict",
                        "--force")  # fmt: skip
    assert code != 0 and "--strict" in out and "kinetics_train/" in out
    assert sorted(zarr.open_group(str(store), mode="r")["sample"][:].tolist()) == [
        f"good{k}" for k in range(6)
    ]
    validate_store(store)


# ---------------------------------------------------------------------------------------------
# Property: mutated valid files give a well-formed sample or our own error, nothing else.

MAX_FRAMES = 32
TOKENS = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        [
            "nan",
            "-inf",
            "1e999",
            "25",
            "0",
            "-0",
            "1e-400",
            "0x10",
            "",
            "abc",
            "2 2",
            "1e39",
            "-3.5e38",
            "1e300",
            "12345678901234567890",
        ]
    ),
    st.text(max_size=6),
)
COUNT_LINES = [i for i, k in enumerate(KINDS) if k.endswith("count")]
JOINT_LINES = [i for i, k in enumerate(KINDS) if k == "joint line"]
COORDINATES = st.floats(allow_nan=True, allow_infinity=True).map(repr) | st.sampled_from(
    ["1e39", "-3.5e38", "3.4e38", "1e300", "nan", "inf", "abc", "1,5"]
)
NTU_MUTATION = st.one_of(
    # a structural count (the frame count half of the time) set to any non-negative integer
    st.tuples(st.just("replace count"), st.just(0) | st.sampled_from(COUNT_LINES),
              st.integers(0, 10**16) | st.sampled_from([0, 1, 2, 3, 24, 26, 10**13])),
    # x, y or z of a joint set to any float (huge, tiny, NaN, inf) or a non-number
    st.tuples(st.just("replace token"), st.sampled_from(JOINT_LINES), st.integers(0, 2), COORDINATES),
    st.tuples(st.just("replace token"), st.integers(0, len(LINES) - 1), st.integers(0, 11), TOKENS),
    st.tuples(st.just("truncate"), st.integers(0, 20_000)),
    st.tuples(st.just("delete bytes"), st.integers(0, 20_000), st.integers(1, 50)),
    st.tuples(st.just("insert bytes"), st.integers(0, 20_000), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("flip byte"), st.integers(0, 20_000), st.integers(0, 255)),
    st.tuples(st.just("delete line"), st.integers(0, len(LINES) - 1)),
    st.tuples(st.just("duplicate line"), st.integers(0, len(LINES) - 1)),
    st.tuples(st.just("swap lines"), st.integers(0, len(LINES) - 1), st.integers(0, len(LINES) - 1)),
)  # fmt: skip


def mutate_ntu(data: bytes, mutation: tuple) -> bytes:
    """Apply one mutation to the bytes of a file (line indices wrap around)."""
    op, *args = mutation
    lines = data.split(b"\n")
    n = len(lines)
    if op == "replace count":
        lines[args[0] % n] = str(args[1]).encode()
    elif op == "replace token":
        index, field, token = args
        parts = lines[index % n].split() or [b""]
        parts[field % len(parts)] = token.encode()
        lines[index % n] = b" ".join(parts)
    elif op == "delete line":
        del lines[args[0] % n]
    elif op == "duplicate line":
        lines.insert(args[0] % n, lines[args[0] % n])
    elif op == "swap lines":
        i, j = args[0] % n, args[1] % n
        lines[i], lines[j] = lines[j], lines[i]
    else:
        buffer = bytearray(data)
        pos = args[0] % (len(buffer) + 1)
        if op == "truncate":
            del buffer[pos:]
        elif op == "delete bytes":
            del buffer[pos : pos + args[1]]
        elif op == "insert bytes":
            buffer[pos:pos] = args[1]
        elif pos < len(buffer):
            buffer[pos] = args[1]
        return bytes(buffer)
    return b"\n".join(lines)


def check_sample(sample, channels: int, joints: int, name: str) -> None:  # noqa: ANN001
    """A well-formed Sample: shape, dtype, finite, 1 <= frames <= T, zero past frames."""
    assert sample.name == name
    assert sample.joints.shape == (channels, MAX_FRAMES, joints, 2)
    assert sample.joints.dtype == np.float32 and np.isfinite(sample.joints).all()
    assert 1 <= sample.frames <= MAX_FRAMES
    assert not sample.joints[:, sample.frames :].any()
    assert 0 <= sample.bodies_kept <= min(sample.bodies_found, 2)
    assert isinstance(sample.label, int) and sample.label >= 0


def check_own_error(error: RawFormatError, path: Path) -> None:
    assert error.path == str(path) and error.reason
    assert error.line is None or error.line >= 1


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mutations")


@settings(max_examples=500, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(mutations=st.lists(NTU_MUTATION, min_size=1, max_size=3), crlf=st.booleans())
def test_mutated_ntu_files_read_or_raise_our_error(scratch: Path, mutations, crlf: bool) -> None:
    data = encode(LINES)
    for mutation in mutations:
        data = mutate_ntu(data, mutation)
    path = scratch / f"{NAME}.skeleton"
    path.write_bytes(data.replace(b"\n", b"\r\n") if crlf else data)
    try:
        sample = read_ntu_file(path, ReadOptions(max_frames=MAX_FRAMES))
    except RawFormatError as error:
        check_own_error(error, path)
    else:
        check_sample(sample, 3, 25, NAME)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
JSON_NUMBERS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.sampled_from([10**400, 1e39, -1e300, 0, 1, 300, 301, "0.5", None, True, [0.5]]),
)


def _paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every path (tuple of keys/indices) into a JSON value."""
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value[:3]):  # the first 3 frames/people/numbers suffice
            found += _paths(item, (*prefix, index))
    return found


def _get(value: object, path: tuple) -> object:
    for key in path:
        value = value[key]
    return value


def mutate_json(value: object, op: str, choice: int, new: object) -> object:
    """One edit at the choice-th path: replace the value (or, for "number", the choice-th
    numeric leaf), delete it, or duplicate it. Editing the root replaces the whole document.
    `new` is copied: a strategy's shared object (the sampled `[0.5]`) must never be edited in
    place, or it grows across examples and can come to contain itself."""
    new = copy.deepcopy(new)
    paths = _paths(value)
    if op == "number":
        paths = [p for p in paths if type(_get(value, p)) in (int, float)] or paths
    path = paths[choice % len(paths)]
    if not path:
        return new
    parent, key = _get(value, path[:-1]), path[-1]
    if op in ("replace", "number"):
        parent[key] = new
    elif op == "delete":
        del parent[key]
    elif isinstance(parent, list):
        parent.insert(key, parent[key])
    else:
        parent[f"{key}_"] = parent[key]
    return value


@pytest.fixture(scope="module")
def kinetics_scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("kinetics-mutations")
    (root / "kinetics_train").mkdir()
    (root / "kinetics_train_label.json").write_text(
        json.dumps({"c": {"has_skeleton": True, "label": "a", "label_index": 0}})
    )
    return root


JSON_EDIT = st.one_of(
    st.tuples(st.just("number"), st.integers(0, 10_000), JSON_NUMBERS),
    st.tuples(st.just("replace"), st.integers(0, 10_000), JSON_VALUES),
    st.tuples(st.sampled_from(["delete", "duplicate"]), st.integers(0, 10_000), st.none()),
)


@settings(max_examples=500, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(
    edits=st.lists(JSON_EDIT, min_size=1, max_size=3),
    byte_cut=st.one_of(st.none(), st.none(), st.none(), st.integers(0, 10_000)),
)
def test_mutated_kinetics_clips_read_or_raise_our_error(kinetics_scratch: Path, edits, byte_cut):
    value: object = clip(frames=4)
    for op, choice, new in edits:
        value = mutate_json(value, op, choice, new)
    data = json.dumps(value).encode()
    if byte_cut is not None:
        data = data[: byte_cut % (len(data) + 1)]
    path = kinetics_scratch / "kinetics_train" / "c.json"
    path.write_bytes(data)
    try:
        sample = KINETICS.read(SampleRef("c", path), ReadOptions(max_frames=MAX_FRAMES))
    except RawFormatError as error:
        check_own_error(error, path)
    else:
        check_sample(sample, 3, 18, "c")


# ---------------------------------------------------------------------------------------------
# Crafted label pickles through the ST-GCN reader and `skelprep build`.


class _Reduce:
    """Pickles as a call of `func(*args)`; unpickling it would run that call."""

    def __init__(self, func: Callable, args: tuple) -> None:
        self.func, self.args = func, args

    def __reduce__(self) -> tuple:
        return (self.func, self.args)


def _exploits(marker: Path) -> dict[str, object]:
    touch = f"open({str(marker)!r}, 'w').close()"
    return {
        "os.system": _Reduce(os.system, (f"touch {marker}",)),
        "builtins.exec": _Reduce(exec, (touch,)),
        "builtins.eval": _Reduce(eval, (touch,)),
        "subprocess.call": _Reduce(subprocess.call, (["touch", str(marker)],)),
        "pathlib.Path.touch": _Reduce(Path.touch, (marker,)),
        "object array": np.array([_Reduce(os.system, (f"touch {marker}",))], dtype=object),
    }


EXPLOITS = list(_exploits(Path("/nonexistent")))


def stgcn_raw(root: Path, labels: object, protocol: int = pickle.DEFAULT_PROTOCOL) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    data = np.zeros((2, 3, 8, 25, 2), dtype=np.float32)
    data[:, :, :5] = 0.5
    np.save(root / "train_data.npy", data)
    (root / "train_label.pkl").write_bytes(pickle.dumps(labels, protocol=protocol))
    return root


@pytest.mark.parametrize("protocol", [0, pickle.HIGHEST_PROTOCOL])
@pytest.mark.parametrize("kind", EXPLOITS)
def test_crafted_label_pickle_is_refused_by_the_reader(tmp_path: Path, kind: str, protocol: int):
    marker = tmp_path / "pwned"
    exploit = _exploits(marker)[kind]
    raw = stgcn_raw(tmp_path / "raw", (["x.skeleton", "y.skeleton"], [0, exploit]), protocol)
    with pytest.raises(RawFormatError) as caught:
        STGCN.resolve(raw).discover(raw, ReadOptions())
    assert caught.value.path == str(raw / "train_label.pkl")
    assert "refused or unreadable pickle" in caught.value.reason
    assert "is not allowed" in caught.value.reason
    assert not marker.exists(), "the pickle ran code"


def test_crafted_label_pickle_stops_the_build_and_runs_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    exploit = _exploits(marker)["os.system"]
    raw = stgcn_raw(tmp_path / "raw", (["x.skeleton", "y.skeleton"], [0, exploit]))
    code, out = run_cli(
        *BUILD, "--dataset", "stgcn-npy", "--raw", raw, "--out", tmp_path / "s.zarr"
    )
    assert code != 0 and "train_label.pkl" in out and "is not allowed" in out, out
    assert not marker.exists() and not (tmp_path / "s.zarr").exists()


def test_plain_label_pickle_still_builds(tmp_path: Path) -> None:
    raw = stgcn_raw(tmp_path / "raw", (["x.skeleton", "y.skeleton"], [0, 1]))
    code, out = run_cli(
        *BUILD, "--dataset", "stgcn-npy", "--raw", raw, "--out", tmp_path / "s.zarr"
    )
    assert code == 0, out
    assert zarr.open_group(str(tmp_path / "s.zarr"), mode="r")["sample"][:].tolist() == ["x", "y"]


# ---------------------------------------------------------------------------------------------
# Refusals: a scheduler that never answers, a store of another schema.


def test_scheduler_that_accepts_but_never_answers_fails_fast(tmp_path: Path) -> None:
    """A port that accepts the TCP connection (the kernel's listen backlog) but never speaks the
    Dask protocol, like a firewall or a wrong service: the build must fail within its connect
    timeout (5 s), not hang. A hang is caught by the subprocess limit below (45 s)."""
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / f"{NAME}.skeleton").write_bytes(encode(LINES))
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        cmd = [sys.executable, "-m", "skelprep.cli", "build", "--dataset", "ntu60", "--quiet",
               "--raw", str(raw), "--out", str(tmp_path / "s.zarr"), "--scheduler", address]  # fmt: skip
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                start_new_session=True)  # fmt: skip
        try:
            out, _ = proc.communicate(timeout=45)
        except subprocess.TimeoutExpired:
            out = None
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert out is not None, f"`skelprep build --scheduler {address}` hung for 45 s"
    assert proc.returncode != 0 and f"dask scheduler {address} did not answer" in out, out


def test_build_over_a_store_of_another_schema_is_refused(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / f"{NAME}.skeleton").write_bytes(encode(LINES))
    store = tmp_path / "s.zarr"
    store.mkdir()
    meta = {"zarr_format": 3, "node_type": "group", "attributes": {"schema": "skelprep.store/2"}}
    (store / "zarr.json").write_text(json.dumps(meta))
    before = (store / "zarr.json").read_bytes()
    code, out = run_cli(*BUILD, "--dataset", "ntu60", "--raw", raw, "--out", store)
    assert code != 0 and "has schema 'skelprep.store/2'" in out and "--force" in out, out
    assert (store / "zarr.json").read_bytes() == before and sorted(os.listdir(store)) == [
        "zarr.json"
    ]
    for command in ("info", "validate"):
        code, out = run_cli(command, store)
        assert code != 0 and "only 'skelprep.store/1'" in out, out
