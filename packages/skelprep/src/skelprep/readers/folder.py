"""The folder format (`--dataset folder`): anyone's skeletons, described in docs/own-data.md.

    DIR/layout.toml              the layout (skelprep.readers.folder_layout), or --layout NAME
    DIR/labels.csv               header: sample,label[,subject][,split_<name>...]
    DIR/classes.txt              optional: class names, one per line (label = 0-based line)
    DIR/sequences/<sample>.npy   float (T, V, C) one person, or (M, T, V, C)
    DIR/sequences/<sample>.csv   one row per frame, V*C numbers joint-major, optional header

Without labels.csv the folder is unlabelled (every label -1, no splits): recordings to classify
with `stgnode predict`. `label` is a class index or a name from classes.txt. Every
`split_<name>` column (train, test, or empty for neither) becomes split `<name>`, and with a
subject column also `<name>-val` (every fifth training subject held out).

A malformed row or sequence names its file (and line) and is skipped and listed, like a
malformed raw file of any other dataset; a malformed layout stops the build.
"""

from __future__ import annotations

import csv
import functools
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from skelprep.align import shape_recorded
from skelprep.errors import RawFormatError, SkelprepError, skip_record
from skelprep.layouts import LAYOUTS, Layout, get_layout
from skelprep.readers.base import DatasetSpec, Discovery, ReadOptions, Sample, SampleRef
from skelprep.readers.folder_layout import LAYOUT_FILE, load_layout_toml
from skelprep.splits import HoldOut, add_validation_splits

LABELS_FILE = "labels.csv"
CLASSES_FILE = "classes.txt"
SEQUENCES_DIR = "sequences"
SPLIT_PREFIX = "split_"
SPLIT_PARTS = ("train", "test")


@dataclass(frozen=True)
class Row:
    """One row of labels.csv: its label, subject (or None), split parts and line number."""

    label: int
    subject: int | None
    parts: dict[str, str]
    line: int


@dataclass(frozen=True)
class Labels:
    """labels.csv read and checked: good rows by sample, bad rows as skip records (and the
    samples they name, whose sequence files are then left out without a second record)."""

    rows: dict[str, Row]
    problems: list[dict]
    rejected: frozenset[str]
    classes: list[str]
    splits: tuple[str, ...]
    has_subject: bool


