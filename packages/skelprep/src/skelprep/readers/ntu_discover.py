"""Finding NTU RGB+D samples in a raw directory, honouring the official missing-skeleton lists.

Every `*.skeleton` file under the raw root is considered. A file is left out, and recorded in
`Discovery.skipped` with the reason, when its name is not an NTU sample id, when it belongs to the
other dataset's range (NTU120 actions/setups in an ntu60 build), when it duplicates a sample
already found, or when the sample is on an official `*samples_with_missing_skeletons*.txt` list
found under the raw root (ids one per line, up to 3 header lines allowed).
"""

from __future__ import annotations

from pathlib import Path

from skelprep.errors import RawFormatError, skip_record
from skelprep.readers.base import Discovery, ReadOptions, SampleRef
from skelprep.readers.ntu import SAMPLE_ID, parse_sample_id

NTU_RANGES: dict[str, dict[str, int]] = {
    "ntu60": {"action": 60, "setup": 17},
    "ntu120": {"action": 120, "setup": 32},
}
"""Highest action and setup number of each NTU release."""

MISSING_LIST_GLOB = "*samples_with_missing_skeletons*.txt"
MISSING_LIST_HEADER_LINES = 3


def read_missing_list(path: Path) -> set[str]:
    """Sample ids of an official missing-skeleton list (optional header of up to 3 lines)."""
    ids: set[str] = set()
    text = path.read_text(encoding="utf-8", errors="replace")
    for number, line in enumerate(text.splitlines(), start=1):
        token = line.strip()
        if SAMPLE_ID.match(token):
            ids.add(token)
        elif token and (ids or number > MISSING_LIST_HEADER_LINES):
            raise RawFormatError(path, f"expected a sample id, found {token[:40]!r}", number)
    return ids


def _missing_ids(raw: Path) -> dict[str, Path]:
    """Every id on a missing-skeleton list under `raw`, with the list it came from."""
    found: dict[str, Path] = {}
    for listing in sorted(raw.rglob(MISSING_LIST_GLOB)):
        for sample in read_missing_list(listing):
            found.setdefault(sample, listing)
    return found


def discover_ntu(raw: Path, options: ReadOptions, dataset: str, classes: list[str]) -> Discovery:
    """The samples of `dataset` ("ntu60" or "ntu120") under `raw`, sorted by name."""
    raw = Path(raw)
    files = sorted(raw.rglob("*.skeleton")) if raw.is_dir() else []
    if not files:
        raise RawFormatError(raw, "no NTU *.skeleton files found (is --raw the right directory?)")
    limits = NTU_RANGES[dataset]
    missing = _missing_ids(raw)
    refs: dict[str, SampleRef] = {}
    skipped: list[dict] = []
    for path in files:
        name = path.name.removesuffix(".skeleton")
        try:
            ids = parse_sample_id(name)
        except ValueError as exc:
            skipped.append(skip_record(path, str(exc)))
            continue
        if ids["action"] > limits["action"] or ids["setup"] > limits["setup"]:
            reason = (
                f"outside {dataset} (A001-A{limits['action']:03d}, S001-S{limits['setup']:03d})"
            )
            skipped.append(skip_record(path, reason, malformed=False))
        elif name in missing:
            reason = f"on the official missing-skeleton list {missing[name].name}"
            skipped.append(skip_record(path, reason, malformed=False))
        elif name in refs:
            skipped.append(skip_record(path, f"duplicate of {refs[name].path}"))
        else:
            refs[name] = SampleRef(name, path)
    return Discovery(sorted(refs.values(), key=lambda ref: ref.name), skipped, classes)
