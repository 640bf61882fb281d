"""Helpers shared by the text readers (NTU, MSR Action3D): decoding, line splitting, and the
slow-but-precise check of one line of numbers used to name the exact bad field of a bad file.
"""

from __future__ import annotations

from pathlib import Path

from skelprep.errors import RawFormatError
from skelprep.readers.base import FLOAT32_MAX


def read_text_bytes(path: Path) -> bytes:
    """The bytes of a text file, checked to be UTF-8; RawFormatError with the line of a bad byte."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RawFormatError(path, f"cannot read: {exc.strerror or exc}") from None
    if data.isascii():  # the usual case, checked word by word: no decode needed
        return data
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise RawFormatError(path, f"not UTF-8 text (byte 0x{data[exc.start]:02x})", line) from None
    return data


def split_lines(path: Path, text: str) -> list[str]:
    """Lines of `text` split on LF (a CR before it stays and counts as whitespace); no final ''."""
    if not text.strip():
        raise RawFormatError(path, "empty file", 1)
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return lines


def numbers_of_line(
    path: Path, text: str, line: int, expected: str, count: int | None = None
) -> list[float]:
    """Parse one line of finite numbers, naming the bad field; `count` fields if given."""
    fields = text.split()
    if count is not None and len(fields) != count:
        raise RawFormatError(path, f"expected {expected}, found {len(fields)} fields", line)
    values = []
    for position, field in enumerate(fields, start=1):
        try:
            value = float(field)
        except ValueError:
            raise RawFormatError(
                path, f"expected {expected}; field {position} is {field[:30]!r}, not a number", line
            ) from None
        if not abs(value) <= FLOAT32_MAX:  # NaN, inf, and what float32 storage makes inf
            raise RawFormatError(
                path, f"non-finite value or beyond float32 range in field {position}", line
            )
        values.append(value)
    return values
