"""`layout.toml` of the folder format: a user's skeleton layout, checked before any file is read.

The file holds the fields of `skelprep.layouts.Layout`:

    name = "hand21"
    joints = ["wrist", "thumb 1", ...]        # V names
    edges = [[0, 1], [1, 2], ...]             # 0-based pairs: the bones of the graph
    centre = 0                                # root of ST-GCN's spatial partition
    origin = 0                                # joint moved to 0 by alignment
    up = [0, 9]                               # bone turned to +z (3-D) / scale bone (2-D)
    across = [5, 17]                          # bone turned to +x (3-D)
    channels = ["x", "y", "z"]                # meaning of each value of a joint

Every rule is checked with an error naming the file and the line of the offending key: joint
indices inside 0..V-1, no bone from a joint to itself, and a graph in which every joint is
reached from `centre` (the spatial partition and the bone stream walk the graph from there),
which also gives the path from `origin` to the `up` bone that alignment relies on.
"""

from __future__ import annotations

import re
import tomllib
from collections import deque
from pathlib import Path

from skelprep.errors import RawFormatError
from skelprep.layouts import Layout

LAYOUT_FILE = "layout.toml"
PAIR_KEYS = ("up", "across")
JOINT_KEYS = ("centre", "origin")


def _line_of(text: str, key: str) -> int | None:
    """1-based line where `key = ...` is written, for error messages."""
    match = re.search(rf"^\s*{re.escape(key)}\s*=", text, flags=re.MULTILINE)
    return text.count("\n", 0, match.start()) + 1 if match else None


def _reachable(start: int, edges: list[tuple[int, int]], count: int) -> set[int]:
    """Joints connected to `start` through `edges` (undirected)."""
    neighbours: list[list[int]] = [[] for _ in range(count)]
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    seen, queue = {start}, deque([start])
    while queue:
        for nxt in neighbours[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen


def _is_index(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def load_layout_toml(path: Path) -> Layout:
    """Read and check `path`; RawFormatError(path, what is wrong, line) on any violation."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (OSError, UnicodeDecodeError) as exc:
        raise RawFormatError(path, f"cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RawFormatError(path, f"not valid TOML: {exc}") from None

    def fail(key: str, what: str) -> None:
        raise RawFormatError(path, f"{key}: {what}", _line_of(text, key))

    missing = [k for k in ("name", "joints", "edges", *JOINT_KEYS, *PAIR_KEYS, "channels")
               if k not in data]  # fmt: skip
    if missing:
        raise RawFormatError(path, f"missing keys {missing}")
    for key in ("joints", "channels"):
        value = data[key]
        if not (isinstance(value, list) and value and all(isinstance(v, str) for v in value)):
            fail(key, "expected a non-empty list of strings")
    count = len(data["joints"])
    if count < 2:
        fail("joints", f"a skeleton needs at least 2 joints, not {count}")

    def joint(key: str, value: object) -> int:
        if not _is_index(value) or not 0 <= value < count:
            fail(key, f"joint {value!r} outside 0..{count - 1}")
        return int(value)

    def pair(key: str, value: object) -> tuple[int, int]:
        if not (isinstance(value, list) and len(value) == 2):
            fail(key, f"expected a pair of joint indices, got {value!r}")
        a, b = joint(key, value[0]), joint(key, value[1])
        if a == b:
            fail(key, f"[{a}, {b}] joins a joint to itself")
        return a, b

    if not isinstance(data["edges"], list) or not data["edges"]:
        fail("edges", "expected a non-empty list of [i, j] pairs")
    edges = [pair("edges", edge) for edge in data["edges"]]
    centre, origin = (joint(key, data[key]) for key in JOINT_KEYS)
    up, across = (pair(key, data[key]) for key in PAIR_KEYS)
    unreached = sorted(set(range(count)) - _reachable(centre, edges, count))
    if unreached:
        fail(
            "edges",
            f"joints {unreached[:10]} are not connected to the centre joint {centre} "
            f"(so no path from origin {origin} to the up bone {list(up)} is guaranteed); "
            "the graph must be connected",
        )
    if not isinstance(data["name"], str) or not data["name"]:
        fail("name", "expected a non-empty string")
    return Layout(
        name=data["name"],
        joints=tuple(data["joints"]),
        edges=tuple(edges),
        centre=centre,
        origin=origin,
        up=up,
        across=across,
        channels=tuple(data["channels"]),
    )
