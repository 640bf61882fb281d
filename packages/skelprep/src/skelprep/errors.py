"""Error types raised on bad input. Readers raise only RawFormatError for malformed files."""

from __future__ import annotations

import contextlib
from pathlib import Path


class SkelprepError(Exception):
    """Base class of every error skelprep raises on purpose."""


class RawFormatError(SkelprepError):
    """A raw file is malformed: names the file, the line (1-based, when it applies) and what was expected."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.reason = message
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class StoreError(SkelprepError):
    """A store is missing, of another schema, incomplete or inconsistent."""


def skip_record(
    file: str | Path,
    reason: str,
    line: int | None = None,
    root: Path | None = None,
    *,
    malformed: bool = True,
) -> dict:
    """The record of an input the build leaves out: {file, line (1-based or None), reason,
    malformed}.

    `malformed` is False only where the dataset's own metadata leaves the input out (an
    official missing list, a sample list, `has_skeleton: false`, another dataset's range):
    `--strict` stops at a malformed input and ignores the others. Discoveries list these in
    `Discovery.skipped`, the build stores them in the attrs `skipped` (store/schema.py
    `SKIPPED_KEYS`) with `file` relative to the raw directory `root` (a file outside it keeps
    its path); every such record is made here so that its keys and types are the same
    wherever it comes from.
    """
    if root is not None:
        with contextlib.suppress(ValueError):
            file = Path(file).resolve().relative_to(Path(root).resolve()).as_posix()
    return {"file": str(file), "line": line, "reason": str(reason), "malformed": malformed}


def may_be_malformed(record: dict) -> bool:
    """Whether --strict must treat a skip record as malformed (records of stores built before
    the flag existed lack it: they may be)."""
    return record.get("malformed", True)


def skip_location(record: dict) -> str:
    """Where a `skip_record` points: "file:line", or "file" when no line applies."""
    return record["file"] + (f":{record['line']}" if record["line"] is not None else "")
