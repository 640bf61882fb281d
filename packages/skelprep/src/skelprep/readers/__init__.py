"""The dataset registry: name -> DatasetSpec (layout, channels, metadata, discover, read, splits).

`get_dataset("ntu60")` is all the builder needs; `spec.resolve(raw, options)` gives the spec
fitted to a raw directory (stgcn-npy and folder read their layout from the data or --layout;
their registry entries carry NTU25 only until resolved).
"""

from __future__ import annotations

import functools

from skelprep.classes import NTU60_CLASSES, NTU120_CLASSES
from skelprep.errors import SkelprepError
from skelprep.layouts import KINECT_V1, MSR20, NTU25, OPENPOSE18
from skelprep.readers import folder
from skelprep.readers.base import DatasetSpec, Discovery, ReadOptions, Sample, SampleRef
from skelprep.readers.kinetics import discover_kinetics, read_kinetics
from skelprep.readers.msr3d import discover_msr, read_msr
from skelprep.readers.ntu import read_ntu
from skelprep.readers.ntu_discover import NTU_RANGES, discover_ntu
from skelprep.readers.nwucla import META_FIELDS as NWUCLA_META
from skelprep.readers.nwucla import build_notes, discover_nwucla, read_nwucla
from skelprep.readers.stgcn_npy import discover_stgcn, for_raw, read_stgcn
from skelprep.splits import (
    msr3d_splits,
    ntu60_splits,
    ntu120_splits,
    nwucla_splits,
    official_splits,
)

__all__ = [
    "DATASETS",
    "DatasetSpec",
    "Discovery",
    "ReadOptions",
    "Sample",
    "SampleRef",
    "get_dataset",
]

_NTU_META = ("setup", "camera", "subject", "replication")
_XYZ = ("x", "y", "z")
_NTU_CLASSES = {"ntu60": NTU60_CLASSES, "ntu120": NTU120_CLASSES}
_NTU_SPLITS = {"ntu60": ntu60_splits, "ntu120": ntu120_splits}


def _ntu_spec(name: str) -> DatasetSpec:
    """ntu60 / ntu120: same reader, different action range, classes and splits."""
    return DatasetSpec(
        name=name,
        layout=NTU25,
        channels=_XYZ,
        meta_fields=_NTU_META,
        discover=functools.partial(discover_ntu, dataset=name, classes=list(_NTU_CLASSES[name])),
        read=functools.partial(read_ntu, num_actions=NTU_RANGES[name]["action"]),
        splits=_NTU_SPLITS[name],
    )


DATASETS: dict[str, DatasetSpec] = {
    "ntu60": _ntu_spec("ntu60"),
    "ntu120": _ntu_spec("ntu120"),
    "kinetics": DatasetSpec(
        name="kinetics",
        layout=OPENPOSE18,
        channels=("x", "y", "score"),
        meta_fields=("subset",),
        discover=discover_kinetics,
        read=read_kinetics,
        splits=official_splits,
        aligns=False,  # the JSON is already normalised to the frame (x, y in [-0.5, 0.5])
    ),
    "stgcn-npy": DatasetSpec(
        name="stgcn-npy",
        layout=NTU25,
        channels=_XYZ,
        meta_fields=("subset",),
        discover=discover_stgcn,
        read=read_stgcn,
        splits=official_splits,
        for_raw=for_raw,
    ),
    "msr3d": DatasetSpec(
        name="msr3d",
        layout=MSR20,
        channels=_XYZ,
        meta_fields=("subject", "episode", "dropped_frames"),
        discover=discover_msr,
        read=read_msr,
        splits=msr3d_splits,
    ),
    "folder": DatasetSpec(
        name="folder",
        layout=NTU25,
        channels=_XYZ,
        meta_fields=(),
        discover=folder.discover_folder,
        read=folder.read_folder,
        splits=folder.folder_splits,
        for_raw=folder.for_raw,
    ),
    "nwucla": DatasetSpec(
        name="nwucla",
        layout=KINECT_V1,
        channels=_XYZ,
        meta_fields=NWUCLA_META,
        discover=discover_nwucla,
        read=read_nwucla,
        splits=nwucla_splits,
        notes=build_notes,
    ),
}


def get_dataset(name: str) -> DatasetSpec:
    """The registry entry for `name`; a SkelprepError listing the known datasets for another."""
    try:
        return DATASETS[name]
    except KeyError:
        raise SkelprepError(f"unknown dataset {name!r}; known: {sorted(DATASETS)}") from None
