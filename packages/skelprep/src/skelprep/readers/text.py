"""What the text readers (NTU, MSR Action3D) share: reading a file's bytes, checked to be UTF-8."""

from __future__ import annotations

from pathlib import Path

from skelprep.errors import RawFormatError


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