def _read_classes(raw: Path) -> list[str] | None:
    path = raw / CLASSES_FILE
    if not path.is_file():
        return None
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _label_of(text: str, classes: list[str] | None) -> int:
    """A class index, or a class name of classes.txt; ValueError saying why not."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        value = int(text)
        if value < 0 or (classes is not None and value >= len(classes)):
            known = f"0..{len(classes) - 1}" if classes is not None else "0 or more"
            raise ValueError(f"label {value} outside {known}")
        return value
    if classes is None:
        raise ValueError(f"label {text!r} is not a class index and there is no {CLASSES_FILE}")
    if text not in classes:
        raise ValueError(f"unknown class name {text!r} (not in {CLASSES_FILE})")
    return classes.index(text)


def _row(record: dict[str, str], classes: list[str] | None, splits: tuple[str, ...]) -> Row:
    label = _label_of(record.get("label") or "", classes)
    subject = record.get("subject")
    if subject is not None:
        if not subject.strip().isdigit():
            raise ValueError(f"subject {subject!r} is not a non-negative integer")
        subject = int(subject)
    parts = {}
    for name in splits:
        part = (record.get(SPLIT_PREFIX + name) or "").strip()
        if part not in (*SPLIT_PARTS, ""):
            raise ValueError(f"{SPLIT_PREFIX}{name} = {part!r}; expected train, test or empty")
        parts[name] = part
    return Row(label, subject, parts, 0)


@functools.lru_cache(maxsize=4)
def _labels(raw: Path, stamp: tuple[int, int]) -> Labels | None:
    """labels.csv of `raw` (None when absent); `stamp` (mtime, size) keys the cache."""
    path = raw / LABELS_FILE
    if not path.is_file():
        return None
    classes = _read_classes(raw)
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        if "sample" not in header or "label" not in header:
            raise RawFormatError(path, f"header {header} lacks 'sample' and 'label'", 1)
        reader.fieldnames = header
        splits = tuple(n.removeprefix(SPLIT_PREFIX) for n in header if n.startswith(SPLIT_PREFIX))
        rows: dict[str, Row] = {}
        problems, rejected = [], set()
        for record in reader:
            line = reader.line_num
            name = (record.get("sample") or "").strip()
            try:
                if not name:
                    raise ValueError("empty sample name")
                if name in rows:
                    raise ValueError(f"sample {name} already listed on line {rows[name].line}")
                rows[name] = replace(_row(record, classes, splits), line=line)
            except ValueError as exc:
                problems.append(skip_record(path, str(exc), line))
                if name not in rows:  # a repeated row leaves the first one standing
                    rejected.add(name)
    if classes is None:
        classes = [
            f"class {i}" for i in range(max((r.label for r in rows.values()), default=-1) + 1)
        ]
    return Labels(rows, problems, frozenset(rejected), classes, splits, "subject" in header)


def read_labels(raw: Path) -> Labels | None:
    """labels.csv of `raw`, checked and cached; None for an unlabelled folder."""
    path = Path(raw) / LABELS_FILE
    stat = path.stat() if path.is_file() else None
    return _labels(Path(raw), (stat.st_mtime_ns, stat.st_size) if stat else (0, 0))


def _read_npy(path: Path, width: int) -> np.ndarray:
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise RawFormatError(path, f"not a readable .npy array: {exc}") from None
    if data.dtype.kind not in "fiu" or data.ndim not in (3, 4):
        raise RawFormatError(path, f"expected a float (T, V, C) or (M, T, V, C) array, "
                                   f"found {data.dtype} {data.shape}")  # fmt: skip
    data = np.asarray(data, dtype=np.float64)
    if not np.isfinite(data).all():
        where = np.argwhere(~np.isfinite(data))[0].tolist()
        raise RawFormatError(path, f"non-finite value (NaN or inf) at index {where}")
    return data if data.ndim == 4 else data[None]


def _read_csv(path: Path, width: int) -> np.ndarray:
    """Rows of `width` numbers (V*C, joint-major); a first row that is not numbers is a header."""
    rows = []
    with open(path, newline="", encoding="utf-8") as handle:
        for number, fields in enumerate(csv.reader(handle), start=1):
            if not fields or not "".join(fields).strip():
                continue
            try:
                values = [float(field) for field in fields]
            except ValueError:
                if number == 1:
                    continue  # header
                raise RawFormatError(path, "a value is not a number", number) from None
            if len(values) != width:
                raise RawFormatError(path, f"{len(values)} values, expected {width}", number)
            if not np.isfinite(values).all():
                raise RawFormatError(path, "non-finite value (NaN or inf)", number)
            rows.append(values)
    return np.asarray(rows, dtype=np.float64).reshape(1, len(rows), -1)


SEQUENCE_READERS = {".npy": _read_npy, ".csv": _read_csv}
"""Sequence file suffix -> reader returning float64 (M, T, ...)."""


def discover_folder(raw: Path, options: ReadOptions) -> Discovery:
    """One ref per sequence file that has a labels.csv row (all of them when unlabelled)."""
    raw = Path(raw)
    labels = read_labels(raw)
    folder = raw / SEQUENCES_DIR
    if not folder.is_dir():
        raise RawFormatError(folder, "missing: sequences go to <dir>/sequences/<sample>.npy|.csv")
    files = sorted(p for p in folder.iterdir() if p.suffix in SEQUENCE_READERS and p.is_file())
    refs: dict[str, SampleRef] = {}
    skipped = [] if labels is None else list(labels.problems)
    for path in files:
        if path.stem in refs:
            reason = f"sample {path.stem} also has {refs[path.stem].path.name}"
            skipped.append(skip_record(path, reason))
        elif labels is not None and path.stem in labels.rejected:
            continue  # its labels.csv row is already listed
        elif labels is not None and path.stem not in labels.rows:
            reason = f"no row for sample {path.stem} in {LABELS_FILE}"
            skipped.append(skip_record(path, reason))
        else:
            refs[path.stem] = SampleRef(path.stem, path)
    for name, row in ({} if labels is None else labels.rows).items():
        if name not in refs:
            reason = f"sample {name}: no {SEQUENCES_DIR}/{name}.npy or .csv"
            skipped.append(skip_record(raw / LABELS_FILE, reason, row.line))
    classes = labels.classes if labels is not None else (_read_classes(raw) or [])
    return Discovery(list(refs.values()), skipped, classes)


def read_folder(
    ref: SampleRef, options: ReadOptions, layout: Layout, channels: tuple[str, ...]
) -> Sample:
    """One sequence file, checked against the layout, aligned and shaped like any sample."""
    path = Path(ref.path)
    width = layout.num_joints * len(channels)
    data = SEQUENCE_READERS[path.suffix](path, width)
    if path.suffix == ".npy" and data.shape[2:] != (layout.num_joints, len(channels)):
        raise RawFormatError(path, f"shape {data.shape[1:]}: expected (T, {layout.num_joints}, "
                                   f"{len(channels)}) for layout {layout.name} and channels "
                                   f"{list(channels)}")  # fmt: skip
    bodies = data.reshape(data.shape[0], data.shape[1], layout.num_joints, len(channels))
    if not bodies.any():
        raise RawFormatError(path, "no valid frame (every value is zero or there is no row)")
    array, frames, found, transform = shape_recorded(bodies, layout, channels, options)
    labels = read_labels(path.parent.parent)
    row = None if labels is None else labels.rows[ref.name]
    label = -1 if row is None else row.label
    meta = {} if row is None or row.subject is None else {"subject": row.subject}
    kept = min(found, options.max_bodies)
    return Sample(ref.name, label, array, frames, meta, found, kept, transform)


def folder_splits(
    meta: dict[str, np.ndarray], labels: np.ndarray, names: list[str], raw: Path
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Split `<name>` of every `split_<name>` column: sample indices marked train / test.

    With a subject column, each split also gets `<name>-val` (unless a column names it): its
    train part divided by holding out every fifth training subject (splits.HoldOut), where
    recipes are chosen without touching the test part; left out when that holds out nobody.
    """
    table = read_labels(raw)
    if table is None:
        return {}
    splits = {}
    for split in table.splits:
        parts = [table.rows[name].parts[split] for name in names]
        splits[split] = tuple(
            np.array([i for i, p in enumerate(parts) if p == part], dtype=np.int64)
            for part in SPLIT_PARTS
        )
    if not table.has_subject:
        return splits
    wanted = {name: HoldOut("subject") for name in splits if f"{name}-val" not in splits}
    with_val = add_validation_splits(splits, meta, wanted)
    return {name: parts for name, parts in with_val.items() if name in splits or len(parts[1])}


def folder_layout(raw: Path, name: str) -> Layout:
    """--layout NAME from the registry, else DIR/layout.toml."""
    if name:
        return get_layout(name)
    path = Path(raw) / LAYOUT_FILE
    if not path.is_file():
        raise SkelprepError(
            f"{path} is missing: describe the skeleton there (docs/own-data.md) or pass "
            f"--layout NAME (one of {', '.join(LAYOUTS)})"
        )
    return load_layout_toml(path)


def for_raw(spec: DatasetSpec, raw: Path, options: ReadOptions) -> DatasetSpec:
    """The folder spec for `raw`: its layout, channels, metadata fields, reader and splits."""
    raw = Path(raw)
    layout = folder_layout(raw, options.layout)
    labels = read_labels(raw)
    return replace(
        spec,
        layout=layout,
        channels=layout.channels,
        meta_fields=("subject",) if labels is not None and labels.has_subject else (),
        read=functools.partial(read_folder, layout=layout, channels=layout.channels),
        splits=functools.partial(folder_splits, raw=raw),
        for_raw=None,
    )
