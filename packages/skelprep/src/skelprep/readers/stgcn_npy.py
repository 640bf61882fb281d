"""Import of ST-GCN-format arrays: `{train,val}_data.npy` (N, C, T, V, M) + `{train,val}_label.pkl`.

The label pickle is `(sample_names, labels)` and is read only through skelprep.safe_pickle. The
arrays are memory-mapped, so a row is read without loading the file. Each row is aligned like
the other readers' samples (3-D: origin joint to 0, up bone to +z, across bone to +x; 2-D:
centred and scaled; `--no-align` keeps the values), then trimmed/padded to `max_frames` and
`max_bodies`. The valid length is the last frame holding a non-zero value.

The layout is `--layout NAME` when given (20 joints may be `msr20` or `kinect-v1`), else
inferred from V (`LAYOUT_BY_JOINTS`); another V gets a generic chain layout (`chain_layout`:
joints 0..V-1 joined in order, joint 0 as centre and origin) so that any ST-GCN array can be
imported, with channels named c0, c1, ... since their meaning is unknown (and no alignment).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path

import numpy as np

from skelprep import safe_pickle
from skelprep.align import shape_recorded
from skelprep.errors import RawFormatError, SkelprepError, skip_record
from skelprep.layouts import COCO17, MSR20, NTU25, OPENPOSE18, Layout, get_layout
from skelprep.readers.base import DatasetSpec, Discovery, ReadOptions, Sample, SampleRef
from skelprep.splits import SUBSET_CODES

LAYOUT_BY_JOINTS: dict[int, Layout] = {
    layout.num_joints: layout for layout in (NTU25, OPENPOSE18, MSR20, COCO17)
}
"""The layout an array of V joints gets without --layout (20 joints: MSR Action3D's order)."""


def chain_layout(joints: int, width: int = 3) -> Layout:
    """A generic layout for V joints with unknown meaning: a chain 0-1-...-(V-1), with its
    `width` channels named c0, c1, ... (unknown meaning, so never aligned)."""
    if joints < 2:
        raise ValueError(f"a layout needs at least 2 joints, not {joints}")
    return Layout(
        name=f"chain{joints}",
        joints=tuple(f"joint {j}" for j in range(joints)),
        edges=tuple((j, j + 1) for j in range(joints - 1)),
        centre=0,
        origin=0,
        up=(0, 1),
        across=(0, min(2, joints - 1)),
        channels=unnamed_channels(width),
    )


def unnamed_channels(width: int) -> tuple[str, ...]:
    """c0, c1, ...: the names of `width` channels whose meaning the data does not say."""
    return tuple(f"c{c}" for c in range(width))


@functools.lru_cache(maxsize=4)
def _open(path: Path) -> np.ndarray:
    """Memory-map a (N, C, T, V, M) array; RawFormatError if it is not one."""
    try:
        data = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise RawFormatError(path, f"not a readable .npy array: {exc}") from None
    if data.ndim != 5 or data.dtype.kind != "f":
        raise RawFormatError(path, f"expected a float (N, C, T, V, M) array, found {data.dtype} "
                                   f"{data.shape}")  # fmt: skip
    return data


@functools.lru_cache(maxsize=4)
def _labels(path: Path, count: int) -> tuple[list[str], list[int]]:
    """(names, labels) of a label pickle, checked against the array's N."""
    content = safe_pickle.load(path)
    if not (isinstance(content, tuple | list) and len(content) >= 2):
        raise RawFormatError(path, "expected a pickled (sample_names, labels) pair")
    names, labels = (list(part) for part in content[:2])
    if len(names) != count or len(labels) != count:
        raise RawFormatError(path, f"{len(names)} names / {len(labels)} labels for {count} rows")
    if not all(isinstance(n, str) for n in names) or not all(
        int(v) == v and v >= 0 for v in labels
    ):
        raise RawFormatError(path, "names must be strings and labels non-negative integers")
    return [n.removesuffix(".json").removesuffix(".skeleton") for n in names], [
        int(v) for v in labels
    ]


def _subsets(raw: Path) -> dict[str, tuple[Path, Path]]:
    """{subset: (data.npy, label.pkl)} of the subsets present under `raw`."""
    found = {
        subset: (raw / f"{subset}_data.npy", raw / f"{subset}_label.pkl") for subset in SUBSET_CODES
    }
    found = {s: files for s, files in found.items() if files[0].is_file()}
    if not found:
        raise RawFormatError(raw, "no train_data.npy or val_data.npy found")
    return found


def discover_stgcn(raw: Path, options: ReadOptions) -> Discovery:
    """One ref per row (`index`), named by the label pickle; class names from label_name.txt."""
    raw = Path(raw)
    refs: list[SampleRef] = []
    skipped: list[dict] = []
    top = -1
    for data_path, label_path in _subsets(raw).values():
        names, labels = _labels(label_path, len(_open(data_path)))
        top = max([top, *labels])
        seen = {ref.name for ref in refs}
        for row, name in enumerate(names):
            if name in seen:
                skipped.append(skip_record(data_path, f"row {row}: sample {name} already read"))
            else:
                refs.append(SampleRef(name, data_path, row))
    names_file = raw / "label_name.txt"
    classes = (
        [line.strip() for line in names_file.read_text().splitlines() if line.strip()]
        if names_file.is_file()
        else [f"class {i}" for i in range(top + 1)]
    )
    return Discovery(sorted(refs, key=lambda ref: ref.name), skipped, classes)


def read_stgcn(
    ref: SampleRef, options: ReadOptions, layout: Layout = NTU25, channels: tuple[str, ...] = ()
) -> Sample:
    """Row `ref.index` of the array, aligned (per `options.align`) and shaped to
    (C, max_frames, V, max_bodies); `layout` and `channels` come from `for_raw`."""
    data = _open(ref.path)
    subset = ref.path.name.removesuffix("_data.npy")
    names, labels = _labels(ref.path.with_name(f"{subset}_label.pkl"), len(data))
    if ref.index is None or not 0 <= ref.index < len(data):
        raise RawFormatError(ref.path, f"row {ref.index} outside 0..{len(data) - 1}")
    row = np.asarray(data[ref.index], dtype=np.float64)
    if not np.isfinite(row).all():
        raise RawFormatError(ref.path, f"row {ref.index}: non-finite value (NaN or inf)")
    if not row.any():
        raise RawFormatError(ref.path, f"row {ref.index}: no valid frame (all zeros)")
    out, length, found, transform = shape_recorded(
        row.transpose(3, 1, 2, 0), layout, channels, options
    )
    kept = min(found, options.max_bodies)
    meta = {"subset": SUBSET_CODES[subset]}
    return Sample(names[ref.index], labels[ref.index], out, length, meta, found, kept, transform)


def for_raw(spec: DatasetSpec, raw: Path, options: ReadOptions) -> DatasetSpec:
    """The stgcn-npy spec with the layout and channels that fit the arrays under `raw`.

    Channels are the layout's when their count matches C, else c0, c1, ... (unknown meaning).
    """
    data_path = next(iter(_subsets(raw).values()))[0]
    data = _open(data_path)
    joints, width = data.shape[3], data.shape[1]
    layout = layout_for(joints, width, options.layout, data_path)
    channels = layout.channels
    if len(channels) != width:
        channels = unnamed_channels(width)
    read = functools.partial(read_stgcn, layout=layout, channels=channels)
    return replace(spec, layout=layout, channels=channels, read=read, for_raw=None)


def layout_for(joints: int, width: int, name: str, source: Path) -> Layout:
    """The layout `name` (checked against V) or, without a name, the one V implies."""
    if not name:
        return LAYOUT_BY_JOINTS.get(joints) or chain_layout(joints, width)
    layout = get_layout(name)
    if layout.num_joints != joints:
        raise SkelprepError(
            f"--layout {name} has {layout.num_joints} joints but {source} holds {joints}"
        )
    return layout
