"""Fingerprints of what a store is made from: its raw directory, and the code that read it.

Source: sha256 over the sorted (relative path, size, mtime_ns) of every regular file under the
raw root (hidden files and the `.partial` folders of our own tools excluded). Only metadata is
read, so it costs one `stat` per file and a reused build stays well under two seconds even for
tens of thousands of files; touching, adding, removing or rewriting any raw file changes it.

Code: sha256 over skelprep's own modules (`code_fingerprint`), so that a store, or a build's
staged work, made by other code (a reader or alignment fixed since) is recognised as such.
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from skelprep.errors import SkelprepError


def _files(root: Path, prefix: str = "") -> list[tuple[str, int, int]]:
    """(relative path, size, mtime_ns) of the files under `root`, as `os.walk` would list them
    (a link to a folder is not followed), through `os.scandir`: no Path object per file."""
    found = []
    try:
        entries = list(os.scandir(root))
    except OSError as exc:
        raise SkelprepError(f"raw folder {root} cannot be read: {exc.strerror}") from None
    for entry in entries:
        if entry.name.startswith("."):
            continue
        rel = prefix + entry.name
        if entry.is_dir():
            if not entry.is_symlink() and not entry.name.endswith(".partial"):
                found += _files(Path(entry.path), rel + "/")
            continue
        try:
            stat = entry.stat()
        except OSError as exc:  # a dangling link, a file removed while scanning, ...
            raise SkelprepError(f"raw file {entry.path} cannot be read: {exc.strerror}") from None
        found.append((rel, stat.st_size, stat.st_mtime_ns))
    return sorted(found)


def source_fingerprint(raw: Path) -> dict:
    """`{raw_root, file_count, fingerprint}` of the raw directory, as stored in attrs `source`."""
    root = Path(raw).resolve()
    digest = hashlib.sha256()
    files = _files(root)
    for rel, size, mtime in files:
        digest.update(f"{rel}\0{size}\0{mtime}\n".encode())
    return {"raw_root": str(root), "file_count": len(files), "fingerprint": digest.hexdigest()}


PACKAGE = Path(__file__).parent
#: Modules of the package that do not shape a store built from raw files: the command line,
#: the writer of synthetic raw files and the plots.
NOT_CONTENT = frozenset({"commands", "synth", "cli.py", "plots.py"})


@functools.cache
def code_fingerprint(root: Path = PACKAGE) -> str:
    """sha256 over the sorted (relative path, bytes) of the package's Python modules under
    `root`, those of NOT_CONTENT excepted: which skelprep code wrote a store (attrs
    `skelprep_code`). Reading the ~50 modules takes milliseconds."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] in NOT_CONTENT:
            continue
        digest.update(f"{rel.as_posix()}\0{path.stat().st_size}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()
