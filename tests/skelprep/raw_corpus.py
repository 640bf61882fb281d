"""The malformed-file corpus of the reliability tests: one small valid NTU `.skeleton` file
written here (12 frames, a second body in 4 of them) and one valid Kinetics clip, so the expected
line of each error is known exactly, with the named defects derived from them (used by
test_defects_ntu, test_defects_kinetics, test_defect_corpora_build and test_mutations)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from skelprep.cli import main
from skelprep.errors import RawFormatError
from skelprep.readers import ReadOptions, SampleRef, get_dataset

NTU = get_dataset("ntu60")
KINETICS = get_dataset("kinetics")
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


# ---------------------------------------------------------------------------------------------
# What the error of a file truncated before a line says, per kind of line.

TRUNCATED_WHAT = {
    "body count": "file ends early: expected the body count of frame",
    "body line": "file ends early: expected a body-info line (10 fields)",
    "joint count": "file ends early: expected the joint count",
    "joint line": "file ends early: expected 25 joint lines",
}


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


def clip_with_person(**change: object) -> dict:
    c = clip()
    c["data"][0]["skeleton"][0].update(change)
    return c


def clip_with_frame(**change: object) -> dict:
    c = clip()
    c["data"][0] = {**c["data"][0], **change}
    return c


def clip_without(key: str) -> dict:
    c = clip()
    del c[key]
    return c


def json_bytes(value: object) -> bytes:
    return json.dumps(value, indent=1).encode()


TORN = json.dumps(clip(), indent=1)[:1500]
KINETICS_MALFORMED: dict[str, Callable[[], tuple[bytes, int | None, str]]] = {
    "invalid JSON (torn write)": lambda: (TORN.encode(), TORN.count("\n") + 1, "invalid JSON"),
    "invalid JSON (trailing comma)": lambda: (
        b'{\n "label": "a",\n "label_index": 0,\n "data": [1,]\n}', 4, "invalid JSON"),
    "empty file": lambda: (b"", 1, "invalid JSON: Expecting value"),
    "non-UTF-8 bytes": lambda: (b'{"label": "caf\xe9", "label_index": 0, "data": []}', None,
                                "not UTF-8 text"),
    "not an object": lambda: (json_bytes([clip()]), None,
                              "expected an object with keys data, label, label_index"),
    "missing key data": lambda: (json_bytes(clip_without("data")), None, "expected an object with keys"),
    "missing key label": lambda: (json_bytes(clip_without("label")), None, "expected an object with keys"),
    "missing key label_index": lambda: (json_bytes(clip_without("label_index")), None,
                                        "expected an object with keys"),
    "data not a list": lambda: (json_bytes({**clip(), "data": {}}), None,
                                "'data' must be a non-empty list of frames"),
    "empty data": lambda: (json_bytes({**clip(), "data": []}), None, "'data' must be a non-empty list"),
    "frame without skeleton": lambda: (json_bytes(clip_with_frame(skeleton=None)), None,
                                       "frame 0: expected {frame_index, skeleton: [...]}"),
    "frame_index 0": lambda: (json_bytes(clip_with_frame(frame_index=0)), None,
                              "frame 0: frame_index must be a new integer >= 1"),
    "duplicate frame_index": lambda: (json_bytes(clip_with_frame(frame_index=2)), None,
                                      "frame 1: frame_index must be a new integer >= 1"),
    "person not an object": lambda: (json_bytes(clip_with_frame(skeleton=[[0.5] * 36])), None,
                                     "person 0 is not an object"),
    "pose of 35 numbers": lambda: (json_bytes(clip_with_person(pose=pose(0)[:35])), None,
                                   "frame 1 pose: expected 36 numbers, found 35"),
    "pose of 37 numbers": lambda: (json_bytes(clip_with_person(pose=[*pose(0), 0.5])), None,
                                   "frame 1 pose: expected 36 numbers, found 37"),
    "pose missing": lambda: (json_bytes(clip_with_person(pose=None)), None, "frame 1 pose: expected 36"),
    "score of 17 numbers": lambda: (json_bytes(clip_with_person(score=[0.9] * 17)), None,
                                    "frame 1 score: expected 18 numbers, found 17"),
    "NaN in pose": lambda: (json_bytes(clip_with_person(pose=[float("nan"), *pose(0)[1:]])), None,
                            "frame 1 pose: value 0 is nan, expected a finite number"),
    "text in pose": lambda: (json_bytes(clip_with_person(pose=["0.5", *pose(0)[1:]])), None,
                             "frame 1 pose: value 0 is '0.5', expected a finite number"),
    "no person in any frame": lambda: (
        json_bytes({**clip(), "data": [{"frame_index": 1, "skeleton": []}]}), None,
        "no person in any frame"),
    "people only past --max-frames": lambda: (
        json_bytes({**clip(), "data": [{"frame_index": 1, "skeleton": []},
                                        {**clip()["data"][0], "frame_index": 301}]}), None,
        "no person in the first"),
    "label disagrees with the label file": lambda: (json_bytes(clip("b", 1)), None,
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


# ---------------------------------------------------------------------------------------------
# A real `skelprep build` from the command line.

BUILD = ["build", "--chunk-size", "8", "--workers", "2", "--quiet", "--max-frames", "40",
         "--dtw-samples-per-class", "1"]  # fmt: skip


def run_cli(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.output
