"""Reliability, as properties: hypothesis mutations of the valid NTU file and Kinetics clip
(raw_corpus) read as a well-formed sample or raise RawFormatError, never anything else."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from skelprep.errors import RawFormatError
from skelprep.readers import ReadOptions, SampleRef
from tests.skelprep.raw_corpus import (
    KINDS,
    KINETICS,
    LINES,
    NAME,
    clip,
    encode,
    read_ntu_file,
)

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
